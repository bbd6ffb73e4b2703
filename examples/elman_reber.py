"""An Elman RNN learns the Reber grammar: scan, BPTT and sampling with `until`.

Part 1. Strings of the Reber grammar (a small finite automaton over the symbols
B T P S X V E) are generated with a seeded generator. An Elman network

    h_t = tanh(x_t W_x + h_{t-1} W_h + b_h),   y_t = softmax(h_t W_y + b_y)

reads a string one symbol at a time (one-hot) and predicts the next symbol. The
recurrence is a `scan` over time (`outputs_info=[h0, None]`: h is fed back, y is
not), the cost is the cross-entropy of the next symbol, and `grad` differentiates
through the scan (backpropagation through time). SGD updates go to `function()`.
The learning curve is printed per epoch.

Then the trained net writes 100 strings of its own: a second scan starts from B,
draws each next symbol from the net's prediction with a multinomial draw *inside*
the scan, and stops with `until` when it draws E. The random generator's state
update comes back through scan's updates. The share of sampled strings that the
grammar accepts is printed (well above 80% once trained).

Part 2. The embedded Reber grammar wraps a Reber string as B T <reber> T E or
B P <reber> P E: to predict the second-to-last symbol the net must remember the
second one across the whole inner string. Backpropagation through the tanh
recurrence loses that signal (the vanishing gradient), so an Elman net trained
the same way stays near chance (50%) on that one symbol while it predicts the
rest of the string well.

Run:  python examples/elman_reber.py   (add --mode py for the interpreter)
"""

from __future__ import annotations

import argparse

import numpy as np

import symgraph as sg
import symgraph.tensor as T
from symgraph.tensor.random import RandomStream

SYMBOLS = "BTPSXVE"
INDEX = {s: i for i, s in enumerate(SYMBOLS)}
N_SYM = len(SYMBOLS)

# The Reber automaton: state -> [(symbol, next state), ...]; state 5 emits E.
_REBER = {
    0: [("T", 1), ("P", 2)],
    1: [("S", 1), ("X", 3)],
    2: [("T", 2), ("V", 4)],
    3: [("X", 2), ("S", 5)],
    4: [("P", 3), ("V", 5)],
}


# ------------------------------------------------------------------ the grammar

def reber_string(rng) -> str:
    """One string of the Reber grammar, each branch taken with probability 1/2."""
    out, state = ["B"], 0
    while state != 5:
        sym, state = _REBER[state][rng.integers(2)]
        out.append(sym)
    out.append("E")
    return "".join(out)


def embedded_reber_string(rng) -> str:
    """B, then T or P, a Reber string, the same T or P again, E."""
    wrap = "TP"[rng.integers(2)]
    return "B" + wrap + reber_string(rng) + wrap + "E"


def in_reber(s: str) -> bool:
    """Whether the Reber automaton accepts ``s``."""
    if len(s) < 2 or s[0] != "B" or s[-1] != "E":
        return False
    state = 0
    for sym in s[1:-1]:
        nxt = dict(_REBER.get(state, []))
        if sym not in nxt:
            return False
        state = nxt[sym]
    return state == 5


def encode_batch(strings):
    """Inputs (time, batch, N_SYM) one-hot of every symbol but the last, targets
    (time, batch) the index of the next symbol, and a (time, batch) mask of real
    steps (strings are padded to the longest)."""
    steps = max(len(s) for s in strings) - 1
    x = np.zeros((steps, len(strings), N_SYM))
    t = np.zeros((steps, len(strings)), dtype="int64")
    m = np.zeros((steps, len(strings)))
    for b, s in enumerate(strings):
        for k in range(len(s) - 1):
            x[k, b, INDEX[s[k]]] = 1.0
            t[k, b] = INDEX[s[k + 1]]
            m[k, b] = 1.0
    return x, t, m


# ------------------------------------------------------------------ the network

