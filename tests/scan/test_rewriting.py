"""Scan rewrites: small constant non-sequences are written into the loop body; unused
outputs are dropped; loops over the same inputs merge; the gradient reads the forward
step's products back."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
import symgraph.tensor as T
from symgraph.compile.mode import Mode
from symgraph.scan import grad as scan_grad
from symgraph.scan import rewriting, until
from symgraph.scan.op import Scan
from tests.utils import assert_allclose


def _scan_node(f):
    nodes = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]
    assert len(nodes) == 1
    return nodes[0]


def _reshaped_row_sums(shape):
    x = T.dmatrix("x")

    def step(row, s):
        return row.reshape(s).sum(axis=0)

    out, _ = sg.scan(step, sequences=[x], non_sequences=[shape])
    return x, out


def _static_shape():
    """A non-sequence that becomes a constant only when the outer graph is rewritten
    (the shape of a variable whose static shape is known)."""
    return sg.shared(np.zeros((3, 2)), name="m", shape=(3, 2)).shape


def test_small_constant_non_sequence_goes_into_the_body(mode):
    x, out = _reshaped_row_sums(_static_shape())
    f = sg.function([x], out, mode=mode)
    node = _scan_node(f)
    assert len(node.inputs) == 2  # n_steps and the sequence: the constant is inside
    # the body now knows the reshape's target, so the static shape of a step's result
    assert node.op.inner_outputs[0].type.shape == (2,)
    xv = np.arange(12.0).reshape(2, 6)
    np.testing.assert_array_equal(f(xv), xv.reshape(2, 3, 2).sum(axis=1))


def test_large_constant_and_variables_stay_inputs(monkeypatch):
    monkeypatch.setattr(rewriting, "INLINE_CONSTANT_SIZE", 1)
    x, out = _reshaped_row_sums(_static_shape())
    f = sg.function([x], out, mode="py")
    assert len(_scan_node(f).inputs) == 3
    xv = np.arange(12.0).reshape(2, 6)
    np.testing.assert_array_equal(f(xv), xv.reshape(2, 3, 2).sum(axis=1))
    s = T.tensor(dtype="int64", shape=(2,), name="s")
    x2, out2 = _reshaped_row_sums(s)
    g = sg.function([x2, s], out2, mode="py")
    assert len(_scan_node(g).inputs) == 3
    np.testing.assert_array_equal(g(xv, [2, 3]), xv.reshape(2, 2, 3).sum(axis=1))


def test_gradient_through_a_scan_with_a_constant_non_sequence(mode):
    w = T.dvector("w")
    c = sg.shared(np.zeros(3), name="m", shape=(3,)).shape * np.array([1.0, -2.0, 0.5]) / 3

    def step(h, c_):
        return T.tanh(h * c_ + w)

    hs, _ = sg.scan(step, outputs_info=[T.zeros_like(w)], non_sequences=[c], n_steps=4)
    g = sg.grad(hs[-1].sum(), w)
    f = sg.function([w], g, mode=mode)
    wv = np.array([0.3, -0.1, 0.2])
    eps = 1e-6
    fd = [(sg.function([w], hs[-1].sum(), mode="py")(wv + eps * e) -
           sg.function([w], hs[-1].sum(), mode="py")(wv - eps * e)) / (2 * eps)
          for e in np.eye(3)]
    np.testing.assert_allclose(f(wv), fd, rtol=1e-6)


def test_length_of_a_non_sequence_is_taken_inside_the_body(mode):
    from symgraph.tensor.creation import Alloc
    xs = T.dvector("xs")
    w = T.dvector("w")

    def step(x_t, w_):
        # the body's alloc has w's length: scan() hoists w.shape[0] out of the body
        return (T.alloc(x_t, w_.shape[0]) * w_).sum()

    out, _ = sg.scan(step, sequences=[xs], non_sequences=[w])
    f = sg.function([xs, w], out, mode=mode)
    node = _scan_node(f)
    inner_ops = [v.owner.op for v in _inner_variables(node.op) if v.owner is not None]
    # the length is Shape_i of the body's own w, so the alloc became broadcasting
    assert not any(isinstance(op, Alloc) for op in inner_ops)
    assert len(node.inputs) == 3  # n_steps, xs, w
    xv, wv = np.array([1.0, -2.0, 0.5]), np.array([3.0, 4.0])
    np.testing.assert_allclose(f(xv, wv), xv * wv.sum())


def _inner_variables(op):
    from symgraph.graph.basic import ancestors
    return ancestors(op.inner_outputs, blockers=op.inner_inputs)


# ---------------------------------------------------------------- unused outputs, merged
# loops, products stored for the backward loop

# the rewrites of this part, to compile a reference without them
_NEW = ("scan_prune", "scan_merge", "scan_rec_to_state")
# what the pruning keeps, seen before an unread recurrence becomes loop states
_NO_STATES = ("scan_rec_to_state",)


def _scan_nodes(f):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]


def _products(op):
    """The products among the inner nodes of ``op`` (Dot, or Gemm after rewriting)."""
    return [v.owner for v in _inner_variables(op) if v.owner is not None
            and type(v.owner.op).__name__ in ("Dot", "Gemm", "Gemv", "Ger")]


def test_unused_stacked_output_goes_with_what_only_it_reads(mode):
    x, u, W, h0 = T.dmatrix("x"), T.dmatrix("u"), T.dmatrix("W"), T.dvector("h0")

    def step(x_t, u_t, h, W_):
        return T.tanh(x_t + h), T.dot(u_t, W_)  # the stacked output alone reads u and W

    [hs, zs], _ = sg.scan(step, sequences=[x, u], outputs_info=[h0, None], non_sequences=[W])
    f = sg.function([x, u, h0, W], hs, mode=mode)
    (node,) = _scan_nodes(f)
    assert (node.op.n_rec, node.op.n_nit, node.op.n_seqs, node.op.n_nonseqs) == (1, 0, 1, 0)
    assert len(node.inputs) == 3  # n_steps, x, h0's buffer
    rng = np.random.default_rng(0)
    xv, h0v = rng.standard_normal((4, 3)), rng.standard_normal(3)
    h, want = h0v, []
    for t in range(4):
        h = np.tanh(xv[t] + h)
        want.append(h)
    assert_allclose(f(xv, np.zeros((4, 2)), h0v, np.zeros((2, 3))), np.array(want))
    # both outputs read: nothing goes
    g = sg.function([x, u, h0, W], [hs, zs], mode=mode)
    assert _scan_nodes(g)[0].op.n_nit == 1


def test_recurrence_read_by_a_kept_output_stays(mode):
    x = T.dvector("x")
    a0 = T.dvector("a0")

    def step(x_t, a2, a1, b, c):
        # a (taps -2, -1) feeds b; c only feeds itself
        return a1 * 0.5 - a2 * 0.25 + x_t, b + a1, c * 2.0 + x_t

    [a, b, c], _ = sg.scan(step, sequences=x,
                           outputs_info=[dict(initial=a0, taps=[-2, -1]), np.float64(1.0),
                                         np.float64(0.0)])
    f = sg.function([x, a0], b, mode=Mode(mode, "fast_run", exclude=_NO_STATES))
    (node,) = _scan_nodes(f)
    assert node.op.rec_taps == ((-2, -1), (-1,))
    xv, a0v = np.array([0.5, -1.0, 2.0, 0.25]), np.array([0.3, -0.7])
    av, bv, want = list(a0v), 1.0, []
    for t in range(4):
        av.append(av[-1] * 0.5 - av[-2] * 0.25 + xv[t])
        bv = bv + av[-2]  # b reads a's previous value (tap -1)
        want.append(bv)
    assert_allclose(f(xv, a0v), np.array(want))
    g = sg.function([x, a0], [a, b, c], mode=Mode("py", "fast_run", exclude=_NEW))
    assert_allclose(g(xv, a0v)[1], np.array(want))


def _five_outputs():
    """A loop whose outputs read each other in several ways: a (taps -2, -1) reads
    itself; b reads a; c only itself; z (stacked) reads b and the sequence u; w
    (stacked) reads the non-sequence k only."""
    x, u, a0, k = T.dvector("x"), T.dvector("u"), T.dvector("a0"), T.dscalar("k")

    def step(x_t, u_t, a2, a1, b, c, k_):
        return [a1 * 0.5 - a2 * 0.25 + x_t, T.tanh(b + a1), c * 0.7 + x_t, b * u_t,
                T.exp(k_ * x_t)]

    outs, _ = sg.scan(step, sequences=[x, u], non_sequences=[k],
                      outputs_info=[dict(initial=a0, taps=[-2, -1]), np.float64(0.1),
                                    np.float64(0.0), None, None])
    rng = np.random.default_rng(5)
    return [x, u, a0, k], outs, [rng.normal(size=5), rng.normal(size=5), rng.normal(size=2),
                                  0.3]


@settings(max_examples=12, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=3, unique=True))
def test_any_choice_of_outputs_keeps_its_values(which):
    inputs, outs, vals = _five_outputs()
    want = sg.function(inputs, outs, mode=Mode("py", "fast_run", exclude=_NEW))(*vals)
    f = sg.function(inputs, [outs[i] for i in which],
                    mode=Mode("py", "fast_run", exclude=_NO_STATES))
    (node,) = _scan_nodes(f)
    # what each output needs: a <- b <- z; c alone; w alone
    needs = {0: {0}, 1: {0, 1}, 2: {2}, 3: {0, 1, 3}, 4: {4}}
    kept = set().union(*(needs[i] for i in which))
    assert node.op.n_rec == len(kept & {0, 1, 2}) and node.op.n_nit == len(kept & {3, 4})
    for i, got in zip(which, f(*vals)):
        assert_allclose(got, want[i], rtol=1e-15, atol=0)


def test_the_stopping_condition_keeps_what_it_reads(mode):
    h0 = T.dscalar("h0")

    def step(h, k):
        return [h * 2.0, k + 1.0, h * 3.0], until(h > 50.0)

    [h, k, z], _ = sg.scan(step, outputs_info=[h0, np.float64(0.0), None], n_steps=20)
    f = sg.function([h0], k, mode=Mode(mode, "fast_run", exclude=_NO_STATES))
    (node,) = _scan_nodes(f)
    assert (node.op.n_rec, node.op.n_nit, node.op.as_while) == (2, 0, True)
    hv, kv, want = 1.0, 0.0, []
    for _ in range(20):
        stop = hv > 50.0
        hv, kv = hv * 2.0, kv + 1.0
        want.append(kv)
        if stop:
            break
    assert_allclose(f(1.0), np.array(want))


def _elman(n_in=3, n_h=4, n_out=3, steps=5, batch=2, seed=1, **scan_kw):
    """B1's network on a small scale: the loss and its gradient with respect to the
    parameters (not x, which is data)."""
    rng = np.random.default_rng(seed)
    vals = dict(W_x=rng.normal(scale=0.5, size=(n_in, n_h)),
                W_h=rng.normal(scale=0.5, size=(n_h, n_h)), b_h=rng.normal(size=n_h) * 0.1,
                W_y=rng.normal(scale=0.5, size=(n_h, n_out)), b_y=rng.normal(size=n_out) * 0.1)
    params = [T.tensor(dtype="float64", shape=(None,) * v.ndim, name=k) for k, v in vals.items()]
    x, y, h0 = T.tensor3("x"), T.lmatrix("y"), T.dmatrix("h0")

    def step(x_t, y_t, h_prev, W_x, W_h, b_h, W_y, b_y):
        h = T.tanh(T.dot(x_t, W_x) + T.dot(h_prev, W_h) + b_h)
        p = T.nnet.softmax(T.dot(h, W_y) + b_y)
        return h, T.nnet.categorical_crossentropy(p, y_t)

    (_, nll), _ = sg.scan(step, sequences=[x, y], outputs_info=[h0, None],
                          non_sequences=params, **scan_kw)
    loss = nll.sum() / x.shape[1]
    data = dict(x=rng.normal(size=(steps, batch, n_in)),
                y=rng.integers(0, n_out, size=(steps, batch)), h0=np.zeros((batch, n_h)))
    return [x, y, h0] + params, [loss] + sg.grad(loss, params), \
        [data["x"], data["y"], data["h0"]] + list(vals.values())


def _numpy_elman_loss(x, y, h0, W_x, W_h, b_h, W_y, b_y):
    h, loss = h0, 0.0
    for t in range(x.shape[0]):
        h = np.tanh(x[t] @ W_x + h @ W_h + b_h)
        z = h @ W_y + b_y
        logp = z - z.max(axis=1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
        loss -= logp[np.arange(len(y[t])), y[t]].sum()
    return loss / x.shape[1]


def _reference(inputs, outputs, values):
    """The values without this part's rewrites, on the interpreter."""
    return sg.function(inputs, outputs, mode=Mode("py", "fast_run", exclude=_NEW))(*values)


