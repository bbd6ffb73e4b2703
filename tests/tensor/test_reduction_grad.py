"""Gradients (L_op), R_op of the reductions and cumulative ops, checked by finite
differences (verify_grad) in float64 and complex128."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import DisconnectedInputError, DisconnectedType, Rop, grad, verify_grad


def _rng(k):
    return np.random.default_rng(k)


def _fn(inputs, outputs):
    return sg.function(inputs, outputs, on_unused_input="ignore")


def _point(shape, k, dtype="float64", low=-2.0, high=2.0):
    r = _rng(k)
    v = r.uniform(low, high, shape)
    if dtype == "complex128":
        v = v + 1j * r.uniform(low, high, shape)
    return v.astype(dtype)


def _fd_rop(build, xv, vv, eps=1e-6):
    """Central finite difference of build(x) along the direction vv."""
    x = T.TensorType(xv.dtype.name, shape=(None,) * xv.ndim)("x")
    f = _fn([x], build(x))
    return (f(xv + eps * vv) - f(xv - eps * vv)) / (2 * eps)


def _rop_value(build, xv, vv):
    x = T.TensorType(xv.dtype.name, shape=(None,) * xv.ndim)("x")
    v = x.type("v")
    r = Rop(build(x), x, v)
    return _fn([x, v], r)(xv, vv), r


def _ops_in(outputs):
    return {type(n.op).__name__ for n in sg.graph.basic.io_toposort(
        sg.graph.basic.graph_inputs(outputs), outputs)}


# (shape, axis): negative axes, several axes, every axis, 0-d input
AXES = [((4,), None), ((4,), 0), ((2, 3), -1), ((2, 3), 0), ((2, 2, 3), (0, 2)),
        ((2, 2, 3), (-1, -2)), ((2, 2, 3), None), ((), None)]
DTYPES = ["float64", "complex128"]


# ----------------------------------------------------------------------- sum / prod

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,axis", AXES)
def test_sum_grad(shape, axis, dtype):
    verify_grad(lambda x: T.sum(x, axis=axis), [_point(shape, 1, dtype)], n_tests=1,
                rng=_rng(2))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sum_keepdims_and_broadcasting_grad(dtype):
    pt = [_point((2, 3), 3, dtype), _point((3,), 4, dtype)]
    verify_grad(lambda x, y: T.sum(x * y, axis=0, keepdims=True), pt, n_tests=1, rng=_rng(5))
    verify_grad(lambda x, y: T.sum(x, axis=-1) * T.sum(y), pt, n_tests=1, rng=_rng(6))


def test_sum_grad_keeps_static_broadcastable_input():
    x = T.TensorType("float64", shape=(1, 3))("x")
    w = T.dvector("w")
    g = grad(T.sum(T.sum(x, axis=0) * w), x)
    assert g.type.shape[0] == 1 and g.ndim == 2
    out = _fn([x, w], g)(np.ones((1, 3)), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(out, [[1.0, 2.0, 3.0]])


def test_sum_with_dtype_grad_is_cast_back():
    x = T.fvector("x")
    g = grad(T.sum(x, dtype="float64") * 2.0, x)
    assert g.dtype == "float32"
    np.testing.assert_allclose(_fn([x], g)(np.ones(3, "float32")), [2.0, 2.0, 2.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,axis", AXES)
def test_prod_grad(shape, axis, dtype):
    verify_grad(lambda x: T.prod(x, axis=axis), [_point(shape, 7, dtype, 0.5, 1.5)],
                n_tests=1, rng=_rng(8))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_prod_grad_exact_with_zeros(axis, dtype):
    # row 0: no zero, row 1: one zero, row 2: two zeros; column 1 holds one zero
    v = _point((3, 4), 9, dtype, 0.5, 1.5)
    v[1, 2] = 0
    v[2, 0] = v[2, 3] = 0
    verify_grad(lambda x: T.prod(x, axis=axis), [v], n_tests=1, rng=_rng(10))


def test_prod_grad_values_at_zeros():
    x = T.dvector("x")
    f = _fn([x], grad(T.prod(x), x))
    np.testing.assert_array_equal(f(np.array([2.0, 0.0, 3.0])), [0.0, 6.0, 0.0])
    np.testing.assert_array_equal(f(np.array([2.0, 0.0, 0.0])), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(f(np.array([2.0, 5.0, 3.0])), [15.0, 6.0, 10.0])


# ----------------------------------------------------------------------- max / min

@pytest.mark.parametrize("fn", [T.max, T.min])
@pytest.mark.parametrize("shape,axis", AXES)
def test_max_min_grad(shape, axis, fn):
    v = _rng(11).permutation(np.arange(int(np.prod(shape)), dtype="float64")).reshape(shape)
    verify_grad(lambda x: fn(x, axis=axis), [v * 0.5], n_tests=1, rng=_rng(12))


def test_max_min_keepdims_grad():
    v = _rng(13).permutation(12).reshape(2, 2, 3).astype("float64")
    verify_grad(lambda x: T.max(x, axis=(0, -1), keepdims=True) * 2.0, [v], n_tests=1,
                rng=_rng(14))


def test_max_grad_ties_go_to_every_tied_position():
    # As Theano: each position equal to the maximum receives the whole gradient.
    x = T.dmatrix("x")
    f = _fn([x], [grad(T.sum(T.max(x, axis=1) * [1.0, 2.0]), x),
                          grad(T.min(x), x)])
    gmax, gmin = f(np.array([[3.0, 1.0, 3.0], [0.0, 5.0, 4.0]]))
    np.testing.assert_array_equal(gmax, [[1.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
    np.testing.assert_array_equal(gmin, [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])


# ----------------------------------------------------------------------- discrete outputs

@pytest.mark.parametrize("fn", [T.argmax, T.argmin])
def test_argmax_argmin_are_disconnected(fn):
    x = T.dmatrix("x")
    out = fn(x, axis=-1)
    node = out.owner
    (g,) = node.op.L_op(node.inputs, node.outputs, [T.zeros_like(out)])
    assert isinstance(g.type, DisconnectedType)
    with pytest.raises(DisconnectedInputError, match="does not depend on x"):
        grad(T.sum(T.cast(out, "float64")), x)
    g = grad(T.sum(T.cast(out, "float64")), x, disconnected_inputs="ignore")
    np.testing.assert_array_equal(_fn([x], g)(np.ones((2, 3))), np.zeros((2, 3)))
    # other paths to x still give their gradient
    g = grad(T.sum(x) + T.sum(T.cast(out, "float64")), x)
    np.testing.assert_array_equal(_fn([x], g)(np.ones((2, 3))), np.ones((2, 3)))


@pytest.mark.parametrize("fn", [T.argmax, T.argmin])
def test_disconnected_error_names_argmax(fn):
    x = T.dmatrix("x")
    out = fn(x, axis=-1)
    name = type(out.owner.op).__name__
    with pytest.raises(DisconnectedInputError, match=rf"(?s)does not depend.*{name}"):
        grad(T.sum(T.cast(out, "float64")) * 2.0, x)


@pytest.mark.parametrize("fn", [T.any, T.all])
def test_any_all_are_disconnected(fn):
    x = T.dvector("x")
    out = fn(x)
    (g,) = out.owner.op.L_op(out.owner.inputs, out.owner.outputs, [T.zeros_like(out)])
    assert isinstance(g.type, DisconnectedType)
    with pytest.raises(DisconnectedInputError):
        grad(T.cast(out, "float64"), x)


def test_integer_input_gets_zero_gradient():
    i = T.lvector("i")
    cost = T.cast(T.sum(i) + T.prod(i), "float64") + T.cast(T.cumsum(i)[0], "float64")
    g = grad(cost, i, disconnected_inputs="ignore")
    np.testing.assert_array_equal(_fn([i], g)(np.array([1, 2, 3])), [0.0, 0.0, 0.0])


# ----------------------------------------------------------------------- ops built from ops

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,axis", [((4,), None), ((2, 3), -1), ((2, 2, 3), (0, 2))])
def test_mean_grad(shape, axis, dtype):
    verify_grad(lambda x: T.mean(x, axis=axis), [_point(shape, 15, dtype)], n_tests=1,
                rng=_rng(16))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", [T.var, T.std])
@pytest.mark.parametrize("axis,ddof,keepdims", [(None, 0, False), (-1, 1, False),
                                                 (0, 0, True), ((0, 1), 1, False)])
def test_var_std_grad(fn, axis, ddof, keepdims, dtype):
    verify_grad(lambda x: fn(x, axis=axis, ddof=ddof, keepdims=keepdims),
                [_point((3, 3), 17, dtype)], n_tests=1, rng=_rng(18))


@pytest.mark.parametrize("shape,axis", [((4,), None), ((2, 3), -1), ((2, 3), 0),
                                        ((2, 2, 3), (0, 2))])
def test_logsumexp_grad(shape, axis):
    verify_grad(lambda x: T.logsumexp(x, axis=axis), [_point(shape, 19)], n_tests=1,
                rng=_rng(20))


def test_logsumexp_grad_is_finite_softmax_at_large_values():
    v = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1000.5]])
    verify_grad(lambda x: T.logsumexp(x, axis=1, keepdims=True), [v], n_tests=1, rng=_rng(21))
    x = T.dmatrix("x")
    g = _fn([x], grad(T.sum(T.logsumexp(x, axis=-1)), x))(v)
    e = np.exp(v - v.max(axis=1, keepdims=True))
    np.testing.assert_allclose(g, e / e.sum(axis=1, keepdims=True), rtol=1e-12)


# ----------------------------------------------------------------------- cumsum / cumprod

CUM_AXES = [((4,), None), ((4,), 0), ((2, 3), None), ((2, 3), 0), ((2, 3), -1),
            ((2, 1, 3), -2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,axis", CUM_AXES)
def test_cumsum_grad(shape, axis, dtype):
    verify_grad(lambda x: T.cumsum(x, axis=axis), [_point(shape, 22, dtype)], n_tests=1,
                rng=_rng(23))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,axis", CUM_AXES)
def test_cumprod_grad(shape, axis, dtype):
    verify_grad(lambda x: T.cumprod(x, axis=axis), [_point(shape, 24, dtype, 0.5, 1.5)],
                n_tests=1, rng=_rng(25))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_cumprod_grad_exact_with_zeros(axis, dtype):
    # zeros first, in the middle, twice in one row, and last
    v = _point((3, 4), 26, dtype, 0.5, 1.5)
    v[0, 0] = 0
    v[1, 1] = v[1, 3] = 0
    v[2, 2] = 0
    verify_grad(lambda x: T.cumprod(x, axis=axis), [v], n_tests=2, rng=_rng(27))


def test_cumprod_grad_values_at_zeros():
    x = T.dvector("x")
    f = _fn([x], grad(T.sum(T.cumprod(x)), x))
    # d/dx of x0 + x0 x1 + x0 x1 x2 + x0 x1 x2 x3 at (2, 0, 3, 4)
    np.testing.assert_array_equal(f(np.array([2.0, 0.0, 3.0, 4.0])), [1.0, 2 + 6 + 24, 0, 0])


# ----------------------------------------------------------------------- R_op

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("build", [
    lambda x: T.sum(x), lambda x: T.sum(x, axis=-1), lambda x: T.sum(x, axis=(0, 2)),
    lambda x: T.cumsum(x), lambda x: T.cumsum(x, axis=1), lambda x: T.cumsum(x, axis=-3),
], ids=["sum", "sum-1", "sum02", "cumsum", "cumsum1", "cumsum-3"])
def test_rop_sum_cumsum_forward(build, dtype):
    xv, vv = _point((2, 3, 2), 28, dtype), _point((2, 3, 2), 29, dtype)
    got, r = _rop_value(build, xv, vv)
    np.testing.assert_allclose(got, _fd_rop(build, xv, vv), rtol=1e-7, atol=1e-8)
    # linear ops: the forward pass is the op itself applied to the tangent
    assert _ops_in([r]) <= {"CAReduce", "CumOp"}


@pytest.mark.parametrize("build", [
    lambda x: T.prod(x, axis=1), lambda x: T.max(x, axis=(0, -1)), lambda x: T.min(x),
], ids=["prod", "max", "min"])
def test_rop_prod_max_min(build):
    xv = _rng(30).permutation(12).reshape(2, 3, 2) * 0.25 + 0.5
    vv = _point((2, 3, 2), 31)
    got, _ = _rop_value(build, xv, vv)
    np.testing.assert_allclose(got, _fd_rop(build, xv, vv), rtol=1e-6, atol=1e-8)


def test_rop_prod_complex_with_zero():
    xv = _point((3, 2), 32, "complex128")
    xv[1, 0] = 0
    vv = _point((3, 2), 33, "complex128")
    got, _ = _rop_value(lambda x: T.prod(x, axis=0), xv, vv)
    np.testing.assert_allclose(got, _fd_rop(lambda x: T.prod(x, axis=0), xv, vv), atol=1e-8)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [None, -1])
def test_rop_cumprod_by_double_lop(axis, dtype):
    # cumprod has no R_op: Rop builds J v from two reverse passes
    xv, vv = _point((2, 3), 34, dtype, 0.5, 1.5), _point((2, 3), 35, dtype)
    xv[1, 1] = 0
    got, _ = _rop_value(lambda x: T.cumprod(x, axis=axis), xv, vv)
    np.testing.assert_allclose(got, _fd_rop(lambda x: T.cumprod(x, axis=axis), xv, vv),
                               atol=1e-8)


# ----------------------------------------------------------------------- second order

_C = np.random.default_rng(36).standard_normal((2, 3))


@pytest.mark.parametrize("cost", [
    lambda x: T.sum(T.sum(x, axis=0) ** 2),
    lambda x: T.sum(T.prod(x, axis=1) * _C[:, 0]),
    lambda x: T.prod(x),
    lambda x: T.sum(T.max(x, axis=-1) ** 2),
    lambda x: T.sum(T.cumsum(x, axis=1) ** 2),
    lambda x: T.sum(T.cumprod(x, axis=-1) * _C),
    lambda x: T.sum(T.cumprod(x) * _C.ravel()),
    lambda x: T.sum(T.logsumexp(x, axis=1) * _C[:, 0]),
    lambda x: T.sum(T.var(x, axis=0, ddof=1) * _C[0]),
], ids=["sum", "prod", "prod-all", "max", "cumsum", "cumprod", "cumprod-flat", "logsumexp",
        "var"])
def test_second_derivatives_away_from_zeros(cost):
    # the gradient graphs are differentiable again (exact away from zeros for prod/cumprod)
    xv = _point((2, 3), 37, "float64", 0.5, 1.5)
    verify_grad(lambda x: grad(cost(x), x), [xv], n_tests=1, rng=_rng(38))


def test_hessian_of_logsumexp_and_prod():
    x = T.TensorType("float64", shape=(3,))("x")
    xv = np.array([0.5, -1.0, 2.0])
    h_lse, h_prod = _fn([x], [sg.hessian(T.logsumexp(x), x), sg.hessian(T.prod(x), x)])(xv)
    s = np.exp(xv - xv.max())
    s /= s.sum()
    np.testing.assert_allclose(h_lse, np.diag(s) - np.outer(s, s), atol=1e-12)
    want = np.prod(xv) / np.outer(xv, xv)
    np.fill_diagonal(want, 0.0)
    np.testing.assert_allclose(h_prod, want, atol=1e-12)
