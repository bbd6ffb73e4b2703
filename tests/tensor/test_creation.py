import functools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import symgraph as sg
import symgraph.tensor as T
from symgraph import config
from symgraph.graph.utils import ShapeError
from symgraph.tensor.creation import Alloc, AllocDiag, ARange, ExtractDiag, Eye, Tri
from symgraph.tensor.shape import shape_i
from tests.utils import assert_allclose, check_cases, check_infer_shape, random_value

DTYPES = ["bool", "int8", "uint16", "int64", "float32", "float64", "complex64", "complex128"]


# ------------------------------------------------------------------------- alloc

@pytest.mark.parametrize("dtype", DTYPES)
def test_alloc_broadcasts_values(dtype, mode, rng):
    s = T.tensor(dtype, shape=(), name="s")
    r = T.tensor(dtype, shape=(1, None), name="r")
    v = T.tensor(dtype, shape=(None,), name="v")
    n = T.lscalar("n")
    sv, rv, vv = (random_value(dtype, shape, rng) for shape in [(), (1, 3), (3,)])
    cases = [
        (T.alloc(s, 2, n), np.full((2, 4), sv)),
        (T.alloc(s), sv),
        (T.alloc(r, n, 3), np.broadcast_to(rv, (4, 3))),
        (T.alloc(v, (2, 1, 3)), np.broadcast_to(vv, (2, 1, 3))),
        (T.alloc(v, n, 2, 3), np.broadcast_to(vv, (4, 2, 3))),
        (T.alloc(r, 0, 3), np.zeros((0, 3), dtype)),
    ]
    check_cases(mode, [s, r, v, n], [sv, rv, vv, 4], cases)


def test_alloc_static_shape():
    n = T.lscalar("n")
    assert T.alloc(1.0, 2, n).type.shape == (2, None)
    assert T.alloc(T.vector(shape=(3,)), n, n).type.shape == (None, 3)
    assert T.alloc(T.row(), n, 5).type.shape == (None, 5)
    assert T.alloc(T.matrix(), 2, 3).type.shape == (2, 3)
    assert T.alloc(T.scalar(), shape_i(T.matrix(shape=(4, None)), 0)).type.shape == (4,)
    assert T.alloc(T.bvector(), T.bscalar()).dtype == "int8"
    assert isinstance(T.alloc(0, 2).owner.op, Alloc)
    assert Alloc() == Alloc() and hash(Alloc()) == hash(Alloc())


def test_alloc_errors(mode):
    with pytest.raises(ShapeError, match=r"dimension 0 of the value has length 3, the target 4"):
        T.alloc(T.vector(shape=(3,)), 2, 4)
    with pytest.raises(TypeError, match="has 2 dimensions, more than the 1"):
        T.alloc(T.matrix(), 3)
    with pytest.raises(TypeError, match=r"shape\[1\] must be an integer scalar, got .*float64"):
        T.alloc(1.0, 2, T.dscalar())
    with pytest.raises(TypeError, match="shape must be an int.*got float 2.0"):
        T.alloc(1.0, 2.0)
    with pytest.raises(TypeError, match=r"shape\[0\] must be an integer .*got float 2.0"):
        T.alloc(1.0, 2.0, 3)
    with pytest.raises(TypeError, match="must be an integer, got the bool"):
        T.zeros((True, 2))
    with pytest.raises(ValueError, match="negative dimensions"):
        T.zeros((2, -1))
    v = T.vector("v")
    n = T.lscalar("n")
    f = sg.function([v, n], T.alloc(v, n, 3), mode=mode)
    assert_allclose(f(np.ones(3), 2), np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"shape \(2,\) to shape \(2, 3\)"):
        f(np.ones(2), 2)
    with pytest.raises(ShapeError, match="only dimensions declared with static length 1"):
        f(np.ones(1), 2)
    with pytest.raises(ValueError, match=r"negative dimensions .*\(-1, 3\)"):
        f(np.ones(3), -1)


