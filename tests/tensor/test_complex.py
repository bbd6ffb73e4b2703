"""Complex numbers end to end: the elementwise functions NumPy defines on complex
input, products, reductions, indexing and casts give NumPy's values and dtypes, and
their gradients follow the library's convention (for a real cost C of z:
dC/dRe(z) + i dC/dIm(z)), checked by finite differences with complex128 inputs and
real costs through real, imag, abs and angle. The op families' own test files
cover most of this per op; here it is checked across the board."""

import warnings

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import verify_grad
from tests.utils import assert_allclose

UNARY = ["exp", "log", "sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
         "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "log10", "log2", "log1p", "expm1",
         "exp2", "abs", "angle", "conj", "real", "imag", "reciprocal", "square", "sign",
         "negative"]


def zpoint(rng, shape=(4,), dtype="complex128"):
    """Points away from the branch cuts and poles of the functions above."""
    v = rng.uniform(0.2, 0.9, shape) + 1j * rng.uniform(-0.9, 0.9, shape)
    return v.astype(dtype)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_unary_values(dtype, mode, rng):
    z = T.tensor(dtype, shape=(None,), name="z")
    zv = zpoint(rng, (5,), dtype)
    outs = [getattr(T, n)(z) for n in UNARY]
    got = sg.function([z], outs, mode=mode)(zv)
    tol = 1e-5 if dtype == "complex64" else 1e-12
    for n, g in zip(UNARY, got):
        want = getattr(np, n)(zv)
        assert g.dtype == want.dtype, (n, g.dtype, want.dtype)
        assert_allclose(g, want, rtol=tol, atol=tol)


def test_binary_values_and_dtypes(mode, rng):
    z, w = T.zvector("z"), T.zvector("w")
    c, f, d = T.cvector("c"), T.fvector("f"), T.dvector("d")
    zv, wv, cv = zpoint(rng), zpoint(rng), zpoint(rng, dtype="complex64")
    fv, dv = rng.uniform(0.5, 1, 4).astype("float32"), rng.uniform(0.5, 1, 4)
    cases = [(z ** w, zv ** wv), (z ** 3, zv ** 3), (z ** 0.5, zv ** 0.5), (d ** z, dv ** zv),
             (z / w, zv / wv), (z * 1j + 2, zv * 1j + 2), (c * 2.5, cv * 2.5),
             (c * f, cv * fv), (c * d, cv * dv), (f * 1j, fv * 1j),
             (T.complex(d, d * 2), dv + 2j * dv), (T.complex(f, f), (fv + 1j * fv)),
             (T.eq(z, w), zv == wv), (T.neq(z, z), zv != zv), (T.isclose(z, z + 1e-12),
                                                                np.isclose(zv, zv + 1e-12)),
             (T.where(T.real(z) > 0.5, z, w), np.where(zv.real > 0.5, zv, wv)),
             (T.arctan(z) * T.real(w), np.arctan(zv) * wv.real)]
    f_ = sg.function([z, w, c, f, d], [x[0] for x in cases], mode=mode)
    for (out, want), got in zip(cases, f_(zv, wv, cv, fv, dv)):
        want = np.asarray(want)
        assert out.dtype == want.dtype, (out, out.dtype, want.dtype)
        assert_allclose(got, want, rtol=1e-5 if want.dtype in (np.complex64, np.float32)
                        else 1e-12)


