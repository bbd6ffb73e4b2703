"""Indexing kernels of the numba backend (backends/numba/dispatch/subtensor.py).

The op tests (tests/tensor/test_subtensor*.py) check values on every backend; these
check what is particular to the compiled kernels: every pattern compiles natively
(no object-mode fallback), errors are raised inside native code (IndexError for
bad indices, ValueError for bad shapes), repeated indices, empty selections, and
non-contiguous or read-only inputs. Outputs share one function per test, so each
test compiles few graphs.
"""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from backends.numba.dispatch import kernel_for
from symgraph.compile.mode import Mode
from symgraph.tensor.subtensor import (
    AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor, Subtensor, SumToShape,
)

INDEX_OPS = (Subtensor, AdvancedSubtensor, IncSubtensor, AdvancedIncSubtensor, SumToShape)
NUMBA = Mode("numba", optimizer=None)  # the graph as built: the kernels under test


def compile_native(inputs, outputs):
    """A numba function of ``outputs`` whose indexing nodes all compiled natively."""
    f = sg.function(inputs, outputs, mode=NUMBA, on_unused_input="ignore")
    for node in f._thunk.order:
        if isinstance(node.op, INDEX_OPS):
            assert kernel_for(node).uncacheable is None, f"{node} runs in object mode"
    return f


def check(got, want):
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.shape)
    np.testing.assert_array_equal(got, want)


# Symbolic inputs and their values, shared by the pattern tests.
X = T.tensor("float64", shape=(None, None, None), name="x")
I = T.lscalar("i")
U = T.tensor("uint8", shape=(), name="u")
IV = T.lvector("iv")
IM = T.lmatrix("im")
UV = T.tensor("uint64", shape=(None,), name="uv")
M34 = T.tensor("bool", shape=(None, None), name="m34")
M4 = T.tensor("bool", shape=(None,), name="m4")
INPUTS = [X, I, U, IV, IM, UV, M34, M4]


def _values(rng):
    return {"x": rng.normal(size=(3, 4, 5)), "i": np.array(-2), "u": np.array(1, np.uint8),
            "iv": np.array([2, -1, 0, 2]), "im": np.array([[0, -1], [1, 1]]),
            "uv": np.array([2, 0, 2], np.uint64),
            "m34": rng.normal(size=(3, 4)) > 0, "m4": np.array([True, False, True, True])}


# keys as functions of the index inputs: symbolic (at build time) or values (NumPy)
PATTERNS = [
    lambda d: (slice(1, None), d["i"]),                          # basic, symbolic int
    lambda d: (d["i"], slice(d["u"], None, -1), slice(None, None, 2)),  # symbolic slice bounds
    lambda d: (d["i"], 0, -1),                                   # every axis an int: 0-d
    lambda d: d["iv"],                                           # x[idx]
    lambda d: (slice(None), d["iv"][:3] % 4),                    # x[:, idx]
    lambda d: (Ellipsis, d["iv"]),                               # last axis
    lambda d: (d["iv"][:2], d["im"]),                            # broadcast arrays, leading axes
    lambda d: (d["im"][:, :1], d["iv"]),                         # static length-1 axis broadcasts
    lambda d: (d["im"], slice(None, None, -1), d["iv"][1:3]),    # separated: broadcast dims first
    lambda d: (slice(1, 3), d["i"], d["iv"]),                    # int + array adjacent
    lambda d: (None, d["uv"], None, 1),                          # newaxis, unsigned array
    lambda d: d["m34"],                                          # mask over leading axes
    lambda d: (d["m34"], d["iv"][:1]),                           # mask and array broadcast
    lambda d: (slice(None), d["m4"], slice(1, None)),            # mask in the middle
    lambda d: (Ellipsis, np.array(True)),                        # 0-d mask
]


def _keys(rng):
    vals = _values(rng)
    sym = {"x": X, "i": I, "u": U, "iv": IV, "im": IM, "uv": UV, "m34": M34, "m4": M4}
    num = dict(vals)
    # int keys built from symbolic ints are symbolic; NumPy wants Python ints there
    num["i"], num["u"] = int(vals["i"]), int(vals["u"])
    return vals, [p(sym) for p in PATTERNS], [p(num) for p in PATTERNS]


