"""Gradients (L_op) and forward derivatives (R_op) of the scipy.linalg ops, float64 and
complex128 (the gradient convention: dC/dRe z + i dC/dIm z).

Inputs are deliberately not symmetric where an op reads one triangle: the
gradients are those of the function computed, so finite differences on any input
must agree. Gradients of expm are in test_expm.py.
"""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import verify_grad
from symgraph.tensor import slinalg as S
from symgraph.tensor.type import TensorType
from tests.utils import assert_allclose

DTYPES = ["float64", "complex128"]


def rand(rng, shape, dtype="float64"):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return np.asarray(x, dtype=dtype)


def near_hpd(rng, n, dtype, batch=()):
    """A Hermitian positive definite matrix plus a small non-Hermitian part."""
    x = rand(rng, batch + (n, n), dtype)
    a = x @ np.conj(np.swapaxes(x, -1, -2)) + n * np.eye(n)
    return (a + 0.3 * rand(rng, batch + (n, n), dtype)).astype(dtype)


def check_rop(fun, pts, rng):
    """sg.Rop of ``fun`` along random tangents of every input against a central
    difference of ``fun`` along them."""
    xs = [TensorType(p.dtype, shape=(None,) * p.ndim)(f"x{k}") for k, p in enumerate(pts)]
    out = fun(*xs)
    ts = [x.type(f"t{k}") for k, x in enumerate(xs)]
    tans = [rand(rng, p.shape, p.dtype.name) for p in pts]
    got = sg.function(xs + ts, sg.Rop(out, xs, ts), on_unused_input="ignore")(*pts, *tans)
    f = sg.function(xs, out)
    eps = 1e-6
    plus = f(*[p + eps * t for p, t in zip(pts, tans)])
    minus = f(*[p - eps * t for p, t in zip(pts, tans)])
    want = (np.asarray(plus) - np.asarray(minus)) / (2 * eps)
    assert_allclose(got, want.astype(np.asarray(got).dtype), rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------- Cholesky

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lower", [True, False])
def test_cholesky_grad(dtype, lower):
    rng = np.random.default_rng(0)
    verify_grad(lambda a: T.cholesky(a, lower=lower), [near_hpd(rng, 3, dtype)], rng=rng,
                n_tests=1)


def test_cholesky_grad_of_symmetric_construction():
    """a = x xᵀ: the chain rule through the one-triangle gradient is x's true gradient."""
    rng = np.random.default_rng(1)
    x = rand(rng, (3, 3)) + 2 * np.eye(3)
    verify_grad(lambda x: T.cholesky(T.dot(x, x.T)), [x], rng=rng)


def test_cholesky_grad_batched():
    rng = np.random.default_rng(2)
    verify_grad(T.cholesky, [near_hpd(rng, 3, "complex128", batch=(2,))], rng=rng, n_tests=1)


# ----------------------------------------------------------------------- solvers

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("assume_a,lower", [("gen", False), ("sym", True), ("sym", False),
                                            ("her", True), ("pos", False)])
def test_solve_grad(dtype, assume_a, lower):
    rng = np.random.default_rng(3)
    a, b = near_hpd(rng, 3, dtype), rand(rng, (3, 2), dtype)
    verify_grad(lambda a, b: T.solve(a, b, assume_a=assume_a, lower=lower), [a, b], rng=rng,
                n_tests=1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_solve_grad_vector_and_broadcast(dtype):
    rng = np.random.default_rng(4)
    a = near_hpd(rng, 3, dtype, batch=(2,))
    verify_grad(lambda a, b: T.solve(a, b), [a, rand(rng, (3,), dtype)], rng=rng, n_tests=1)
    verify_grad(lambda a, b: T.solve(a, b, b_ndim=1), [a, rand(rng, (2, 3), dtype)], rng=rng,
                n_tests=1)
    verify_grad(lambda a, b: T.solve(a, b), [a[0], rand(rng, (2, 3, 2), dtype)], rng=rng,
                n_tests=1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("trans", [0, 1, 2])
def test_solve_triangular_grad(dtype, lower, trans):
    rng = np.random.default_rng(5)
    a, b = near_hpd(rng, 3, dtype), rand(rng, (3, 2), dtype)
    for unit in (False, True):
        verify_grad(lambda a, b: T.solve_triangular(a, b, trans=trans, lower=lower,
                                                    unit_diagonal=unit), [a, b], rng=rng,
                    n_tests=1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lower", [True, False])
def test_cho_solve_grad(dtype, lower):
    rng = np.random.default_rng(6)
    c, b = near_hpd(rng, 3, dtype), rand(rng, (3,), dtype)
    verify_grad(lambda c, b: T.cho_solve((c, lower), b), [c, b], rng=rng, n_tests=1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cholesky_then_cho_solve_grad(dtype):
    """The usual pairing: x = cho_solve(cholesky(a), b) is a⁻¹ b for Hermitian a."""
    rng = np.random.default_rng(7)
    x = rand(rng, (3, 3), dtype) + 2 * np.eye(3)
    verify_grad(lambda x, b: T.cho_solve((T.cholesky(T.dot(x, T.conj(x.T)) if dtype ==
                                                     "complex128" else T.dot(x, x.T)), True), b),
                [x, rand(rng, (3, 2), dtype)], rng=rng, n_tests=1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lyapunov_grad(dtype):
    rng = np.random.default_rng(8)
    a = rand(rng, (3, 3), dtype) - 4 * np.eye(3)
    verify_grad(T.solve_continuous_lyapunov, [a, rand(rng, (3, 3), dtype)], rng=rng,
                n_tests=1)


# ----------------------------------------------------------------------- LU family

@pytest.mark.parametrize("dtype", DTYPES)
def test_lu_grad(dtype):
    rng = np.random.default_rng(9)
    a = rand(rng, (3, 3), dtype)
    verify_grad(lambda a: T.lu(a)[1] + 2 * T.lu(a)[2], [a], rng=rng, n_tests=1)
    verify_grad(lambda a: T.lu(a)[2], [a], rng=rng, n_tests=1)          # only u used
    verify_grad(lambda a: T.lu(a, p_indices=True)[1], [a], rng=rng, n_tests=1)
    verify_grad(lambda a: T.lu(a, permute_l=True)[0] + 3 * T.lu(a, permute_l=True)[1], [a],
                rng=rng, n_tests=1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lu_factor_and_solve_grad(dtype):
    rng = np.random.default_rng(10)
    a, b = rand(rng, (2, 3, 3), dtype), rand(rng, (3, 2), dtype)
    verify_grad(lambda a: T.lu_factor(a)[0], [a], rng=rng, n_tests=1)
    for trans in (0, 1, 2):
        verify_grad(lambda a, b: T.lu_solve(T.lu_factor(a), b, trans=trans), [a, b], rng=rng,
                    n_tests=1)


def test_lu_grad_refused_for_rectangular():
    from symgraph.gradient import NullTypeGradError
    x = TensorType("float64", shape=(2, 3))("x")
    with pytest.raises(NullTypeGradError, match="square matrices only"):
        sg.grad(T.sum(T.lu(x)[1]), x)


def test_pivots_are_not_differentiable():
    x = T.dmatrix("x")
    g = sg.grad(T.sum(T.lu_factor(x)[0]), x)   # piv is unused: fine
    assert g.dtype == "float64"
    assert S.PivotToPermutation().connection_pattern(None) == [[False]]


# ----------------------------------------------------------------------- block_diag

@pytest.mark.parametrize("dtype", DTYPES)
def test_block_diag_grad(dtype):
    rng = np.random.default_rng(11)
    verify_grad(lambda a, b, c: T.block_diag(a, b, c),
                [rand(rng, (2, 3), dtype), rand(rng, (1, 1), dtype), rand(rng, (2, 2), dtype)],
                rng=rng, n_tests=1)


def test_block_diag_grad_real_input_complex_output():
    rng = np.random.default_rng(12)
    verify_grad(lambda a, b: T.block_diag(a, b), [rand(rng, (2, 2)), rand(rng, (1, 2),
                                                                          "complex128")],
                rng=rng, n_tests=1)


# ----------------------------------------------------------------------- R_op

@pytest.mark.parametrize("dtype", DTYPES)
def test_rop(dtype):
    rng = np.random.default_rng(13)
    a, b = near_hpd(rng, 3, dtype), rand(rng, (3, 2), dtype)
    v = rand(rng, (3,), dtype)
    check_rop(lambda a: T.cholesky(a), [a], rng)
    check_rop(lambda a: T.cholesky(a, lower=False), [a], rng)
    for kw in (dict(), dict(assume_a="sym", lower=True), dict(assume_a="pos")):
        check_rop(lambda a, b: T.solve(a, b, **kw), [a, b], rng)
    check_rop(lambda a, v: T.solve(a, v), [a, v], rng)
    check_rop(lambda a, b: T.solve_triangular(a, b, trans=1, lower=True), [a, b], rng)
    check_rop(lambda a, b: T.solve_triangular(a, b, unit_diagonal=True), [a, b], rng)
    check_rop(lambda a, b: T.cho_solve((a, False), b), [a, b], rng)
    check_rop(lambda a, b: T.solve_continuous_lyapunov(a - 4 * np.eye(3), b), [a, a], rng)
    check_rop(lambda a: T.lu(a)[1], [a], rng)
    check_rop(lambda a: T.lu(a, permute_l=True)[0], [a], rng)
    check_rop(lambda a: T.lu(a, p_indices=True)[2], [a], rng)
    check_rop(lambda a: T.lu_factor(a)[0], [a], rng)
    check_rop(lambda a, b: T.lu_solve(T.lu_factor(a), b, trans=2), [a, b], rng)
    check_rop(lambda a, b: T.block_diag(a, b), [a, b], rng)