@pytest.mark.parametrize("backend", ["py", "numba"])
def test_bptt_drops_the_gradient_of_the_data_and_reads_the_forward_product(backend,
                                                                           monkeypatch):
    inputs, outputs, values = _elman()
    f = sg.function(inputs, outputs, mode=backend)
    fwd, bwd = _scan_nodes(f)
    # the backward loop stacks no gradient of x (x is data) and no longer reads W_x
    assert bwd.op.n_nit == 0
    assert "W_x" not in [getattr(v, "name", None) for v in bwd.op.inner_nonseqs()]
    # the forward loop stores h W_y (its second stacked output); the backward step
    # reads it instead of multiplying again
    assert fwd.op.n_nit == 2
    got = f(*values)
    monkeypatch.setattr(scan_grad, "STORE_COSTLY", False)
    r_inputs, r_outputs, _ = _elman()
    ref = _reference(r_inputs, r_outputs, values)
    plain = sg.function(r_inputs, r_outputs, mode=Mode("py", "fast_run", exclude=_NEW))
    # two products fewer per backward step: the x-gradient's and h W_y
    assert len(_products(bwd.op)) == len(_products(_scan_nodes(plain)[1].op)) - 2
    for g, w in zip(got, ref):
        assert_allclose(g, w, rtol=1e-12, atol=1e-14)
    # and against finite differences of a NumPy loss
    assert_allclose(got[0], _numpy_elman_loss(*values), rtol=1e-12)
    eps = 1e-6
    for k, g in enumerate(got[1:]):
        fd = np.zeros_like(values[3 + k])
        for idx in np.ndindex(fd.shape):
            vp = [v.copy() for v in values]
            vm = [v.copy() for v in values]
            vp[3 + k][idx] += eps
            vm[3 + k][idx] -= eps
            fd[idx] = (_numpy_elman_loss(*vp) - _numpy_elman_loss(*vm)) / (2 * eps)
        assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_loops_over_the_same_steps_merge(mode):
    x = T.dvector("x")
    a, _ = sg.scan(lambda v, h: h * 0.9 + v, sequences=x, outputs_info=np.float64(0.0))
    [b, z], _ = sg.scan(lambda v, h: [h * 0.9 + v, T.sin(v) * h], sequences=x,
                        outputs_info=[np.float64(0.0), None])
    c, _ = sg.scan(lambda v, h: h * 0.8 + v, sequences=x, outputs_info=np.float64(0.0))
    f = sg.function([x], [a, b, z, c], mode=mode)
    (node,) = _scan_nodes(f)
    # a and b are one recurrence (z rides along); c, another recurrence over the same
    # steps, joins the loop as a recurrence of its own
    assert (node.op.n_rec, node.op.n_nit, node.op.n_seqs) == (2, 1, 1)
    xv = np.array([0.5, -1.0, 2.0])
    ha, hc, want_a, want_z, want_c = 0.0, 0.0, [], [], []
    for v in xv:
        want_z.append(np.sin(v) * ha)
        ha, hc = ha * 0.9 + v, hc * 0.8 + v
        want_a.append(ha)
        want_c.append(hc)
    got = f(xv)
    for g, w in zip(got, [want_a, want_a, want_z, want_c]):
        assert_allclose(g, np.array(w))


