"""Compiled helpers of the nlinalg kernels (dispatch/nlinalg.py), for one 2-d matrix.

numba's own np.linalg covers inv, det, slogdet and pinv as NumPy computes them.
Where its versions differ from NumPy's, these helpers call the same LAPACK
routines NumPy calls (through numba's LAPACK bindings): eig of a real matrix
returns NumPy's complex values (numba refuses complex eigenvalues of real
input), eigh/eigvalsh honour UPLO, qr has every mode, and svd/qr accept empty
matrices. Each routine works on a fresh Fortran-ordered copy, as LAPACK
overwrites its input.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import overload
from numba.np.linalg import _LAPACK, _dummy_liveness_func, ensure_lapack, get_blas_kind
from numba.np.numpy_support import as_dtype

from backends.numba.dispatch.dotlib import mm

_OPTS = dict(cache=True, nogil=True, error_model="numpy")


@numba.njit(**_OPTS)
def all_finite(x):
    for v in x.flat:
        if not np.isfinite(v):
            return False
    return True


@numba.njit(**_OPTS)
def fcopy(a):
    """A fresh Fortran-ordered copy of the 2-d ``a``."""
    out = np.empty((a.shape[1], a.shape[0]), dtype=a.dtype).T
    out[:, :] = a
    return out


@numba.njit(**_OPTS)
def check_info(r):
    if r < 0:
        raise ValueError("LAPACK was called with an invalid argument")
    if r > 0:
        raise np.linalg.LinAlgError("the LAPACK routine did not converge")


def _complex_of(dt):
    return np.complex64 if dt in (types.float32, types.complex64) else np.complex128


# ----------------------------------------------------------------------- eig

def eig(a):
    """(w, v) of a general square matrix, complex, with NumPy's values and order."""
    raise NotImplementedError("only callable from compiled code")


@overload(eig, jit_options=dict(nogil=True))
def _ol_eig(a):
    ensure_lapack()
    if isinstance(a.dtype, types.Complex):
        return lambda a: np.linalg.eig(a)
    rgeev = _LAPACK().numba_ez_rgeev(a.dtype)
    kind = ord(get_blas_kind(a.dtype, "eig"))
    cdt = _complex_of(a.dtype)
    rdt = as_dtype(a.dtype)

    def impl(a):
        n = a.shape[0]
        w = np.empty(n, dtype=cdt)
        v = np.empty((n, n), dtype=cdt)
        if n == 0:
            return w, v
        acpy = fcopy(a)
        wr = np.empty(n, dtype=rdt)
        wi = np.empty(n, dtype=rdt)
        vl = np.empty((n, 1), dtype=rdt)
        vr = np.empty((n, n), dtype=rdt)  # row i is eigenvector i (Fortran column)
        r = rgeev(kind, ord("N"), ord("V"), n, acpy.ctypes, n, wr.ctypes, wi.ctypes,
                  vl.ctypes, 1, vr.ctypes, n)
        check_info(r)
        i = 0
        while i < n:
            if wi[i] == 0:
                w[i] = wr[i]
                for j in range(n):
                    v[j, i] = vr[i, j]
                i += 1
            else:
                # a conjugate pair: vr rows i and i+1 hold the real and imaginary parts
                w[i] = complex(wr[i], wi[i])
                w[i + 1] = complex(wr[i + 1], wi[i + 1])
                for j in range(n):
                    v[j, i] = complex(vr[i, j], vr[i + 1, j])
                    v[j, i + 1] = complex(vr[i, j], -vr[i + 1, j])
                i += 2
        _dummy_liveness_func([acpy.size, wr.size, wi.size, vl.size, vr.size])
        return w, v
    return impl


# ----------------------------------------------------------------------- eigh

def eigh(a, lower, vectors):
    """(w, v) of the Hermitian matrix held in a's lower (``lower``) or upper triangle;
    v is empty unless ``vectors``."""
    raise NotImplementedError("only callable from compiled code")


