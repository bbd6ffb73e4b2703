"""NumPy twins of the dot family (backends/numba/dispatch/dot.py): Dot, MatMul,
TensorDot, BatchedDot and Gemm, whose kernels reduce to ``dotlib.mm`` and
``dotlib.gemm``. The twins reshape their operands as the kernels do and replay those
two helpers:

- BLAS-sized float and complex products (m * n * k > dotlib._SMALL; for gemm also
  alpha != 0): SciPy's wrapper of the routine numba calls (dot, gemv or gemm, as
  ``blas_mm`` and ``blas_gemm`` say), with the same arguments, decided from the
  operands' layouts at run time; SciPy and numba reach the same BLAS library.
- small float and complex products: each element is ``start + a[i, 0] * b[0, j] +
  a[i, 1] * b[1, j] + ...`` added in p's order, ``start`` being 0 (mm) or gemm's
  ``beta * z``. All products are made at once and summed along p by
  ``np.add.accumulate``, which adds in order, one rounding per step, as the loops.
  Complex products are written out as numba's (CPython's) formula, on the real and
  imaginary parts: NumPy's own complex multiply may fuse a multiply and an add.
- integers and bools: ``np.matmul``. An integer sum wraps modulo 2**bits in any
  order and any width at least the dtype's, as the kernels' int64 / uint64 sums cast
  back; a bool product is an OR of ANDs.
"""

from __future__ import annotations

import numpy as np

from backends.numba.dispatch.dot import _DTYPES
from backends.numba.dispatch.dotlib import _SMALL
from backends.numba.numpy_twins import register
from symgraph.tensor.blas import Gemm
from symgraph.tensor.dot import BatchedDot, Dot, MatMul, TensorDot

# past this many products at once, the small-product sums go one p at a time
_AT_ONCE = 1 << 21


def _fortran_side(x):
    """(x, is_f) as dotlib's ``_operand`` passes a 2-d operand to BLAS: x itself and
    F when F- but not C-contiguous, x itself when C-contiguous, else a C-contiguous
    copy. (NumPy's flags and dotlib's run-time test agree: a dimension of length 1
    places no condition on its stride.)"""
    if x.flags.f_contiguous and not x.flags.c_contiguous:
        return x, True
    return np.ascontiguousarray(x), False


def blas_mm(a, b):
    """The (m, n) C-contiguous ``a @ b`` of ``dotlib.mm``'s BLAS branch (numba's
    np.dot(a, b, out) for a C-contiguous out): for positive m, n, k and a BLAS dtype,
    SciPy's wrapper of the routine it calls with its arguments; BLAS is column-major,
    so ``out`` is computed as the Fortran (n, m) matrix ``b.T @ a.T``."""
    from scipy.linalg import blas

    m, n = a.shape[0], b.shape[1]
    (a, a_f), (b, b_f) = _fortran_side(a), _fortran_side(b)
    fa = a if a_f else a.T  # a's memory as a Fortran matrix
    fb = b if b_f else b.T
    if m == 1 and n == 1:
        dot = blas.get_blas_funcs("dotu" if a.dtype.kind == "c" else "dot", (a,))
        return np.array(dot(a.reshape(-1), b.reshape(-1)), dtype=a.dtype).reshape(1, 1)
    if n == 1:  # matrix a times vector b
        gemv = blas.get_blas_funcs("gemv", (a,))
        return gemv(1, fa, b.reshape(-1), trans=int(not a_f)).reshape(m, 1)
    if m == 1:  # vector a times matrix b
        gemv = blas.get_blas_funcs("gemv", (a,))
        return gemv(1, fb, a.reshape(-1), trans=int(b_f)).reshape(1, n)
    gemm = blas.get_blas_funcs("gemm", (a,))
    return gemm(1, fb, fa, trans_a=int(b_f), trans_b=int(a_f)).T


def blas_gemm(z, alpha, x, y, beta):
    """The (m, n) C-contiguous result of ``dotlib.gemm``'s BLAS branch: one gemm call
    ``out.T = alpha * y.T @ x.T + beta * out.T`` on out = a copy of z, operands passed
    as ``blas_mm`` passes them; with beta == 0 BLAS does not read out, nor z here."""
    from scipy.linalg import blas

    (x, x_f), (y, y_f) = _fortran_side(x), _fortran_side(y)
    routine = blas.get_blas_funcs("gemm", (x,))
    c = None if beta == 0 else np.ascontiguousarray(z).T
    return np.ascontiguousarray(
        routine(alpha, y if y_f else y.T, x if x_f else x.T, beta=beta, c=c,
                trans_a=int(y_f), trans_b=int(x_f)).T)


# ------------------------------------------------------- small products, as loops

def _parts(x):
    """A float or complex array (or scalar) as its real parts: (x,) or (re, im)."""
    return (x.real, x.imag) if np.iscomplexobj(x) else (x,)


def _mul(x, y):
    """numba's product of scalars on parts: (ac - bd, ad + bc) for complex ones."""
    if len(x) == 1:
        return (x[0] * y[0],)
    (a, b), (c, d) = x, y
    return (a * c - b * d, a * d + b * c)