def test_loops_of_other_lengths_or_reading_each_other_stay_apart():
    x, y = T.dvector("x"), T.dvector("y")
    a, _ = sg.scan(lambda v: T.exp(v), sequences=x)
    b, _ = sg.scan(lambda v: T.sin(v), sequences=y)
    f = sg.function([x, y], [a, b], mode="py")
    assert len(_scan_nodes(f)) == 2  # x and y may differ in length
    assert_allclose(f([1.0, 2.0], [3.0, 4.0])[1], np.sin([3.0, 4.0]))
    n = T.lscalar("n")
    c, _ = sg.scan(lambda v, h: h + v, sequences=x, outputs_info=np.float64(0.0), n_steps=n)
    d, _ = sg.scan(lambda v, w: T.cos(v) + w, sequences=[c, x], n_steps=n)
    e, _ = sg.scan(lambda v: v * 2.0, sequences=x, n_steps=n)
    g = sg.function([x, n], [d, e], mode="py")
    # d reads c: two loops (e, independent of both, joins one of them)
    assert len(_scan_nodes(g)) == 2
    xv = np.array([0.5, -1.0, 2.0])
    got = g(xv, 3)
    assert_allclose(got[0], np.cos(np.cumsum(xv)) + xv)
    assert_allclose(got[1], xv * 2.0)


