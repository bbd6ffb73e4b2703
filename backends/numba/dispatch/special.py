"""Scalar functions numba lacks, written to match SciPy/NumPy (compiled, cached).

digamma and trigamma: recurrence up to x >= 10, then the asymptotic series; the
reflection formula for negative x. erfinv: a rational first guess refined by
Newton steps on math.erf. gamma: SciPy's values at the poles (inf, -inf, nan).
"""

from __future__ import annotations

import math

import numba
import numpy as np

_OPTS = dict(cache=True, nogil=True, error_model="numpy")


@numba.njit(**_OPTS)
def gamma(x):
    if x == 0.0:
        return math.copysign(math.inf, x)
    if x < 0.0 and x == math.floor(x):
        return math.nan
    if x > 171.7:
        return math.inf
    return math.gamma(x)


@numba.njit(**_OPTS)
def gammaln(x):
    if x <= 0.0 and x == math.floor(x):
        return math.inf
    return math.lgamma(x)


@numba.njit(**_OPTS)
def digamma(x):
    if math.isnan(x):
        return x
    if x == 0.0:
        return -math.inf if math.copysign(1.0, x) > 0 else math.inf
    if x < 0.0:
        if x == math.floor(x):
            return math.nan
        # reflection: psi(1 - x) - psi(x) = pi / tan(pi x)
        return digamma(1.0 - x) - math.pi / math.tan(math.pi * x)
    if math.isinf(x):
        return x
    acc = 0.0
    while x < 10.0:
        acc -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (
        1.0 / 240 - inv2 * (1.0 / 132 - inv2 * (691.0 / 32760 - inv2 / 12.0))))))
    return acc + math.log(x) - 0.5 / x - series


@numba.njit(**_OPTS)
def trigamma(x):
    if math.isnan(x):
        return x
    if x <= 0.0 and x == math.floor(x):
        return math.inf
    if x < 0.0:
        # reflection: psi1(1 - x) + psi1(x) = pi^2 / sin^2(pi x)
        s = math.sin(math.pi * x)
        return -trigamma(1.0 - x) + math.pi * math.pi / (s * s)
    if math.isinf(x):
        return 0.0
    acc = 0.0
    while x < 10.0:
        acc += 1.0 / (x * x)
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv + 0.5 * inv2 + inv * inv2 * (1.0 / 6 - inv2 * (1.0 / 30 - inv2 * (
        1.0 / 42 - inv2 * (1.0 / 30 - inv2 * (5.0 / 66 - inv2 * (691.0 / 2730 - inv2 * 7.0 / 6))))))
    return acc + series


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
    # first guess (Giles' single-precision approximation), then Newton on erf
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
    for _ in range(3):
        err = math.erf(x) - y
        x -= err / (two_over_sqrt_pi * math.exp(-x * x))
    return x


@numba.njit(**_OPTS)
def int_power(x, y):
    if y < 0:
        raise ValueError("integers to negative integer powers are not allowed")
    return x ** y


@numba.njit(**_OPTS)
def complex_sign(z):
    a = abs(z)
    if a == 0.0:
        return z * 0.0
    return z / a


@numba.njit(**_OPTS)
def complex_rint(z):
    return complex(np.rint(z.real), np.rint(z.imag))
