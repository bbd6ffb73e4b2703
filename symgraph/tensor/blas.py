"""BLAS-shaped ops: ``Gemm``, the general matrix product with accumulation.

``gemm_no_inplace(z, alpha, x, y, beta)`` is ``beta * z + alpha * (x @ y)`` for
matrices ``z``, ``x``, ``y`` and 0-d ``alpha``, ``beta``: Theano's op of that name,
with its input order. Users rarely write it: the rewrite ``local_gemm``
(symgraph/tensor/rewriting/blas.py) makes it from sums such as ``acc + dot(x, y)``,
so that a compiling backend calls BLAS gemm once with beta = 1 instead of
computing the product into one new array and adding it into another.

Semantics (both backends):

* x, y and z have one dtype among float32, float64, complex64 and complex128
  (BLAS's); nothing is upcast. A Python number for alpha or beta becomes a
  constant of that dtype; a 0-d tensor must have it, or one that casts to it
  without loss (it is then cast).
* ``z`` must have the product's shape (m, n): it does not broadcast.
* ``beta == 0`` does not read ``z`` (as BLAS: NaN and inf in z do not reach the
  result); ``alpha == 0`` still reads ``x`` and ``y`` (``0 * (x @ y)``: NaN and
  inf there do).
* Rounding: the numba backend lets BLAS gemm add the products into ``beta * z``
  in its own order (a small product: a loop adding them into it in k's order),
  where the interpreter computes ``x @ y`` and then the sum; the two may differ
  in the last bits, as ``z + x @ y`` computed either way may.
* The op is not in place: ``z`` is never written (symgraph has no destroy
  handler; the numba backend copies ``z`` into the fresh output).
"""

from __future__ import annotations

import functools

import numpy as np

from symgraph.graph.basic import Apply, Variable
from symgraph.graph.op import Op
from symgraph.graph.utils import ShapeError
from symgraph.tensor.basic import as_tensor_variable, constant, is_python_scalar
from symgraph.tensor.dot import _conj, _dot, _swap_last
from symgraph.tensor.elemwise import _fmt_shape
from symgraph.tensor.math import add, cast, mul
from symgraph.tensor.type import TensorType

__all__ = ["Gemm", "gemm_no_inplace", "gemm"]

#: the dtypes BLAS gemm computes in
GEMM_DTYPES = ("float32", "float64", "complex64", "complex128")


def _describe(v):
    return f"{v} of type {v.type}"


def _matrix(what, v):
    v = as_tensor_variable(v)
    if v.ndim != 2:
        raise TypeError(f"Gemm: expected a 2-d tensor as {what}, got {_describe(v)} "
                        f"with {v.ndim} dimensions")
    return v


def _scalar(what, v, dtype):
    """``v`` (alpha or beta) as a 0-d tensor of ``dtype``: a Python number becomes a
    constant; a tensor must be 0-d and of ``dtype``, or of one that casts to it
    without loss."""
    if is_python_scalar(v) or (not isinstance(v, Variable) and np.ndim(v) == 0):
        value = np.asarray(v)
        if value.dtype.kind == "c" and np.dtype(dtype).kind != "c" and value.imag != 0:
            raise TypeError(f"Gemm: {what} = {v!r} is complex, but the product is {dtype}")
        return constant(value.real if np.dtype(dtype).kind != "c" else value, dtype=dtype)
    v = as_tensor_variable(v)
    if v.ndim != 0:
        raise TypeError(f"Gemm: expected a 0-d tensor (a scalar) as {what}, got {_describe(v)}")
    if v.dtype == dtype:
        return v
    if not np.can_cast(v.dtype, dtype, casting="safe"):
        raise TypeError(f"Gemm: {what} is {_describe(v)}, which does not cast to the product's "
                        f"dtype {dtype} without loss; cast it first")
    return cast(v, dtype)


def _static_dim(what, static_z, static_xy, d):
    """The output's static length in dimension ``d``: z's or the product's, which must
    agree when both are known (z does not broadcast)."""
    if static_z is not None and static_xy is not None and static_z != static_xy:
        raise ShapeError(f"Gemm: z has static length {static_z} in dimension {d}, but the "
                         f"product {what} has {static_xy}; z must have the product's shape "
                         "(it does not broadcast)")
    return static_z if static_z is not None else static_xy


