"""Shared by the linear-algebra modules (nlinalg, slinalg): input checks for matrix
ops, the hint for a matrix that was stacked from a Python list, and the small
symbolic helpers that gradients of matrix functions are written with.

Matrix ops work on the last two axes and loop over any leading (batch) axes, as
numpy.linalg does. Bool and integer inputs are computed in float64, as NumPy
upcasts them.
"""

from __future__ import annotations

import copy

import numpy as np

from symgraph.graph.op import Op
from symgraph.graph.utils import ShapeError
from symgraph.tensor.basic import as_tensor_variable
from symgraph.tensor.elemwise import _fmt_shape
from symgraph.tensor.type import TensorType

__all__ = ["stacked_list_hint", "singular_matrix_hint", "with_hint", "linalg_input",
           "check_matrix_runtime", "MatrixOp", "store", "float_dtype", "real_dtype",
           "complex_dtype", "is_complex", "H", "mm", "batched_eye", "diag_embed", "diag_part",
           "as_row", "as_col", "batch_scale", "trace_of_product", "finite_mask", "guarded",
           "batch_where", "LinAlgError", "SingularMatrixError"]

LinAlgError = np.linalg.LinAlgError

def _stacked_count(var, depth=4):
    """The length of the Python list ``var`` was stacked from, looking through a few
    casts, dimshuffles and specify_shapes; None if it was not."""
    from symgraph.tensor.elemwise import DimShuffle, Elemwise
    from symgraph.tensor.shape import SpecifyShape
    for _ in range(depth):
        n = getattr(getattr(var, "tag", None), "stacked_from_list", None)
        if n is not None:
            return n
        node = getattr(var, "owner", None)
        if node is None:
            return None
        op = node.op
        cast = isinstance(op, Elemwise) and getattr(op.scalar_op, "name", "").startswith("cast")
        if not (cast or isinstance(op, (DimShuffle, SpecifyShape))):
            return None
        var = node.inputs[0]
    return None


def stacked_list_hint(var) -> str:
    """A sentence for error messages when ``var`` was made by ``as_tensor_variable``
    stacking a Python list of variables (``matrix_inverse(hessian(c, wrt=[w]))``
    passes a list, which becomes one (1, n, n) stack); "" otherwise.

    Compute it when the node is built (make_node) and keep it on the op or node:
    rewrites may replace the stacked variable later.
    """
    n = _stacked_count(var)
    if n is None:
        return ""
    which = "its element, e.g. hessian(...)[0]" if n == 1 else \
        "one element of the list, e.g. hessian(...)[0]"
    return (f"note: the input was built from a Python list of {n} variable(s), stacked into "
            f"one tensor with a new leading axis of length {n} (e.g. the list that "
            f"hessian(cost, wrt=[w]) returns): if you meant one matrix, use {which}")


def singular_matrix_hint(var) -> str:
    """``stacked_list_hint(var)`` ready to append to a sentence ("; note: ..."), or ""."""
    hint = stacked_list_hint(var)
    return f"; {hint}" if hint else ""


def with_hint(op, hint):
    """``op``, or a copy of it carrying ``hint`` (a non-prop attribute: equality,
    hashing and kernels do not see it) for its run-time error messages."""
    if not hint:
        return op
    op = copy.copy(op)
    op.hint = hint
    return op


def float_dtype(dtype) -> str:
    """The dtype numpy.linalg computes ``dtype`` in: floats and complexes stay,
    bool and integers become float64."""
    return dtype if np.dtype(dtype).kind in "fc" else "float64"


