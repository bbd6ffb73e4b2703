"""Compiled helpers of the linear-algebra kernels (dispatch/slinalg.py).

Flags (lower, trans, ...) are passed as ``np.int64(...)``, never as constants:
numba compiles a separate specialisation for every combination of literal
arguments.

Each helper works on one matrix of a stack: kernels loop over the batch and pass
2-d views sliced ``x[::1, ::1]`` (any layout), so every helper is compiled and
cached once per dtype. Right-hand sides are always 2-d (a vector comes as an
(n, 1) view).

What numba's np.linalg offers (LAPACK's getrf/getrs and potrf) is used for
Cholesky factors and general solves; triangular solves, the pivoted LU (pivots
chosen as LAPACK chooses them: largest |re| + |im|, first on ties) and the
matrix exponential with its Fréchet derivative are loops here. Where SciPy
checks its inputs for infs and NaNs (check_finite) these helpers raise too, so
the linker re-runs the node on the interpreter and the user sees SciPy's error.
"""

from __future__ import annotations

import numba
import numpy as np

from backends.numba.dispatch.dotlib import mm

_OPTS = dict(cache=True, nogil=True, error_model="numpy")


@numba.njit(**_OPTS)
def check_finite(x):
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            v = x[i, j]
            if not np.isfinite(v.real) or not np.isfinite(v.imag):
                raise ValueError("array must not contain infs or NaNs")


@numba.njit(**_OPTS)
def cabs1(v):
    """LAPACK's pivot size: |re| + |im| (|x| for reals)."""
    return abs(v.real) + abs(v.imag)


# ----------------------------------------------------------------------- Cholesky

@numba.njit(**_OPTS)
def cholesky_into(a, lower, out):
    """The lower (a = L Lᴴ) or upper (a = Uᴴ U) factor of ``a``, reading only that
    triangle (numba's potrf reads the lower one; the upper case factors aᴴ)."""
    if a.shape[0] == 0:
        return
    if lower:
        out[:, :] = np.linalg.cholesky(np.ascontiguousarray(a))
    else:
        f = np.linalg.cholesky(np.ascontiguousarray(np.conj(a.T)))
        out[:, :] = np.conj(f.T)


# ----------------------------------------------------------------------- triangular

@numba.njit(**_OPTS)
def _op_at(a, i, j, trans):
    if trans == 0:
        return a[i, j]
    if trans == 1:
        return a[j, i]
    return np.conj(a[j, i])


@numba.njit(**_OPTS)
def trsolve(a, x, lower, trans, unit, check):
    """Solve op(a) y = x in place (x is (n, k)), reading only the ``lower`` (or upper)
    triangle of ``a`` (its diagonal taken as ones when ``unit``). op: 0 a, 1 aᵀ,
    2 aᴴ. A zero on the diagonal raises when ``check`` (trtrs), else gives inf/nan
    (getrs, potrs)."""
    n, k = x.shape
    op_lower = (lower != 0) if trans == 0 else (lower == 0)
    for step in range(n):
        i = step if op_lower else n - 1 - step
        if op_lower:
            lo, hi = 0, i
        else:
            lo, hi = i + 1, n
        for j in range(lo, hi):
            f = _op_at(a, i, j, trans)
            if f != 0:
                for c in range(k):
                    x[i, c] -= f * x[j, c]
        if not unit:
            d = _op_at(a, i, i, trans)
            if check and d == 0:
                raise ValueError("solve_triangular: singular matrix (a zero on the "
                                 "diagonal)")
            for c in range(k):
                x[i, c] = x[i, c] / d


@numba.njit(**_OPTS)
def solve_triangular_into(a, b, lower, trans, unit, out):
    check_finite(a)
    check_finite(b)
    out[:, :] = b
    trsolve(a, out, lower, trans, unit, np.int64(1))


@numba.njit(**_OPTS)
def cho_solve_into(c, b, lower, out):
    """(c cᴴ) x = b for lower c, (cᴴ c) x = b for upper c (potrs: no singularity check)."""
    check_finite(c)
    check_finite(b)
    out[:, :] = b
    if lower:
        trsolve(c, out, np.int64(1), np.int64(0), np.int64(0), np.int64(0))
        trsolve(c, out, np.int64(1), np.int64(2), np.int64(0), np.int64(0))
    else:
        trsolve(c, out, np.int64(0), np.int64(2), np.int64(0), np.int64(0))
        trsolve(c, out, np.int64(0), np.int64(0), np.int64(0), np.int64(0))


# ----------------------------------------------------------------------- solve

