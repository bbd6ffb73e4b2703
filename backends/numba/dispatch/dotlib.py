"""Compiled helpers of the dot-family kernels (dispatch/dot.py).

``mm(a, b, out)`` writes the matrix product of the 2-d arrays ``a`` (m, k) and
``b`` (k, n) into the C-contiguous ``out`` (m, n); every dot-family kernel
reduces its op to calls of it. Float and complex products go through BLAS
(numba's np.dot: a transposed operand is passed transposed, only operands that are
neither C- nor F-contiguous are copied), except small ones (batches of small matrices), where a plain
loop is cheaper than the call; integers accumulate in int64 (uint64 for unsigned types) and wrap
on storing, which gives NumPy's values (its integer dot accumulates in a wider
type and casts back: the same result modulo 2**bits); bools are an OR of ANDs.

Compiled once per argument types and cached on disk, so kernels that call it
only link it.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import overload

_OPTS = dict(cache=True, nogil=True, error_model="numpy")
_SMALL = 4096  # up to this many multiply-adds, a float product is a plain loop


def blas_ready(x):
    """``x`` itself when it is C- or F-contiguous by type, else a contiguous copy
    (made only when the run-time layout is not C-contiguous)."""
    raise NotImplementedError("only callable from compiled code")


@overload(blas_ready, jit_options=dict(nogil=True))
def _ol_blas_ready(x):
    if isinstance(x, types.Array) and x.layout in "CF":
        return lambda x: x
    return lambda x: np.ascontiguousarray(x)


def _mm(a, b, out):
    raise NotImplementedError("only callable from compiled code")


@overload(_mm, jit_options=dict(nogil=True))
def _ol_mm(a, b, out):
    dt = a.dtype
    if isinstance(dt, (types.Float, types.Complex)):
        def impl(a, b, out):
            m, k = a.shape
            n = b.shape[1]
            if m * n * k > _SMALL:
                # a transposed operand (F-contiguous at run time) goes to BLAS as it
                # is, flagged transposed, rather than copied: x.T @ d of an MLP's
                # backward pass would otherwise copy x on every call
                if a.flags.f_contiguous and not a.flags.c_contiguous:
                    at = np.ascontiguousarray(a.T).T  # no copy: typed 'F'
                    if b.flags.f_contiguous and not b.flags.c_contiguous:
                        np.dot(at, np.ascontiguousarray(b.T).T, out)
                    else:
                        np.dot(at, blas_ready(b), out)
                elif b.flags.f_contiguous and not b.flags.c_contiguous:
                    np.dot(blas_ready(a), np.ascontiguousarray(b.T).T, out)
                else:
                    np.dot(blas_ready(a), blas_ready(b), out)
                return
            # small products (batches of small matrices): a BLAS call costs more
            for i in range(m):
                for j in range(n):
                    out[i, j] = 0
                for p in range(k):
                    x = a[i, p]
                    for j in range(n):
                        out[i, j] += x * b[p, j]
        return impl
    if isinstance(dt, types.Boolean):
        def impl(a, b, out):
            m, k = a.shape
            n = b.shape[1]
            for i in range(m):
                for j in range(n):
                    acc = False
                    for p in range(k):
                        if a[i, p] and b[p, j]:
                            acc = True
                            break
                    out[i, j] = acc
        return impl
    if isinstance(dt, types.Integer):
        acc_t = np.int64 if dt.signed else np.uint64

        def impl(a, b, out):
            m, k = a.shape
            n = b.shape[1]
            row = np.empty(n, dtype=acc_t)
            for i in range(m):
                row[:] = 0
                for p in range(k):
                    x = acc_t(a[i, p])
                    if x != 0:
                        for j in range(n):
                            row[j] += x * acc_t(b[p, j])
                for j in range(n):
                    out[i, j] = row[j]
        return impl
    return None


@numba.njit(**_OPTS)
def mm(a, b, out):
    """out[...] = a @ b for 2-d ``a``, ``b`` of one dtype; ``out`` C-contiguous.

    Kernels pass the operands as 'A' (any-layout) arrays, sliced ``x[::1, ::1]``, so
    this is compiled (and cached) once per dtype rather than once per combination
    of layouts.
    """
    _mm(a, b, out)
