"""Gradients of elementwise ops: the derivative of every scalar op, as tensor expressions.

The scalar ops in ``symgraph.scalar`` stay free of tensor code; their derivatives
live here, keyed by scalar op name, and ``Elemwise.L_op``/``R_op`` look them up.

Each entry is ``fn(i, g, inputs, out) -> tensor``: the gradient reaching input ``i``
when the output ``out`` receives ``g``, elementwise (it may be broadcast to the
output's shape; the caller sums it back to the input's shape). ``inputs`` and ``out``
are the forward variables, so gradient graphs reuse the forward results (the
gradient of tanh uses tanh's output).

Complex numbers follow DESIGN.md: for a real cost C the gradient of a complex z is
dC/dRe(z) + i dC/dIm(z). For a holomorphic f that is ``g * conj(f'(z))``; abs, real,
imag, conj and angle (not holomorphic) have their own formulas. For a real input of a
complex-valued op, grad() keeps the real part of what is returned here.

Conventions at the kinks, chosen to agree with central differences:

- maximum/minimum: at a tie each input gets half of the gradient;
- clip(x, lo, hi): x gets the gradient where lo <= x <= hi (ties included), lo where
  x < lo, hi where x > hi (and hi alone when lo > hi, where NumPy's clip gives hi);
- abs and angle give 0 at z = 0; sign, floor, ceil, trunc, round and int_div have
  gradient 0 (they are piecewise constant);
- pow(x, y): the exponent's gradient out * log(x) is taken as 0 where x == 0.

Forward mode (``Elemwise.R_op``) reuses the same table: for real ops the gradient is
linear in g, elementwise, so table(t) = f'(x) t; for holomorphic complex ops it is
conj(table(conj(t))); abs, angle, sign, real, imag and conj of a complex input have
their own tangent maps below.

Ops with integer or boolean outputs (comparisons, logic, bitwise, isnan, isinf,
casts to integers) are disconnected from their inputs, as are integer inputs.
"""

from __future__ import annotations

import math

from symgraph.graph.utils import MethodNotDefined
from symgraph.scalar.basic import COMPLEX, DISCRETE, Cast

__all__ = ["register_grad", "elemwise_L_op", "elemwise_R_op", "has_grad"]

_GRADS: dict = {}


def register_grad(*names):
    """Decorator: ``fn(i, g, inputs, out)`` is the gradient of the scalar ops ``names``."""
    def deco(fn):
        for n in names:
            _GRADS[n] = fn
        return fn
    return deco


def has_grad(scalar_op) -> bool:
    return isinstance(scalar_op, Cast) or scalar_op.name in _GRADS


def _T():
    import symgraph.tensor as T
    return T


def _is_complex(v):
    return v.dtype in COMPLEX


def _is_discrete(v):
    return v.dtype in DISCRETE


def _c(v):
    """conj(v), skipped for real v."""
    return _T().conj(v) if _is_complex(v) else v


def _zeros(x):
    return _T().zeros_like(x)


def _as_out_dtype(x, out):
    """A real input of a complex-valued op, cast to the op's dtype, so that the formula
    computes what the op computed (log of a negative base in a complex pow)."""
    if _is_complex(out) and not _is_complex(x):
        return _T().cast(x, out.dtype)
    return x


# ----------------------------------------------------------------------- arithmetic

@register_grad("add", "identity")
def _g_add(i, g, inputs, out):
    return g


@register_grad("sub")
def _g_sub(i, g, inputs, out):
    return g if i == 0 else _T().neg(g)


@register_grad("mul")
def _g_mul(i, g, inputs, out):
    return _T().mul(g, _c(inputs[1 - i]))


@register_grad("true_div")
def _g_true_div(i, g, inputs, out):
    T = _T()
    x, y = inputs
    if i == 0:
        return T.true_div(g, _c(y))
    # d(x/y)/dy = -x/y^2 = -out/y
    return T.neg(T.mul(g, _c(T.true_div(out, y))))


