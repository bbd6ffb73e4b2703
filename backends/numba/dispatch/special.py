"""Scalar functions numba lacks, or computes differently, written to match NumPy/SciPy.

Generated kernels call these as ``sp_.name(...)``; each is compiled once per argument
type and cached on disk with the rest of numba's cache.

- Integer arithmetic as NumPy's loops do it: floor division and modulo by zero give 0,
  ``INT_MIN // -1`` wraps (numba would trap), shifts by the width or more give 0 (or
  -1), negative powers of integers are refused.
- Float floor division and modulo by NumPy's divmod algorithm (inf and NaN included).
- Special functions: gamma and gammaln with SciPy's values at the poles; digamma
  (recurrence to x >= 10, then the asymptotic series; reflection for x < 0); the
  Hurwitz zeta function by Euler-Maclaurin summation, which gives trigamma and
  polygamma(n, x) as SciPy defines them; erfinv (a rational first guess, then Newton
  steps on erf, or on erfc near +-1); expit and log(1 + exp(x)).
- Complex functions with the special values of C99 Annex G, which NumPy inherits from
  the C library (numba's own versions give NaN where the C library gives an infinity
  or a signed zero): exp, exp2, expm1, the trigonometric and hyperbolic functions and
  their inverses; NumPy's algorithms for complex division, power, sign and rint.
  Complex64 arguments are computed in double precision and rounded by the caller,
  except where NumPy's float32 rounding changes results visibly (power, exp2, log2,
  log10): there the float32 steps are reproduced (``single``).
"""

from __future__ import annotations

import cmath
import math

import numba
import numpy as np

_OPTS = dict(cache=True, nogil=True, error_model="numpy")
_PI_2 = math.pi / 2
_LN2 = math.log(2.0)
_LOG2E = 1.4426950408889634
_LOG10E = 0.4342944819032518


# ----------------------------------------------------------------------- integers

@numba.njit(**_OPTS)
def int_power(x, y, one):
    """x ** y by repeated squaring, wrapping around as NumPy's integer loops do;
    ``one`` (1 of the result dtype) fixes the type of the result."""
    if y < 0:
        raise ValueError("integers to negative integer powers are not allowed")
    r = one
    while y > 0:
        if y & 1:
            r = r * x
        x = x * x
        y >>= 1
    return r


@numba.njit(**_OPTS)
def int_floor_divide(a, b):
    """NumPy's floor_divide of signed integers: 0 for b == 0, wrap-around for INT_MIN // -1."""
    if b == 0:
        return a ^ a
    if b == -1:  # numba's division would trap on INT_MIN // -1
        return -a
    return a // b


@numba.njit(**_OPTS)
def int_mod(a, b):
    """NumPy's remainder of signed integers (the sign of b); 0 for b == 0."""
    if b == 0 or b == -1:
        return a ^ a
    return a % b


@numba.njit(**_OPTS)
def uint_floor_divide(a, b):
    if b == 0:
        return a ^ a
    return a // b


@numba.njit(**_OPTS)
def uint_mod(a, b):
    if b == 0:
        return a ^ a
    return a % b


@numba.njit(**_OPTS)
def left_shift(x, s, bits):
    """x << s in a ``bits``-wide integer; 0 when s is negative or at least ``bits``."""
    if s < 0 or s >= bits:
        return x ^ x
    return x << s


@numba.njit(**_OPTS)
def right_shift(x, s, bits):
    """x >> s (arithmetic for signed x); 0 or -1 (the sign of x) when s is out of range."""
    if s < 0 or s >= bits:
        if x < 0:
            return ~(x ^ x)
        return x ^ x
    return x >> s


# ----------------------------------------------------------------------- floats

@numba.njit(**_OPTS)
def _round(x, single):
    """x rounded to float32 when ``single``: where NumPy computes in float32."""
    if single:
        return np.float64(np.float32(x))
    return x


