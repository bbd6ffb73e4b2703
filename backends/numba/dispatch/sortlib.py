"""Compiled helpers of the sort kernels (dispatch/sort.py).

One stable merge sort serves every kind: runs of 16 by insertion sort, then
bottom-up merges that take from the left run on ties. Stable is what 'stable'
and 'mergesort' require; for 'quicksort' and 'heapsort' NumPy leaves the order
of ties unspecified (it uses insertion sort for short arrays, which is stable,
and SIMD or introsort code for longer ones), so the stable order is as good an
answer as any and matches NumPy wherever NumPy's own answer is stable.

Kernels pass their arrays as 'A' (any-layout) arrays, sliced ``x[::1]``, so each
sort is compiled (and cached) once per dtype rather than once per layout.

The order is NumPy's: NaNs last, complex numbers lexicographically (real part
first) with NumPy's placement of NaN parts.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import overload

_OPTS = dict(cache=True, nogil=True, error_model="numpy")
_RUN = 16


def lt(a, b):
    """NumPy's sort order: ``a`` goes before ``b``."""
    raise NotImplementedError("only callable from compiled code")


@overload(lt, jit_options=dict(nogil=True))
def _ol_lt(a, b):
    if isinstance(a, types.Complex):
        def impl(a, b):
            ar, ai, br, bi = a.real, a.imag, b.real, b.imag
            if ar < br:
                return ai == ai or bi != bi
            if ar > br:
                return bi != bi and ai == ai
            if ar == br or (ar != ar and br != br):
                return ai < bi or (bi != bi and ai == ai)
            return br != br
        return impl
    if isinstance(a, types.Float):
        return lambda a, b: a < b or (b != b and a == a)
    if isinstance(a, types.Boolean):
        return lambda a, b: (not a) and b
    return lambda a, b: a < b


@numba.njit(**_OPTS)
def argsort_into(v, idx):
    """``idx`` (1-d int64) = the stable sorting permutation of ``v`` (1-d)."""
    n = v.shape[0]
    src = np.empty(n, dtype=np.int64)
    for i in range(n):
        src[i] = i
    for s in range(0, n, _RUN):
        e = min(s + _RUN, n)
        for i in range(s + 1, e):
            t = src[i]
            vt = v[t]
            j = i
            while j > s and lt(vt, v[src[j - 1]]):
                src[j] = src[j - 1]
                j -= 1
            src[j] = t
    dst = np.empty(n, dtype=np.int64)
    width = _RUN
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if lt(v[src[j]], v[src[i]]):
                    dst[k] = src[j]
                    j += 1
                else:
                    dst[k] = src[i]
                    i += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
        src, dst = dst, src
        width *= 2
    for i in range(n):
        idx[i] = src[i]


@numba.njit(**_OPTS)
def sort_into(v, out):
    """``out`` (1-d) = the values of ``v`` (1-d) in NumPy's sort order."""
    n = v.shape[0]
    src = np.empty(n, dtype=v.dtype)
    for i in range(n):
        src[i] = v[i]
    for s in range(0, n, _RUN):
        e = min(s + _RUN, n)
        for i in range(s + 1, e):
            t = src[i]
            j = i
            while j > s and lt(t, src[j - 1]):
                src[j] = src[j - 1]
                j -= 1
            src[j] = t
    dst = np.empty(n, dtype=v.dtype)
    width = _RUN
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if lt(src[j], src[i]):
                    dst[k] = src[j]
                    j += 1
                else:
                    dst[k] = src[i]
                    i += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
        src, dst = dst, src
        width *= 2
    for i in range(n):
        out[i] = src[i]