def real_dtype(dtype) -> str:
    return {"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)


def complex_dtype(dtype) -> str:
    return {"float32": "complex64", "float64": "complex128"}.get(dtype, dtype)


def is_complex(x) -> bool:
    return x.type.numpy_dtype.kind == "c"


def linalg_input(x, who, square=False, min_ndim=2, cast_float=True):
    """``x`` as a tensor for a matrix op: at least ``min_ndim`` dimensions (the last two
    are the matrix), cast to float64 if it holds bools or integers, and (``square``)
    refused when its static matrix dimensions differ. Returns (tensor, hint)."""
    from symgraph.tensor.math import cast
    x = as_tensor_variable(x)
    hint = stacked_list_hint(x)
    if x.ndim < min_ndim:
        raise TypeError(f"{who}: expected a tensor of at least {min_ndim} dimensions (a matrix or "
                        f"a stack of matrices), got {x} of type {x.type} with {x.ndim} "
                        "dimension(s)")
    if square:
        m, n = x.type.shape[-2:]
        if m is not None and n is not None and m != n:
            msg = (f"{who}: expected square matrices (the last two dimensions equal), got {x} of "
                   f"static shape {_fmt_shape(x.type.shape)}")
            raise ShapeError(msg + (f"; {hint}" if hint else ""))
    if cast_float and x.type.numpy_dtype.kind not in "fc":
        x = cast(x, "float64")
    return x, hint


def check_matrix_runtime(a, who, op=None, square=False):
    """Run-time check of a value: at least 2 dimensions, square if asked."""
    hint = getattr(op, "hint", "")
    if a.ndim < 2:
        raise ValueError(f"{who}: expected a matrix or a stack of matrices, got an array of "
                         f"shape {a.shape}")
    if square and a.shape[-1] != a.shape[-2]:
        raise LinAlgError(f"{who}: expected square matrices (the last two dimensions equal), got "
                          f"an array of shape {a.shape}" + (f"; {hint}" if hint else ""))


def finite_mask(a):
    """Per matrix of the stack ``a`` (shape batch + (m, n)): True where every entry is finite."""
    return np.isfinite(a).all(axis=(-2, -1))


class MatrixOp(Op):
    """Base of ops taking one stack of matrices. ``hint`` (not a prop, so equality,
    hashing and kernels ignore it) holds the stacked-list note for run-time errors."""

    hint = ""
    _who = ""
    _square = True

    def _input(self, x, cast_float=True):
        """The checked input and the op to build the node with (carrying the hint)."""
        x, hint = linalg_input(x, self._who, square=self._square, cast_float=cast_float)
        return x, with_hint(self, hint)

    def _check(self, a):
        check_matrix_runtime(a, self._who, self, square=self._square)

    def _batch_type(self, x, dtype, core=()):
        """A fresh variable of ``dtype`` with x's batch shape followed by ``core``."""
        return TensorType(dtype, shape=x.type.shape[:-2] + tuple(core))()


def store(output_storage, node, values):
    """Write ``values`` to a node's output storage in the outputs' dtypes."""
    for k, v in enumerate(values):
        output_storage[k][0] = np.asarray(v, dtype=node.outputs[k].type.numpy_dtype)


# ----------------------------------------------------------------------- symbolic helpers

def H(x):
    """The conjugate transpose of the last two axes (the transpose for real ``x``)."""
    from symgraph.tensor.elemwise import dimshuffle
    from symgraph.tensor.math import conj
    order = list(range(x.ndim))
    order[-2], order[-1] = order[-1], order[-2]
    xt = dimshuffle(x, order)
    return conj(xt) if is_complex(x) else xt


def mm(*xs):
    """The matrix product of ``xs`` from left to right (batched: numpy.matmul)."""
    from symgraph.tensor.dot import matmul
    out = xs[0]
    for x in xs[1:]:
        out = matmul(out, x)
    return out


def batched_eye(n, dtype):
    from symgraph.tensor.creation import eye
    return eye(n, n, 0, dtype=dtype)


def as_row(v):
    """(..., n) -> (..., 1, n)."""
    from symgraph.tensor.elemwise import dimshuffle
    return dimshuffle(v, list(range(v.ndim - 1)) + ["x", v.ndim - 1])


def as_col(v):
    """(..., n) -> (..., n, 1)."""
    from symgraph.tensor.elemwise import dimshuffle
    return dimshuffle(v, list(range(v.ndim)) + ["x"])


def diag_embed(v):
    """(..., n) -> (..., n, n) with ``v`` on the diagonal."""
    from symgraph.tensor.shape import shape_i
    return as_col(v) * batched_eye(shape_i(v, v.ndim - 1), v.dtype)


def batch_scale(g, nd):
    """A batch-shaped ``g`` (nd dimensions) with two trailing length-1 axes, to scale a
    stack of matrices."""
    from symgraph.tensor.elemwise import dimshuffle
    return dimshuffle(g, list(range(nd)) + ["x", "x"])


def trace_of_product(y, x):
    """tr(y @ x) for stacks of square matrices, without forming the product."""
    from symgraph.tensor.elemwise import dimshuffle
    xt = dimshuffle(x, list(range(x.ndim - 2)) + [x.ndim - 1, x.ndim - 2])
    return (y * xt).sum(axis=(-2, -1))


def diag_part(x):
    """(..., n, n) -> (..., n): the main diagonal of each matrix."""
    from symgraph.tensor.creation import diagonal
    return diagonal(x, 0, -2, -1)


class SingularMatrixError(LinAlgError):
    """A matrix that had to be inverted (or factorised for a solve) is singular."""


def batch_where(mask_or_index, ndim):
    """Words for the position of a matrix in a stack: "" for one matrix, else
    " at batch index (i, j)"."""
    if ndim <= 2:
        return ""
    return f" at batch index {tuple(int(i) for i in mask_or_index)}"


def guarded(a, fn):
    """``fn(a)`` (a tuple of arrays whose leading axes are a's batch axes), with every
    output of a matrix holding NaN or infinity set to NaN.

    LAPACK's answers for non-finite input depend on the routine (garbage, or an
    error in one backend and not the other); symgraph answers NaN on every backend.
    """
    ok = finite_mask(a)
    if ok.all():
        return fn(a)
    safe = a.copy()
    m, n = a.shape[-2:]
    safe[~ok] = np.eye(m, n, dtype=a.dtype)
    outs = []
    for r in fn(safe):
        r = np.array(r, copy=True)
        if r.dtype.kind in "fc":
            r[~ok] = np.nan
        outs.append(r)
    return tuple(outs)