def test_getitem_patterns_native(rng):
    vals, skeys, nkeys = _keys(rng)
    outs = [X[k] for k in skeys]
    f = compile_native(INPUTS, outs)
    xv = vals["x"]
    for k, got in zip(nkeys, f(*vals.values())):
        check(got, xv[k])


def test_set_inc_patterns_native(rng):
    """Each pattern with one kind of write in turn, and every advanced one with ``inc``
    (the accumulating loop); compile time stays low."""
    vals, skeys, nkeys = _keys(rng)
    xv = vals["x"]
    outs, want = [], []
    kinds = ["set", "inc", "inc_ignore_duplicates"]
    for p, (sk, nk) in enumerate(zip(skeys, nkeys)):
        advanced = isinstance(X[sk].owner.op, AdvancedSubtensor)
        for kind in {kinds[p % 3], "inc"} if advanced else {kinds[p % 3]}:
            shape = np.shape(xv[nk])
            # y broadcast along its first axis (a scalar when x[key] is 0-d)
            yv = rng.normal(size=(1,) + shape[1:] if shape else ())
            y = T.constant(yv)
            e = xv.copy()
            if kind == "set":
                outs.append(T.set_subtensor(X[sk], y))
                e[nk] = yv
            else:
                outs.append(T.inc_subtensor(X[sk], y, ignore_duplicates=kind != "inc"))
                if kind == "inc" and advanced:
                    np.add.at(e, nk, yv)
                else:
                    e[nk] += yv
            want.append(e)
    f = compile_native(INPUTS, outs)
    before = xv.copy()
    for got, e in zip(f(*vals.values()), want):
        np.testing.assert_allclose(got, e, rtol=1e-12)
    check(vals["x"], before)  # x itself is never written


def test_subtensor_returns_a_view_of_x(rng):
    xv = rng.normal(size=(3, 4, 5))
    f = compile_native([X, I], [X[1:, I], X[::-1, 0, 1:4:2]])
    a, b = f._thunk(xv, np.array(-1))
    assert np.shares_memory(a, xv) and np.shares_memory(b, xv)
    check(a, xv[1:, -1])
    check(b, xv[::-1, 0, 1:4:2])


def test_negative_and_out_of_bounds_indices_raise_in_native_code(rng):
    xv = rng.normal(size=(3, 4, 5))
    y = T.dvector("y")
    f = compile_native([X, I, IV, y], [X[I], X[:, IV]])
    g = compile_native([X, I, IV, y], [T.inc_subtensor(X[2, I, 1:], y[:1]),
                                       T.set_subtensor(X[IV, 0, 0], y)])
    good = np.array([-4, 3, 0, -1])
    for i in (-3, 2):
        r = f(xv, i, good, np.zeros(1))
        check(r[0], xv[i])
        check(r[1], xv[:, good])
    jf, jg = f._thunk.jitted, g._thunk.jitted
    for bad in (3, -4):  # axis 0 has length 3
        with pytest.raises(IndexError):
            jf(xv, np.array(bad), good, np.zeros(1))
        with pytest.raises(IndexError):
            f(xv, bad, good, np.zeros(1))
        with pytest.raises(IndexError):
            jg(xv, np.array(0), np.array([0, bad, 1]), np.zeros(3))
    for bad in (4, -5):  # axis 1 has length 4
        with pytest.raises(IndexError):
            jf(xv, np.array(0), np.array([0, bad]), np.zeros(1))
        with pytest.raises(IndexError):
            jg(xv, np.array(bad), np.array([0]), np.zeros(1))
    # a slice before the array may be empty: the index is still checked, as in NumPy
    with pytest.raises(IndexError):
        f._thunk.jitted(np.zeros((0, 4, 5)), np.array(0), np.array([4]), np.zeros(1))
    # an empty broadcast checks nothing, as in NumPy
    h = compile_native([X, IV, IM], X[IV, IM])
    check(h(xv, np.array([7, 0]), np.zeros((0, 1), np.int64)), np.zeros((0, 2, 5)))
    with pytest.raises(IndexError):
        h._thunk.jitted(xv, np.array([7, 0]), np.zeros((1, 1), np.int64))