@numba.njit(**_OPTS)
def _divmod(a, b):
    """NumPy's npy_divmod: (floor(a / b), a mod b) with its rules for zeros and infinities."""
    mod = np.fmod(a, b)
    if b == 0.0:
        return a / b, mod
    div = (a - mod) / b
    if mod != 0.0:
        if (b < 0) != (mod < 0):
            mod += b
            div -= 1.0
    else:
        mod = math.copysign(0.0, b)
    if div != 0.0:
        floordiv = np.floor(div)
        if div - floordiv > 0.5:
            floordiv += 1.0
    else:
        floordiv = math.copysign(0.0, a / b)
    return floordiv, mod


@numba.njit(**_OPTS)
def float_floor_divide(a, b):
    return _divmod(a, b)[0]


@numba.njit(**_OPTS)
def float_mod(a, b):
    return _divmod(a, b)[1]


@numba.njit(**_OPTS)
def float_sign(x):
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return x - x  # 0 stays 0, NaN stays NaN


@numba.njit(**_OPTS)
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@numba.njit(**_OPTS)
def softplus(x):
    """log(1 + exp(x)) as NumPy's logaddexp(0, x)."""
    if x == 0.0:
        return x + _LN2
    if x > 0:
        return x + np.log1p(np.exp(-x))
    if x <= 0:
        return np.log1p(np.exp(x))
    return x  # NaN


# ----------------------------------------------------------------------- special functions

@numba.njit(**_OPTS)
def gamma(x):
    if x == 0.0:
        return math.copysign(math.inf, x)
    if x < 0.0 and x == np.floor(x):
        return math.nan
    if x > 171.7:
        return math.inf
    if x < -184.0:
        # |gamma| underflows; its sign alternates between the poles
        return 0.0 if int(np.floor(x)) % 2 == 0 else -0.0
    return math.gamma(x)


@numba.njit(**_OPTS)
def gammaln(x):
    if math.isinf(x):
        return x  # SciPy: gammaln(-inf) is -inf
    if x <= 0.0 and x == np.floor(x):
        return math.inf
    return math.lgamma(x)


@numba.njit(**_OPTS)
def _digamma_pos(x):
    # x > 0, finite: recurrence up to x >= 10, then the asymptotic series
    acc = 0.0
    while x < 10.0:
        acc -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (
        1.0 / 240 - inv2 * (1.0 / 132 - inv2 * (691.0 / 32760 - inv2 / 12.0))))))
    return acc + math.log(x) - 0.5 / x - series


@numba.njit(**_OPTS)
def digamma(x):
    # no recursion: numba cannot cache a recursive function called from other modules
    if math.isnan(x):
        return x
    if x == 0.0:
        return -math.inf if math.copysign(1.0, x) > 0 else math.inf
    if math.isinf(x):
        return x if x > 0 else math.nan
    if x < 0.0:
        if x == np.floor(x):
            return math.nan
        # reflection: psi(1 - x) - psi(x) = pi / tan(pi x)
        return _digamma_pos(1.0 - x) - math.pi / math.tan(math.pi * x)
    return _digamma_pos(x)


_ZETA_A = np.array([12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
                    7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
                    -4.5979787224074726105e15, 1.8152105401943546773e17,
                    -7.1661652561756670113e18])
_EPS = 1.11022302462515654042e-16


@numba.njit(**_OPTS)
def zeta(s, q):
    """The Hurwitz zeta function sum_k (k + q)^-s, s >= 1, by Euler-Maclaurin summation
    (the algorithm of SciPy's zeta, so polygamma agrees with SciPy's)."""
    if s == 1.0:
        return math.inf
    if s < 1.0:
        return math.nan
    if q <= 0.0:
        if q == np.floor(q):
            return math.inf
        if s != np.floor(s):
            return math.nan  # q^-s is not real
    if q > 1e8:  # asymptotic expansion (DLMF 25.11.43)
        return (1.0 / (s - 1.0) + 1.0 / (2.0 * q)) * q ** (1.0 - s)
    total = q ** -s
    a = q
    b = 0.0
    i = 0
    while i < 9 or a <= 9.0:
        i += 1
        a += 1.0
        b = a ** -s
        total += b
        if abs(b / total) < _EPS:
            return total
    w = a
    total += b * w / (s - 1.0)
    total -= 0.5 * b
    fact = 1.0
    k = 0.0
    for j in range(12):
        fact *= s + k
        b /= w
        t = fact * b / _ZETA_A[j]
        total += t
        if abs(t / total) < _EPS:
            return total
        k += 1.0
        fact *= s + k
        b /= w
        k += 1.0
    return total


