"""Gradients (L_op) and forward derivatives (R_op) of the ops in tensor/shape.py and of
the helpers built from them (flatten, squeeze, expand_dims, ...)."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import DisconnectedInputError, DisconnectedType, verify_grad
from symgraph.tensor.shape import Reshape, Shape, Shape_i, SpecifyShape, Unbroadcast
from tests.tensor.test_dot_grad import check_rop, free, known_grad, rand
from tests.utils import assert_allclose

DTYPES = ["float64", "complex128"]


# ----------------------------------------------------------------------- Reshape

RESHAPE_CASES = [
    ((2, 3), (3, 2)), ((2, 3), (-1,)), ((2, 3), (1, 6)), ((6,), (2, -1)),
    ((2, 3, 2), (3, -1, 2)), ((), (1, 1)), ((1,), ()), ((2, 2), (2, 1, 2)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sx,shape", RESHAPE_CASES)
def test_reshape_grad(sx, shape, dtype):
    rng = np.random.default_rng(30)

    def fun(x):
        out = T.reshape(x, shape)
        assert isinstance(out.owner.op, Reshape)
        return out

    verify_grad(fun, [rand(rng, sx, dtype)], rng=rng, n_tests=1)


def test_reshape_grad_symbolic_shape():
    # the shape comes from another variable: it gets no gradient (disconnected)
    rng = np.random.default_rng(31)
    verify_grad(lambda x, y: T.reshape(x, y.shape) * y, [rand(rng, (2, 3)), rand(rng, (3, 2))],
                rng=rng, n_tests=1)
    x, y = free("float64", 2), free("float64", 2)
    cost = T.sum(T.reshape(x, y.shape))
    with pytest.raises(DisconnectedInputError):
        sg.grad(cost, y)
    gx = sg.grad(cost, x)
    f = sg.function([x, y], gx, on_unused_input="ignore")
    assert_allclose(f(np.ones((2, 3)), np.ones((3, 2))), np.ones((2, 3)))


def test_reshape_lop_marks_shape_disconnected():
    x = free("float64", 2)
    out = T.reshape(x, (3, 2))
    grads = out.owner.op.L_op(out.owner.inputs, [out], [free("float64", 2)])
    assert grads[0].ndim == 2
    assert isinstance(grads[1].type, DisconnectedType)


def test_reshape_grad_value():
    rng = np.random.default_rng(32)
    X, G = rand(rng, (2, 3), "complex128"), rand(rng, (3, 1, 2), "complex128")
    x = free("complex128", 2)
    f, _ = known_grad(T.reshape(x, (3, 1, 2)), [x], G)
    (gx,) = f(X, G)
    assert_allclose(gx, G.reshape(2, 3))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sx,shape", RESHAPE_CASES[:5])
def test_reshape_rop(sx, shape, dtype):
    rng = np.random.default_rng(33)
    check_rop(lambda x: T.reshape(x, shape), [rand(rng, sx, dtype)], rng, op_type=Reshape)


# ----------------------------------------------------------------------- flatten, squeeze, ...

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sx,ndim", [((2, 3), 1), ((2, 3, 2), 2), ((2, 1, 2), 1), ((), 1),
                                     ((2, 3), 2)])
def test_flatten_grad(sx, ndim, dtype):
    rng = np.random.default_rng(34)
    verify_grad(lambda x: T.flatten(x, ndim), [rand(rng, sx, dtype)], rng=rng, n_tests=1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sx,axis", [((2, 1, 3), 1), ((1, 3), 0), ((2, 1, 1), -1),
                                     ((1, 2, 1), (0, 2)), ((1,), 0)])
def test_squeeze_grad(sx, axis, dtype):
    rng = np.random.default_rng(35)
    verify_grad(lambda x: T.squeeze(x, axis), [rand(rng, sx, dtype)], rng=rng, n_tests=1)


def test_squeeze_static_grad():
    rng = np.random.default_rng(36)
    x = T.tensor("float64", shape=(None, 1, None))
    X, G = rand(rng, (2, 1, 3)), rand(rng, (2, 3))
    f, _ = known_grad(T.squeeze(x), [x], G)
    assert_allclose(f(X, G)[0], G[:, None])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sx,axis", [((2, 3), 0), ((2, 3), -1), ((2,), (0, 2)), ((), 0)])
def test_expand_dims_grad(sx, axis, dtype):
    rng = np.random.default_rng(37)
    verify_grad(lambda x: T.expand_dims(x, axis), [rand(rng, sx, dtype)], rng=rng, n_tests=1)


def test_shape_pad_grads():
    rng = np.random.default_rng(38)
    X = rand(rng, (2, 3))
    verify_grad(lambda x: T.shape_padleft(x, 2), [X], rng=rng, n_tests=1)
    verify_grad(lambda x: T.shape_padright(x), [X], rng=rng, n_tests=1)
    verify_grad(lambda x: T.shape_padaxis(x, -2), [X], rng=rng, n_tests=1)


# ----------------------------------------------------------------------- SpecifyShape / Unbroadcast

@pytest.mark.parametrize("dtype", DTYPES)
def test_specify_shape_grad(dtype):
    rng = np.random.default_rng(39)

    def fun(x):
        out = T.specify_shape(x, (2, None, 3))
        assert isinstance(out.owner.op, SpecifyShape)
        return out * x      # x reaches the output on two paths

    verify_grad(fun, [rand(rng, (2, 2, 3), dtype)], rng=rng, n_tests=1)


def test_specify_shape_grad_keeps_the_shape():
    x = free("float64", 2)
    out = T.specify_shape(x, (2, None))
    g = sg.grad(None, x, known_grads={out: free("float64", 2)})
    assert g.type.shape[0] == 2


@pytest.mark.parametrize("dtype", DTYPES)
def test_specify_broadcastable_and_broadcasting_grad(dtype):
    # a dimension declared of length 1 broadcasts: its gradient is summed back
    rng = np.random.default_rng(40)
    verify_grad(lambda x, y: T.specify_broadcastable(x, 0) + y,
                [rand(rng, (1, 3), dtype), rand(rng, (2, 3), dtype)], rng=rng, n_tests=1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_unbroadcast_grad(dtype):
    rng = np.random.default_rng(41)

    def fun(x):
        x = T.specify_broadcastable(x, 0, 2)
        out = T.unbroadcast(x, 0)
        assert isinstance(out.owner.op, Unbroadcast)
        assert out.type.shape == (None, None, 1)
        return out * 2

    verify_grad(fun, [rand(rng, (1, 2, 1), dtype)], rng=rng, n_tests=1)


def test_unbroadcast_grad_type_matches_input():
    x = T.tensor("float64", shape=(1, None))
    out = T.unbroadcast(x, 0)
    g = sg.grad(None, x, known_grads={out: free("float64", 2)})
    assert g.type.shape[0] == 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_specify_shape_and_unbroadcast_rop(dtype):
    rng = np.random.default_rng(42)
    X = rand(rng, (1, 3), dtype)
    check_rop(lambda x: T.specify_shape(x, (1, 3)), [X], rng, op_type=SpecifyShape)
    check_rop(lambda x: T.unbroadcast(T.specify_shape(x, (1, None)), 0), [X], rng,
              op_type=Unbroadcast)
    x, t = free(dtype, 2), free(dtype, 2)
    s = T.specify_shape(x, (1, None))
    r = sg.Rop(T.unbroadcast(s, 0), [x], [t])
    assert r.type.shape == (None, None)
    r = sg.Rop(s, [x], [t])
    assert r.type.shape == (1, None)


# ----------------------------------------------------------------------- Shape / Shape_i

def test_shape_ops_are_disconnected():
    x = free("float64", 2)
    for out in (T.shape(x), T.shape_i(x, 1)):
        assert isinstance(out.owner.op, (Shape, Shape_i))
        grads = out.owner.op.L_op([x], [out], [free("float64", out.ndim)])
        assert len(grads) == 1 and isinstance(grads[0].type, DisconnectedType)
        assert out.owner.op.R_op([x], [free("float64", 2)]) == [None]
    cost = T.sum(T.cast(T.shape(x), "float64")) + T.cast(T.shape_i(x, 0), "float64")
    with pytest.raises(DisconnectedInputError):
        sg.grad(cost, x)
    g = sg.grad(cost, x, disconnected_inputs="ignore")
    assert_allclose(sg.function([x], g)(np.ones((2, 3))), np.zeros((2, 3)))


def test_size_grad_is_disconnected():
    rng = np.random.default_rng(43)
    # x * size(x): the size contributes no gradient, so d/dx = size(x) * t
    verify_grad(lambda x: x * T.cast(T.size(x), "float64"), [rand(rng, (2, 3))], rng=rng,
                n_tests=1)


def test_rop_through_shape_uses_forward_mode():
    # Rop of x * shape(x)[0]: Shape's R_op says "no tangent", Elemwise carries the rest
    rng = np.random.default_rng(44)
    check_rop(lambda x: T.reshape(x, (-1,)) * T.cast(x.shape[0], "float64"),
              [rand(rng, (2, 3))], rng)
