"""Elementwise tensor functions: every scalar op lifted through Elemwise.

Python numbers mixed with tensors are *weak* (NumPy 2, NEP 50): they take the
dtype of the tensors they meet, so ``float32_x * 2.0`` stays float32 and
``int8_x + 1`` stays int8. A Python int that does not fit raises OverflowError.
"""

from __future__ import annotations

import numpy as np

from symgraph.scalar import basic as sb
from symgraph.scalar import math as sm
from symgraph.tensor.basic import as_tensor_variable, constant, is_python_scalar
from symgraph.tensor.elemwise import Elemwise
from symgraph.tensor.type import normalize_dtype

_ELEMWISE: dict = {}


def elemwise_of(scalar_op) -> Elemwise:
    """The (shared) Elemwise instance for a scalar op."""
    op = _ELEMWISE.get(scalar_op)
    if op is None:
        op = _ELEMWISE[scalar_op] = Elemwise(scalar_op)
    return op


def _weak_dtype(strong_dtype, value):
    dt = np.result_type(np.dtype(strong_dtype), value).name
    if dt == "float16":
        dt = "float32"
    return dt


def as_elemwise_inputs(args, widen_ints=False):
    """Convert ``args`` to tensors, giving Python scalars the dtype of the tensors they meet.

    With ``widen_ints`` (ops whose result does not keep the integer dtype: comparisons,
    logic, true division), a Python int that does not fit that dtype keeps its own
    (int64) dtype instead of raising, as NumPy 2 computes ``int8_x < 300``; with
    ``widen_ints="float"`` it becomes the float dtype the op computes in.
    """
    strong = [a for a in args if not is_python_scalar(a)]
    if not strong or len(strong) == len(args):
        return [as_tensor_variable(a) for a in args]
    strong = [as_tensor_variable(a) for a in strong]
    sdt = sb.upcast(*[s.dtype for s in strong])
    out, it = [], iter(strong)
    for a in args:
        if is_python_scalar(a):
            try:
                out.append(constant(a, dtype=_weak_dtype(sdt, a)))
            except OverflowError:
                if not widen_ints:
                    raise
                out.append(constant(a, dtype=sb.to_float(sdt) if widen_ints == "float" else None))
        else:
            out.append(next(it))
    return out


def _lift(scalar_op, name=None, doc=None, widen_ints=False):
    op = elemwise_of(scalar_op)

    def fn(*args, name=None):
        if len(args) != scalar_op.nin:
            raise TypeError(f"{fn.__name__} takes {scalar_op.nin} arguments, got {len(args)}")
        out = op(*as_elemwise_inputs(args, widen_ints))
        if name is not None:
            out.name = name
        return out

    fn.__name__ = name or scalar_op.name
    fn.__qualname__ = fn.__name__
    fn.__doc__ = doc or f"Elementwise {scalar_op.name} (NumPy semantics)."
    fn.op = op
    return fn


# arithmetic
add = _lift(sm.add)
sub = _lift(sm.sub)
mul = _lift(sm.mul)
true_div = _lift(sm.true_div, doc="Elementwise true division; integers give float64.",
                 widen_ints=True)
int_div = _lift(sm.int_div, doc="Elementwise floor division (Python's //).")
mod = _lift(sm.mod, doc="Elementwise remainder with the sign of the divisor (Python's %).")
pow = _lift(sm.pow)
neg = _lift(sm.neg)
abs = _lift(sm.abs, doc="Elementwise absolute value; complex input gives its modulus.")
sign = _lift(sm.sign)
sqr = _lift(sm.sqr)
reciprocal = _lift(sm.reciprocal)
maximum = _lift(sm.maximum)
minimum = _lift(sm.minimum)
identity = _lift(sm.identity, doc="A copy of the input (the identity elementwise).")

exp = _lift(sm.exp)
exp2 = _lift(sm.exp2)
expm1 = _lift(sm.expm1)
log = _lift(sm.log)
log1p = _lift(sm.log1p)
log2 = _lift(sm.log2)
log10 = _lift(sm.log10)
sqrt = _lift(sm.sqrt)

sin = _lift(sm.sin)
cos = _lift(sm.cos)
tan = _lift(sm.tan)
arcsin = _lift(sm.arcsin)
arccos = _lift(sm.arccos)
arctan = _lift(sm.arctan)
arctan2 = _lift(sm.arctan2, widen_ints="float")
sinh = _lift(sm.sinh)
cosh = _lift(sm.cosh)
tanh = _lift(sm.tanh)
arcsinh = _lift(sm.arcsinh)
arccosh = _lift(sm.arccosh)
arctanh = _lift(sm.arctanh)

sigmoid = _lift(sm.sigmoid, doc="The logistic function 1 / (1 + exp(-x)).")
softplus = _lift(sm.softplus, doc="log(1 + exp(x)), computed without overflow.")
erf = _lift(sm.erf)
erfc = _lift(sm.erfc)
erfinv = _lift(sm.erfinv)
gamma = _lift(sm.gamma)
gammaln = _lift(sm.gammaln)
psi = _lift(sm.psi, doc="The digamma function.")
tri_gamma = _lift(sm.tri_gamma, doc="The trigamma function (the derivative of psi).")
_polygamma_op = elemwise_of(sm.polygamma)


def polygamma(n, x, name=None):
    """The n-th derivative of the digamma function psi (``scipy.special.polygamma``).

    ``n`` is an integer (a Python int or an integer tensor); ``x`` is real.
    """
    if is_python_scalar(n):
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"polygamma: the order n must be an integer, got {n!r}")
        n = constant(int(n), dtype="int64")
    out = _polygamma_op(as_tensor_variable(n), as_tensor_variable(x))
    if name is not None:
        out.name = name
    return out


