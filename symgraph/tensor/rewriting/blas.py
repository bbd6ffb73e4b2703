"""Sums of matrix products become Gemm (phase 'specialize', before fusion).

``local_gemm`` rewrites the root of a tree of add/sub/neg whose terms include
2-d Dot products (each possibly times a scalar, ``c * dot(x, y)``) into a chain
of ``Gemm`` nodes (symgraph/tensor/blas.py)::

    z + dot(x, y)             ->  gemm(z, 1, x, y, 1)
    z - c * dot(x, y)         ->  gemm(z, -c, x, y, 1)
    dot(x, y) - z             ->  gemm(z, 1, x, y, -1)
    z + dot(a, b) + dot(c, d) ->  gemm(gemm(z, 1, a, b, 1), 1, c, d, 1)
    dot(a, b) + dot(c, d) + v ->  gemm(dot(a, b), 1, c, d, 1) + v

so that a compiling backend calls BLAS gemm with beta = 1 on a copy of ``z``,
instead of writing the product into one new array and the sum into another (the
accumulation ``acc + dot(h.T, d)`` of a weight gradient in a backward scan body).

When it applies:

* The tree's dtype is float32, float64, complex64 or complex128, and each product
  and the accumulator ``z`` have that dtype (nothing is cast; a scalar factor is
  cast to it as the multiplication would).
* ``z`` has the full shape of the sum: a term that broadcasts (a bias row, a
  static length 1 where the sum is longer) is never ``z``; it is added after the
  Gemm chain. Products must have the full shape too. Without such a ``z``, a sum
  of two or more products uses the first product as ``z``; a single product with
  only broadcast terms (``dot(x, W) + b``) is left alone (see specialize.py).
* A product (and the multiplication around it) is used by this sum only: a Dot
  whose result has other readers would be computed once for them and once more
  inside a Gemm.

It runs in 'specialize', after canonicalize has put sums into one spelling and
before fusion would bury the additions in a Composite; scan bodies get the same
pipeline (symgraph/scan/rewriting.py). Values: as gemm computes them (its own
order of additions: the last bits may differ from two separate steps); ``c *
dot(x, y)`` with c = 0 still gives NaN where the product is inf or NaN.

``local_sum_mul_to_dot`` (also 'specialize') turns a sum over the first or last
axis of a product with a vector that broadcasts along every other axis into a
matrix-vector product::

    sum(x * v[None, :], axis=1)     ->  dot(x, v)
    sum(x * v[:, None], axis=0)     ->  dot(v, x)
    sum(t * v[None, None, :], axis=2) ->  reshape(dot(reshape(t, (-1, k)), v), t.shape[:2])

Gradients make this shape wherever a broadcast multiplication is differentiated
(the gradient of ``a[:, None] * v[None, :]`` with respect to ``a`` is the sum of the
output gradient times ``v`` along the broadcast axis); the elementwise form writes
the whole product to memory and reads it again to sum it, the product reads ``x``
once. Values: the sum's order of additions becomes BLAS's.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.rewriting.basic import node_rewriter
from symgraph.graph.rewriting.db import register
from symgraph.tensor.basic import constant
from symgraph.tensor.blas import GEMM_DTYPES, gemm_no_inplace
from symgraph.tensor.dot import Dot
from symgraph.tensor.elemwise import DimShuffle, Elemwise, dimshuffle
from symgraph.tensor.math import cast
from symgraph.tensor.reduction import CAReduce
from symgraph.tensor.shape import reshape, shape_i, specify_shape
from symgraph.tensor.rewriting.math import (
    _ADD_FAMILY, _absorbed, _add, _collect, _finish, _mul, _neg, _shuffle, _single_client,
    _sop_name, _sub,
)
from symgraph.tensor.variable import TensorConstant


def _covers(var, out) -> bool:
    """Whether ``var`` has the full shape of ``out`` (it is not broadcast in the sum):
    no dimension of static length 1 where ``out`` may be longer."""
    return all(v != 1 or o == 1 for v, o in zip(var.type.shape, out.type.shape))


def _matrix_product(fgraph, var, out):
    """(x, y) when ``var`` is a Dot of two matrices read only by its one client, of
    ``out``'s dtype and full shape; else None."""
    node = var.owner
    if node is None or not isinstance(node.op, Dot) or not _single_client(fgraph, var):
        return None
    x, y = node.inputs
    if x.ndim != 2 or y.ndim != 2 or var.dtype != out.dtype or not _covers(var, out):
        return None
    return x, y


def _as_scalar(var, dtype):
    """The 0-d value of ``var``, whose dimensions all have static length 1, in
    ``dtype`` (a multiplication by it casts it so too)."""
    if isinstance(var, TensorConstant):
        value = constant(var.data.reshape(()), dtype=var.dtype)
    elif var.owner is not None and isinstance(var.owner.op, DimShuffle) \
            and var.owner.inputs[0].ndim == 0:
        value = var.owner.inputs[0]
    else:
        value = dimshuffle(var, ())
    return value if value.dtype == dtype else cast(value, dtype)


