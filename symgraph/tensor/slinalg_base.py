"""Shared machinery of the linear-algebra ops in slinalg.py, slinalg_lu.py and expm.py.

Every op works on stacks of matrices: the last one or two axes of each input are
its core (a matrix, or a vector right-hand side), the leading axes are batch axes
that broadcast between inputs. As everywhere in symgraph, only dimensions of
static length 1 (or missing leading ones) broadcast; other batch lengths must
agree at run time. ``perform`` loops over the batch in Python, calling SciPy on
one matrix at a time, so errors can say which matrix of the stack failed.

Gradients follow symgraph's complex convention (dC/dRe z + i dC/dIm z): adjoints
use conjugate transposes, so for real data the same formulas hold with plain
transposes. The graph helpers below (``mT``, ``mH``, ``mm``, masks) build those
formulas for stacks.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.utils import ShapeError
from symgraph.scalar.basic import float_upcast
from symgraph.tensor.basic import as_tensor_variable, constant
from symgraph.tensor.elemwise import _fmt_shape, broadcast_static_shape, dimshuffle
from symgraph.tensor.type import TensorType

FLOAT_DTYPES = ("float32", "float64", "complex64", "complex128")


# ----------------------------------------------------------------------- input checks

def describe(v):
    return f"{v} of type {v.type}"


def as_float(x, who, what):
    """``x`` as a float or complex tensor: bool and integer inputs are cast as NumPy's
    float functions cast them (SciPy computes them in floating point too)."""
    from symgraph.tensor.math import cast
    x = as_tensor_variable(x)
    if x.dtype not in FLOAT_DTYPES:
        dt = float_upcast(x.dtype)
        if dt not in FLOAT_DTYPES:
            raise TypeError(f"{who}: expected a float or complex tensor as {what}, got "
                            f"{describe(x)}")
        x = cast(x, dt)
    return x


def common_dtype(who, *xs):
    """Cast every input to their common float/complex dtype (NumPy's promotion)."""
    from symgraph.tensor.math import cast
    dt = float_upcast(*[x.dtype for x in xs])
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"{who}: no float dtype holds {', '.join(x.dtype for x in xs)}")
    return [cast(x, dt) for x in xs]


def check_ndim(who, x, what, min_ndim):
    if x.ndim < min_ndim:
        kind = "a matrix" if min_ndim == 2 else f"a tensor of at least {min_ndim} dimensions"
        raise TypeError(f"{who}: expected {kind} (or a stack of them) as {what}, got "
                        f"{describe(x)} with {x.ndim} dimension{'s' if x.ndim != 1 else ''}")


def check_square(who, x, what="a"):
    """Refuse a stack of matrices whose last two static lengths are known and differ."""
    m, n = x.type.shape[-2:]
    if m is not None and n is not None and m != n:
        raise ShapeError(f"{who}: {what} must be square, got {describe(x)} with shape "
                         f"{_fmt_shape(x.type.shape)}")


def square_matrix(x, who, what="a"):
    x = as_float(x, who, what)
    check_ndim(who, x, what, 2)
    check_square(who, x, what)
    return x


def runtime_square(who, a, what="a"):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{who}: {what} must be a square matrix (or a stack of them), got "
                         f"an array of shape {a.shape}")


def static_match(who, a, ax, b, bx, what_a="a", what_b="b"):
    """ShapeError when dimension ``ax`` of ``a`` and ``bx`` of ``b`` are known and differ."""
    ka, kb = a.type.shape[ax], b.type.shape[bx]
    if ka is not None and kb is not None and ka != kb:
        raise ShapeError(f"{who}: {what_a} has shape {_fmt_shape(a.type.shape)} and {what_b} "
                         f"has shape {_fmt_shape(b.type.shape)}: their dimensions {ax} and "
                         f"{bx} must agree ({ka} != {kb})")


def runtime_match(who, a, ax, b, bx, what_a="a", what_b="b"):
    if a.shape[ax] != b.shape[bx]:
        raise ShapeError(f"{who}: {what_a} has shape {a.shape} and {what_b} has shape "
                         f"{b.shape}: their dimensions {ax % a.ndim} and {bx % b.ndim} must "
                         f"agree ({a.shape[ax]} != {b.shape[bx]})")


# ----------------------------------------------------------------------- batch axes

def batch_of(x, core):
    return x.type.shape[:x.ndim - core]


def static_batch(who, pairs):
    """The broadcast static batch shape of ``pairs`` of (variable, core ndim)."""
    batches = [batch_of(v, c) for v, c in pairs]
    nb = max(len(b) for b in batches)
    padded = [(1,) * (nb - len(b)) + tuple(b) for b in batches]
    if nb == 0:
        return ()
    return broadcast_static_shape(padded, what=f"{who}: the batch (leading) dimensions")


