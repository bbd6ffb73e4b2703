"""The benchmark workloads, one builder per (workload, engine).

Run as a child of run.py:  python workloads.py <workload> <engine> <repeats>
It prints one JSON line: {"first": seconds from process start (imports included)
to the first result, "native": seconds until calls run at full speed (later than
"first" only where a tiered backend answered first on its interpreter), "call":
median seconds per call afterwards}.
"""

from __future__ import annotations

import time

T_START = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402


# ----------------------------------------------------------------------------- data

def with_function(run, f):
    """``run`` with the compiled symgraph Function it calls, for main() to find."""
    run.function = f
    return run


def _mlp_data(seed=0, n_in=784, n_hid=500, n_out=10, batch=128):
    rng = np.random.default_rng(seed)
    return dict(
        W1=rng.normal(scale=0.05, size=(n_in, n_hid)), b1=np.zeros(n_hid),
        W2=rng.normal(scale=0.05, size=(n_hid, n_out)), b2=np.zeros(n_out),
        x=rng.normal(size=(batch, n_in)), y=rng.integers(0, n_out, size=batch),
    )


RHO, LR, EPS = 0.9, 0.01, 1e-6
N_CHAIN = 10_000_000


# ----------------------------------------------------------------------------- B2: MLP + RMSprop

def b2_numpy():
    d = _mlp_data()
    params = [d["W1"], d["b1"], d["W2"], d["b2"]]
    accs = [np.zeros_like(p) for p in params]
    x, y = d["x"], d["y"]

    def step():
        W1, b1, W2, b2 = params
        h = np.tanh(x @ W1 + b1)
        z = h @ W2 + b2
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(len(y)), y]).mean()
        dz = p
        dz[np.arange(len(y)), y] -= 1
        dz /= len(y)
        gW2 = h.T @ dz
        gb2 = dz.sum(0)
        dh = (dz @ W2.T) * (1 - h * h)
        gW1 = x.T @ dh
        gb1 = dh.sum(0)
        for k, g in enumerate((gW1, gb1, gW2, gb2)):
            accs[k] = RHO * accs[k] + (1 - RHO) * g * g
            params[k] = params[k] - LR * g / np.sqrt(accs[k] + EPS)
        return loss
    return step


def b2_symgraph(mode):
    import symgraph as sg
    import symgraph.tensor as T

    d = _mlp_data()
    params = [sg.shared(d[k], name=k) for k in ("W1", "b1", "W2", "b2")]
    accs = [sg.shared(np.zeros_like(d[k])) for k in ("W1", "b1", "W2", "b2")]
    x, y = T.dmatrix("x"), T.lvector("y")
    W1, b1, W2, b2 = params
    h = T.tanh(T.dot(x, W1) + b1)
    p = T.nnet.softmax(T.dot(h, W2) + b2)
    loss = T.nnet.categorical_crossentropy(p, y).mean()
    grads = T.grad(loss, params)
    updates = []
    for prm, acc, g in zip(params, accs, grads):
        a_new = RHO * acc + (1 - RHO) * g ** 2
        updates += [(acc, a_new), (prm, prm - LR * g / T.sqrt(a_new + EPS))]
    f = sg.function([x, y], loss, updates=updates, mode=mode)
    return with_function(lambda: f(d["x"], d["y"]), f)


def b2_pytensor(mode):
    import pytensor
    import pytensor.tensor as pt

    d = _mlp_data()
    params = [pytensor.shared(d[k], name=k) for k in ("W1", "b1", "W2", "b2")]
    accs = [pytensor.shared(np.zeros_like(d[k])) for k in ("W1", "b1", "W2", "b2")]
    x, y = pt.dmatrix("x"), pt.lvector("y")
    W1, b1, W2, b2 = params
    h = pt.tanh(pt.dot(x, W1) + b1)
    p = pt.special.softmax(pt.dot(h, W2) + b2, axis=-1)
    loss = -pt.mean(pt.log(p[pt.arange(y.shape[0]), y]))
    grads = pytensor.grad(loss, params)
    updates = []
    for prm, acc, g in zip(params, accs, grads):
        a_new = RHO * acc + (1 - RHO) * g ** 2
        updates += [(acc, a_new), (prm, prm - LR * g / pt.sqrt(a_new + EPS))]
    f = pytensor.function([x, y], loss, updates=updates, mode=mode)
    return lambda: f(d["x"], d["y"])


