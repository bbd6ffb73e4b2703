"""The numba kernels of the scipy.linalg family (backends/numba/dispatch/slinalg.py and
linalglib.py). Always compiled with mode="numba"; tests/tensor/test_slinalg.py and
test_expm.py cover values on both backends. Here: no object-mode fallback,
agreement with the interpreter for every op on real and complex stacks, input
layouts, LAPACK's pivot choice, the compiled expm's accuracy against SciPy over
a range of norms, and errors raised in native code.

Every distinct kernel is a numba compilation: the graphs are few and shared
through module-scope fixtures.
"""

import numpy as np
import pytest
import scipy.linalg as sla

import symgraph.tensor as T
from symgraph.compile.mode import Mode
from symgraph.tensor import slinalg as S
from symgraph.tensor.type import TensorType
from tests.backends.numba.utils import check_same
from tests.backends.numba.utils import compile_both as _compile_both
from tests.utils import assert_allclose

NUMBA = Mode("numba", optimizer=None)  # no rewrite: the graph keeps the nodes under test
PY = Mode("py", optimizer=None)


def compile_both(inputs, outputs):
    return _compile_both(inputs, outputs, mode=NUMBA, ref_mode=PY)


def rand(rng, shape, dtype="float64"):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return np.asarray(x, dtype=dtype)


def var(dtype, shape, name):
    return TensorType(dtype, shape=shape)(name)


def _graph(dtype):
    """Every op of the family on stacks (a3: (2, n, n), with a broadcasting b)."""
    a3 = var(dtype, (None, None, None), "a3")
    g = var(dtype, (None, None), "g")
    b = var(dtype, (None,), "b")
    bm = var(dtype, (None, None), "bm")
    one = var(dtype, (1, None, None), "one")
    lu3 = T.lu_factor(a3)
    outs = [T.cholesky(a3), T.cholesky(a3, lower=False),
            T.solve(a3, bm), T.solve(g, b), T.solve(one, bm, assume_a="sym", lower=True),
            T.solve(a3, b, assume_a="her"), T.solve(a3, bm, assume_a="pos", lower=True),
            T.solve_triangular(a3, bm, lower=True),
            T.solve_triangular(a3, b, trans=2, unit_diagonal=True),
            T.cho_solve((a3, True), b), T.cho_solve((g, False), bm),
            *lu3, T.lu_solve(lu3, bm), T.lu_solve(lu3, b, trans=1),
            T.lu_solve(T.lu_factor(g), bm, trans=2),
            *T.lu(a3), T.lu(g, p_indices=True)[0], *T.lu(g, permute_l=True),
            S.pivot_to_permutation(lu3[1]), S.pivot_to_permutation(lu3[1], inverse=True),
            T.expm(a3), S.expm_frechet(a3, one, compute_expm=False),
            T.block_diag(g, b, bm), T.solve_continuous_lyapunov(g, a3)]
    return [a3, g, b, bm, one], outs


def _values(rng, dtype, n=4, k=3):
    x = rand(rng, (2, n, n), dtype)
    a3 = x @ np.conj(np.swapaxes(x, -1, -2)) + n * np.eye(n)
    a3 = a3 + 0.1 * rand(rng, (2, n, n), dtype)      # not Hermitian: triangles matter
    g = rand(rng, (n, n), dtype) + n * np.eye(n)
    return [a3.astype(dtype), g.astype(dtype), rand(rng, (n,), dtype), rand(rng, (n, k), dtype),
            (a3[:1] + 0).astype(dtype)]


@pytest.fixture(scope="module", params=["float64", "complex128"])
def family(request):
    inputs, outs = _graph(request.param)
    return request.param, compile_both(inputs, outs)


def test_every_op_matches_the_interpreter(family):
    dtype, (f, ref) = family
    rng = np.random.default_rng(0)
    check_same(f, ref, *_values(rng, dtype))


def test_layouts_and_read_only():
    """Fortran-ordered, transposed, strided and read-only inputs (each layout is a new
    specialisation of every kernel: this graph is small)."""
    rng = np.random.default_rng(1)
    a3 = var("float64", (None, None, None), "a3")
    bm = var("float64", (None, None), "bm")
    lu3 = T.lu_factor(a3)
    f, ref = compile_both([a3, bm], [T.solve(a3, bm, assume_a="pos"),
                                     T.solve_triangular(a3, bm, trans=1), T.lu_solve(lu3, bm)])
    a3v, _, _, bmv, _ = _values(rng, "float64")
    big = rand(rng, (8, 8))
    vals = [np.asfortranarray(a3v), big[::2, ::3][:, :3]]
    check_same(f, ref, *vals)
    check_same(f, ref, a3v.transpose(0, 2, 1), bmv)
    for v in vals:
        v.setflags(write=False)
    check_same(f, ref, *vals)


def test_empty(family):
    dtype, (f, ref) = family
    z = np.zeros
    got = check_same(f, ref, z((2, 0, 0), dtype), z((0, 0), dtype), z(0, dtype), z((0, 3), dtype),
                     z((1, 0, 0), dtype))
    assert got[0].shape == (2, 0, 0)


