"""Indexing: getitem (Subtensor, AdvancedSubtensor), set/inc_subtensor, take."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph.utils import ShapeError
from symgraph.tensor.subtensor import (
    ARRAY, SCALAR, AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor, SliceIdx, Subtensor,
    indices_from_subtensor, slice_length,
)
from tests.utils import assert_allclose, check_infer_shape

DTYPES = ["bool", "int8", "uint16", "int64", "float32", "float64", "complex128"]


def _data(dtype, shape, rng):
    v = rng.integers(-20, 20, size=shape)
    if dtype == "bool":
        return v > 0
    if dtype.startswith("complex"):
        return (v + 1j * rng.integers(-5, 5, size=shape)).astype(dtype)
    if dtype.startswith("uint"):
        v = np.abs(v)
    return v.astype(dtype)


# ----------------------------------------------------------------------------- basic

BASIC_KEYS = [
    1, -1, (1, 2), (-1, -4, 0), slice(1, 3), slice(None, None, -1), (slice(None), slice(None, None, 2), -1),
    (Ellipsis, 0), (None, slice(None), 1), (0, None, Ellipsis, None), (slice(1, -1), None),
    slice(5, 2), (slice(-100, 100), slice(3, 0, -2)), (), Ellipsis, (Ellipsis, None),
    (slice(None), slice(None), slice(None, -6, -1)), np.int64(2),
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_basic_indexing_values(mode, dtype, rng):
    x = T.tensor(dtype, shape=(None, None, None), name="x")
    xv = _data(dtype, (3, 4, 5), rng)
    outs = [x[k] for k in BASIC_KEYS]
    for o in outs:
        assert isinstance(o.owner.op, (Subtensor, T.DimShuffle))
    f = sg.function([x], outs, mode=mode)
    before = xv.copy()
    for k, r in zip(BASIC_KEYS, f(xv)):
        assert_allclose(r, xv[k])
    assert_allclose(xv, before)


def test_basic_view_and_props():
    x = T.matrix("x")
    assert x[1:3].owner.op.view_map == {0: [0]}
    a = Subtensor((1, slice(None, 2)))
    b = Subtensor([1, slice(None, 2, None), slice(None)])
    assert a == b and hash(a) == hash(b)
    assert a.idx_list == (1, SliceIdx(None, 2, None))
    assert a != Subtensor((1, slice(None, 3)))
    c = Subtensor((SCALAR, slice(SCALAR, None, -1)))
    assert pickle.loads(pickle.dumps(c)) == c
    assert str(c) == "Subtensor{?, ?::-1}"
    d = AdvancedSubtensor((ARRAY, None, Ellipsis))
    assert pickle.loads(pickle.dumps(d)) == d
    # x[0] and x[0, :] are the same op
    assert x[0].owner.op == x[0, :].owner.op == x[0, ...].owner.op


def test_indices_from_subtensor_rebuilds_the_key():
    x = T.tensor3("x")
    i, n = T.lscalars("i", "n")
    v = T.lvector("v")
    for out in (x[i, 1:n:2], x[v, None, ..., ::-1]):
        node = out.owner
        key = indices_from_subtensor(node.inputs[1:], node.op.idx_list)
        again = x[key]
        assert again.owner.op == node.op and again.owner.inputs == node.inputs


def test_static_shapes():
    x = T.tensor("float64", shape=(5, None))
    assert x[1:3].type.shape == (2, None)
    assert x[1].type.shape == (None,)
    assert x[:, 1].type.shape == (5,)
    assert x[::-1].type.shape == (5, None)
    assert x[-2:, :3].type.shape == (2, None)
    assert x[:, 2:2].type.shape == (5, 0)
    assert x[:, -1:-4].type.shape == (5, 0)
    assert x[None, :, 1].type.shape == (1, 5)
    assert x[..., None].type.shape == (5, None, 1)
    assert x[10:].type.shape == (0, None)
    v = T.tensor("float64", shape=(1,))
    assert v[::-1].type.shape == (1,) and v[-5:].type.shape == (1,)
    # a constant-foldable symbolic bound still gives an exact static length
    assert x[: x.shape[0] - 2].type.shape == (3, None)
    # symbolic bounds of a known length leave it unknown
    n = T.lscalar("n")
    assert x[1:n].type.shape == (None, None)
    # advanced
    assert x[[0, 1, 1]].type.shape == (3, None)
    assert x[:, [[0, 1]]].type.shape == (5, 1, 2)
    assert x[np.array([True, False, True, True, False])].type.shape == (3, None)
    assert x[x > 0].type.shape == (None,)
    y = T.tensor("float64", shape=(2, 3, 4))
    assert y[[0, 1], :, [0, 2]].type.shape == (2, 3)  # separated: broadcast dims first
    assert y[:, [0, 1], [0, 2]].type.shape == (2, 2)
    assert y[0, :, [0, 1, 2]].type.shape == (3, 3)
    assert y[[[0], [1]], :, [0, 1]].type.shape == (2, 2, 3)
    assert y[[0, 1], None, [0, 1]].type.shape == (2, 1, 4)
    assert y[:, True].type.shape == (2, 1, 3, 4)
    assert y[False].type.shape == (0, 2, 3, 4)


def test_shape_getitem():
    x = T.tensor("float32", shape=(None, 3, 4))
    assert isinstance(x.shape[1], T.TensorConstant) and int(x.shape[-1].data) == 4
    i = T.lscalar("i")
    f = sg.function([x, i], [x.shape[0], x.shape[-1], x.shape[i], x.shape[1:]])
    r = f(np.zeros((2, 3, 4), "float32"), -3)
    assert [int(v) for v in r[:3]] == [2, 4, 2]
    assert_allclose(r[3], np.array([3, 4]))
    with pytest.raises(IndexError, match="3 dimensions"):
        x.shape[3]


@pytest.mark.parametrize("dtype", ["int32", "uint8", "int64"])
def test_symbolic_scalar_indices(mode, dtype, rng):
    x = T.tensor("float64", shape=(None, None), name="x")
    i, j, n, s = (T.tensor(dtype, shape=(), name=c) for c in "ijns")
    xv = rng.normal(size=(5, 4))
    outs = [x[i, j], x[1:n], x[n:], x[i:n:s], x[::s, j], x[i], x[:, i:]]
    f = sg.function([x, i, j, n, s], outs, mode=mode)
    signed = dtype != "uint8"
    for iv, jv, nv, sv in [(1, 2, 3, 1), (0, 3, 5, 2), (4, 0, 0, 3)] + \
            ([(-1, -2, -1, -1), (3, -4, -10, -2)] if signed else []):
        res = f(xv, iv, jv, nv, sv)
        exp = [xv[iv, jv], xv[1:nv], xv[nv:], xv[iv:nv:sv], xv[::sv, jv], xv[iv], xv[:, iv:]]
        for r, e in zip(res, exp):
            assert_allclose(r, e)


def test_symbolic_infer_shape(rng):
    x = T.matrix("x")
    i, n, s = T.lscalars("i", "n", "s")
    outs = [x[i:n:s, 1], x[::s], x[None, i]]
    xv = rng.normal(size=(6, 3))
    for sv in (2, -1, -3):
        check_infer_shape(outs, [x, i, n, s], [xv, -5, 5, sv])


def test_iteration_over_static_first_dim(rng):
    x = T.tensor("int64", shape=(3, None))
    rows = list(x)
    assert len(rows) == 3
    xv = rng.integers(0, 9, size=(3, 2))
    for r, e in zip(sg.function([x], rows)(xv), xv):
        assert_allclose(r, e)


@given(n=st.integers(0, 12), a=st.one_of(st.none(), st.integers(-12, 12)),
       b=st.one_of(st.none(), st.integers(-12, 12)),
       c=st.one_of(st.none(), st.integers(-5, 5).filter(lambda v: v != 0)))
@settings(max_examples=300, deadline=None)
def test_slice_length_matches_python(n, a, b, c):
    assert slice_length(n, a, b, c) == len(range(n)[a:b:c])
    # static inference on an unknown length is either None or right for every n
    x = T.vector()
    static = x[a:b:c].type.shape[0]
    if static is not None:
        assert all(len(range(k)[a:b:c]) == static for k in range(60))


def test_slice_length_symbolic():
    n, a, b, c = T.lscalars("n", "a", "b", "c")
    f = sg.function([n, a, b, c], [slice_length(n, a, b, c), slice_length(n, None, b, c),
                                   slice_length(n, a, None, c), slice_length(n, a, b, None)])
    for nv in range(4):
        for av in (-5, -1, 0, 2, 6):
            for bv in (-5, -2, 0, 1, 6):
                for cv in (-2, -1, 1, 3):
                    got = [int(v) for v in f(nv, av, bv, cv)]
                    r = range(nv)
                    assert got == [len(r[av:bv:cv]), len(r[:bv:cv]), len(r[av::cv]),
                                   len(r[av:bv])], (nv, av, bv, cv)


# ----------------------------------------------------------------------------- advanced

ADV_KEYS = [
    [0, 2, 2], [-1, 0], (slice(None), [1, 1, 0]), ([0, 1], slice(None), [1, 2]),
    (slice(None), [0, 1], [1, 2]), ([0, 1], None, [0, 1]), (1, slice(None), [0, 1]),
    (slice(None), [0, 1], Ellipsis, [0, 2]), ([[0, 1], [2, 2]], 1), [],
    (np.array([True, False, True]),), (slice(1, None), np.array([True, False, True, True])),
    (np.ones((3, 4), bool), 0), (Ellipsis, [4, 0]), True, (0, False), (None, [0], slice(None, None, -1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
def test_advanced_indexing_values(mode, dtype, rng):
    x = T.tensor(dtype, shape=(None, None, None), name="x")
    idx = T.lvector("idx")
    mask = T.tensor("bool", shape=(None, None), name="mask")
    xv = _data(dtype, (3, 4, 5), rng)
    idxv = np.array([2, -3, 1])
    maskv = rng.random((3, 4)) > 0.5
    outs = [x[k] for k in ADV_KEYS] + [x[idx], x[:, 1:, idx], x[mask], x[idx, ::-1, idx],
                                       x[mask, [1, 1, 0, 0, 1, 2, 3, 4, 4, 0, 0, 1][:int(maskv.sum())]]]
    for o in outs:
        assert isinstance(o.owner.op, AdvancedSubtensor)
    f = sg.function([x, idx, mask], outs, mode=mode)
    before = xv.copy()
    res = f(xv, idxv, maskv)
    exp = [xv[k] for k in ADV_KEYS] + [xv[idxv], xv[:, 1:, idxv], xv[maskv], xv[idxv, ::-1, idxv],
                                       xv[maskv, [1, 1, 0, 0, 1, 2, 3, 4, 4, 0, 0, 1][:int(maskv.sum())]]]
    for o, r, e in zip(outs, res, exp):
        assert_allclose(r, e)
        assert all(s is None or s == n for s, n in zip(o.type.shape, e.shape)), (o.type, e.shape)
    assert_allclose(xv, before)


def test_comparison_mask_and_symbolic_index_vector(mode, rng):
    x = T.fmatrix("x")
    xv = rng.normal(size=(3, 4)).astype("float32")
    f = sg.function([x], [x[x > 0], x[T.abs(x) > 0.5, ...]], mode=mode)
    r1, r2 = f(xv)
    assert_allclose(r1, xv[xv > 0])
    assert_allclose(r2, xv[np.abs(xv) > 0.5])


def test_advanced_infer_shape(rng):
    x = T.tensor3("x")
    idx = T.lvector("idx")
    idx2 = T.lmatrix("idx2")
    m3 = T.tensor("bool", shape=(None,), name="m3")
    m4 = T.tensor("bool", shape=(None,), name="m4")
    xv = rng.normal(size=(3, 4, 5))
    outs = [x[idx], x[idx2, :, idx], x[1:, m4], x[:, None, idx2, 1:3], x[m3, None, ::-1, idx],
            x[[0, 1], ..., [[1], [2]]]]
    check_infer_shape(outs, [x, idx, idx2, m3, m4],
                      [xv, np.array([0, -1]), np.array([[1, 1], [0, 2]]),
                       np.array([True, False, True]), np.array([False, True, True, True])])


def test_advanced_infer_shape_broadcast_one(rng):
    # a length-1 index array broadcasts against an empty one at run time
    x = T.matrix("x")
    i, j = T.lvector("i"), T.lvector("j")
    check_infer_shape([x[i, j]], [x, i, j], [rng.normal(size=(2, 3)), np.array([1]),
                                             np.zeros(0, "int64")])


def test_theano_style_advanced_construction(rng):
    x = T.matrix("x")
    i, j = T.lvector("i"), T.lvector("j")
    out = AdvancedSubtensor()(x, i, j)
    xv = rng.normal(size=(3, 4))
    inc = AdvancedIncSubtensor()(x, 1.0, i, j)
    r, ri = sg.function([x, i, j], [out, inc])(xv, np.array([0, 0, 2]), np.array([1, 1, -1]))
    assert_allclose(r, xv[[0, 0, 2], [1, 1, -1]])
    e = xv.copy()
    np.add.at(e, ([0, 0, 2], [1, 1, -1]), 1.0)
    assert_allclose(ri, e)


# ----------------------------------------------------------------------------- set / inc

SET_KEYS = [
    1, (slice(None), -1), slice(None, None, -2), (Ellipsis, 0), (None, slice(None), 1), (), (1, 2),
    [0, 2, 2], (slice(None), [1, 1, 3]), ([0, 1], slice(None), [1, 2]), (np.array([True, False, True]),),
    (slice(None), [0, 1], Ellipsis, [0, 2]), ([0, 1], None, 2), (0, True),
]


def _np_inc(xv, key, yv, set_):
    out = xv.copy()
    if set_:
        out[key] = yv
    else:
        np.add.at(out, key, yv)
    return out


@pytest.mark.parametrize("dtype", ["int8", "uint16", "float32", "complex128"])
def test_set_inc_values(mode, dtype, rng):
    x = T.tensor(dtype, shape=(None, None, None), name="x")
    xv = _data(dtype, (3, 4, 5), rng)
    outs, exp = [], []
    for key in SET_KEYS:
        shp = xv[key].shape
        ys = [_data(dtype, shp, rng), _data(dtype, shp[-1:], rng)]  # full, and broadcast
        for yv in ys:
            for set_ in (True, False):
                fn = T.set_subtensor if set_ else T.inc_subtensor
                outs.append(fn(x[key], T.constant(yv)))
                exp.append(_np_inc(xv, key, yv, set_))
    outs.append(T.inc_subtensor(x[1:, 0], 3))  # a weak Python int
    exp.append(_np_inc(xv, (slice(1, None), 0), np.asarray(3, dtype), False))
    before = xv.copy()
    res = sg.function([x], outs, mode=mode)(xv)
    for o, r, e in zip(outs, res, exp):
        assert_allclose(r, e)
        assert o.type == x.type
    assert_allclose(xv, before)


def test_inc_accumulates_repeated_indices(mode):
    x = T.dvector("x")
    y = T.dvector("y")
    i = T.lvector("i")
    outs = [T.inc_subtensor(x[i], y), T.inc_subtensor(x[i], y, ignore_duplicates=True),
            T.set_subtensor(x[i], y)]
    assert isinstance(outs[0].owner.op, AdvancedIncSubtensor)
    f = sg.function([x, y, i], outs, mode=mode)
    xv, yv, iv = np.zeros(4), np.array([1.0, 2.0, 4.0]), np.array([1, 1, -1])
    acc, once, st_ = f(xv, yv, iv)
    assert_allclose(acc, np.array([0, 3, 0, 4.0]))
    assert acc[1] != once[1] and once[1] in (1.0, 2.0)  # one increment wins
    assert st_[1] in (1.0, 2.0) and st_[3] == 4.0
    assert_allclose(xv, np.zeros(4))


def test_set_inc_symbolic_and_mask(mode, rng):
    x = T.matrix("x")
    y = T.vector("y")
    i, n = T.lscalars("i", "n")
    outs = [T.set_subtensor(x[i], y), T.inc_subtensor(x[1:n, i], 1.5),
            T.set_subtensor(x[x > 0], 0.0), T.inc_subtensor(x[None, i], y)]
    assert isinstance(outs[1].owner.op, IncSubtensor) and isinstance(outs[3].owner.op, IncSubtensor)
    f = sg.function([x, y, i, n], outs, mode=mode)
    xv, yv = rng.normal(size=(4, 3)), rng.normal(size=3)
    res = f(xv, yv, -1, 3)
    assert_allclose(res[0], _np_inc(xv, -1, yv, True))
    assert_allclose(res[1], _np_inc(xv, (slice(1, 3), -1), 1.5, False))
    assert_allclose(res[2], np.where(xv > 0, 0.0, xv))
    assert_allclose(res[3], _np_inc(xv, -1, yv, False))


def test_set_inc_infer_shape(rng):
    x = T.matrix("x")
    y = T.scalar("y")
    i = T.lvector("i")
    check_infer_shape([T.set_subtensor(x[1:, 0], y), T.inc_subtensor(x[i], y)], [x, y, i],
                      [rng.normal(size=(3, 2)), 2.0, np.array([0, 0])])


def test_set_subtensor_dtypes_and_weak_numbers():
    x8 = T.bvector("x8")
    assert T.inc_subtensor(x8[0], 1).dtype == "int8"
    assert T.set_subtensor(T.fvector()[0], 0.1).dtype == "float32"
    with pytest.raises(TypeError, match="cannot be stored in x of dtype int8"):
        T.set_subtensor(x8[0], 1.5)
    with pytest.raises(OverflowError):
        T.set_subtensor(x8[0], 1000)
    with pytest.raises(TypeError, match=r"cast safely to the dtype of x \(int8\)"):
        T.set_subtensor(x8[0], T.lscalar("s"))
    with pytest.raises(TypeError, match="float32"):
        T.inc_subtensor(T.fvector()[:2], T.dvector())
    # a safe cast is fine
    assert T.inc_subtensor(T.dvector()[:2], T.ivector()).dtype == "float64"


def test_set_inc_bad_inputs(rng):
    x = T.tensor("float64", shape=(4, None), name="x")
    with pytest.raises(TypeError, match="must be the result of indexing"):
        T.set_subtensor(x, 1.0)
    with pytest.raises(TypeError, match=r"must be the result of indexing.*Elemwise|exp"):
        T.inc_subtensor(T.exp(x), 1.0)
    with pytest.raises(TypeError, match="must be the result of indexing"):
        T.set_subtensor(np.zeros(3), 1.0)
    with pytest.raises(ShapeError, match=r"static shape \(3, 1\).*static shape \(2, \?\)"):
        T.set_subtensor(x[1:3], T.tensor("float64", shape=(3, 1)))
    with pytest.raises(ShapeError, match="cannot be broadcast"):
        T.set_subtensor(x[None, 0], T.tensor("float64", shape=(2, 1)))
    with pytest.raises(TypeError, match="more dimensions"):
        T.set_subtensor(x[0], T.matrix())
    # extra leading dims of static length 1 are fine, as in NumPy
    ok = T.set_subtensor(x[0], T.tensor("float64", shape=(1, 1, None)))
    assert ok.type == x.type
    # run-time broadcast errors name both shapes
    y = T.matrix("y")
    f = sg.function([x, y], T.inc_subtensor(x[1:3], y))
    with pytest.raises(ValueError, match=r"shape \(3, 5\).*shape \(2, 5\)"):
        f(np.zeros((4, 5)), np.zeros((3, 5)))
    g = sg.function([x, y], T.inc_subtensor(x[[0, 1, 1]], y))
    with pytest.raises(ValueError, match=r"shape \(2, 5\).*shape \(3, 5\)"):
        g(np.zeros((4, 5)), np.zeros((2, 5)))
    # a run-time length 1 broadcasts (NumPy rules)
    assert_allclose(f(np.zeros((4, 2)), np.ones((1, 2))),
                    np.array([[0, 0], [1, 1], [1, 1], [0, 0.0]]))
    # a newaxis dim of unknown length must be 1 at run time
    h = sg.function([x, y], T.set_subtensor(x[None, 0], y))
    with pytest.raises(ValueError, match="shape"):
        h(np.zeros((4, 2)), np.zeros((3, 2)))


# ----------------------------------------------------------------------------- errors

def test_index_type_errors():
    x = T.matrix("x")
    with pytest.raises(TypeError, match="index 1.5 has dtype float64"):
        x[1.5]
    with pytest.raises(TypeError, match="dtype float64"):
        x[np.array([0.0, 1.0])]
    with pytest.raises(TypeError, match=r"f has dtype float32"):
        x[T.fscalar("f")]
    with pytest.raises(TypeError, match="dtype float64"):
        x[T.dvector("fv")]
    with pytest.raises(TypeError, match="slice bound 0.5"):
        x[0.5:]
    with pytest.raises(TypeError, match="slice bound .* must be an integer scalar"):
        x[: T.dscalar("d")]
    with pytest.raises(TypeError, match="type str"):
        x["a"]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="too many indices"):
        x[np.ones((2, 2, 2), bool)]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., 0, ...]
    with pytest.raises(ValueError, match="step cannot be zero"):
        x[::0]
    with pytest.raises(TypeError, match="index input"):
        Subtensor((SCALAR,)).make_node(x, T.dscalar())
    with pytest.raises(TypeError, match="takes 1 index input"):
        Subtensor((SCALAR,)).make_node(x)
    with pytest.raises(TypeError, match="needs an integer array"):
        AdvancedSubtensor((0, SCALAR)).make_node(x, T.lscalar())


def test_static_out_of_bounds():
    x = T.tensor("float64", shape=(3, None))
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        x[3]
    with pytest.raises(IndexError, match="index -4 is out of bounds for axis 0 with size 3"):
        x[-4, 0]
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 3"):
        x[[0, 5]]
    with pytest.raises(IndexError, match="along axis 0: the axis has length 3, the mask has length 2"):
        x[np.array([True, False])]
    with pytest.raises(ShapeError, match="index arrays"):
        T.tensor("float64", shape=(3, 3))[[0, 1], [0, 1, 2]]


def test_runtime_out_of_bounds(mode):
    x = T.matrix("x")
    i = T.lscalar("i")
    v = T.lvector("v")
    m = T.tensor("bool", shape=(None,), name="m")
    f = sg.function([x, i, v, m], [x[i, 0], x[:, v], x[m]], mode=mode)
    xv = np.zeros((3, 2))
    ok = f(xv, 2, np.array([1]), np.ones(3, bool))
    assert ok[0].shape == () and ok[1].shape == (3, 1)
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        f(xv, 3, np.array([1]), np.ones(3, bool))
    with pytest.raises(IndexError, match="index -3 is out of bounds for axis 1 with size 2"):
        f(xv, 0, np.array([-3]), np.ones(3, bool))
    with pytest.raises(IndexError, match="boolean index did not match"):
        f(xv, 0, np.array([1]), np.ones(2, bool))


# ----------------------------------------------------------------------------- take

def test_take(mode, rng):
    a = T.tensor("float32", shape=(None, None), name="a")
    idx = T.lvector("idx")
    av = rng.normal(size=(3, 4)).astype("float32")
    iv = np.array([0, -1, 2, 2])
    outs = [T.take(a, idx, axis=1), T.take(a, [[0, 1], [1, 0]], axis=-2), T.take(a, 1, axis=0),
            T.take(a, idx), T.take(a, [5, -7, 13], axis=1, mode="wrap"),
            T.take(a, [5, -7, 1], axis=0, mode="clip"), T.take(a, [], axis=0)]
    res = sg.function([a, idx], outs, mode=mode)(av, iv)
    exp = [np.take(av, iv, axis=1), np.take(av, [[0, 1], [1, 0]], axis=-2), np.take(av, 1, axis=0),
           np.take(av, iv), np.take(av, [5, -7, 13], axis=1, mode="wrap"),
           np.take(av, [5, -7, 1], axis=0, mode="clip"), np.take(av, np.array([], int), axis=0)]
    for r, e in zip(res, exp):
        assert_allclose(r, e)


def test_take_errors():
    a = T.matrix("a")
    with pytest.raises(np.exceptions.AxisError):
        T.take(a, [0], axis=2)
    with pytest.raises(TypeError, match="indices must be integers"):
        T.take(a, T.dvector("f"), axis=0)
    with pytest.raises(TypeError, match="indices must be integers"):
        T.take(a, np.array([True, False]), axis=0)
    with pytest.raises(ValueError, match="mode must be"):
        T.take(a, [0], mode="nope")
