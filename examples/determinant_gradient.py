"""The gradient of a determinant (Jacobi's formula), used to drive a matrix singular.

A(theta) = A0 + sum_k theta_k B_k is a parametrised matrix. Gradient descent on
f(theta) = det(A(theta))**2 pushes A towards a singular matrix. symgraph.grad
differentiates through det; Jacobi's formula says what it must find:

    d det(A) / dA = det(A) inv(A)^T,  so  d f / d theta_k = 2 det(A)^2 tr(inv(A) B_k),

which this script computes in NumPy at every step and compares with the
symbolic gradient. theta is a shared variable, updated by the compiled step.

Run:  python examples/determinant_gradient.py
"""

from __future__ import annotations

import numpy as np

import symgraph as sg
import symgraph.tensor as T


def make_problem(n=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    a0 = rng.normal(size=(n, n)) + 2 * np.eye(n)
    bs = rng.normal(size=(k, n, n))
    return a0, bs


def build(a0, bs, lr):
    theta = sg.shared(np.zeros(len(bs)), name="theta")
    A = T.constant(a0) + T.tensordot(theta, T.constant(bs), axes=1)
    f = T.nlinalg.det(A) ** 2
    g = sg.grad(f, theta)
    step = sg.function([], [f, g, A], updates=[(theta, theta - lr * g)], name="step")
    return step, theta


def jacobi_gradient(a, bs):
    """d det(A)**2 / d theta from Jacobi's formula, in NumPy."""
    d = np.linalg.det(a)
    dA = d * np.linalg.inv(a).T                      # d det / dA
    return 2 * d * np.einsum("ij,kij->k", dA, bs)    # chain rule through A(theta)


def main(steps=40, lr=None):
    a0, bs = make_problem()
    if lr is None:
        # a step size fitted to the start: the first step shrinks f by about half
        g0 = jacobi_gradient(a0, bs)
        lr = 0.25 * np.linalg.det(a0) ** 2 / (g0 @ g0)
    step, theta = build(a0, bs, lr)
    objectives, worst = [], 0.0
    for i in range(steps):
        f, g, a = step()
        want = jacobi_gradient(a, bs)
        worst = max(worst, float(np.max(np.abs(g - want)) / max(np.max(np.abs(want)), 1e-300)))
        objectives.append(float(f))
        print(f"step {i:3d}  det(A)^2 {float(f):.6e}  |grad| {np.linalg.norm(g):.3e}")
    print(f"largest relative difference from Jacobi's formula: {worst:.2e}")
    if not objectives[-1] < objectives[0]:
        raise SystemExit("gradient descent did not reduce det(A)^2")
    return {"objectives": objectives, "theta": theta.get_value(), "max_rel_diff": worst,
            "lr": lr}


if __name__ == "__main__":
    main()
