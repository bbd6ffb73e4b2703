"""Logistic regression trained by minibatch SGD, Theano style.

The whole data set lives in shared variables; each minibatch is selected
inside the compiled graph through `givens` (x -> data_x[i*bs:(i+1)*bs]), so a
training step only passes the minibatch index. W and b are updated through
`updates`, with gradients from `T.grad`.

Run:  python examples/logistic_regression.py
"""

from __future__ import annotations

import numpy as np

import symgraph as sg
import symgraph.tensor as T


def make_data(n=2000, d=20, seed=0):
    rng = np.random.default_rng(seed)
    w_true = rng.normal(size=d)
    x = rng.normal(size=(n, d))
    logits = x @ w_true + 0.5
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logits))).astype("float64")
    return x, y


def build(data_x, data_y, batch_size, lr=0.5, l2=1e-4):
    n_features = data_x.get_value(borrow=True).shape[1]
    W = sg.shared(np.zeros(n_features), name="W")
    b = sg.shared(0.0, name="b")

    x = T.dmatrix("x")
    y = T.dvector("y")
    index = T.lscalar("index")

    z = T.dot(x, W) + b
    p = T.sigmoid(z)
    # mean binary cross-entropy, written with softplus so it never takes log(0)
    loss = T.mean(y * T.softplus(-z) + (1 - y) * T.softplus(z)) + l2 * T.sum(W ** 2)
    err = T.mean(T.neq(p > 0.5, y > 0.5))

    gW, gb = T.grad(loss, [W, b])

    batch = slice(index * batch_size, (index + 1) * batch_size)
    train = sg.function(
        [index], loss,
        updates=[(W, W - lr * gW), (b, b - lr * gb)],
        givens={x: data_x[batch], y: data_y[batch]},
        name="train_step",
    )
    evaluate = sg.function([], [loss, err], givens={x: data_x, y: data_y}, name="evaluate")
    return train, evaluate, W, b


def main(epochs=10, batch_size=100):
    xv, yv = make_data()
    data_x = sg.shared(xv, name="data_x")
    data_y = sg.shared(yv, name="data_y")
    train, evaluate, W, b = build(data_x, data_y, batch_size)
    n_batches = xv.shape[0] // batch_size

    losses = []
    loss0, err0 = evaluate()
    print(f"epoch  0  loss {float(loss0):.4f}  error {float(err0):.3f}")
    for epoch in range(1, epochs + 1):
        batch_losses = [float(train(i)) for i in range(n_batches)]
        loss, err = evaluate()
        losses.append(float(loss))
        print(f"epoch {epoch:2d}  loss {float(loss):.4f}  error {float(err):.3f}  "
              f"(mean minibatch loss {np.mean(batch_losses):.4f})")
    if not losses[-1] < float(loss0):
        raise SystemExit("training did not reduce the loss")
    return float(loss0), losses


if __name__ == "__main__":
    main()
