"""The gradient of scan (BPTT) against finite differences, and both truncation styles
against NumPy references."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import grad, hessian, hessian_vector_product, verify_grad
from symgraph.scan import scan, until
from tests.scan.test_basic import GenType, Normal
from tests.utils import assert_allclose


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_simple_recurrence(rng):
    def f(x, h0, w):
        out, _ = scan(lambda xt, h, w: T.tanh(h * w + xt), sequences=x, outputs_info=h0,
                      non_sequences=w)
        return out

    verify_grad(f, [rng.standard_normal(5), rng.standard_normal(()), rng.standard_normal(())])


def test_mit_sot_taps_minus_two_minus_one(rng):
    def f(x0, c):
        out, _ = scan(lambda a, b, c: T.sin(a) * c + b * b * 0.5,
                      outputs_info=dict(initial=x0, taps=[-2, -1]), non_sequences=c, n_steps=5)
        return out

    verify_grad(f, [rng.standard_normal((2, 3)) * 0.5, rng.standard_normal(3)])


def test_sequence_taps_minus_one_zero_one(rng):
    def f(x, w):
        out, _ = scan(lambda a, b, c, w: a * b * w + T.cos(c),
                      sequences=dict(input=x, taps=[-1, 0, 1]), non_sequences=w)
        return out

    verify_grad(f, [rng.standard_normal((6, 2)), rng.standard_normal(2)])


def test_several_outputs_with_disconnected_and_nit_sot(rng):
    def f(x, h0):
        outs, _ = scan(lambda xt, h: [T.tanh(h + xt), (h * xt).sum()], sequences=x,
                       outputs_info=[h0, None])
        return outs[1]  # the recurrent output's own gradient is disconnected

    verify_grad(f, [rng.standard_normal((4, 3)), rng.standard_normal(3)])
    x, h0 = T.dmatrix("x"), T.dvector("h0")
    outs, _ = scan(lambda xt, h: [T.tanh(h + xt), (h * xt).sum()], sequences=x,
                   outputs_info=[h0, None])
    g = grad(outs[0][-1].sum(), h0)  # only the recurrent output
    gv = sg.function([x, h0], g)(np.zeros((2, 3)), np.zeros(3))
    assert_allclose(gv, np.ones(3))


def test_integer_inputs_get_no_gradient():
    x = T.dvector("x")
    k = T.lvector("k")
    out, _ = scan(lambda xt, kt, h: h * 0.5 + xt * kt, sequences=[x, k],
                  outputs_info=np.float64(0))
    gx, gk = grad(out.sum(), [x, k])
    fx = sg.function([x, k], [gx, gk])
    vx, vk = fx(np.ones(3), np.array([1, 2, 3]))
    assert_allclose(vx, np.array([1.75, 3.0, 3.0]))
    assert not np.any(vk)


def test_until_loop_is_differentiable_over_the_steps_run():
    def f(h0, w):
        out, _ = scan(lambda h, w: (h * w + 0.3, until(T.sum(h) > 3.0)), outputs_info=h0,
                      non_sequences=w, n_steps=50)
        return out

    verify_grad(f, [np.array([0.2, 0.1]), np.array([1.3, 1.1])])


def test_go_backwards(rng):
    def f(x, h0):
        out, _ = scan(lambda xt, h: T.tanh(h * 0.5 + xt * xt), sequences=x, outputs_info=h0,
                      go_backwards=True)
        return out

    verify_grad(f, [rng.standard_normal((4, 2)), rng.standard_normal(2)])


def test_nested_scan(rng):
    def f(X, c):
        def outer_step(row, h, c):
            inner, _ = scan(lambda v, g, c: T.tanh(g * c + v), sequences=row, outputs_info=h,
                            non_sequences=c)
            return inner[-1]

        out, _ = scan(outer_step, sequences=X, outputs_info=T.zeros_like(c), non_sequences=c)
        return out

    verify_grad(f, [rng.standard_normal((3, 4)), np.array(0.7)])


def test_shared_weights_captured_implicitly_get_gradients(rng):
    w = sg.shared(rng.standard_normal(3), name="w")
    x = T.dmatrix("x")
    out, _ = scan(lambda xt, h: T.tanh(h * w + xt), sequences=x, outputs_info=T.zeros_like(w))
    cost = (out ** 2).sum()
    gw = sg.function([x], grad(cost, w))
    xv = rng.standard_normal((4, 3))
    f = sg.function([x], cost)
    w0, eps, num = w.get_value(), 1e-6, np.zeros(3)
    for j in range(3):
        for s in (1, -1):
            wp = w0.copy()
            wp[j] += s * eps
            w.set_value(wp)
            num[j] += s * f(xv) / (2 * eps)
    w.set_value(w0)
    assert_allclose(gw(xv), num, rtol=1e-5, atol=1e-7)


def test_complex_recurrence(rng):
    def f(x, z):
        out, _ = scan(lambda xt, h, z: h * z + xt, sequences=x,
                      outputs_info=T.zeros_like(z), non_sequences=z)
        return T.abs(out) ** 2

    c = lambda *s: rng.standard_normal(s) + 1j * rng.standard_normal(s)  # noqa: E731
    verify_grad(f, [c(4) * 0.5, np.array(0.3 + 0.4j)])


def elman(x, W, U, b, h0, V, y):
    def step(xt, h, W, U, b):
        return T.tanh(T.dot(xt, W) + T.dot(h, U) + b)

    hs, _ = scan(step, sequences=x, outputs_info=h0, non_sequences=[W, U, b])
    probs = T.nnet.softmax(T.dot(hs, V))
    return T.nnet.categorical_crossentropy(probs, y).mean()


def test_elman_rnn_wrt_W_U_b_h0(rng):
    n, d, h, c = 5, 3, 4, 3
    xv = rng.standard_normal((n, d))
    V = rng.standard_normal((h, c))
    y = np.eye(c)[rng.integers(0, c, n)]
    pts = [rng.standard_normal((d, h)) * 0.5, rng.standard_normal((h, h)) * 0.5,
           rng.standard_normal(h) * 0.1, rng.standard_normal(h) * 0.1]
    verify_grad(lambda W, U, b, h0: elman(T.constant(xv), W, U, b, h0, T.constant(V),
                                          T.constant(y)), pts)


def test_second_derivatives(rng):
    x = T.dvector("x")
    out, _ = scan(lambda xt, h: T.sin(h) * xt + h * h * 0.1, sequences=x,
                  outputs_info=np.float64(0.3))
    cost = out.sum()
    H = hessian(cost, x)
    v = T.dvector("v")
    hv = hessian_vector_product(cost, x, v)
    f = sg.function([x, v], [H, hv])
    g = sg.function([x], grad(cost, x))
    xv, vv = rng.standard_normal(4), rng.standard_normal(4)
    eps = 1e-6
    num = np.array([(g(xv + eps * e) - g(xv - eps * e)) / (2 * eps) for e in np.eye(4)])
    Hv, hvv = f(xv, vv)
    assert_allclose(Hv, num, rtol=1e-5, atol=1e-7)
    assert_allclose(hvv, num @ vv, rtol=1e-5, atol=1e-7)


def test_gradient_uses_the_random_draws_of_the_forward_pass():
    rng_var = sg.SharedVariable(GenType(), np.random.default_rng(5), name="rng")

    def f(x, w):
        def step(xt, h, w):
            new_rng, draw = Normal()(rng_var, 2)
            return T.tanh(h * w + xt) * (draw > 0), {rng_var: new_rng}

        out, _ = scan(step, sequences=x, outputs_info=T.zeros_like(w), non_sequences=w)
        return out

    # without the updates the generator is not advanced: every call draws the same
    verify_grad(f, [np.random.default_rng(0).standard_normal((4, 2)), np.array([0.8, -0.6])])


# --------------------------------------------------------------------------- truncation

def _rnn_case(rng, n=6, d=2, h=3):
    return (rng.standard_normal((n, d)), rng.standard_normal((d, h)) * 0.6,
            rng.standard_normal((h, h)) * 0.6, rng.standard_normal(h) * 0.3,
            rng.standard_normal((n, h)))


def _rnn_grads(xv, Wv, Uv, h0v, cv, k, style):
    x, W, U, h0, c = T.dmatrix("x"), T.dmatrix("W"), T.dmatrix("U"), T.dvector("h0"), \
        T.dmatrix("c")
    hs, _ = scan(lambda xt, hp, W, U: T.tanh(T.dot(xt, W) + T.dot(hp, U)), sequences=x,
                 outputs_info=h0, non_sequences=[W, U], truncate_gradient=k,
                 truncate_style=style)
    cost = (hs * c).sum()
    f = sg.function([x, W, U, h0, c], grad(cost, [x, W, U, h0]))
    return f(xv, Wv, Uv, h0v, cv)


def _np_forward(xv, Wv, Uv, h0v):
    hs, h = [], h0v
    for xt in xv:
        h = np.tanh(xt @ Wv + h @ Uv)
        hs.append(h)
    return hs


def _np_theano_truncated(xv, Wv, Uv, h0v, cv, k):
    """Theano's rule: the backward pass covers only the last k steps."""
    n = len(xv)
    hs = _np_forward(xv, Wv, Uv, h0v)
    gx, gW, gU, gh0 = np.zeros_like(xv), np.zeros_like(Wv), np.zeros_like(Uv), np.zeros_like(h0v)
    dh_next = np.zeros_like(h0v)
    steps = min(k, n)
    for t in range(n - 1, n - 1 - steps, -1):
        da = (cv[t] + dh_next) * (1 - hs[t] ** 2)
        hp = hs[t - 1] if t > 0 else h0v
        gx[t] = Wv @ da
        gW += np.outer(xv[t], da)
        gU += np.outer(hp, da)
        dh_next = Uv @ da
    if steps == n:
        gh0 = dh_next
    return [gx, gW, gU, gh0]


