"""The gradient machinery: grad's options, modifiers, Lop/Rop, jacobian/hessian, verify_grad.

Op-specific gradients are tested next to each op (tests/tensor/test_*_grad.py).
"""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import (
    DisconnectedInputError, GradientError, NullTypeGradError, consider_constant,
    disconnected_grad, disconnected_type, grad, grad_clip, grad_scale, grad_undefined,
    hessian, hessian_vector_product, jacobian, Lop, Rop, verify_grad, zero_grad,
)
from symgraph.graph.basic import Apply
from symgraph.graph.op import Op


class Scale(Op):
    """y = k * x with a hand-written gradient: the machinery alone, no Elemwise involved."""

    __props__ = ("k",)

    def __init__(self, k):
        self.k = k

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0] * self.k

    def L_op(self, inputs, outputs, gouts):
        return [Scale(self.k)(gouts[0])]


class Pair(Op):
    """(a, b) -> (a, b): two outputs, each the identity of one input."""

    __props__ = ()

    def make_node(self, a, b):
        a, b = T.as_tensor_variable(a), T.as_tensor_variable(b)
        return Apply(self, [a, b], [a.type(), b.type()])

    def perform(self, node, inputs, out):
        out[0][0], out[1][0] = inputs[0].copy(), inputs[1].copy()

    def L_op(self, inputs, outputs, gouts):
        return list(gouts)


class NoGrad(Op):
    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0].copy()


class Undefined(Op):
    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0].copy()

    def L_op(self, inputs, outputs, gouts):
        return [grad_undefined(self, 0, inputs[0], "it jumps")]


def _value(v, inputs=(), values=()):
    return sg.function(list(inputs), v, on_unused_input="ignore")(*values)


def test_known_grads_drive_backprop_without_a_cost():
    x = T.dvector("x")
    y = Scale(3.0)(Scale(2.0)(x))
    g = grad(None, x, known_grads={y: T.constant(np.array([1.0, 10.0]))})
    np.testing.assert_allclose(_value(g, [x], [np.zeros(2)]), [6.0, 60.0])


def test_grad_of_sum_through_chain(mode):
    x = T.dvector("x")
    cost = Scale(5.0)(x).sum()
    g = grad(cost, x)
    f = sg.function([x], g, mode=mode)
    np.testing.assert_allclose(f(np.ones(3)), [5.0, 5.0, 5.0])


def test_list_in_list_out_and_names():
    x, y = T.dscalars("x", "y")
    cost = x * y
    cost.name = "cost"
    gx, gy = grad(cost, [x, y])
    assert gx.name == "(dcost/dx)"
    f = sg.function([x, y], [gx, gy])
    assert f(2.0, 3.0) == [3.0, 2.0]
    assert isinstance(grad(cost, x), T.TensorVariable)


def test_cost_must_be_real_scalar():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="jacobian"):
        grad(x * 2, x)
    z = T.zvector("z")
    with pytest.raises(TypeError, match="real cost"):
        grad(z.sum(), z)
    with pytest.raises(ValueError, match="known_grads"):
        grad(None, x)


def test_disconnected_inputs_options():
    x, y = T.dscalars("x", "y")
    cost = x * 2
    with pytest.raises(DisconnectedInputError, match="does not depend on y"):
        grad(cost, [x, y])
    with pytest.warns(UserWarning, match="does not depend on y"):
        grad(cost, [x, y], disconnected_inputs="warn")
    gx, gy = grad(cost, [x, y], disconnected_inputs="ignore")
    assert _value(gy, [y], [1.0]) == 0.0
    _, none = grad(cost, [x, y], disconnected_inputs="ignore", return_disconnected="None")
    assert none is None
    _, disc = grad(cost, [x, y], disconnected_inputs="ignore", return_disconnected="Disconnected")
    assert str(disc.type) == "DisconnectedType"


def test_multi_output_op_gets_zeros_for_unused_outputs():
    a, b = T.dvectors("a", "b")
    oa, ob = Pair()(a, b)
    cost = (oa * 2).sum()
    ga, gb = grad(cost, [a, b], disconnected_inputs="ignore")
    f = sg.function([a, b], [ga, gb])
    ra, rb = f(np.ones(2), np.ones(2))
    np.testing.assert_allclose(ra, [2.0, 2.0])
    np.testing.assert_allclose(rb, [0.0, 0.0])


