"""The catalogue of scalar ops: arithmetic, comparisons, logic, transcendental and
special functions. Each is registered once by name; tensor.math lifts them."""

from __future__ import annotations

import numpy as np

from symgraph.lazy import lazy_module
from symgraph.scalar.basic import (
    DISCRETE, ScalarOp, to_float, bool_as_int8, bool_out, complex_out, discrete_out, float_real_out, no_bool,
    no_complex, real_out, register, shift_out, true_div_out, upcast_out, upcast_out_no_complex,
    upgrade_to_float, upgrade_to_float_no_complex,
)


def _op(name, fn, nin=1, out=upcast_out, **kw):
    return register(ScalarOp(name, fn, nin, out, **kw))


sp = lazy_module("scipy.special")  # imported on first use: see symgraph/lazy.py


def _expit(x):
    return sp.expit(x)


def _erf(x):
    return sp.erf(x)


def _erfc(x):
    return sp.erfc(x)


def _erfinv(x):
    return sp.erfinv(x)


def _gamma(x):
    return sp.gamma(x)


def _gammaln(x):
    return sp.gammaln(x)


def _psi(x):
    return sp.psi(x)


def _power(x, y):
    if x.dtype.kind in "iu" and y.dtype.kind in "iu" and np.any(y < 0):
        raise ValueError("integers to negative integer powers are not allowed; "
                         "cast the base to a float dtype first")
    return np.power(x, y)


def _softplus(x):
    # log(1 + exp(x)) without overflow: x + log1p(exp(-x)) for large x
    return np.logaddexp(np.zeros((), x.dtype), x)


def _copy(x):
    # np.positive has no boolean loop; a copy works for every dtype
    return np.array(x, copy=True)


def _real(x):
    # np.real returns its input (real dtypes) or a view into it (complex): copy, so the
    # result never aliases an input nor comes back read-only
    return np.array(np.real(x), copy=True)


def _imag(x):
    return np.array(np.imag(x), copy=True)


def _tri_gamma(x):
    return sp.polygamma(1, x)


def _polygamma(n, x):
    # n is an integer array: the order; x is computed in a float dtype
    if x.dtype.kind in "biu":
        x = x.astype(to_float(x.dtype.name))
    if np.any(n < 0):
        raise ValueError("polygamma: the order n must be >= 0")
    return sp.polygamma(n, x)


def _polygamma_out(n, x):
    if n not in DISCRETE:
        raise TypeError(f"polygamma(n, x): the order n must be an integer, got dtype {n}")
    return upgrade_to_float_no_complex(x)


def _switch(c, a, b):
    return np.where(c, a, b)


def _clip(x, lo, hi):
    return np.minimum(np.maximum(x, lo), hi)


def _complex(re, im):
    dt = np.result_type(re.dtype, im.dtype, np.complex64)
    out = np.empty(np.broadcast_shapes(re.shape, im.shape), dt)
    out.real = re
    out.imag = im
    return out


# arithmetic
add = _op("add", np.add, 2, commutative=True, associative=True, identity=0)
sub = _op("sub", np.subtract, 2,
          no_bool(upcast_out, "; use logical_xor (or ^) to subtract booleans"))
mul = _op("mul", np.multiply, 2, commutative=True, associative=True, identity=1)
true_div = _op("true_div", np.true_divide, 2, true_div_out)
# on booleans NumPy computes //, %, ** and square in int8; so does symgraph
int_div = _op("int_div", np.floor_divide, 2, bool_as_int8(upcast_out_no_complex))
mod = _op("mod", np.mod, 2, bool_as_int8(upcast_out_no_complex))
pow = _op("pow", _power, 2, bool_as_int8(upcast_out))
neg = _op("neg", np.negative, 1, no_bool(upcast_out, "; use logical_not (or ~) for booleans"))
abs = _op("abs", np.abs, 1, real_out)
sign = _op("sign", np.sign, 1, no_bool(upcast_out))
sqr = _op("sqr", np.square, 1, bool_as_int8(upcast_out))
reciprocal = _op("reciprocal", np.reciprocal, 1, upgrade_to_float)
maximum = _op("maximum", np.maximum, 2, upcast_out_no_complex, commutative=True, associative=True)
minimum = _op("minimum", np.minimum, 2, upcast_out_no_complex, commutative=True, associative=True)
clip = _op("clip", _clip, 3, upcast_out_no_complex)
identity = _op("identity", _copy)

# exponentials, logarithms, powers
exp = _op("exp", np.exp, 1, upgrade_to_float)
exp2 = _op("exp2", np.exp2, 1, upgrade_to_float)
expm1 = _op("expm1", np.expm1, 1, upgrade_to_float)
log = _op("log", np.log, 1, upgrade_to_float)
log1p = _op("log1p", np.log1p, 1, upgrade_to_float)
log2 = _op("log2", np.log2, 1, upgrade_to_float)
log10 = _op("log10", np.log10, 1, upgrade_to_float)
sqrt = _op("sqrt", np.sqrt, 1, upgrade_to_float)