@numba.njit(**_OPTS)
def _from_triangle(a, lower, hermitian):
    """The full matrix a solver for symmetric/Hermitian matrices sees in ``a``."""
    n = a.shape[0]
    full = np.empty((n, n), dtype=a.dtype)
    for i in range(n):
        for j in range(n):
            if i == j:
                full[i, i] = a[i, i].real if hermitian else a[i, i]
            elif (i > j) == (lower != 0):
                full[i, j] = a[i, j]
            else:
                v = a[j, i]
                full[i, j] = np.conj(v) if hermitian else v
    return full


@numba.njit(**_OPTS)
def solve_into(a, b, assume, lower, out):
    """a x = b; assume 0 'gen', 1 'sym', 2 'her', 3 'pos' (Cholesky)."""
    if a.shape[0] == 0:
        return
    if assume == 0:
        full = np.ascontiguousarray(a)
    else:
        full = _from_triangle(a, lower, assume >= 2)
    if assume == 3:
        check_finite(b)
        f = np.linalg.cholesky(full)
        out[:, :] = b
        trsolve(f[::1, ::1], out, np.int64(1), np.int64(0), np.int64(0), np.int64(1))
        trsolve(f[::1, ::1], out, np.int64(1), np.int64(2), np.int64(0), np.int64(1))
    else:
        out[:, :] = np.linalg.solve(full, np.ascontiguousarray(b))


# ----------------------------------------------------------------------- LU

@numba.njit(**_OPTS)
def getrf(a, piv):
    """LU with partial pivoting in place on ``a`` (m, n); piv[j] is the row swapped
    with row j (0-based). Zero pivots are skipped, as LAPACK does."""
    m, n = a.shape
    for j in range(min(m, n)):
        p = j
        best = cabs1(a[j, j])
        for i in range(j + 1, m):
            v = cabs1(a[i, j])
            if v > best:
                best, p = v, i
        piv[j] = p
        if a[p, j] != 0:
            if p != j:
                for c in range(n):
                    a[j, c], a[p, c] = a[p, c], a[j, c]
            r = 1 / a[j, j]
            for i in range(j + 1, m):
                a[i, j] *= r
        for i in range(j + 1, m):
            f = a[i, j]
            if f != 0:
                for c in range(j + 1, n):
                    a[i, c] -= f * a[j, c]


@numba.njit(**_OPTS)
def lu_factor_into(a, lu, piv):
    check_finite(a)
    lu[:, :] = a
    getrf(lu, piv)


@numba.njit(**_OPTS)
def row_order(piv, m):
    """perm with a[perm] = l @ u, from the row swaps ``piv``."""
    perm = np.arange(m)
    for i in range(piv.shape[0]):
        j = piv[i]
        if j < 0 or j >= m:
            raise ValueError("pivot out of range")
        perm[i], perm[j] = perm[j], perm[i]
    return perm


@numba.njit(**_OPTS)
def pivots_into(piv, inverse, out):
    perm = row_order(piv, piv.shape[0])
    if inverse:
        for i in range(perm.shape[0]):
            out[perm[i]] = i
    else:
        out[:] = perm


@numba.njit(**_OPTS)
def lu_into(a, permute_l, l_out, u_out):
    """scipy.linalg.lu: fills l_out (p @ l with ``permute_l``) and u_out and returns
    p as row indices (a = l[p] @ u)."""
    check_finite(a)
    m, n = a.shape
    k = min(m, n)
    f = np.ascontiguousarray(a).copy()
    piv = np.empty(k, dtype=np.int64)
    getrf(f[::1, ::1], piv)
    perm = row_order(piv, m)
    p = np.empty(m, dtype=np.int64)
    for i in range(m):
        p[perm[i]] = i
    for i in range(m):
        row = perm[i] if permute_l else i    # row i of l is row perm[i] of p @ l
        for j in range(k):
            if j < i:
                l_out[row, j] = f[i, j]
            elif j == i:
                l_out[row, j] = 1
            else:
                l_out[row, j] = 0
    for i in range(k):
        for j in range(n):
            u_out[i, j] = f[i, j] if j >= i else 0
    return p


