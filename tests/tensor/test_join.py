"""Tests of symgraph.tensor.join: concatenate/join, stack, split, tile, repeat,
horizontal_stack and vertical_stack."""

import re

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph.utils import ShapeError
from symgraph.tensor.join import Join, Repeat, Split, Tile
from tests.utils import assert_allclose, check_infer_shape, random_value


# --------------------------------------------------------------------------- concatenate

@pytest.mark.parametrize("da, db", [("int8", "float32"), ("int32", "int64"), ("bool", "int8"),
                                    ("complex64", "float64"), ("float32", "float32"),
                                    ("uint8", "int8")])
def test_concatenate_dtypes(mode, rng, da, db):
    a = T.tensor(da, shape=(None, 3), name="a")
    b = T.tensor(db, shape=(None, None), name="b")
    c = T.concatenate([a, b])
    assert c.dtype == np.result_type(da, db).name
    assert c.type.shape == (None, 3)
    f = sg.function([a, b], [c, T.concatenate([a, b], axis=-2), T.join(0, a, b, a)], mode=mode)
    av = random_value(da, (2, 3), rng, int_low=-9)
    bv = random_value(db, (1, 3), rng, int_low=-9)
    r = f(av, bv)
    assert_allclose(r[0], np.concatenate([av, bv]))
    assert_allclose(r[1], np.concatenate([av, bv], axis=-2))
    assert_allclose(r[2], np.concatenate([av, bv, av]))


def test_concatenate_axes_and_static_shape(mode, rng):
    a = T.tensor("float64", shape=(2, None, 3), name="a")
    b = T.tensor("float64", shape=(None, 4, 3), name="b")
    c = T.concatenate([a, b], axis=1)
    assert c.type.shape == (2, None, 3)
    assert T.concatenate([b, b], axis=-2).type.shape == (None, 8, 3)
    k = T.tensor("float64", shape=(2, 5, 3))
    assert T.concatenate([k, b, k], axis=1).type.shape == (2, 14, 3)
    assert T.concatenate([a]) is a
    assert T.join(0, a) is a
    assert isinstance(c.owner.op, Join) and c.owner.op.axis == 1
    assert T.concatenate([a, b], axis=-2).owner.op == c.owner.op
    flat = T.concatenate([a, b], axis=None)
    assert flat.ndim == 1
    f = sg.function([a, b], [c, T.concatenate([a, a], axis=-1), flat], mode=mode)
    av, bv = rng.normal(size=(2, 1, 3)), rng.normal(size=(2, 4, 3))
    r = f(av, bv)
    assert_allclose(r[0], np.concatenate([av, bv], axis=1))
    assert_allclose(r[1], np.concatenate([av, av], axis=-1))
    assert_allclose(r[2], np.concatenate([av, bv], axis=None))
    with pytest.raises(ValueError, match=re.escape("shapes (2, 1, 3), (3, 4, 3) must agree")):
        f(av, rng.normal(size=(3, 4, 3)))
    check_infer_shape(c, [a, b], [av, bv])
    check_infer_shape(T.concatenate([b, a, b], axis=0), [a, b], [bv, bv[:1]])


def test_concatenate_errors(mode):
    a = T.tensor("float32", shape=(2, 3))
    b = T.tensor("float32", shape=(2, 4))
    m = T.matrix("m")
    with pytest.raises(ShapeError, match=r"differ in dimension 1 .*\(2, 3\), \(2, 4\)"):
        T.concatenate([a, b], axis=0)
    assert T.concatenate([a, b], axis=1).type.shape == (2, 7)
    with pytest.raises(TypeError, match=r"same number of dimensions.*shape=\(\?,\)"):
        T.concatenate([m, T.vector("v")])
    with pytest.raises(TypeError, match="0-d"):
        T.concatenate([T.scalar("s"), T.scalar("t")])
    with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
        T.concatenate([m, m], axis=2)
    with pytest.raises(ValueError, match="at least one"):
        T.concatenate([])
    with pytest.raises(TypeError, match="list or tuple"):
        T.concatenate(m)
    f = sg.function([m], T.concatenate([m, np.zeros((2, 3))], axis=1), mode=mode)
    with pytest.raises(ValueError, match=re.escape("(3, 2), (2, 3)")):
        f(np.zeros((3, 2), dtype="float64"))


# --------------------------------------------------------------------------- stack