def _np_classic_truncated(xv, Wv, Uv, h0v, cv, k):
    """Truncated BPTT: the cost's gradient at step s flows back through at most k steps
    (s, s-1, ..., s-k+1), each of which gives its inputs (x_t, W, U, and h0 for step 0)
    their share."""
    n = len(xv)
    hs = _np_forward(xv, Wv, Uv, h0v)
    gx, gW, gU, gh0 = np.zeros_like(xv), np.zeros_like(Wv), np.zeros_like(Uv), np.zeros_like(h0v)
    for s in range(n):
        dh = cv[s]
        for j in range(k):
            t = s - j
            da = dh * (1 - hs[t] ** 2)
            hp = hs[t - 1] if t > 0 else h0v
            gx[t] += Wv @ da
            gW += np.outer(xv[t], da)
            gU += np.outer(hp, da)
            dh = Uv @ da
            if t == 0:  # what step 0 gives its input, the initial state, is kept
                gh0 += dh
                break
            if j + 1 >= k:
                break
    return [gx, gW, gU, gh0]


@pytest.mark.parametrize("style", ["theano", "classic"])
def test_truncation_with_k_at_least_n_steps_is_the_exact_gradient(style, rng):
    xv, Wv, Uv, h0v, cv = _rnn_case(rng, n=4)
    exact = _rnn_grads(xv, Wv, Uv, h0v, cv, -1, "theano")
    for k in (4, 9):
        for got, want in zip(_rnn_grads(xv, Wv, Uv, h0v, cv, k, style), exact):
            assert_allclose(got, want)

    def f(W, U, h0):
        hs, _ = scan(lambda xt, hp, W, U: T.tanh(T.dot(xt, W) + T.dot(hp, U)),
                     sequences=T.constant(xv), outputs_info=h0, non_sequences=[W, U],
                     truncate_gradient=4, truncate_style=style)
        return hs

    verify_grad(f, [Wv, Uv, h0v])


