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


def test_determinant_gradient_follows_jacobis_formula(capsys):
    mod = _load("determinant_gradient")
    res = mod.main(steps=15)
    assert res["max_rel_diff"] < 1e-10   # symbolic gradient == det(A) inv(A)^T chain rule
    obj = res["objectives"]
    assert len(obj) == 15 and all(b < a for a, b in zip(obj, obj[1:]))
    assert obj[-1] < 0.2 * obj[0]
    a0, bs = mod.make_problem()
    a = a0 + np.tensordot(res["theta"], bs, axes=1)
    assert np.linalg.det(a) ** 2 < obj[-1]   # theta holds the value after the last step
    assert capsys.readouterr().out.count("det(A)^2") == 15


def test_elman_reber_learns_the_grammar(capsys):
    """A short run: the cost falls, most sampled strings (drawn inside a scan that
    stops with until at E) are in the grammar, and the embedded part runs."""
    mod = _load("elman_reber")
    rng = np.random.default_rng(0)
    strings = [mod.reber_string(rng) for _ in range(50)]
    assert all(mod.in_reber(s) for s in strings)
    assert not mod.in_reber("BTXXE") and not mod.in_reber("BPVE")
    emb = mod.embedded_reber_string(rng)
    assert emb[1] == emb[-2] and mod.in_reber(emb[2:-2])
    res = mod.main(n_train=400, epochs=20, n_samples=50, embedded_epochs=1)
    assert res["curve"][-1] < 0.8 * res["curve"][0]
    assert all(s.startswith("B") and 1 < len(s) <= 41 for s in res["samples"])
    assert res["share"] >= 0.8
    assert 0.0 <= res["penultimate_accuracy"] <= 1.0
    assert "share of sampled strings in the grammar" in capsys.readouterr().out


def test_newton_mlp_beats_gradient_descent(capsys):
    """Levenberg–Marquardt Newton steps (hessian + solve) reach a loss far below plain
    gradient descent in the same number of steps."""
    mod = _load("newton_mlp")
    res = mod.main(steps=20)
    newton, gd = res["newton"], res["gd"]
    assert len(newton) == len(gd) == 20
    assert all(b <= a for a, b in zip(newton, newton[1:]))   # LM never accepts a worse step
    assert newton[-1] < 0.05 * res["loss0"]
    assert newton[-1] < 0.1 * gd[-1]
    assert "newton" in capsys.readouterr().out
