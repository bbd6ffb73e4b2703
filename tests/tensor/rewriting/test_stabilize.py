"""The stabilize rewrites: each fires on its pattern, keeps values where the naive
graph is accurate and gives the right value where it over/underflows; gradients of
the patterns end up stable too. Also the fused CrossentropySoftmax1Hot op."""

import numpy as np
import pytest
import scipy.special as sp

import symgraph as sg
import symgraph.tensor as T
from symgraph.compile.mode import Mode
from symgraph.gradient import DisconnectedType, Rop, grad, verify_grad
from symgraph.scalar.composite import Composite
from symgraph.tensor import nnet
from symgraph.tensor.elemwise import Elemwise

# a rewrite that keeps firing on its own output would only show as this warning
pytestmark = pytest.mark.filterwarnings("error:.*no equilibrium")

EDGES = np.array([-800.0, -40.0, -1.0, -1e-20, -0.0, 0.0, 1e-20, 0.5, 1.0, 40.0, 800.0,
                  np.inf, -np.inf, np.nan])


def _compile(mode, inputs, outputs, ref=True, exclude=()):
    f = sg.function(inputs, outputs, mode=Mode(mode).excluding(*exclude))
    if not ref:
        return f
    return f, sg.function(inputs, outputs, mode=Mode(mode, optimizer=None))


def _scalar_names(f):
    """Names of every scalar op in the compiled graph, looking inside fused Composites."""
    names = []

    def add(sop):
        if isinstance(sop, Composite):
            for n in sop.nodes:
                add(n.op)
        else:
            names.append(sop.name)

    for node in f.maker.fgraph.toposort():
        if isinstance(node.op, Elemwise):
            add(node.op.scalar_op)
    return names


def _op_types(f):
    return [type(n.op) for n in f.maker.fgraph.toposort()]


def _fired(f, name):
    return f.rewrite_report().get(name, 0) >= 1


def _run(f, *args):
    with np.errstate(all="ignore"):
        return f(*args)


def _same(a, b, rtol=1e-12):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=0, equal_nan=True)


# ======================================================================= log1p, expm1


def test_log1p_fires_and_keeps_values(mode):
    x = T.dvector("x")
    f, ref = _compile(mode, [x], [T.log(1 + x), T.log(x + 1), T.log(1 - x)])
    assert _fired(f, "local_log1p") and _fired(f, "local_log1m")
    names = _scalar_names(f)
    assert "log1p" in names and "log" not in names
    got, want = _run(f, EDGES), _run(ref, EDGES)
    ok = np.abs(EDGES) != 1e-20
    for g, w in zip(got, want):
        _same(g[ok], w[ok])
    # where 1 + x rounds to 1 the rewritten value is the right one
    small = np.array([1e-20, -1e-20])
    np.testing.assert_allclose(_run(f, small)[0], small, rtol=1e-15)
    np.testing.assert_allclose(_run(f, small)[2], -small, rtol=1e-15)


def test_log1p_does_not_fire(mode):
    x = T.dvector("x")
    i = T.bvector("i")  # int8: 1 + i wraps around before the log; log1p would not
    f = _compile(mode, [x, i], [T.log(2 + x), T.log(i + 1), T.log(1 + x) + 0 * x],
                 ref=False, exclude=("local_log1p",))
    assert not _fired(f, "local_log1p")
    assert "log1p" not in _scalar_names(f)


def test_log1p_exp_gives_softplus(mode):
    x = T.dvector("x")
    f, ref = _compile(mode, [x], T.log(1 + T.exp(x)))
    assert _fired(f, "local_log1p_exp")
    names = _scalar_names(f)
    assert "softplus" in names and "exp" not in names
    got, want = _run(f, EDGES), _run(ref, EDGES)
    ok = np.abs(EDGES) <= 1  # exp(800) overflows in the naive graph, 1 + exp(-40) rounds
    _same(got[ok], want[ok])
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(got, np.logaddexp(0, EDGES), rtol=1e-15)
    assert got[EDGES == 800.0] == 800.0