def test_alloc_infer_shape(rng):
    r = T.row("r")
    n = T.lscalar("n")
    check_infer_shape([T.alloc(r, n, 2, 3)], [r, n], [np.ones((1, 3)), 4])
    check_infer_shape([T.alloc(r, 2, 5)], [r], [np.ones((1, 5))])


# ------------------------------------------------------------------------- zeros, ones, full

def test_zeros_ones_full(mode):
    x = T.matrix("x")
    n = T.lscalar("n")
    sv = T.tensor("int32", shape=(2,), name="sv")
    xv = np.zeros((2, 3))
    cases = [
        (T.zeros(3), np.zeros(3)),
        (T.zeros((n, 2), dtype="int8"), np.zeros((4, 2), "int8")),
        (T.zeros(x.shape, "complex64"), np.zeros((2, 3), "complex64")),
        (T.zeros(np.array([2, 1])), np.zeros((2, 1))),
        (T.zeros(T.constant(np.array([1, 2]))), np.zeros((1, 2))),
        (T.zeros(()), np.zeros(())),
        (T.zeros(x.shape[::-1]), np.zeros((3, 2))),
        (T.zeros((x.shape[1], n), "int16"), np.zeros((3, 4), "int16")),
        (T.zeros(T.stack([n, x.shape[0]])), np.zeros((4, 2))),
        (T.zeros(sv), np.zeros((1, 5))),
        (T.ones([shape_i(x, 1), 2]), np.ones((3, 2))),
        (T.ones(n, dtype=bool), np.ones(4, bool)),
        (T.ones((2,), "uint16"), np.ones(2, "uint16")),
        (T.full((2, n), 1.5), np.full((2, 4), 1.5)),
        (T.full(2, 7), np.full(2, 7)),
        (T.full(2, True), np.full(2, True)),
        (T.full(2, 1 + 2j), np.full(2, 1 + 2j)),
        (T.full((2, 2), 2.7, dtype="int32"), np.full((2, 2), 2.7, dtype="int32")),
        (T.full((3, 2), T.constant(np.arange(2.0))),
         np.full((3, 2), np.arange(2.0))),
        (T.full((n,), T.constant(np.int8(3))), np.full(4, 3, "int8")),
    ]
    check_cases(mode, [x, n, sv], [xv, 4, np.array([1, 5], "int32")], cases)
    assert T.zeros(x.shape).type.shape == (None, None)
    assert T.zeros(T.matrix(shape=(2, None)).shape).type.shape == (2, None)
    assert T.full((2, n), 1.0).type.shape == (2, None)
    assert T.full((3,), T.dscalar(), dtype="float32").dtype == "float32"


def test_zeros_full_floatx():
    with config.change_flags(floatX="float32"):
        assert T.zeros(2).dtype == "float32"
        assert T.ones((2, 2)).dtype == "float32"
        assert T.full(2, 0.5).dtype == "float32"
        assert T.eye(2).dtype == "float32"
        assert T.tri(2).dtype == "float32"
    assert T.full(2, 3).dtype == "int64"
    assert T.zeros(2).dtype == "float64"


def test_shape_argument_errors():
    with pytest.raises(TypeError, match="not known statically"):
        T.zeros(T.lvector())
    with pytest.raises(TypeError, match="integer scalar or vector, got .*float64"):
        T.zeros(T.dvector())
    with pytest.raises(TypeError, match="1-d integer array, got dtype float64"):
        T.ones(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"got str 'a'"):
        T.ones("a")


