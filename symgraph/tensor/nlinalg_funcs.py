"""numpy.linalg functions built from other ops: trace, norm, kron, matrix_dot,
tensorinv, tensorsolve. Being compositions, their gradients, shapes and numba code
come from the ops they are made of.
"""

from __future__ import annotations

import numbers

import numpy as np

from symgraph.graph.utils import ShapeError
from symgraph.tensor.axes import normalize_axis
from symgraph.tensor.basic import as_tensor_variable, constant
from symgraph.tensor.creation import diagonal
from symgraph.tensor.elemwise import _fmt_shape, dimshuffle
from symgraph.tensor.linalg_utils import float_dtype, is_complex, real_dtype
from symgraph.tensor.math import abs as abs_
from symgraph.tensor.math import cast, imag, mul, neq, real, sqr, sqrt
from symgraph.tensor.reduction import max as max_
from symgraph.tensor.reduction import min as min_
from symgraph.tensor.reduction import sum as sum_
from symgraph.tensor.shape import reshape, shape_i

__all__ = ["trace", "norm", "kron", "matrix_dot", "tensorinv", "tensorsolve"]


def trace(x, offset=0, axis1=0, axis2=1, dtype=None):
    """The sum along a diagonal (numpy.trace: axes 0 and 1 by default; for the trace of
    each matrix of a stack, as numpy.linalg.trace computes it, pass axis1=-2, axis2=-1)."""
    return sum_(diagonal(x, offset, axis1, axis2), axis=-1, dtype=dtype)


# ----------------------------------------------------------------------- norm

def _abs2(x):
    return sqr(real(x)) + sqr(imag(x)) if is_complex(x) else sqr(x)


def _is_inf(ord, sign):
    return isinstance(ord, numbers.Real) and not isinstance(ord, bool) and ord == sign * np.inf


def _restore(ret, nd, axes):
    """keepdims: put length-1 axes back at ``axes`` of an ``nd``-d result."""
    pattern, k = [], 0
    for d in range(nd):
        if d in axes:
            pattern.append("x")
        else:
            pattern.append(k)
            k += 1
    return dimshuffle(ret, pattern)


def _as_axes(axis, nd):
    if isinstance(axis, (tuple, list)):
        axes = tuple(normalize_axis(a, nd, "norm") for a in axis)
    else:
        axes = (normalize_axis(axis, nd, "norm"),)
    return axes


def _vector_norm(x, ord, ax):
    if ord is None or ord == 2 and not isinstance(ord, bool):
        return sqrt(sum_(_abs2(x), axis=ax))
    if isinstance(ord, str) or not isinstance(ord, numbers.Real) or isinstance(ord, bool):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors; expected None, a "
                         "number, inf or -inf")
    if _is_inf(ord, 1):
        return max_(abs_(x), axis=ax)
    if _is_inf(ord, -1):
        return min_(abs_(x), axis=ax)
    if ord == 0:
        return sum_(cast(neq(x, 0), real_dtype(x.dtype)), axis=ax)
    if ord == 1:
        return sum_(abs_(x), axis=ax)
    return sum_(abs_(x) ** ord, axis=ax) ** (1.0 / ord)


def _svd_norm(x, row, col, reduce):
    from symgraph.tensor.nlinalg_decomp import svd
    rest = [d for d in range(x.ndim) if d not in (row, col)]
    s = svd(dimshuffle(x, rest + [row, col]), compute_uv=False)
    return reduce(s, axis=-1)


def _matrix_norm(x, ord, row, col):
    if ord == 2 and not isinstance(ord, bool):
        return _svd_norm(x, row, col, max_)
    if ord == -2:
        return _svd_norm(x, row, col, min_)
    if ord == "nuc":
        return _svd_norm(x, row, col, sum_)
    if ord in (None, "fro", "f"):
        return sqrt(sum_(_abs2(x), axis=(row, col)))
    if ord in (1, -1) and not isinstance(ord, bool):
        red = max_ if ord == 1 else min_
        return red(sum_(abs_(x), axis=row), axis=col - 1 if col > row else col)
    if _is_inf(ord, 1) or _is_inf(ord, -1):
        red = max_ if ord > 0 else min_
        return red(sum_(abs_(x), axis=col), axis=row - 1 if row > col else row)
    raise ValueError(f"norm: invalid norm order {ord!r} for matrices; expected None, 'fro', "
                     "'nuc', 1, -1, 2, -2, inf or -inf")


