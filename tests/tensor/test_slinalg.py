"""Values, shapes and errors of the scipy.linalg ops (symgraph/tensor/slinalg*.py).

Values are checked against SciPy on the backends in SYMGRAPH_TEST_BACKENDS, with
every op of a test compiled into one function (one numba compilation each).
Gradients are in test_slinalg_grad.py, expm in test_expm.py.
"""

import numpy as np
import pytest
import scipy.linalg as sla

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph.utils import ShapeError
from symgraph.tensor import slinalg as S
from symgraph.tensor.type import TensorType
from tests.utils import assert_allclose, check_cases, check_infer_shape

DTYPES = ["float32", "float64", "complex64", "complex128"]


def rand(rng, shape, dtype="float64"):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return np.asarray(x, dtype=dtype)


def hpd(rng, n, dtype="float64", batch=()):
    """Hermitian positive definite matrices (well conditioned)."""
    x = rand(rng, batch + (n, n), dtype)
    return (x @ np.conj(np.swapaxes(x, -1, -2)) + n * np.eye(n)).astype(dtype)


def var(dtype, ndim, name=None):
    return TensorType(dtype, shape=(None,) * ndim)(name)


def _batched(fn, *arrays, core=(2,)):
    """``fn`` applied matrix by matrix over the leading axis of stacked arrays."""
    return np.stack([fn(*[a[i] if c else a for a, c in zip(arrays, core)])
                     for i in range(arrays[0].shape[0])])


# ----------------------------------------------------------------------- values

@pytest.mark.parametrize("dtype", DTYPES)
def test_values_against_scipy(mode, dtype):
    rng = np.random.default_rng(0)
    n = 4
    a, g, b, bm = var(dtype, 2, "a"), var(dtype, 2, "g"), var(dtype, 1, "b"), var(dtype, 2, "bm")
    A, G = hpd(rng, n, dtype), rand(rng, (n, n), dtype)
    B, BM = rand(rng, (n,), dtype), rand(rng, (n, 3), dtype)
    low = np.tril(A)
    lu_, piv = sla.lu_factor(G)
    P, L, U = sla.lu(G)
    cases = [
        (T.cholesky(a), sla.cholesky(A, lower=True)),
        (T.cholesky(a, lower=False), sla.cholesky(A)),
        (T.solve(g, b), sla.solve(G, B)),
        (T.solve(g, bm), sla.solve(G, BM)),
        (T.solve(a, bm, assume_a="sym", lower=True), sla.solve(A, BM, assume_a="sym", lower=True)),
        (T.solve(a, b, assume_a="her"), sla.solve(A, B, assume_a="her")),
        (T.solve(a, bm, assume_a="pos", lower=True), sla.solve(A, BM, assume_a="pos", lower=True)),
        (T.solve_triangular(g, bm, lower=True), sla.solve_triangular(G, BM, lower=True)),
        (T.solve_triangular(g, b, trans="T"), sla.solve_triangular(G, B, trans="T")),
        (T.solve_triangular(g, bm, trans=2, lower=True, unit_diagonal=True),
         sla.solve_triangular(G, BM, trans=2, lower=True, unit_diagonal=True)),
        (T.cho_solve((a, True), b), sla.cho_solve((A, True), B)),
        (T.cho_solve((a, False), bm), sla.cho_solve((A, False), BM)),
        (T.lu(g)[0], P), (T.lu(g)[1], L), (T.lu(g)[2], U),
        (T.lu(g, p_indices=True)[0], sla.lu(G, p_indices=True)[0]),
        (T.lu(g, permute_l=True)[0], sla.lu(G, permute_l=True)[0]),
        (T.lu_factor(g)[0], lu_), (T.lu_factor(g)[1], piv),
        (T.lu_solve(T.lu_factor(g), b), sla.lu_solve((lu_, piv), B)),
        (T.lu_solve(T.lu_factor(g), bm, trans=1), sla.lu_solve((lu_, piv), BM, trans=1)),
        (T.lu_solve(T.lu_factor(g), bm, trans=2), sla.lu_solve((lu_, piv), BM, trans=2)),
        (S.pivot_to_permutation(T.lu_factor(g)[1], inverse=True).astype("int32"),
         sla.lu(G, p_indices=True)[0]),
        (T.expm(g), sla.expm(G)),
        (T.block_diag(a, b, g[:1, :2]), sla.block_diag(A, B, G[:1, :2])),
        (T.solve_continuous_lyapunov(a - 2 * n * T.eye(n, dtype=dtype), g),
         sla.solve_continuous_lyapunov(A - 2 * n * np.eye(n), G).astype(dtype)),
        (S.expm_frechet(g, a, compute_expm=False),
         sla.expm_frechet(G, A, compute_expm=False).astype(dtype)),
    ]
    check_cases(mode, [a, g, b, bm], [A, G, B, BM], cases)
    assert np.allclose(low, np.tril(A))  # inputs are not modified


