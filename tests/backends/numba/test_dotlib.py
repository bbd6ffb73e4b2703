"""The compiled product helper ``dotlib.mm`` (backends/numba/dispatch/dotlib.py), bit
for bit: a BLAS-sized float or complex product must call the routine numba's
np.dot(a, b, out) calls on the same layouts (gemm; gemv or dot for a row or column
vector) with the same arguments, so each case is checked against SciPy's wrapper of
that routine called with those arguments; small products against the loop's order
of operations; integers and bools against NumPy. The operands reach mm as 'A'
arrays, as the kernels pass them (x[::1, ::1]), so that the layout is decided at
run time: one compiled specialisation per dtype."""

import numba
import numpy as np
import pytest

from backends.numba.dispatch import dotlib


@numba.njit
def _mm(a, b, out):
    dotlib.mm(a[::1, ::1], b[::1, ::1], out)


def _layout(x):
    """What mm makes of an operand: 'F' when F- but not C-contiguous, 'C' when
    C-contiguous, else a C-contiguous copy."""
    if x.flags.f_contiguous and not x.flags.c_contiguous:
        return x, "F"
    return np.ascontiguousarray(x), "C"


def _blas_reference(a, b):
    """numba's np.dot(a, b, out) for a C-contiguous out, through SciPy's wrappers of
    the same BLAS routines with the same arguments (out is computed transposed, as
    a Fortran (n, m) matrix)."""
    from scipy.linalg import blas

    m, n = a.shape[0], b.shape[1]
    (a, la), (b, lb) = _layout(a), _layout(b)
    fa = a.T if la == "C" else a  # a's memory as a Fortran matrix
    fb = b.T if lb == "C" else b
    if m == 1 and n == 1:
        dotu = blas.get_blas_funcs("dotu" if a.dtype.kind == "c" else "dot", (a,))
        return np.array(dotu(a.reshape(-1), b.reshape(-1)), dtype=a.dtype).reshape(1, 1)
    if n == 1:  # matrix a times vector b
        gemv = blas.get_blas_funcs("gemv", (a,))
        return gemv(1, fa, b.reshape(-1), trans=int(la == "C")).reshape(m, 1)
    if m == 1:  # vector a times matrix b
        gemv = blas.get_blas_funcs("gemv", (a,))
        return gemv(1, fb, a.reshape(-1), trans=int(lb == "F")).reshape(1, n)
    gemm = blas.get_blas_funcs("gemm", (a,))
    return gemm(1, fb, fa, trans_a=int(lb == "F"), trans_b=int(la == "F")).T


def _random(rng, shape, dtype):
    x = rng.normal(size=shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.normal(size=shape)
    return x.astype(dtype)


def _views(x):
    """x as C-, F-contiguous and strided (neither) arrays of the same values."""
    wide = np.zeros((x.shape[0], 2 * x.shape[1]), x.dtype)
    wide[:, ::2] = x
    return {"C": x, "F": np.asfortranarray(x), "S": wide[:, ::2]}


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_blas_products_are_numba_np_dot_bit_for_bit(rng, dtype):
    shapes = [(40, 50, 60), (3, 2000, 4), (1, 300, 70), (70, 300, 1), (1, 5000, 1),
              (50, 1, 100)]
    for m, k, n in shapes:
        a_views = _views(_random(rng, (m, k), dtype))
        b_views = _views(_random(rng, (k, n), dtype))
        for (la, a), (lb, b) in ((p, q) for p in a_views.items() for q in b_views.items()):
            out = np.full((m, n), np.nan, dtype=dtype)
            _mm(a, b, out)
            want = _blas_reference(a, b)
            assert out.tobytes() == np.ascontiguousarray(want).tobytes(), (m, k, n, la, lb)


def test_small_float_products_keep_the_loops_order(rng):
    a, b = rng.normal(size=(7, 10)), rng.normal(size=(10, 10))
    want = np.zeros((7, 10))
    for p in range(10):  # out[i, :] += a[i, p] * b[p, :], p in order
        want += a[:, p:p + 1] * b[p]
    for av in _views(a).values():
        for bv in _views(b).values():
            out = np.empty((7, 10))
            _mm(av, bv, out)
            assert out.tobytes() == want.tobytes()


def test_integer_and_bool_products_as_numpy(rng):
    """Integers wrap as NumPy's (its product is the same modulo 2**bits); bools are an
    OR of ANDs. A zero row of a skips its products."""
    for dtype in ("int8", "uint64", "bool"):
        if dtype == "bool":
            a, b = rng.random((5, 300)) < 0.02, rng.random((300, 6)) < 0.5
        else:
            info = np.iinfo(dtype)
            a = rng.integers(info.min, info.max, size=(5, 300), dtype=dtype, endpoint=True)
            b = rng.integers(info.min, info.max, size=(300, 6), dtype=dtype, endpoint=True)
        a[0] = 0
        for bv in (b, np.asfortranarray(b), b[::-1]):
            out = np.empty((5, 6), dtype=dtype)
            _mm(a, bv, out)
            np.testing.assert_array_equal(out, np.matmul(a, bv))


def test_blas_products_refuse_disagreeing_shapes(rng):
    a, b = rng.normal(size=(40, 50)), rng.normal(size=(50, 60))
    with pytest.raises(ValueError, match="shapes"):
        _mm(a, b, np.empty((40, 61)))
    with pytest.raises(ValueError, match="shapes"):
        _mm(a, rng.normal(size=(51, 60)), np.empty((40, 60)))
