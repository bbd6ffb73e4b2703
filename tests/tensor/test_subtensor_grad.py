"""Gradients (L_op) and R_op of the indexing ops: Subtensor, AdvancedSubtensor,
IncSubtensor, AdvancedIncSubtensor and SumToShape, checked by finite differences
(verify_grad) in float64 and complex128."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import DisconnectedType, Lop, Rop, _forward, grad, verify_grad
from symgraph.graph.utils import ShapeError
from symgraph.tensor.subtensor import (
    AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor, Subtensor, SumToShape,
)
from tests.utils import assert_allclose, check_infer_shape

DTYPES = ["float64", "complex128"]


def _rng(k):
    return np.random.default_rng(k)


def _point(shape, k, dtype="float64"):
    r = _rng(k)
    v = r.uniform(-2.0, 2.0, shape)
    if dtype == "complex128":
        v = v + 1j * r.uniform(-2.0, 2.0, shape)
    return v.astype(dtype)


def _var(v, name):
    return T.TensorType(v.dtype.name, shape=(None,) * v.ndim)(name)


def _known_grad(build, vals, gv):
    """The gradients of the inputs of ``build`` given the output gradient ``gv``."""
    xs = [_var(v, f"x{i}") for i, v in enumerate(vals)]
    out = build(*xs)
    g = out.type("g")
    gs = grad(None, xs, known_grads={out: g}, disconnected_inputs="ignore")
    return sg.function(xs + [g], gs, on_unused_input="ignore")(*vals, gv)


def _check_rop(build, vals, k):
    """Rop of ``build`` along random directions against a central finite difference
    and against the double-Lop construction; the forward pass needs no fallback."""
    xs = [_var(v, f"x{i}") for i, v in enumerate(vals)]
    vs = [x.type(f"v{i}") for i, x in enumerate(xs)]
    out = build(*xs)
    dirs = [_point(v.shape, k + 10 + i, v.dtype.name) for i, v in enumerate(vals)]
    _forward([out], xs, vs)  # every op on the way has an R_op
    r = Rop(out, xs, vs)
    # double Lop: J v = d/du <J^T u, v>
    u = out.type("u")
    jtu = Lop(out, xs, u)
    inner = sum(T.sum(T.real(T.conj(j) * v)) if j.dtype.startswith("complex")
                else T.sum(j * v) for j, v in zip(jtu, vs))
    f = sg.function(xs + vs, r, on_unused_input="ignore")
    got = f(*vals, *dirs)
    fo = sg.function(xs, out)
    eps = 1e-6
    num = (fo(*[v + eps * d for v, d in zip(vals, dirs)])
           - fo(*[v - eps * d for v, d in zip(vals, dirs)])) / (2 * eps)
    np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-6)
    if out.dtype == "float64" and all(v.dtype == np.float64 for v in vals):
        dl = grad(inner, u)
        got2 = sg.function(xs + vs + [u], dl, on_unused_input="ignore")(
            *vals, *dirs, np.zeros(got.shape))
        np.testing.assert_allclose(got, got2, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- Subtensor

BASIC_KEYS = [
    1, -1, (1, -2), (slice(None, None, -1), 2), (slice(1, None), slice(None, None, -2)),
    (slice(-1, 0, -1), slice(3, 0, -2)), (Ellipsis, -1), (None, slice(None), 1),
    (0, None, Ellipsis, None), (slice(5, 1),), (),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("key", BASIC_KEYS, ids=str)
def test_subtensor_grad(key, dtype):
    verify_grad(lambda x: x[key], [_point((3, 4), 1, dtype)], n_tests=1, rng=_rng(2))


def test_subtensor_grad_3d_and_symbolic_index():
    i = sg.shared(np.int64(-2), name="i")
    j = sg.shared(np.int64(1), name="j")
    verify_grad(lambda x: x[i, j:, ::-1], [_point((3, 3, 2), 3)], n_tests=1, rng=_rng(4))
    verify_grad(lambda x: x[:, i], [_point((2, 3, 2), 5, "complex128")], n_tests=1,
                rng=_rng(6))


def test_subtensor_grad_value_and_disconnected_index():
    x = T.matrix("x")
    i = T.lscalar("i")
    out = x[i, 1:]
    gx = _known_grad(lambda x: x[1, ::-2], [np.zeros((3, 5))], np.array([1.0, 2.0, 3.0]))[0]
    assert_allclose(gx, np.array([[0.0] * 5, [3, 0, 2, 0, 1], [0.0] * 5]))
    gs = out.owner.op.L_op(out.owner.inputs, out.owner.outputs, [out.type()])
    assert isinstance(gs[1].type, DisconnectedType)
    assert gs[0].owner is not None and isinstance(gs[0].owner.op, IncSubtensor)


# ----------------------------------------------------------------------------- advanced

ADV_KEYS = [
    ([0, 0, 2],), ([-1, 1, -1],), (slice(None), [3, 3, -4]), ([[0, 2], [2, 2]],),
    ([0, 2, 1], [1, 1, 3]), (np.array([True, False, True]),),
    (np.array([[True, False, True, False]] * 3),), (Ellipsis, [1, 1]),
    (None, [0, 0], Ellipsis), (slice(None, None, -1), [2, 0]), ([1, 0], slice(1, None), None),
    (np.array([False, True, True]), 2),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("key", ADV_KEYS, ids=str)
def test_advanced_subtensor_grad(key, dtype):
    verify_grad(lambda x: x[key], [_point((3, 4), 7, dtype)], n_tests=1, rng=_rng(8))


def test_advanced_subtensor_grad_separated_arrays_and_symbolic():
    # arrays separated by a slice: the broadcast dimension goes first
    verify_grad(lambda x: x[[0, 1, 1], :, [1, 0, 0]], [_point((2, 2, 3), 9)], n_tests=1,
                rng=_rng(10))
    idx = sg.shared(np.array([2, 0, 2, -1]), name="idx")
    verify_grad(lambda x: x[idx, 1:], [_point((3, 3), 11)], n_tests=1, rng=_rng(12))


def test_advanced_subtensor_grad_repeated_indices_accumulate():
    (gx,) = _known_grad(lambda x: x[[0, 0, 1, -1]], [np.zeros(3)], np.array([1.0, 2, 4, 8]))
    assert_allclose(gx, np.array([3.0, 4.0, 8.0]))
    x = T.vector("x")
    g = grad(T.sum(x[[0, 0, 1]]), x)
    assert isinstance(g.owner.op, AdvancedIncSubtensor) and not g.owner.op.set_instead_of_inc
    assert_allclose(sg.function([x], g)(np.zeros(3)), np.array([2.0, 1.0, 0.0]))


# ----------------------------------------------------------------------------- set / inc

def _set_inc(set_, key, static=None, **kw):
    def build(x, y):
        if static is not None:
            y = T.specify_shape(y, static)
        fn = T.set_subtensor if set_ else T.inc_subtensor
        return fn(x[key], y, **kw)
    return build


# (key into a (3, 4) x, shape of y, static shape given to y or None)
INC_CASES = [
    ((slice(1, 3),), (2, 4), None),
    ((slice(1, 3),), (1, 4), None),          # a run-time length 1 broadcasts
    ((slice(1, 3),), (1, 4), (1, None)),     # a static length 1
    ((slice(None, None, -1), -1), (), None),  # a scalar into a column
    ((slice(None, None, -2),), (4,), None),   # a missing leading dimension
    ((-1, slice(3, 0, -1)), (1,), (1,)),
    ((None, 1), (1, 4), None),
    ((None, 1), (4,), None),
    ((slice(None), None, -2), (3, 1), None),
    ((Ellipsis, 2), (3,), None),
]


@pytest.mark.parametrize("set_", [False, True], ids=["inc", "set"])
@pytest.mark.parametrize("key,yshape,static", INC_CASES, ids=str)
def test_inc_subtensor_grad(key, yshape, static, set_):
    build = _set_inc(set_, key, static)
    xv, yv = _point((3, 4), 13), _point(yshape, 14)
    assert isinstance(build(_var(xv, "x"), _var(yv, "y")).owner.op, IncSubtensor)
    verify_grad(build, [xv, yv], n_tests=1, rng=_rng(15))


ADV_INC_CASES = [
    (([0, 0, 2],), (3, 4), None),
    (([0, 0, 2],), (1, 4), None),
    (([0, 0, 2],), (3, 1), (None, 1)),
    (([0, 0, 2],), (4,), None),
    (([2, -1, 1],), (), None),
    ((slice(None), [1, 1]), (3, 2), None),
    (([0, 1, 1], [3, 3, 3]), (3,), None),
    ((np.array([True, False, True]),), (2, 4), None),
    ((np.array([True, False, True]),), (4,), None),
    ((np.array([[True, False, True, True]] * 3),), (1,), None),
    ((None, [2, 2], Ellipsis), (2, 4), None),
]


@pytest.mark.parametrize("mode", ["inc", "set", "inc_ignore_duplicates"])
@pytest.mark.parametrize("key,yshape,static", ADV_INC_CASES, ids=str)
def test_advanced_inc_subtensor_grad(key, yshape, static, mode):
    kw = {"ignore_duplicates": True} if mode == "inc_ignore_duplicates" else {}
    build = _set_inc(mode == "set", key, static, **kw)
    xv, yv = _point((3, 4), 16), _point(yshape, 17)
    assert isinstance(build(_var(xv, "x"), _var(yv, "y")).owner.op, AdvancedIncSubtensor)
    verify_grad(build, [xv, yv], n_tests=1, rng=_rng(18))


@pytest.mark.parametrize("set_", [False, True], ids=["inc", "set"])
def test_set_inc_grad_complex(set_):
    verify_grad(_set_inc(set_, (slice(None, None, -1), 1)), [_point((3, 2), 19, "complex128"),
                                                            _point((1,), 20, "complex128")],
                n_tests=1, rng=_rng(21))
    verify_grad(_set_inc(set_, ([1, 1, 0],)), [_point((2, 2), 22, "complex128"),
                                               _point((3, 2), 23, "complex128")],
                n_tests=1, rng=_rng(24))
    # a real y written into a complex x: its gradient is the real part
    build = _set_inc(set_, ([1, 1, 0],))
    xv = _point((2, 2), 25, "complex128")
    gx, gy = _known_grad(build, [xv, _point((2,), 26)], (1 + 2j) * np.ones((2, 2)))
    assert gy.dtype == np.float64
    assert_allclose(gy, np.full(2, 2.0 if set_ else 3.0))  # x[1] is written twice


def test_set_repeated_indices_grad_goes_to_last_write():
    # NumPy keeps the value written last: y[1] lands in x[0], y[0] is overwritten
    xv, yv = np.zeros(3), np.array([1.0, 2.0, 4.0])
    build = _set_inc(True, ([0, 0, 2],))
    assert_allclose(sg.function(*_io(build, xv, yv))(xv, yv), np.array([2.0, 0.0, 4.0]))
    gx, gy = _known_grad(build, [xv, yv], np.array([10.0, 20.0, 30.0]))
    assert_allclose(gx, np.array([0.0, 20.0, 0.0]))
    assert_allclose(gy, np.array([0.0, 10.0, 30.0]))
    # the same with symbolic indices (found at run time) and a broadcast y
    idx = sg.shared(np.array([1, 1, -2]), name="idx")
    build = _set_inc(True, (idx,))
    gx, gy = _known_grad(build, [np.zeros((3, 2)), np.array([1.0, 2.0])],
                         np.arange(6.0).reshape(3, 2))
    assert_allclose(gy, np.array([2.0, 3.0]))
    assert_allclose(gx, np.array([[0.0, 1.0], [0.0, 0.0], [4.0, 5.0]]))
    # accumulated increments send g to every y element
    gx, gy = _known_grad(_set_inc(False, (idx,)), [np.zeros((3, 2)), np.ones((3, 2))],
                         np.arange(6.0).reshape(3, 2))
    assert_allclose(gy, np.array([[2.0, 3.0], [2.0, 3.0], [2.0, 3.0]]))
    verify_grad(_set_inc(True, (idx, slice(None, None, -1))),
                [_point((3, 2), 27), _point((3, 2), 28)], n_tests=1, rng=_rng(29))


def _io(build, xv, yv):
    x, y = _var(xv, "x"), _var(yv, "y")
    return [x, y], build(x, y)


def test_inc_subtensor_grad_uses_static_sums_when_shapes_decide():
    x = T.matrix("x")
    y = T.tensor("float64", shape=(1, 3), name="y")  # every dimension decided statically
    out = T.set_subtensor(x[1:3], y)
    gy = grad(T.sum(out * out), y)
    names = {type(n.op).__name__ for n in sg.graph.basic.io_toposort([x, y], [gy])}
    assert "SumToShape" not in names
    y2 = T.matrix("y2")
    gy2 = grad(T.sum(T.set_subtensor(x[1:3], y2) ** 2), y2)
    names2 = {type(n.op).__name__ for n in sg.graph.basic.io_toposort([x, y2], [gy2])}
    assert "SumToShape" in names2


def test_inc_subtensor_second_order():
    # the gradient of y goes through SumToShape (run-time broadcast), whose own
    # gradient is checked here
    def build(x, y):
        return grad(T.sum(T.inc_subtensor(x[1:], y) ** 3), y)
    verify_grad(build, [_point((3, 2), 30), _point((1, 2), 31)], n_tests=1, rng=_rng(32))

    def build_set(x, y):
        return grad(T.sum(T.set_subtensor(x[[0, 0]], y) ** 3), x)
    verify_grad(build_set, [_point((2, 2), 33), _point((2,), 34)], n_tests=1, rng=_rng(35))


# ----------------------------------------------------------------------------- SumToShape

def test_sum_to_shape_values_grad_and_errors():
    g = T.tensor3("g")
    n = T.lscalar("n")
    out = SumToShape()(g, 1, n)
    f = sg.function([g, n], out)
    gv = _point((2, 3, 4), 36)
    assert_allclose(f(gv, 4), gv.sum(axis=(0, 1)).reshape(1, 4))
    assert_allclose(f(gv[:, :, :1], 1), gv[:, :, :1].sum(axis=(0, 1)).reshape(1, 1))
    assert out.type.shape == (1, None)
    with pytest.raises(ShapeError, match="not a broadcast of shape"):
        f(gv, 3)
    check_infer_shape(out, [g, n], [gv, 4])
    verify_grad(lambda g: SumToShape()(g, 3, 1), [_point((2, 3, 2), 37)], n_tests=1,
                rng=_rng(38))
    verify_grad(lambda g: SumToShape()(g, 1, 1, 2), [_point((1, 3, 2), 39, "complex128")],
                n_tests=1, rng=_rng(40))


# ----------------------------------------------------------------------------- R_op

def test_rop_subtensor_and_advanced():
    _check_rop(lambda x: x[1:, ::-2], [_point((3, 4), 41)], 1)
    _check_rop(lambda x: x[[0, 0, -1]], [_point((3, 2), 42)], 2)
    _check_rop(lambda x: x[x > 0], [_point((3, 2), 43)], 3)
    _check_rop(lambda x: x[:, [1, 1]], [_point((2, 3), 44, "complex128")], 4)


@pytest.mark.parametrize("set_", [False, True], ids=["inc", "set"])
def test_rop_inc_subtensor(set_):
    _check_rop(_set_inc(set_, (slice(None, None, -1), 1)), [_point((3, 2), 45),
                                                           _point((3,), 46)], 5)
    _check_rop(_set_inc(set_, ([0, 0, 2],)), [_point((3, 2), 47), _point((1, 2), 48)], 6)
    _check_rop(_set_inc(set_, ([0, 2],)), [_point((3, 2), 49, "complex128"),
                                          _point((2,), 50, "complex128")], 7)
    # only one of x and y with a tangent
    x, y = T.matrix("x"), T.vector("y")
    v = T.matrix("v")
    out = (T.set_subtensor if set_ else T.inc_subtensor)(x[[0, 1]], y)
    rx = Rop(out, x, v)
    vy = T.vector("vy")
    ry = Rop(out, y, vy)
    f = sg.function([x, y, v, vy], [rx, ry], on_unused_input="ignore")
    vv, vyv = _point((3, 2), 51), _point((2,), 52)
    a, b = f(_point((3, 2), 53), _point((2,), 54), vv, vyv)
    want_a = vv.copy()
    if set_:
        want_a[[0, 1]] = 0
    assert_allclose(a, want_a)
    want_b = np.zeros((3, 2))
    want_b[[0, 1]] = vyv
    assert_allclose(b, want_b)


def test_grad_theano_form_ops_zero_d_masks_and_empty_targets():
    i = sg.shared(np.array([0, 2, 0]), name="i")
    j = sg.shared(np.array([1, 1, 1]), name="j")
    verify_grad(lambda x: AdvancedSubtensor()(x, i, j), [_point((3, 2), 55)], n_tests=1,
                rng=_rng(56))
    verify_grad(lambda x, y: AdvancedIncSubtensor(True)(x, y, i, j),
                [_point((3, 2), 57), _point((3,), 58)], n_tests=1, rng=_rng(59))
    verify_grad(lambda x, y: AdvancedIncSubtensor(False)(x, y, i, j),
                [_point((3, 2), 60), _point((1,), 61)], n_tests=1, rng=_rng(62))
    verify_grad(lambda x: x[True] * 2, [_point((3, 2), 63)], n_tests=1, rng=_rng(64))
    verify_grad(lambda x: x[..., False], [_point((3, 2), 65)], n_tests=1, rng=_rng(66))
    # a y broadcast into an empty selection gets a zero gradient of its own shape
    gx, gy = _known_grad(_set_inc(True, (slice(1, 1),)), [_point((3, 2), 67),
                                                          _point((1, 2), 68)], np.ones((3, 2)))
    assert_allclose(gy, np.zeros((1, 2)))
    assert_allclose(gx, np.ones((3, 2)))
