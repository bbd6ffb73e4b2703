"""The numba kernels of Join, Split, Tile and Repeat (backends/numba/dispatch/join.py).
Always compiled with mode="numba", whatever SYMGRAPH_TEST_BACKENDS says; the op
tests (tests/tensor/test_join.py) cover the values on both backends, these the
backend's own cases: no object mode, layouts, read-only and empty inputs, mixed
dtypes, and errors raised in native code."""

from functools import partial

import numpy as np
import pytest

import symgraph.tensor as T
from backends.numba.dispatch import kernel_for
from symgraph.compile.mode import Mode
from symgraph.tensor.join import Join, Repeat, Split, Tile
from tests.backends.numba import utils as nb

NUMBA = Mode("numba", optimizer=None)  # no rewrite: the graph keeps the nodes under test
PY = Mode("py", optimizer=None)

compile_both = partial(nb.compile_both, mode=NUMBA, ref_mode=PY)
check_same = nb.check_same


@pytest.fixture(scope="module")
def joins():
    x = T.dmatrix("x")
    i = T.tensor("int8", shape=(None, None), name="i")
    sizes = T.lvector("sizes")
    reps = T.lvector("reps")
    r = T.lscalar("r")
    counts = T.lvector("counts")
    parts = Split(3, 1)(x, sizes, return_list=True)
    outs = [Join(0)(x, i, x), Join(-1)(i, x), *parts,
            Tile(2)(x, reps), Repeat(0)(x, counts), Repeat(1)(i, r), Repeat(None)(x, r)]
    ins = [x, i, sizes, reps, r, counts]
    return ins, compile_both(ins, outs)


def test_kernels_native_and_shared():
    x = T.fmatrix("x")
    for out in (Join(1)(x, T.bmatrix()), Split(2, 0)(x, T.lvector())[0],
                Tile(2)(x, T.lvector()), Repeat(None)(T.ftensor3(), T.lscalar()),
                Repeat(0)(T.tensor("bool", shape=(None,)), T.lvector())):
        k = kernel_for(out.owner)
        assert not k.runtime_globals and k.uncacheable is None, out.owner
    a = kernel_for(Join(0)(T.dmatrix("a"), T.dmatrix("b")).owner)
    assert a.key == kernel_for(Join(0)(T.dmatrix("c"), T.dmatrix("d")).owner).key


def test_values_layouts_and_read_only(joins, rng):
    _, (f, ref) = joins
    x = rng.normal(size=(3, 4))
    i = rng.integers(-5, 5, size=(3, 4)).astype("int8")
    args = [x, i, np.array([1, 0, 3]), np.array([2, 3]), np.array(2), np.array([1, 0, 2])]
    got = check_same(f, ref, *args)
    assert got[0].dtype == np.float64 and got[0].shape == (9, 4)
    check_same(f, ref, x.T.copy().T, i[::-1, ::-1], *args[2:])
    big = rng.normal(size=(6, 8))
    check_same(f, ref, big[::2, ::2], i, *args[2:])
    ro = [a.copy() for a in args]
    for a in ro:
        a.setflags(write=False)
    check_same(f, ref, *ro)


def test_split_pieces_are_views_of_the_input(rng):
    x = T.dmatrix("x")
    s = T.lvector("s")
    f, ref = compile_both([x, s], Split(2, 0)(x, s, return_list=True))
    xv = rng.normal(size=(4, 3))
    got = check_same(f, ref, xv, np.array([1, 3]))
    assert got[0].shape == (1, 3) and got[1].shape == (3, 3)
    xv_before = xv.copy()
    check_same(f, ref, xv[:, ::2], np.array([4, 0]))
    np.testing.assert_array_equal(xv, xv_before)  # the input is never written


def test_empty_inputs_and_counts(joins):
    _, (f, ref) = joins
    e = np.zeros((0, 4))
    args = [e, np.zeros((0, 4), dtype="int8"), np.array([0, 4, 0]), np.array([3, 0]),
            np.array(0), np.zeros(0, dtype="int64")]
    got = check_same(f, ref, *args)
    assert got[5].shape == (0, 0) and got[7].shape == (0, 0)
    x = np.ones((2, 4))
    got = check_same(f, ref, x, x.astype("int8"), np.array([0, 0, 4]), np.array([0, 5]),
                     np.array(0), np.array([0]))
    assert got[6].shape == (0, 4) and got[7].shape == (2, 0) and got[8].shape == (0,)


def test_zero_d_tile_and_repeat():
    s = T.dscalar("s")
    f, ref = compile_both([s], [Tile(0)(s, T.constant(np.zeros(0, dtype="int64"))),
                                Repeat(None)(s, T.constant(np.array(3)))])
    got = check_same(f, ref, 2.5)
    assert got[0].shape == () and got[1].tolist() == [2.5, 2.5, 2.5]


@pytest.mark.parametrize("bad, match", [
    ({1: np.zeros((3, 5), dtype="int8")}, "must agree in every other dimension"),
    ({2: np.array([1, 1, 1])}, "sum to 3"),
    ({2: np.array([-1, 2, 3])}, "sizes must be >= 0"),
    ({3: np.array([1, -1])}, "reps must be >= 0"),
    ({5: np.array([1, 2])}, "do not match the 3 elements"),
    ({5: np.array([1, -2, 1])}, "repeats must be >= 0"),
    ({4: np.array(-1)}, "repeats must be >= 0"),
])
def test_errors_raise_in_native_code_and_name_the_node(joins, bad, match):
    _, (f, _) = joins
    args = [np.zeros((3, 4)), np.zeros((3, 4), dtype="int8"), np.array([1, 0, 3]),
            np.array([1, 1]), np.array(1), np.array([1, 1, 1])]
    f(*args)
    for k, v in bad.items():
        args[k] = v
    with pytest.raises(ValueError):
        f._thunk.jitted(*args)
    with pytest.raises(ValueError, match=match):
        f(*args)
