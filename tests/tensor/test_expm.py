"""expm and its Fréchet derivative (symgraph/tensor/slinalg_expm.py): values against
SciPy over a range of norms, real and complex gradients (the adjoint Fréchet
derivative L(Aᴴ, G)), second derivatives, and the unitary-RNN update
U expm(-lr skew(Uᴴ G)) that motivates complex support."""

import numpy as np
import pytest
import scipy.linalg as sla

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import verify_grad
from symgraph.tensor import slinalg as S
from symgraph.tensor.type import TensorType
from tests.utils import assert_allclose

NORMS = [0.1, 1.0, 10.0]


def rand(rng, shape, dtype="float64", norm=None):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    if norm is not None:
        x = x * norm / np.linalg.norm(x, 1)
    return np.asarray(x, dtype=dtype)


def var(dtype, ndim, name=None):
    return TensorType(dtype, shape=(None,) * ndim)(name)


def unitary(rng, n):
    q, r = np.linalg.qr(rand(rng, (n, n), "complex128"))
    return q * (np.diag(r) / np.abs(np.diag(r)))


def skew(m):
    """(m - mᴴ) / 2: a skew-Hermitian matrix, whose exponential is unitary."""
    return (m - T.conj(m.T)) / 2


# ----------------------------------------------------------------------- values

@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
def test_expm_values(mode, dtype):
    rng = np.random.default_rng(0)
    a, e = var(dtype, 2, "a"), var(dtype, 2, "e")
    f = sg.function([a, e], [T.expm(a), S.expm_frechet(a, e, compute_expm=False)], mode=mode)
    low = dtype in ("float32", "complex64")
    for n in (1, 2, 5):
        for norm in NORMS + [0.0, 40.0]:
            A = rand(rng, (n, n), dtype, norm) if norm else np.zeros((n, n), dtype)
            E = rand(rng, (n, n), dtype)
            got, fr = f(A, E)
            want = sla.expm(A.astype(np.complex128 if A.dtype.kind == "c" else np.float64))
            want_fr = sla.expm_frechet(A.astype(want.dtype), E.astype(want.dtype),
                                       compute_expm=False)
            tol = dict(rtol=1e-4 * max(1, norm), atol=1e-5 * np.abs(want).max()) if low \
                else dict(rtol=1e-9, atol=1e-12 * np.abs(want).max())
            assert_allclose(got, want.astype(dtype), **tol)
            tol_fr = dict(tol, atol=tol["atol"] * max(1, np.abs(want_fr).max()
                                                      / max(np.abs(want).max(), 1e-300)))
            assert_allclose(fr, want_fr.astype(dtype), **tol_fr)


def test_expm_known_values():
    a = T.dmatrix("a")
    f = sg.function([a], T.expm(a))
    t = 0.7
    assert_allclose(f(np.array([[0, -t], [t, 0]])),
                    np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]))
    assert_allclose(f(np.diag([1.0, -2.0])), np.diag(np.exp([1.0, -2.0])))
    assert_allclose(f(np.array([[0.0, 1.0], [0.0, 0.0]])), np.array([[1.0, 1.0], [0.0, 1.0]]))


def test_expm_stack(mode):
    rng = np.random.default_rng(1)
    a = var("complex128", 3)
    A = rand(rng, (3, 4, 4), "complex128")
    got = sg.function([a], T.expm(a), mode=mode)(A)
    assert_allclose(got, np.stack([sla.expm(x) for x in A]), rtol=1e-10)


def test_expm_frechet_function():
    a, e = T.dmatrix("a"), T.dmatrix("e")
    ex, fr = S.expm_frechet(a, e)
    rng = np.random.default_rng(2)
    A, E = rand(rng, (3, 3)), rand(rng, (3, 3))
    got = sg.function([a, e], [ex, fr])(A, E)
    for g, w in zip(got, sla.expm_frechet(A, E)):
        assert_allclose(g, w, rtol=1e-10)


# ----------------------------------------------------------------------- gradients

@pytest.mark.parametrize("norm", NORMS)
def test_expm_grad_real(norm):
    rng = np.random.default_rng(3)
    verify_grad(T.expm, [rand(rng, (3, 3), norm=norm)], rng=rng, n_tests=1)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("part", ["real", "imag", "abs", "all"])
def test_expm_grad_complex(norm, part):
    """Real costs of a complex expm: through its real part, imaginary part, modulus,
    and (verify_grad's own projection) both parts at once."""
    rng = np.random.default_rng(4)
    fn = {"real": lambda a: T.real(T.expm(a)), "imag": lambda a: T.imag(T.expm(a)),
          "abs": lambda a: abs(T.expm(a)), "all": T.expm}[part]
    verify_grad(fn, [rand(rng, (3, 3), "complex128", norm=norm)], rng=rng, n_tests=1)


def test_expm_grad_formula():
    """ḡ_A = L(Aᴴ, G) = the Fréchet derivative at the conjugate transpose."""
    rng = np.random.default_rng(5)
    A, G = rand(rng, (3, 3), "complex128"), rand(rng, (3, 3), "complex128")
    a, g = var("complex128", 2), var("complex128", 2)
    got = sg.function([a, g], sg.grad(None, a, known_grads={T.expm(a): g}))(A, G)
    assert_allclose(got, sla.expm_frechet(A.conj().T, G, compute_expm=False), rtol=1e-10)


