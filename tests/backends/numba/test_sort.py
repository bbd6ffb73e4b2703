"""The numba kernels of Sort, ArgSort and Nonzero (backends/numba/dispatch/sort.py).
Always compiled with mode="numba", whatever SYMGRAPH_TEST_BACKENDS says; the op
tests (tests/tensor/test_sort.py) cover the values on both backends, these the
backend's own cases: no object mode, NumPy's order for NaNs and complex numbers,
stability on ties past the insertion-sort runs, layouts, read-only, empty and 0-d
inputs, and outputs whose length depends on the data."""

from functools import partial

import numpy as np
import pytest

import symgraph.tensor as T
from backends.numba.dispatch import kernel_for
from symgraph.compile.mode import Mode
from symgraph.tensor.sort import ArgSort, Nonzero, Sort
from tests.backends.numba import utils as nb

NUMBA = Mode("numba", optimizer=None)  # no rewrite: the graph keeps the nodes under test
PY = Mode("py", optimizer=None)

compile_both = partial(nb.compile_both, mode=NUMBA, ref_mode=PY)
check_same = partial(nb.check_same, exact=True)


def test_kernels_native_and_shared():
    for out in (Sort(0, "quicksort")(T.zmatrix()), ArgSort(None, "stable")(T.btensor3()),
                Sort(-1, "heapsort")(T.tensor("bool", shape=(None,))),
                Nonzero(True)(T.fmatrix()), Nonzero(False)(T.ctensor3())[0]):
        k = kernel_for(out.owner)
        assert not k.runtime_globals and k.uncacheable is None, out.owner
    a = kernel_for(Sort(1, "stable")(T.dmatrix("a")).owner)
    assert a.key == kernel_for(Sort(1, "stable")(T.dmatrix("b")).owner).key


@pytest.fixture(scope="module")
def float_sorts():
    x = T.dmatrix("x")
    outs = [Sort(1, "quicksort")(x), Sort(0, "stable")(x), Sort(None, "mergesort")(x),
            ArgSort(1, "stable")(x), ArgSort(0, "mergesort")(x), ArgSort(None, "stable")(x),
            ArgSort(1, "quicksort")(x)]
    return compile_both([x], outs)


def test_nan_order_and_stability_on_ties(float_sorts, rng):
    f, ref = float_sorts
    # long rows (merges past the insertion-sort runs), many ties, NaNs and infinities
    v = rng.integers(-3, 4, size=(5, 70)).astype(float)
    v[rng.random(v.shape) < 0.1] = np.nan
    v[0, :3] = [np.inf, -np.inf, -0.0]
    got = check_same(f, ref, v, unspecified=(6,))
    np.testing.assert_array_equal(got[3], np.argsort(v, axis=1, kind="stable"))
    # the quicksort order of ties is unspecified: check that it sorts
    np.testing.assert_array_equal(np.take_along_axis(v, got[6], 1), np.sort(v, axis=1))


def test_layouts_read_only_and_empty(float_sorts, rng):
    f, ref = float_sorts
    v = rng.integers(0, 5, size=(8, 40)).astype(float)
    check_same(f, ref, v.T, unspecified=(6,))
    check_same(f, ref, v[::2, ::3], unspecified=(6,))
    ro = v.copy()
    ro.setflags(write=False)
    check_same(f, ref, ro, unspecified=(6,))
    for shape in [(0, 3), (3, 0), (1, 1)]:
        check_same(f, ref, np.zeros(shape))


def test_complex_and_integer_orders(rng):
    z = T.zvector("z")
    b = T.tensor("bool", shape=(None, None), name="b")
    u = T.tensor("uint64", shape=(None,), name="u")
    s = T.dscalar("s")
    outs = [Sort(0, "quicksort")(z), ArgSort(0, "stable")(z), Sort(0)(b), ArgSort(1, "stable")(b),
            Sort(-1)(u), ArgSort(0, "heapsort")(u), Sort(None)(s), ArgSort(None)(s)]
    f, ref = compile_both([z, b, u, s], outs)
    re = rng.integers(-1, 2, size=50).astype(float)
    im = rng.integers(-1, 2, size=50).astype(float)
    re[::7] = np.nan
    im[::5] = np.nan
    zv = re + 1j * im
    bv = rng.integers(0, 2, size=(3, 30)).astype(bool)
    uv = np.array([2**64 - 1, 0, 2**63, 5, 5], dtype="uint64")
    got = check_same(f, ref, zv, bv, uv, 1.5)
    np.testing.assert_array_equal(got[1], np.argsort(zv, kind="stable"))
    assert got[6].shape == (1,) and got[7].tolist() == [0]


def test_nonzero_counts_then_fills(rng):
    x = T.tensor("float32", shape=(None, None, None), name="x")
    z = T.zvector("z")
    b = T.tensor("bool", shape=(None, None), name="b")
    outs = [*Nonzero(False)(x), Nonzero(True)(x), Nonzero(False)(z), Nonzero(True)(b),
            *Nonzero(False)(b)]
    f, ref = compile_both([x, z, b], outs)
    xv = (rng.integers(0, 3, size=(3, 4, 2)) * rng.normal(size=(3, 4, 2))).astype("float32")
    xv[0, 0, 0] = np.nan  # NaN is not zero
    zv = np.array([0, 1j, 0, 2, np.nan, -0.0])
    bv = rng.integers(0, 2, size=(4, 3)).astype(bool)
    got = check_same(f, ref, xv, zv, bv)
    assert got[0][0] == 0 and got[4].tolist() == [1, 3, 4]
    check_same(f, ref, xv.transpose(2, 1, 0), zv[::-1], bv.T)
    got = check_same(f, ref, np.zeros((2, 0, 2), dtype="float32"), np.zeros(3, dtype=complex),
                     np.ones((2, 2), dtype=bool))
    assert got[3].shape == (3, 0) and got[4].shape == (0,) and got[5].shape == (2, 4)