def test_bad_masks_broadcasts_and_y_shapes_raise(rng):
    xv = rng.normal(size=(3, 4, 5))
    y = T.dvector("y")
    f = compile_native([X, M34, IV, IM, y],
                       [X[M34], X[IV, IM], T.set_subtensor(X[:, IV], y),
                        T.inc_subtensor(X[0, 1:], y)])
    m = np.ones((3, 4), bool)
    args = [xv, m, np.array([0, 1]), np.array([[0], [1]]), np.zeros(1)]
    f(*args)  # good call: y of length 1 stretches
    jit = f._thunk.jitted
    for k, bad, exc in [(1, np.ones((3, 3), bool), IndexError),
                        (1, np.ones((4, 4), bool), IndexError),
                        (3, np.array([[0, 1, 2]]), IndexError),
                        (4, np.zeros(2), ValueError)]:
        a = list(args)
        a[k] = bad
        with pytest.raises(exc):
            jit(*a)
        with pytest.raises(exc):
            f(*a)


def test_repeated_indices_accumulate_or_last_write_wins():
    x = T.dvector("x")
    iv = T.lvector("iv")
    y = T.dvector("y")
    f = compile_native([x, iv, y], [T.inc_subtensor(x[iv], y), T.set_subtensor(x[iv], y),
                                    T.inc_subtensor(x[iv], y, ignore_duplicates=True),
                                    T.inc_subtensor(x[iv], 1.0)])
    xv = np.array([10.0, 20.0, 30.0])
    idx = np.array([0, 2, -3, 0, 1])
    yv = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    inc, set_, dup, one = f(xv, idx, yv)
    check(inc, [18.0, 25.0, 32.0])
    check(set_, [4.0, 5.0, 2.0])
    check(dup, [14.0, 25.0, 32.0])
    check(one, [13.0, 21.0, 31.0])
    # repeated rows of a matrix, through a mask and an array together
    m = T.dmatrix("m")
    g = compile_native([m, iv], T.inc_subtensor(m[iv, 1:], 1.0))
    check(g(np.zeros((2, 3)), np.array([1, 1, -1, 0])), [[0.0, 1.0, 1.0], [0.0, 3.0, 3.0]])


def test_integer_and_bool_arithmetic_follow_numpy():
    iv = T.lvector("iv")
    x8 = T.tensor("int8", shape=(None,), name="x8")
    y8 = T.tensor("int8", shape=(None,), name="y8")
    xb = T.tensor("bool", shape=(None,), name="xb")
    yb = T.tensor("bool", shape=(None,), name="yb")
    xc = T.tensor("complex64", shape=(None,), name="xc")
    f = compile_native([x8, y8, xb, yb, xc, iv],
                       [T.inc_subtensor(x8[iv], y8), T.inc_subtensor(xb[iv], yb),
                        T.inc_subtensor(x8[1:], y8[1:]), T.inc_subtensor(xc[iv], 1j)])
    x8v = np.array([120, -128, 5], np.int8)
    y8v = np.array([10, 100, 7], np.int8)
    xbv = np.array([True, False, False])
    ybv = np.array([True, True, False])
    xcv = np.array([1, 2, 3], np.complex64)
    idx = np.array([0, 0, 1])
    a, b, c, d = f(x8v, y8v, xbv, ybv, xcv, idx)
    e = x8v.copy()
    np.add.at(e, idx, y8v)
    check(a, e)  # wraps like NumPy
    e = xbv.copy()
    np.add.at(e, idx, ybv)
    check(b, e)
    check(c, np.array([120, -28, 12], np.int8))
    e = xcv.copy()
    np.add.at(e, idx, np.complex64(1j))
    check(d, e)


def test_empty_selections(rng):
    xv = rng.normal(size=(3, 4, 5))
    y = T.dscalar("y")
    f = compile_native([X, IV, M34, y],
                       [X[IV], X[M34], X[2:1], X[:, IV, 1:], T.inc_subtensor(X[IV], y),
                        T.set_subtensor(X[M34], y), T.set_subtensor(X[:, 3:1], y)])
    empty = np.zeros(0, np.int64)
    none = np.zeros((3, 4), bool)
    r = f(xv, empty, none, 1.0)
    for got, want in zip(r, [xv[empty], xv[none], xv[2:1], xv[:, empty, 1:], xv, xv, xv]):
        check(got, want)
    # an empty x
    z = np.zeros((0, 4, 5))
    r = f(z, empty, np.zeros((0, 4), bool), 1.0)
    for got, want in zip(r, [z[empty], z[np.zeros((0, 4), bool)], z[2:1], z[:, empty, 1:],
                             z, z, z]):
        check(got, want)