def _scaled_product(fgraph, var, out):
    """(scale or None, x, y) when ``var`` is a product term: ``dot(x, y)``, or a
    multiplication read only here of such a Dot by scalars (every other factor has
    static length 1 in every dimension); else None."""
    xy = _matrix_product(fgraph, var, out)
    if xy is not None:
        return (None,) + xy
    if _sop_name(var) != "mul" or var.dtype != out.dtype or not _single_client(fgraph, var):
        return None
    factors = var.owner.inputs
    found = [(i, _matrix_product(fgraph, f, out)) for i, f in enumerate(factors)]
    found = [(i, xy) for i, xy in found if xy is not None]
    if len(found) != 1:
        return None
    at, xy = found[0]
    scalars = [f for i, f in enumerate(factors) if i != at]
    if not all(all(s == 1 for s in f.type.shape) for f in scalars):
        return None
    scale = _as_scalar(scalars[0], out.dtype)
    for f in scalars[1:]:
        scale = _mul(scale, _as_scalar(f, out.dtype))
    return (scale,) + xy


def _alpha(sign, scale, dtype):
    """alpha of a product term: its sign times its scale (negated exactly)."""
    if scale is None:
        return constant(float(sign), dtype=dtype)
    return scale if sign > 0 else _neg(scale)


def _split(fgraph, out, leaves):
    """(products [(sign, scale, x, y)], other terms [(sign, var)], the accumulator
    (sign, var) or None) of the sum's ``leaves``."""
    products, others = [], []
    for sign, _, leaf in leaves:
        p = _scaled_product(fgraph, leaf, out)
        if p is None:
            others.append((sign, leaf))
        else:
            products.append((sign,) + p + (leaf,))
    z = next(((s, v) for s, v in others if v.dtype == out.dtype and _covers(v, out)), None)
    if z is not None:
        others.remove(z)
    elif len(products) >= 2:  # the first product, as it is, accumulates the others
        sign, _, _, _, leaf = products.pop(0)
        z = (sign, leaf)
    return [p[:4] for p in products], others, z


@register("fast_run", "gemm", phase="specialize")
@node_rewriter([Elemwise])
def local_gemm(fgraph, node):
    """z + a * dot(x, y) (sums of several such terms, with signs) -> Gemm chains: one BLAS
    call per product, accumulating into a copy of z (speed: no product and sum arrays)."""
    out = node.outputs[0]
    if _sop_name(out) not in _ADD_FAMILY or out.ndim != 2 or out.dtype not in GEMM_DTYPES:
        return None
    if _absorbed(fgraph, out, _ADD_FAMILY):
        return None
    leaves, _ = _collect(fgraph, out, _ADD_FAMILY)
    products, others, z = _split(fgraph, out, leaves)
    if not products or z is None:
        return None
    dtype = out.dtype
    zsign, acc = z
    beta = constant(float(zsign), dtype=dtype)
    for sign, scale, x, y in products:
        acc = gemm_no_inplace(acc, _alpha(sign, scale, dtype), x, y, beta)
        beta = constant(1.0, dtype=dtype)
    for sign, term in others:
        acc = _add(acc, term) if sign > 0 else _sub(acc, term)
    return None if (new := _finish(acc, out)) is None else [new]


def _vector_factor(factors, axis, ndim):
    """The index of the one factor that is long on ``axis`` only (static length 1
    on every other axis, not on ``axis``), or None."""
    found = [i for i, f in enumerate(factors)
             if all(f.type.shape[d] == 1 for d in range(ndim) if d != axis)
             and f.type.shape[axis] != 1]
    return found[0] if len(found) == 1 else None


@register("fast_run", "gemm", phase="specialize")
@node_rewriter([CAReduce])
def local_sum_mul_to_dot(fgraph, node):
    """sum(x * v, axis) with v a vector broadcast along every other axis, the axis the
    first or last -> a matrix-vector product of x (flattened to 2-d) and v (speed: one
    BLAS call reading x instead of a product array written and read back)."""
    op = node.op
    (prod,) = node.inputs
    out = node.outputs[0]
    ndim = prod.ndim
    if op.scalar_op.name != "add" or ndim < 2 or prod.dtype not in GEMM_DTYPES \
            or out.dtype != prod.dtype or op.acc_dtype not in (None, prod.dtype):
        return None
    axes = op._axes(ndim)
    if len(axes) != 1 or axes[0] not in (0, ndim - 1):
        return None
    axis = axes[0]
    if _sop_name(prod) != "mul" or not _single_client(fgraph, prod):
        return None
    factors = [leaf for _, _, leaf in _collect(fgraph, prod, ("mul",))[0]]
    at = _vector_factor(factors, axis, ndim)
    if at is None or any(f.dtype != prod.dtype for f in factors):
        return None
    rest = [f for i, f in enumerate(factors) if i != at]
    x = rest[0]
    for f in rest[1:]:
        x = _mul(x, f)
    if x.type.broadcastable != prod.type.broadcastable:
        return None  # x is broadcast somewhere itself: not a plain product with v
    v = _shuffle(factors[at], (axis,))  # (composed with the broadcasting shuffle)
    kept = [shape_i(prod, d, fgraph) for d in range(ndim) if d != axis]
    k = shape_i(prod, axis, fgraph)
    if ndim == 2:
        new = Dot()(x, v) if axis == 1 else Dot()(v, x)
    else:
        static = [prod.type.shape[d] for d in range(ndim) if d != axis]
        if all(n is not None for n in static):
            rows = constant(int(np.prod(static)), dtype="int64")
        else:
            rows = kept[0]
            for d in kept[1:]:
                rows = rows * d
        if axis == ndim - 1:
            new = Dot()(reshape(x, (rows, k)), v)
        else:
            new = Dot()(v, reshape(x, (k, rows)))
        new = reshape(new, kept)
    new = specify_shape(new, [s if s is not None else n for s, n in
                              zip(out.type.shape, new.type.shape)])
    if new.type != out.type:
        return None
    return [new]