def test_expm1_fires_and_keeps_values(mode):
    x = T.dvector("x")
    f, ref = _compile(mode, [x], [T.exp(x) - 1, T.exp(x) - 2])
    assert _fired(f, "local_expm1")
    names = _scalar_names(f)
    assert names.count("expm1") == 1 and names.count("exp") == 1  # exp(x) - 2 stays
    got, want = _run(f, EDGES), _run(ref, EDGES)
    ok = np.abs(EDGES) != 1e-20
    _same(got[0][ok], want[0][ok])
    _same(got[1], want[1])
    np.testing.assert_allclose(_run(f, np.array([1e-20]))[0], [1e-20], rtol=1e-15)


# ======================================================================= sigmoid


def test_log_sigmoid_is_stable(mode):
    x = T.dvector("x")
    f, ref = _compile(mode, [x], [T.log(nnet.sigmoid(x)), T.log(1 - nnet.sigmoid(x))])
    assert _fired(f, "local_log_sigmoid") and _fired(f, "local_1msigmoid")
    names = _scalar_names(f)
    assert "softplus" in names and "sigmoid" not in names and "log" not in names
    got, want = _run(f, EDGES), _run(ref, EDGES)
    # the required case: log(sigmoid(-800)) is finite and right
    assert np.isfinite(got[0][0]) and got[0][0] == pytest.approx(-800.0)
    assert got[1][EDGES == 800.0][0] == pytest.approx(-800.0)
    np.testing.assert_allclose(got[0], sp.log_expit(EDGES), rtol=1e-12)
    np.testing.assert_allclose(got[1], sp.log_expit(-EDGES), rtol=1e-12)
    # equal to the naive graph wherever that one is accurate
    ok = np.abs(EDGES) <= 1
    _same(got[0][ok], want[0][ok])
    _same(got[1][ok], want[1][ok])


def test_log_sigmoid_gradient_is_stable(mode):
    x = T.dvector("x")
    cost1 = T.sum(T.log(nnet.sigmoid(x)))
    cost2 = T.sum(T.log(1 - nnet.sigmoid(x)))
    f, ref = _compile(mode, [x], [grad(cost1, x), grad(cost2, x)])
    assert _fired(f, "local_mul_div_cancel")
    assert "log" not in _scalar_names(f)
    xv = np.array([-800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0])
    got, want = _run(f, xv), _run(ref, xv)
    assert np.all(np.isfinite(got[0])) and np.all(np.isfinite(got[1]))
    np.testing.assert_allclose(got[0], sp.expit(-xv), rtol=1e-12)  # d/dx log sigmoid
    np.testing.assert_allclose(got[1], -sp.expit(xv), rtol=1e-12)
    ok = np.abs(xv) <= 1
    _same(got[0][ok], want[0][ok])
    _same(got[1][ok], want[1][ok])
    assert np.isnan(want[0][0]) and np.isnan(want[1][-1])  # what the rewrite fixes


def test_sigmoid_rewrites_do_not_fire(mode):
    x = T.dvector("x")
    f = _compile(mode, [x], [T.log(nnet.sigmoid(x)) * 2, 2 - nnet.sigmoid(x),
                             T.exp(nnet.sigmoid(x))], ref=False,
                 exclude=("local_log_sigmoid",))
    assert not _fired(f, "local_log_sigmoid") and not _fired(f, "local_1msigmoid")
    assert "softplus" not in _scalar_names(f)


def test_log_sigmoid_keeps_float32(mode):
    x = T.fvector("x")
    f = _compile(mode, [x], T.log(nnet.sigmoid(x)), ref=False)
    out = _run(f, np.array([-800.0, 0.0], dtype="float32"))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [-800.0, -np.log(2)], rtol=1e-6)


# ======================================================================= softmax


def test_log_softmax_fires_with_its_gradient(mode):
    x = T.dmatrix("x")
    w = T.dmatrix("w")
    out = T.log(nnet.softmax(x))
    f, ref = _compile(mode, [x, w], [out, grad(T.sum(out * w), x)])
    assert _fired(f, "local_log_softmax")
    assert nnet.LogSoftmax in _op_types(f)
    assert "log" not in _scalar_names(f)
    xv = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 0.5]])
    wv = np.array([[0.3, -1.0, 2.0], [1.0, 1.0, -0.5]])
    got, want = _run(f, xv, wv), _run(ref, xv, wv)
    _same(got[0], want[0])
    _same(got[1], want[1], rtol=1e-10)
    # large logits: softmax underflows to 0, log_softmax and its gradient stay right
    big = np.array([[1e4, 0.0, -1e4], [0.0, 1.0, 2.0]])
    got = _run(f, big, wv)
    np.testing.assert_allclose(got[0], sp.log_softmax(big, axis=1), rtol=1e-12)
    assert np.all(np.isfinite(got[1]))
    s = sp.softmax(big, axis=1)
    np.testing.assert_allclose(got[1], wv - s * wv.sum(axis=1, keepdims=True), atol=1e-12)