@overload(eigh, jit_options=dict(nogil=True))
def _ol_eigh(a, lower, vectors):
    ensure_lapack()
    evd = _LAPACK().numba_ez_xxxevd(a.dtype)
    kind = ord(get_blas_kind(a.dtype, "eigh"))
    wdt = as_dtype(getattr(a.dtype, "underlying_float", a.dtype))

    def impl(a, lower, vectors):
        n = a.shape[0]
        acpy = fcopy(a)
        w = np.empty(n, dtype=wdt)
        if n == 0:
            return w, acpy
        r = evd(kind, ord("V") if vectors else ord("N"), ord("L") if lower else ord("U"), n,
                acpy.ctypes, n, w.ctypes)
        check_info(r)
        _dummy_liveness_func([acpy.size, w.size])
        return w, acpy
    return impl


# ----------------------------------------------------------------------- svd

@numba.njit(**_OPTS)
def _eye(n, like):
    out = np.zeros((n, n), dtype=like.dtype)
    for i in range(n):
        out[i, i] = 1
    return out


@numba.njit(**_OPTS)
def _set_eye(out):
    out[:, :] = 0
    for i in range(min(out.shape[0], out.shape[1])):
        out[i, i] = 1


@numba.njit(**_OPTS)
def svd_into(a, full, u, s, vh):
    """NumPy's svd(a, full_matrices=full) written into u, s, vh; empty matrices included
    (their full U and Vh are identities)."""
    m, n = a.shape
    if m == 0 or n == 0:
        if full:
            _set_eye(u)
            _set_eye(vh)
        return
    uu, ss, vv = np.linalg.svd(a, full)
    u[:, :] = uu
    s[:] = ss
    vh[:, :] = vv


@numba.njit(**_OPTS)
def svdvals_into(a, s):
    if a.shape[0] > 0 and a.shape[1] > 0:
        _, ss, _ = np.linalg.svd(a, False)
        s[:] = ss


# ----------------------------------------------------------------------- qr

def qr_into(a, complete, want_q, q, r):
    """NumPy's qr written into ``r`` and (``want_q``) ``q``: ``complete`` selects
    mode 'complete' (q is (m, m), r (m, n)), else 'reduced' or 'r' (k = min(m, n) rows)."""
    raise NotImplementedError("only callable from compiled code")


@overload(qr_into, jit_options=dict(nogil=True))
def _ol_qr_into(a, complete, want_q, q, r):
    ensure_lapack()
    geqrf = _LAPACK().numba_ez_geqrf(a.dtype)
    gqr = _LAPACK().numba_ez_xxgqr(a.dtype)
    kind = ord(get_blas_kind(a.dtype, "qr"))
    dt = as_dtype(a.dtype)

    def impl(a, complete, want_q, q, r):
        m, n = a.shape
        k = min(m, n)
        f = fcopy(a)
        tau = np.empty(max(k, 1), dtype=dt)
        if k > 0:
            info = geqrf(kind, m, n, f.ctypes, m, tau.ctypes)
            check_info(info)
        r[:, :] = 0
        for i in range(min(r.shape[0], k)):
            for j in range(i, n):
                r[i, j] = f[i, j]
        if not want_q:
            return
        cols = m if complete else k
        qf = np.zeros((cols, m), dtype=dt).T  # Fortran order (m, cols)
        for j in range(min(cols, n)):
            for i in range(m):
                qf[i, j] = f[i, j]
        if cols > 0:
            info = gqr(kind, m, cols, k, qf.ctypes, m, tau.ctypes)
            check_info(info)
        q[:, :] = qf
        _dummy_liveness_func([f.size, tau.size, qf.size])
    return impl


# ----------------------------------------------------------------------- matrix power

@numba.njit(**_OPTS)
def _product(a, b):
    out = np.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
    mm(a, b, out)
    return out


@numba.njit(**_OPTS)
def matrix_power(a, p):
    """a ** p for p >= 0 with numpy.linalg.matrix_power's order of products."""
    n = a.shape[0]
    if p == 0:
        return _eye(n, a)
    if p == 1:
        return a.copy()
    if p == 2:
        return _product(a, a)
    if p == 3:
        return _product(_product(a, a), a)
    z = a.copy()
    result = a.copy()
    have_z = False
    have_result = False
    while p > 0:
        if have_z:
            z = _product(z, z)
        have_z = True
        bit = p % 2
        p //= 2
        if bit:
            if have_result:
                result = _product(result, z)
            else:
                result = z.copy()
                have_result = True
    return result