def runtime_batch(who, node, arrays, cores):
    """The batch shape of the arrays of ``node``'s inputs (core ndims ``cores``): only
    statically broadcastable (length-1) or missing dimensions stretch."""
    nb = max(a.ndim - c for a, c in zip(arrays, cores))
    dims = [None] * nb
    for var, arr, c in zip(node.inputs, arrays, cores):
        b = arr.shape[:arr.ndim - c]
        off = nb - len(b)
        for d, n in enumerate(b):
            if var.type.shape[d] == 1:
                continue
            if dims[off + d] is None:
                dims[off + d] = n
            elif dims[off + d] != n:
                shapes = " and ".join(str(a.shape) for a in arrays)
                raise ShapeError(f"{who}: the batch (leading) dimensions of the inputs differ: "
                                 f"shapes {shapes}")
    return tuple(1 if d is None else d for d in dims)


def broadcast_core(arr, batch, core):
    """``arr`` viewed with batch shape ``batch`` (its core axes kept)."""
    return np.broadcast_to(arr, tuple(batch) + arr.shape[arr.ndim - core:])


def batch_dims(node, input_shapes, cores, n_batch):
    """Symbolic batch lengths of ``node``'s output for infer_shape: each taken from an
    input that does not broadcast there (a constant where statically known)."""
    out = []
    for d in range(n_batch):
        pick = None
        for var, shp, c in zip(node.inputs, input_shapes, cores):
            nb = var.ndim - c
            k = d - (n_batch - nb)
            if k < 0 or var.type.shape[k] == 1:
                continue
            if var.type.shape[k] is not None:
                pick = constant(var.type.shape[k], dtype="int64")
                break
            if pick is None:
                pick = shp[k]
        out.append(pick if pick is not None else constant(1, dtype="int64"))
    return out


def dim(var, shp, d):
    """Symbolic length of dimension ``d``: a constant where statically known."""
    s = var.type.shape[d]
    return constant(s, dtype="int64") if s is not None else shp[d]


def sum_to_batch(g, var):
    """Sum a gradient computed on the broadcast batch back to ``var``'s batch shape."""
    from symgraph.tensor.reduction import sum as _sum
    extra = g.ndim - var.ndim
    if extra:
        g = _sum(g, axis=tuple(range(extra)))
    axes = tuple(d for d, s in enumerate(var.type.shape)
                 if s == 1 and g.type.shape[d] != 1)
    if axes:
        g = _sum(g, axis=axes, keepdims=True)
    return g


def out_type(dtype, shape):
    return TensorType(dtype, shape=tuple(shape))()


def batch_loop(batch):
    """Indices of every matrix of a stack (one empty index when there is no batch)."""
    return np.ndindex(*batch) if batch else [()]


def where(idx):
    """' (matrix [i, j] of the stack)' for error messages, '' for a single matrix."""
    return f" (matrix {list(idx)} of the stack)" if idx else ""


# ----------------------------------------------------------------------- graph helpers

def is_complex(x):
    return x.dtype.startswith("complex")


def conj(x):
    """conj(x) for complex x; x itself for real (no node)."""
    from symgraph.tensor.math import conj as _conj
    return _conj(x) if is_complex(x) else x


def mT(x):
    """The last two axes exchanged."""
    order = list(range(x.ndim))
    order[-2], order[-1] = order[-1], order[-2]
    return dimshuffle(x, order)


def mH(x):
    """The conjugate transpose of a stack of matrices."""
    return conj(mT(x))


def mm(a, b):
    from symgraph.tensor.dot import matmul
    return matmul(a, b)


def col(v):
    """A (stack of) vector(s) as a (stack of) one-column matrix(ces)."""
    return dimshuffle(v, list(range(v.ndim)) + ["x"])


def uncol(m):
    """The inverse of ``col``: drop the last (length-1) axis."""
    from symgraph.tensor.shape import squeeze
    return squeeze(m, axis=-1)


def tril(x, k=0):
    from symgraph.tensor.creation import tril as _tril
    return _tril(x, k)


def triu(x, k=0):
    from symgraph.tensor.creation import triu as _triu
    return _triu(x, k)


def eye_of(x):
    """The identity matrix of the size of (square) ``x``'s last two axes, in x's real
    dtype (it broadcasts over the stack)."""
    from symgraph.tensor.creation import eye
    return eye(x.shape[-1], dtype=real_dtype(x.dtype))


def real_dtype(dtype):
    return {"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)


def diag_part(x, real=False):
    """The diagonal of ``x`` as a matrix (zeros elsewhere); with ``real`` its real part."""
    from symgraph.tensor.math import real as _real
    d = _real(x) if real and is_complex(x) else x
    return eye_of(x) * d


def sym_from_triangle(x, lower, hermitian):
    """The symmetric (or Hermitian) matrix that LAPACK sees when it reads only one
    triangle of ``x``: the triangle mirrored across the diagonal (conjugated when
    Hermitian, whose diagonal counts only by its real part)."""
    tri = tril(x, -1) if lower else triu(x, 1)
    mirrored = mH(tri) if hermitian else mT(tri)
    return tri + mirrored + diag_part(x, real=hermitian)


def sym_from_triangle_adjoint(g, lower, hermitian):
    """The adjoint of ``sym_from_triangle`` (a gradient on the full matrix back to
    the triangle that was read)."""
    other = mH(g) if hermitian else mT(g)
    tri = tril(g + other, -1) if lower else triu(g + other, 1)
    return tri + diag_part(g, real=hermitian)


def is_disconnected(g):
    from symgraph.gradient import DisconnectedType
    return g is None or isinstance(g.type, DisconnectedType)