def test_op_without_gradient_names_itself_and_the_line():
    x = T.dvector("x")
    y = NoGrad()(x)  # the line named in the error
    with pytest.raises(NullTypeGradError, match=r"(?s)NoGrad has no gradient.*the line named"):
        grad(y.sum(), x)
    g = grad(y.sum(), x, null_gradients="return")
    assert str(g.type) == "NullType"
    with pytest.raises(NullTypeGradError, match="undefined: it jumps"):
        grad(Undefined()(x).sum(), x)


def test_disconnected_error_names_the_op_that_cut_the_path():
    x = T.dvector("x")
    flag = T.argmax(x)  # cuts the gradient
    with pytest.raises(DisconnectedInputError, match=r"(?s)without a gradient.*Argmax.*cuts the"):
        grad(T.cast(flag, "float64") * 2.0, x)


def test_integer_wrt_gets_zeros():
    i = T.lscalar("i")
    x = T.dscalar("x")
    gi = grad(x * T.cast(i, "float64"), i, disconnected_inputs="ignore")
    assert gi.dtype == sg.config.floatX
    assert _value(gi, [i], [3]) == 0.0


def test_consider_constant_argument_and_modifiers():
    x = T.dscalar("x")
    y = x * x
    # d(y*x)/dx with y constant = y = x^2
    g = grad(y * x, x, consider_constant=[y])
    assert _value(g, [x], [3.0]) == 9.0
    assert _value(grad(consider_constant(y) * x, x), [x], [3.0]) == 9.0
    assert _value(grad(zero_grad(y) * x, x), [x], [3.0]) == 9.0
    assert _value(grad(disconnected_grad(y) * x, x), [x], [3.0]) == 9.0
    with pytest.raises(DisconnectedInputError):
        grad(disconnected_grad(y).sum(), x)
    # modifiers are the identity in the forward pass
    f = sg.function([x], [zero_grad(y), disconnected_grad(y), grad_clip(y, -1, 1),
                          grad_scale(y, 3.0)])
    assert f(3.0) == [9.0] * 4


def test_grad_scale_minus_one_is_one_pass_sign_flip(mode):
    """Reverse the gradient on one path: what two separate computations give, in one pass."""
    x = T.dvector("x")
    w = T.dvector("w")
    shared_feat = x * w                                  # used by two heads
    head_a = (shared_feat ** 2).sum()                    # minimise
    head_b = T.sin(shared_feat).sum()                    # adversary: maximise w.r.t. w
    one_pass = grad(head_a + grad_scale(head_b, -1.0), w)
    two_pass = grad(head_a, w) - grad(head_b, w)
    f = sg.function([x, w], [one_pass, two_pass], mode=mode)
    r1, r2 = f(np.array([0.3, -1.2, 2.0]), np.array([1.5, 0.2, -0.7]))
    np.testing.assert_allclose(r1, r2)
    assert not np.allclose(r1, sg.function([x, w], grad(head_a + head_b, w), mode=mode)(
        np.array([0.3, -1.2, 2.0]), np.array([1.5, 0.2, -0.7])))


def test_grad_clip_clips_incoming_gradient():
    x = T.dvector("x")
    g = grad((grad_clip(x, -1.0, 1.0) * T.constant(np.array([0.5, 3.0, -7.0]))).sum(), x)
    np.testing.assert_allclose(_value(g, [x], [np.zeros(3)]), [0.5, 1.0, -1.0])
    with pytest.raises(ValueError, match="lower bound"):
        grad_clip(x, 1.0, -1.0)


def test_lop_and_rop_on_a_linear_map():
    W = T.dmatrix("W")
    x = T.dvector("x")
    v = T.dvector("v")
    u = T.dvector("u")
    y = T.dot(W, x)
    jv = Rop(y, x, v)           # W v
    ut_j = Lop(y, x, u)         # W^T u
    f = sg.function([W, x, v, u], [jv, ut_j], on_unused_input="ignore")
    Wv = np.arange(6.0).reshape(2, 3)
    r1, r2 = f(Wv, np.ones(3), np.array([1.0, 0.0, -1.0]), np.array([2.0, -1.0]))
    np.testing.assert_allclose(r1, Wv @ [1.0, 0.0, -1.0])
    np.testing.assert_allclose(r2, Wv.T @ [2.0, -1.0])


def test_rop_falls_back_to_double_lop_for_ops_without_r_op():
    x = T.dvector("x")
    v = T.dvector("v")
    y = Scale(4.0)(x)  # Scale has no R_op
    f = sg.function([x, v], Rop(y, x, v))
    np.testing.assert_allclose(f(np.ones(2), np.array([1.0, 2.0])), [4.0, 8.0])