@pytest.mark.parametrize("dtype", ["int8", "uint16", "float32", "complex128", "bool"])
def test_like(dtype, mode, rng):
    x = T.tensor(dtype, shape=(None, 3), name="x")
    xv = random_value(dtype, (2, 3), rng)
    fv = random_value(dtype, (), rng)
    f = T.tensor(dtype, shape=(), name="f")
    cases = [
        (T.zeros_like(x), np.zeros_like(xv)),
        (x.zeros_like(), np.zeros_like(xv)),
        (T.ones_like(x), np.ones_like(xv)),
        (x.ones_like(dtype="float32"), np.ones_like(xv, dtype="float32")),
        (T.zeros_like(x, "int16"), np.zeros_like(xv, dtype="int16")),
        (T.full_like(x, 1), np.full_like(xv, 1)),
        (T.full_like(x, f), np.full_like(xv, fv)),
        (T.full_like(x, 2, dtype="float64"), np.full_like(xv, 2, dtype="float64")),
        (T.fill(x, f), np.full(xv.shape, fv)),
        (T.second(x, T.constant(np.arange(3, dtype="int8"))),
         np.broadcast_to(np.arange(3, dtype="int8"), xv.shape)),
    ]
    for out, _ in cases:
        assert out.type.shape == (None, 3)
    check_cases(mode, [x, f], [xv, fv], cases)


def test_fill_python_numbers_are_weak():
    assert T.fill(T.fmatrix(), 1.0).dtype == "float32"
    assert T.fill(T.bmatrix(), 1).dtype == "int8"
    assert T.fill(T.bmatrix(), 1.5).dtype == "float64"
    assert T.fill(T.dmatrix(), T.fscalar()).dtype == "float32"
    with pytest.raises(TypeError, match="more dimensions than the model"):
        T.fill(T.vector(), T.matrix())


def test_broadcast_to(mode, rng):
    x = T.tensor("float32", shape=(1, None), name="x")
    n = T.lscalar("n")
    xv = random_value("float32", (1, 3), rng)
    cases = [
        (T.broadcast_to(x, (n, 3)), np.broadcast_to(xv, (4, 3))),
        (T.broadcast_to(x, (2, n, 3)), np.broadcast_to(xv, (2, 4, 3))),
        (T.broadcast_to(5, (2,)), np.broadcast_to(5, (2,))),
    ]
    check_cases(mode, [x, n], [xv, 4], cases)
    with pytest.raises(ShapeError, match="length 3, the target 2"):
        T.broadcast_to(T.vector(shape=(3,)), (2,))


# ------------------------------------------------------------------------- eye, tri

def test_eye_identity_like_tri(mode):
    n, m, k = T.lscalar("n"), T.iscalar("m"), T.lscalar("k")
    x = T.tensor("int16", shape=(None, None), name="x")
    xv = np.zeros((2, 4), "int16")
    cases = [
        (T.eye(3), np.eye(3)),
        (T.eye(n), np.eye(3)),
        (T.eye(n, m, k, dtype="int8"), np.eye(3, 5, -1, dtype="int8")),
        (T.eye(2, 4, 2, dtype="complex64"), np.eye(2, 4, 2, dtype="complex64")),
        (T.eye(n, 2, k=-5), np.eye(3, 2, -5)),
        (T.identity_like(x), np.eye(2, 4, dtype="int16")),
        (T.identity_like(x, "bool"), np.eye(2, 4, dtype="bool")),
        (T.tri(3), np.tri(3)),
        (T.tri(n, m, k, dtype="int64"), np.tri(3, 5, -1, dtype="int64")),
        (T.tri(2, 4, 1, dtype="bool"), np.tri(2, 4, 1, dtype=bool)),
    ]
    check_cases(mode, [n, m, k, x], [3, 5, -1, xv], cases)
    assert T.eye(n, 4).type.shape == (None, 4)
    assert T.tri(2, m).type.shape == (2, None)
    assert T.identity_like(T.matrix(shape=(3, None))).type.shape == (3, None)
    assert Eye("int8") == Eye("int8") and Eye("int8") != Eye("int16")
    assert Tri("float64") != Eye("float64")
    check_infer_shape([T.eye(n, m), T.tri(m, n, k)], [n, m, k], [2, 3, 1])


