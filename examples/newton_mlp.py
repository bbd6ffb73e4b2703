"""A small MLP fitted by Newton's method with Levenberg–Marquardt damping.

All parameters of a 1-8-1 tanh network live in one flat vector w; the layers are
slices of it, reshaped inside the graph. symgraph gives the gradient g and the
full Hessian H of the loss (w has a static length, which hessian() needs), and
each step solves (H + lam I) d = g with assume_a="pos": a Cholesky solve, which
fails when H + lam I is not positive definite. The damping lam shrinks after a
step that lowers the loss and grows after one that does not (or a failed solve),
so the method moves between gradient descent (large lam) and Newton (small lam).

Plain gradient descent on the same loss for the same number of steps is shown
for comparison: Newton's steps reach a loss orders of magnitude lower.

Run:  python examples/newton_mlp.py
"""

from __future__ import annotations

import numpy as np

import symgraph as sg
import symgraph.tensor as T

HIDDEN = 8
N_PARAMS = 3 * HIDDEN + 1          # W1 (1, 8), b1 (8,), W2 (8, 1), b2 ()


def make_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-2, 2, n))
    y = np.sin(2 * x) + 0.3 * x
    return x[:, None], y


def unpack(w):
    """The layers as views of the flat parameter vector."""
    h = HIDDEN
    W1 = T.reshape(w[0:h], (1, h))
    b1 = w[h:2 * h]
    W2 = T.reshape(w[2 * h:3 * h], (h, 1))
    b2 = w[3 * h]
    return W1, b1, W2, b2


def loss_of(w, x, y):
    W1, b1, W2, b2 = unpack(w)
    hidden = T.tanh(T.dot(x, W1) + b1)
    out = T.dot(hidden, W2)[:, 0] + b2
    return T.mean((out - y) ** 2)


def build(xv, yv):
    """Compiled functions: loss, (loss, Newton step) for a damping lam, and a
    gradient-descent update."""
    x, y = sg.shared(xv, name="x"), sg.shared(yv, name="y")
    w = T.tensor("float64", shape=(N_PARAMS,), name="w")   # hessian() needs the length
    lam = T.dscalar("lam")
    loss = loss_of(w, x, y)
    g = sg.grad(loss, w)
    H = sg.hessian(loss, w)
    step = T.solve(H + lam * T.eye(N_PARAMS), g, assume_a="pos")
    f_loss = sg.function([w], loss, name="loss")
    f_step = sg.function([w, lam], [loss, step], name="newton_step")

    w_gd = sg.shared(np.zeros(N_PARAMS), name="w_gd")
    lr = T.dscalar("lr")
    loss_gd = loss_of(w_gd, x, y)
    gd_step = sg.function([lr], loss_gd, updates=[(w_gd, w_gd - lr * sg.grad(loss_gd, w_gd))],
                          name="gd_step")
    return f_loss, f_step, gd_step, w_gd


def newton(f_loss, f_step, w, steps, lam=1e-2, verbose=True):
    """Levenberg–Marquardt iterations from w; returns (w, losses after each step)."""
    losses = []
    for it in range(1, steps + 1):
        try:
            loss, step = f_step(w, lam)
        except np.linalg.LinAlgError:          # H + lam I not positive definite
            lam *= 10
            losses.append(losses[-1] if losses else float(f_loss(w)))
            if verbose:
                print(f"newton {it:3d}  H + lam I is not positive definite: lam -> {lam:.1e}")
            continue
        trial = w - step
        new = float(f_loss(trial))
        if new < loss:
            w, lam = trial, max(lam / 3, 1e-10)
        else:
            lam *= 10
            new = float(loss)
        losses.append(new)
        if verbose:
            print(f"newton {it:3d}  loss {new:.3e}  lam {lam:.1e}")
    return w, losses


def init_params(seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=0.5, size=N_PARAMS)


def main(steps=30, lr=0.1, verbose=True):
    """Train with both methods from the same start; returns a dict of the losses."""
    xv, yv = make_data()
    f_loss, f_step, gd_step, w_gd = build(xv, yv)
    w0 = init_params()
    loss0 = float(f_loss(w0))
    if verbose:
        print(f"start      loss {loss0:.3e}  ({N_PARAMS} parameters)")
    w, newton_losses = newton(f_loss, f_step, w0, steps, verbose=verbose)

    w_gd.set_value(w0.copy())
    gd_losses = []
    for _ in range(steps):
        gd_step(lr)
        gd_losses.append(float(f_loss(w_gd.get_value())))
    if verbose:
        print(f"after {steps} steps: Newton/LM loss {newton_losses[-1]:.3e}, gradient descent "
              f"(lr={lr}) loss {gd_losses[-1]:.3e}")
    return {"loss0": loss0, "newton": newton_losses, "gd": gd_losses, "w": w}


if __name__ == "__main__":
    main()