def test_jacobian_and_hessian_against_finite_differences():
    x = T.dvector("x", shape=(3,))
    expr = T.stack([x[0] * x[1], T.sin(x[2]) * x[0], x[1] ** 3])
    J = jacobian(expr, x)
    cost = (expr ** 2).sum()
    H = hessian(cost, x)
    f = sg.function([x], [J, H, expr, cost])
    x0 = np.array([0.4, -1.3, 0.7])
    Jv, Hv, _, _ = f(x0)
    f_expr = sg.function([x], expr)
    f_cost = sg.function([x], cost)
    eps = 1e-6
    Jn = np.stack([(f_expr(x0 + eps * e) - f_expr(x0 - eps * e)) / (2 * eps) for e in np.eye(3)], 1)
    np.testing.assert_allclose(Jv, Jn, rtol=1e-6, atol=1e-8)
    gfun = sg.function([x], grad(cost, x))
    Hn = np.stack([(gfun(x0 + eps * e) - gfun(x0 - eps * e)) / (2 * eps) for e in np.eye(3)], 1)
    np.testing.assert_allclose(Hv, Hn, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(Hv, Hv.T)
    assert isinstance(hessian(cost, [x]), list)
    assert isinstance(jacobian(expr, [x]), list)


def test_jacobian_of_any_length_uses_scan_and_needs_a_vector():
    x = T.dvector("x")
    w = T.dvector("w", shape=(2,))
    expr = T.sin(x) * w.sum() + x[::-1] ** 2
    J, Jw = jacobian(expr, [x, w])  # the length of expr is known only at run time
    xv, wv = np.array([0.3, -1.2, 0.8, 2.0]), np.array([0.5, -0.1])
    Jv, Jwv = sg.function([x, w], [J, Jw])(xv, wv)
    want = np.diag(np.cos(xv) * wv.sum()) + np.diag(2 * xv)[::-1]
    np.testing.assert_allclose(Jv, want, rtol=1e-12)
    np.testing.assert_allclose(Jwv, np.repeat(np.sin(xv)[:, None], 2, 1), rtol=1e-12)
    short = T.specify_shape(expr, (4,))  # a short static length: one pass per row
    np.testing.assert_allclose(sg.function([x, w], jacobian(short, x))(xv, wv), want)
    H = hessian((x ** 3).sum(), x)
    np.testing.assert_allclose(sg.function([x], H)(xv), np.diag(6 * xv), rtol=1e-12)
    with pytest.raises(DisconnectedInputError):
        jacobian(x * 2, T.dvector("unused"))
    with pytest.raises(TypeError, match="0-d or 1-d"):
        jacobian(T.outer(x, x), x)
    with pytest.raises(TypeError, match="wrt must be vectors"):
        hessian((T.dmatrix("m") ** 2).sum(), T.dmatrix("m"))


def _has_scan(f):
    from symgraph.scan.op import Scan
    return any(isinstance(n.op, Scan) for n in f.maker.fgraph.toposort())


def test_jacobian_vectorised_equals_the_scan(mode):
    """Past JACOBIAN_UNROLL_LIMIT rows, a static length gives every row at once
    (vectorised, no loop); vectorize=False keeps the scan; same values."""
    n = 20
    x = T.dvector("x", shape=(n,))
    m = T.dmatrix("m")
    k = T.lscalar("k")
    expr = T.tanh(T.dot(m, x)) * x[::-1] + T.inc_subtensor(x[k:], x[:n - k] ** 2)
    J = jacobian(expr, [x, m])
    Js = jacobian(expr, [x, m], vectorize=False)
    f = sg.function([x, m, k], J, mode=mode)
    fs = sg.function([x, m, k], Js, mode=mode)
    assert not _has_scan(f) and _has_scan(fs)
    rng = np.random.default_rng(3)
    xv, mv = rng.normal(size=n), rng.normal(size=(n, n)) / n
    got, want = f(xv, mv, 3), fs(xv, mv, 3)
    assert got[0].shape == (n, n) and got[1].shape == (n, n, n)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
    f_expr = sg.function([x, m, k], expr, mode=mode)
    eps = 1e-6
    num = np.stack([(f_expr(xv + eps * e, mv, 3) - f_expr(xv - eps * e, mv, 3)) / (2 * eps)
                    for e in np.eye(n)], 1)
    np.testing.assert_allclose(got[0], num, rtol=1e-6, atol=1e-8)


def test_hessian_vectorised_equals_the_scan(mode):
    """The Hessian of an MLP's cost with respect to its flat parameters (B5's shape of
    problem): the vectorised rows equal the scan's to rounding."""
    n_in, n_hid, n_pts = 3, 5, 11
    n_w = n_in * n_hid + 2 * n_hid + 1
    w = T.dvector("w", shape=(n_w,))
    x = T.dmatrix("x")
    t = T.dvector("t")
    k = n_in * n_hid
    h = T.tanh(T.dot(x, w[:k].reshape((n_in, n_hid))) + w[k:k + n_hid])
    r = T.dot(h, w[k + n_hid:k + 2 * n_hid]) + w[-1] - t
    cost = 0.5 * T.mean(r * r)
    f = sg.function([w, x, t], hessian(cost, w), mode=mode)
    fs = sg.function([w, x, t], hessian(cost, w, vectorize=False), mode=mode)
    assert not _has_scan(f) and _has_scan(fs)
    rng = np.random.default_rng(4)
    values = rng.normal(scale=0.5, size=n_w), rng.normal(size=(n_pts, n_in)), \
        rng.normal(size=n_pts)
    got, want = f(*values), fs(*values)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15 * np.abs(want).max())
    np.testing.assert_allclose(got, got.T, rtol=1e-12, atol=1e-15)