@numba.njit(**_OPTS)
def trigamma(x):
    return zeta(2.0, x)  # SciPy's polygamma(1, x)


@numba.njit(**_OPTS)
def polygamma(n, n1, x, single):
    """SciPy's polygamma: psi for n == 0, else (-1)^(n+1) gamma(n+1) zeta(n+1, x);
    ``n1`` is n + 1 computed in n's dtype (wrapped around, as SciPy computes it);
    ``single``: x is float32, so SciPy's zeta rounds (and underflows) to float32."""
    if n < 0:
        raise ValueError("polygamma: the order n must be >= 0")
    if n == 0:
        return digamma(x)
    m = np.float64(n1)
    return np.power(-1.0, m) * gamma(np.float64(n) + 1.0) * _round(zeta(m, x), single)


@numba.njit(**_OPTS)
def erfinv(y):
    if math.isnan(y) or y < -1.0 or y > 1.0:
        return math.nan
    if y == 1.0:
        return math.inf
    if y == -1.0:
        return -math.inf
    if y == 0.0:
        return y
    # first guess (Giles' single-precision approximation), then Newton steps
    w = -math.log((1.0 - y) * (1.0 + y))
    if w < 5.0:
        w -= 2.5
        p = 2.81022636e-08
        p = 3.43273939e-07 + p * w
        p = -3.5233877e-06 + p * w
        p = -4.39150654e-06 + p * w
        p = 0.00021858087 + p * w
        p = -0.00125372503 + p * w
        p = -0.00417768164 + p * w
        p = 0.246640727 + p * w
        p = 1.50140941 + p * w
    else:
        w = math.sqrt(w) - 3.0
        p = -0.000200214257
        p = 0.000100950558 + p * w
        p = 0.00134934322 + p * w
        p = -0.00367342844 + p * w
        p = 0.00573950773 + p * w
        p = -0.0076224613 + p * w
        p = 0.00943887047 + p * w
        p = 1.00167406 + p * w
        p = 2.83297682 + p * w
    x = p * y
    two_over_sqrt_pi = 1.1283791670955126
    a = abs(y)
    if a <= 0.5:
        for _ in range(3):
            x -= (math.erf(x) - y) / (two_over_sqrt_pi * math.exp(-x * x))
    else:
        # near +-1 solve erfc(|x|) = 1 - |y| (exact here), which keeps every digit
        r = 1.0 - a
        t = abs(x)
        for _ in range(4):
            d = two_over_sqrt_pi * math.exp(-t * t)
            if d == 0.0:
                break
            t += (math.erfc(t) - r) / d
        x = math.copysign(t, y)
    return x


# ----------------------------------------------------------------------- complex numbers

@numba.njit(**_OPTS)
def complex_abs(z):
    return np.hypot(np.float64(z.real), np.float64(z.imag))


@numba.njit(**_OPTS)
def complex_sign(z):
    """NumPy 2's sign: z / |z|, with unit results for one infinite part."""
    x = np.float64(z.real)
    y = np.float64(z.imag)
    if math.isinf(x):
        if math.isinf(y):
            return complex(math.nan, math.nan)
        return complex(math.copysign(1.0, x), 0.0)
    if math.isinf(y):
        return complex(0.0, math.copysign(1.0, y))
    if math.isnan(x) or math.isnan(y):
        return complex(math.nan, math.nan)
    if x == 0.0 and y == 0.0:
        return complex(0.0, 0.0)
    a = np.hypot(x, y)
    return complex(x / a, y / a)