polygamma.op = _polygamma_op

floor = _lift(sm.floor)
ceil = _lift(sm.ceil)
trunc = _lift(sm.trunc)
round_half_to_even = _lift(sm.round_half_to_even)

lt = _lift(sm.lt, widen_ints=True)
gt = _lift(sm.gt, widen_ints=True)
le = _lift(sm.le, widen_ints=True)
ge = _lift(sm.ge, widen_ints=True)
eq = _lift(sm.eq, doc="Elementwise a == b (the operator == keeps Python identity).",
           widen_ints=True)
neq = _lift(sm.neq, widen_ints=True)
isnan = _lift(sm.isnan)
isinf = _lift(sm.isinf)

logical_and = _lift(sm.logical_and, widen_ints=True)
logical_or = _lift(sm.logical_or, widen_ints=True)
logical_xor = _lift(sm.logical_xor, widen_ints=True)
logical_not = _lift(sm.logical_not)
bitwise_and = _lift(sm.bitwise_and)
bitwise_or = _lift(sm.bitwise_or)
bitwise_xor = _lift(sm.bitwise_xor)
invert = _lift(sm.invert, doc="Bitwise not (logical not for bool).")
left_shift = _lift(sm.left_shift)
right_shift = _lift(sm.right_shift)

_switch_op = elemwise_of(sm.switch)


def switch(cond, a, b, name=None):
    """switch(cond, a, b): a where cond is true, else b.

    Python numbers among ``a`` and ``b`` are weak against the other branch only (as in
    numpy.where): the condition's dtype does not take part in the promotion.
    """
    a, b = as_elemwise_inputs([a, b])
    out = _switch_op(as_tensor_variable(cond), a, b)
    if name is not None:
        out.name = name
    return out


switch.op = _switch_op

real = _lift(sm.real)
imag = _lift(sm.imag)
conj = _lift(sm.conj)
angle = _lift(sm.angle)
complex = _lift(sm.complex, doc="complex(re, im): build complex numbers from real parts.")

# NumPy / Theano spellings
square = sqr
negative = neg
abs_ = abs
true_divide = divide = true_div
floor_divide = intdiv = int_div
power = pow
remainder = mod
bitwise_not = invert
and_ = bitwise_and
or_ = bitwise_or
xor = bitwise_xor
conjugate = conj
inv = reciprocal
exp1m = expm1
digamma = psi


def clip(x, a_min, a_max):
    """Limit values to [a_min, a_max] (NumPy's clip).

    Python int bounds beyond an integer dtype's range are saturated, as NumPy 2 does.
    """
    args = [x, a_min, a_max]
    strong = [as_tensor_variable(a).dtype for a in args if not is_python_scalar(a)]
    if strong:
        sdt = np.dtype(sb.upcast(*strong))
        if sdt.kind in "iu":
            info = np.iinfo(sdt)
            args = [min(max(a, int(info.min)), int(info.max))
                    if is_python_scalar(a) and isinstance(a, int) else a for a in args]
    return elemwise_of(sm.clip)(*as_elemwise_inputs(args))


def where(condition, x=None, y=None):
    """``where(c, a, b)`` is switch; ``where(c)`` is nonzero (indices of true values)."""
    if x is None and y is None:
        from symgraph.tensor.sort import nonzero
        return nonzero(condition)
    if x is None or y is None:
        raise TypeError("where takes one argument (condition) or three (condition, x, y)")
    return switch(condition, x, y)


def round(x, mode="half_to_even"):
    """Round to the nearest integer; 'half_to_even' (NumPy's) or 'half_away_from_zero'."""
    if mode == "half_to_even":
        return round_half_to_even(x)
    if mode == "half_away_from_zero":
        x = as_tensor_variable(x)
        if x.type.dtype_kind in "biu":
            return x
        if x.type.dtype_kind == "c":
            return complex(round(real(x), mode), round(imag(x), mode))
        # x - trunc(x) is exact, so halves are recognised without the rounding error of
        # floor(|x| + 0.5) (which sends 0.49999999999999994 to 1)
        t = trunc(x)
        return switch(ge(abs(sub(x, t)), 0.5), add(t, sign(x)), t)
    raise ValueError(f"round: mode must be 'half_to_even' or 'half_away_from_zero', got {mode!r}")


def iround(x, mode="half_to_even"):
    """Round and cast to int64."""
    return cast(round(x, mode), "int64")


def cast(x, dtype):
    """``x`` converted to ``dtype`` (NumPy's astype); complex to real keeps the real part."""
    x = as_tensor_variable(x)
    dtype = normalize_dtype(dtype)
    if x.dtype == dtype:
        return x
    return elemwise_of(sb.cast_op(dtype))(x)


def relu(x, alpha=0):
    """max(x, 0); with ``alpha``, a leaky ReLU (alpha * x for negative x)."""
    x = as_tensor_variable(x)
    if alpha == 0:
        return maximum(x, 0)
    return switch(gt(x, 0), x, mul(x, alpha))


def isclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    close = le(abs(sub(a, b)), add(atol, mul(rtol, abs(b))))
    if equal_nan:
        close = logical_or(close, logical_and(isnan(a), isnan(b)))
    return close


def allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    from symgraph.tensor.reduction import all as all_
    return all_(isclose(a, b, rtol, atol, equal_nan))


def xlogx(x):
    """x * log(x) with the limit 0 at x = 0."""
    x = as_tensor_variable(x)
    return switch(eq(x, 0), 0.0, mul(x, log(x)))


def deg2rad(x):
    return mul(x, np.pi / 180.0)


def rad2deg(x):
    return mul(x, 180.0 / np.pi)


__all__ = [n for n, v in list(globals().items())
           if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == __name__
           and n not in ("elemwise_of", "as_elemwise_inputs")]