def test_stack_forms(mode, rng):
    x = T.vector("x", dtype="float32")
    y = T.vector("y", dtype="float32")
    a, b = T.scalar("a", dtype="int16"), T.scalar("b", dtype="int16")
    s0 = T.stack([x, y])
    s1 = T.stack([x, y], axis=1)
    s2 = T.stack((x, y, x), -1)
    s3 = T.stack(a, b, a)           # Theano's old form
    s4 = T.stack([x, 2 * y])
    assert s0.type.shape == (2, None) and s1.type.shape == (None, 2)
    assert s2.type.shape == (None, 3) and s3.type.shape == (3,)
    assert s3.dtype == "int16" and s0.dtype == "float32"
    assert T.stack([x]).type.shape == (1, None)
    f = sg.function([x, y, a, b], [s0, s1, s2, s3, s4], mode=mode)
    xv, yv = rng.normal(size=3).astype("float32"), rng.normal(size=3).astype("float32")
    r = f(xv, yv, 4, -2)
    assert_allclose(r[0], np.stack([xv, yv]))
    assert_allclose(r[1], np.stack([xv, yv], axis=1))
    assert_allclose(r[2], np.stack([xv, yv, xv], axis=-1))
    assert_allclose(r[3], np.array([4, -2, 4], dtype="int16"))
    assert_allclose(r[4], np.stack([xv, 2 * yv]))
    with pytest.raises(ValueError, match=re.escape("shapes (1, 3), (1, 4) must agree")):
        f(xv, rng.normal(size=4).astype("float32"), 1, 1)
    check_infer_shape(s1, [x, y], [xv, yv])


def test_stack_python_numbers_are_weak(mode):
    a = T.scalar("a", dtype="float32")
    i = T.scalar("i", dtype="int8")
    s = T.stack([a, 1.5, 2])
    assert s.dtype == "float32" and s.type.shape == (3,)
    assert T.stack([i, 3]).dtype == "int8"
    assert T.stack([i, 2.5]).dtype == "float64"  # a float meets ints: NumPy's default float
    v = T.as_tensor_variable([a, 0.5])
    assert v.dtype == "float32" and v.type.shape == (2,)
    assert T.as_tensor_variable([[i, 1], [2, i]]).type.shape == (2, 2)
    assert T.as_tensor_variable([i, 1], dtype="int32").dtype == "int32"
    with pytest.raises(OverflowError):
        T.stack([i, 1000])
    f = sg.function([a, i], [s, v, T.as_tensor_variable([[i, 1], [2, i]])], mode=mode)
    r = f(np.float32(0.25), np.int8(-3))
    assert_allclose(r[0], np.array([0.25, 1.5, 2], dtype="float32"))
    assert_allclose(r[1], np.array([0.25, 0.5], dtype="float32"))
    assert_allclose(r[2], np.array([[-3, 1], [2, -3]], dtype="int8"))


def test_stack_errors():
    x = T.vector("x")
    with pytest.raises(TypeError, match="same shape"):
        T.stack([x, T.matrix("m")])
    with pytest.raises(ShapeError, match=r"static shape \(2,\) but .* has \(3,\)"):
        T.stack([T.vector(shape=(2,)), T.vector(shape=(3,))])
    with pytest.raises(np.exceptions.AxisError):
        T.stack([x, x], axis=2)
    with pytest.raises(ValueError, match="at least one"):
        T.stack([])
    assert T.stack([x, x], axis=-2).type.shape == (2, None)


# --------------------------------------------------------------------------- split

@pytest.mark.parametrize("dtype", ["int64", "float32", "complex128"])
def test_split(mode, rng, dtype):
    x = T.tensor(dtype, shape=(None, 6), name="x")
    n = T.lscalar("n")
    a, b, c = T.split(x, [1, 2, 3], 3, axis=-1)
    assert [o.type.shape for o in (a, b, c)] == [(None, 1), (None, 2), (None, 3)]
    p, q = T.split(x, [n, 2], 2, axis=0)
    assert p.type.shape == (None, 6) and q.type.shape == (2, 6)
    (whole,) = T.split(x, [6], 1, axis=1)
    assert whole.type.shape == (None, 6)
    f = sg.function([x, n], [a, b, c, p, q, whole], mode=mode)
    xv = random_value(dtype, (3, 6), rng, int_low=-9)
    r = f(xv, 1)
    for got, exp in zip(r, np.split(xv, [1, 3], axis=1) + np.split(xv, [1], axis=0) + [xv]):
        assert_allclose(got, exp)
    with pytest.raises(ValueError, match=re.escape("the sizes [2, 2] sum to 4") + ".*shape"):
        f(xv, 2)
    with pytest.raises(ValueError, match="must be >= 0"):
        f(np.zeros((1, 6), dtype=dtype), -1)
    check_infer_shape([p, q], [x, n], [xv, 1])
    check_infer_shape([a, b, c], [x, n], [xv, 1])