def _join(parts, dtype):
    """A new C-contiguous array of ``dtype`` from its parts (a copy even of one part:
    that part may be z itself)."""
    if len(parts) == 1:
        return np.array(parts[0], dtype=dtype, order="C")
    out = np.empty(np.broadcast_shapes(parts[0].shape, parts[1].shape), dtype=dtype)
    out.real, out.imag = parts
    return out


def _sums(start, w, b, dtype):
    """``start + w[..., :, 0] * b[..., 0, :] + w[..., :, 1] * b[..., 1, :] + ...``
    for the (..., m, k) ``w`` and (..., k, n) ``b`` (batch dimensions broadcast),
    added left to right per element: the loops of mm and gemm. ``start`` broadcasts
    to (..., m, n)."""
    sw, sb = _parts(w), _parts(b)
    start = _parts(start)
    k = w.shape[-1]
    shape = np.broadcast_shapes(w.shape[:-2], b.shape[:-2], start[0].shape[:-2]) + \
        (w.shape[-2], b.shape[-1])
    if k == 0:
        return _join([np.broadcast_to(s, shape) for s in start], dtype)
    if np.prod(shape) * k <= _AT_ONCE:
        prods = _mul([x[..., :, :, None] for x in sw], [x[..., None, :, :] for x in sb])
        sums = []
        for s, pr in zip(start, prods):  # pr: a new (..., m, k, n) array
            pr[..., 0, :] = s + pr[..., 0, :]
            sums.append(np.add.accumulate(pr, axis=-2)[..., -1, :])
        return _join(sums, dtype)
    acc = [np.broadcast_to(s, shape) for s in start]
    for p in range(k):
        prod = _mul([x[..., :, p:p + 1] for x in sw], [x[..., p:p + 1, :] for x in sb])
        acc = [s + q for s, q in zip(acc, prod)]
    return _join(acc, dtype)


# ------------------------------------------------------- the helpers

def mm(a, b):
    """``dotlib.mm`` on each pair of the (..., m, k) and (..., k, n) stacks ``a`` and
    ``b`` (batch dimensions broadcast, each 2-d operand keeping its own layout, as the
    kernels' views): the C-contiguous (..., m, n) product in a's dtype."""
    dtype = a.dtype
    m, k = a.shape[-2:]
    n = b.shape[-1]
    if dtype.kind in "biu":
        return np.ascontiguousarray(np.matmul(a, b))
    if m * n * k <= _SMALL:
        with np.errstate(all="ignore"):  # the kernel does not warn of inf and NaN
            return _sums(np.zeros((), dtype), a, b, dtype)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    out = np.empty(batch + (m, n), dtype)
    a, b = np.broadcast_to(a, batch + (m, k)), np.broadcast_to(b, batch + (k, n))
    for j in np.ndindex(*batch):
        out[j] = blas_mm(a[j], b[j])
    return out


def gemm(z, alpha, x, y, beta):
    """``dotlib.gemm``: ``beta * z + alpha * (x @ y)``, C-contiguous, in z's dtype."""
    dtype = z.dtype
    alpha, beta = dtype.type(alpha), dtype.type(beta)
    m, k = x.shape
    n = y.shape[1]
    if alpha != 0 and m * n * k > _SMALL:
        return blas_gemm(z, alpha, x, y, beta)
    with np.errstate(all="ignore"):
        if beta == 0:
            start = np.zeros((), dtype)
        elif beta == 1:
            start = z
        else:
            start = _join(_mul(_parts(beta), _parts(z)), dtype)
        w = _join(_mul(_parts(alpha), _parts(x)), dtype)  # alpha * x[i, p]
        return _sums(start, w, y, dtype)


# ------------------------------------------------------- the ops

def _covered(node) -> bool:
    """The kernels' dtypes (dispatch/dot.py's ``_dtype``: every input of the output's
    dtype); complex ones while numba multiplies them by the plain formula (from
    Python 3.14 on it recovers infinities from NaN results, as CPython does). Not
    ops that write into an input (a ``destroy_map``: dispatch/dot.py's GemmInPlace):
    the twins return new arrays."""
    from numba.core.utils import PYVERSION

    if getattr(node.op, "destroy_map", None):
        return False
    dt = node.outputs[0].type.dtype
    if dt not in _DTYPES or any(i.type.dtype != dt for i in node.inputs):
        return False
    return not (dt.startswith("complex") and PYVERSION >= (3, 14))


def _refuse(node, inputs, output_storage, message):
    """Shapes the kernel refuses: the interpreter's error, which names them (the
    kernel's own ValueError should ``perform`` not raise)."""
    node.op.perform(node, inputs, output_storage)
    raise ValueError(message)


@register(Dot)
def dot_twin(node):
    """Dot of every rank it takes (vector operands as a (1, k) row or a (k, 1)
    column); all the kernels' dtypes."""
    if not _covered(node):
        return None
    nda, ndb = (i.ndim for i in node.inputs)

    def perform(node, inputs, output_storage):
        a, b = inputs
        if a.shape[-1] != b.shape[0]:
            _refuse(node, inputs, output_storage, "dot: shapes not aligned")
        out = mm(a if nda == 2 else a[None, :], b if ndb == 2 else b[:, None])
        output_storage[0][0] = out.reshape(a.shape[:-1] + b.shape[1:])
    return perform