def test_eye_tri_errors():
    with pytest.raises(TypeError, match=r"eye: N must be an integer scalar, got .*float64"):
        T.eye(T.dscalar())
    with pytest.raises(TypeError, match="eye: k must be an integer"):
        T.eye(2, k=0.5)
    with pytest.raises(ValueError, match="negative dimensions"):
        T.tri(2, -3)
    with pytest.raises(TypeError, match="identity_like expects a matrix, got .* with 3 dimensions"):
        T.identity_like(T.tensor3())


@pytest.mark.parametrize("dtype", ["bool", "int8", "float32", "complex128"])
def test_tril_triu(dtype, mode, rng):
    x = T.tensor(dtype, shape=(None, None), name="x")
    y = T.tensor(dtype, shape=(2, None, 4), name="y")
    k = T.lscalar("k")
    xv, yv = random_value(dtype, (3, 4), rng), random_value(dtype, (2, 3, 4), rng)
    cases = [
        (T.tril(x), np.tril(xv)),
        (T.tril(x, -1), np.tril(xv, -1)),
        (T.triu(x, 2), np.triu(xv, 2)),
        (T.triu(x, k), np.triu(xv, -1)),
        (T.tril(x, k), np.tril(xv, -1)),
        (T.tril(y, 1), np.tril(yv, 1)),
        (T.triu(y, -2), np.triu(yv, -2)),
    ]
    check_cases(mode, [x, y, k], [xv, yv, -1], cases)
    assert T.triu(y).type.shape == (2, None, 4)
    with pytest.raises(TypeError, match="at least 2 dimensions, got .* with 1 dimensions"):
        T.tril(T.vector())


# ------------------------------------------------------------------------- arange, linspace

def test_arange_dtype():
    assert T.arange(5).dtype == "int64"
    assert T.arange(T.bscalar(), T.iscalar()).dtype == "int64"
    assert T.arange(T.constant(np.uint8(4))).dtype == "int64"
    assert T.arange(0, 1, 0.25).dtype == "float64"
    assert T.arange(T.fscalar()).dtype == "float32"
    assert T.arange(0, T.fscalar(), 0.5).dtype == "float32"
    assert T.arange(T.iscalar(), T.fscalar()).dtype == "float64"
    assert T.arange(T.fscalar(), T.dscalar()).dtype == "float64"
    assert T.arange(3, dtype="float32").dtype == "float32"
    with config.change_flags(floatX="float32"):
        assert T.arange(0.5).dtype == "float64"  # as NumPy


def test_arange_values(mode):
    a, b, s = T.lscalar("a"), T.lscalar("b"), T.lscalar("s")
    fa, fb, fs = T.fscalar("fa"), T.dscalar("fb"), T.fscalar("fs")
    cases = [
        (T.arange(5), np.arange(5)),
        (T.arange(b), np.arange(7)),
        (T.arange(a, b), np.arange(-2, 7)),
        (T.arange(a, b, s), np.arange(-2, 7, 3)),
        (T.arange(b, a, -s), np.arange(7, -2, -3)),
        (T.arange(a, b, -1), np.arange(-2, 7, -1)),
        (T.arange(0, 1, 0.1), np.arange(0, 1, 0.1)),
        (T.arange(fa, 2, fs), np.arange(np.float32(0.5), 2, np.float32(0.25), dtype="float32")),
        (T.arange(fa, fb, 0.5), np.arange(0.5, 3.0, 0.5)),
        (T.arange(a, b, dtype="int8"), np.arange(-2, 7, dtype="int8")),
        (T.arange(b, dtype="float64"), np.arange(7.0)),
    ]
    check_cases(mode, [a, b, s, fa, fb, fs], [-2, 7, 3, 0.5, 3.0, 0.25], cases)
    assert T.arange(2, 11, 3).type.shape == (3,)
    assert T.arange(0, 1, 0.1).type.shape == (10,)
    assert T.arange(5, 1).type.shape == (0,)
    assert T.arange(b).type.shape == (None,)
    assert isinstance(T.arange(b).owner.op, ARange)


