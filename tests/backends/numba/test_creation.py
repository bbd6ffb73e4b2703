"""The numba kernels of Alloc, Eye, Tri, ARange, AllocDiag and ExtractDiag
(backends/numba/dispatch/creation.py). Always compiled with mode="numba", whatever
SYMGRAPH_TEST_BACKENDS says; the op tests (tests/tensor/test_creation.py) cover the
values on both backends, these the backend's own cases: no object mode, static
broadcasting, layouts, empty and 0-d results, NumPy's arange arithmetic bit for bit,
and errors raised in native code."""

import warnings
from functools import partial

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from backends.numba.dispatch import kernel_for
from symgraph.compile.mode import Mode
from symgraph.graph.utils import ShapeError
from symgraph.tensor.creation import Alloc, AllocDiag, ARange, ExtractDiag, Eye, Tri
from tests.backends.numba import utils as nb
from tests.utils import assert_allclose

NUMBA = Mode("numba", optimizer=None)  # no rewrite: the graph keeps the nodes under test
PY = Mode("py", optimizer=None)

compile_both = partial(nb.compile_both, mode=NUMBA, ref_mode=PY)
check_same = partial(nb.check_same, exact=True)


def test_kernels_native_and_shared():
    n = T.lscalar("n")
    for out in (Alloc()(T.fvector(), n, n), Eye("bool")(n, n, n), Tri("complex64")(n, n, n),
                ARange("float32")(T.fscalar(), T.bscalar(), T.dscalar()),
                AllocDiag(-2)(T.zvector()), ExtractDiag(1, 2, 0)(T.itensor3())):
        k = kernel_for(out.owner)
        assert not k.runtime_globals and k.uncacheable is None, out.owner
    a = kernel_for(Eye("float64")(T.lscalar("a"), n, n).owner)
    assert a.key == kernel_for(Eye("float64")(n, T.lscalar("b"), n).owner).key


@pytest.fixture(scope="module")
def allocs():
    v = T.tensor("float64", shape=(1, None), name="v")   # its first dimension broadcasts
    s = T.dscalar("s")
    i = T.tensor("int16", shape=(None,), name="i")
    n, m = T.lscalar("n"), T.lscalar("m")
    outs = [Alloc()(v, n, m), Alloc()(v, m, n, m), Alloc()(s, n, m), Alloc()(s),
            Alloc()(i, n, m)]
    ins = [v, s, i, n, m]
    return ins, compile_both(ins, outs)


def test_alloc_broadcasting_layouts_and_empty(allocs, rng):
    _, (f, ref) = allocs
    v = rng.normal(size=(1, 3))
    got = check_same(f, ref, v, 2.5, np.arange(3, dtype="int16"), 2, 3)
    assert got[0].shape == (2, 3) and got[3].shape == () and got[4].dtype == np.int16
    row = rng.normal(size=(2, 6))[:1, ::2]  # a strided view
    ro = v.copy()
    ro.setflags(write=False)
    check_same(f, ref, row, 1.0, np.arange(6, dtype="int16")[::2], 4, 3)
    check_same(f, ref, ro, 1.0, np.arange(3, dtype="int16"), 0, 3)
    got = check_same(f, ref, np.zeros((1, 0)), 1.0, np.zeros(0, dtype="int16"), 5, 0)
    assert got[1].shape == (0, 5, 0)


@pytest.mark.parametrize("k, bad, match", [
    (4, -1, "negative dimensions are not allowed"),
    (4, 4, "dimension 1 of the value has length 3, the target 4"),
])
def test_alloc_errors_raise_in_native_code(allocs, k, bad, match):
    _, (f, _) = allocs
    args = [np.zeros((1, 3)), 1.0, np.zeros(3, dtype="int16"), 2, 3]
    args[k] = bad
    with pytest.raises(ValueError):
        f._thunk.jitted(*[np.asarray(a) for a in args])
    with pytest.raises(ValueError, match=match):
        f(*args)


def test_alloc_does_not_stretch_a_dimension_of_unknown_length():
    v = T.dmatrix("v")
    f = sg.function([v], Alloc()(v, T.constant(3, dtype="int64"), T.constant(2, dtype="int64")),
                    mode=NUMBA)
    assert_allclose(f(np.ones((3, 2))), np.ones((3, 2)))
    with pytest.raises(ShapeError, match="only dimensions declared with static length 1"):
        f(np.ones((1, 2)))


def test_eye_tri_diagonals():
    n, m, k = T.lscalar("n"), T.lscalar("m"), T.lscalar("k")
    x = T.tensor("float32", shape=(None, None, None), name="x")
    v = T.tensor("int8", shape=(None,), name="v")
    outs = [Eye("float64")(n, m, k), Eye("bool")(n, m, k), Tri("complex128")(n, m, k),
            Tri("int8")(n, m, k), AllocDiag(2)(v), AllocDiag(-1)(v), AllocDiag(0)(v),
            ExtractDiag(1, 0, 2)(x), ExtractDiag(-2, 2, 1)(x), ExtractDiag(0, 1, 0)(x)]
    f, ref = compile_both([n, m, k, x, v], outs)
    xv = np.arange(60, dtype="float32").reshape(3, 4, 5)
    vv = np.array([1, -2, 3], dtype="int8")
    for nmk in [(3, 4, 0), (4, 3, 1), (3, 5, -2), (2, 2, 7), (3, 3, -9), (0, 3, 0), (3, 0, 1)]:
        check_same(f, ref, *nmk, xv, vv)
    check_same(f, ref, 3, 3, 0, xv.transpose(1, 2, 0)[::-1], vv[::-1])
    got = check_same(f, ref, 2, 2, 0, np.zeros((0, 4, 2), dtype="float32"), vv[:0])
    assert got[4].shape == (2, 2) and got[7].shape == (4, 0)
    with pytest.raises(ValueError, match="negative dimensions"):
        f(-1, 2, 0, xv, vv)


@pytest.mark.parametrize("dtypes", [
    ("int8", "int8", "int8", "int64"),          # int8 arithmetic wraps before the cast
    ("float32", "float32", "float32", "float32"),
    ("int64", "float32", "int16", "float32"),
    ("float64", "float64", "float64", "int16"),
    ("uint8", "int64", "uint16", "uint64"),
], ids=str)
def test_arange_matches_numpy_bit_for_bit(dtypes):
    ins = [T.tensor(d, shape=(), name=n) for d, n in zip(dtypes[:3], "abc")]
    f, ref = compile_both(ins, ARange(dtypes[3])(*ins))
    rng = np.random.default_rng(5)

    def value(d):
        if d.startswith("float"):
            return np.asarray(rng.uniform(-5, 5), dtype=d)
        return np.asarray(rng.integers(0 if d.startswith("u") else -20, 20), dtype=d)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's own int8 overflow
        for _ in range(40):
            vals = [value(d) for d in dtypes[:3]]
            if vals[2] == 0:
                continue
            got = f(*vals)
            want = ref(*vals)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


def test_arange_errors_and_empty():
    a, b, c = T.dscalar("a"), T.dscalar("b"), T.dscalar("c")
    f = sg.function([a, b, c], ARange("float64")(a, b, c), mode=NUMBA)
    assert f(5.0, 1.0, 1.0).shape == (0,)
    assert f(0.0, 1.0, 2.0).tolist() == [0.0]
    with pytest.raises(ValueError):
        f._thunk.jitted(np.array(0.0), np.array(1.0), np.array(0.0))
    with pytest.raises(ValueError, match="step must not be zero"):
        f(0.0, 1.0, 0.0)
    with pytest.raises(ValueError):
        f(0.0, np.nan, 1.0)