@numba.njit(**_OPTS)
def complex_rint(z):
    return complex(np.rint(np.float64(z.real)), np.rint(np.float64(z.imag)))


@numba.njit(**_OPTS)
def _cdiv(ar, ai, br, bi):
    """NumPy's complex division (Smith's algorithm; x / 0 gives infinities or NaN)."""
    abs_br = abs(br)
    abs_bi = abs(bi)
    if abs_br >= abs_bi:
        if abs_br == 0.0 and abs_bi == 0.0:
            return complex(ar / abs_br, ai / abs_br)
        rat = bi / br
        scl = 1.0 / (br + bi * rat)
        return complex((ar + ai * rat) * scl, (ai - ar * rat) * scl)
    rat = br / bi
    scl = 1.0 / (bi + br * rat)
    return complex((ar * rat + ai) * scl, (ai * rat - ar) * scl)


@numba.njit(**_OPTS)
def complex_reciprocal(z):
    """NumPy's 1 / z (1 / 0 is NaN here, unlike 1 / (0 + 0j) by division)."""
    x = np.float64(z.real)
    y = np.float64(z.imag)
    if abs(y) <= abs(x):
        r = y / x
        d = x + y * r
        return complex(1.0 / d, -r / d)
    r = x / y
    d = x * r + y
    return complex(r / d, -1.0 / d)


@numba.njit(**_OPTS)
def complex_divide(a, b):
    return _cdiv(np.float64(a.real), np.float64(a.imag), np.float64(b.real), np.float64(b.imag))


@numba.njit(**_OPTS)
def _cmul(ar, ai, br, bi):
    return ar * br - ai * bi, ar * bi + ai * br


@numba.njit(**_OPTS)
def _cmul_round(ar, ai, br, bi, single):
    """_cmul with every product and sum rounded as float32 arithmetic does when
    ``single`` (so it overflows where NumPy's complex64 loop overflows)."""
    if not single:
        return ar * br - ai * bi, ar * bi + ai * br
    return (_round(_round(ar * br, True) - _round(ai * bi, True), True),
            _round(_round(ar * bi, True) + _round(ai * br, True), True))


@numba.njit(**_OPTS)
def _cmul_annex_g(a, b, c, d):
    """(a + ib)(c + id) as C99 Annex G multiplies: an infinite factor gives an infinite
    product rather than NaN (the C library's cpow relies on it)."""
    ac = a * c
    bd = b * d
    ad = a * d
    bc = b * c
    x = ac - bd
    y = ad + bc
    if math.isnan(x) and math.isnan(y):
        recalc = False
        if math.isinf(a) or math.isinf(b):
            a = math.copysign(1.0 if math.isinf(a) else 0.0, a)
            b = math.copysign(1.0 if math.isinf(b) else 0.0, b)
            if math.isnan(c):
                c = math.copysign(0.0, c)
            if math.isnan(d):
                d = math.copysign(0.0, d)
            recalc = True
        if math.isinf(c) or math.isinf(d):
            c = math.copysign(1.0 if math.isinf(c) else 0.0, c)
            d = math.copysign(1.0 if math.isinf(d) else 0.0, d)
            if math.isnan(a):
                a = math.copysign(0.0, a)
            if math.isnan(b):
                b = math.copysign(0.0, b)
            recalc = True
        if not recalc and (math.isinf(ac) or math.isinf(bd) or math.isinf(ad)
                           or math.isinf(bc)):
            if math.isnan(a):
                a = math.copysign(0.0, a)
            if math.isnan(b):
                b = math.copysign(0.0, b)
            if math.isnan(c):
                c = math.copysign(0.0, c)
            if math.isnan(d):
                d = math.copysign(0.0, d)
            recalc = True
        if recalc:
            x = math.inf * (a * c - b * d)
            y = math.inf * (a * d + b * c)
    return x, y