def test_theano_truncation_drops_even_direct_input_weight_contributions(rng):
    xv, Wv, Uv, h0v, cv = _rnn_case(rng)
    exact = _rnn_grads(xv, Wv, Uv, h0v, cv, -1, "theano")
    for k in (1, 2):
        got = _rnn_grads(xv, Wv, Uv, h0v, cv, k, "theano")
        for g, w in zip(got, _np_theano_truncated(xv, Wv, Uv, h0v, cv, k)):
            assert_allclose(g, w)
        # the input weight W does not touch the recurrence, yet its gradient is off
        assert np.abs(got[1] - exact[1]).max() > 1e-2
        assert not np.any(got[3]) and not np.any(got[0][:len(xv) - k])


def test_classic_truncation_is_truncated_bptt(rng):
    xv, Wv, Uv, h0v, cv = _rnn_case(rng)
    for k in (1, 2, 3):
        got = _rnn_grads(xv, Wv, Uv, h0v, cv, k, "classic")
        for g, w in zip(got, _np_classic_truncated(xv, Wv, Uv, h0v, cv, k)):
            assert_allclose(g, w)
    # k=1 keeps each step's direct contribution: x's gradient is W @ (c_t * (1 - h_t^2))
    hs = np.array(_np_forward(xv, Wv, Uv, h0v))
    got = _rnn_grads(xv, Wv, Uv, h0v, cv, 1, "classic")
    assert_allclose(got[0], (cv * (1 - hs ** 2)) @ Wv.T)


