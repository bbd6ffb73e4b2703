"""backends/numba/dispatch/vecmath.py: the vectorizable exp, expm1, log, log1p, sin, cos
and tanh. Accuracy in ULPs against an 80-bit long double reference (NumPy's long double
ufuncs, accurate to ~2**-11 ULP of a double) on random points across the whole range,
special values against NumPy, the hardest arguments of sin/cos (doubles closest to
multiples of pi/2), that a loop calling them vectorizes, and one compiled graph
against the interpreter."""

from fractions import Fraction

import llvmlite.binding as llvm
import numba
import numpy as np
import pytest

import symgraph.tensor as T
from backends.numba.dispatch import vecmath as vm
from tests.backends.numba import utils as nb
from tests.utils import assert_allclose

NAMES = ("exp", "expm1", "log", "log1p", "sin", "cos", "tanh")
F64_MAX = np.finfo(np.float64).max
needs_extended = pytest.mark.skipif(np.finfo(np.longdouble).nmant < 63,
                                    reason="the reference needs an 80-bit long double")

_loops = {}


def _loop(name, single=False):
    """A numba loop applying vm.<name> elementwise, compiled once per test session;
    single: float32 in and out, computed in float64 as the elementwise kernels do."""
    key = (name, single)
    if key not in _loops:
        fn = getattr(vm, name)
        if single:
            def loop(a, o):
                for i in range(a.shape[0]):
                    o[i] = np.float32(fn(np.float64(a[i])))
        else:
            def loop(a, o):
                for i in range(a.shape[0]):
                    o[i] = fn(a[i])
        _loops[key] = numba.njit(error_model="numpy")(loop)
    return _loops[key]


def apply(name, x):
    out = np.empty_like(x)
    _loop(name, x.dtype == np.float32)(x, out)
    return out


def ulp_errors(got, x, name, mant=53, emin=-1074):
    """|got - f(x)| in ULPs of the exact result (long double), where that is finite
    and representable."""
    with np.errstate(all="ignore"):
        ref = getattr(np, name)(x.astype(np.longdouble))
    _, e = np.frexp(ref)
    ulp = np.ldexp(np.longdouble(1), np.maximum(e.astype(np.int64) - mant, emin))
    ok = np.isfinite(ref) & (np.abs(ref) <= np.finfo(got.dtype).max)
    err = np.abs(got[ok].astype(np.longdouble) - ref[ok]) / ulp[ok]
    return err.astype(np.float64), x[ok]


def _log_uniform(rng, n, lo, hi, signed=True):
    x = 10.0 ** rng.uniform(lo, hi, n)
    return x * rng.choice([-1.0, 1.0], n) if signed else x


def _points(name, rng, n=40_000):
    """Random arguments: log-uniform magnitudes over the function's whole domain, and
    uniform ones where the reductions change case."""
    parts = [rng.uniform(-10, 10, n)]
    if name in ("exp", "expm1"):
        parts += [_log_uniform(rng, n, -300, 2.86), rng.uniform(-746, 710, n),
                  rng.uniform(-1, 1, n)]
    elif name == "log":
        parts += [_log_uniform(rng, n, -323.5, 308.2, signed=False), rng.uniform(0.5, 2, n)]
    elif name == "log1p":
        parts += [_log_uniform(rng, n, -300, 308), rng.uniform(-1, 1, n),
                  -(10.0 ** rng.uniform(-300, 0, n))]
    elif name in ("sin", "cos"):
        parts += [_log_uniform(rng, n, -300, 308.2), rng.uniform(-1e6, 1e6, n),
                  rng.uniform(-4, 4, n)]
    else:  # tanh
        parts += [_log_uniform(rng, n, -300, 1.5), rng.uniform(-1, 1, n)]
    x = np.concatenate(parts)
    if name == "log":
        x = np.abs(x)
    if name == "log1p":
        x = x[x > -1]
    return x[np.isfinite(x)]


# ----------------------------------------------------------------------- accuracy