@numba.njit(**_OPTS)
def lu_solve_into(lu, piv, b, trans, out):
    """getrs: a x = b (0), aᵀ x = b (1), aᴴ x = b (2) with a = P L U from lu_factor."""
    check_finite(lu)
    check_finite(b)
    n = lu.shape[0]
    for i in range(piv.shape[0]):
        if piv[i] < 0 or piv[i] >= n:
            raise ValueError("lu_solve: pivot out of range")
    out[:, :] = b
    k = out.shape[1]
    if trans == 0:
        for i in range(n):
            j = piv[i]
            if j != i:
                for c in range(k):
                    out[i, c], out[j, c] = out[j, c], out[i, c]
        trsolve(lu, out, np.int64(1), np.int64(0), np.int64(1), np.int64(0))
        trsolve(lu, out, np.int64(0), np.int64(0), np.int64(0), np.int64(0))
    else:
        trsolve(lu, out, np.int64(0), trans, np.int64(0), np.int64(0))
        trsolve(lu, out, np.int64(1), trans, np.int64(1), np.int64(0))
        for i in range(n - 1, -1, -1):
            j = piv[i]
            if j != i:
                for c in range(k):
                    out[i, c], out[j, c] = out[j, c], out[i, c]


# ----------------------------------------------------------------------- expm

# Padé coefficients b_0..b_m of degree m (Higham 2005)
_B3 = np.array([120., 60., 12., 1.])
_B5 = np.array([30240., 15120., 3360., 420., 30., 1.])
_B7 = np.array([17297280., 8648640., 1995840., 277200., 25200., 1512., 56., 1.])
_B9 = np.array([17643225600., 8821612800., 2075673600., 302702400., 30270240., 2162160.,
                110880., 3960., 90., 1.])
_B13 = np.array([64764752532480000., 32382376266240000., 7771770303897600.,
                 1187353796428800., 129060195264000., 10559470521600., 670442572800.,
                 33522128640., 1323241920., 40840800., 960960., 16380., 182., 1.])
# the largest 1-norms for which degrees 3, 5, 7, 9, 13 are accurate to double precision:
# for expm (Higham 2005) and for expm with its Fréchet derivative (Al-Mohy & Higham 2009)
_THETA = np.array([1.495585217958292e-2, 2.539398330063230e-1, 9.504178996162932e-1,
                   2.097847961257068e0, 5.371920351148152e0])
_ELL = np.array([1.08e-2, 2.00e-1, 7.83e-1, 1.78e0, 4.74e0])


@numba.njit(**_OPTS)
def _norm1(a):
    n = a.shape[0]
    best = 0.0
    for j in range(n):
        s = 0.0
        for i in range(n):
            s += abs(a[i, j])
        if s > best or s != s:
            best = s
    return best


@numba.njit(**_OPTS)
def _prod(a, b):
    out = np.empty(a.shape, dtype=a.dtype)
    mm(a[::1, ::1], b[::1, ::1], out)
    return out


@numba.njit(**_OPTS)
def _coefficients(m):
    return _B3 if m == 3 else _B5 if m == 5 else _B7 if m == 7 else _B9 if m == 9 else _B13


@numba.njit(**_OPTS)
def _degree(nrm, limits):
    """(Padé degree, number of squarings) for a matrix of 1-norm ``nrm``."""
    for k, m in enumerate((3, 5, 7, 9)):
        if nrm <= limits[k]:
            return m, 0
    return 13, max(0, int(np.ceil(np.log2(nrm / limits[4]))))


# The helpers come in two sets: expm alone, and expm with its Fréchet derivative, so
# that a kernel links (and LLVM re-optimizes) only the code it needs; products sit
# in loops rather than unrolled, for the same reason.