def test_arange_errors(mode):
    with pytest.raises(ValueError, match="step must not be zero"):
        T.arange(0, 5, 0)
    with pytest.raises(TypeError, match="complex arguments are not supported"):
        T.arange(T.zscalar())
    with pytest.raises(TypeError, match="stop must be a real scalar, got .* with 1 dimensions"):
        T.arange(T.lvector())
    s = T.lscalar("s")
    f = sg.function([s], T.arange(0, 5, s), mode=mode)
    with pytest.raises(ValueError, match="step must not be zero"):
        f(0)


def test_arange_infer_shape():
    a, b, s = T.lscalar("a"), T.lscalar("b"), T.lscalar("s")
    fa, fs = T.dscalar("fa"), T.fscalar("fs")
    out = T.arange(a, b, s)
    for vals in ([0, 7, 2], [7, 0, -3], [5, 1, 1]):
        check_infer_shape(out, [a, b, s], vals)
    check_infer_shape(T.arange(fa, 2.0, fs), [fa, fs], [0.1, np.float32(0.3)])
    check_infer_shape(T.arange(fa, 1, fs), [fa, fs], [3.0, np.float32(-0.5)])
    check_infer_shape(T.arange(2, 9, 2), [], [])


@functools.cache
def _arange_and_length():
    """arange of symbolic float64 scalars, and its infer_shape length, compiled once."""
    a, b, s = T.dscalar("a"), T.dscalar("b"), T.dscalar("s")
    out = T.arange(a, b, s)
    (n,) = out.owner.op.infer_shape(None, out.owner, [(), (), ()])[0]
    return sg.function([a, b, s], [out, n], mode="py")


_num = st.one_of(st.integers(-20, 20), st.floats(-20, 20).map(lambda v: round(v, 2)))


@settings(max_examples=60, deadline=None)
@given(_num, _num, _num)
def test_arange_length_matches_numpy(start, stop, step):
    """Static length (constants) and inferred length (symbolic) agree with NumPy."""
    assume(step != 0)
    want = np.arange(start, stop, step)
    out = T.arange(start, stop, step)
    assert out.type.shape == want.shape
    assert out.dtype == want.dtype
    got, n = _arange_and_length()(float(start), float(stop), float(step))
    assert_allclose(got, np.arange(float(start), float(stop), float(step)))
    assert int(n) == got.shape[0]


@pytest.mark.parametrize("start, stop, num, endpoint, dtype", [
    (0, 1, 5, True, None),
    (-1.5, 2, 4, False, None),
    (2, 10, 1, True, None),
    (2, 10, 1, False, None),
    (0, 1, 0, True, None),
    (0, 10, 4, True, "int64"),
    (-3, 3, 7, True, "int32"),
    (1j, 2, 3, True, None),
    (0, 1, 6, True, "float32"),
])
def test_linspace_constants(start, stop, num, endpoint, dtype):
    out = T.linspace(start, stop, num, endpoint=endpoint, dtype=dtype)
    want = np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype)
    assert out.type.shape == (num,)
    assert_allclose(out.eval(), want)


def test_linspace_symbolic(mode):
    a, b = T.fscalar("a"), T.fscalar("b")
    i = T.lscalar("i")
    v = T.dvector("v")
    av, bv = np.float32(-1.0), np.float32(2.5)
    vv = np.array([0.0, 10.0, -4.0])
    cases = [
        (T.linspace(a, b, 7), np.linspace(av, bv, 7)),
        (T.linspace(a, 3, 4, endpoint=False), np.linspace(av, 3, 4, endpoint=False)),
        (T.linspace(0, i, 5), np.linspace(0, 9, 5)),
        (T.linspace(a, b, 5, dtype="int16"), np.linspace(av, bv, 5, dtype="int16")),
        (T.linspace(v, 1.0, 3), np.linspace(vv, 1.0, 3)),
        (T.linspace(0, v, 4, endpoint=False), np.linspace(0, vv, 4, endpoint=False)),
    ]
    check_cases(mode, [a, b, i, v], [av, bv, 9, vv], cases)
    with pytest.raises(TypeError, match="num must be a Python int, got float"):
        T.linspace(0, 1, 2.0)
    with pytest.raises(ValueError, match="must be non-negative"):
        T.linspace(0, 1, -1)


