"""exp, expm1, log, log1p, sin, cos and tanh of float64 that LLVM can vectorize.

A fused elementwise loop (elemwise.py) that calls ``np.exp`` etc. makes one libm call
per element, and a call stops LLVM's loop vectorizer. These versions are straight-line
arithmetic: range reduction, a polynomial, 2**k built from the bits of the float,
special values chosen with selects (``a if c else b``) rather than branches. numba
compiles each once; LLVM inlines them into the calling loop when it links the kernel
and vectorizes the whole loop (AVX2 / AVX-512 where the CPU has them).

Accuracy: within 1 ULP of the correctly rounded result over the whole float64 range
(tests/backends/numba/test_vecmath.py), special values (nan, +-inf, +-0.0, overflow,
subnormal results) as NumPy gives them. float32 inputs are computed here in float64
and rounded by the caller.

How:
- The polynomials are minimax fits (Remez exchange in mpmath) made for this module;
  the leading terms are kept apart (double-double sums, exact products by fma) so
  that the last rounding dominates the error.
- exp/expm1: x = k ln2 + r, |r| <= ln2/2 (Cody-Waite: one fma gives x - k*ln2_hi
  exactly, ln2_hi being ln 2 rounded), 2**k as two factors so that overflow and
  gradual underflow round once.
- log/log1p: x = 2**k m, m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(f / (2 + f)),
  f = m - 1 (the classical form of fdlibm); log1p keeps the rounding of 1 + x.
- sin/cos: Payne-Hanek reduction for every argument: x * 2/pi mod 4 from four
  52-bit pieces of 2/pi chosen by the exponent of x (a 45-entry constant table read
  with a gather), exact products, double-double sums. A scalar fallback for huge
  arguments would be a call inside the loop, which no longer vectorizes.
- tanh: an odd polynomial below 0.35, above it 1 - 2/(exp(2|x|) + 1) with exp kept
  as 2**k (1 + q) and the division corrected by one fma step.

Only kernels compiled with ``error_model='numpy'`` (division without a zero check)
vectorize; the backend compiles all of its kernels that way. On x86 CPUs without FMA
(before Haswell) scalar.py keeps libm: see ``fma_is_native``.
"""

from __future__ import annotations

import platform

import llvmlite.binding as llvm
import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_OPTS = dict(cache=True, nogil=True, error_model="numpy", forceinline=True)


