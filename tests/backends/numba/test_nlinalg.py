"""The numba kernels of the numpy.linalg ops (backends/numba/dispatch/nlinalg.py).
Always compiled with mode="numba"; the op tests (tests/tensor/test_nlinalg.py) cover
the values on both backends, these the backend's own cases in few compilations:
no object mode, stacked inputs, the interpreter's values (eigen- and singular
vectors included: the kernels call the LAPACK routines NumPy calls), complex
eigenvalues of real matrices, UPLO, every qr mode, NaN and empty matrices, integer
matrix powers, and errors that come back with the interpreter's message."""

import warnings

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from backends.numba.dispatch.objmode import ObjectModeWarning
from symgraph.compile.mode import Mode
from symgraph.tensor import nlinalg as N
from symgraph.tensor.linalg_utils import SingularMatrixError
from tests.utils import assert_allclose

NUMBA = Mode("numba", optimizer=None)  # no rewrite: the graph keeps the nodes under test
PY = Mode("py", optimizer=None)


def compile_both(inputs, outputs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ObjectModeWarning)
        f = sg.function(inputs, outputs, mode=NUMBA)
    assert f._thunk.cacheable, "a node fell back to object mode"
    return f, sg.function(inputs, outputs, mode=PY)


def rand(rng, shape, dtype):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return np.asarray(x, dtype=dtype)


def check_same(f, ref, *values):
    got, want = f(*values), ref(*values)
    for g, w in zip(got, want):
        tol = 1e-4 if g.dtype in (np.float32, np.complex64) else 1e-10
        assert_allclose(g, w, rtol=tol, atol=tol)
    return got


def _ops(x, y):
    """Every op on a stack of square matrices x and on matrices y of any shape."""
    return [N.matrix_inverse(x), N.det(x), *N.slogdet(x), N.matrix_power(x, 5),
            N.matrix_power(x, -2), *N.eig(x), *N.eigh(x), *N.eigh(x, "U"), N.eigvalsh(x, "U"),
            N.pinv(y), *N.svd(y), *N.svd(y, False), N.svd(y, compute_uv=False), *N.qr(y),
            *N.qr(y, "complete"), N.qr(y, "r")]


def _few_ops(x, y):
    return [N.matrix_inverse(x), *N.slogdet(x), *N.eig(x), *N.eigh(x, "U"), *N.svd(y, False),
            *N.qr(y)]


@pytest.fixture(scope="module")
def fns():
    """Every op on float64 stacks and complex128 matrices; the single-precision LAPACK
    paths on complex64 stacks and float32 matrices."""
    x, y = T.dtensor3("x"), T.zmatrix("y")
    xs, ys = T.ctensor3("xs"), T.fmatrix("ys")
    return compile_both([x, y], _ops(x, y)), compile_both([xs, ys], _few_ops(xs, ys))


def test_values_match_interpreter(fns, rng):
    (f, ref), (fs, refs) = fns
    x = rand(rng, (2, 3, 3), "float64")
    x[0] = [[0.3, -2.0, 0.1], [1.5, 0.2, 0.0], [0.1, 0.3, 3.0]]  # complex eigenvalues
    got = check_same(f, ref, x, rand(rng, (4, 3), "complex128"))
    assert np.iscomplex(got[6][0]).any()
    check_same(f, ref, x[1:], rand(rng, (3, 5), "complex128"))
    check_same(fs, refs, rand(rng, (3, 2, 2), "complex64") + 2 * np.eye(2, dtype="complex64"),
               rand(rng, (3, 4), "float32"))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_non_finite_and_empty_matrices(fns, rng):
    (f, ref), _ = fns
    x = rand(rng, (3, 3, 3), "float64")
    x[1, 0, 2] = np.nan
    x[2, 1, 1] = -np.inf
    y = rand(rng, (4, 3), "complex128")
    y[0, 0] = np.nan
    got = check_same(f, ref, x, y)
    assert np.isnan(got[0][1:]).all() and np.isfinite(got[0][0]).all()
    for ex, ey in ((np.zeros((2, 0, 0)), np.zeros((0, 3), "complex128")),
                   (np.zeros((0, 2, 2)), np.zeros((3, 0), "complex128"))):
        check_same(f, ref, ex, ey)


def test_errors_come_with_the_interpreters_message(fns):
    (f, _), _ = fns
    y = np.ones((2, 2), "complex128")
    with pytest.raises(SingularMatrixError, match=r"batch index \(1,\) is singular"):
        f(np.stack([np.eye(3), np.ones((3, 3))]), y)
    with pytest.raises(np.linalg.LinAlgError, match=r"expected square .* shape \(2, 3, 4\)"):
        f(np.ones((2, 3, 4)), y)
    # a Hessian passed as the list hessian() returns
    w = T.TensorType("float64", shape=(3,))("w")
    hinv = N.matrix_inverse(sg.hessian(w.sum() ** 2, wrt=[w]))
    g = sg.function([w], hinv, mode="numba")
    with pytest.raises(SingularMatrixError, match=r"Python list of 1 variable\(s\)") as info:
        g(np.ones(3))
    assert "hinv = N.matrix_inverse(sg.hessian(w.sum() ** 2, wrt=[w]))" in str(info.value)


def test_integer_and_bool_matrix_power():
    i = T.lmatrix("i")
    b = T.tensor("bool", shape=(None, None), name="b")
    f, ref = compile_both([i, b], [N.matrix_power(i, 7), N.matrix_power(i, 0),
                                   N.matrix_power(b, 5)])
    iv = np.array([[1, 2], [3, -4]], dtype="int64") * 40  # overflows: wraps as NumPy's
    bv = np.array([[False, True], [True, False]])
    got = check_same(f, ref, iv, bv)
    assert_allclose(got[0], np.linalg.matrix_power(iv, 7))


def test_gradients_match_interpreter(rng):
    """Gradient graphs (rewritten, so elementwise chains are fused) on both backends."""
    x = T.dmatrix("x")
    z = T.zmatrix("z")
    cost = N.det(x) + N.eigvalsh(x).sum() + abs(N.qr(z)[0]).sum()
    grads = sg.grad(cost, [x, z])
    f, ref = sg.function([x, z], grads, mode="numba"), sg.function([x, z], grads, mode="py")
    check_same(f, ref, rand(rng, (3, 3), "float64"), rand(rng, (3, 3), "complex128"))
