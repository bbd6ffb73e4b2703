"""Elemwise and DimShuffle: broadcasting, rank padding, views, infer_shape, identity."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph.utils import ShapeError
from symgraph.scalar import math as sm
from symgraph.tensor.elemwise import DimShuffle, Elemwise
from tests.utils import assert_allclose, check_infer_shape


# ----------------------------------------------------------------------- DimShuffle

def test_dimshuffle_values_and_types(mode):
    x = T.tensor("float32", shape=(None, 1, 3), name="x")
    outs = [
        x.dimshuffle(2, 0, 1),          # permute
        x.dimshuffle(0, 2),             # drop the broadcastable dim 1
        x.dimshuffle("x", 0, 1, "x", 2),  # insert
        x.dimshuffle(2, "x", 0),        # drop, insert and permute at once
        x.dimshuffle([1, 2, 0]),        # list form
        x.T,
        x.transpose(1, 2, 0),
        x.transpose((0, -1, -2)),
        T.transpose(x),
    ]
    want_shapes = [(3, None, 1), (None, 3), (1, None, 1, 1, 3), (3, 1, None), (1, 3, None),
                   (3, 1, None), (1, 3, None), (None, 3, 1), (3, 1, None)]
    assert [o.type.shape for o in outs] == want_shapes
    assert all(o.dtype == "float32" for o in outs)
    v = np.arange(6, dtype="float32").reshape(2, 1, 3)
    res = sg.function([x], outs, mode=mode)(v)
    exp = [v.transpose(2, 0, 1), v[:, 0, :], v[None, :, :, None, :], v[:, 0, :].T[:, None, :],
           v.transpose(1, 2, 0), v.T, v.transpose(1, 2, 0), v.transpose(0, 2, 1), v.T]
    for r, e in zip(res, exp):
        assert_allclose(r, e)


def test_dimshuffle_of_scalar_and_identity_pattern(mode):
    s = T.dscalar("s")
    y = s.dimshuffle("x", "x")
    assert y.type.shape == (1, 1)
    assert_allclose(sg.function([s], y, mode=mode)(2.5), np.full((1, 1), 2.5))
    v = T.dvector("v")
    assert v.dimshuffle(0) is v  # the identity pattern builds nothing
    assert v.transpose() is v


def test_dimshuffle_refuses_dropping_a_non_broadcastable_dim():
    x = T.tensor("float64", shape=(None, 3, 1), name="x")
    with pytest.raises(ValueError, match=r"drops dimension 0 of x.*not known to have length 1"):
        x.dimshuffle(1, 2)
    with pytest.raises(ValueError, match="drops dimension 1"):
        x.dimshuffle(0, 2)
    assert x.dimshuffle(0, 1).type.shape == (None, 3)


def test_dimshuffle_refuses_bad_patterns():
    x = T.dmatrix("x")
    with pytest.raises(ValueError, match="invalid entry 2"):
        x.dimshuffle(0, 2)
    with pytest.raises(ValueError, match="invalid entry -1"):
        x.dimshuffle(-1, 0)
    with pytest.raises(ValueError, match="repeated"):
        x.dimshuffle(0, 0)
    with pytest.raises(TypeError, match="expects a 2-d input.*3 dimensions"):
        DimShuffle(2, (1, 0))(T.dtensor3())
    with pytest.raises(ValueError, match="not a permutation"):
        x.transpose(0, 0)
    with pytest.raises(ValueError, match="not a permutation"):
        x.transpose(0)


def test_dimshuffle_views_do_not_leak_to_the_caller(mode):
    x = T.dmatrix("x")
    f = sg.function([x], [x.T, x.dimshuffle("x", 0, 1), x.dimshuffle(1, "x", 0)], mode=mode)
    v = np.arange(6.0).reshape(2, 3)
    keep = v.copy()
    a, b, c = f(v)
    a[...] = -1.0
    b[...] = -2.0
    np.testing.assert_array_equal(v, keep)        # the caller's input is untouched
    np.testing.assert_array_equal(c[:, 0, :], keep.T)  # outputs do not share memory
    a2, b2, c2 = f(v)
    assert_allclose(a2, keep.T)
    assert_allclose(b2, keep[None])


def test_dimshuffle_of_constant_and_shared_do_not_leak(mode):
    c = T.constant(np.arange(3.0))
    s = sg.shared(np.arange(4.0).reshape(2, 2), name="s")
    f = sg.function([], [c.dimshuffle(0, "x"), s.T], mode=mode)
    out_c, out_s = f()
    out_c[...] = 7.0
    out_s[...] = 7.0
    again_c, again_s = f()
    assert_allclose(again_c, np.arange(3.0)[:, None])
    assert_allclose(again_s, np.arange(4.0).reshape(2, 2).T)
    assert_allclose(s.get_value(), np.arange(4.0).reshape(2, 2))


def test_dimshuffle_infer_shape():
    x = T.tensor("float64", shape=(None, 1, None), name="x")
    v = np.zeros((2, 1, 4))
    for pattern in [(2, 1, 0), (0, 2), ("x", 2, "x", 0), (2, "x", 0, 1)]:
        check_infer_shape(x.dimshuffle(*pattern), [x], [v])


# ----------------------------------------------------------------------- Elemwise

def test_rank_padding_on_the_left(mode):
    m = T.dmatrix("m")
    v = T.dvector("v")
    s = T.dscalar("s")
    out = m + v
    # the vector is padded to a (1, ?) row, so it broadcasts along the first dimension
    padded = out.owner.inputs[1]
    assert isinstance(padded.owner.op, DimShuffle)
    assert padded.owner.op.new_order == ("x", 0)
    assert padded.type.shape == (1, None)
    assert out.type.shape == (None, None)
    t3 = T.dtensor3("t3")
    out3 = T.switch(s > 0, t3, v)
    assert [i.ndim for i in out3.owner.inputs] == [3, 3, 3]
    assert out3.owner.inputs[2].type.shape == (1, 1, None)
    # constants are padded directly, not through a DimShuffle
    withc = m * np.array([1.0, 2.0, 3.0])
    cpad = withc.owner.inputs[1]
    assert isinstance(cpad, T.TensorConstant) and cpad.type.shape == (1, 3)
    assert withc.type.shape == (None, 3)
    mv = np.arange(6.0).reshape(2, 3)
    vv = np.array([10.0, 20.0, 30.0])
    tv = np.arange(12.0).reshape(2, 2, 3) - 5
    res = sg.function([m, v, s, t3], [out, out3, withc], mode=mode)(mv, vv, 1.0, tv)
    for r, e in zip(res, [mv + vv, np.where(True, tv, vv), mv * [1.0, 2.0, 3.0]]):
        assert_allclose(r, e)


def test_zero_dim_inputs_give_zero_dim_arrays(mode):
    a, b = T.fscalars("a", "b")
    f = sg.function([a, b], [a * b, T.exp(a), a < b], mode=mode)
    res = f(2.0, 3.0)
    for r in res:
        assert isinstance(r, np.ndarray) and r.ndim == 0
    assert_allclose(res[0], np.array(6.0, "float32"))
    assert_allclose(res[1], np.exp(np.array(2.0, "float32")))
    assert res[2].dtype == np.bool_


def test_runtime_mismatch_on_a_2d_input_names_dimension_and_shapes(mode):
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    f = sg.function([x, y], x - y, mode=mode)
    with pytest.raises(ShapeError, match=r"dimension 1.*\(2, 3\).*\(2, 1\)") as info:
        f(np.ones((2, 3)), np.ones((2, 1)))
    # it tells how to declare a broadcastable dimension
    assert "static length 1" in str(info.value)


def test_static_and_runtime_shapes_meet(mode):
    known = T.tensor("float64", shape=(2, 3), name="known")
    free = T.dmatrix("free")
    out = known + free
    assert out.type.shape == (2, 3)
    f = sg.function([known, free], out, mode=mode)
    assert_allclose(f(np.ones((2, 3)), np.ones((2, 3))), np.full((2, 3), 2.0))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 3\)"):
        f(np.ones((2, 3)), np.ones((3, 3)))


def test_elemwise_infer_shape():
    x = T.tensor("float64", shape=(None, 1), name="x")
    y = T.tensor("float64", shape=(1, None), name="y")
    z = T.dmatrix("z")
    c = T.tensor("float64", shape=(None, 3), name="c")
    xv, yv, zv, cv = np.ones((2, 1)), np.ones((1, 3)), np.ones((2, 3)), np.ones((2, 3))
    check_infer_shape(x + y, [x, y], [xv, yv])
    check_infer_shape(T.switch(x > 0, y, z), [x, y, z], [xv, yv, zv])
    check_infer_shape(T.exp(z), [z], [zv])
    check_infer_shape(x * c, [x, c], [xv, cv])
    v = T.dvector("v")
    check_infer_shape(v * 2.0, [v], [np.ones(4)])


def test_elemwise_infer_shape_returns_int64_scalars():
    x = T.tensor("float64", shape=(None, 1), name="x")
    y = T.tensor("float64", shape=(1, 5), name="y")
    node = (x + y).owner
    shapes = node.op.infer_shape(None, node, [(T.shape_i(x, 0), T.shape_i(x, 1)),
                                              (T.shape_i(y, 0), T.shape_i(y, 1))])
    (shp,) = shapes
    assert len(shp) == 2
    for s in shp:
        assert s.dtype == "int64" and s.ndim == 0
    assert int(T.get_scalar_constant_value(shp[1])) == 5


# ----------------------------------------------------------------------- op identity

def test_elemwise_equality_and_hash_follow_props():
    a, b = Elemwise(sm.add), Elemwise(sm.add)
    assert a == b and hash(a) == hash(b)
    assert a != Elemwise(sm.mul)
    assert a != Elemwise(sm.add, inplace_pattern={0: 0})
    assert Elemwise(sm.add, {0: 1}) == Elemwise(sm.add, {0: 1})
    assert len({a, b, Elemwise(sm.mul)}) == 2
    # the lifted functions share one instance per scalar op
    x = T.dvector()
    assert (x + x).owner.op is T.add(x, x).owner.op
    assert (x + x).owner.op == a
    with pytest.raises(TypeError, match="Elemwise needs a ScalarOp"):
        Elemwise(np.add)


def test_dimshuffle_equality_and_hash_follow_props():
    d1 = DimShuffle(2, (1, 0))
    d2 = DimShuffle((False, False), (1, 0))  # Theano's form: the input's broadcastable
    assert d1 == d2 and hash(d1) == hash(d2)
    assert d1 != DimShuffle(2, (0, "x", 1))
    assert d1 != DimShuffle(3, (1, 0, 2))
    assert DimShuffle(1, ("x", 0)) == DimShuffle(1, ["x", 0])
    assert DimShuffle(1, ("x", 0)) != DimShuffle(1, (0, "x"))
    assert len({d1, d2, DimShuffle(2, (0, "x", 1))}) == 2
    x = T.dmatrix()
    assert x.T.owner.op == d1