@register(MatMul)
def matmul_twin(node):
    """MatMul: batch dimensions of static length 1 are read at index 0, as the kernel
    reads them; the others must agree. All the kernels' dtypes."""
    if not _covered(node):
        return None
    ta, tb = node.inputs
    nda, ndb = ta.ndim, tb.ndim
    sa, sb = MatMul._padded_batches(ta.type.shape, tb.type.shape)
    nb = len(sa)
    # the kernel's batch indexing of each operand: 0 where static 1, else the loop's
    fixed_a = tuple(slice(0, 1) if s == 1 else slice(None) for s in sa[nb - max(nda - 2, 0):])
    fixed_b = tuple(slice(0, 1) if s == 1 else slice(None) for s in sb[nb - max(ndb - 2, 0):])

    def perform(node, inputs, output_storage):
        a, b = inputs
        if a.shape[-1] != b.shape[max(ndb - 2, 0)]:
            _refuse(node, inputs, output_storage, "matmul: shapes not aligned")
        a2 = a[fixed_a] if nda >= 2 else a[None, :]
        b2 = b[fixed_b] if ndb >= 2 else b[:, None]
        ba, bb = a2.shape[:-2], b2.shape[:-2]
        for la, lb, st_a, st_b in zip(ba[::-1], bb[::-1], sa[::-1], sb[::-1]):
            if st_a != 1 and st_b != 1 and la != lb:
                _refuse(node, inputs, output_storage, "matmul: batch dimensions differ")
        out = mm(a2, b2)
        shape = out.shape[:-2] + ((out.shape[-2],) if nda >= 2 else ()) + \
            ((out.shape[-1],) if ndb >= 2 else ())
        output_storage[0][0] = out.reshape(shape)
    return perform


@register(TensorDot)
def tensordot_twin(node):
    """TensorDot: (free a, summed a) @ (summed b, free b) as one product of
    C-contiguous copies. All the kernels' dtypes."""
    if not _covered(node):
        return None
    ta, tb = node.inputs
    xa, xb = node.op.axes
    free_a = [i for i in range(ta.ndim) if i not in xa]
    free_b = [i for i in range(tb.ndim) if i not in xb]

    def perform(node, inputs, output_storage):
        a, b = inputs
        if any(a.shape[i] != b.shape[j] for i, j in zip(xa, xb)):
            _refuse(node, inputs, output_storage, "tensordot: shapes not aligned")
        m = int(np.prod([a.shape[i] for i in free_a]))
        k = int(np.prod([a.shape[i] for i in xa]))
        n = int(np.prod([b.shape[i] for i in free_b]))
        x = np.ascontiguousarray(np.transpose(a, free_a + list(xa))).reshape(m, k)
        y = np.ascontiguousarray(np.transpose(b, list(xb) + free_b)).reshape(k, n)
        out = mm(x, y)
        output_storage[0][0] = out.reshape(tuple(a.shape[i] for i in free_a) +
                                           tuple(b.shape[i] for i in free_b))
    return perform


@register(BatchedDot)
def batched_dot_twin(node):
    """BatchedDot: a as (batch, M, k), b as (batch, k, N), C-contiguous copies where
    not so already. All the kernels' dtypes."""
    if not _covered(node):
        return None
    ta, tb = node.inputs
    nda, ndb = ta.ndim, tb.ndim
    cb = 1 if ndb == 2 else ndb - 2
    free_b = [i for i in range(1, ndb) if i != cb]

    def perform(node, inputs, output_storage):
        a, b = inputs
        if a.shape[0] != b.shape[0]:
            _refuse(node, inputs, output_storage, "batched_dot: batch lengths differ")
        if a.shape[-1] != b.shape[cb]:
            _refuse(node, inputs, output_storage, "batched_dot: shapes not aligned")
        nb, k = a.shape[0], a.shape[-1]
        m = int(np.prod(a.shape[1:-1]))
        n = int(np.prod([b.shape[i] for i in free_b]))
        x = np.ascontiguousarray(a).reshape(nb, m, k)
        y = np.ascontiguousarray(np.transpose(b, [0, cb] + free_b)).reshape(nb, k, n)
        out = mm(x, y)
        output_storage[0][0] = out.reshape((nb,) + a.shape[1:-1] +
                                           tuple(b.shape[i] for i in free_b))
    return perform


@register(Gemm)
def gemm_twin(node):
    """Gemm, of every dtype it takes (float and complex)."""
    if not _covered(node):
        return None

    def perform(node, inputs, output_storage):
        z, alpha, x, y, beta = inputs
        if x.shape[1] != y.shape[0]:
            _refuse(node, inputs, output_storage, "gemm: x and y are not aligned")
        if z.shape != (x.shape[0], y.shape[1]):
            _refuse(node, inputs, output_storage, "gemm: z does not have the shape of x @ y")
        output_storage[0][0] = gemm(z, np.asarray(alpha)[()], x, y, np.asarray(beta)[()])
    return perform