def test_classic_truncation_with_two_taps(rng):
    def run_grad(k):
        x0, w = T.dmatrix("x0"), T.dvector("w")
        out, _ = scan(lambda a, b, w: T.tanh(a * w + b * 0.5), n_steps=5,
                      outputs_info=dict(initial=x0, taps=[-2, -1]), non_sequences=w,
                      truncate_gradient=k, truncate_style="classic")
        return sg.function([x0, w], grad(out.sum(), [x0, w]))

    x0v, wv = rng.standard_normal((2, 3)), rng.standard_normal(3)

    def np_ref(k):
        # buffer positions 0, 1 are the initial rows (times -2, -1)
        buf = list(x0v)
        for t in range(5):
            buf.append(np.tanh(buf[t] * wv + buf[t + 1] * 0.5))
        g_buf = [np.zeros(3) for _ in buf]
        gw = np.zeros(3)
        for s in range(5):  # cost term of time s, at position s + 2
            pend = {s + 2: np.ones(3)}  # position -> adjoint (all of age pos - s - 2 ... )
            for p in sorted(range(2, s + 3), reverse=True):
                if p not in pend:
                    continue
                dh = pend.pop(p)
                t = p - 2
                da = dh * (1 - buf[p] ** 2)
                gw += da * buf[t]
                for q, gq in ((t, da * wv), (t + 1, da * 0.5)):
                    if q < 2:  # initial rows keep what the processed steps give them
                        g_buf[q] = g_buf[q] + gq
                    elif (s + 2) - q < k:  # processed only within k steps of the cost term
                        pend[q] = pend.get(q, 0) + gq
        return [np.array(g_buf[:2]), gw]

    for k in (1, 2, 3, 8):
        got = run_grad(k)(x0v, wv)
        for g, w in zip(got, np_ref(k)):
            assert_allclose(g, w)


def test_gradient_through_a_shared_variable_updated_in_the_loop():
    acc = sg.shared(np.float64(2.0), name="acc")
    x = T.dvector("x")

    def step(v):
        new = acc * v
        return new + 0.0, {acc: new}

    out, updates = scan(step, sequences=x)
    g_acc, g_x = grad(out.sum(), [acc, x])
    f = sg.function([x], [out, g_acc, g_x])
    xv = np.array([1.5, -0.5, 2.0])
    o, ga, gx = f(xv)
    assert_allclose(o, 2.0 * np.cumprod(xv))
    assert_allclose(ga, np.array(np.cumprod(xv).sum()))
    eps = 1e-6
    num = [(f(xv + eps * e)[0].sum() - f(xv - eps * e)[0].sum()) / (2 * eps) for e in np.eye(3)]
    assert_allclose(gx, np.array(num), rtol=1e-6, atol=1e-8)


def test_rop_of_a_scan(rng):
    x = T.dvector("x")
    v = T.dvector("v")
    out, _ = scan(lambda xt, h: T.sin(h) + xt * xt, sequences=x, outputs_info=np.float64(0.1))
    jv = sg.Rop(out, x, v)
    f = sg.function([x, v], jv)
    g = sg.function([x], out)
    xv, vv = rng.standard_normal(4), rng.standard_normal(4)
    eps = 1e-6
    assert_allclose(f(xv, vv), (g(xv + eps * vv) - g(xv - eps * vv)) / (2 * eps), rtol=1e-6,
                    atol=1e-8)


def test_until_loop_gradient_pads_the_sequence_steps_not_run():
    x = T.dvector("x")
    out, _ = scan(lambda v, s: (s + v * v, until(s + v * v > 2.5)), sequences=x,
                  outputs_info=np.float64(0))
    g = sg.function([x], grad(out[-1], x))
    assert_allclose(g(np.ones(6)), np.array([2.0, 2.0, 2.0, 0, 0, 0]))


def test_gradient_with_functional_random_draws():
    from symgraph.tensor.random import normal, shared_generator

    rng_var = shared_generator(np.random.default_rng(1), name="rng")

    def f(x, w):
        def step(v, h, w):
            new, d = normal(rng_var, 0.0, 1.0, size=(2,))
            return T.tanh(h * w + v) * (d > 0), {rng_var: new}

        out, _ = scan(step, sequences=x, outputs_info=T.zeros_like(w), non_sequences=w)
        return out

    verify_grad(f, [np.random.default_rng(0).standard_normal((4, 2)), np.array([0.8, -0.6])])