@numba.njit(**_OPTS)
def complex_power(a, b, single):
    """NumPy's complex power: 1 for b == 0; 0 or NaN for a == 0; repeated multiplication
    for integer exponents below 100 in magnitude; otherwise the C library's
    exp(b log a). ``single``: round as complex64 arithmetic does."""
    ar = np.float64(a.real)
    ai = np.float64(a.imag)
    br = np.float64(b.real)
    bi = np.float64(b.imag)
    if br == 0.0 and bi == 0.0:
        return complex(1.0, 0.0)
    if ar == 0.0 and ai == 0.0:
        if br > 0:
            return complex(0.0, 0.0)
        return complex(math.nan, math.nan)
    if bi == 0.0 and br == np.floor(br) and abs(br) < 100:
        n = int(br)
        if n == 1:
            return complex(ar, ai)
        if n == 2 or n == 3:
            rr, ri = _cmul_round(ar, ai, ar, ai, single)
            if n == 3:
                rr, ri = _cmul_round(rr, ri, ar, ai, single)
            return complex(rr, ri)
        # NumPy's loop, from 1 (so 1 * inf gives the same NaNs as there)
        m = abs(n)
        mask = 1
        rr, ri = 1.0, 0.0
        pr, pi_ = ar, ai
        while True:
            if m & mask:
                rr, ri = _cmul_round(rr, ri, pr, pi_, single)
            mask <<= 1
            if m < mask:
                break
            pr, pi_ = _cmul_round(pr, pi_, pr, pi_, single)
        if n < 0:
            return _cdiv(1.0, 0.0, rr, ri)
        return complex(rr, ri)
    lg = np.log(complex(ar, ai))
    er, ei = _cmul_annex_g(br, bi, _round(lg.real, single), _round(lg.imag, single))
    return _cexp(_round(er, single), _round(ei, single))


@numba.njit(**_OPTS)
def _cexp(x, y):
    """exp(x + iy) with Annex G's special values."""
    if y == 0.0:
        return complex(math.exp(x), y)
    if not math.isfinite(y):
        if x == math.inf:
            return complex(x, math.nan)
        if x == -math.inf:
            return complex(0.0, 0.0)
        return complex(math.nan, math.nan)
    if x > 700.0 and math.isfinite(x):  # exp(x) overflows before the product does
        h = math.exp(0.5 * x)
        return complex(math.cos(y) * h * h, math.sin(y) * h * h)
    e = math.exp(x)
    return complex(e * math.cos(y), e * math.sin(y))


@numba.njit(**_OPTS)
def complex_exp(z):
    return _cexp(np.float64(z.real), np.float64(z.imag))


@numba.njit(**_OPTS)
def complex_exp2(z, ln2):
    """exp(z ln 2), the product rounded in z's precision (``ln2`` has it) as NumPy does."""
    return _cexp(np.float64(z.real * ln2), np.float64(z.imag * ln2))


@numba.njit(**_OPTS)
def complex_expm1(z):
    """NumPy's expm1 of complex: precise for small |z|."""
    x = np.float64(z.real)
    y = np.float64(z.imag)
    s = math.sin(0.5 * y)
    return complex(math.expm1(x) * math.cos(y) - 2.0 * s * s, math.exp(x) * math.sin(y))


@numba.njit(**_OPTS)
def complex_log(z):
    return np.log(complex(np.float64(z.real), np.float64(z.imag)))


@numba.njit(**_OPTS)
def complex_log1p(z):
    """NumPy's log1p of complex: log|1 + z| + i arg(1 + z)."""
    x = np.float64(z.real) + 1.0
    y = np.float64(z.imag)
    return complex(math.log(np.hypot(x, y)), math.atan2(y, x))


@numba.njit(**_OPTS)
def complex_log2(z, single):
    """log(z) * log2(e), rounded as complex64 arithmetic rounds when ``single``."""
    r = complex_log(z)
    k = _round(_LOG2E, single)
    return complex(r.real if math.isinf(r.real) else _round(r.real, single) * k,
                   _round(r.imag, single) * k)


@numba.njit(**_OPTS)
def complex_log10(z, single):
    r = complex_log(z)
    k = _round(_LOG10E, single)
    return complex(r.real if math.isinf(r.real) else _round(r.real, single) * k,
                   _round(r.imag, single) * k)