def test_products_reductions_indexing_casts(mode, rng):
    z, w, m = T.zvector("z"), T.zvector("w"), T.zmatrix("m")
    zv, wv = zpoint(rng), zpoint(rng)
    mv = zpoint(rng, (4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        to_float, to_int = zv.astype("float64"), zv.astype("int64")
    cases = [(T.dot(z, w), np.dot(zv, wv)), (T.dot(z, m), zv @ mv), (m.T @ z, mv.T @ zv),
             (T.vdot(z, w), np.vdot(zv, wv)), (T.inner(z, w), np.inner(zv, wv)),
             (T.outer(z, w), np.outer(zv, wv)), (T.tensordot(m, m, [[0], [0]]),
                                                 np.tensordot(mv, mv, [[0], [0]])),
             (z.sum(), zv.sum()), (m.prod(axis=0), mv.prod(axis=0)), (m.mean(axis=1),
                                                                      mv.mean(axis=1)),
             (T.var(z), np.var(zv)), (T.std(m, axis=0), np.std(mv, axis=0)),
             (T.cumsum(z), np.cumsum(zv)), (T.cumprod(m, axis=1), np.cumprod(mv, axis=1)),
             (T.logsumexp(z), np.log(np.exp(zv).sum())),
             (m[1:, ::2], mv[1:, ::2]), (z[[3, 0, 3]], zv[[3, 0, 3]]),
             (T.set_subtensor(z[1:], w[:3]), np.concatenate([zv[:1], wv[:3]])),
             (T.inc_subtensor(z[[1, 1]], w[:2]), zv + np.array([0, wv[0] + wv[1], 0, 0])),
             (T.cast(z, "complex64"), zv.astype("complex64")), (T.cast(z, "float64"), to_float),
             (T.cast(z, "int64"), to_int), (T.cast(z, "bool"), zv.astype(bool)),
             (T.concatenate([z, w]), np.concatenate([zv, wv])), (T.sort(z), np.sort(zv)),
             (T.diag(z), np.diag(zv)), (T.repeat(z, 2), np.repeat(zv, 2))]
    f = sg.function([z, w, m], [c[0] for c in cases], mode=mode)
    for (out, want), got in zip(cases, f(zv, wv, mv)):
        want = np.asarray(want)
        assert out.dtype == want.dtype, (out, out.dtype, want.dtype)
        assert_allclose(got, want)


def test_ordering_of_complex_values_is_refused_clearly():
    """NumPy orders complex numbers lexicographically; symgraph refuses max/min and the
    ordering comparisons with a message that says what to reduce instead (sort keeps
    NumPy's lexicographic order)."""
    z = T.zvector("z")
    with pytest.raises(TypeError, match="reduce abs\\(x\\), real\\(x\\) or imag\\(x\\)"):
        T.max(z)
    with pytest.raises(TypeError, match="complex input"):
        T.maximum(z, z)
    with pytest.raises(TypeError, match="complex input"):
        T.lt(z, z)


def check(fun, pts, seed=0):
    verify_grad(fun, pts, n_tests=1, rng=np.random.default_rng(seed))


@pytest.mark.parametrize("name", UNARY)
def test_unary_gradients(name, rng):
    check(getattr(T, name), [zpoint(rng)])


def test_gradients_of_binary_ops_and_real_costs(rng):
    zv, wv, dv = zpoint(rng), zpoint(rng), rng.uniform(0.5, 1, 4)
    check(lambda z, w: z ** w, [zv, wv])
    check(lambda z, w: z / w * T.conj(w), [zv, wv])
    check(lambda z: z ** 3 + z ** 0.5, [zv])
    check(lambda z, d: z ** d, [zv, dv])
    check(lambda d, z: d ** z, [dv, zv])
    check(lambda d, e: T.complex(d * e, d - e), [dv, dv[::-1].copy()])
    # real costs of complex inputs
    check(lambda z: T.real(z) ** 2 + T.imag(z) * T.real(z), [zv])
    check(lambda z: abs(z) ** 2 + T.angle(z), [zv])
    check(lambda z, w: T.real(z * T.conj(w)), [zv, wv])
    check(lambda z: T.sqrt(abs(z)) * T.exp(T.imag(z)), [zv])
    check(lambda z: T.cast(z, "float64"), [zv])


def test_gradients_of_products_reductions_indexing(rng):
    zv, wv, mv = zpoint(rng), zpoint(rng), zpoint(rng, (4, 3))
    check(T.dot, [zv, mv])
    check(lambda m, w: T.matmul(m.T, w), [mv, wv])
    check(T.vdot, [zv, wv])
    check(T.outer, [zv, wv])
    check(lambda m: T.tensordot(m, m, [[0], [0]]), [mv])
    for red in (T.sum, T.prod, T.mean, T.var, T.std, T.cumsum, T.cumprod, T.logsumexp):
        check(lambda m, red=red: red(m, axis=0), [mv])
    check(lambda z: z[[0, 3, 0]] * z[1:][::2].sum(), [zv])
    check(lambda z, w: T.inc_subtensor(z[[1, 1]], w[:2]), [zv, wv])
    check(lambda z, w: T.set_subtensor(z[1:], w[:3]), [zv, wv])
    check(lambda z: T.cast(z, "complex64") * 1, [zv.astype("complex64")])
    check(lambda z, w: T.concatenate([z, T.sort(w)]), [zv, wv])
    check(lambda z: T.tile(T.diag(z), (2, 1)), [zv])


def test_gradient_convention(rng):
    """C = |z|^2 = x^2 + y^2 has dC/dx + i dC/dy = 2z; C = Re(a z) has conj(a); a
    step z - lr * g lowers C."""
    z = T.zvector("z")
    zv = zpoint(rng)
    a = np.array([1 + 2j, -1j, 0.5, 2 - 1j])
    g1 = sg.grad(T.sum(abs(z) ** 2), z)
    g2 = sg.grad(T.sum(T.real(T.constant(a) * z)), z)
    got1, got2 = sg.function([z], [g1, g2])(zv)
    assert_allclose(got1, 2 * zv)
    assert_allclose(got2, np.conj(a))
    assert np.sum(abs(zv - 0.1 * got1) ** 2) < np.sum(abs(zv) ** 2)
