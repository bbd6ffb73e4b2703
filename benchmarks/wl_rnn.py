"""B1: one training step of an Elman RNN (scan over time, BPTT, SGD updates).

h_t = tanh(x_t W_x + h_{t-1} W_h + b_h), p_t = softmax(h_t W_y + b_y); the loss is
the cross-entropy of the targets summed over time and averaged over the batch.
Sizes: "tiny" 7-10-7, T=20, batch 1; "medium" 64-256-64, T=100, batch 32.
"""

from __future__ import annotations

import numpy as np

LR = 0.1
SIZES = {"tiny": (7, 10, 7, 20, 1), "medium": (64, 256, 64, 100, 32)}
NAMES = ("W_x", "W_h", "b_h", "W_y", "b_y")


def data(size, seed=0):
    n_in, n_hid, n_out, steps, batch = SIZES[size]
    rng = np.random.default_rng(seed)
    return dict(
        W_x=rng.normal(scale=0.3, size=(n_in, n_hid)),
        W_h=rng.normal(scale=0.3, size=(n_hid, n_hid)),
        b_h=np.zeros(n_hid),
        W_y=rng.normal(scale=0.3, size=(n_hid, n_out)),
        b_y=np.zeros(n_out),
        x=rng.normal(size=(steps, batch, n_in)),
        y=rng.integers(0, n_out, size=(steps, batch)),
        h0=np.zeros((batch, n_hid)),
    )


def numpy_step(size):
    d = data(size)
    params = [d[k] for k in NAMES]
    x, y, h0 = d["x"], d["y"], d["h0"]
    steps, batch = y.shape
    rows = np.arange(batch)

    def step():
        W_x, W_h, b_h, W_y, b_y = params
        hs, ps = [h0], []
        loss = 0.0
        for t in range(steps):
            h = np.tanh(x[t] @ W_x + hs[-1] @ W_h + b_h)
            z = h @ W_y + b_y
            z = z - z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            loss -= np.log(p[rows, y[t]]).sum() / batch
            hs.append(h)
            ps.append(p)
        grads = [np.zeros_like(p) for p in params]
        dh_next = np.zeros_like(h0)
        for t in range(steps - 1, -1, -1):
            dz = ps[t].copy()
            dz[rows, y[t]] -= 1.0
            dz /= batch
            h, h_prev = hs[t + 1], hs[t]
            grads[3] += h.T @ dz
            grads[4] += dz.sum(axis=0)
            da = (dz @ W_y.T + dh_next) * (1.0 - h * h)
            grads[0] += x[t].T @ da
            grads[1] += h_prev.T @ da
            grads[2] += da.sum(axis=0)
            dh_next = da @ W_h.T
        for k, g in enumerate(grads):
            params[k] = params[k] - LR * g
        return loss
    return step


def symgraph_step(size, mode):
    import symgraph as sg
    import symgraph.tensor as T

    d = data(size)
    params = [sg.shared(d[k], name=k) for k in NAMES]
    x, y = T.tensor3("x"), T.lmatrix("y")
    h0 = T.matrix("h0")

    def step(x_t, y_t, h_prev, W_x, W_h, b_h, W_y, b_y):
        h = T.tanh(T.dot(x_t, W_x) + T.dot(h_prev, W_h) + b_h)
        p = T.nnet.softmax(T.dot(h, W_y) + b_y)
        return h, T.nnet.categorical_crossentropy(p, y_t)

    (_, nll), _ = sg.scan(step, sequences=[x, y], outputs_info=[h0, None],
                          non_sequences=params)
    loss = nll.sum() / x.shape[1]
    grads = sg.grad(loss, params)
    f = sg.function([x, y, h0], loss, mode=mode,
                    updates=[(p, p - LR * g) for p, g in zip(params, grads)])
    run = lambda: f(d["x"], d["y"], d["h0"])  # noqa: E731
    run.function = f
    return run


def pytensor_step(size, mode):
    import pytensor
    import pytensor.tensor as pt

    d = data(size)
    params = [pytensor.shared(d[k], name=k) for k in NAMES]
    x, y = pt.tensor3("x"), pt.lmatrix("y")
    h0 = pt.matrix("h0")

    def step(x_t, y_t, h_prev, W_x, W_h, b_h, W_y, b_y):
        h = pt.tanh(pt.dot(x_t, W_x) + pt.dot(h_prev, W_h) + b_h)
        logp = pt.special.log_softmax(pt.dot(h, W_y) + b_y, axis=-1)
        return h, -logp[pt.arange(y_t.shape[0]), y_t]

    (_, nll), _ = pytensor.scan(step, sequences=[x, y], outputs_info=[h0, None],
                                non_sequences=params)
    loss = nll.sum() / x.shape[1]
    grads = pytensor.grad(loss, params)
    f = pytensor.function([x, y, h0], loss, mode=mode,
                          updates=[(p, p - LR * g) for p, g in zip(params, grads)])
    return lambda: f(d["x"], d["y"], d["h0"])


def jax_step(size):
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    d = data(size)

    def loss_fn(ps, x, y, h0):
        W_x, W_h, b_h, W_y, b_y = ps

        def body(h, xy):
            x_t, y_t = xy
            h = jnp.tanh(x_t @ W_x + h @ W_h + b_h)
            logp = jax.nn.log_softmax(h @ W_y + b_y)
            return h, -logp[jnp.arange(y_t.shape[0]), y_t]

        _, nll = jax.lax.scan(body, h0, (x, y))
        return nll.sum() / x.shape[1]

    @jax.jit
    def train(ps, x, y, h0):
        loss, gs = jax.value_and_grad(loss_fn)(ps, x, y, h0)
        return loss, [p - LR * g for p, g in zip(ps, gs)]

    holder = [[jnp.asarray(d[k]) for k in NAMES]]
    x, y, h0 = jnp.asarray(d["x"]), jnp.asarray(d["y"]), jnp.asarray(d["h0"])

    def run():
        loss, holder[0] = train(holder[0], x, y, h0)
        return loss.block_until_ready()
    return run
