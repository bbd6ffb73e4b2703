"""B4 (a unitary Riemannian step with a complex expm) and B5 (a Newton step with a
Hessian and a linear solve).

B4: U (64x64 complex, unitary), a real cost C(U) = ||U X - Y||_F^2 with X, Y complex
64x16; G = dC/dRe(U) + i dC/dIm(U); the update is U <- U expm(-lr skew(U^H G)) with
skew(A) = (A - A^H) / 2, which keeps U unitary.

B5: a 4-8-1 tanh MLP on 64 points, parameters in one flat vector w (49 numbers);
one step w <- w - solve(H + lam I, g) with g, H the gradient and Hessian of the
mean squared error.
"""

from __future__ import annotations

import numpy as np

N_U, N_COLS, LR_U = 64, 16, 0.01
D_IN, D_HID, N_PTS, LAM = 4, 8, 64, 0.1
N_W = D_IN * D_HID + D_HID + D_HID + 1


# ----------------------------------------------------------------------------- B4

def b4_data(seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(N_U, N_U)) + 1j * rng.normal(size=(N_U, N_U))
    q, r = np.linalg.qr(a)
    u = q * (np.diag(r) / np.abs(np.diag(r)))
    x = rng.normal(size=(N_U, N_COLS)) + 1j * rng.normal(size=(N_U, N_COLS))
    y = rng.normal(size=(N_U, N_COLS)) + 1j * rng.normal(size=(N_U, N_COLS))
    return u, x, y


def b4_numpy():
    from scipy.linalg import expm
    u0, x, y = b4_data()
    holder = [u0]

    def step():
        u = holder[0]
        r = u @ x - y
        g = 2.0 * r @ x.conj().T
        a = u.conj().T @ g
        holder[0] = u @ expm(-LR_U * 0.5 * (a - a.conj().T))
        return float(np.sum(np.abs(r) ** 2))
    return step


def b4_symgraph(mode):
    import symgraph as sg
    import symgraph.tensor as T
    from symgraph.tensor.slinalg import expm

    u0, xv, yv = b4_data()
    U = sg.shared(u0, name="U")
    X, Y = sg.shared(xv, name="X"), sg.shared(yv, name="Y")
    cost = T.sum(T.abs(T.dot(U, X) - Y) ** 2)
    G = sg.grad(cost, U)
    A = T.dot(U.conj().T, G)
    f = sg.function([], cost, mode=mode,
                    updates=[(U, T.dot(U, expm(-LR_U * 0.5 * (A - A.conj().T))))])
    return f


def b4_pytensor(mode):
    import pytensor
    import pytensor.tensor as pt
    from pytensor.tensor.slinalg import expm

    u0, xv, yv = b4_data()
    U = pytensor.shared(u0, name="U")
    X, Y = pytensor.shared(xv), pytensor.shared(yv)
    cost = pt.sum(pt.abs(pt.dot(U, X) - Y) ** 2)
    G = pytensor.grad(cost, U)
    A = pt.dot(U.conj().T, G)
    f = pytensor.function([], cost, mode=mode,
                          updates=[(U, pt.dot(U, expm(-LR_U * 0.5 * (A - A.conj().T))))])
    return f


def b4_jax():
    import jax
    import jax.numpy as jnp
    from jax.scipy.linalg import expm
    jax.config.update("jax_enable_x64", True)
    u0, xv, yv = b4_data()
    x, y = jnp.asarray(xv), jnp.asarray(yv)

    def cost(u):
        return jnp.sum(jnp.abs(u @ x - y) ** 2)

    @jax.jit
    def step(u):
        c, g = jax.value_and_grad(cost)(u)
        g = jnp.conj(g)  # JAX returns the conjugate of dC/dRe + i dC/dIm
        a = u.conj().T @ g
        return c, u @ expm(-LR_U * 0.5 * (a - a.conj().T))

    holder = [jnp.asarray(u0)]

    def run():
        c, holder[0] = step(holder[0])
        return c.block_until_ready()
    return run


# ----------------------------------------------------------------------------- B5