@register_grad("int_div", "floor", "ceil", "trunc", "round_half_to_even")
def _g_zero(i, g, inputs, out):
    return _zeros(inputs[i])


@register_grad("sign")
def _g_sign(i, g, inputs, out):
    T = _T()
    x = inputs[0]
    if not _is_complex(x):
        return _zeros(x)
    # sign(z) = z / |z| = exp(i angle(z)) moves with the angle only: dC/dangle is
    # Re(conj(g) i sign(z)), and the angle's gradient is i z / |z|^2 = i sign(z) / |z|
    d_angle = T.real(T.mul(T.conj(g), T.mul(out, 1j)))
    return T.switch(T.eq(x, 0), 0, T.true_div(T.mul(d_angle, T.mul(out, 1j)), T.abs(x)))


@register_grad("mod")
def _g_mod(i, g, inputs, out):
    T = _T()
    x, y = inputs
    if i == 0:
        return g
    return T.neg(T.mul(g, T.floor(T.true_div(x, y))))


@register_grad("pow")
def _g_pow(i, g, inputs, out):
    T = _T()
    x, y = inputs
    if i == 0:
        # y * x ** (y - 1): finite at x == 0 where the derivative is (y >= 1)
        d = T.mul(y, T.pow(x, T.sub(y, 1)))
        return T.mul(g, _c(d))
    xc = _as_out_dtype(x, out)
    d = T.switch(T.eq(x, 0), 0, T.mul(out, T.log(xc)))
    return T.mul(g, _c(d))


@register_grad("neg")
def _g_neg(i, g, inputs, out):
    return _T().neg(g)


@register_grad("sqr")
def _g_sqr(i, g, inputs, out):
    T = _T()
    return T.mul(g, T.mul(_c(inputs[0]), 2))


@register_grad("reciprocal")
def _g_reciprocal(i, g, inputs, out):
    T = _T()
    return T.neg(T.mul(g, T.sqr(_c(out))))


def _max_min(i, g, inputs, x_wins):
    T = _T()
    x, y = inputs
    # the whole gradient goes to the larger (smaller) input; a tie splits it evenly
    gx = T.switch(x_wins, g, T.switch(T.eq(x, y), T.mul(g, 0.5), 0))
    return gx if i == 0 else T.sub(g, gx)


@register_grad("maximum")
def _g_maximum(i, g, inputs, out):
    return _max_min(i, g, inputs, _T().gt(*inputs))


@register_grad("minimum")
def _g_minimum(i, g, inputs, out):
    return _max_min(i, g, inputs, _T().lt(*inputs))


@register_grad("clip")
def _g_clip(i, g, inputs, out):
    T = _T()
    x, lo, hi = inputs
    if i == 0:
        cond = T.logical_and(T.ge(x, lo), T.le(x, hi))
    elif i == 1:
        cond = T.logical_and(T.lt(x, lo), T.le(lo, hi))
    else:
        cond = T.logical_or(T.gt(x, hi), T.gt(lo, hi))
    return T.switch(cond, g, 0)


@register_grad("switch")
def _g_switch(i, g, inputs, out):
    T = _T()
    c = inputs[0]
    if i == 1:
        return T.switch(c, g, 0)
    return T.switch(c, 0, g)  # i == 0 (the condition) never gets here: it is discrete


# ----------------------------------------------------------------------- exp, log, powers

@register_grad("exp")
def _g_exp(i, g, inputs, out):
    return _T().mul(g, _c(out))


@register_grad("exp2")
def _g_exp2(i, g, inputs, out):
    T = _T()
    return T.mul(g, T.mul(_c(out), math.log(2.0)))


@register_grad("expm1")
def _g_expm1(i, g, inputs, out):
    T = _T()
    return T.mul(g, _c(T.add(out, 1)))


@register_grad("log")
def _g_log(i, g, inputs, out):
    return _T().true_div(g, _c(inputs[0]))


@register_grad("log1p")
def _g_log1p(i, g, inputs, out):
    T = _T()
    return T.true_div(g, _c(T.add(inputs[0], 1)))