# ------------------------------------------------------------------------- diag, diagonal

@pytest.mark.parametrize("dtype", ["int8", "float32", "complex128", "bool"])
def test_diag_diagonal(dtype, mode, rng):
    v = T.tensor(dtype, shape=(None,), name="v")
    x = T.tensor(dtype, shape=(None, None), name="x")
    y = T.tensor(dtype, shape=(2, None, 4), name="y")
    vv, xv, yv = (random_value(dtype, shape, rng) for shape in [(3,), (3, 4), (2, 3, 4)])
    cases = [
        (T.diag(v), np.diag(vv)),
        (T.diag(v, 2), np.diag(vv, 2)),
        (T.diag(v, -1), np.diag(vv, -1)),
        (T.diag(x), np.diag(xv)),
        (T.diag(x, 1), np.diag(xv, 1)),
        (T.diag(x, -2), np.diag(xv, -2)),
        (T.diag(x, 7), np.diag(xv, 7)),
        (x.diagonal(), np.diagonal(xv)),
        (T.diagonal(y), np.diagonal(yv)),
        (T.diagonal(y, 1, -1, 0), np.diagonal(yv, 1, -1, 0)),
        (y.diagonal(-1, 1, 2), np.diagonal(yv, -1, 1, 2)),
        (T.diagonal(y, 0, 2, 1), np.diagonal(yv, 0, 2, 1)),
    ]
    check_cases(mode, [v, x, y], [vv, xv, yv], cases)


def test_diag_static_shape_and_errors():
    assert T.diag(T.vector(shape=(3,)), -2).type.shape == (5, 5)
    assert T.diag(T.vector()).type.shape == (None, None)
    assert T.diag(T.matrix(shape=(3, 5)), 1).type.shape == (3,)
    assert T.diag(T.matrix(shape=(3, 5)), -4).type.shape == (0,)
    assert T.diagonal(T.tensor3(shape=(2, 3, 4)), 1, 0, 2).type.shape == (3, 2)
    assert T.diagonal(T.tensor3(shape=(2, None, 4)), 0, 2, 0).type.shape == (None, 2)
    assert isinstance(T.diag(T.vector()).owner.op, AllocDiag)
    assert T.diagonal(T.tensor3(), 0, -1, 0).owner.op == ExtractDiag(0, 2, 0)
    with pytest.raises(TypeError, match="vector or a matrix, got .* with 3 dimensions"):
        T.diag(T.tensor3())
    with pytest.raises(TypeError, match="at least 2 dimensions"):
        T.diagonal(T.vector())
    with pytest.raises(ValueError, match="axis1 and axis2 must differ"):
        T.diagonal(T.tensor3(), 0, 1, -2)
    with pytest.raises(np.exceptions.AxisError, match="axis 3 is out of bounds"):
        T.diagonal(T.tensor3(), 0, 0, 3)
    with pytest.raises(TypeError, match="k must be an int"):
        T.diag(T.vector(), 1.5)


def test_diag_infer_shape(rng):
    v = T.vector("v")
    y = T.tensor3("y")
    check_infer_shape([T.diag(v, -2)], [v], [np.ones(3)])
    for args in [(0, 0, 1), (2, 0, 2), (-1, 2, 1), (-5, 1, 0)]:
        check_infer_shape([T.diagonal(y, *args)], [y], [np.ones((2, 3, 4))])
