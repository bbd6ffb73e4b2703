"""Gradients of whole models: an MLP's Hessian, a training step, and graph size."""

import numpy as np

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import grad, hessian

D_IN, HID, K = 3, 4, 3
SIZES = [(D_IN, HID), (HID,), (HID, K), (K,)]
N_PARAMS = sum(int(np.prod(s)) for s in SIZES)


def _unflatten(w):
    """Slice a flat parameter vector into the MLP's weight matrices, inside the graph."""
    out, start = [], 0
    for shape in SIZES:
        n = int(np.prod(shape))
        out.append(w[start:start + n].reshape(shape))
        start += n
    return out


def _mlp_cost(w, x, y):
    W1, b1, W2, b2 = _unflatten(w)
    h = T.tanh(T.dot(x, W1) + b1)
    p = T.nnet.softmax(T.dot(h, W2) + b2)
    return T.nnet.categorical_crossentropy(p, y).mean() + 1e-3 * (w ** 2).sum()


def test_hessian_of_mlp_wrt_flat_parameters_matches_finite_differences():
    rng = np.random.default_rng(0)
    w = T.dvector("w", shape=(N_PARAMS,))
    x = T.dmatrix("x")
    y = T.lvector("y")
    cost = _mlp_cost(w, x, y)
    H = hessian(cost, w)
    assert H.type.shape == (N_PARAMS, N_PARAMS)
    g = grad(cost, w)
    f = sg.function([w, x, y], [H, g])
    w0 = rng.normal(scale=0.5, size=N_PARAMS)
    x0 = rng.normal(size=(5, D_IN))
    y0 = rng.integers(0, K, size=5)
    Hv, _ = f(w0, x0, y0)
    gfun = sg.function([w, x, y], g)
    eps = 1e-5
    Hn = np.empty((N_PARAMS, N_PARAMS))
    for i in range(N_PARAMS):
        e = np.zeros(N_PARAMS)
        e[i] = eps
        Hn[:, i] = (gfun(w0 + e, x0, y0) - gfun(w0 - e, x0, y0)) / (2 * eps)
    np.testing.assert_allclose(Hv, Hn, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(Hv, Hv.T, atol=1e-12)


def test_two_layer_mlp_training_step_runs_and_learns(mode):
    rng = np.random.default_rng(1)
    x = T.dmatrix("x")
    y = T.lvector("y")
    W1 = sg.shared(rng.normal(scale=0.5, size=(D_IN, 8)), name="W1")
    b1 = sg.shared(np.zeros(8), name="b1")
    W2 = sg.shared(rng.normal(scale=0.5, size=(8, K)), name="W2")
    b2 = sg.shared(np.zeros(K), name="b2")
    params = [W1, b1, W2, b2]
    h = T.tanh(T.dot(x, W1) + b1)
    p = T.nnet.softmax(T.dot(h, W2) + b2)
    loss = T.nnet.categorical_crossentropy(p, y).mean()
    grads = T.grad(loss, params)
    step = sg.function([x, y], loss, updates=[(q, q - 0.5 * gq) for q, gq in zip(params, grads)],
                       mode=mode)
    xv = rng.normal(size=(60, D_IN))
    yv = (xv[:, 0] > 0).astype("int64") + (xv[:, 1] > 0)
    losses = [float(step(xv, yv)) for _ in range(60)]
    assert losses[-1] < 0.6 * losses[0]


def test_gradient_of_sum_tanh_dot_is_a_handful_of_nodes():
    from symgraph.compile.mode import Mode

    x = T.dmatrix("x")
    W = T.dmatrix("W")
    gW = grad(T.tanh(T.dot(x, W)).sum(), W)
    raw = sg.function([x, W], gW, mode=Mode("py", optimizer=None))
    ops = sorted(str(n.op) for n in raw.maker.fgraph.apply_nodes)
    # as grad() builds it: forward Dot, tanh (2); backward (9): the sum's gradient
    # (DimShuffle of the constant 1, Alloc to tanh's shape, two Shape_i), 1 - tanh^2
    # (sqr, sub), mul, x.T and the Dot giving gW
    assert len(ops) <= 11, ops
    assert ops.count("tanh") == 1
    # rewritten: the shapes come from x and W, and the elementwise work is one loop
    f = sg.function([x, W], gW)
    rewritten = [str(n.op) for n in f.maker.fgraph.apply_nodes]
    assert len(rewritten) <= 7, rewritten
    assert sum(op.count("tanh") for op in rewritten) == 1
    xv, Wv = np.arange(6.0).reshape(2, 3) / 7, np.arange(12.0).reshape(3, 4) / 11
    for fn in (raw, f):
        np.testing.assert_allclose(fn(xv, Wv), xv.T @ (1 - np.tanh(xv @ Wv) ** 2))