@register_grad("log2")
def _g_log2(i, g, inputs, out):
    T = _T()
    return T.true_div(g, T.mul(_c(inputs[0]), math.log(2.0)))


@register_grad("log10")
def _g_log10(i, g, inputs, out):
    T = _T()
    return T.true_div(g, T.mul(_c(inputs[0]), math.log(10.0)))


@register_grad("sqrt")
def _g_sqrt(i, g, inputs, out):
    T = _T()
    return T.true_div(g, T.mul(_c(out), 2))


# ----------------------------------------------------------------------- trigonometric

@register_grad("sin")
def _g_sin(i, g, inputs, out):
    T = _T()
    return T.mul(g, _c(T.cos(inputs[0])))


@register_grad("cos")
def _g_cos(i, g, inputs, out):
    T = _T()
    return T.neg(T.mul(g, _c(T.sin(inputs[0]))))


@register_grad("tan")
def _g_tan(i, g, inputs, out):
    T = _T()
    return T.mul(g, _c(T.add(T.sqr(out), 1)))


def _rsqrt_one_minus_sqr(x):
    T = _T()
    return T.sqrt(T.sub(1, T.sqr(x)))


@register_grad("arcsin")
def _g_arcsin(i, g, inputs, out):
    T = _T()
    return T.true_div(g, _c(_rsqrt_one_minus_sqr(inputs[0])))


@register_grad("arccos")
def _g_arccos(i, g, inputs, out):
    T = _T()
    return T.neg(T.true_div(g, _c(_rsqrt_one_minus_sqr(inputs[0]))))


@register_grad("arctan")
def _g_arctan(i, g, inputs, out):
    T = _T()
    return T.true_div(g, _c(T.add(T.sqr(inputs[0]), 1)))


@register_grad("arctan2")
def _g_arctan2(i, g, inputs, out):
    T = _T()
    a, b = inputs  # out = atan2(a, b), the angle of the point (b, a)
    r2 = T.add(T.sqr(a), T.sqr(b))
    return T.mul(g, T.true_div(b, r2)) if i == 0 else T.neg(T.mul(g, T.true_div(a, r2)))


@register_grad("sinh")
def _g_sinh(i, g, inputs, out):
    T = _T()
    return T.mul(g, _c(T.cosh(inputs[0])))


@register_grad("cosh")
def _g_cosh(i, g, inputs, out):
    T = _T()
    return T.mul(g, _c(T.sinh(inputs[0])))


@register_grad("tanh")
def _g_tanh(i, g, inputs, out):
    T = _T()
    return T.mul(g, _c(T.sub(1, T.sqr(out))))


@register_grad("arcsinh")
def _g_arcsinh(i, g, inputs, out):
    T = _T()
    return T.true_div(g, _c(T.sqrt(T.add(T.sqr(inputs[0]), 1))))


@register_grad("arccosh")
def _g_arccosh(i, g, inputs, out):
    T = _T()
    x = inputs[0]
    # sqrt(x - 1) * sqrt(x + 1), not sqrt(x^2 - 1): the two differ in sign for complex x
    # with a negative real part, and only the first matches NumPy's branch
    d = T.mul(T.sqrt(T.sub(x, 1)), T.sqrt(T.add(x, 1)))
    return T.true_div(g, _c(d))


@register_grad("arctanh")
def _g_arctanh(i, g, inputs, out):
    T = _T()
    return T.true_div(g, _c(T.sub(1, T.sqr(inputs[0]))))


# ----------------------------------------------------------------------- special functions

@register_grad("sigmoid")
def _g_sigmoid(i, g, inputs, out):
    T = _T()
    return T.mul(g, T.mul(out, T.sub(1, out)))


@register_grad("softplus")
def _g_softplus(i, g, inputs, out):
    T = _T()
    return T.mul(g, T.sigmoid(inputs[0]))


@register_grad("erf")
def _g_erf(i, g, inputs, out):
    T = _T()
    return T.mul(g, T.mul(T.exp(T.neg(T.sqr(inputs[0]))), 2.0 / math.sqrt(math.pi)))


