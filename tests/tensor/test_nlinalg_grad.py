"""Gradients (L_op) and forward derivatives (R_op) of the numpy.linalg ops, checked by
finite differences in float64 and complex128 (complex convention: for a real cost
C of z, the gradient is dC/dRe(z) + i dC/dIm(z)). Costs through eigen- and
singular vectors of complex matrices are chosen independent of the vectors'
phases (|v|, U S V^H), which are arbitrary."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import NullTypeGradError, verify_grad
from symgraph.graph.op import Op
from symgraph.tensor import nlinalg as N
from tests.utils import assert_allclose
from tests.tensor.test_nlinalg import free, rand

DTYPES = ["float64", "complex128"]


def spread(rng, n, dtype, batch=()):
    """Matrices with well separated eigenvalues (1, 3, 5, ...) and singular values."""
    q, _ = np.linalg.qr(rand(rng, batch + (n, n), dtype))
    d = np.arange(1, 2 * n, 2, dtype=float)
    return np.asarray((q * d) @ np.swapaxes(q.conj(), -1, -2) + 0.1 * rand(rng, batch + (n, n),
                                                                              dtype), dtype)


def check(fun, pts, seed=0):
    verify_grad(fun, pts, n_tests=1, rng=np.random.default_rng(seed))


@pytest.mark.parametrize("dtype", DTYPES)
def test_inverse_det_slogdet_pinv_power(dtype, rng):
    a = rand(rng, (2, 3, 3), dtype, shift=2)
    check(N.matrix_inverse, [a])
    check(N.det, [a])
    check(lambda x: N.slogdet(x)[1], [a])
    check(lambda x: N.slogdet(x)[0] * N.slogdet(x)[1], [a])
    check(lambda x: N.slogdet(x)[0], [a[0]])
    check(N.pinv, [rand(rng, (4, 3), dtype)])
    check(N.pinv, [rand(rng, (2, 2, 3), dtype)])
    for n in (0, 1, 2, 3, 5, 13, -1, -3):
        check(lambda x, n=n: N.matrix_power(x, n), [a[0] / 2])


def test_det_gradient_is_jacobis_formula(rng):
    x = T.dmatrix("x")
    g = sg.grad(N.det(x), x)
    a = rand(rng, (4, 4))
    got = sg.function([x], g)(a)
    assert_allclose(got, np.linalg.det(a) * np.linalg.inv(a).T)
    # complex: d|det|^2 / dz* = 2 det conj... checked against the convention directly
    z = T.zmatrix("z")
    d = N.det(z)
    gz = sg.grad(T.real(d * T.conj(d)), z)
    c = rand(rng, (3, 3), "complex128")
    dc = np.linalg.det(c)
    assert_allclose(sg.function([z], gz)(c), 2 * abs(dc) ** 2 * np.linalg.inv(c).conj().T)


@pytest.mark.parametrize("dtype", DTYPES)
def test_eigh_eigvalsh(dtype, rng):
    a = spread(rng, 3, dtype, (2,))
    for uplo in ("L", "U"):
        check(lambda x, u=uplo: N.eigvalsh(x, u), [a])
        check(lambda x, u=uplo: N.eigh(x, u)[0], [a])
        if dtype == "float64":
            check(lambda x, u=uplo: N.eigh(x, u)[1], [a])
        else:
            check(lambda x, u=uplo: abs(N.eigh(x, u)[1]), [a])
        # a cost through both outputs
        check(lambda x, u=uplo: N.eigh(x, u)[0].sum() * abs(N.eigh(x, u)[1][..., 0, :]), [a])


@pytest.mark.parametrize("dtype", DTYPES)
def test_eig(dtype, rng):
    a = spread(rng, 3, dtype)
    check(lambda x: N.eig(x)[0], [a])
    if dtype == "float64":
        check(lambda x: N.eig(x)[1], [a])        # real eigenvectors: a sign, locally fixed
    check(lambda x: abs(N.eig(x)[1]), [a])
    # complex eigenvalues of a real matrix
    rot = np.array([[0.3, -2.0, 0.1], [1.5, 0.2, 0.0], [0.1, 0.3, 3.0]])
    check(lambda x: N.eig(x)[0], [rot])
    check(lambda x: abs(N.eig(x)[1]), [rot])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)])
def test_svd(dtype, shape, rng):
    a = rand(rng, shape, dtype)
    check(lambda x: N.svd(x, compute_uv=False), [a])
    check(lambda x: N.svd(x, False)[1], [a])

    def rebuilt(x):
        u, s, vh = N.svd(x, False)
        return T.matmul(u * T.shape_padaxis(s, -2), vh)
    check(rebuilt, [a])
    check(lambda x: abs(N.svd(x, False)[0]), [a])
    check(lambda x: abs(N.svd(x, False)[2]), [a])
    if dtype == "float64":
        check(lambda x: N.svd(x, False)[0] + 0, [a])
        check(lambda x: N.svd(x, False)[2] + 0, [a])
    if shape[-1] == shape[-2]:  # full_matrices on a statically square matrix
        check(lambda x: abs(N.svd(T.specify_shape(x, shape))[0]), [a])


def test_svd_full_matrices_not_square_refused():
    x = T.dmatrix("x")
    with pytest.raises(NullTypeGradError, match="full_matrices=True.*not statically square"):
        sg.grad(N.svd(x)[0].sum(), x)
    # singular values alone are fine
    g = sg.grad(N.svd(x)[1].sum(), x)
    a = np.random.default_rng(1).standard_normal((4, 3))
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    assert_allclose(sg.function([x], g)(a), u @ vh)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 4, 2)])
def test_qr(dtype, shape, rng):
    a = rand(rng, shape, dtype)
    check(lambda x: N.qr(x)[0], [a])
    check(lambda x: N.qr(x)[1], [a])
    check(lambda x: N.qr(x, "r"), [a])
    check(lambda x: T.matmul(*N.qr(x)), [a])
    if shape[-2] <= shape[-1]:  # 'complete' equals 'reduced' there
        check(lambda x: N.qr(T.specify_shape(x, shape), "complete")[0], [a])
    check(lambda x: N.qr(x, "complete")[1], [a])


def test_qr_complete_tall_q_refused():
    x = T.dmatrix("x")
    with pytest.raises(NullTypeGradError, match="mode='complete'.*more rows"):
        sg.grad(N.qr(x, "complete")[0].sum(), x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_composed_functions(dtype, rng):
    m = rand(rng, (3, 4), dtype)
    check(N.trace, [rand(rng, (3, 3), dtype)])
    check(lambda x: N.trace(x, 1, -2, -1), [rand(rng, (2, 3, 4), dtype)])
    check(N.kron, [m, rand(rng, (2,), dtype)])
    for o in (None, "fro", "nuc", 2, -2, 1, np.inf):
        check(lambda x, o=o: N.norm(x, o), [m])
    for o in (None, 1, 3, np.inf, -np.inf):
        check(lambda x, o=o: N.norm(x, o, axis=0), [m])
    check(lambda x: N.matrix_dot(x, N.pinv(x), x), [m])
    check(N.tensorinv, [rand(rng, (2, 2, 4), dtype, shift=0) + np.eye(4).reshape(2, 2, 4) * 3])


def check_rop(fun, a, rng):
    """sg.Rop of fun along a random tangent against a central difference; the op built
    last must have its own R_op."""
    x = free(a.dtype.name, a.ndim, "x")
    out = fun(x)
    assert type(out.owner.op).R_op is not Op.R_op, out.owner.op
    t = x.type("t")
    tv = rand(rng, a.shape, a.dtype.name)
    got = sg.function([x, t], sg.Rop(out, x, t), on_unused_input="ignore")(a, tv)
    f = sg.function([x], out)
    eps = 1e-6
    want = (np.asarray(f(a + eps * tv)) - np.asarray(f(a - eps * tv))) / (2 * eps)
    assert_allclose(got, want.astype(np.asarray(got).dtype), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
def test_r_op(dtype, rng):
    a = rand(rng, (2, 3, 3), dtype, shift=2)
    for fun in (N.matrix_inverse, N.det, lambda x: N.slogdet(x)[1], lambda x: N.slogdet(x)[0],
                lambda x: N.matrix_power(x, 4), lambda x: N.matrix_power(x, -2),
                lambda x: N.eigvalsh(x, "U")):
        check_rop(fun, a, rng)
    check_rop(N.pinv, rand(rng, (4, 3), dtype), rng)
    check_rop(lambda x: N.svd(x, compute_uv=False), rand(rng, (2, 4, 3), dtype), rng)
    b = spread(rng, 3, dtype, (2,))
    check_rop(lambda x: N.eigh(x, "U")[0], b, rng)
    check_rop(lambda x: N.eig(x)[0], b, rng)
    if dtype == "float64":  # vectors: a sign, locally constant; complex phases are arbitrary
        check_rop(lambda x: N.eigh(x)[1], b, rng)
        check_rop(lambda x: N.eig(x)[1], b, rng)
    # with vectors, svd has no R_op of its own: Rop uses two reverse passes
    x = T.dmatrix("x")
    r = sg.Rop(N.svd(x, False)[1], x, x.type("t"))
    assert r is not None