def _sine_recurrence(W, x, h0, **kw):
    # the backward step needs cos(W h): the product, not only the stored h
    out, _ = sg.scan(lambda x_t, h, W_: h + 0.5 * T.sin(T.dot(W_, h) + x_t), sequences=x,
                     outputs_info=h0, non_sequences=W, **kw)
    return out


@pytest.mark.parametrize("kw", [{}, {"truncate_gradient": 2},
                                {"truncate_gradient": 2, "truncate_style": "classic"},
                                {"go_backwards": True}])
def test_stored_products_give_the_recomputed_gradients(kw, monkeypatch):
    """The products the backward loop reads back are those it would have computed:
    first and second derivatives agree with the recomputing gradient, truncated or
    not (under classic truncation nothing is stored: see symgraph/scan/grad.py)."""
    rng = np.random.default_rng(3)
    vals = [rng.normal(scale=0.6, size=(3, 3)), rng.normal(size=(4, 3)), rng.normal(size=3)]

    def build():
        W, x, h0 = T.dmatrix("W"), T.dmatrix("x"), T.dvector("h0")
        loss = (_sine_recurrence(W, x, h0, **kw) ** 2).sum()
        g = sg.grad(loss, W)
        return [W, x, h0], [g, sg.grad((g ** 2).sum(), W)]

    inputs, outputs = build()
    f = sg.function(inputs, outputs, mode="py")
    # the forward loop stores W h
    stored = max(n.op.n_nit for n in _scan_nodes(f) if n.op.name is None)
    assert stored == (0 if kw.get("truncate_style") == "classic" else 1)
    got = f(*vals)
    monkeypatch.setattr(scan_grad, "STORE_COSTLY", False)
    want = _reference(*build(), vals)
    # as many loops as when it recomputes (the second order's two backward loops over
    # the forward one, for h and for W h, merge)
    assert len(_scan_nodes(f)) == len(_scan_nodes(sg.function(*build(), mode="py")))
    for g, w in zip(got, want):
        assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def test_stored_products_of_a_loop_with_a_stopping_condition(monkeypatch):
    def build():
        W, h0 = T.dmatrix("W"), T.dvector("h0")
        hs, _ = sg.scan(lambda h, W_: (h + T.sin(T.dot(W_, h)) + 0.5, until(h.sum() > 4.0)),
                        outputs_info=h0, non_sequences=W, n_steps=30)
        return [W, h0], [hs.shape[0], sg.grad((hs ** 2).sum(), W)]

    vals = [np.array([[0.3, -0.2], [0.1, 0.4]]), np.array([0.1, 0.2])]
    f = sg.function(*build(), mode="py")
    assert any(n.op.as_while and n.op.n_nit == 1 for n in _scan_nodes(f))  # stores W h
    got = f(*vals)
    assert 1 < got[0] < 30  # the condition stopped the loop
    monkeypatch.setattr(scan_grad, "STORE_COSTLY", False)
    want = _reference(*build(), vals)
    assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- unread recurrences