def test_jacobian_vectorises_where_it_can_and_loops_otherwise():
    """An op without a batching rule on the way (sort) leaves the scan; a length known
    only at run time is vectorised only when asked (vectorize=True)."""
    x = T.dvector("x", shape=(20,))
    v = T.dvector("v")
    sorted_ = sg.function([x], jacobian(T.sort(x) * x, x))
    assert _has_scan(sorted_)
    xv = np.cos(np.arange(20.0))
    picks = np.eye(20)[np.argsort(xv)]  # sort(x)[i] is x[argsort(x)[i]]
    np.testing.assert_allclose(sorted_(xv), picks * xv[:, None] + np.diag(np.sort(xv)),
                               rtol=1e-12)
    loop = sg.function([v], jacobian(v ** 3, v))
    asked = sg.function([v], jacobian(v ** 3, v, vectorize=True))
    assert _has_scan(loop) and not _has_scan(asked)
    vv = np.array([0.5, -2.0, 1.5])
    np.testing.assert_allclose(asked(vv), np.diag(3 * vv ** 2), rtol=1e-12)
    np.testing.assert_allclose(loop(vv), asked(vv), rtol=1e-12)
    unused = T.dvector("unused", shape=(2,))
    free = sg.function([v], jacobian(v ** 2, [v, unused], disconnected_inputs="ignore",
                                     vectorize=True)[1])
    np.testing.assert_array_equal(free(vv), np.zeros((3, 2)))


def test_hessian_vector_product_matches_hessian():
    x = T.dvector("x", shape=(3,))
    v = T.dvector("v")
    cost = (T.exp(x[0] * x[1]) + x[2] ** 2 * x[0]).sum()
    hv = hessian_vector_product(cost, x, v)
    H = hessian(cost, x)
    f = sg.function([x, v], [hv, H])
    x0, v0 = np.array([0.2, -0.5, 1.1]), np.array([1.0, 2.0, -1.0])
    r_hv, r_h = f(x0, v0)
    np.testing.assert_allclose(r_hv, r_h @ v0)


class WrongSquare(Op):
    """x**2 with a wrong gradient, for verify_grad to catch."""
    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = inputs[0] ** 2

    def L_op(self, inputs, outputs, gouts):
        return [gouts[0] * inputs[0]]  # missing the factor 2


def test_verify_grad_catches_a_wrong_gradient():
    with pytest.raises(GradientError, match=r"(?s)input 0.*symbolic.*numeric"):
        verify_grad(lambda x: WrongSquare()(x), [np.array([1.0, 2.0])])
    verify_grad(lambda x: Scale(2.0)(x), [np.array([1.0, -2.0, 0.5])])
    with pytest.raises(TypeError, match="float"):
        verify_grad(lambda x: x, [np.array([1, 2])])


def test_verify_grad_allows_an_input_that_fun_ignores():
    # Theano compiles verify_grad's functions with on_unused_input="ignore": the
    # gradient with respect to an unused input is zero, like its finite differences
    x0, y0 = np.array([0.3, -1.2]), np.array([[1.0, 2.0], [3.0, 4.0]])
    verify_grad(lambda x, y: T.exp(x) * 2.0, [x0, y0])
    verify_grad(lambda x, y: (y ** 2).sum(), [x0, y0])
    with pytest.raises(GradientError, match="input 0"):
        verify_grad(lambda x, y: WrongSquare()(x), [x0, y0])


def test_disconnected_type_has_no_value():
    d = disconnected_type()
    with pytest.raises(TypeError):
        d.type.filter(1.0)