def test_onehot_crossentropy_of_softmax_is_stable(mode):
    x = T.dmatrix("x")
    t = T.dmatrix("t")
    cost = nnet.categorical_crossentropy(nnet.softmax(x), t)  # -sum(t * log(softmax(x)))
    f, ref = _compile(mode, [x, t], [cost, grad(T.sum(cost), x)])
    assert _fired(f, "local_log_softmax")
    xv = np.array([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]])
    tv = np.array([[0.0, 0.0, 1.0], [0.2, 0.3, 0.5]])
    got, want = _run(f, xv, tv), _run(ref, xv, tv)
    np.testing.assert_allclose(got[0], -(tv * sp.log_softmax(xv, axis=1)).sum(axis=1),
                               rtol=1e-12)
    np.testing.assert_allclose(got[1], sp.softmax(xv, axis=1) - tv, atol=1e-12)
    _same(got[0][1], want[0][1])
    _same(got[1][1], want[1][1], rtol=1e-10)


def test_log_softmax_does_not_fire(mode):
    x = T.dmatrix("x")
    f = _compile(mode, [x], [T.log(nnet.softmax(x) + 1e-3), T.exp(nnet.softmax(x))],
                 ref=False)
    assert not _fired(f, "local_log_softmax")
    assert nnet.LogSoftmax not in _op_types(f)


# ======================================================================= crossentropy


def test_crossentropy_softmax_is_fused_and_stable(mode):
    x = T.dmatrix("x")
    y = T.lvector("y")
    cost = nnet.categorical_crossentropy(nnet.softmax(x), y)
    f, ref = _compile(mode, [x, y], [cost, grad(T.mean(cost), x)])
    assert _fired(f, "local_crossentropy_softmax")
    assert _fired(f, "local_crossentropy_softmax_grad")
    types = _op_types(f)
    assert nnet.CrossentropySoftmax1Hot in types
    assert nnet.CrossentropyCategorical1Hot not in types
    assert "exp" not in _scalar_names(f)  # the gradient no longer divides by p[y]
    xv = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 0.5]])
    yv = np.array([2, 0])
    got, want = _run(f, xv, yv), _run(ref, xv, yv)
    _same(got[0], want[0])
    _same(got[1], want[1], rtol=1e-10)
    # the required case: logits of size 1e4, probability of the label rounds to 0
    big = np.array([[1e4, 0.0, -1e4], [0.0, -1e4, 1e4]])
    yb = np.array([2, 2])
    got, want = _run(f, big, yb), _run(ref, big, yb)
    np.testing.assert_allclose(got[0], [2e4, 0.0], atol=1e-9)
    onehot = np.eye(3)[yb]
    assert np.all(np.isfinite(got[1]))
    np.testing.assert_allclose(got[1], (sp.softmax(big, axis=1) - onehot) / 2, atol=1e-12)
    assert np.isinf(want[0][0]) and np.isnan(want[1][0]).all()  # what the rewrite fixes


def test_crossentropy_softmax_vector_case(mode):
    x = T.dvector("x")
    y = T.lscalar("y")
    cost = nnet.crossentropy_categorical_1hot(nnet.softmax(x), y)
    f, ref = _compile(mode, [x, y], [cost, grad(cost, x)])
    assert _fired(f, "local_crossentropy_softmax")
    assert _fired(f, "local_crossentropy_softmax_grad")
    xv = np.array([0.5, -1.0, 2.0])
    got, want = _run(f, xv, 1), _run(ref, xv, 1)
    _same(got[0], want[0])
    _same(got[1], want[1], rtol=1e-10)


def test_crossentropy_softmax_does_not_fire(mode):
    x = T.dmatrix("x")
    y = T.lvector("y")
    # probabilities that are not a softmax, and a softmax along the wrong axis
    p = T.true_div(T.exp(x), T.sum(T.exp(x), axis=1, keepdims=True))
    f = _compile(mode, [x, y], [nnet.categorical_crossentropy(p, y),
                                nnet.categorical_crossentropy(nnet.softmax(x, axis=0), y)],
                 ref=False)
    assert not _fired(f, "local_crossentropy_softmax")
    assert nnet.CrossentropySoftmax1Hot not in _op_types(f)


