"""Tests of symgraph.tensor.shape: reshape, flatten, squeeze, expand_dims, size, the
shape_pad* helpers, specify_broadcastable and unbroadcast."""

import re

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph.utils import ShapeError
from symgraph.tensor.shape import Reshape, Unbroadcast
from tests.utils import assert_allclose, check_infer_shape, random_value

DTYPES = ["bool", "int8", "int64", "uint16", "float32", "float64", "complex128"]


# --------------------------------------------------------------------------- reshape

@pytest.mark.parametrize("dtype", DTYPES)
def test_reshape_values_dtypes(mode, rng, dtype):
    x = T.tensor(dtype, shape=(None, None, None), name="x")
    n = T.lscalar("n")
    s = T.lvector("s")
    outs = [
        T.reshape(x, (6, 4)),
        T.reshape(x, (-1, 2)),
        x.reshape(n, -1),            # ints and a symbolic scalar
        x.reshape((2, n, 2)),
        T.reshape(x, s, ndim=2),     # a symbolic vector with ndim=
        x.reshape(-1),
        T.reshape(x, [n, np.int32(2), -1]),
    ]
    f = sg.function([x, n, s], outs, mode=mode)
    xv = random_value(dtype, (2, 3, 4), rng, int_low=-9)
    res = f(xv, 6, np.array([4, -1], dtype="int64"))
    expected = [xv.reshape(6, 4), xv.reshape(-1, 2), xv.reshape(6, -1), xv.reshape(2, 6, 2),
                xv.reshape(4, -1), xv.reshape(-1), xv.reshape(6, 2, -1)]
    for r, e in zip(res, expected):
        assert_allclose(r, e)


def test_reshape_static_shape():
    x = T.matrix("x")
    n = T.lscalar("n")
    assert T.reshape(x, (3, -1)).type.shape == (3, None)
    assert T.reshape(x, (n, 4)).type.shape == (None, 4)
    assert T.reshape(x, (-1,)).type.shape == (None,)
    assert x.reshape(2, 3, 4).type.shape == (2, 3, 4)
    xs = T.tensor("float32", shape=(2, 6))
    # -1 resolved from the known size
    assert T.reshape(xs, (3, -1)).type.shape == (3, 4)
    assert T.reshape(xs, (-1, 2, 2)).type.shape == (3, 2, 2)
    assert T.reshape(xs, (-1,)).type.shape == (12,)
    assert T.reshape(xs, (n, -1)).type.shape == (None, None)
    # entries read through shape(y) and stacks of shape_i
    y = T.tensor("float64", shape=(4, None, 3))
    assert T.reshape(x, y.shape).type.shape == (4, None, 3)
    assert T.reshape(x, (T.shape_i(y, 2), n)).type.shape == (3, None)
    # through a user's int32 stack (cast to int64 inside reshape)
    n32 = T.iscalar("n32")
    r32 = T.reshape(x, T.stack([n32, 3]))
    assert r32.type.shape == (None, 3)
    check_infer_shape(r32, [x, n32], [np.zeros((2, 3)), 2])
    s = T.tensor("int32", shape=(3,))
    r = T.reshape(x, s)
    assert r.type.shape == (None, None, None) and r.ndim == 3
    # a reshape to 0-d
    one = T.tensor("float64", shape=(1, 1))
    assert T.reshape(one, ()).type.shape == ()


def test_reshape_scalar_and_zero_size(mode):
    a = T.tensor("int16", shape=(1, 1, 1), name="a")
    z = T.tensor("float32", shape=(None, 3), name="z")
    outs = [T.reshape(a, ()), T.reshape(z, (3, 0)), T.reshape(z, (-1, 3)), z.flatten(),
            T.reshape(z, (3, -1))]
    f = sg.function([a, z], outs, mode=mode)
    av = np.array([[[7]]], dtype="int16")
    zv = np.zeros((0, 3), dtype="float32")
    r = f(av, zv)
    assert_allclose(r[0], av.reshape(()))
    assert_allclose(r[1], zv.reshape(3, 0))
    assert_allclose(r[2], zv.reshape(-1, 3))
    assert_allclose(r[3], zv.reshape(-1))
    assert_allclose(r[4], zv.reshape(3, -1))