def test_triangles_read(mode):
    """Only the triangle an op is told about is read (LAPACK's convention)."""
    rng = np.random.default_rng(1)
    n = 3
    A = hpd(rng, n, "complex128")
    junk = np.triu(rand(rng, (n, n), "complex128") * 100, 1)
    A_low = np.tril(A) + junk                       # garbage above the diagonal
    a, b = var("complex128", 2, "a"), var("complex128", 1, "b")
    B = rand(rng, (n,), "complex128")
    f = sg.function([a, b], [T.cholesky(a), T.solve(a, b, assume_a="pos", lower=True),
                             T.solve(a, b, assume_a="her", lower=True),
                             T.solve_triangular(a, b, lower=True)], mode=mode)
    L, x_pos, x_her, x_tri = f(A_low, B)
    assert_allclose(L, np.linalg.cholesky(A))
    assert_allclose(x_pos, np.linalg.solve(A, B), rtol=1e-9)
    assert_allclose(x_her, np.linalg.solve(A, B), rtol=1e-9)
    assert_allclose(x_tri, sla.solve_triangular(np.tril(A), B, lower=True), rtol=1e-9)


def test_stacks_and_broadcasting(mode):
    """Leading axes are batches; missing and static-length-1 batch axes broadcast."""
    rng = np.random.default_rng(2)
    n = 3
    a3 = var("float64", 3, "a3")
    one = TensorType("float64", shape=(1, None, None))("one")
    b2 = var("float64", 2, "b2")          # vectors b (2, n) with b_ndim=1
    bm = var("float64", 2, "bm")          # one matrix right-hand side for every a
    A3, ONE = hpd(rng, n, batch=(2,)), hpd(rng, n, batch=(1,))
    B2, BM = rand(rng, (2, n)), rand(rng, (n, 2))
    lu3 = T.lu_factor(a3)
    cases = [
        (T.cholesky(a3), np.linalg.cholesky(A3)),
        (T.solve(a3, b2, b_ndim=1), _batched(sla.solve, A3, B2, core=(1, 1))),
        (T.solve(a3, bm), _batched(sla.solve, A3, BM, core=(1, 0))),
        (T.solve(one, b2, b_ndim=1), np.stack([sla.solve(ONE[0], v) for v in B2])),
        (T.solve_triangular(a3, bm, lower=True),
         _batched(lambda x, y: sla.solve_triangular(x, y, lower=True), A3, BM, core=(1, 0))),
        (T.cho_solve((T.cholesky(a3), True), b2, b_ndim=1),
         _batched(lambda x, y: sla.cho_solve((np.linalg.cholesky(x), True), y), A3, B2,
                  core=(1, 1))),
        (T.lu_solve(lu3, bm), _batched(lambda x, y: sla.lu_solve(sla.lu_factor(x), y), A3, BM,
                                       core=(1, 0))),
        (T.lu(a3)[1], _batched(lambda x: sla.lu(x)[1], A3)),
        (T.expm(a3), sla.expm(A3)),
    ]
    check_cases(mode, [a3, one, b2, bm], [A3, ONE, B2, BM], cases)


def test_integer_input_is_computed_in_float():
    a, b = T.lmatrix("a"), T.lvector("b")
    out = T.solve(a, b)
    assert out.dtype == "float64"
    f = sg.function([a, b], out)
    assert_allclose(f(np.array([[2, 0], [0, 4]]), np.array([2, 2])), np.array([1.0, 0.5]))