@register_grad("erfc")
def _g_erfc(i, g, inputs, out):
    T = _T()
    return T.mul(g, T.mul(T.exp(T.neg(T.sqr(inputs[0]))), -2.0 / math.sqrt(math.pi)))


@register_grad("erfinv")
def _g_erfinv(i, g, inputs, out):
    T = _T()
    return T.mul(g, T.mul(T.exp(T.sqr(out)), math.sqrt(math.pi) / 2.0))


@register_grad("gamma")
def _g_gamma(i, g, inputs, out):
    T = _T()
    return T.mul(g, T.mul(out, T.psi(inputs[0])))


@register_grad("gammaln")
def _g_gammaln(i, g, inputs, out):
    T = _T()
    return T.mul(g, T.psi(inputs[0]))


@register_grad("psi")
def _g_psi(i, g, inputs, out):
    T = _T()
    return T.mul(g, T.tri_gamma(inputs[0]))


@register_grad("tri_gamma")
def _g_tri_gamma(i, g, inputs, out):
    T = _T()
    return T.mul(g, T.polygamma(2, inputs[0]))


@register_grad("polygamma")
def _g_polygamma(i, g, inputs, out):
    T = _T()
    n, x = inputs  # n (the order) is an integer: grad() never asks for it
    return T.mul(g, T.polygamma(T.add(n, 1), x))


# ----------------------------------------------------------------------- complex parts

@register_grad("abs")
def _g_abs(i, g, inputs, out):
    T = _T()
    x = inputs[0]
    if not _is_complex(x):
        return T.mul(g, T.sign(x))
    # d|z| = Re(conj(z) dz) / |z|: the gradient is g z / |z|, taken as 0 at z = 0
    return T.switch(T.eq(x, 0), 0, T.mul(g, T.true_div(x, out)))


@register_grad("real")
def _g_real(i, g, inputs, out):
    return g


@register_grad("imag")
def _g_imag(i, g, inputs, out):
    T = _T()
    x = inputs[0]
    if not _is_complex(x):
        return _zeros(x)
    return T.mul(g, 1j)


@register_grad("conj")
def _g_conj(i, g, inputs, out):
    return _c(g)


@register_grad("angle")
def _g_angle(i, g, inputs, out):
    T = _T()
    x = inputs[0]
    if not _is_complex(x):
        return _zeros(x)  # 0 or pi: piecewise constant on the reals
    # angle = atan2(Im z, Re z): the gradient is g i z / |z|^2, taken as 0 at z = 0
    d = T.true_div(T.mul(x, T.mul(g, 1j)), T.sqr(T.abs(x)))
    return T.switch(T.eq(x, 0), 0, d)


@register_grad("complex")
def _g_complex(i, g, inputs, out):
    T = _T()
    return T.real(g) if i == 0 else T.imag(g)


def _g_cast(i, g, inputs, out):
    # grad() casts the gradient back to the input's dtype; complex to real keeps the
    # real part forward, so the real gradient goes back as a complex number with no
    # imaginary part, and real to complex passes back the real part of g
    return g


# ----------------------------------------------------------------------- Elemwise glue

def _grad_fn(scalar_op):
    if isinstance(scalar_op, Cast):
        return _g_cast
    return _GRADS.get(scalar_op.name)


def _sum_to(g, x):
    """Sum ``g`` over the dimensions where ``x`` was broadcast (static length 1 in x)."""
    axes = [d for d, (s, gs) in enumerate(zip(x.type.shape, g.type.shape))
            if s == 1 and gs != 1]
    if axes:
        g = _T().sum(g, axis=axes, keepdims=True)
    return g