def test_reshape_static_errors():
    xs = T.tensor("float64", shape=(2, 6))
    x = T.matrix("x")
    with pytest.raises(ShapeError, match=r"cannot reshape .*\(2, 6\).* into shape \(5, 2\)"):
        T.reshape(xs, (5, 2))
    with pytest.raises(ShapeError, match=r"into shape \(5, -1\)"):
        T.reshape(xs, (5, -1))
    with pytest.raises(ValueError, match="only one shape entry may be -1"):
        T.reshape(x, (-1, -1))
    with pytest.raises(ValueError, match="must be >= 0"):
        T.reshape(x, (-3, 2))
    with pytest.raises(TypeError, match="integer"):
        T.reshape(x, (2.5, 3))
    with pytest.raises(TypeError, match="integer"):
        T.reshape(x, T.vector("fv", shape=(2,)))
    with pytest.raises(TypeError, match=r"integer scalars, got .* of type .*float64"):
        T.reshape(x, (T.scalar("f"), 2))
    with pytest.raises(TypeError, match="pass ndim="):
        T.reshape(x, T.lvector("s"))
    with pytest.raises(ValueError, match="ndim=3 but the new shape has 2 entries"):
        T.reshape(x, (2, 3), ndim=3)
    with pytest.raises(ShapeError, match="has 3 entries, expected 2"):
        Reshape(2)(x, T.constant(np.array([1, 2, 3])))
    with pytest.raises(TypeError, match="integer vector"):
        Reshape(2)(x, T.matrix("m", dtype="int64"))


def test_reshape_runtime_errors(mode):
    x = T.matrix("x")
    n = T.lscalar("n")
    s = T.lvector("s")
    f = sg.function([x, n, s], [T.reshape(x, (n, -1)), T.reshape(x, s, ndim=2)], mode=mode)
    xv = np.zeros((2, 3))
    with pytest.raises(ValueError, match=re.escape("shape (2, 3) (size 6) into shape (4, -1)")):
        f(xv, 4, np.array([3, 2]))
    with pytest.raises(ValueError, match=re.escape("into shape (2, 2)")):
        f(xv, 3, np.array([2, 2]))
    with pytest.raises(ValueError, match="has 3 entries, expected 2"):
        f(xv, 3, np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="only one entry may be -1"):
        f(xv, 3, np.array([-1, -1]))
    with pytest.raises(ValueError, match="must be >= 0"):
        f(xv, 3, np.array([-2, -3]))


def test_reshape_perform_is_a_view():
    x = T.matrix("x")
    node = T.reshape(x, (-1,)).owner
    assert node.op.view_map == {0: [0]}
    xv = np.arange(6.0).reshape(2, 3)
    out = [[None]]
    node.op.perform(node, [xv, np.array([-1])], out)
    assert np.shares_memory(out[0][0], xv)
    assert out[0][0].shape == (6,)


def test_reshape_infer_shape(rng):
    x = T.tensor3("x")
    n = T.lscalar("n")
    s = T.lvector("s")
    xv = rng.normal(size=(2, 3, 4))
    check_infer_shape(T.reshape(x, (n, -1)), [x, n], [xv, 4])
    check_infer_shape(T.reshape(x, (-1, n)), [x, n], [xv, 4])
    check_infer_shape(T.reshape(x, s, ndim=2), [x, s], [xv, np.array([-1, 8])])
    check_infer_shape(T.reshape(x, s, ndim=2), [x, s], [xv, np.array([12, 2])])
    check_infer_shape(T.reshape(x, (4, -1, 2)), [x], [xv])
    check_infer_shape(T.flatten(x, 2), [x], [xv])
    xs = T.tensor("float64", shape=(2, 3, 4))
    check_infer_shape(T.reshape(xs, (n, 2, -1)), [xs, n], [xv, 3])
    check_infer_shape(T.reshape(xs, (6, -1)), [xs], [xv])