def test_expm_grad_stack_and_real_matrix_complex_cost():
    rng = np.random.default_rng(6)
    verify_grad(T.expm, [rand(rng, (2, 3, 3), "complex128")], rng=rng, n_tests=1)
    # a real matrix times a complex phase: the gradient of a real input is real
    verify_grad(lambda a: T.expm(a * (1 + 2j)), [rand(rng, (3, 3))], rng=rng, n_tests=1)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_expm_frechet_grad(dtype):
    """The second-order terms (ExpmFrechet.L_op), i.e. what hessians through expm use."""
    rng = np.random.default_rng(7)
    verify_grad(lambda a, e: S.expm_frechet(a, e, compute_expm=False),
                [rand(rng, (3, 3), dtype, norm=1.5), rand(rng, (3, 3), dtype)], rng=rng,
                n_tests=1)


def test_hessian_through_expm():
    rng = np.random.default_rng(8)
    w = TensorType("float64", shape=(4,))("w")
    cost = T.sum(T.expm(T.reshape(w, (2, 2))) ** 2)
    H = sg.function([w], sg.hessian(cost, w))
    W = rand(rng, (4,), norm=1.0)
    g = sg.function([w], sg.grad(cost, w))
    eps = 1e-6
    num = np.stack([(g(W + eps * e) - g(W - eps * e)) / (2 * eps) for e in np.eye(4)])
    assert_allclose(H(W), num, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_expm_rop(dtype):
    rng = np.random.default_rng(9)
    a, t = var(dtype, 2, "a"), var(dtype, 2, "t")
    A, Tv = rand(rng, (3, 3), dtype), rand(rng, (3, 3), dtype)
    r = sg.function([a, t], sg.Rop(T.expm(a), a, t))(A, Tv)
    assert_allclose(r, sla.expm_frechet(A, Tv, compute_expm=False), rtol=1e-10)
    e, te = var(dtype, 2, "e"), var(dtype, 2, "te")
    fr = S.expm_frechet(a, e, compute_expm=False)
    E, TE = rand(rng, (3, 3), dtype), rand(rng, (3, 3), dtype)
    got = sg.function([a, e, t, te], sg.Rop(fr, [a, e], [t, te]))(A, E, Tv, TE)
    f = sg.function([a, e], fr)
    h = 1e-6
    want = (f(A + h * Tv, E + h * TE) - f(A - h * Tv, E - h * TE)) / (2 * h)
    assert_allclose(got, want, rtol=1e-6, atol=1e-8)


# ----------------------------------------------------------------------- unitary RNN

def test_unitary_update_stays_unitary(mode):
    """U expm(-lr skew(Uᴴ G)) is unitary for unitary U, whatever G and lr."""
    rng = np.random.default_rng(10)
    u, g = var("complex128", 2, "u"), var("complex128", 2, "g")
    lr = T.dscalar("lr")
    step = T.dot(u, T.expm(-lr * skew(T.dot(T.conj(u.T), g))))
    f = sg.function([u, g, lr], step, mode=mode)
    U = unitary(rng, 6)
    for scale in (0.01, 1.0, 30.0):
        U1 = f(U, rand(rng, (6, 6), "complex128"), scale)
        assert_allclose(U1.conj().T @ U1, np.eye(6, dtype=complex), rtol=0, atol=1e-12)
        U = U1


def test_unitary_update_gradient():
    """The gradient through the Riemannian step, with respect to U and G."""
    rng = np.random.default_rng(11)

    def step(u, g):
        return T.dot(u, T.expm(-0.3 * skew(T.dot(T.conj(u.T), g))))
    verify_grad(step, [unitary(rng, 3), rand(rng, (3, 3), "complex128")], rng=rng, n_tests=1)


def test_unitary_rnn_training_decreases_loss():
    """A tiny unitary recurrence h_t = U h_(t-1) fitted by Riemannian steps along the
    manifold: the loss falls and U stays unitary."""
    rng = np.random.default_rng(12)
    n, steps = 4, 3
    target = unitary(rng, n)
    h0 = rand(rng, (n,), "complex128")
    want = np.linalg.matrix_power(target, steps) @ h0
    U = sg.shared(unitary(rng, n), name="U")
    h = h0
    for _ in range(steps):
        h = T.dot(U, h)
    loss = T.sum(abs(h - want) ** 2)
    G = sg.grad(loss, U)
    lr = 0.03
    new_U = T.dot(U, T.expm(-lr * skew(T.dot(T.conj(U.T), G))))
    train = sg.function([], loss, updates=[(U, new_U)])
    losses = [float(train()) for _ in range(40)]
    Uv = U.get_value()
    assert_allclose(Uv.conj().T @ Uv, np.eye(n, dtype=complex), rtol=0, atol=1e-10)
    assert losses[-1] < 0.01 * losses[0]