@numba.njit(**_OPTS)
def complex_sqrt(z):
    return np.sqrt(complex(np.float64(z.real), np.float64(z.imag)))


@numba.njit(**_OPTS)
def _sinh_cosh(x):
    """(sinh x, cosh x) without overflow of the intermediate exp for large |x|."""
    if abs(x) > 700.0 and math.isfinite(x):
        h = math.exp(0.5 * abs(x))
        return math.copysign(0.5 * h * h, x), 0.5 * h * h
    return math.sinh(x), math.cosh(x)


@numba.njit(**_OPTS)
def _csinh(x, y):
    """sinh(x + iy) with Annex G's special values."""
    if y == 0.0:
        return complex(math.sinh(x), y)
    if not math.isfinite(y):
        if x == 0.0:
            return complex(x, math.nan)
        if math.isinf(x):
            return complex(math.inf, math.nan)  # the sign is free; the C library's is +
        return complex(math.nan, math.nan)
    if math.isnan(x):
        return complex(math.nan, math.nan)
    sh, ch = _sinh_cosh(x)
    return complex(sh * math.cos(y), ch * math.sin(y))


@numba.njit(**_OPTS)
def _ccosh(x, y):
    """cosh(x + iy) with Annex G's special values."""
    if y == 0.0:
        return complex(math.cosh(x), 0.0 if math.isnan(x) else math.copysign(0.0, x) * y)
    if not math.isfinite(y):
        if x == 0.0:
            return complex(math.nan, 0.0)
        if math.isinf(x):
            return complex(math.inf, math.nan)
        return complex(math.nan, math.nan)
    if x == 0.0:
        return complex(math.cos(y), x * math.sin(y))
    if math.isnan(x):
        return complex(math.nan, math.nan)
    sh, ch = _sinh_cosh(x)
    return complex(ch * math.cos(y), sh * math.sin(y))


@numba.njit(**_OPTS)
def _ctanh(x, y):
    """tanh(x + iy): Kahan's formula, Annex G's special values."""
    if not math.isfinite(x):
        if math.isnan(x):
            return complex(x, y if y == 0.0 else math.nan)
        if not math.isfinite(y):
            return complex(math.copysign(1.0, x), math.copysign(0.0, y))
        return complex(math.copysign(1.0, x), math.copysign(0.0, math.sin(y) * math.cos(y)))
    if not math.isfinite(y):
        if x == 0.0:
            return complex(x, math.nan)
        return complex(math.nan, math.nan)
    if abs(x) >= 22.0:
        e = math.exp(-abs(x))
        return complex(math.copysign(1.0, x), 4.0 * math.sin(y) * math.cos(y) * e * e)
    t = math.tan(y)
    beta = 1.0 + t * t
    s = math.sinh(x)
    rho = math.sqrt(1.0 + s * s)
    denom = 1.0 + beta * s * s
    return complex(beta * rho * s / denom, t / denom)


@numba.njit(**_OPTS)
def complex_sinh(z):
    return _csinh(np.float64(z.real), np.float64(z.imag))


@numba.njit(**_OPTS)
def complex_cosh(z):
    return _ccosh(np.float64(z.real), np.float64(z.imag))


@numba.njit(**_OPTS)
def complex_tanh(z):
    return _ctanh(np.float64(z.real), np.float64(z.imag))


# sin z = -i sinh(iz), cos z = cosh(iz), tan z = -i tanh(iz)
@numba.njit(**_OPTS)
def complex_sin(z):
    x = np.float64(z.real)
    y = np.float64(z.imag)
    if math.isinf(y) and not math.isfinite(x):
        return complex(math.nan, math.inf)  # the sign is free; the C library's is +
    r = _csinh(-y, x)
    return complex(r.imag, -r.real)


@numba.njit(**_OPTS)
def complex_cos(z):
    return _ccosh(-np.float64(z.imag), np.float64(z.real))


@numba.njit(**_OPTS)
def complex_tan(z):
    r = _ctanh(-np.float64(z.imag), np.float64(z.real))
    return complex(r.imag, -r.real)