@numba.njit(**_OPTS)
def _pade(A, m):
    """U, V of the degree-m Padé approximant (V - U)⁻¹ (V + U) of expm(A):
    U = A Σ b_(2j+1) A^2j, V = Σ b_2j A^2j, with 13 evaluated as Higham does
    (A^8 and higher through A^6 products)."""
    b = _coefficients(m)
    eye = np.eye(A.shape[0], dtype=A.dtype)
    A2 = _prod(A, A)
    if m < 13:
        P = A2  # A^2j, from j = 1 (no product with the identity)
        odd, even = b[1] * eye, b[0] * eye
        for j in range(1, (m - 1) // 2 + 1):
            if j > 1:
                P = _prod(P, A2)
            odd += b[2 * j + 1] * P
            even += b[2 * j] * P
        return _prod(A, odd), even
    A4 = _prod(A2, A2)
    A6 = _prod(A2, A4)
    W = _prod(A6, b[13] * A6 + b[11] * A4 + b[9] * A2) \
        + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye
    V = _prod(A6, b[12] * A6 + b[10] * A4 + b[8] * A2) \
        + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye
    return _prod(A, W), V


@numba.njit(**_OPTS)
def _expm(A):
    """expm of a float64 or complex128 C-contiguous matrix: scaling and squaring
    (Higham 2005: degree from the 1-norm, 2^-s scaling for degree 13)."""
    nrm = _norm1(A)
    if not np.isfinite(nrm):
        return np.full(A.shape, np.nan).astype(A.dtype)
    m, s = _degree(nrm, _THETA)
    U, V = _pade(A * 2.0 ** -s, m)
    R = np.linalg.solve(V - U, V + U)
    for _ in range(s):
        R = _prod(R, R)
    return R


@numba.njit(**_OPTS)
def expm_into(A, out):
    """out = expm(A); A is a float64 or complex128 C-contiguous copy (float32 data is
    computed in double precision and rounded on storing)."""
    if A.shape[0] == 0:
        return
    R = _expm(A)
    for i in range(R.shape[0]):
        for j in range(R.shape[1]):
            out[i, j] = R[i, j]


@numba.njit(**_OPTS)
def _pade_frechet(A, E, m):
    """U, V and their derivatives L_U, L_V along E (Al-Mohy & Higham 2009): with
    P_j = A^2j and M_j its derivative (M_j = M_(j-1) A² + P_(j-1) M_1),
    L_U = A Σ b_(2j+1) M_j + E Σ b_(2j+1) P_j and L_V = Σ b_2j M_j."""
    b = _coefficients(m)
    eye = np.eye(A.shape[0], dtype=A.dtype)
    A2 = _prod(A, A)
    M2 = _prod(A, E) + _prod(E, A)
    if m < 13:
        P, M = A2, M2  # j = 1 without products with the identity and zeros
        odd, even = b[1] * eye, b[0] * eye
        dodd, LV = np.zeros_like(A), np.zeros_like(A)
        for j in range(1, (m - 1) // 2 + 1):
            if j > 1:
                M = _prod(M, A2) + _prod(P, M2)
                P = _prod(P, A2)
            odd += b[2 * j + 1] * P
            even += b[2 * j] * P
            dodd += b[2 * j + 1] * M
            LV += b[2 * j] * M
        return _prod(A, odd), even, _prod(A, dodd) + _prod(E, odd), LV
    A4 = _prod(A2, A2)
    A6 = _prod(A2, A4)
    M4 = _prod(A2, M2) + _prod(M2, A2)
    M6 = _prod(A4, M2) + _prod(M4, A2)
    W1 = b[13] * A6 + b[11] * A4 + b[9] * A2
    Z1 = b[12] * A6 + b[10] * A4 + b[8] * A2
    W = _prod(A6, W1) + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye
    V = _prod(A6, Z1) + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye
    LW = _prod(A6, b[13] * M6 + b[11] * M4 + b[9] * M2) + _prod(M6, W1) \
        + b[7] * M6 + b[5] * M4 + b[3] * M2
    LV = _prod(A6, b[12] * M6 + b[10] * M4 + b[8] * M2) + _prod(M6, Z1) \
        + b[6] * M6 + b[4] * M4 + b[2] * M2
    return _prod(A, W), V, _prod(A, LW) + _prod(E, W), LV


@numba.njit(**_OPTS)
def _frechet(A, E):
    """L(A, E), the Fréchet derivative of expm at A along E, by scaling and squaring:
    R = (V-U)⁻¹(V+U), (V-U) L = L_U + L_V + (L_U - L_V) R, then s times
    L <- R L + L R, R <- R²."""
    nrm = _norm1(A)
    if not np.isfinite(nrm):
        return np.full(A.shape, np.nan).astype(A.dtype)
    m, s = _degree(nrm, _ELL)
    scale = 2.0 ** -s
    U, V, LU, LV = _pade_frechet(A * scale, E * scale, m)
    Q = V - U
    R = np.linalg.solve(Q, V + U)
    L = np.linalg.solve(Q, LU + LV + _prod(LU - LV, R))
    for _ in range(s):
        L = _prod(R, L) + _prod(L, R)
        R = _prod(R, R)
    return L


@numba.njit(**_OPTS)
def expm_frechet_into(A, E, out):
    """out = L(A, E), the Fréchet derivative of expm (A, E as for expm_into)."""
    if A.shape[0] == 0:
        return
    L = _frechet(A, E)
    for i in range(L.shape[0]):
        for j in range(L.shape[1]):
            out[i, j] = L[i, j]


# ----------------------------------------------------------------------- objmode

def _lyapunov_py(a, q, out):
    import scipy.linalg
    out[...] = scipy.linalg.solve_continuous_lyapunov(a, q)


@numba.njit(cache=True)
def lyapunov_into(a, q, out):
    """scipy.linalg.solve_continuous_lyapunov in object mode (Bartels–Stewart needs a
    Schur form, which numba lacks); ``out`` is filled in place. Compiled without
    nogil, where numba would warn about the object-mode block."""
    with numba.objmode():
        _lyapunov_py(a, q, out)