@pytest.fixture(scope="module")
def small(family):
    """LU pivots and solve on one matrix (the kernels are the family graph's)."""
    dtype, _ = family
    g, b = var(dtype, (None, None), "g"), var(dtype, (None,), "b")
    return dtype, compile_both([g, b], [T.lu(g, p_indices=True)[0], T.lu_factor(g)[1],
                                        T.solve(g, b)])


def test_pivots_follow_lapack(small):
    """LAPACK picks the first largest |re| + |im| (not the modulus) in each column."""
    dtype, (f, ref) = small
    ties = np.array([[1, 2, 0, 1], [-1, 3, 1, 0], [1, 0, 2, 0], [0, 1, 0, 3]], dtype=dtype)
    if dtype.startswith("complex"):
        ties[1, 0] = 0.6 + 0.6j       # |z| < 1 but |re| + |im| > 1: this row is the pivot
    got = check_same(f, ref, ties, np.ones(4, dtype))
    assert np.array_equal(got[0], sla.lu(ties, p_indices=True)[0])
    assert np.array_equal(got[1], sla.lu_factor(ties)[1])
    if dtype.startswith("complex"):
        assert got[1][0] == 1


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_singular_matrix_error(small):
    dtype, (f, ref) = small
    with pytest.raises(ValueError):
        f._thunk.jitted(np.ones((4, 4), dtype), np.ones(4, dtype))   # raised in native code
    with pytest.raises(np.linalg.LinAlgError, match=r"matrix a of shape \(4, 4\) is singular"):
        f(np.ones((4, 4), dtype), np.ones(4, dtype))


def test_low_precision():
    """float32 and complex64: computed in their own precision (expm in double), as SciPy."""
    rng = np.random.default_rng(3)
    a = var("float32", (None, None), "a")
    c = var("complex64", (None, None), "c")
    v = var("complex64", (None,), "v")
    f, ref = compile_both([a, c, v], [T.cholesky(a), T.solve(c, v), T.lu(c)[1], T.expm(a)])
    x = rand(rng, (4, 4))
    A = (x @ x.T + 4 * np.eye(4)).astype("float32")
    C = (rand(rng, (4, 4), "complex64") + 4 * np.eye(4)).astype("complex64")
    vals = [A, C, rand(rng, (4,), "complex64")]
    got, want = f(*vals), ref(*vals)
    for g, w in zip(got, want):
        assert_allclose(g, w, rtol=1e-4, atol=1e-5)
    assert [g.dtype for g in got] == ["float32", "complex64", "complex64", "float32"]


def test_expm_accuracy_against_scipy():
    """The compiled Padé expm (and Fréchet derivative) against scipy over norms from
    1e-3 to 100, for random, non-normal and nilpotent matrices."""
    rng = np.random.default_rng(4)
    a, e = var("complex128", (None, None), "a"), var("complex128", (None, None), "e")
    f, _ = compile_both([a, e], [T.expm(a), S.expm_frechet(a, e, compute_expm=False)])
    cases = []
    for n in (1, 3, 8):
        for norm in (1e-3, 0.1, 1.0, 5.0, 30.0, 100.0):
            x = rand(rng, (n, n), "complex128")
            cases.append(x * norm / np.linalg.norm(x, 1))
    cases.append(np.triu(np.ones((6, 6)), 1) * 3 + 0j)              # nilpotent
    cases.append(np.array([[-1, 1e3], [0, -2]], dtype=complex))      # very non-normal
    cases.append(np.diag([-50.0, 0.0, 20.0]).astype(complex))
    for A in cases:
        E = rand(rng, A.shape, "complex128")
        got, fr = f(A, E)
        want, want_fr = sla.expm_frechet(A, E)
        scale = np.abs(want).max()
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13 * scale)
        np.testing.assert_allclose(fr, want_fr, rtol=1e-9, atol=1e-12 * np.abs(want_fr).max())
    # the real path
    r = var("float64", (None, None), "r")
    fr_, _ = compile_both([r], [T.expm(r)])
    for norm in (0.01, 1.0, 50.0):
        x = rand(rng, (5, 5))
        A = x * norm / np.linalg.norm(x, 1)
        np.testing.assert_allclose(fr_(A)[0], sla.expm(A), rtol=1e-11,
                                   atol=1e-13 * np.abs(sla.expm(A)).max())


def test_errors_are_the_interpreters(family):
    """Errors raised in native code: the call is re-run on the interpreter, whose
    message names the matrix and the node."""
    dtype, (f, ref) = family
    rng = np.random.default_rng(5)
    vals = _values(rng, dtype)
    bad = list(vals)
    bad[0] = vals[0].copy()
    bad[0][1] = -np.eye(4)                       # not positive definite
    with pytest.raises(np.linalg.LinAlgError, match=r"matrix \[1\] of the stack"):
        f(*bad)
    with pytest.raises(Exception):
        f._thunk.jitted(*bad)                    # the kernel itself refuses
    bad = list(vals)
    bad[3] = vals[3][:3]                         # b does not fit a
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        f(*bad)