def test_split_symbolic_sizes_vector(mode, rng):
    x = T.vector("x", dtype="int32")
    s = T.lvector("s")
    outs = T.split(x, s, 3)
    assert isinstance(outs[0].owner.op, Split) and outs[0].owner.op.view_map[2] == [0]
    f = sg.function([x, s], outs, mode=mode)
    xv = np.arange(7, dtype="int32")
    for got, exp in zip(f(xv, np.array([3, 0, 4])), np.split(xv, [3, 3])):
        assert_allclose(got, exp)
    with pytest.raises(ValueError, match=re.escape("expected 3 sizes, got 2")):
        f(xv, np.array([3, 4]))
    check_infer_shape(outs, [x, s], [xv, np.array([3, 0, 4])])


def test_split_errors():
    x = T.tensor("float64", shape=(4, None))
    with pytest.raises(ShapeError, match=r"sum to 5, but dimension 0 .* has length 4"):
        T.split(x, [2, 3], 2)
    with pytest.raises(ValueError, match="n_splits=3 but 2 sizes"):
        T.split(x, [2, 2], 3)
    with pytest.raises(ValueError, match=">= 0"):
        T.split(x, [-1, 5], 2)
    with pytest.raises(TypeError, match="0-d"):
        T.split(T.scalar(), [1], 1)
    with pytest.raises(TypeError, match="integer"):
        T.split(x, T.vector("fs"), 2)
    with pytest.raises(np.exceptions.AxisError):
        T.split(x, [2, 2], 2, axis=2)


# --------------------------------------------------------------------------- tile

def test_tile(mode, rng):
    x = T.tensor("float32", shape=(2, None), name="x")
    n = T.lscalar("n")
    r = T.lvector("r", shape=(2,))
    r3 = T.lvector("r3")
    outs = [T.tile(x, (2, 3)), T.tile(x, (n, 1)), T.tile(x, 2), T.tile(x, (2, 1, n)),
            T.tile(x, r), T.tile(x, r3, ndim=3)]
    assert outs[0].type.shape == (4, None)
    assert outs[1].type.shape == (None, None)
    assert outs[2].type.shape == (2, None)
    assert outs[3].type.shape == (2, 2, None)
    assert T.tile(T.tensor("int8", shape=(2, 3)), (0, 2)).type.shape == (0, 6)
    assert isinstance(outs[0].owner.op, Tile)
    f = sg.function([x, n, r], outs[:5], mode=mode)
    xv = rng.normal(size=(2, 3)).astype("float32")
    res = f(xv, 3, np.array([2, 2]))
    for got, exp in zip(res, [np.tile(xv, (2, 3)), np.tile(xv, (3, 1)), np.tile(xv, 2),
                              np.tile(xv, (2, 1, 3)), np.tile(xv, (2, 2))]):
        assert_allclose(got, exp)
    with pytest.raises(ValueError, match=r"reps must be >= 0, got \[-1, 1\].*\(2, 3\)"):
        f(xv, -1, np.array([2, 2]))
    g = sg.function([x, r3], outs[5], mode=mode)
    assert_allclose(g(xv, np.array([1, 2, 2])), np.tile(xv, (1, 2, 2)))
    with pytest.raises(ValueError, match=re.escape("reps [2, 2] has 2 entries, expected 3")):
        g(xv, np.array([2, 2]))
    check_infer_shape(outs[3], [x, n], [xv, 2])
    check_infer_shape(outs[4], [x, r], [xv, np.array([3, 2])])


def test_tile_errors():
    x = T.matrix("x")
    with pytest.raises(TypeError, match="pass ndim="):
        T.tile(x, T.lvector("r"))
    with pytest.raises(ValueError, match="less than the rank"):
        T.tile(x, T.lvector("r"), ndim=1)
    with pytest.raises(ValueError, match=">= 0"):
        T.tile(x, (1, -2))
    with pytest.raises(TypeError, match="integer"):
        T.tile(x, (1.5, 2))


# --------------------------------------------------------------------------- repeat