class Gemm(Op):
    """``beta * z + alpha * (x @ y)`` for matrices ``z`` (m, n), ``x`` (m, k), ``y``
    (k, n) and 0-d ``alpha``, ``beta`` (inputs in Theano's order: z, alpha, x, y,
    beta); see the module's docstring for the exact semantics. Not in place."""

    __props__ = ()

    def __str__(self):
        return "Gemm{beta*z + alpha*(x @ y)}"

    def make_node(self, z, alpha, x, y, beta):
        z, x, y = _matrix("z", z), _matrix("x", x), _matrix("y", y)
        dtype = z.dtype
        if dtype not in GEMM_DTYPES:
            raise TypeError(f"Gemm: z is {_describe(z)}; gemm computes in one of "
                            f"{', '.join(GEMM_DTYPES)} (cast the inputs, or use dot and add)")
        for what, v in (("x", x), ("y", y)):
            if v.dtype != dtype:
                raise TypeError(f"Gemm: z, x and y must have one dtype, but z is {dtype} and "
                                f"{what} is {_describe(v)}")
        alpha, beta = _scalar("alpha", alpha, dtype), _scalar("beta", beta, dtype)
        (sm, sk), (sk2, sn) = x.type.shape, y.type.shape
        if sk is not None and sk2 is not None and sk != sk2:
            raise ShapeError(f"Gemm: x {_fmt_shape(x.type.shape)} and y "
                             f"{_fmt_shape(y.type.shape)} are not aligned: {sk} != {sk2}")
        shape = (_static_dim("x @ y (rows of x)", z.type.shape[0], sm, 0),
                 _static_dim("x @ y (columns of y)", z.type.shape[1], sn, 1))
        return Apply(self, [z, alpha, x, y, beta], [TensorType(dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        z, alpha, x, y, beta = inputs
        if x.shape[1] != y.shape[0]:
            raise ShapeError(f"Gemm: x of shape {x.shape} and y of shape {y.shape} are not "
                             f"aligned: {x.shape[1]} != {y.shape[0]}")
        if z.shape != (x.shape[0], y.shape[1]):
            raise ShapeError(f"Gemm: z has shape {z.shape}, but x @ y has shape "
                             f"{(x.shape[0], y.shape[1])}; z must have the product's shape")
        dtype = node.outputs[0].type.numpy_dtype
        out = np.dot(x, y)
        if alpha != 1:
            out *= alpha
        if beta == 1:
            out += z
        elif beta != 0:  # beta == 0 does not read z
            out += beta * z
        output_storage[0][0] = np.asarray(out, dtype=dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        _, _, sx, sy, _ = input_shapes
        static = node.outputs[0].type.shape
        rows = constant(static[0], dtype="int64") if static[0] is not None else sx[0]
        cols = constant(static[1], dtype="int64") if static[1] is not None else sy[1]
        return [(rows, cols)]

    def L_op(self, inputs, outputs, output_grads):
        from symgraph.tensor.reduction import sum as sum_

        z, alpha, x, y, beta = inputs
        (g,) = output_grads
        ca = _conj(alpha)
        return [mul(_conj(beta), g),
                sum_(mul(g, _conj(_dot(x, y)))),
                mul(ca, _dot(g, _swap_last(_conj(y)))),
                mul(ca, _dot(_swap_last(_conj(x)), g)),
                sum_(mul(g, _conj(z)))]

    def R_op(self, inputs, eval_points):
        z, alpha, x, y, beta = inputs
        tz, ta, tx, ty, tb = eval_points
        terms = []
        if tz is not None:
            terms.append(mul(beta, tz))
        if tb is not None:
            terms.append(mul(tb, z))
        if ta is not None:
            terms.append(mul(ta, _dot(x, y)))
        if tx is not None:
            terms.append(mul(alpha, _dot(tx, y)))
        if ty is not None:
            terms.append(mul(alpha, _dot(x, ty)))
        if not terms:
            return [None]
        return [functools.reduce(add, terms)]


gemm_no_inplace = Gemm()


def gemm(z, alpha, x, y, beta):
    """``beta * z + alpha * (x @ y)`` as one Gemm node (Theano's ``gemm_no_inplace``).

    z, x, y: matrices of one float or complex dtype; alpha, beta: 0-d tensors or
    Python numbers. ``z`` must have the product's shape; ``beta == 0`` ignores it.
    """
    return gemm_no_inplace(z, alpha, x, y, beta)