def b2_jax():
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    d = _mlp_data()
    state = [jnp.asarray(d[k]) for k in ("W1", "b1", "W2", "b2")]
    state += [jnp.zeros_like(s) for s in state]

    def loss_fn(ps, x, y):
        W1, b1, W2, b2 = ps
        h = jnp.tanh(x @ W1 + b1)
        logp = jax.nn.log_softmax(h @ W2 + b2)
        return -jnp.mean(logp[jnp.arange(y.shape[0]), y])

    @jax.jit
    def step(state, x, y):
        ps, accs = state[:4], state[4:]
        loss, gs = jax.value_and_grad(loss_fn)(ps, x, y)
        new_accs = [RHO * a + (1 - RHO) * g * g for a, g in zip(accs, gs)]
        new_ps = [p - LR * g / jnp.sqrt(a + EPS) for p, g, a in zip(ps, gs, new_accs)]
        return loss, new_ps + new_accs

    x, y = jnp.asarray(d["x"]), jnp.asarray(d["y"])
    holder = [state]

    def run():
        loss, holder[0] = step(holder[0], x, y)
        return loss.block_until_ready()
    return run


# ----------------------------------------------------------------------------- B3: elementwise chain

def _chain_numpy(x):
    return np.exp(-x * x) * np.sin(3.0 * x) + np.log1p(x * x) * 0.5 - np.tanh(x) / 2.0 + \
        np.sqrt(np.abs(x) + 1.0)


def b3_numpy():
    x = np.linspace(-3, 3, N_CHAIN)
    return lambda: _chain_numpy(x)


def b3_symgraph(mode):
    import symgraph as sg
    import symgraph.tensor as T
    xv = np.linspace(-3, 3, N_CHAIN)
    x = T.dvector("x")
    y = T.exp(-x * x) * T.sin(3.0 * x) + T.log1p(x * x) * 0.5 - T.tanh(x) / 2.0 + \
        T.sqrt(T.abs(x) + 1.0)
    f = sg.function([x], y, mode=mode)
    return with_function(lambda: f(xv), f)


def b3_pytensor(mode):
    import pytensor
    import pytensor.tensor as pt
    xv = np.linspace(-3, 3, N_CHAIN)
    x = pt.dvector("x")
    y = pt.exp(-x * x) * pt.sin(3.0 * x) + pt.log1p(x * x) * 0.5 - pt.tanh(x) / 2.0 + \
        pt.sqrt(pt.abs(x) + 1.0)
    f = pytensor.function([x], y, mode=mode)
    return lambda: f(xv)


def b3_jax():
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    x = jnp.asarray(np.linspace(-3, 3, N_CHAIN))
    f = jax.jit(lambda x: jnp.exp(-x * x) * jnp.sin(3.0 * x) + jnp.log1p(x * x) * 0.5
                - jnp.tanh(x) / 2.0 + jnp.sqrt(jnp.abs(x) + 1.0))
    return lambda: f(x).block_until_ready()


# ----------------------------------------------------------------------------- B6: call overhead

def b6_numpy():
    return lambda: 1.5 * 2.5 + 1.5


def b6_symgraph(mode):
    import symgraph as sg
    import symgraph.tensor as T
    a, b = T.dscalars("a", "b")
    f = sg.function([a, b], a * b + a, mode=mode)
    return with_function(lambda: f(1.5, 2.5), f)


def b6_pytensor(mode):
    import pytensor
    import pytensor.tensor as pt
    a, b = pt.dscalars("a", "b")
    f = pytensor.function([a, b], a * b + a, mode=mode)
    return lambda: f(1.5, 2.5)


def b6_jax():
    import jax
    jax.config.update("jax_enable_x64", True)
    f = jax.jit(lambda a, b: a * b + a)
    return lambda: f(1.5, 2.5).block_until_ready()