def fma_is_native() -> bool:
    """Whether the CPU numba compiles for has fused multiply-add. Without it llvm.fma
    is a call into libm: still exact, but the loop no longer vectorizes and these
    functions are slower than libm's (measured 3x on an SSE2-only x86-64 target)."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return True                    # aarch64, ppc64le, s390x: fma is baseline
    from numba.core import config
    features = config.CPU_FEATURES
    if features is None:
        features = llvm.get_host_cpu_features().flatten()
    return "+fma" in features.split(",")


# ------------------------------------------------------------------- LLVM primitives
# Bit casts and fused multiply-add as single LLVM instructions: the loop vectorizer
# widens them, and fma keeps a*b exact inside a*b + c (llvm.fma is correctly rounded
# on every target; on CPUs without FMA it is a library call, slow but right).

@intrinsic
def _bits(typingctx, x):
    """The bits of a float64 as an int64."""
    if x == types.float64:
        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], ir.IntType(64))
        return types.int64(types.float64), codegen
    return None


@intrinsic
def _float(typingctx, i):
    """The float64 whose bits are the int64 ``i``."""
    if i == types.int64:
        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], ir.DoubleType())
        return types.float64(types.int64), codegen
    return None


@intrinsic
def _fma(typingctx, a, b, c):
    """a * b + c with one rounding."""
    if a == b == c == types.float64:
        def codegen(context, builder, sig, args):
            f64 = ir.DoubleType()
            fn = builder.module.declare_intrinsic(
                "llvm.fma", [f64], ir.FunctionType(f64, [f64, f64, f64]))
            return builder.call(fn, args)
        return types.float64(types.float64, types.float64, types.float64), codegen
    return None


# ---------------------------------------------------------------------- constants
_SHIFT = 6755399441055744.0        # 1.5 * 2**52: x + _SHIFT rounds x to an integer
_TWO52 = 4503599627370496.0
_INF = float("inf")
_NAN = float("nan")
_SIGN = -0x8000000000000000        # the sign bit of an int64

_INV_LN2 = 1.4426950408889634
_LN2 = 0.6931471805599453          # ln 2 rounded, and the rest
_LN2_LO = 2.3190468138462996e-17
_LN2_HI42 = 0.6931471805598903     # ln 2 to 42 bits: k * _LN2_HI42 is exact
_LN2_LO42 = 5.497923018708371e-14

_PIO2 = 1.5707963267948966         # pi/2 rounded, and the rest
_PIO2_LO = 6.123233995736766e-17

# exp(r) = 1 + r + r**2 P(r) on |r| <= ln2/2
_P0, _P1, _P2, _P3 = 0.5, 0.1666666666666667, 0.041666666666666685, 0.008333333333326141
_P4, _P5, _P6 = 0.0013888888888874409, 0.0001984126987480198, 2.480158734731361e-05
_P7, _P8 = 2.7557255424100836e-06, 2.755725293752991e-07
_P9, _P10 = 2.510520698140964e-08, 2.092158087540867e-09

# log((1+s)/(1-s)) = 2s + s z Q(z), z = s**2, |s| <= 3 - 2 sqrt(2)
_Q0, _Q1, _Q2 = 0.6666666666666666, 0.40000000000000885, 0.2857142857079862
_Q3, _Q4, _Q5 = 0.22222222392731805, 0.18181795541296017, 0.15386244628921278
_Q6, _Q7 = 0.13268651399888742, 0.13087808016391236

# sin(r) = r + r z S(z), cos(r) = 1 - z/2 + z**2 C(z), z = r**2, |r| <= pi/4
_S0, _S1, _S2 = -0.16666666666666666, 0.008333333333333331, -0.00019841269841265068
_S3, _S4 = 2.7557319219340764e-06, -2.505210623294641e-08
_S5, _S6 = 1.605853169086586e-10, -7.586701001811345e-13
_C0, _C1, _C2 = 0.041666666666666664, -0.0013888888888887398, 2.480158729876704e-05
_C3, _C4 = -2.755731727234419e-07, 2.08761463822279e-09
_C5 = -1.1382639806230871e-11

# tanh(x) = x + x z T(z), z = x**2, |x| <= 0.35
_T0, _T1, _T2 = -0.3333333333333333, 0.13333333333332856, -0.05396825396720585
_T3, _T4, _T5 = 0.021869488447756647, -0.008863231790403246, 0.0035920389720989496
_T6, _T7, _T8 = -0.0014545830421663433, 0.0005796917532860765, -0.00019208389666779675
_TANH_POLY = 0.35

# The first 1360 bits of 2/pi (hex digits of floor(2/pi * 2**1360)).
_TWO_OVER_PI_HEX = (
    "a2f9836e4e441529fc2757d1f534ddc0db6295993c439041fe5163abdebbc561b7246e3a424dd2e0"
    "06492eea09d1921cfe1deb1cb129a73ee88235f52ebb4484e99c7026b45f7e413991d639835339f4"
    "9c845f8bbdf9283b1ff897ffde05980fef2f118b5a0a6d1f6d367ecf27cb09b74f463f669e5fea2d"
    "7527bac7ebe5f17b3d0739f78a5292ea6bfb5fb11f8d5d0856033046fc7b6babf0cfbc209af4361d"
    "a9e391615ee61b086599")


def _pio2_table(n=45):
    """Bits 26j+1 .. 26j+52 of 2/pi as floats in [0, 1): entry j times 2**-26j is that
    stretch of 2/pi. Entries j, j+2, j+4, j+6 make 208 consecutive bits."""
    bits = int(_TWO_OVER_PI_HEX, 16)
    total = 4 * len(_TWO_OVER_PI_HEX)
    return np.array([((bits >> (total - 26 * j - 52)) & ((1 << 52) - 1)) / 2.0 ** 52
                     for j in range(n)])


# A read-only global: numba freezes it into the machine code as a constant (360 bytes)
_PIO2_TABLE = _pio2_table()


# ---------------------------------------------------------------------- helpers

@numba.njit(**_OPTS)
def _near(x):
    """x rounded to an integer, |x| < 2**51."""
    return (x + _SHIFT) - _SHIFT


@numba.njit(**_OPTS)
def _rint(x):
    """x rounded to an integer (ties to even) for |x| < 2**51; x itself above 2**52,
    where every float is an integer. In between it may be off by one, still exact."""
    r = (x + _SHIFT) - _SHIFT
    return x if abs(x) >= _TWO52 else r


@numba.njit(**_OPTS)
def _two_sum(a, b):
    """a + b = s + err exactly (Knuth's two-sum)."""
    s = a + b
    bv = s - a
    return s, (a - (s - bv)) + (b - bv)


@numba.njit(**_OPTS)
def _pow2(k):
    """2.0**k for integer k in [-1022, 1023], from the bits."""
    return _float((k + 1023) << 52)


@numba.njit(**_OPTS)
def _exp_reduce(x):
    """(k, r, r_lo, s): x = k ln2 + r + r_lo, and exp(r + r_lo) = 1 + r + s with s
    small (|s| < 0.07); x is finite and |x| < 2**10 (callers clamp it)."""
    kd = _fma(x, _INV_LN2, _SHIFT)
    k = _bits(kd) - _bits(_SHIFT)
    kd = kd - _SHIFT
    r = _fma(-kd, _LN2, x)         # exact: the result fits in 53 bits
    r_lo = -kd * _LN2_LO
    p = _fma(_P10, r, _P9)
    p = _fma(p, r, _P8)
    p = _fma(p, r, _P7)
    p = _fma(p, r, _P6)
    p = _fma(p, r, _P5)
    p = _fma(p, r, _P4)
    p = _fma(p, r, _P3)
    p = _fma(p, r, _P2)
    p = _fma(p, r, _P1)
    p = _fma(p, r, _P0)
    # exp(r + r_lo) = exp(r) (1 + r_lo + ...), |r_lo| < 2**-45: r_lo exp(r) needs
    # few bits
    rr = r * r
    s = _fma(rr, p, r_lo * ((1.0 + r) + rr * p))
    return k, r, r_lo, s


# ---------------------------------------------------------------------- exp family

@numba.njit(**_OPTS)
def exp(x):
    """e**x of a float64, within 1 ULP; inf above 709.78, 0 below -745.13."""
    x = 710.0 if x > 710.0 else x          # NaN passes both
    x = -746.0 if x < -746.0 else x
    k, r, r_lo, s = _exp_reduce(x)
    hi = 1.0 + r
    lo = (1.0 - hi) + r                    # exact: 1 + r = hi + lo
    p = hi + (lo + s)
    # 2**k in two factors: exact up to the last multiplication, which rounds once
    # (to inf, or to a subnormal)
    k1 = k >> 1
    return (p * _pow2(k1)) * _pow2(k - k1)


@numba.njit(**_OPTS)
def expm1(x):
    """e**x - 1 of a float64, within 1 ULP, -0.0 kept."""
    xc = 710.0 if x > 710.0 else x
    xc = -45.0 if xc < -45.0 else xc       # below, e**x - 1 rounds to -1
    k, r, r_lo, s = _exp_reduce(xc)
    small = r + s                          # k == 0: r is x itself
    # k != 0: (2**k (1 + r + s) - 1) / 2 = (2**(k-1) - 1/2) + 2**(k-1) r + 2**(k-1) s,
    # the first two sums exact (two-sum), so only the last rounding counts
    sc = _pow2(k - 1)
    a, a_lo = _two_sum(sc, -0.5)
    b, b_lo = _two_sum(a, sc * r)
    big = 2.0 * (b + ((b_lo + a_lo) + sc * s))
    res = small if k == 0 else big
    return x if x == 0.0 else res          # +-0.0 as given


# ---------------------------------------------------------------------- log family

@numba.njit(**_OPTS)
def _log_parts(u):
    """(k, f) with u = 2**k (1 + f), 1 + f in [sqrt(1/2), sqrt(2)); u > 0 finite."""
    sub = u < 2.2250738585072014e-308
    u = u * 18014398509481984.0 if sub else u      # subnormal: scale by 2**54
    i = _bits(u) - 0x3FE6A09E667F3BCD              # the bits of sqrt(1/2)
    k = i >> 52
    m = _float(_bits(u) - (k << 52))
    k = k - 54 if sub else k
    return k, m - 1.0


@numba.njit(**_OPTS)
def _log1p_f(f, kd, c):
    """k ln2 + log(1 + f) + c for |f| <= sqrt(2) - 1 and a small correction c."""
    s = f / (2.0 + f)
    z = s * s
    q = _fma(_Q7, z, _Q6)
    q = _fma(q, z, _Q5)
    q = _fma(q, z, _Q4)
    q = _fma(q, z, _Q3)
    q = _fma(q, z, _Q2)
    q = _fma(q, z, _Q1)
    q = _fma(q, z, _Q0)
    hfsq = 0.5 * f * f
    # log(1 + f) = 2s + s z Q(z) = f - hfsq + s (hfsq + z Q(z))   (2s = f - s f)
    tail = _fma(s, _fma(z, q, hfsq), _fma(kd, _LN2_LO42, c))
    return kd * _LN2_HI42 + (f - (hfsq - tail))


@numba.njit(**_OPTS)
def log(x):
    """Natural logarithm of a float64, within 1 ULP; -inf at +-0, nan below 0."""
    k, f = _log_parts(x)
    res = _log1p_f(f, np.float64(k), 0.0)
    res = _INF if x == _INF else res
    res = -_INF if x == 0.0 else res
    return res if x >= 0.0 else _NAN


@numba.njit(**_OPTS)
def log1p(x):
    """log(1 + x) of a float64, within 1 ULP; -0.0 kept, -inf at -1, nan below."""
    # 1 + x = u + c exactly, then log(1 + x) = log(u) + c/u
    u, c = _two_sum(1.0, x)
    k, f = _log_parts(u)
    # where u = 1 + f (k == 0) f is x itself: no rounding to correct
    f = x if k == 0 else f
    c = 0.0 if k == 0 else c / u
    res = _log1p_f(f, np.float64(k), c)
    res = _INF if x == _INF else res
    res = -_INF if x == -1.0 else res
    res = x if x == 0.0 else res
    return res if x >= -1.0 else _NAN


# ---------------------------------------------------------------------- sin, cos

@numba.njit(**_OPTS)
def _reduce_pio2(ax):
    """(q, r, r_lo): ax = (4n + q) pi/2 + r + r_lo, |r| <= pi/4 (a hair more), for a
    finite ax >= 0, with r + r_lo accurate to ~2**-100 relative for every double.

    ax * 2/pi mod 4: the bits of 2/pi whose product with ax is a multiple of 4 are
    skipped (ax = M 2**(e-52), bit i of 2/pi adds M 2**(e-52-i)), the next 208 come
    from the table as four 52-bit pieces; products are split exactly by fma, integer
    parts are removed (mod 4 for the quadrant) before smaller pieces are added, so
    that near a multiple of pi/2 the few bits that remain are exact."""
    e = ((_bits(ax) >> 52) & 0x7FF) - 1023
    j = e - 54
    j = 0 if j < 0 else j
    n = (j * 2521) >> 16                   # j // 26 for 0 <= j < 1000
    x = ax * _float((1023 - 26 * n) << 52)  # exact: ax * 2**(-26 n) < 2**81
    c0 = _PIO2_TABLE[n]
    c1 = _PIO2_TABLE[n + 2] * 2.220446049250313e-16      # 2**-52
    c2 = _PIO2_TABLE[n + 4] * 4.930380657631324e-32      # 2**-104
    c3 = _PIO2_TABLE[n + 6] * 1.0947644252537633e-47     # 2**-156
    h0 = x * c0
    l0 = _fma(x, c0, -h0)
    h1 = x * c1
    l1 = _fma(x, c1, -h1)
    h2 = x * c2
    l2 = _fma(x, c2, -h2)
    h3 = x * c3
    # integer parts: q counts them (mod 4), the fractions f0, f1, f2 are exact
    v0 = _fma(-4.0, _rint(0.25 * h0), h0)    # h0 mod 4, in [-6, 6]
    a0 = _near(v0)
    a1 = _near(l0)
    a2 = _near(h1)
    q = a0 + a1 + a2
    # f0 is 0 or at least ulp(h0) > 2|l0| >= 2|f1|: the fast two-sum is exact
    f0 = v0 - a0
    s = f0 + (l0 - a1)
    t = (l0 - a1) - (s - f0)
    s, t2 = _two_sum(s, h1 - a2)
    t += t2
    a = _near(s)
    q += a
    s, t2 = _two_sum(s - a, l1)
    t += t2
    # the sum so far is exact and its integer part gone; if the result is tiny, so
    # is it now, and the smaller pieces are added at its scale
    s, t = _two_sum(s, t)
    s, t2 = _two_sum(s, h2)
    t = t + t2 + l2 + h3
    a = _near(s)
    q += a
    hi = s - a                             # hi + lo, not normalized: r_lo is used
    lo = t                                 # only to first order, either way
    # (hi + lo) pi/2 in double-double
    r = hi * _PIO2
    r_lo = _fma(hi, _PIO2, -r) + _fma(hi, _PIO2_LO, lo * _PIO2)
    qi = _bits(q + _SHIFT) & 3
    return qi, r, r_lo


@numba.njit(**_OPTS)
def _sincos_core(ax):
    """(sin r, cos r, q) for the reduction of ax (finite, >= 0)."""
    q, r, r_lo = _reduce_pio2(ax)
    z = r * r
    sp = _fma(_S6, z, _S5)
    sp = _fma(sp, z, _S4)
    sp = _fma(sp, z, _S3)
    sp = _fma(sp, z, _S2)
    sp = _fma(sp, z, _S1)
    sp = _fma(sp, z, _S0)
    # sin(r + r_lo) ~ r + r z S(z) + r_lo cos(r)
    sn = r + _fma(r * z, sp, _fma(-0.5 * z, r_lo, r_lo))
    cp = _fma(_C5, z, _C4)
    cp = _fma(cp, z, _C3)
    cp = _fma(cp, z, _C2)
    cp = _fma(cp, z, _C1)
    cp = _fma(cp, z, _C0)
    # cos(r + r_lo) ~ 1 - r**2/2 + z**2 C(z) - r r_lo, with r**2 = z + z_lo exactly
    z_lo = _fma(r, r, -z)
    hz = 0.5 * z
    w = 1.0 - hz
    w_lo = (1.0 - w) - hz
    cs = w + (w_lo + _fma(z * z, cp, -_fma(0.5, z_lo, r * r_lo)))
    return sn, cs, q


@numba.njit(**_OPTS)
def sin(x):
    """Sine of a float64, within 1 ULP for every argument; nan at +-inf."""
    ax = abs(x)
    finite = ax < _INF
    sn, cs, q = _sincos_core(ax if finite else 0.0)
    v = cs if q & 1 else sn
    v = -v if q & 2 else v
    v = _float(_bits(v) ^ (_bits(x) & _SIGN))   # sin(-x) = -sin(x)
    v = x if ax < 7.450580596923828e-09 else v  # 2**-27: sin x rounds to x (+-0.0 too)
    return v if finite else _NAN


@numba.njit(**_OPTS)
def cos(x):
    """Cosine of a float64, within 1 ULP for every argument; nan at +-inf."""
    ax = abs(x)
    finite = ax < _INF
    sn, cs, q = _sincos_core(ax if finite else 0.0)
    v = sn if q & 1 else cs
    v = -v if (q + 1) & 2 else v
    v = 1.0 if ax < 7.450580596923828e-09 else v
    return v if finite else _NAN


# ---------------------------------------------------------------------- tanh

@numba.njit(**_OPTS)
def tanh(x):
    """Hyperbolic tangent of a float64, within 1 ULP; -0.0 kept, +-1 beyond 22."""
    ax = abs(x)
    # |x| < 0.35: x + x z T(z)
    z = ax * ax
    tp = _fma(_T8, z, _T7)
    tp = _fma(tp, z, _T6)
    tp = _fma(tp, z, _T5)
    tp = _fma(tp, z, _T4)
    tp = _fma(tp, z, _T3)
    tp = _fma(tp, z, _T2)
    tp = _fma(tp, z, _T1)
    tp = _fma(tp, z, _T0)
    small = _fma(ax * z, tp, ax)
    # else 1 - g, g = 2 / (e**(2|x|) + 1) = 2**(1-k) / (1 + 2**-k + r + s)
    u = 2.0 * ax
    u = 44.0 if u > 44.0 else u            # tanh(22) rounds to 1; NaN passes
    k, r, r_lo, s = _exp_reduce(u)
    a = 1.0 + _pow2(-k)                    # exact for 1 <= k <= 52
    d = a + r
    t = ((a - d) + r) + s                  # a > |r|: (a - d) + r is exact
    d_hi = d + t
    d_lo = t - (d_hi - d)                  # d_hi + d_lo = a + r + s
    d = d_hi
    c = _pow2(1 - k)
    g = c / d
    # one correction step: the residual of c - g (d + d_lo), divided by d ~ c/g
    rho = _fma(-g, d, c) - g * d_lo
    g_lo = rho * (g * _pow2(k - 1))
    t = 1.0 - g
    t_lo = ((1.0 - t) - g) - g_lo
    big = t + t_lo
    v = small if ax < _TANH_POLY else big
    return _float(_bits(v) | (_bits(x) & _SIGN))  # tanh(-x) = -tanh(x), -0.0 too