class Elman:
    """Parameters in shared variables; `train` (one SGD step on a padded batch),
    `probs` (next-symbol probabilities) and `sample` (strings drawn from the net)."""

    def __init__(self, n_hidden=10, lr=0.5, seed=0, mode=None):
        rng = np.random.default_rng(seed)
        scale = 1.0 / np.sqrt(N_SYM)
        self.W_x = sg.shared(rng.uniform(-scale, scale, (N_SYM, n_hidden)), name="W_x")
        self.W_h = sg.shared(rng.uniform(-0.5, 0.5, (n_hidden, n_hidden)), name="W_h")
        self.b_h = sg.shared(np.zeros(n_hidden), name="b_h")
        self.W_y = sg.shared(rng.uniform(-0.5, 0.5, (n_hidden, N_SYM)), name="W_y")
        self.b_y = sg.shared(np.zeros(N_SYM), name="b_y")
        self.params = [self.W_x, self.W_h, self.b_h, self.W_y, self.b_y]
        self.n_hidden = n_hidden

        x = T.tensor3("x")            # (time, batch, symbol)
        target = T.lmatrix("target")  # (time, batch)
        mask = T.matrix("mask")       # (time, batch)
        h0 = T.zeros((x.shape[1], n_hidden))

        def step(x_t, h_prev, W_x, W_h, b_h, W_y, b_y):
            h_t = T.tanh(T.dot(x_t, W_x) + T.dot(h_prev, W_h) + b_h)
            y_t = T.nnet.softmax(T.dot(h_t, W_y) + b_y)
            return h_t, y_t

        (_, y), _ = sg.scan(step, sequences=x, outputs_info=[h0, None],
                            non_sequences=self.params)
        # cross-entropy of the next symbol at every real step
        flat_y = y.reshape((-1, N_SYM))
        nll = T.nnet.categorical_crossentropy(flat_y, target.flatten())
        cost = T.sum(nll * mask.flatten()) / T.sum(mask)
        grads = sg.grad(cost, self.params)
        self.train = sg.function(
            [x, target, mask], cost, mode=mode,
            updates=[(p, p - lr * g) for p, g in zip(self.params, grads)])
        self.probs = sg.function([x], y, mode=mode)
        self.sample = self._build_sampler(seed, mode)

    def _build_sampler(self, seed, mode, max_len=40):
        """A scan that feeds each drawn symbol back in and stops at E."""
        stream = RandomStream(seed)
        start = T.constant(np.eye(N_SYM)[INDEX["B"]])
        h0 = T.zeros((self.n_hidden,))

        def step(x_prev, h_prev, W_x, W_h, b_h, W_y, b_y):
            h_t = T.tanh(T.dot(x_prev, W_x) + T.dot(h_prev, W_h) + b_h)
            p = T.nnet.softmax(T.dot(h_t, W_y) + b_y)       # (N_SYM,)
            counts = stream.multinomial(n=1, pvals=p)        # one draw: one-hot counts
            sym = T.argmax(counts)
            x_t = T.cast(counts, "float64")
            return [x_t, h_t, sym], sg.until(T.eq(sym, INDEX["E"]))

        (_, _, syms), updates = sg.scan(
            step, outputs_info=[start, h0, None], non_sequences=self.params,
            n_steps=max_len)
        return sg.function([], syms, updates=updates, mode=mode)

    def sample_strings(self, n):
        return ["B" + "".join(SYMBOLS[k] for k in self.sample()) for _ in range(n)]


# ------------------------------------------------------------------ experiments

def train(net, strings, epochs, batch_size, rng, log=print, label="epoch"):
    """SGD over shuffled minibatches; returns the mean training cost per epoch."""
    curve = []
    for epoch in range(epochs):
        order = rng.permutation(len(strings))
        costs = []
        for k in range(0, len(strings), batch_size):
            x, t, m = encode_batch([strings[i] for i in order[k:k + batch_size]])
            costs.append(float(net.train(x, t, m)))
        curve.append(float(np.mean(costs)))
        log(f"{label} {epoch + 1:3d}  cost {curve[-1]:.4f}")
    return curve


def penultimate_accuracy(net, strings):
    """How often the net's most likely second-to-last symbol is the right one (the T
    or P that must match the second symbol of an embedded Reber string)."""
    x, t, m = encode_batch(strings)
    y = net.probs(x)
    hits = 0
    for b, s in enumerate(strings):
        k = len(s) - 3  # the step whose target is the second-to-last symbol
        hits += int(np.argmax(y[k, b]) == t[k, b])
    return hits / len(strings)


def main(n_train=400, epochs=30, batch_size=20, n_samples=100, embedded_epochs=30,
         mode=None, seed=1, log=print):
    rng = np.random.default_rng(seed)
    strings = [reber_string(rng) for _ in range(n_train)]
    log(f"Part 1: Elman net (7-10-7) on {n_train} Reber strings, e.g. {strings[:3]}")
    net = Elman(n_hidden=10, lr=0.5, seed=seed, mode=mode)
    curve = train(net, strings, epochs, batch_size, rng, log=log)
    samples = net.sample_strings(n_samples)
    share = float(np.mean([in_reber(s) for s in samples]))
    log(f"sampled {n_samples} strings, e.g. {samples[:5]}")
    log(f"share of sampled strings in the grammar: {share:.0%}")

    log("Part 2: the embedded Reber grammar (the second symbol must be remembered)")
    emb = [embedded_reber_string(rng) for _ in range(n_train)]
    net2 = Elman(n_hidden=10, lr=0.5, seed=seed, mode=mode)
    curve2 = train(net2, emb, embedded_epochs, batch_size, rng, log=log, label="epoch")
    test = [embedded_reber_string(rng) for _ in range(200)]
    acc = penultimate_accuracy(net2, test)
    log(f"second-to-last symbol predicted correctly: {acc:.0%} (chance: 50%); "
        "the error signal fades through the tanh recurrence before it reaches the "
        "step that saw the second symbol")
    return dict(curve=curve, share=share, samples=samples, embedded_curve=curve2,
                penultimate_accuracy=acc)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default=None, help="numba (the default) or py (the interpreter)")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    main(epochs=args.epochs, embedded_epochs=args.epochs, mode=args.mode)