# carried as loop states

@pytest.mark.parametrize("backend", ["py", "numba"])
def test_the_carried_adjoint_of_bptt_is_a_loop_state(backend):
    """BPTT's backward loop carries the adjoint of h from step to step and nobody
    reads its buffer: it becomes a state (no n_steps rows written), the forward
    loop's h, read backwards, stays a recurrence; the gradients do not change."""
    inputs, outputs, values = _elman()
    f = sg.function(inputs, outputs, mode=backend)
    fwd, bwd = _scan_nodes(f)
    assert (fwd.op.n_rec, bwd.op.n_rec) == (1, 0)
    kept = sg.function(inputs, outputs, mode=Mode(backend, "fast_run", exclude=_NO_STATES))
    assert _scan_nodes(kept)[1].op.n_rec == 1
    want = _reference(inputs, outputs, values)
    got = f(*values)
    for g, k, w in zip(got, kept(*values), want):
        np.testing.assert_array_equal(g, k)
        assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def _two_tap_loop(n_steps=4):
    x0, W = T.dmatrix("x0"), T.dmatrix("W")
    out, _ = sg.scan(lambda a, b, W_: T.tanh(T.dot(W_, a) + b),
                     outputs_info=dict(initial=x0, taps=[-2, -1]), non_sequences=W,
                     n_steps=n_steps)
    rng = np.random.default_rng(7)
    return [x0, W], out, [rng.normal(size=(2, 3)), rng.normal(size=(3, 3))]