@needs_extended
@pytest.mark.parametrize("name", NAMES)
def test_float64_within_one_ulp(name):
    x = _points(name, np.random.default_rng(7))
    err, xs = ulp_errors(apply(name, x), x, name)
    worst = int(np.argmax(err))
    assert err[worst] <= 1.0, f"{name}({xs[worst]!r}): {err[worst]:.3f} ULP"


@needs_extended
@pytest.mark.parametrize("name", NAMES)
def test_float32_rounds_correctly(name):
    rng = np.random.default_rng(3)
    x = _points(name, rng, n=10_000)
    x = x[np.abs(x) < 3e38].astype(np.float32)
    err, xs = ulp_errors(apply(name, x), x.astype(np.float64), name, mant=24, emin=-149)
    worst = int(np.argmax(err))
    # float64 within 1 ULP, then rounded to float32: at most a hair above 1/2
    assert err[worst] <= 0.5 + 1e-6, f"{name}({xs[worst]!r}): {err[worst]:.3f} ULP"


SPECIAL = np.array([
    np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308,
    -2.2250738585072014e-308, 1e-310, -1e-310, 1e-300, -1e-300, 2.0 ** -27, -(2.0 ** -27),
    2.0 ** -26, 1e-9, -1e-9, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, np.pi, -np.pi, np.pi / 2,
    np.pi / 4, 0.35, -0.35, 0.3465735902799726, 19.0, -19.0, 22.0, -22.0, 30.0, -30.0,
    44.0, 709.782712893384, 709.7827128933841, -708.3964185322641, -708.4, -740.0,
    -745.1332191019411, -745.1332191019412, -746.0, 710.0, -37.0, -38.0, -45.0, -50.0,
    1e5, -1e5, 2.0 ** 27, 2.0 ** 52, 2.0 ** 53 + 2.0, 1e22, -1e22, 1e300, 1e308, -1e308,
    F64_MAX, -F64_MAX, np.nextafter(-1.0, 0.0), np.nextafter(-1.0, -2.0), 0.7071067811865476,
    1.4142135623730951, np.e,
])


@pytest.mark.parametrize("name", NAMES)
def test_special_values_as_numpy(name):
    with np.errstate(all="ignore"):
        want = getattr(np, name)(SPECIAL)
    got = apply(name, SPECIAL)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=name)
    exact = ~np.isnan(want) & ((want == 0) | np.isinf(want))
    # zeros keep their sign, infinities are exact
    np.testing.assert_array_equal(got[exact], want[exact], err_msg=name)
    np.testing.assert_array_equal(np.signbit(got[exact]), np.signbit(want[exact]),
                                  err_msg=name)
    rest = ~np.isnan(want) & ~exact
    diff = np.abs(got[rest] - want[rest]) / np.spacing(np.abs(want[rest]))
    assert diff.max(initial=0) <= 2, (name, SPECIAL[rest][np.argmax(diff)])


@pytest.mark.parametrize("name", ("exp", "expm1", "sin", "tanh", "log1p"))
def test_tiny_and_subnormal_results(name):
    x = np.array([5e-324, -5e-324, 1e-310, -3e-320, 1e-200, -1e-200])
    if name == "exp":
        x = np.array([-709.0, -720.0, -730.5, -740.0, -744.0, -745.0])
    got = apply(name, x)
    want = getattr(np, name)(x)
    if name == "exp":  # gradual underflow: within an ULP of the subnormal
        assert np.all(np.abs(got - want) <= np.spacing(want)), (got, want)
    else:  # f(x) rounds to x
        np.testing.assert_array_equal(got, x)
        np.testing.assert_array_equal(want, x)


# ----------------------------------------------------------------------- sin, cos