def test_non_contiguous_and_read_only_inputs(rng):
    base = rng.normal(size=(6, 8, 5))
    views = [base[::2, 1::2], base.transpose(1, 0, 2)[:3, :4], base[::-2, ::-2][:3, :4]]
    ro = base[:3, :4].copy()
    ro.flags.writeable = False
    views.append(ro)
    y4, y5 = T.dvector("y4"), T.dvector("y5")
    f = compile_native([X, IV, M34, y4, y5],
                       [X[IV, ::-1], X[M34], X[:, IV, 2], T.inc_subtensor(X[IV, :, 1], y4),
                        T.set_subtensor(X[M34], 0.0), T.inc_subtensor(X[1:, 1], y5)])
    idx = np.array([2, 0, -1, 0])
    mask = rng.normal(size=(3, 4)) > 0
    for xv in views:
        assert xv.shape == (3, 4, 5)
        before = xv.copy()
        y4v, y5v = rng.normal(size=4), rng.normal(size=5)
        a, b, c, d, e, g = f(xv, idx, mask, y4v, y5v)
        check(a, xv[idx, ::-1])
        check(b, xv[mask])
        check(c, xv[:, idx, 2])
        want = xv.copy()
        np.add.at(want, (idx, slice(None), 1), y4v)
        np.testing.assert_allclose(d, want, rtol=1e-12)
        want = xv.copy()
        want[mask] = 0.0
        check(e, want)
        want = xv.copy()
        want[1:, 1] += y5v
        np.testing.assert_allclose(g, want, rtol=1e-12)
        check(xv, before)
    # the index arrays themselves may be strided or read-only
    idx_ro = np.array([1, 0, 1, 2, 0, 2])[::2]
    idx_ro.flags.writeable = False
    check(f(views[0], idx_ro, mask, np.zeros(4), np.zeros(5))[0], views[0][idx_ro, ::-1])


def test_sum_to_shape_native_values_and_errors(rng):
    g = T.tensor("float32", shape=(None, None, None), name="g")
    a, b = T.lscalars("a", "b")
    f = compile_native([g, a, b], [SumToShape()(g, a, b), SumToShape()(g, b)])
    gv = rng.normal(size=(2, 3, 4)).astype("float32")
    s1, s2 = f(gv, 1, 4)
    np.testing.assert_allclose(s1, gv.sum(axis=0).sum(axis=0, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(s2, gv.sum(axis=(0, 1)), rtol=1e-5)
    assert s1.dtype == s2.dtype == np.float32
    s1, s2 = f(gv, 3, 1)
    np.testing.assert_allclose(s1, gv.sum(axis=(0, 2), keepdims=True)[0], rtol=1e-5)
    np.testing.assert_allclose(s2, gv.sum(axis=(0, 1, 2)).reshape(1), rtol=1e-5)
    with pytest.raises(ValueError):
        f._thunk.jitted(gv, np.array(2), np.array(4))
    with pytest.raises(ValueError):
        f(gv, 3, 5)
    gi = T.tensor("int8", shape=(None, None), name="gi")
    h = compile_native([gi, a], SumToShape()(gi, a))
    giv = np.full((3, 4), 100, np.int8)
    check(h(giv, 1), np.asarray(giv.sum(axis=(0, 1), keepdims=True)[0], np.int8))


def test_equal_patterns_share_one_kernel():
    a = T.dmatrix("alpha_var")
    b = T.dmatrix("beta_var")
    i, j = T.lvector("i_var"), T.lvector("j_var")
    k1, k2 = kernel_for(a[i].owner), kernel_for(b[j].owner)
    assert k1.key == k2.key and k1.uncacheable is None
    assert kernel_for(a[:, i].owner).key != k1.key
    assert "_var" not in k1.source