def test_reshape_infer_shape_reads_lengths_as_they_are():
    """An entry that is a length of a tensor (or a constant >= 0) cannot be the -1 to
    infer: it is the output length itself, so shape reasoning sees it (a symbolic
    entry may be -1 and gets a switch)."""
    x = T.matrix("x")
    y = T.tensor3("y")
    n = T.lscalar("n")
    r = T.reshape(y, (x.shape[0], 4, n))
    shapes = r.owner.op.infer_shape(None, r.owner, [tuple(T.shape_i(y, d) for d in range(3))])[0]
    assert shapes[0].owner.op == T.Shape_i(0) and shapes[0].owner.inputs[0] is x
    assert T.get_scalar_constant_value(shapes[1]) == 4
    assert shapes[2].owner.op.scalar_op.name == "switch"
    check_infer_shape(r, [x, y, n], [np.zeros((2, 1)), np.zeros((2, 3, 4)), 3])


def test_reshape_symbolic_shape_from_other_tensor(mode, rng):
    x = T.vector("x", dtype="int32")
    y = T.matrix("y")
    f = sg.function([x, y], T.reshape(x, y.shape), mode=mode)
    assert_allclose(f(np.arange(6, dtype="int32"), np.zeros((3, 2))),
                    np.arange(6, dtype="int32").reshape(3, 2))


# --------------------------------------------------------------------------- flatten

def test_flatten(mode, rng):
    x = T.tensor("float32", shape=(None, None, 4), name="x")
    c = T.scalar("c", dtype="complex64")
    outs = [T.flatten(x), T.flatten(x, 2), x.flatten(3), x.ravel(), T.flatten(c)]
    assert outs[0].type.shape == (None,)
    assert outs[1].type.shape == (None, None)
    assert outs[2] is x
    assert outs[4].type.shape == (1,)
    assert T.flatten(T.tensor("int8", shape=(2, None, 3, 4)), 3).type.shape == (2, None, 12)
    assert T.flatten(T.tensor("int8", shape=(2, 3, 4))).type.shape == (24,)
    f = sg.function([x, c], outs, mode=mode)
    xv = rng.normal(size=(2, 3, 4)).astype("float32")
    cv = np.complex64(1 + 2j)
    r = f(xv, cv)
    assert_allclose(r[0], xv.reshape(-1))
    assert_allclose(r[1], xv.reshape(2, 12))
    assert_allclose(r[2], xv)
    assert_allclose(r[3], xv.reshape(-1))
    assert_allclose(r[4], np.array([cv]))
    # a zero-length leading dimension does not confuse the collapsed length
    z = np.zeros((0, 3, 4), dtype="float32")
    assert f(z, cv)[1].shape == (0, 12)


def test_flatten_errors():
    x = T.matrix("x")
    with pytest.raises(ValueError, match="between 1 and 2"):
        T.flatten(x, 3)
    with pytest.raises(ValueError, match="between 1 and 2"):
        T.flatten(x, 0)


# --------------------------------------------------------------------------- squeeze

def test_squeeze(mode, rng):
    x = T.tensor("int32", shape=(1, None, 1, 3), name="x")
    assert T.squeeze(x).type.shape == (None, 3)
    assert x.squeeze(axis=-2).type.shape == (1, None, 3)
    y = T.squeeze(x, axis=(0, 1))   # axis 1 is checked at run time
    assert y.type.shape == (1, 3)
    m = T.matrix("m")
    assert T.squeeze(m) is m
    f = sg.function([x], [T.squeeze(x), x.squeeze(-2), y], mode=mode)
    xv = rng.integers(-5, 5, size=(1, 1, 1, 3)).astype("int32")
    r = f(xv)
    assert_allclose(r[0], np.squeeze(xv, axis=(0, 2)))
    assert_allclose(r[1], np.squeeze(xv, axis=-2))
    assert_allclose(r[2], np.squeeze(xv, axis=(0, 1)))
    with pytest.raises(ValueError, match=re.escape("(1, 2, 1, 3)")):
        f(np.zeros((1, 2, 1, 3), dtype="int32"))
    with pytest.raises(ShapeError, match="static length 3, not 1"):
        T.squeeze(x, axis=3)
    with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
        T.squeeze(x, axis=4)
    with pytest.raises(ValueError, match="repeated axis"):
        T.squeeze(x, axis=(0, -4))