def elemwise_L_op(op, inputs, outputs, output_grads):
    """Elemwise.L_op: the table's elementwise gradient of each input, summed back over
    the dimensions where that input was broadcast."""
    from symgraph.gradient import disconnected_type, grad_not_implemented

    if all(_is_discrete(o) for o in outputs):
        return [disconnected_type() for _ in inputs]
    fn = _grad_fn(op.scalar_op)
    res = []
    for i, x in enumerate(inputs):
        if _is_discrete(x):
            res.append(disconnected_type())
        elif fn is None or len(outputs) != 1:
            res.append(grad_not_implemented(
                op, i, x, f"no derivative is registered for the scalar op "
                f"{op.scalar_op.name} (see symgraph.tensor.elemwise_grad.register_grad)"))
        else:
            res.append(_sum_to(fn(i, output_grads[0], inputs, outputs[0]), x))
    return res


# Tangents (forward mode) of the ops that are not holomorphic in a complex input: the
# real-linear map dz -> d out. fn(i, t, inputs, out); only called for complex inputs.
def _t_abs(i, t, inputs, out):
    T = _T()
    x = inputs[0]
    return T.switch(T.eq(x, 0), 0, T.true_div(T.real(T.mul(T.conj(x), t)), out))


def _t_angle(i, t, inputs, out):
    T = _T()
    x = inputs[0]
    return T.switch(T.eq(x, 0), 0, T.true_div(T.imag(T.mul(T.conj(x), t)), T.sqr(T.abs(x))))


def _t_sign(i, t, inputs, out):
    T = _T()
    x = inputs[0]
    d_angle = T.true_div(T.imag(T.mul(T.conj(x), t)), T.sqr(T.abs(x)))
    return T.switch(T.eq(x, 0), 0, T.mul(T.mul(out, 1j), d_angle))


_TANGENTS = {
    "abs": _t_abs, "angle": _t_angle, "sign": _t_sign,
    "real": lambda i, t, inputs, out: _T().real(t),
    "imag": lambda i, t, inputs, out: _T().imag(t),
    "conj": lambda i, t, inputs, out: _T().conj(t),
}


def _tangent(fn, name, i, t, inputs, out):
    """d out along the tangent ``t`` of input ``i``."""
    x = inputs[i]
    if not (_is_complex(x) or _is_complex(out) or _is_complex(t)):
        # real: the table's gradient is linear in g, elementwise: f_i'(x) * t
        return fn(i, t, inputs, out)
    if _is_complex(x) and name in _TANGENTS:
        return _TANGENTS[name](i, t, inputs, out)
    if name == "complex":
        return t if i == 0 else _T().mul(t, 1j)
    # holomorphic: the table gives g * conj(f'), so f' * t = conj(table(conj(t)))
    return _c(fn(i, _c(t), inputs, out))


def elemwise_R_op(op, inputs, eval_points):
    """Elemwise.R_op: sum_i f_i'(x) * t_i (for a complex input of abs, angle, sign, real,
    imag or conj, the real-linear tangent map of that op instead)."""
    T = _T()
    node = op.make_node(*inputs)
    outs = node.outputs
    if all(_is_discrete(o) for o in outs):
        return [None for _ in outs]
    if len(outs) != 1:
        raise MethodNotDefined(f"{op}.R_op (several outputs)")
    fn = _grad_fn(op.scalar_op)
    name = op.scalar_op.name
    out = outs[0]
    total = None
    for i, (x, t) in enumerate(zip(inputs, eval_points)):
        if t is None or _is_discrete(x):
            continue
        if fn is None:
            raise MethodNotDefined(f"{op}.R_op: no derivative for {op.scalar_op.name}")
        t = T.as_tensor_variable(t)
        # the tangent broadcasts as its input did
        if any(s == 1 and ts != 1 for s, ts in zip(x.type.shape, t.type.shape)):
            t = T.specify_shape(t, tuple(1 if s == 1 else ts
                                         for s, ts in zip(x.type.shape, t.type.shape)))
        term = _tangent(fn, name, i, t, node.inputs, out)
        total = term if total is None else T.add(total, term)
    if total is None:
        return [None]
    if any(os != 1 and ts == 1 for os, ts in zip(out.type.shape, total.type.shape)):
        # only tangents of inputs broadcast along some dimension: spread them out
        total = T.add(total, T.zeros_like(out, dtype=total.dtype))
    return [total]