def norm(x, ord=None, axis=None, keepdims=False):
    """numpy.linalg.norm: vector norms over one axis (ord None/2, 1, inf, -inf, 0 (the
    count of non-zeros), any other number p), matrix norms over two ('fro', 'nuc',
    1, -1, 2, -2, inf, -inf); with axis=None a 1-d or 2-d input is the vector or
    matrix, and ord=None flattens any input. The result is real (float64 for
    integer input). Differentiable where the norm is (not at 0 for the 2-norm; the
    orders 2, -2 and 'nuc' go through the singular values)."""
    x = as_tensor_variable(x)
    if x.type.numpy_dtype.kind not in "fc":
        x = cast(x, float_dtype(x.dtype))
    nd = x.ndim
    if axis is None:
        if ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1):
            ret = sqrt(sum_(_abs2(x)))
            return _restore(ret, nd, tuple(range(nd))) if keepdims else ret
        axis = tuple(range(nd))
    axes = _as_axes(axis, nd)
    if len(axes) == 1:
        ret = _vector_norm(x, ord, axes[0])
    elif len(axes) == 2:
        if axes[0] == axes[1]:
            raise ValueError(f"norm: duplicate axes given: {axis}")
        ret = _matrix_norm(x, ord, *axes)
    else:
        raise ValueError(f"norm: improper number of dimensions to norm: axis={axis!r} for an "
                         f"input of {nd} dimensions (vector norms take one axis, matrix norms "
                         "two)")
    return _restore(ret, nd, axes) if keepdims else ret


# ----------------------------------------------------------------------- products

def kron(a, b):
    """The Kronecker product (numpy.kron) of tensors of any rank: blocks a[i] * b, the
    lower-rank operand padded with leading length-1 axes."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    nd = max(a.ndim, b.ndim)
    pa, pb = nd - a.ndim, nd - b.ndim
    pat_a, pat_b = [], []
    for d in range(nd):
        pat_a += ["x" if d < pa else d - pa, "x"]
        pat_b += ["x", "x" if d < pb else d - pb]
    prod = mul(dimshuffle(a, pat_a), dimshuffle(b, pat_b))

    def dim(v, d, pad):
        if d < pad:
            return 1
        s = v.type.shape[d - pad]
        return s if s is not None else shape_i(v, d - pad)
    return reshape(prod, tuple(dim(a, d, pa) * dim(b, d, pb) for d in range(nd)))


def matrix_dot(*args):
    """dot(args[0], args[1], ...), left to right."""
    from symgraph.tensor.dot import dot
    if not args:
        raise TypeError("matrix_dot needs at least one argument")
    out = as_tensor_variable(args[0])
    for a in args[1:]:
        out = dot(out, a)
    return out


# ----------------------------------------------------------------------- tensor inverse / solve

def _prod(dims):
    out = None
    for d in dims:
        out = d if out is None else mul(out, d)
    return constant(1, dtype="int64") if out is None else out


def _static_prod(shape):
    return None if any(s is None for s in shape) else int(np.prod(shape, dtype=np.int64))


def tensorinv(a, ind=2):
    """The inverse of ``a`` for tensordot over its first ``ind`` axes (numpy.linalg.tensorinv):
    a reshaped to a (prod(a.shape[:ind]), prod(a.shape[ind:])) square matrix, inverted,
    and reshaped to a.shape[ind:] + a.shape[:ind]."""
    from symgraph.tensor.nlinalg import matrix_inverse
    a = as_tensor_variable(a)
    if not isinstance(ind, (int, np.integer)) or isinstance(ind, bool) or not 0 < ind < a.ndim:
        raise ValueError(f"tensorinv: ind must be an int in [1, {a.ndim - 1}] for an input of "
                         f"{a.ndim} dimensions, got {ind!r}")
    p, q = _static_prod(a.type.shape[:ind]), _static_prod(a.type.shape[ind:])
    if p is not None and q is not None and p != q:
        raise ShapeError(f"tensorinv: the first {ind} axes of {a} (static shape "
                         f"{_fmt_shape(a.type.shape)}) hold {p} elements and the others {q}; "
                         "they must be equal")
    dims = [shape_i(a, d) for d in range(a.ndim)]
    ia = matrix_inverse(reshape(a, (_prod(dims[ind:]), -1)))
    return reshape(ia, tuple(dims[ind:] + dims[:ind]))


def tensorsolve(a, b, axes=None):
    """x with tensordot(a, x, x.ndim) == b (numpy.linalg.tensorsolve); ``axes`` of ``a``
    are moved to the end first. Computed through the inverse of the square matrix
    that ``a`` reshapes to (for an ill-conditioned system prefer slinalg's solve)."""
    from symgraph.tensor.dot import dot
    from symgraph.tensor.nlinalg import matrix_inverse
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if axes is not None:
        moved = [normalize_axis(k, a.ndim, "tensorsolve") for k in axes]
        a = dimshuffle(a, [d for d in range(a.ndim) if d not in moved] + moved)
    if not b.ndim < a.ndim:
        raise TypeError(f"tensorsolve: b must have fewer dimensions than a, got {b.ndim} and "
                        f"{a.ndim}")
    dims = [shape_i(a, d) for d in range(a.ndim)]
    rest = dims[b.ndim:]
    n = _prod(rest)
    inv_a = matrix_inverse(reshape(a, (n, n)))
    return reshape(dot(inv_a, reshape(b, (-1,))), tuple(rest))