@numba.njit(**_OPTS)
def _casinh(x, y):
    """asinh(x + iy): numba's (CPython's) formula for finite values, Annex G otherwise."""
    if math.isfinite(x) and math.isfinite(y):
        return cmath.asinh(complex(x, y))
    if math.isnan(x):
        if y == 0.0:
            return complex(x, y)
        if math.isinf(y):
            return complex(math.copysign(math.inf, x), math.nan)
        return complex(math.nan, math.nan)
    if math.isinf(x):
        if math.isnan(y):
            return complex(x, y)
        im = math.pi / 4 if math.isinf(y) else 0.0
        return complex(x, math.copysign(im, y))
    # x finite, y infinite or NaN
    if math.isnan(y):
        return complex(math.nan, math.nan)
    return complex(math.copysign(math.inf, x), math.copysign(_PI_2, y))


@numba.njit(**_OPTS)
def _cacos(x, y):
    """acos(x + iy): CPython's formula for finite values; otherwise pi/2 - asin(x + iy),
    which gives Annex G's special values (and the C library's signs)."""
    if math.isfinite(x) and math.isfinite(y):
        return cmath.acos(complex(x, y))
    r = _casinh(-y, x)  # asin z = -i asinh(iz) = (r.imag, -r.real)
    return complex(_PI_2 - r.imag, r.real)


@numba.njit(**_OPTS)
def _cacosh(x, y):
    """acosh(x + iy): CPython's formula for finite values, Annex G otherwise."""
    if math.isfinite(x) and math.isfinite(y):
        return cmath.acosh(complex(x, y))
    if math.isnan(x):
        if math.isinf(y):
            return complex(math.inf, math.nan)
        return complex(math.nan, math.nan)
    if math.isnan(y):
        if x == 0.0:
            return complex(math.nan, _PI_2)
        if math.isinf(x):
            return complex(math.inf, math.nan)
        return complex(math.nan, math.nan)
    if math.isinf(x):
        if math.isinf(y):
            im = math.pi / 4 if x > 0 else 3 * math.pi / 4
        else:
            im = 0.0 if x > 0 else math.pi
        return complex(math.inf, math.copysign(im, y))
    return complex(math.inf, math.copysign(_PI_2, y))  # x finite, y infinite


@numba.njit(**_OPTS)
def _catanh(x, y):
    """atanh(x + iy): CPython's formula for finite values, Annex G otherwise."""
    if math.isfinite(x) and math.isfinite(y):
        return cmath.atanh(complex(x, y))
    if math.isnan(x):
        if math.isinf(y):
            return complex(math.copysign(0.0, x), math.copysign(_PI_2, y))
        return complex(math.nan, math.nan)
    if math.isnan(y):
        if x == 0.0:
            return complex(x, y)
        if math.isinf(x):
            return complex(math.copysign(0.0, x), y)
        return complex(math.nan, math.nan)
    return complex(math.copysign(0.0, x), math.copysign(_PI_2, y))  # an infinite part


@numba.njit(**_OPTS)
def complex_arcsinh(z):
    return _casinh(np.float64(z.real), np.float64(z.imag))


@numba.njit(**_OPTS)
def complex_arccosh(z):
    return _cacosh(np.float64(z.real), np.float64(z.imag))


@numba.njit(**_OPTS)
def complex_arctanh(z):
    return _catanh(np.float64(z.real), np.float64(z.imag))


@numba.njit(**_OPTS)
def complex_arccos(z):
    return _cacos(np.float64(z.real), np.float64(z.imag))


# asin z = -i asinh(iz), atan z = -i atanh(iz)
@numba.njit(**_OPTS)
def complex_arcsin(z):
    r = _casinh(-np.float64(z.imag), np.float64(z.real))
    return complex(r.imag, -r.real)


@numba.njit(**_OPTS)
def complex_arctan(z):
    r = _catanh(-np.float64(z.imag), np.float64(z.real))
    return complex(r.imag, -r.real)
