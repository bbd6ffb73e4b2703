"""The examples run and do what they claim (CI also runs the main one as a script)."""

import importlib.util
import pathlib

import numpy as np

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_logistic_regression_loss_falls(capsys):
    mod = _load("logistic_regression")
    loss0, losses = mod.main(epochs=3, batch_size=200)
    assert np.isclose(loss0, np.log(2))  # W = 0, b = 0: every p is 1/2
    assert losses[0] < loss0 and losses[-1] <= losses[0]
    out = capsys.readouterr().out
    assert out.count("epoch") == 4


def test_logistic_regression_matches_numpy_sgd():
    """One epoch of the compiled train step equals the same SGD written in NumPy."""
    import symgraph as sg

    mod = _load("logistic_regression")
    xv, yv = mod.make_data(n=300, d=5, seed=1)
    train, evaluate, W, b = mod.build(sg.shared(xv), sg.shared(yv), batch_size=100,
                                      lr=0.5, l2=1e-4)
    w_ref, b_ref = np.zeros(5), 0.0
    for i in range(3):
        xb, yb = xv[i * 100:(i + 1) * 100], yv[i * 100:(i + 1) * 100]
        z = xb @ w_ref + b_ref
        p = 1 / (1 + np.exp(-z))
        loss = np.mean(yb * np.logaddexp(0, -z) + (1 - yb) * np.logaddexp(0, z)) \
            + 1e-4 * np.sum(w_ref ** 2)
        np.testing.assert_allclose(train(i), loss)
        dz = (p - yb) / 100
        w_ref, b_ref = w_ref - 0.5 * (xb.T @ dz + 2e-4 * w_ref), b_ref - 0.5 * dz.sum()
    np.testing.assert_allclose(W.get_value(), w_ref)
    np.testing.assert_allclose(b.get_value(), b_ref)