# trigonometric and hyperbolic
sin = _op("sin", np.sin, 1, upgrade_to_float)
cos = _op("cos", np.cos, 1, upgrade_to_float)
tan = _op("tan", np.tan, 1, upgrade_to_float)
arcsin = _op("arcsin", np.arcsin, 1, upgrade_to_float)
arccos = _op("arccos", np.arccos, 1, upgrade_to_float)
arctan = _op("arctan", np.arctan, 1, upgrade_to_float)
arctan2 = _op("arctan2", np.arctan2, 2, upgrade_to_float_no_complex)
sinh = _op("sinh", np.sinh, 1, upgrade_to_float)
cosh = _op("cosh", np.cosh, 1, upgrade_to_float)
tanh = _op("tanh", np.tanh, 1, upgrade_to_float)
arcsinh = _op("arcsinh", np.arcsinh, 1, upgrade_to_float)
arccosh = _op("arccosh", np.arccosh, 1, upgrade_to_float)
arctanh = _op("arctanh", np.arctanh, 1, upgrade_to_float)

# special functions (real only)
sigmoid = _op("sigmoid", _expit, 1, upgrade_to_float_no_complex)
softplus = _op("softplus", _softplus, 1, upgrade_to_float_no_complex)
erf = _op("erf", _erf, 1, upgrade_to_float_no_complex)
erfc = _op("erfc", _erfc, 1, upgrade_to_float_no_complex)
erfinv = _op("erfinv", _erfinv, 1, upgrade_to_float_no_complex)
gamma = _op("gamma", _gamma, 1, upgrade_to_float_no_complex)
gammaln = _op("gammaln", _gammaln, 1, upgrade_to_float_no_complex)
psi = _op("psi", _psi, 1, upgrade_to_float_no_complex)
# derivatives of psi, needed by its gradient (and by theirs)
tri_gamma = _op("tri_gamma", _tri_gamma, 1, upgrade_to_float_no_complex)
polygamma = _op("polygamma", _polygamma, 2, _polygamma_out, compute_in_output_dtype=False)

# rounding (integers stay integers, as in NumPy 2)
floor = _op("floor", np.floor, 1, upcast_out_no_complex)
ceil = _op("ceil", np.ceil, 1, upcast_out_no_complex)
trunc = _op("trunc", np.trunc, 1, upcast_out_no_complex)
round_half_to_even = _op("round_half_to_even", np.round, 1, upcast_out)  # complex: each part

# comparisons
lt = _op("lt", np.less, 2, no_complex(bool_out))
gt = _op("gt", np.greater, 2, no_complex(bool_out))
le = _op("le", np.less_equal, 2, no_complex(bool_out))
ge = _op("ge", np.greater_equal, 2, no_complex(bool_out))
eq = _op("eq", np.equal, 2, bool_out, commutative=True)
neq = _op("neq", np.not_equal, 2, bool_out, commutative=True)
isnan = _op("isnan", np.isnan, 1, bool_out)
isinf = _op("isinf", np.isinf, 1, bool_out)

# logic (any dtype, truthiness) and bitwise (integers and bool)
logical_and = _op("logical_and", np.logical_and, 2, bool_out, commutative=True, associative=True)
logical_or = _op("logical_or", np.logical_or, 2, bool_out, commutative=True, associative=True)
logical_xor = _op("logical_xor", np.logical_xor, 2, bool_out, commutative=True, associative=True)
logical_not = _op("logical_not", np.logical_not, 1, bool_out)
bitwise_and = _op("bitwise_and", np.bitwise_and, 2, discrete_out, commutative=True, associative=True)
bitwise_or = _op("bitwise_or", np.bitwise_or, 2, discrete_out, commutative=True, associative=True)
bitwise_xor = _op("bitwise_xor", np.bitwise_xor, 2, discrete_out, commutative=True, associative=True)
invert = _op("invert", np.invert, 1, discrete_out)
left_shift = _op("left_shift", np.left_shift, 2, shift_out)
right_shift = _op("right_shift", np.right_shift, 2, shift_out)

# selection
switch = register(ScalarOp("switch", _switch, 3,
                           lambda c, a, b: (np.result_type(a, b).name,)))

# complex parts
real = _op("real", _real, 1, real_out)
imag = _op("imag", _imag, 1, real_out)
conj = _op("conj", np.conjugate, 1, upcast_out)
angle = _op("angle", np.angle, 1, float_real_out)
complex = _op("complex", _complex, 2, complex_out)