def test_crossentropy_softmax_op_values_and_errors():
    x = T.dmatrix("x")
    y = T.lvector("y")
    out = nnet.crossentropy_softmax_1hot(x, y)
    f = sg.function([x, y], out, mode=Mode("py", optimizer=None))
    xv = np.array([[1.0, 2.0, 3.0], [1e4, 0.0, -1e4], [np.inf, 0.0, 0.0],
                   [-np.inf, -np.inf, -np.inf]])
    got = _run(f, xv, np.array([0, 2, 1, 0]))
    want = -sp.log_softmax(xv[:2], axis=1)[[0, 1], [0, 2]]
    np.testing.assert_allclose(got[:2], want, rtol=1e-12)
    assert np.isnan(got[2]) and np.isnan(got[3])  # as crossentropy(softmax(x))
    with pytest.raises(IndexError, match="out of range"):
        f(xv[:2], np.array([0, 3]))
    with pytest.raises(TypeError, match="integer labels"):
        nnet.crossentropy_softmax_1hot(x, T.dvector())
    with pytest.raises(TypeError, match="one dimension"):
        nnet.crossentropy_softmax_1hot(x, T.lmatrix())
    f32 = nnet.crossentropy_softmax_1hot(T.fmatrix(), y)
    assert f32.dtype == "float32"
    from tests.utils import check_infer_shape
    check_infer_shape([out], [x, y], [xv[:2], np.array([0, 1])])


def test_crossentropy_softmax_op_grad():
    yv = np.array([2, 0, 1])
    verify_grad(lambda x: nnet.crossentropy_softmax_1hot(x, T.constant(yv)),
                [np.random.default_rng(0).uniform(-2, 2, (3, 4))], n_tests=2,
                rng=np.random.default_rng(1))
    verify_grad(lambda x: nnet.crossentropy_softmax_1hot(x, T.constant(1)),
                [np.array([0.3, -1.0, 2.0])], rng=np.random.default_rng(2))
    x = T.dmatrix("x")
    y = T.lvector("y")
    gx = grad(T.sum(nnet.crossentropy_softmax_1hot(x, y)), x)
    big = np.array([[1e4, 0.0, -1e4]])
    out = sg.function([x, y], gx, mode=Mode("py", optimizer=None))(big, np.array([2]))
    np.testing.assert_allclose(out, [[1.0, 0.0, -1.0]], atol=1e-12)
    node = nnet.crossentropy_softmax_1hot(x, y).owner
    grads = node.op.L_op(node.inputs, node.outputs, [T.dvector()])
    assert isinstance(grads[1].type, DisconnectedType)


def test_crossentropy_softmax_op_rop():
    x = T.dmatrix("x")
    v = T.dmatrix("v")
    yv = np.array([1, 0])
    out = nnet.crossentropy_softmax_1hot(x, T.constant(yv))
    f = sg.function([x, v], Rop(out, x, v), mode=Mode("py", optimizer=None))
    g = sg.function([x], out, mode=Mode("py", optimizer=None))
    rng = np.random.default_rng(3)
    xv, vv = rng.uniform(-2, 2, (2, 3)), rng.uniform(-1, 1, (2, 3))
    eps = 1e-6
    want = (g(xv + eps * vv) - g(xv - eps * vv)) / (2 * eps)
    np.testing.assert_allclose(f(xv, vv), want, rtol=1e-6, atol=1e-8)


# ======================================================================= logsumexp


