"""Gradients (L_op), R_op of the nnet ops and of the losses built from ops, checked by
finite differences (verify_grad) in float64."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import DisconnectedType, Rop, grad, verify_grad
from symgraph.tensor import nnet


def _rng(k):
    return np.random.default_rng(k)


def _fn(inputs, outputs):
    return sg.function(inputs, outputs, on_unused_input="ignore")


def _point(shape, k, low=-2.0, high=2.0):
    return _rng(k).uniform(low, high, shape)


def _rop_check(build, xv, k):
    x = T.TensorType("float64", shape=(None,) * xv.ndim)("x")
    v = x.type("v")
    out = build(x)
    r = Rop(out, x, v)
    vv = _point(xv.shape, k)
    got = _fn([x, v], r)(xv, vv)
    f = _fn([x], out)
    eps = 1e-6
    want = (f(xv + eps * vv) - f(xv - eps * vv)) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


SOFTMAX_CASES = [((4,), -1), ((4,), 0), ((2, 3), -1), ((2, 3), 0), ((2, 2, 3), 1),
                 ((2, 2, 3), -3)]


# ----------------------------------------------------------------------- softmax

@pytest.mark.parametrize("fn", [nnet.softmax, nnet.log_softmax])
@pytest.mark.parametrize("shape,axis", SOFTMAX_CASES)
def test_softmax_log_softmax_grad(fn, shape, axis):
    verify_grad(lambda x: fn(x, axis=axis), [_point(shape, 1)], n_tests=1, rng=_rng(2))


@pytest.mark.parametrize("fn", [nnet.softmax, nnet.log_softmax])
def test_softmax_grad_finite_at_large_values(fn):
    v = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1000.5]])
    verify_grad(lambda x: fn(x), [v], n_tests=1, rng=_rng(3))
    x = T.dmatrix("x")
    w = T.dmatrix("w")
    g = _fn([x, w], grad(T.sum(fn(x) * w), x))(v, _point((2, 3), 4))
    assert np.all(np.isfinite(g))


@pytest.mark.parametrize("fn", [nnet.softmax, nnet.log_softmax])
@pytest.mark.parametrize("shape,axis", [((4,), 0), ((2, 3), 0), ((2, 2, 3), -1)])
def test_softmax_log_softmax_rop(fn, shape, axis):
    _rop_check(lambda x: fn(x, axis=axis), _point(shape, 5), 6)


def test_softmax_grad_uses_forward_output():
    # the gradient graph reuses softmax's output instead of building a second softmax
    x = T.dmatrix("x")
    s = nnet.softmax(x)
    g = grad(T.sum(s * s), x)
    nodes = sg.graph.basic.io_toposort([x], [g])
    assert sum(isinstance(n.op, nnet.Softmax) for n in nodes) == 1


# ----------------------------------------------------------------------- cross-entropy

@pytest.mark.parametrize("shape,labels", [
    ((3, 4), np.array([0, 3, 1])),
    ((4,), np.array(2)),
    ((2, 2, 3), np.array([[0, 2], [1, 1]])),
])
def test_crossentropy_1hot_grad(shape, labels):
    y = T.constant(labels.astype("int64"))
    verify_grad(lambda p: nnet.crossentropy_categorical_1hot(p, y), [_point(shape, 7, 0.1, 1.0)],
                n_tests=2, rng=_rng(8))


def test_crossentropy_1hot_labels_disconnected_and_zero_probability():
    p = T.dmatrix("p")
    y = T.lvector("y")
    out = nnet.crossentropy_categorical_1hot(p, y)
    gp, gy = out.owner.op.L_op([p, y], [out], [T.ones_like(out)])
    assert isinstance(gy.type, DisconnectedType)
    assert not isinstance(gp.type, DisconnectedType)
    g = grad(T.sum(out), [p, y], disconnected_inputs="ignore")
    f = _fn([p, y], g)
    pv = np.array([[0.5, 0.25, 0.25], [0.0, 0.6, 0.4]])
    gpv, gyv = f(pv, np.array([1, 0]))
    # -1/p at the label; p = 0 gives -inf there and nothing (not nan) elsewhere
    np.testing.assert_array_equal(gpv, [[0.0, -4.0, 0.0], [-np.inf, 0.0, 0.0]])
    np.testing.assert_array_equal(gyv, [0.0, 0.0])


def test_crossentropy_1hot_rop():
    y = T.constant(np.array([2, 0, 1]))
    _rop_check(lambda p: nnet.crossentropy_categorical_1hot(p, y), _point((3, 3), 9, 0.1, 1.0),
               10)


def test_crossentropy_of_softmax_gradient_is_softmax_minus_onehot():
    z = T.dmatrix("z")
    y = T.lvector("y")
    cost = T.sum(nnet.categorical_crossentropy(nnet.softmax(z), y))
    f = _fn([z, y], grad(cost, z))
    zv = _point((4, 5), 11, -3.0, 3.0)
    yv = np.array([0, 4, 2, 2])
    e = np.exp(zv - zv.max(axis=1, keepdims=True))
    want = e / e.sum(axis=1, keepdims=True)
    want[np.arange(4), yv] -= 1.0
    np.testing.assert_allclose(f(zv, yv), want, rtol=1e-10, atol=1e-12)


def test_onehot_categorical_crossentropy_grad():
    t = np.eye(4)[[1, 3, 0]]
    soft = _rng(12).dirichlet(np.ones(4), size=3)
    p = _rng(13).dirichlet(np.ones(4), size=3) * 0.8 + 0.05
    verify_grad(lambda q: nnet.categorical_crossentropy(q, T.constant(t)), [p], n_tests=1,
                rng=_rng(14))
    verify_grad(nnet.categorical_crossentropy, [p, soft], n_tests=1, rng=_rng(15))


def test_binary_crossentropy_grad():
    o = _point((2, 3), 16, 0.1, 0.9)
    t = _point((2, 3), 17, 0.0, 1.0)
    verify_grad(nnet.binary_crossentropy, [o, t], n_tests=1, rng=_rng(18))
    verify_grad(lambda a: nnet.binary_crossentropy(a, T.constant(np.array([0.0, 1.0, 1.0]))),
                [o[0]], n_tests=1, rng=_rng(19))


def test_sigmoid_binary_crossentropy_grad():
    x = _point((2, 3), 20, -4.0, 4.0)
    t = _point((2, 3), 21, 0.0, 1.0)
    verify_grad(nnet.sigmoid_binary_crossentropy, [x, t], n_tests=1, rng=_rng(22))
    # large logits: the gradient sigmoid(x) - t stays finite and exact
    xs = T.dvector("x")
    ts = T.dvector("t")
    g = grad(T.sum(nnet.sigmoid_binary_crossentropy(xs, ts)), xs)
    xv = np.array([-800.0, 800.0, 0.0])
    tv = np.array([1.0, 0.0, 1.0])
    np.testing.assert_allclose(_fn([xs, ts], g)(xv, tv), [-1.0, 1.0, -0.5])


def test_relu_grad():
    # away from the kink at 0
    v = np.array([[-1.5, 0.3, 2.0], [0.7, -0.2, -3.0]])
    verify_grad(nnet.relu, [v], n_tests=2, rng=_rng(23))
    x = T.dvector("x")
    g = _fn([x], grad(T.sum(nnet.relu(x)), x))(np.array([-1.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0])


# ----------------------------------------------------------------------- second order

_C = np.random.default_rng(24).standard_normal((2, 3))


@pytest.mark.parametrize("cost", [
    lambda x: T.sum(nnet.softmax(x) * _C),
    lambda x: T.sum(nnet.log_softmax(x, axis=0) * _C),
    lambda x: T.sum(nnet.categorical_crossentropy(nnet.softmax(x), T.constant(np.array([0, 2])))),
    lambda x: T.sum(nnet.sigmoid_binary_crossentropy(x, T.constant(np.abs(_C) / 3.0))),
], ids=["softmax", "log_softmax", "crossentropy", "sigmoid_bce"])
def test_second_derivatives(cost):
    verify_grad(lambda x: grad(cost(x), x), [_point((2, 3), 25)], n_tests=1, rng=_rng(26))


def test_hessian_of_log_softmax_entry():
    # d^2 log_softmax(x)_0 / dx^2 = -(diag(s) - s s^T)
    x = T.TensorType("float64", shape=(3,))("x")
    xv = np.array([0.3, -0.7, 1.1])
    h = _fn([x], sg.hessian(nnet.log_softmax(x)[0], x))(xv)
    s = np.exp(xv) / np.exp(xv).sum()
    np.testing.assert_allclose(h, np.outer(s, s) - np.diag(s), atol=1e-12)