def b5_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N_PTS, D_IN))
    t = np.sin(x.sum(axis=1))
    w = rng.normal(scale=0.5, size=N_W)
    return x, t, w


def _unpack(w):
    k = D_IN * D_HID
    return (w[:k].reshape((D_IN, D_HID)), w[k:k + D_HID], w[k + D_HID:k + 2 * D_HID],
            w[k + 2 * D_HID])


def b5_numpy():
    """Gradient by hand, the Hessian column by column from hand-written
    Hessian-vector products (forward over reverse)."""
    x, t, w0 = b5_data()
    holder = [w0]
    n = N_PTS

    def grad_and_hvps(w):
        w1, b1, w2, b2 = _unpack(w)
        s = np.tanh(x @ w1 + b1)
        r = s @ w2 + b2 - t
        dr = r / n
        ds = np.outer(dr, w2)
        d1 = 1.0 - s * s
        da = ds * d1
        g = np.concatenate([(x.T @ da).ravel(), da.sum(0), s.T @ dr, [dr.sum()]])
        H = np.empty((N_W, N_W))
        for j in range(N_W):
            v1, vb1, v2, vb2 = _unpack(np.eye(N_W)[j])
            rs = d1 * (x @ v1 + vb1)
            rdr = (rs @ w2 + s @ v2 + vb2) / n
            rda = (np.outer(rdr, w2) + np.outer(dr, v2)) * d1 - 2.0 * ds * s * rs
            H[:, j] = np.concatenate([(x.T @ rda).ravel(), rda.sum(0),
                                      rs.T @ dr + s.T @ rdr, [rdr.sum()]])
        return 0.5 * np.mean(r * r), g, H

    def step():
        cost, g, H = grad_and_hvps(holder[0])
        holder[0] = holder[0] - np.linalg.solve(H + LAM * np.eye(N_W), g)
        return cost
    return step


def b5_symgraph(mode):
    import symgraph as sg
    import symgraph.tensor as T
    from symgraph.tensor.slinalg import solve

    xv, tv, w0 = b5_data()
    w = sg.shared(w0, name="w", shape=(N_W,))
    x, t = sg.shared(xv, name="x"), sg.shared(tv, name="t")
    w1, b1, w2, b2 = _unpack(w)
    r = T.dot(T.tanh(T.dot(x, w1) + b1), w2) + b2 - t
    cost = 0.5 * T.mean(r * r)
    g = sg.grad(cost, w)
    H = sg.hessian(cost, w)
    f = sg.function([], cost, mode=mode,
                    updates=[(w, w - solve(H + LAM * T.eye(N_W), g))])
    return f


def b5_pytensor(mode):
    import pytensor
    import pytensor.tensor as pt
    from pytensor.gradient import hessian
    from pytensor.tensor.slinalg import solve

    xv, tv, w0 = b5_data()
    w = pytensor.shared(w0, name="w")
    x, t = pytensor.shared(xv), pytensor.shared(tv)
    w1, b1, w2, b2 = _unpack(w)
    r = pt.dot(pt.tanh(pt.dot(x, w1) + b1), w2) + b2 - t
    cost = 0.5 * pt.mean(r * r)
    g = pytensor.grad(cost, w)
    H = hessian(cost, w)
    f = pytensor.function([], cost, mode=mode,
                          updates=[(w, w - solve(H + LAM * pt.eye(N_W), g))])
    return f


def b5_jax():
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    xv, tv, w0 = b5_data()
    x, t = jnp.asarray(xv), jnp.asarray(tv)

    def cost(w):
        w1, b1, w2, b2 = _unpack(w)
        r = jnp.tanh(x @ w1 + b1) @ w2 + b2 - t
        return 0.5 * jnp.mean(r * r)

    @jax.jit
    def step(w):
        c, g = jax.value_and_grad(cost)(w)
        H = jax.hessian(cost)(w)
        return c, w - jnp.linalg.solve(H + LAM * jnp.eye(N_W), g)

    holder = [jnp.asarray(w0)]

    def run():
        c, holder[0] = step(holder[0])
        return c.block_until_ready()
    return run
