"""Apply-node counts of the rewritten 2-layer MLP train step (softmax cross-entropy,
RMSprop updates): symgraph against PyTensor when it is installed.

    python benchmarks/node_counts.py
"""

from __future__ import annotations

import numpy as np

RHO, LR, EPS = 0.9, 0.01, 1e-6


def _shapes():
    rng = np.random.default_rng(0)
    return [rng.normal(size=(5, 8)), np.zeros(8), rng.normal(size=(8, 3)), np.zeros(3)]


def symgraph_counts():
    import symgraph as sg
    import symgraph.tensor as T
    from symgraph.compile.mode import Mode

    x, y = T.dmatrix("x"), T.lvector("y")
    params = [sg.shared(v) for v in _shapes()]
    accs = [sg.shared(np.zeros_like(v)) for v in _shapes()]
    W1, b1, W2, b2 = params
    h = T.tanh(T.dot(x, W1) + b1)
    p = T.nnet.softmax(T.dot(h, W2) + b2)
    loss = T.nnet.categorical_crossentropy(p, y).mean()
    ups = []
    for q, a, g in zip(params, accs, T.grad(loss, params)):
        an = RHO * a + (1 - RHO) * g ** 2
        ups += [(a, an), (q, q - LR * g / T.sqrt(an + EPS))]
    raw = sg.function([x, y], loss, updates=ups, mode=Mode("py", optimizer=None))
    opt = sg.function([x, y], loss, updates=ups, mode="py")
    return len(raw.maker.fgraph.apply_nodes), len(opt.maker.fgraph.apply_nodes)


def pytensor_counts():
    import pytensor
    import pytensor.tensor as pt

    x, y = pt.dmatrix("x"), pt.lvector("y")
    params = [pytensor.shared(v) for v in _shapes()]
    accs = [pytensor.shared(np.zeros_like(v)) for v in _shapes()]
    W1, b1, W2, b2 = params
    h = pt.tanh(pt.dot(x, W1) + b1)
    p = pt.special.softmax(pt.dot(h, W2) + b2, axis=-1)
    loss = -pt.mean(pt.log(p[pt.arange(y.shape[0]), y]))
    ups = []
    for q, a, g in zip(params, accs, pytensor.grad(loss, params)):
        an = RHO * a + (1 - RHO) * g ** 2
        ups += [(a, an), (q, q - LR * g / pt.sqrt(an + EPS))]
    return {m: len(pytensor.function([x, y], loss, updates=ups, mode=m).maker.fgraph.apply_nodes)
            for m in ("FAST_RUN", "NUMBA")}


if __name__ == "__main__":
    raw, opt = symgraph_counts()
    print(f"symgraph: {raw} Apply nodes before rewriting, {opt} after")
    try:
        counts = pytensor_counts()
    except ImportError:
        print("PyTensor is not installed: no comparison")
    else:
        for m, n in counts.items():
            print(f"PyTensor ({m}): {n} Apply nodes after rewriting")