def test_logsumexp_of_sum_of_exp(mode):
    x = T.dvector("x")
    naive = T.log(T.sum(T.exp(x)))
    f, ref = _compile(mode, [x], [naive, T.logsumexp(x), grad(naive, x)])
    assert _fired(f, "local_logsumexp") and _fired(f, "local_exp_over_sum_exp")
    xv = np.array([1000.0, 1000.0])  # the required case
    got, want = _run(f, xv), _run(ref, xv)
    assert got[0] == pytest.approx(1000 + np.log(2), rel=1e-15)
    assert got[1] == pytest.approx(1000 + np.log(2), rel=1e-15)
    np.testing.assert_allclose(got[2], [0.5, 0.5], rtol=1e-15)
    assert np.isinf(want[0]) and np.isnan(want[2]).all()  # what the rewrite fixes
    for xv in (np.array([0.5, -1.0, 2.0]), np.array([-np.inf, -np.inf]),
               np.array([np.inf, 1.0]), np.array([np.nan, 1.0])):
        got, want = _run(f, xv), _run(ref, xv)
        _same(got[0], want[0])
        if np.all(np.isfinite(xv)):
            _same(got[2], want[2], rtol=1e-10)
    np.testing.assert_allclose(_run(f, np.array([-1000.0, -1000.0]))[0],
                               -1000 + np.log(2), rtol=1e-15)


@pytest.mark.parametrize("axis,keepdims", [(1, False), (0, True), ((0, 1), True)])
def test_logsumexp_keeps_axis_and_keepdims(mode, axis, keepdims):
    x = T.dmatrix("x")
    naive = T.log(T.sum(T.exp(x), axis=axis, keepdims=keepdims))
    f, ref = _compile(mode, [x], [naive, grad(T.sum(naive), x)])
    assert _fired(f, "local_logsumexp")
    assert f.maker.fgraph.outputs[0].type == naive.type
    xv = np.array([[1000.0, 1000.0, -3.0], [0.5, -np.inf, 1.0]])
    got = _run(f, xv)
    np.testing.assert_allclose(got[0], sp.logsumexp(xv, axis=axis, keepdims=keepdims),
                               rtol=1e-14)
    np.testing.assert_allclose(got[1], sp.softmax(xv, axis=axis), rtol=1e-14)
    small = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -2.0]])
    got, want = _run(f, small), _run(ref, small)
    _same(got[0], want[0])
    _same(got[1], want[1], rtol=1e-12)


def test_manual_softmax_is_stabilized(mode):
    x = T.dmatrix("x")
    p = T.exp(x) / T.sum(T.exp(x), axis=1, keepdims=True)
    f, ref = _compile(mode, [x], p)
    assert _fired(f, "local_exp_over_sum_exp")
    xv = np.array([[1000.0, 1000.0], [0.5, -1.0]])
    got, want = _run(f, xv), _run(ref, xv)
    np.testing.assert_allclose(got, sp.softmax(xv, axis=1), rtol=1e-14)
    _same(got[1], want[1])


def test_logsumexp_does_not_fire(mode):
    x = T.dvector("x")
    f = _compile(mode, [x], [T.log(T.sum(T.exp(x) + 1)), T.log(T.max(T.exp(x))),
                             T.logsumexp(x)], ref=False)
    assert not _fired(f, "local_logsumexp")
    # T.logsumexp's own (already shifted) graph is left alone
    assert _scalar_names(f).count("log") == 3


# ======================================================================= log/exp pairs


def test_log_exp_and_exp_log(mode):
    x = T.dvector("x")
    f, ref = _compile(mode, [x], [T.log(T.exp(x)), T.exp(T.log(T.sqr(x))),
                                  T.exp(T.log(T.abs(x)))])
    assert _fired(f, "local_log_exp") and _fired(f, "local_exp_log")
    names = _scalar_names(f)
    assert "log" not in names and "exp" not in names
    got, want = _run(f, EDGES), _run(ref, EDGES)
    ok = (np.abs(EDGES) < 700) & (np.abs(EDGES) != 1e-20)
    _same(got[0], np.where(np.isnan(EDGES), np.nan, EDGES))  # log(exp(x)) is x
    _same(got[0][ok], want[0][ok])
    _same(got[1], want[1], rtol=1e-13)  # exp(log(.)) rounded; the rewrite is exact
    _same(got[2], want[2], rtol=1e-13)


def test_exp_log_does_not_fire_on_possibly_negative(mode):
    x = T.dvector("x")
    z = T.zvector("z")
    f, ref = _compile(mode, [x, z], [T.exp(T.log(x)), T.log(T.exp(z))])
    assert not _fired(f, "local_exp_log") and not _fired(f, "local_log_exp")
    xv = np.array([-1.0, 2.0])
    zv = np.array([0.0 + 4j, 1.0])  # log(exp(4j)) wraps the imaginary part
    got, want = _run(f, xv, zv), _run(ref, xv, zv)
    assert np.isnan(got[0][0])
    _same(got[1], want[1])