def test_mixed_dtypes_promote():
    out = T.solve(var("float32", 2), var("complex128", 1))
    assert out.dtype == "complex128"
    assert T.expm(var("float32", 2)).dtype == "float32"
    p, l, u = T.lu(var("complex64", 2))
    assert (p.dtype, l.dtype, u.dtype) == ("float32", "complex64", "complex64")
    assert T.lu(var("float64", 2), p_indices=True)[0].dtype == "int32"
    assert T.lu_factor(var("float64", 2))[1].dtype == "int32"


def test_static_shapes():
    a = TensorType("float64", shape=(2, 5, 5))()
    b = TensorType("float64", shape=(5, 3))()
    assert T.solve(a, b).type.shape == (2, 5, 3)
    assert T.solve(a, TensorType("float64", shape=(2, 5))(), b_ndim=1).type.shape == (2, 5)
    p, l, u = T.lu(TensorType("float64", shape=(3, 5))())
    assert (p.type.shape, l.type.shape, u.type.shape) == ((3, 3), (3, 3), (3, 5))
    lu_, piv = T.lu_factor(TensorType("float64", shape=(5, 3))())
    assert piv.type.shape == (3,)
    assert T.block_diag(TensorType("float64", shape=(2, 3))(),
                        TensorType("float64", shape=(1, 1))()).type.shape == (3, 4)


def test_rectangular_lu(mode):
    rng = np.random.default_rng(3)
    cases = []
    vals = [rand(rng, (3, 5)), rand(rng, (5, 3))]
    x1, x2 = var("float64", 2), var("float64", 2)
    for x, X in zip((x1, x2), vals):
        P, L, U = sla.lu(X)
        cases += [(T.lu(x)[0], P), (T.lu(x)[1], L), (T.lu(x)[2], U),
                  (T.lu(x, permute_l=True)[0], sla.lu(X, permute_l=True)[0]),
                  (T.lu_factor(x)[0], sla.lu_factor(X)[0]),
                  (T.lu_factor(x)[1], sla.lu_factor(X)[1])]
    check_cases(mode, [x1, x2], vals, cases)


def test_empty_matrices(mode):
    a, b = var("float64", 2, "a"), var("float64", 1, "b")
    f = sg.function([a, b], [T.cholesky(a), T.solve(a, b), T.expm(a), T.lu_factor(a)[0],
                             T.solve_triangular(a, b)], mode=mode)
    for r in f(np.zeros((0, 0)), np.zeros(0)):
        assert r.size == 0


# ----------------------------------------------------------------------- infer_shape

def test_infer_shape():
    rng = np.random.default_rng(4)
    a3, b2, bm = var("float64", 3, "a3"), var("float64", 2, "b2"), var("float64", 2, "bm")
    m = var("float64", 2, "m")
    v = var("float64", 1, "v")
    A3, B2, BM = hpd(rng, 3, batch=(2,)), rand(rng, (2, 3)), rand(rng, (3, 4))
    M, V = rand(rng, (3, 5)), rand(rng, (2,))
    inputs, values = [a3, b2, bm, m, v], [A3, B2, BM, M, V]
    lu3 = T.lu_factor(a3)
    outs = [T.cholesky(a3), T.solve(a3, b2, b_ndim=1), T.solve(a3, bm),
            T.solve_triangular(a3, bm), T.cho_solve((a3, True), b2, b_ndim=1),
            lu3[0], T.lu_solve(lu3, bm), T.lu_solve(lu3, b2, b_ndim=1),
            S.pivot_to_permutation(lu3[1]), T.expm(a3), S.expm_frechet(a3, a3, False),
            T.solve_continuous_lyapunov(a3, a3), T.block_diag(m, a3[0], v)]
    for out in outs:
        check_infer_shape(out, inputs, values)
    for x in (m, a3):
        check_infer_shape(T.lu(x)[0], inputs, values)
        check_infer_shape(T.lu(x, p_indices=True)[0], inputs, values)
        check_infer_shape(T.lu(x, permute_l=True)[0], inputs, values)


# ----------------------------------------------------------------------- errors

