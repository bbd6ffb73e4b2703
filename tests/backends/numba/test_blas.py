"""The numba Gemm kernel (backends/numba/dispatch/dot.py) and its helper ``dotlib.gemm``.
Always compiled with mode="numba"; tests/tensor/test_blas.py covers the values on both
backends. Here: the BLAS call's arguments bit for bit against SciPy's gemm called with
the same ones, the small-product loop's order, operand layouts and read-only inputs,
z never written, and shape errors raised in native code."""

from functools import partial

import numba
import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from backends.numba.dispatch import dotlib, kernel_for
from symgraph.compile.mode import Mode
from symgraph.graph.utils import ShapeError
from symgraph.tensor.blas import gemm
from tests.backends.numba import utils as nb
from tests.backends.numba.test_dotlib import _random, _views

NUMBA = Mode("numba", optimizer=None)  # no rewrite: the graph keeps the nodes under test
PY = Mode("py", optimizer=None)

compile_both = partial(nb.compile_both, mode=NUMBA, ref_mode=PY)
check_same = nb.check_same


@numba.njit
def _gemm(z, alpha, x, y, beta, out):
    dotlib.gemm(z[::1, ::1], alpha, x[::1, ::1], y[::1, ::1], beta, out)


def _blas_reference(z, alpha, x, y, beta):
    """SciPy's gemm with the arguments gemm passes for a C-contiguous out: BLAS is
    column-major, so out.T = alpha * y.T @ x.T + beta * z.T, an F-ordered (n, m)
    matrix; an operand neither C- nor F-contiguous is first copied to C order."""
    from scipy.linalg import blas

    def as_fortran(v):  # (v's memory as a Fortran matrix, whether BLAS transposes it)
        if v.flags.f_contiguous and not v.flags.c_contiguous:
            return v, 1
        return np.ascontiguousarray(v).T, 0

    (fy, ty), (fx, tx) = as_fortran(y), as_fortran(x)
    routine = blas.get_blas_funcs("gemm", (x,))
    return routine(alpha, fy, fx, beta=beta, c=np.ascontiguousarray(z).T, trans_a=ty,
                   trans_b=tx).T


def test_kernel_native_and_shared():
    for dtype in ("float32", "float64", "complex64", "complex128"):
        z, x, y = (T.tensor(dtype, shape=(None, None)) for _ in range(3))
        k = kernel_for(gemm(z, 1, x, y, 1).owner)
        assert not k.runtime_globals and k.uncacheable is None
    # equal nodes in different graphs share one kernel: the source names no variable
    a, b = (kernel_for(gemm(T.dmatrix(), 1.0, T.dmatrix(), T.dmatrix(), 1.0).owner)
            for _ in "ab")
    assert a.key == b.key


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_blas_call_is_scipy_gemm_bit_for_bit(rng, dtype):
    """Every layout pair of x and y (C, F, strided) and alpha, beta as given."""
    for m, k, n in [(40, 50, 60), (3, 2000, 4), (1, 300, 70), (70, 300, 1)]:
        z = _random(rng, (m, n), dtype)
        x_views, y_views = _views(_random(rng, (m, k), dtype)), _views(_random(rng, (k, n), dtype))
        for alpha, beta in [(1, 1), (-0.5, 2), (1.5, 0)]:
            for lx, x in x_views.items():
                for ly, y in y_views.items():
                    out = np.full((m, n), np.nan, dtype=dtype)
                    _gemm(z, alpha, x, y, beta, out)
                    want = _blas_reference(z, alpha, x, y, beta)
                    assert out.tobytes() == np.ascontiguousarray(want).tobytes(), \
                        (m, k, n, lx, ly, alpha, beta)


def test_small_products_keep_the_loops_order(rng):
    z, x, y = rng.normal(size=(7, 10)), rng.normal(size=(7, 9)), rng.normal(size=(9, 10))
    for alpha, beta in [(1.0, 1.0), (-2.0, 0.5), (3.0, 0.0)]:
        want = beta * z if beta not in (0, 1) else z.copy() if beta else np.zeros_like(z)
        for p in range(9):  # out[i, :] += (alpha * x[i, p]) * y[p, :], p in order
            want += (alpha * x[:, p:p + 1]) * y[p]
        for zv in _views(z).values():
            for xv in _views(x).values():
                out = np.empty((7, 10))
                _gemm(zv, alpha, xv, y[::-1][::-1], beta, out)
                assert out.tobytes() == want.tobytes()