# ----------------------------------------------------------------------------- B0: numba's floor

def b0_numba():
    """numba alone: import it and call one small cached function. No numba-based
    engine can start warm faster than this."""
    import numba

    @numba.njit(cache=True)
    def f(x):
        return np.tanh(x).sum()

    x = np.ones(3)
    return lambda: f(x)


# ----------------------------------------------------------------------------- registry

def _untiered(sg_fn):
    """symgraph's numba mode with ``numba_tiered=False``: the first call compiles (or
    loads from the disk cache) before it answers. The default, tiered, answers a
    graph's first calls on the exact interpreter tier (backends/numba/exact.py)
    while a worker process compiles."""
    import symgraph as sg
    sg.config.numba_tiered = False
    return sg_fn("numba")


def _engines(numpy_fn, sg_fn, pt_fn, jax_fn):
    return {
        "numpy": numpy_fn,
        "symgraph-py": lambda: sg_fn("py"),
        "symgraph-numba": lambda: sg_fn("numba"),
        "symgraph-untiered": lambda: _untiered(sg_fn),
        "pytensor-numba": lambda: pt_fn("NUMBA"),
        "pytensor-c": lambda: pt_fn("FAST_RUN"),
        "jax": jax_fn,
    }


def _rnn(size):
    import wl_rnn as r
    return _engines(lambda: r.numpy_step(size), lambda m: r.symgraph_step(size, m),
                    lambda m: r.pytensor_step(size, m), lambda: r.jax_step(size))


def _linalg(name):
    import wl_linalg as la
    return _engines(getattr(la, f"{name}_numpy"), getattr(la, f"{name}_symgraph"),
                    getattr(la, f"{name}_pytensor"), getattr(la, f"{name}_jax"))


WORKLOADS = {
    "B0": {"doc": "numba alone: import, one small cached function (the warm-start floor)",
           "engines": {"numba-alone": b0_numba}},
    "B1": {"doc": "Elman RNN 7-10-7, T=20: scan, BPTT, SGD step", "engines": _rnn("tiny")},
    "B1m": {"doc": "Elman RNN 64-256-64, T=100, batch 32: scan, BPTT, SGD step",
            "engines": _rnn("medium")},
    "B2": {"doc": "MLP 784-500-10, RMSprop step, batch 128",
           "engines": _engines(b2_numpy, b2_symgraph, b2_pytensor, b2_jax)},
    "B3": {"doc": "elementwise chain over 1e7 float64",
           "engines": _engines(b3_numpy, b3_symgraph, b3_pytensor, b3_jax)},
    "B4": {"doc": "unitary step U expm(-lr skew(U^H G)), complex 64x64",
           "engines": _linalg("b4")},
    "B5": {"doc": "Newton step, 4-8-1 MLP (49 weights): hessian + solve",
           "engines": _linalg("b5")},
    "B6": {"doc": "call overhead, a*b + a of two scalars",
           "engines": _engines(b6_numpy, b6_symgraph, b6_pytensor, b6_jax)},
}


def main():
    name, engine, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    run = WORKLOADS[name]["engines"][engine]()
    run()
    first = time.perf_counter() - T_START
    # symgraph's tiered numba mode answers on the interpreter while it compiles: wait
    # for the native code before timing calls, and report when it was ready
    fn = getattr(run, "function", run)
    wait = getattr(getattr(fn, "_thunk", None), "wait", None)
    if wait is not None:
        wait()
        run()
    native = time.perf_counter() - T_START
    # the median over repeated calls; tiny workloads are timed in batches
    per_batch = 1
    t0 = time.perf_counter()
    run()
    one = time.perf_counter() - t0
    if one < 1e-4:
        per_batch = max(1, int(1e-3 / max(one, 1e-7)))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(per_batch):
            run()
        times.append((time.perf_counter() - t0) / per_batch)
    print(json.dumps({"first": first, "native": native, "call": float(np.median(times))}))


if __name__ == "__main__":
    main()