@pytest.mark.parametrize("dtype", ["bool", "int16", "float64", "complex64"])
def test_repeat(mode, rng, dtype):
    x = T.tensor(dtype, shape=(None, 3), name="x")
    n = T.iscalar("n")
    rv = T.lvector("rv")
    outs = [T.repeat(x, 2, axis=0), x.repeat([1, 0, 2], axis=-1), T.repeat(x, n),
            T.repeat(x, rv, axis=0), T.repeat(x, [3], axis=1), x.repeat(n, axis=1)]
    assert outs[0].type.shape == (None, 3)
    assert outs[1].type.shape == (None, 3)
    assert outs[2].type.shape == (None,)
    assert outs[4].type.shape == (None, 9)
    assert T.repeat(T.tensor("int8", shape=(2, 3)), 2).type.shape == (12,)
    assert T.repeat(T.tensor("int8", shape=(2, 3)), [1, 4], axis=0).type.shape == (5, 3)
    assert isinstance(outs[0].owner.op, Repeat)
    f = sg.function([x, n, rv], outs, mode=mode)
    xv = random_value(dtype, (2, 3), rng, int_low=-9)
    res = f(xv, 2, np.array([3, 1]))
    expected = [np.repeat(xv, 2, axis=0), np.repeat(xv, [1, 0, 2], axis=-1), np.repeat(xv, 2),
                np.repeat(xv, [3, 1], axis=0), np.repeat(xv, [3], axis=1),
                np.repeat(xv, 2, axis=1)]
    for got, exp in zip(res, expected):
        assert_allclose(got, exp)
    with pytest.raises(ValueError, match=re.escape("repeats of shape (3,)") + ".*(2, 3)"):
        f(xv, 2, np.array([1, 1, 1]))
    with pytest.raises(ValueError, match="must be >= 0"):
        f(xv, -1, np.array([1, 1]))


def test_repeat_infer_shape(rng):
    x = T.matrix("x")
    n = T.lscalar("n")
    r2 = T.lvector("r2", shape=(2,))
    r1 = T.lvector("r1", shape=(1,))
    xv = rng.normal(size=(2, 3))
    check_infer_shape(T.repeat(x, n, axis=1), [x, n], [xv, 3])
    check_infer_shape(T.repeat(x, n), [x, n], [xv, 3])
    check_infer_shape(T.repeat(x, r2, axis=0), [x, r2], [xv, np.array([2, 5])])
    check_infer_shape(T.repeat(x, r1, axis=-1), [x, r1], [xv, np.array([4])])
    check_infer_shape(T.repeat(x, [1, 0, 2], axis=1), [x], [xv])
    r = T.lvector("r")   # length unknown statically: one count for all, or one each
    check_infer_shape(T.repeat(x, r, axis=0), [x, r], [xv, np.array([1, 3])])
    check_infer_shape(T.repeat(x, r, axis=0), [x, r], [xv, np.array([3])])
    check_infer_shape(T.repeat(x, r), [x, r], [xv, np.array([2])])


def test_repeat_errors():
    x = T.tensor("float64", shape=(2, 3))
    with pytest.raises(ShapeError, match="3 repeat counts for 2 elements"):
        T.repeat(x, [1, 2, 3], axis=0)
    with pytest.raises(TypeError, match="integer scalar or vector"):
        T.repeat(x, T.scalar("f"))
    with pytest.raises(TypeError, match="integer"):
        T.repeat(x, 1.5)
    with pytest.raises(ValueError, match=">= 0"):
        T.repeat(x, -1)
    with pytest.raises(np.exceptions.AxisError):
        T.repeat(x, 2, axis=2)


# --------------------------------------------------------------------------- h/vstack

def test_horizontal_vertical_stack(mode, rng):
    v = T.vector("v", dtype="int32")
    m = T.matrix("m", dtype="int32")
    outs = [T.horizontal_stack(v, v), T.hstack([m, m]), T.vertical_stack(v, v),
            T.vstack([m, v]), T.vstack([m, m]),
            T.hstack((v, 1))]
    assert outs[2].type.shape == (2, None)
    f = sg.function([v, m], outs, mode=mode)
    vv = rng.integers(0, 9, size=3).astype("int32")
    mv = rng.integers(0, 9, size=(2, 3)).astype("int32")
    res = f(vv, mv)
    expected = [np.hstack([vv, vv]), np.hstack([mv, mv]), np.vstack([vv, vv]),
                np.vstack([mv, vv]), np.vstack([mv, mv]), np.hstack([vv, 1])]
    for got, exp in zip(res, expected):
        assert_allclose(got, exp)