def _closest_to_multiples_of_pi_over_2(exponents):
    """Per binade 2**e, doubles M 2**(e-52) with M (2**(e-52) 2/pi) nearest an integer:
    multiples of the continued-fraction denominators of frac(2**(e-52) 2/pi) (2/pi
    from the module's 1360 bits, ample for these exponents)."""
    bits = int(vm._TWO_OVER_PI_HEX, 16)
    total = 4 * len(vm._TWO_OVER_PI_HEX)
    xs = [6381956970095103.0 * 2.0 ** 797]  # the classical worst case, |r| ~ 2**-61
    for e in exponents:
        shift = e - 52
        num = bits << shift if shift >= 0 else bits
        den = 1 << total if shift >= 0 else 1 << (total - shift)
        alpha = Fraction(num % den, den)
        qs, (p0, q0, p1, q1) = [], (1, 0, 0, 1)
        y = alpha
        while y and q1 < 2 ** 53:
            t = int(1 / y)
            y = 1 / y - t
            p0, q0, p1, q1 = p1, q1, t * p1 + p0, t * q1 + q0
            if q1 < 2 ** 53:
                qs.append(q1)
        for q in qs[-2:]:
            m = q * ((2 ** 53 - 1) // q)
            if m >= 2 ** 52:
                xs.append(float(m) * 2.0 ** shift)
    x = np.array(xs)
    return x[np.isfinite(x)]


def test_the_table_of_two_over_pi():
    mp = pytest.importorskip("mpmath")
    with mp.workdps(450):
        want = int(mp.floor(2 / mp.pi * mp.mpf(2) ** (4 * len(vm._TWO_OVER_PI_HEX))))
    assert int(vm._TWO_OVER_PI_HEX, 16) == want


@needs_extended
@pytest.mark.parametrize("name", ("sin", "cos"))
def test_arguments_nearest_multiples_of_pi_over_2(name):
    x = _closest_to_multiples_of_pi_over_2(range(-2, 1024, 3))
    got = apply(name, x)
    ref = getattr(np, name)(x.astype(np.longdouble))
    assert np.abs(ref).min() < 2.0 ** -55  # the set does reach the hard cases
    err, xs = ulp_errors(got, x, name)
    worst = int(np.argmax(err))
    assert err[worst] <= 1.0, f"{name}({xs[worst]!r}): {err[worst]:.3f} ULP"


# ----------------------------------------------------------------------- vectorizes

@pytest.mark.skipif("+avx2" not in llvm.get_host_cpu_features().flatten().split(",")
                    or not vm.fma_is_native(),
                    reason="the SIMD check is for x86 CPUs with AVX2 and FMA")
@pytest.mark.parametrize("name", NAMES)
def test_a_loop_calling_them_vectorizes(name):
    loop = _loop(name)
    loop(np.linspace(0.5, 1.5, 4), np.empty(4))
    ir = loop.inspect_llvm(loop.signatures[0])
    # the loop vectorizer ran (a call, a branch left in, would stop it)
    assert "vector.body" in ir and " x double>" in ir


# ----------------------------------------------------------------------- in a graph

def test_compiled_graph_uses_them_and_matches_the_interpreter():
    x, y = T.dvector("x"), T.fvector("y")
    outs = [T.exp(-x * x) * T.sin(3.0 * x) + T.log1p(x * x) * 0.5 - T.tanh(x) / 2.0,
            T.expm1(x) + T.cos(x) * T.log(T.abs(x)),
            T.exp(y) + T.sin(y) * T.tanh(y) - T.log1p(T.abs(y)) + T.cos(y) * T.expm1(y)]
    f, ref = nb.compile_both([x, y], outs)
    # without FMA (old x86 CPUs) the kernels keep calling libm
    assert ("vm_." in f._thunk.source) == vm.fma_is_native()
    rng = np.random.default_rng(0)
    xv = np.concatenate([rng.normal(scale=3, size=500), [0.0, -0.0, np.inf, -np.inf,
                                                         np.nan, 1e-310, 700.0, -800.0]])
    yv = np.roll(np.where(np.abs(xv) < 4, xv, xv / 100), 7).astype(np.float32)
    with np.errstate(all="ignore"):
        got, want = f(xv, yv), ref(xv, yv)
    for g, w in zip(got[:2], want[:2]):
        assert_allclose(g, w, rtol=1e-14, atol=1e-15)  # terms of order 1 cancel
    assert_allclose(got[2], want[2], rtol=1e-5, atol=1e-5)  # float32 steps round apart