def test_refuses_bad_types():
    with pytest.raises(TypeError, match="expected a matrix .* got .* with 1 dimension"):
        T.cholesky(T.dvector())
    with pytest.raises(TypeError, match="expected a matrix"):
        T.expm(T.dscalar())
    with pytest.raises(TypeError, match="at least 2 dimensions .*b_ndim=2"):
        T.solve(T.dmatrix(), T.dvector(), b_ndim=2)
    with pytest.raises(ValueError, match="assume_a must be one of"):
        T.solve(T.dmatrix(), T.dvector(), assume_a="banded")
    with pytest.raises(ValueError, match="trans must be"):
        T.solve_triangular(T.dmatrix(), T.dvector(), trans=3)
    with pytest.raises(TypeError, match="integer pivots"):
        T.lu_solve((T.dmatrix(), T.dvector()), T.dvector())
    with pytest.raises(TypeError, match=r"pair \(c, lower\)"):
        T.cho_solve(T.dmatrix(), T.dvector())
    with pytest.raises(TypeError, match="expected matrices"):
        S.BlockDiagonal(1)(T.dvector())


def test_refuses_non_square_statically():
    a = TensorType("float64", shape=(3, 4))("a")
    for fn in (T.cholesky, T.expm, lambda x: T.solve(x, T.dvector()),
               lambda x: T.solve_triangular(x, T.dvector())):
        with pytest.raises(ShapeError, match=r"must be square.*\(3, 4\)"):
            fn(a)
    with pytest.raises(ShapeError, match=r"\(3, 3\).*\(4,\)"):
        T.solve(TensorType("float64", shape=(3, 3))(), TensorType("float64", shape=(4,))())


def test_runtime_shape_errors():
    a, b = T.dmatrix("a"), T.dvector("b")
    f = sg.function([a, b], [T.solve(a, b)])
    with pytest.raises(ValueError, match=r"must be a square matrix.*\(2, 3\)"):
        f(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match=r"\(2, 2\).*\(3,\)"):
        f(np.eye(2), np.ones(3))
    a3, b3 = var("float64", 3), var("float64", 3)
    g = sg.function([a3, b3], T.solve(a3, b3))
    with pytest.raises(ValueError, match="batch"):
        g(np.ones((2, 2, 2)), np.ones((3, 2, 1)))


def test_singular_and_not_positive_definite():
    a, b = T.dmatrix("a"), T.dvector("b")
    f = sg.function([a, b], T.solve(a, b))
    with pytest.raises(np.linalg.LinAlgError, match=r"matrix a of shape \(3, 3\) is singular"):
        f(np.ones((3, 3)), np.ones(3))
    c = sg.function([a], T.cholesky(a))
    with pytest.raises(np.linalg.LinAlgError, match=r"\(2, 2\) is not positive definite"):
        c(-np.eye(2))
    a3 = var("float64", 3)
    c3 = sg.function([a3], T.cholesky(a3))
    with pytest.raises(np.linalg.LinAlgError, match=r"matrix \[1\] of the stack"):
        c3(np.stack([np.eye(2), -np.eye(2)]))
    t = sg.function([a, b], T.solve_triangular(a, b))
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        t(np.zeros((2, 2)), np.ones(2))


def test_singular_hint_for_stacked_list():
    """hessian(cost, [w]) returns a list; solving with it stacks a (1, n, n) tensor."""
    w = TensorType("float64", shape=(3,))("w")
    H = sg.hessian(T.sum(w ** 4), [w])
    out = T.solve(H, T.ones((1, 3)), b_ndim=1)
    f = sg.function([w], out)
    with pytest.raises(np.linalg.LinAlgError, match=r"singular.*Python list of 1"):
        f(np.zeros(3))


def test_block_diag_mixed_and_empty(mode):
    x = T.imatrix("x")
    y = T.dvector("y")
    out = T.block_diag(x, y)
    assert out.dtype == "float64"
    f = sg.function([x, y], [out, T.block_diag()], mode=mode)
    got, empty = f(np.ones((2, 1), dtype="int32"), np.arange(2.0))
    assert_allclose(got, sla.block_diag(np.ones((2, 1)), np.arange(2.0)))
    assert empty.shape == (0, 0)