@pytest.mark.parametrize("backend", ["py", "numba"])
@pytest.mark.parametrize("rows, states", [((-1,), 2), ((-1, -2), 2), ((-2,), 2),
                                          ((-3,), None), ((slice(None),), None)])
def test_reading_the_last_rows_only_makes_the_recurrence_states(backend, rows, states):
    """With taps -2 and -1 the loop keeps the last two rows as two states, and rows
    -1 and -2 of the output are their final values; a row further back (or the
    whole output) needs the buffer."""
    inputs, out, vals = _two_tap_loop()
    outs = [out[r] for r in rows]
    f = sg.function(inputs, outs, mode=backend)
    (node,) = _scan_nodes(f)
    if states is None:
        assert (node.op.n_rec, node.op.n_states) == (1, 0)
    else:
        assert (node.op.n_rec, node.op.n_states) == (0, states)
    want = _reference(inputs, outs, vals)
    got = f(*vals)
    if backend == "py":  # the same arithmetic, step for step
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
    x = list(vals[0])
    for _ in range(4):
        x.append(np.tanh(vals[1] @ x[-2] + x[-1]))
    for g, r in zip(got, rows):
        assert_allclose(g, np.array(x[2:])[r], rtol=1e-13)


def test_a_last_row_that_may_not_exist_keeps_the_buffer():
    """``scan(...)[0][-1]`` is row -1 of the buffer only when a step ran: with a
    number of steps known only at run time the recurrence stays, and reading it
    after zero steps is an IndexError, as without the rewrite."""
    x, h0 = T.dvector("x"), T.dscalar("h0")
    acc, _ = sg.scan(lambda v, h: h * 0.5 + v, sequences=x, outputs_info=h0)
    g = sg.function([x, h0], acc[-1], mode="py")
    assert _scan_nodes(g)[0].op.n_rec == 1
    assert_allclose(g([1.0, 2.0], 4.0), 3.5)
    with pytest.raises(IndexError):
        g(np.zeros(0), 4.0)


@pytest.mark.parametrize("backend", ["py", "numba"])
def test_a_loop_with_a_stopping_condition_carries_an_unread_recurrence(backend):
    h0 = T.dscalar("h0")

    def step(h, k):
        return [h * 2.0, k + 1.0], until(h > 50.0)

    [h, k], _ = sg.scan(step, outputs_info=[h0, np.float64(0.0)], n_steps=20)
    f = sg.function([h0], k, mode=backend)
    (node,) = _scan_nodes(f)
    # h feeds the condition only: a state; k is read whole
    assert (node.op.n_rec, node.op.n_states, node.op.as_while) == (1, 1, True)
    assert_allclose(f(1.0), np.arange(1.0, 8.0))
    assert_allclose(f(100.0), np.array([1.0]))
