"""The Gemm op (symgraph/tensor/blas.py): beta * z + alpha * (x @ y), on both backends
(values against NumPy, operand views, shapes, alpha/beta edge values), its checks when
the graph is built and at run time, infer_shape, L_op and R_op."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.compile.mode import Mode
from symgraph.gradient import verify_grad
from symgraph.graph.utils import ShapeError
from symgraph.printing import debugprint
from symgraph.tensor.blas import Gemm, gemm, gemm_no_inplace
from symgraph.tensor.type import TensorType
from tests.tensor.test_dot_grad import check_rop, known_grad
from tests.tensor.test_slinalg import rand
from tests.utils import assert_allclose, check_infer_shape

DTYPES = ["float32", "float64", "complex64", "complex128"]


def mat(dtype="float64", shape=(None, None), name=None):
    return TensorType(dtype, shape=shape)(name)


def scalar(dtype="float64", name=None):
    return TensorType(dtype, shape=())(name)


def want(z, alpha, x, y, beta):
    """NumPy's beta * z + alpha * (x @ y), z left out when beta == 0."""
    prod = alpha * (x @ y)
    return (prod if beta == 0 else beta * z + prod).astype(z.dtype)


def plain(mode):
    """``mode`` without rewrites: the graph keeps the Gemm node as built."""
    return Mode(mode, optimizer=None)


@pytest.fixture(scope="module")
def graphs():
    """One compiled Gemm per (backend, dtype), shared by the value tests."""
    cache = {}

    def get(mode, dtype):
        if (mode, dtype) not in cache:
            z, x, y = mat(dtype, name="z"), mat(dtype, name="x"), mat(dtype, name="y")
            a, b = scalar(dtype, "a"), scalar(dtype, "b")
            cache[mode, dtype] = sg.function([z, a, x, y, b], gemm(z, a, x, y, b),
                                             mode=plain(mode))
        return cache[mode, dtype]
    return get


# ----------------------------------------------------------------------- values

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", [(3, 4, 5), (20, 30, 25), (1, 7, 1), (1, 40, 300), (60, 2, 1)])
def test_values(dtype, m, k, n, graphs, mode, rng):
    f = graphs(mode, dtype)
    z, x, y = rand(rng, (m, n), dtype), rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    z_before = z.copy()
    scalars = [(1, 1), (-1, 1), (1, -1), (0.5, 2.0)]
    if dtype.startswith("complex"):
        scalars.append((0.5 - 2j, 1j))
    for alpha, beta in scalars:
        a, b = np.asarray(alpha, dtype), np.asarray(beta, dtype)
        got = f(z, a, x, y, b)
        assert got.dtype == dtype and got.shape == (m, n)
        assert_allclose(got, want(z, a, x, y, b))
    np.testing.assert_array_equal(z, z_before)  # not in place


@pytest.mark.parametrize("m,k,n", [(0, 3, 4), (3, 0, 4), (3, 4, 0), (0, 0, 0)])
def test_empty(m, k, n, graphs, mode, rng):
    f = graphs(mode, "float64")
    z = rand(rng, (m, n))
    got = f(z, np.float64(2), np.ones((m, k)), np.ones((k, n)), np.float64(-1))
    assert_allclose(got, -z)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_beta_zero_does_not_read_z_alpha_zero_reads_x(graphs, mode, rng):
    f = graphs(mode, "float64")
    for m, k, n in [(3, 4, 5), (30, 40, 20)]:  # a loop and a BLAS call
        x, y = rand(rng, (m, k)), rand(rng, (k, n))
        z = np.full((m, n), np.nan)
        assert_allclose(f(z, np.float64(2), x, y, np.float64(0)), 2 * (x @ y))
        x[0, 0] = np.inf
        z = rand(rng, (m, n))
        got = f(z, np.float64(0), x, y, np.float64(1))
        assert np.isnan(got[0]).all()                 # 0 * inf: as 0 * (x @ y)
        assert_allclose(got[1:], z[1:])


def test_operand_views(mode, rng):
    """Transposed, strided and reversed operands made inside the graph, at a size that
    runs the loop and one that calls BLAS (they read their operands differently)."""
    z, x, y = mat(name="z"), mat(name="x"), mat(name="y")
    cases = [  # (graph, the same on NumPy arrays, shapes of z, x, y)
        (gemm(z.T, 1.0, x.T, y, 1.0), lambda Z, X, Y: Z.T + X.T @ Y,
         lambda s: [(s, s), (s, s), (s, s)]),
        (gemm(z, -2.0, x[::2, ::-1], y[1::2].T, 0.5),
         lambda Z, X, Y: 0.5 * Z - 2 * (X[::2, ::-1] @ Y[1::2].T),
         lambda s: [(s, s), (2 * s, s), (2 * s + 1, s)]),
        (gemm(z[:, ::3], 1.0, x[:, 1:], y[::-1, ::3], 1.0),
         lambda Z, X, Y: Z[:, ::3] + X[:, 1:] @ Y[::-1, ::3],
         lambda s: [(s, 3 * s), (s, s + 1), (s, 3 * s)]),
    ]
    fs = [sg.function([z, x, y], c[0], mode=plain(mode)) for c in cases]
    for size in (4, 31):
        for fk, (_, np_fn, shapes) in zip(fs, cases):
            Z, X, Y = (rand(rng, s) for s in shapes(size))
            assert_allclose(fk(Z, X, Y), np_fn(Z, X, Y))


