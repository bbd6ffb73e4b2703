"""Gradients (L_op) and R_op of the creation ops (Alloc, Eye, Tri, ARange, AllocDiag,
ExtractDiag) and of the helpers built from ops (fill, full, broadcast_to, linspace,
tril/triu, zeros_like/ones_like), checked by finite differences (verify_grad)."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import (
    DisconnectedInputError, DisconnectedType, Rop, _forward, grad, verify_grad,
)
from symgraph.tensor.creation import ARange, Alloc, AllocDiag, ExtractDiag, Eye, Tri
from tests.utils import assert_allclose

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


def _check_rop(build, xv, k):
    """Rop along a random direction against a central finite difference; the forward
    pass must not need the double-Lop fallback."""
    x = _var(xv, "x")
    v = x.type("v")
    out = build(x)
    _forward([out], [x], [v])
    r = Rop(out, x, v)
    vv = _point(xv.shape, k, xv.dtype.name)
    got = sg.function([x, v], r, on_unused_input="ignore")(xv, vv)
    f = sg.function([x], out)
    eps = 1e-6
    np.testing.assert_allclose(got, (f(xv + eps * vv) - f(xv - eps * vv)) / (2 * eps),
                               rtol=1e-6, atol=1e-6)


def _disconnected_all(out):
    node = out.owner
    gs = node.op.L_op(node.inputs, node.outputs, [o.type() for o in node.outputs])
    return len(gs) == len(node.inputs) and all(isinstance(g.type, DisconnectedType) for g in gs)


# ----------------------------------------------------------------------------- Alloc

# (value shape, static shape declared for the value, target shape)
ALLOC_CASES = [
    ((), None, (2, 3)),
    ((3,), None, (2, 3)),
    ((2, 3), None, (2, 3)),
    ((1, 3), (1, None), (4, 3)),
    ((2, 1), (None, 1), (3, 2, 5)),
    ((1, 1), (1, 1), (2, 2)),
    ((1,), (1,), (1,)),  # a static 1 onto a length 1: nothing to sum
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("vshape,static,target", ALLOC_CASES, ids=str)
def test_alloc_grad(vshape, static, target, dtype):
    def build(v):
        if static is not None:
            v = T.specify_shape(v, static)
        return T.alloc(v, *target)
    verify_grad(build, [_point(vshape, 1, dtype)], n_tests=1, rng=_rng(2))


def test_alloc_grad_symbolic_shape_and_value():
    n = T.lscalar("n")
    v = T.tensor("float64", shape=(1, None), name="v")
    out = T.alloc(v, 3, n, 2)
    assert isinstance(out.owner.op, Alloc)
    g = grad(T.sum(out * T.arange(2.0)), v)
    f = sg.function([v, n], g)
    # out[i, j, k] = v[0, k]: v[0, k] gets sum over i, j of k = 3 * n * k
    assert_allclose(f(np.zeros((1, 2)), 4), np.array([[0.0, 12.0]]))
    gs = out.owner.op.L_op(out.owner.inputs, out.owner.outputs, [out.type()])
    assert all(isinstance(gi.type, DisconnectedType) for gi in gs[1:])


def test_helpers_built_on_alloc_grad():
    sv = _point((), 3)
    verify_grad(lambda v: T.full((2, 3), v), [sv], n_tests=1, rng=_rng(4))
    verify_grad(lambda m, v: T.fill(m, v) * m, [_point((2, 3), 5), _point((3,), 6)],
                n_tests=1, rng=_rng(7))
    verify_grad(lambda m, v: T.second(m, v), [_point((2, 3), 8), _point((), 9, "complex128")],
                n_tests=1, rng=_rng(10))
    verify_grad(lambda v: T.broadcast_to(T.specify_shape(v, (1, None)), (2, 3, 4)),
                [_point((1, 4), 11)], n_tests=1, rng=_rng(12))
    verify_grad(lambda x, v: T.full_like(x, v) + x, [_point((3,), 13), _point((), 14)],
                n_tests=1, rng=_rng(15))


def test_zeros_ones_like_do_not_depend_on_values():
    x = T.matrix("x")
    for fn in (T.zeros_like, T.ones_like):
        with pytest.raises(DisconnectedInputError):
            grad(T.sum(fn(x)), x)
        g = grad(T.sum(fn(x)), x, disconnected_inputs="ignore")
        assert_allclose(sg.function([x], g)(np.ones((2, 3))), np.zeros((2, 3)))
    # x * ones_like(x): only the product depends on x's values
    g = grad(T.sum(x * T.ones_like(x)), x)
    assert_allclose(sg.function([x], g)(np.ones((2, 3))), np.ones((2, 3)))


def test_alloc_rop():
    _check_rop(lambda v: T.alloc(v, 2, 3), _point((3,), 16), 17)
    _check_rop(lambda v: T.alloc(T.specify_shape(v, (1, None)), 4, 2), _point((1, 2), 18,
                                                                       "complex128"), 19)


# ----------------------------------------------------------------------------- Eye / Tri

def test_eye_tri_disconnected():
    n = T.lscalar("n")
    assert _disconnected_all(T.eye(n, 3, 1))
    assert _disconnected_all(T.tri(n, n, -1))
    assert isinstance(T.eye(n).owner.op, Eye) and isinstance(T.tri(n).owner.op, Tri)
    x = T.matrix("x")
    g = grad(T.sum(T.eye(3, 4, 1) * x), x)
    assert_allclose(sg.function([x], g, on_unused_input="ignore")(np.zeros((3, 4))),
                    np.eye(3, 4, 1))


@pytest.mark.parametrize("k", [0, 1, -1, 5])
def test_tril_triu_grad(k):
    verify_grad(lambda x: T.tril(x, k), [_point((3, 4), 20)], n_tests=1, rng=_rng(21))
    verify_grad(lambda x: T.triu(x, k), [_point((2, 2, 3), 22, "complex128")], n_tests=1,
                rng=_rng(23))


# ----------------------------------------------------------------------------- ARange

def test_arange_grad_start_and_step():
    # lengths away from an integer, so the small steps keep them
    verify_grad(lambda a, s: T.arange(a, 2.9, s), [np.array(0.3), np.array(0.7)], n_tests=2,
                rng=_rng(24))
    verify_grad(lambda a, s: T.arange(a, -1.0, s), [np.array(1.25), np.array(-0.4)],
                n_tests=1, rng=_rng(25))
    a, b, s = T.dscalars("a", "b", "s")
    out = T.arange(a, b, s)
    assert isinstance(out.owner.op, ARange)
    ga, gs = grad(T.sum(out * out), [a, s])
    f = sg.function([a, b, s], [ga, gs])
    vals = np.arange(0.5, 3.0, 0.75)
    got = f(0.5, 3.0, 0.75)
    assert_allclose(got[0], np.asarray(2 * vals.sum()))
    assert_allclose(got[1], np.asarray(2 * (vals * np.arange(vals.size)).sum()))


def test_arange_stop_and_integer_results_disconnected():
    a, b, s = T.dscalars("a", "b", "s")
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(T.arange(a, b, s)), b)
    out = T.arange(a, b, s, dtype="int64")
    assert _disconnected_all(out)
    assert _disconnected_all(T.arange(T.lscalar("n")))


def test_arange_rop():
    a, b, s = T.dscalars("a", "b", "s")
    va, vs = T.dscalars("va", "vs")
    out = T.arange(a, b, s)
    _forward([out], [a, s], [va, vs])
    f = sg.function([a, b, s, va, vs], [Rop(out, [a, s], [va, vs]), Rop(out, s, vs)])
    both, only_step = f(0.5, 3.0, 0.75, 0.3, -2.0)
    i = np.arange(4.0)
    assert_allclose(both, 0.3 - 2.0 * i)
    assert_allclose(only_step, -2.0 * i)
    fs = sg.function([a, b, s, va], Rop(out, a, va))
    assert_allclose(fs(0.5, 3.0, 0.75, 0.3), np.full(4, 0.3))


def test_linspace_grad():
    verify_grad(lambda a, b: T.linspace(a, b, 5), [np.array(-0.5), np.array(2.0)],
                n_tests=1, rng=_rng(26))
    verify_grad(lambda a, b: T.linspace(a, b, 4, endpoint=False),
                [_point((2,), 27), _point((2,), 28)], n_tests=1, rng=_rng(29))
    verify_grad(lambda a, b: T.linspace(a, b, 3), [np.array(1.0 + 2.0j), np.array(-1.0 + 0.5j)],
                n_tests=1, rng=_rng(30))


# ----------------------------------------------------------------------------- diagonals

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [0, 2, -1])
def test_alloc_diag_grad(k, dtype):
    verify_grad(lambda v: T.diag(v, k), [_point((3,), 31, dtype)], n_tests=1, rng=_rng(32))
    assert isinstance(T.diag(T.vector(), k).owner.op, AllocDiag)


# (x shape, offset, axis1, axis2): adjacent and separated axes, either order
DIAG_CASES = [((3, 4), 0, 0, 1), ((3, 4), 1, 0, 1), ((3, 4), -2, 0, 1), ((4, 3), 0, 1, 0),
              ((2, 3, 4), 1, 1, 2), ((2, 3, 4), -1, 0, 2), ((2, 3, 4), 0, 2, 0),
              ((3, 2, 4), 1, 1, 0), ((3, 4), 7, 0, 1), ((2, 2, 2, 2), 0, 1, 3)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k,a1,a2", DIAG_CASES, ids=str)
def test_extract_diag_grad(shape, k, a1, a2, dtype):
    build = lambda x: T.diagonal(x, k, a1, a2)  # noqa: E731
    assert isinstance(build(T.tensor("float64", shape=(None,) * len(shape))).owner.op,
                      ExtractDiag)
    verify_grad(build, [_point(shape, 33, dtype)], n_tests=1, rng=_rng(34))


def test_extract_diag_grad_value():
    x = T.matrix("x")
    g = grad(T.sum(T.diagonal(x, -1) * T.constant(np.array([1.0, 2.0]))), x)
    assert_allclose(sg.function([x], g)(np.zeros((3, 3))),
                    np.array([[0, 0, 0], [1.0, 0, 0], [0, 2.0, 0]]))


def test_diag_rop():
    _check_rop(lambda v: T.diag(v, -1), _point((3,), 35), 36)
    _check_rop(lambda x: T.diagonal(x, 1, 2, 0), _point((3, 2, 4), 37, "complex128"), 38)
