"""The compiled product helper ``dotlib.mm`` (backends/numba/dispatch/dotlib.py), bit
for bit: a BLAS-sized float or complex product must call the routine numba's
np.dot(a, b, out) calls on the same layouts (gemm; gemv or dot for a row or column
vector) with the same arguments, so each case is checked against SciPy's wrapper of
that routine called with those arguments (numpy_twins/dot.py's ``blas_mm``, the
tiered mode's replay of mm); small products against the loop's order
of operations; integers and bools against NumPy. The operands reach mm as 'A'
arrays, as the kernels pass them (x[::1, ::1]), so that the layout is decided at
run time: one compiled specialisation per dtype."""

import numba
import numpy as np
import pytest

from backends.numba.dispatch import dotlib
from backends.numba.numpy_twins.dot import blas_mm


@numba.njit
def _mm(a, b, out):
    dotlib.mm(a[::1, ::1], b[::1, ::1], out)


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
            want = blas_mm(a, b)
            assert out.tobytes() == np.ascontiguousarray(want).tobytes(), (m, k, n, la, lb)


def test_small_float_products_keep_the_loops_order(rng):
    """Both loops (a sum per element; rows, for n >= 4k) add in p's order from 0."""
    for m, k, n in [(7, 10, 10), (10, 10, 1), (3, 2, 64)]:
        a, b = rng.normal(size=(m, k)), rng.normal(size=(k, n))
        a[0] = -0.0  # 0 + (-0.0) + ... is +0.0
        want = np.zeros((m, n))
        for p in range(k):  # out[i, :] += a[i, p] * b[p, :], p in order
            want += a[:, p:p + 1] * b[p]
        for av in _views(a).values():
            for bv in _views(b).values():
                out = np.empty((m, n))
                _mm(av, bv, out)
                assert out.tobytes() == want.tobytes(), (m, k, n)


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


@pytest.mark.parametrize("shape", [(3, 4, 5), (40, 30, 20)])  # a loop; BLAS
@pytest.mark.parametrize("beta", [0.0, 1.0, -0.5])
def test_gemm_into_z_itself_gives_gemm_into_a_new_array(rng, shape, beta):
    """The Scan kernel accumulates in place (dot.py's GemmInPlace): out is z, whose
    copy onto itself is skipped; the values are those of a fresh output."""
    m, k, n = shape
    z, x, y = rng.normal(size=(m, n)), rng.normal(size=(m, k)), rng.normal(size=(k, n))
    fresh = np.empty((m, n))
    dotlib.gemm(z, 0.7, x, y, beta, fresh)
    inplace = z.copy()
    dotlib.gemm(inplace, 0.7, x, y, beta, inplace)
    assert fresh.tobytes() == inplace.tobytes()
