"""Gradients (L_op) and forward derivatives (R_op) of the ops in tensor/join.py and of
the helpers built from them (stack, concatenate, hstack, vstack)."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import DisconnectedType, verify_grad
from symgraph.tensor.join import Join, Repeat, Split, Tile
from tests.tensor.test_dot_grad import check_rop, free, known_grad, rand
from tests.utils import assert_allclose

DTYPES = ["float64", "complex128"]


# ----------------------------------------------------------------------- Join

JOIN_CASES = [
    ([(2, 3), (1, 3)], 0), ([(2, 3), (2, 1)], 1), ([(2, 3), (2, 1), (2, 2)], -1),
    ([(3,), (2,)], 0), ([(2, 1, 2), (2, 2, 2)], -2), ([(2, 0), (2, 2)], 1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes,axis", JOIN_CASES)
def test_concatenate_grad(shapes, axis, dtype):
    rng = np.random.default_rng(50)

    def fun(*xs):
        out = T.concatenate(list(xs), axis=axis)
        assert isinstance(out.owner.op, Join)
        return out

    verify_grad(fun, [rand(rng, s, dtype) for s in shapes], rng=rng, n_tests=1)


def test_join_grad_values_and_repeated_input():
    rng = np.random.default_rng(51)
    X, Y = rand(rng, (2, 2)), rand(rng, (2, 3))
    G = rand(rng, (2, 7))
    x, y = free("float64", 2), free("float64", 2)
    f, _ = known_grad(T.join(1, x, y, x), [x, y], G)
    gx, gy = f(X, Y, G)
    assert_allclose(gx, G[:, :2] + G[:, 5:])
    assert_allclose(gy, G[:, 2:5])


def test_join_grad_mixed_dtypes():
    # a real and a complex input: the real one gets the real part of its piece
    rng = np.random.default_rng(52)
    verify_grad(lambda x, y: T.concatenate([x, y]),
                [rand(rng, (2,)), rand(rng, (3,), "complex128")], rng=rng, n_tests=1)
    # an integer constant among the inputs takes no gradient
    verify_grad(lambda x: T.concatenate([x, np.arange(3)]) * 1.5, [rand(rng, (2,))], rng=rng,
                n_tests=1)


def test_join_grad_static_lengths():
    x = T.tensor("float64", shape=(2, 3))
    y = T.tensor("float64", shape=(None, 3))
    out = T.concatenate([x, y])
    g = free("float64", 2)
    gx, gy = sg.grad(None, [x, y], known_grads={out: g})
    assert gx.type.shape[0] == 2
    X, Y, G = np.ones((2, 3)), np.ones((1, 3)), np.arange(9.0).reshape(3, 3)
    a, b = sg.function([x, y, g], [gx, gy], on_unused_input="ignore")(X, Y, G)
    assert_allclose(a, G[:2])
    assert_allclose(b, G[2:])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes,axis", JOIN_CASES[:3])
def test_join_rop(shapes, axis, dtype):
    rng = np.random.default_rng(53)
    pts = [rand(rng, s, dtype) for s in shapes]
    check_rop(lambda *xs: T.concatenate(list(xs), axis=axis), pts, rng, op_type=Join)
    check_rop(lambda *xs: T.concatenate(list(xs), axis=axis), pts, rng, which=[1])


# ----------------------------------------------------------------------- stack / hstack / vstack

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,axis", [((3,), 0), ((3,), 1), ((3,), -1), ((2, 2), 1),
                                        ((2, 2), -3), ((), 0)])
def test_stack_grad(shape, axis, dtype):
    rng = np.random.default_rng(54)
    verify_grad(lambda x, y: T.stack([x, y], axis=axis),
                [rand(rng, shape, dtype), rand(rng, shape, dtype)], rng=rng, n_tests=1)


def test_stack_of_scalars_grad():
    rng = np.random.default_rng(55)
    verify_grad(lambda x: T.stack([x[0], x[1] * x[0], x[2]]), [rand(rng, (3,))], rng=rng,
                n_tests=1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [[(3,), (2,)], [(2, 3), (2, 1)], [(2,), (2,), (2,)]])
def test_hstack_grad(shapes, dtype):
    rng = np.random.default_rng(56)
    verify_grad(lambda *xs: T.hstack(xs), [rand(rng, s, dtype) for s in shapes], rng=rng,
                n_tests=1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(2, 3), (1, 3)], [(3,), (2, 3)]])
def test_vstack_grad(shapes, dtype):
    rng = np.random.default_rng(57)
    verify_grad(lambda *xs: T.vstack(xs), [rand(rng, s, dtype) for s in shapes], rng=rng,
                n_tests=1)


def test_concatenate_axis_none_grad():
    rng = np.random.default_rng(58)
    verify_grad(lambda x, y: T.concatenate([x, y], axis=None),
                [rand(rng, (2, 2)), rand(rng, (3,))], rng=rng, n_tests=1)


# ----------------------------------------------------------------------- Split

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,sizes,axis", [((5,), [2, 3], 0), ((2, 4), [1, 0, 3], 1),
                                              ((3, 2), [2, 1], -2), ((2, 3), [3], 1)])
def test_split_grad(shape, sizes, axis, dtype):
    rng = np.random.default_rng(59)

    def fun(x):
        parts = T.split(x, sizes, len(sizes), axis)
        assert isinstance(parts[0].owner.op, Split)
        # every piece used, with different weights so a mix-up shows
        return T.concatenate([p * (k + 1) for k, p in enumerate(parts)], axis=axis)

    verify_grad(fun, [rand(rng, shape, dtype)], rng=rng, n_tests=1)


def test_split_grad_unused_pieces_get_zeros():
    rng = np.random.default_rng(60)
    X = rand(rng, (2, 5))
    verify_grad(lambda x: T.split(x, [2, 1, 2], 3, 1)[1], [X], rng=rng, n_tests=1)
    x, g = free("float64", 2), free("float64", 2)
    piece = T.split(x, [2, 1, 2], 3, 1)[2]
    gx = sg.grad(None, x, known_grads={piece: g})
    G = rand(rng, (2, 2))
    want = np.zeros((2, 5))
    want[:, 3:] = G
    assert_allclose(sg.function([x, g], gx)(X, G), want)


def test_split_grad_symbolic_sizes():
    # sizes computed from the input's own shape: disconnected, not differentiated
    rng = np.random.default_rng(61)

    def fun(x):
        a, b = T.split(x, [x.shape[0] - 1, 1], 2, 0)
        return T.concatenate([b * 3, a])

    verify_grad(fun, [rand(rng, (4,))], rng=rng, n_tests=1)
    x = free("float64", 1)
    node = T.split(x, [x.shape[0] - 1, 1], 2, 0)[0].owner
    grads = node.op.L_op(node.inputs, node.outputs, [free("float64", 1), free("float64", 1)])
    assert isinstance(grads[1].type, DisconnectedType)


@pytest.mark.parametrize("dtype", DTYPES)
def test_split_rop(dtype):
    rng = np.random.default_rng(62)
    X = rand(rng, (2, 5), dtype)
    for k in range(3):
        check_rop(lambda x: T.split(x, [2, 1, 2], 3, 1)[k], [X], rng, op_type=Split)


# ----------------------------------------------------------------------- Tile

TILE_CASES = [((2, 2), (2, 3)), ((3,), (2,)), ((2, 1), (1, 3)), ((3, 2), (2, 1, 2)),
              ((), (3,)), ((2,), 2), ((2, 2), (0, 2)), ((2, 1, 2), (2,))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,reps", TILE_CASES)
def test_tile_grad(shape, reps, dtype):
    rng = np.random.default_rng(63)

    def fun(x):
        out = T.tile(x, reps)
        assert isinstance(out.owner.op, Tile)
        return out

    verify_grad(fun, [rand(rng, shape, dtype)], rng=rng, n_tests=1)


def test_tile_grad_values_and_symbolic_reps():
    rng = np.random.default_rng(64)
    X = rand(rng, (2, 3))
    G = rand(rng, (4, 3))
    x = free("float64", 2)
    y = free("float64", 1)
    out = T.tile(x, [y.shape[0], 1])      # reps known only at run time
    g = free("float64", 2)
    gx = sg.grad(None, x, known_grads={out: g})
    got = sg.function([x, y, g], gx, on_unused_input="ignore")(X, np.zeros(2), G)
    assert_allclose(got, G[:2] + G[2:])
    verify_grad(lambda x, y: T.tile(x, [y.shape[0], 2]) * 2, [X, np.zeros(2)], rng=rng,
                n_tests=1)


def test_tile_grad_reps_disconnected():
    x = free("float64", 1)
    reps = T.cast(T.shape(x), "int64")
    out = T.tile(x, reps)
    grads = out.owner.op.L_op(out.owner.inputs, [out], [free("float64", 1)])
    assert isinstance(grads[1].type, DisconnectedType)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,reps", TILE_CASES[:3])
def test_tile_rop(shape, reps, dtype):
    rng = np.random.default_rng(65)
    check_rop(lambda x: T.tile(x, reps), [rand(rng, shape, dtype)], rng, op_type=Tile)


# ----------------------------------------------------------------------- Repeat

REPEAT_CASES = [
    ((2, 3), 2, 1), ((2, 3), 2, -1), ((2, 2), 3, None), ((3,), 0, 0), ((), 2, None),
    ((2, 3), [1, 0, 2], 1), ((2, 2), [1, 0, 2, 3], None), ((3, 2), [2, 1, 1], -2),
    ((2, 3), [2], 0), ((2, 2, 2), [3], 2),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,repeats,axis", REPEAT_CASES)
def test_repeat_grad(shape, repeats, axis, dtype):
    rng = np.random.default_rng(66)

    def fun(x):
        out = T.repeat(x, repeats, axis)
        assert isinstance(out.owner.op, Repeat)
        return out

    verify_grad(fun, [rand(rng, shape, dtype)], rng=rng, n_tests=1)


def test_repeat_grad_values():
    rng = np.random.default_rng(67)
    X = rand(rng, (2, 3))
    x, g = free("float64", 2), free("float64", 2)
    out = T.repeat(x, [1, 0, 3], axis=1)
    gx = sg.grad(None, x, known_grads={out: g})
    G = rand(rng, (2, 4))
    want = np.stack([G[:, 0], np.zeros(2), G[:, 1:].sum(axis=1)], axis=1)
    assert_allclose(sg.function([x, g], gx, on_unused_input="ignore")(X, G), want)


def test_repeat_grad_symbolic_repeats():
    rng = np.random.default_rng(68)
    X = rand(rng, (3, 2))
    # a repeats vector whose length is only known at run time
    verify_grad(lambda x: T.repeat(x, T.arange(x.shape[0]) % 2 + 1, axis=0), [X], rng=rng,
                n_tests=1)
    # ... that turns out to have one entry, which numpy applies to every element
    verify_grad(lambda x: T.repeat(x, T.arange(2, x.shape[0]), axis=0), [X], rng=rng,
                n_tests=1)
    # a symbolic scalar count
    verify_grad(lambda x: T.repeat(x, x.shape[1], axis=None), [X], rng=rng, n_tests=1)


@pytest.mark.parametrize("case", ["join", "tile", "repeat"])
def test_second_derivative_through_join_tile_repeat(case):
    rng = np.random.default_rng(70)
    build = {
        "join": lambda x: T.concatenate([x, x[:1] * 2], axis=0),
        "tile": lambda x: T.tile(x, (2, 1)),
        "repeat": lambda x: T.repeat(x, [2, 0, 1], axis=0),
    }

    def fun(x):
        return sg.grad(T.sum(build[case](x) ** 3), x)

    verify_grad(fun, [rand(rng, (3, 2))], rng=rng, n_tests=1)


def test_repeat_grad_repeats_disconnected():
    x = free("float64", 1)
    out = T.repeat(x, T.cast(x.shape[0], "int64"))
    grads = out.owner.op.L_op(out.owner.inputs, [out], [free("float64", 1)])
    assert isinstance(grads[1].type, DisconnectedType)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,repeats,axis", [REPEAT_CASES[0], REPEAT_CASES[5]])
def test_repeat_rop(shape, repeats, axis, dtype):
    rng = np.random.default_rng(69)
    check_rop(lambda x: T.repeat(x, repeats, axis), [rand(rng, shape, dtype)], rng,
              op_type=Repeat)