def test_beta_zero_does_not_read_z(rng):
    for m, k, n in [(4, 5, 6), (40, 50, 60)]:  # the loop and BLAS
        x, y = rng.normal(size=(m, k)), rng.normal(size=(k, n))
        out = np.empty((m, n))
        _gemm(np.full((m, n), np.nan), 2.0, x, y, 0.0, out)
        np.testing.assert_allclose(out, 2 * (x @ y), rtol=1e-12)


def test_alpha_zero_reads_x_and_y(rng):
    """BLAS would skip the product: alpha = 0 is the loop, where 0 * inf is NaN."""
    for m, k, n in [(4, 5, 6), (40, 50, 60)]:
        x, y, z = rng.normal(size=(m, k)), rng.normal(size=(k, n)), rng.normal(size=(m, n))
        x[1, 2] = np.inf
        out = np.empty((m, n))
        _gemm(z, 0.0, x, y, 1.0, out)
        assert np.isnan(out[1]).all()
        np.testing.assert_array_equal(np.delete(out, 1, axis=0), np.delete(z, 1, axis=0))


def test_helper_refuses_disagreeing_shapes(rng):
    x, y = rng.normal(size=(40, 50)), rng.normal(size=(50, 60))
    for z, out in [(np.zeros((40, 61)), np.empty((40, 60))),
                   (np.zeros((40, 60)), np.empty((41, 60)))]:
        with pytest.raises(ValueError, match="shapes"):
            _gemm(z, 1.0, x, y, 1.0, out)


def test_layouts_read_only_and_z_kept(rng):
    z, x, y = T.dmatrix("z"), T.dmatrix("x"), T.dmatrix("y")
    a = T.dscalar("a")
    f, ref = compile_both([z, a, x, y], [gemm(z, a, x, y, 1.0), gemm(z.T, 2.0, y.T, x.T, a)])
    for size in (5, 30):  # the loop, and BLAS
        Z, X, Y = (rng.normal(size=(size, size)) for _ in range(3))
        big = rng.normal(size=(2 * size, 2 * size))
        for args in [(Z, X, Y), (np.asfortranarray(Z), X.T, big[::2, 1::2]),
                     (big[1::2, ::2], np.asfortranarray(X), Y[::-1])]:
            ro = [v.copy(order="K") for v in args]
            for v in ro:
                v.setflags(write=False)
            kept = [v.copy() for v in ro]
            check_same(f, ref, ro[0], np.float64(-1.5), ro[1], ro[2])
            for v, w in zip(ro, kept):
                np.testing.assert_array_equal(v, w)  # z (and x, y) are never written


def test_constant_z_is_copied(rng):
    Z = rng.normal(size=(3, 3))
    x = T.dmatrix("x")
    f, ref = compile_both([x], gemm(T.constant(Z), 1.0, x, x, 1.0))
    X = rng.normal(size=(3, 3))
    got = check_same(f, ref, X)
    got[...] = 0  # the output is the caller's: writing it leaves the constant alone
    np.testing.assert_allclose(f(X), Z + X @ X)


def test_shape_errors_raise_in_native_code_and_name_the_node():
    z, x, y = T.dmatrix("z"), T.dmatrix("x"), T.dmatrix("y")
    a = T.dscalar("a")
    f = sg.function([z, a, x, y], gemm(z, a, x, y, a), mode=NUMBA)
    ok = np.zeros((2, 2))
    f(ok, 1.0, ok, ok)
    for args, match in [((ok, 1.0, np.zeros((2, 3)), ok), "not aligned"),
                        ((np.zeros((1, 2)), 1.0, ok, ok), "z must have the product's shape")]:
        with pytest.raises(ValueError):
            f._thunk.jitted(*args)  # the kernel itself refuses
        with pytest.raises(ShapeError, match=match):
            f(*args)