def test_python_numbers_and_casts(mode, rng):
    z, x, y = mat("float32"), mat("float32"), mat("float32")
    i = TensorType("int8", shape=())("i")
    out = gemm(z, 2, x, y, i)
    assert out.owner.inputs[1].dtype == "float32" and out.owner.inputs[4].dtype == "float32"
    f = sg.function([z, x, y, i], out, mode=plain(mode))
    Z, X, Y = (rand(rng, (3, 3), "float32") for _ in range(3))
    assert_allclose(f(Z, X, Y, np.int8(-3)), (-3 * Z + 2 * (X @ Y)).astype("float32"))
    # Theano's name and argument order
    assert gemm_no_inplace is gemm(z, 1, x, y, 1).owner.op and isinstance(gemm_no_inplace, Gemm)
    zc = mat("complex128")
    assert gemm(zc, 1j, zc, zc, 2).owner.inputs[1].data == 1j


def test_run_time_shape_errors(mode, rng):
    z, x, y = mat(name="z"), mat(name="x"), mat(name="y")
    f = sg.function([z, x, y], gemm(z, 1.0, x, y, 1.0), mode=plain(mode))
    X, Y = rand(rng, (3, 4)), rand(rng, (4, 5))
    with pytest.raises(ShapeError, match="not aligned"):
        f(rand(rng, (3, 5)), X, rand(rng, (3, 5)))
    with pytest.raises(ShapeError, match=r"z has shape \(1, 5\)"):
        f(rand(rng, (1, 5)), X, Y)  # z does not broadcast
    with pytest.raises(ShapeError, match=r"z has shape \(3, 4\)"):
        f(rand(rng, (3, 4)), X, Y)


# ----------------------------------------------------------------------- building

def test_type_errors():
    z, x, y = mat(), mat(), mat()
    with pytest.raises(TypeError, match="2-d tensor as x"):
        gemm(z, 1, T.dvector(), y, 1)
    with pytest.raises(TypeError, match="2-d tensor as z"):
        gemm(T.dtensor3(), 1, x, y, 1)
    with pytest.raises(TypeError, match="one of float32, float64, complex64, complex128"):
        gemm(mat("int64"), 1, mat("int64"), mat("int64"), 1)
    with pytest.raises(TypeError, match="one dtype, but z is float64 and y"):
        gemm(z, 1, x, mat("float32"), 1)
    with pytest.raises(TypeError, match="0-d tensor .* as alpha"):
        gemm(z, T.dvector(), x, y, 1)
    with pytest.raises(TypeError, match="beta is .* does not cast to the product's dtype float32"):
        gemm(mat("float32"), 1, mat("float32"), mat("float32"), scalar("float64"))
    with pytest.raises(TypeError, match="alpha = 1j is complex"):
        gemm(z, 1j, x, y, 1)


def test_static_shapes():
    out = gemm(mat(shape=(None, 5)), 1, mat(shape=(3, None)), mat(shape=(4, None)), 1)
    assert out.type.shape == (3, 5)
    with pytest.raises(ShapeError, match="not aligned: 4 != 2"):
        gemm(mat(), 1, mat(shape=(3, 4)), mat(shape=(2, 5)), 1)
    with pytest.raises(ShapeError, match="z has static length 1 in dimension 0"):
        gemm(mat(shape=(1, None)), 1, mat(shape=(3, None)), mat(), 1)


def test_printing():
    z, x, y = mat(name="z"), mat(name="x"), mat(name="y")
    text = debugprint(gemm(z, 2.0, x, y, 1.0), file="str")
    assert "Gemm{beta*z + alpha*(x @ y)}" in text
    assert [line.split()[1] for line in text.splitlines()[1:4]] == ["z", "2.0", "x"]


def test_infer_shape(rng):
    z, x, y = mat(), mat(shape=(None, 4)), mat()
    a, b = scalar(), scalar()
    check_infer_shape(gemm(z, a, x, y, b), [z, a, x, y, b],
                      [rand(rng, (3, 5)), 1.0, rand(rng, (3, 4)), rand(rng, (4, 5)), 2.0])
    out = gemm(mat(shape=(3, None)), a, x, y, b)
    shape = out.owner.op.infer_shape(None, out.owner, [(None, None), (), (None, 4), (4, None),
                                                       ()])[0]
    assert shape[0].data == 3


# ----------------------------------------------------------------------- derivatives

@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_grad(dtype):
    rng = np.random.default_rng(11)
    pts = [rand(rng, (2, 4), dtype), rand(rng, (), dtype), rand(rng, (2, 3), dtype),
           rand(rng, (3, 4), dtype), rand(rng, (), dtype)]
    verify_grad(gemm, pts, rng=rng, n_tests=1)


def test_grad_formula_complex():
    rng = np.random.default_rng(12)
    Z, X, Y, G = (rand(rng, s, "complex128") for s in [(2, 2), (2, 3), (3, 2), (2, 2)])
    A, B = np.complex128(0.5 + 1j), np.complex128(2 - 1j)
    ins = [mat("complex128"), scalar("complex128"), mat("complex128"), mat("complex128"),
           scalar("complex128")]
    f, _ = known_grad(gemm(*ins), ins, G)
    gz, ga, gx, gy, gb = f(Z, A, X, Y, B, G)
    assert_allclose(gz, np.conj(B) * G)
    assert_allclose(ga, np.sum(G * np.conj(X @ Y)))
    assert_allclose(gx, np.conj(A) * G @ Y.conj().T)
    assert_allclose(gy, np.conj(A) * X.conj().T @ G)
    assert_allclose(gb, np.sum(G * np.conj(Z)))


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_rop(dtype):
    rng = np.random.default_rng(13)
    pts = [rand(rng, (2, 4), dtype), rand(rng, (), dtype), rand(rng, (2, 3), dtype),
           rand(rng, (3, 4), dtype), rand(rng, (), dtype)]
    check_rop(gemm, pts, rng, op_type=Gemm)
    check_rop(gemm, pts, rng, which=[2])