# --------------------------------------------------------------------------- expand_dims etc.

def test_expand_dims_and_padding(mode, rng):
    x = T.tensor("float64", shape=(2, None), name="x")
    outs = [T.expand_dims(x, 0), T.expand_dims(x, -1), T.expand_dims(x, (0, 3)),
            T.expand_dims(x, (-1, 1)), T.shape_padleft(x), T.shape_padleft(x, 2),
            T.shape_padright(x, 2), T.shape_padaxis(x, 1), T.shape_padaxis(x, -1),
            T.shape_padleft(x, 0)]
    assert outs[2].type.shape == (1, 2, None, 1)
    assert outs[3].type.shape == (2, 1, None, 1)
    assert outs[6].type.shape == (2, None, 1, 1)
    assert outs[7].type.shape == (2, 1, None)
    assert outs[9] is x
    f = sg.function([x], outs, mode=mode)
    xv = rng.normal(size=(2, 3))
    r = f(xv)
    expected = [np.expand_dims(xv, 0), np.expand_dims(xv, -1), np.expand_dims(xv, (0, 3)),
                np.expand_dims(xv, (-1, 1)), xv[None], xv[None, None], xv[:, :, None, None],
                xv[:, None], xv[..., None], xv]
    for a, e in zip(r, expected):
        assert_allclose(a, e)
    with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
        T.expand_dims(x, 3)
    with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
        T.shape_padaxis(x, -4)
    with pytest.raises(ValueError, match="repeated axis"):
        T.expand_dims(x, (0, -4))
    with pytest.raises(ValueError, match=">= 0"):
        T.shape_padleft(x, -1)
    with pytest.raises(TypeError, match="axis must be an int"):
        T.expand_dims(x, 1.5)


def test_size(mode):
    x = T.tensor("float32", shape=(None, 3, None), name="x")
    known = T.tensor("int8", shape=(2, 5))
    s = T.size(known)
    assert isinstance(s, T.TensorConstant) and s.data == 10 and s.dtype == "int64"
    assert T.size(T.scalar()).data == 1
    sz = x.size
    assert sz.dtype == "int64" and sz.ndim == 0
    f = sg.function([x], sz, mode=mode)
    assert_allclose(f(np.zeros((2, 3, 4), dtype="float32")), np.asarray(24, dtype="int64"))
    assert_allclose(f(np.zeros((0, 3, 4), dtype="float32")), np.asarray(0, dtype="int64"))


def test_specify_broadcastable(mode):
    x = T.tensor("complex128", shape=(None, None, 4), name="x")
    y = T.specify_broadcastable(x, 0, -2)
    assert y.type.shape == (1, 1, 4)
    assert T.specify_broadcastable(x) is x
    assert T.specify_broadcastable(y, 0) is y
    f = sg.function([x], y + 1, mode=mode)
    xv = np.ones((1, 1, 4), dtype="complex128")
    assert_allclose(f(xv), xv + 1)
    with pytest.raises(ValueError, match=re.escape("(2, 1, 4)")):
        f(np.ones((2, 1, 4), dtype="complex128"))
    with pytest.raises(ShapeError, match="static length 4, not 1"):
        T.specify_broadcastable(x, 2)
    with pytest.raises(np.exceptions.AxisError):
        T.specify_broadcastable(x, 3)


def test_unbroadcast(mode, rng):
    x = T.tensor("float32", shape=(1, 3, 1), name="x")
    y = T.unbroadcast(x, 0, -1)
    assert y.type.shape == (None, 3, None)
    assert T.unbroadcast(x, 0).type.shape == (None, 3, 1)
    assert T.unbroadcast(x, 1) is x  # not of static length 1: nothing to forget
    assert isinstance(y.owner.op, Unbroadcast) and y.owner.op.view_map == {0: [0]}
    with pytest.raises(np.exceptions.AxisError):
        T.unbroadcast(x, 3)
    xv = rng.normal(size=(1, 3, 1)).astype("float32")
    f = sg.function([x], y, mode=mode)
    assert_allclose(f(xv), xv)
    check_infer_shape(y, [x], [xv])
