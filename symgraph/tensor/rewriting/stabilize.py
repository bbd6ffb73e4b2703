"""Stabilize: rewrites that make a graph numerically safe (phase 'stabilize').

Each replaces a formula that overflows, underflows or cancels in floating point by
an equal formula that does not. Values stay the same wherever the original was
accurate; where it was not (a probability rounded to 0, an exp that overflowed),
the rewritten graph gives the right value instead of inf, -inf or nan. That is the
deliberate difference each docstring names.

Forward patterns:

* ``local_log1p``: log(1 + x), log(x + 1) -> log1p(x); ``local_log1m``: log(1 - x) ->
  log1p(-x); ``local_log1p_exp``: log1p(exp(x)) -> softplus(x).
* ``local_expm1``: exp(x) - 1 -> expm1(x).
* ``local_1msigmoid``: 1 - sigmoid(x) -> sigmoid(-x).
* ``local_log_sigmoid``: log(sigmoid(x)) -> -softplus(-x), log1p(-sigmoid(x)) ->
  -softplus(x) (so log(1 - sigmoid(x)) ends as -softplus(x) too).
* ``local_log_softmax``: log(softmax(x)) -> log_softmax(x) (which also makes the
  one-hot cross-entropy -sum(t * log(softmax(x))) stable).
* ``local_crossentropy_softmax``: crossentropy_categorical_1hot(softmax(x), y) ->
  crossentropy_softmax_1hot(x, y), a fused op computing logsumexp(x) - x[y].
* ``local_logsumexp``: log(sum(exp(x), axis)) -> the max-shifted logsumexp.
* ``local_log_exp``: log(exp(x)) -> x; ``local_exp_log``: exp(log(x)) -> x where x is
  known to be non-negative.

grad() builds the gradient before any rewrite runs, from the unstable forward
formulas, so the gradients of these patterns need rewrites of their own:

* ``local_mul_div_cancel``: a sigmoid, exp or softmax output that appears both in the
  numerator and the denominator of a product is cancelled (the gradient of
  log(sigmoid(x)) is g / sigmoid(x) * sigmoid(x) * (1 - sigmoid(x))).
* ``local_mul_distribute_cancel``: f * (a / f - b) -> a - f * b for such an f (the
  gradient of log(softmax(x)) through softmax's gradient).
* ``local_exp_over_sum_exp``: exp(x) / sum(exp(x)) -> the same ratio computed from x
  minus its maximum, also inside the gradient of log(sum(exp(x))).
* ``local_crossentropy_softmax_grad``: the gradient that grad() builds for
  crossentropy_categorical_1hot(softmax(x), y) -> g * (softmax(x) - onehot(y)).
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.rewriting.basic import node_rewriter
from symgraph.graph.rewriting.db import register
from symgraph.tensor import math as tm
from symgraph.tensor.basic import NotScalarConstantError, constant, get_scalar_constant_value
from symgraph.tensor.creation import Alloc, ARange
from symgraph.tensor.elemwise import DimShuffle, Elemwise
from symgraph.tensor.nnet import (
    CrossentropyCategorical1Hot, CrossentropySoftmax1Hot, LogSoftmax, Softmax,
    crossentropy_softmax_1hot,
)
from symgraph.tensor.reduction import CAReduce, logsumexp
from symgraph.tensor.variable import TensorConstant

# ======================================================================= helpers


def _ew(var, *names):
    """The owner of ``var`` if it is an Elemwise of one of the scalar ops ``names``."""
    node = getattr(var, "owner", None)
    if node is not None and isinstance(node.op, Elemwise) and node.op.scalar_op.name in names:
        return node
    return None


def _scalar_name(node):
    return node.op.scalar_op.name if isinstance(node.op, Elemwise) else None


def _const(var):
    """The value of a constant holding one element (possibly dimshuffled), else None."""
    try:
        v = get_scalar_constant_value(var, elemwise=False)
    except NotScalarConstantError:
        return None
    if not isinstance(var, TensorConstant) and not isinstance(
            getattr(var.owner, "op", None), DimShuffle):
        return None  # a static shape is a constant too, but not one we rewrite around
    return v[()]


def _is_const(var, value) -> bool:
    v = _const(var)
    return v is not None and bool(v == value)


def _is_real_float(var) -> bool:
    return var.type.dtype_kind == "f"


def _as_dtype(x, dtype):
    return x if x.dtype == dtype else tm.cast(x, dtype)


def _neg(x):
    """-x, with a double negation removed."""
    node = _ew(x, "neg")
    return node.inputs[0] if node is not None else tm.neg(x)


def _fit(new, old):
    """``new`` as a replacement for ``old``: cast to old's dtype, and None if it could
    have a different shape (a dimension static 1 in new that old broadcasts along)."""
    if new is None or new.ndim != old.ndim:
        return None
    for a, b in zip(new.type.shape, old.type.shape):
        if a == 1 and b != 1:
            return None
    return _as_dtype(new, old.dtype)


def _replace(node, new):
    new = _fit(new, node.outputs[0])
    return None if new is None else [new]


def _other_than_one(node, value=1):
    """For a binary Elemwise, the input beside a constant equal to ``value``."""
    if len(node.inputs) != 2:
        return None
    a, b = node.inputs
    if _is_const(a, value):
        return b
    if _is_const(b, value):
        return a
    return None


def _one_minus(var):
    """x when ``var`` is 1 - x or 1 + (-x), else None."""
    node = _ew(var, "sub")
    if node is not None and _is_const(node.inputs[0], 1):
        return node.inputs[1]
    node = _ew(var, "add")
    if node is not None:
        other = _other_than_one(node)
        if other is not None and _ew(other, "neg") is not None:
            return other.owner.inputs[0]
    return None


def _strip_dimshuffles(var):
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    return var


def _sum_of(var):
    """(sum node, its axes) when ``var`` is CAReduce(add), else (None, None)."""
    node = var.owner
    if node is None or not isinstance(node.op, CAReduce) or node.op.scalar_op.name != "add":
        return None, None
    return node, node.op._axes(node.inputs[0].ndim)


# ----------------------------------------------------------------------- products

_MAX_FACTORS = 64


def _factors(var):
    """``var`` as sign * prod(num) / prod(den): descends through mul, true_div,
    reciprocal, neg and pow(., -1) nodes of var's dtype. Returns (sign, num, den)."""
    dtype = var.dtype
    sign, num, den = 1, [], []
    todo = [(var, True)]
    while todo:
        v, up = todo.pop()
        node = v.owner
        name = _scalar_name(node) if node is not None else None
        if name is not None and v.dtype == dtype and len(num) + len(den) < _MAX_FACTORS:
            if name == "mul":
                todo.extend((i, up) for i in reversed(node.inputs))
                continue
            if name == "true_div":
                todo.append((node.inputs[1], not up))
                todo.append((node.inputs[0], up))
                continue
            if name == "reciprocal":
                todo.append((node.inputs[0], not up))
                continue
            if name == "neg":
                sign = -sign
                todo.append((node.inputs[0], up))
                continue
            if name == "pow" and _is_const(node.inputs[1], -1):
                todo.append((node.inputs[0], not up))
                continue
        (num if up else den).append(v)
    return sign, num, den


def _product(factors):
    out = None
    for f in factors:
        out = f if out is None else tm.mul(out, f)
    return out


def _build(sign, num, den, dtype):
    """sign * prod(num) / prod(den) (None when both lists are empty)."""
    n, d = _product(num), _product(den)
    if n is None and d is None:
        return None
    if d is None:
        out = n
    elif n is None:
        out = tm.reciprocal(d)
    else:
        out = tm.true_div(n, d)
    out = _as_dtype(out, dtype)
    return tm.neg(out) if sign < 0 else out


def _cancellable(var) -> bool:
    """Outputs that underflow to 0 (or overflow) where the same quantity divided
    by itself is still 1: sigmoid, exp and softmax."""
    node = var.owner
    if node is None:
        return False
    return isinstance(node.op, Softmax) or _scalar_name(node) in ("sigmoid", "exp")


def _cancel(num, den):
    """Remove the cancellable factors common to ``num`` and ``den``; None if there is none."""
    num, den = list(num), list(den)
    found = False
    for f in list(num):
        if _cancellable(f) and any(f is d for d in den):
            num.remove(f)
            den.pop(next(k for k, d in enumerate(den) if d is f))
            found = True
    return (num, den) if found else None


def _cancelled(var):
    """``var`` with its cancellable common factors removed, or None."""
    sign, num, den = _factors(var)
    res = _cancel(num, den)
    if res is None:
        return None
    return _build(sign, res[0], res[1], var.dtype)


# ======================================================================= log1p, expm1


@register("fast_run", "stabilize", phase="stabilize")
@node_rewriter([Elemwise])
def local_log1p(fgraph, node):
    """log(1 + x) and log(x + 1) -> log1p(x): 1 + x rounds away a small x (stability)."""
    if _scalar_name(node) != "log":
        return None
    (a,) = node.inputs
    add = _ew(a, "add")
    if add is None or a.type.dtype_kind not in "fc":
        return None  # an integer 1 + x could wrap around before the log
    x = _other_than_one(add)
    if x is None:
        return None
    return _replace(node, tm.log1p(_as_dtype(x, a.dtype)))


@register("fast_run", "stabilize", phase="stabilize")
@node_rewriter([Elemwise])
def local_log1m(fgraph, node):
    """log(1 - x) -> log1p(-x): 1 - x rounds away a small x (stability)."""
    if _scalar_name(node) != "log":
        return None
    (a,) = node.inputs
    sub = _ew(a, "sub")
    if sub is None or a.type.dtype_kind not in "fc" or not _is_const(sub.inputs[0], 1):
        return None
    return _replace(node, tm.log1p(_neg(_as_dtype(sub.inputs[1], a.dtype))))


@register("fast_run", "stabilize", phase="stabilize")
@node_rewriter([Elemwise])
def local_log1p_exp(fgraph, node):
    """log1p(exp(x)) -> softplus(x): exp overflows for x > 709 (stability).

    The rewritten value there is x instead of inf.
    """
    if _scalar_name(node) != "log1p":
        return None
    e = _ew(node.inputs[0], "exp")
    if e is None or not _is_real_float(node.outputs[0]):
        return None
    return _replace(node, tm.softplus(_as_dtype(e.inputs[0], node.outputs[0].dtype)))


@register("fast_run", "stabilize", phase="stabilize")
@node_rewriter([Elemwise])
def local_expm1(fgraph, node):
    """exp(x) - 1 (or exp(x) + -1) -> expm1(x): the subtraction cancels a small one (stability)."""
    name = _scalar_name(node)
    if name == "sub" and _is_const(node.inputs[1], 1):
        e = node.inputs[0]
    elif name == "add":
        e = _other_than_one(node, -1)
    else:
        return None
    if _ew(e, "exp") is None or node.outputs[0].type.dtype_kind not in "fc":
        return None
    return _replace(node, tm.expm1(e.owner.inputs[0]))


# ======================================================================= sigmoid


def _sigmoid_arg(var):
    """x when ``var`` is sigmoid(x), else None; x is cast to sigmoid's (float) dtype."""
    node = _ew(var, "sigmoid")
    if node is None:
        return None
    return _as_dtype(node.inputs[0], var.dtype)


@register("fast_run", "stabilize", phase="stabilize")
@node_rewriter([Elemwise])
def local_1msigmoid(fgraph, node):
    """1 - sigmoid(x) -> sigmoid(-x): the subtraction loses a sigmoid near 1 (stability)."""
    if _scalar_name(node) not in ("sub", "add"):
        return None
    x = _sigmoid_arg(_one_minus(node.outputs[0]))
    if x is None:
        return None
    return _replace(node, tm.sigmoid(_neg(x)))


@register("fast_run", "stabilize", phase="stabilize")
@node_rewriter([Elemwise])
def local_log_sigmoid(fgraph, node):
    """log(sigmoid(x)) -> -softplus(-x), log1p(-sigmoid(x)) -> -softplus(x) (stability).

    sigmoid rounds to 0 (or 1) for |x| > ~37 and the log becomes -inf (or 0).
    """
    name = _scalar_name(node)
    if name == "log":
        x = _sigmoid_arg(node.inputs[0])
        if x is None:
            return None
        new = tm.neg(tm.softplus(_neg(x)))
    elif name == "log1p":
        n = _ew(node.inputs[0], "neg")
        x = _sigmoid_arg(n.inputs[0]) if n is not None else None
        if x is None:
            return None
        new = tm.neg(tm.softplus(x))
    else:
        return None
    return _replace(node, new)


# ======================================================================= softmax


@register("fast_run", "stabilize", phase="stabilize")
@node_rewriter([Elemwise])
def local_log_softmax(fgraph, node):
    """log(softmax(x)) -> log_softmax(x): softmax underflows to 0, its log to -inf (stability).

    A row holding +inf gives -inf at its finite entries instead of nan.
    """
    if _scalar_name(node) != "log":
        return None
    s = node.inputs[0]
    if s.owner is None or not isinstance(s.owner.op, Softmax):
        return None
    return _replace(node, LogSoftmax(s.owner.op.axis)(s.owner.inputs[0]))


def _last_axis_softmax_input(var):
    """x when ``var`` is softmax(x) along the last axis, else None."""
    node = var.owner
    if node is None or not isinstance(node.op, Softmax):
        return None
    x = node.inputs[0]
    return x if node.op.axis % x.ndim == x.ndim - 1 else None


@register("fast_run", "stabilize", phase="stabilize")
@node_rewriter([CrossentropyCategorical1Hot])
def local_crossentropy_softmax(fgraph, node):
    """crossentropy_1hot(softmax(x), y) -> crossentropy_softmax_1hot(x, y) (stability, one op).

    The fused op computes logsumexp(x) - x[y]: finite where the probability of the
    label rounds to 0 and the unfused pair gives inf.
    """
    p, y = node.inputs
    x = _last_axis_softmax_input(p)
    if x is None:
        return None
    return _replace(node, crossentropy_softmax_1hot(x, y))


# ======================================================================= logsumexp


def _is_max_shifted(var):
    """``var`` is x - max(x) (possibly with the max guarded by a switch): already shifted."""
    node = _ew(var, "sub")
    if node is not None:
        m = node.inputs[1]
    else:
        node = _ew(var, "add")
        if node is None:
            return False
        negs = [_ew(i, "neg") for i in node.inputs]
        if not any(negs):
            return False
        m = next(n for n in negs if n is not None).inputs[0]
    m = _strip_dimshuffles(m)
    sw = _ew(m, "switch")
    if sw is not None:
        m = _strip_dimshuffles(sw.inputs[2])
    return m.owner is not None and isinstance(m.owner.op, CAReduce) \
        and m.owner.op.scalar_op.name == "maximum"


def _keepdims_order(axes, ndim):
    order, k = [], 0
    for d in range(ndim):
        if d in axes:
            order.append("x")
        else:
            order.append(k)
            k += 1
    return tuple(order)


@register("fast_run", "stabilize", phase="stabilize")
@node_rewriter([Elemwise])
def local_logsumexp(fgraph, node):
    """log(sum(exp(x), axis)) -> m + log(sum(exp(x - m))), m = max(x): exp overflows (stability).

    axis and keepdims are kept. As T.logsumexp, an empty axis raises at run time
    where the naive form gives -inf.
    """
    if _scalar_name(node) != "log":
        return None
    (a,) = node.inputs
    ds = None
    if a.owner is not None and isinstance(a.owner.op, DimShuffle):
        ds = a.owner.op
        a = a.owner.inputs[0]
    s, axes = _sum_of(a)
    if s is None or not _is_real_float(a):
        return None
    e = _ew(s.inputs[0], "exp")
    if e is None or _is_max_shifted(e.inputs[0]):
        return None
    x = _as_dtype(e.inputs[0], a.dtype)
    if ds is None:
        return _replace(node, logsumexp(x, axes))
    # log(dimshuffle(sum)) is dimshuffle(log(sum)): shuffle the keepdims result directly
    kept = [d for d in range(x.ndim) if d not in axes]
    order = tuple("x" if o == "x" else kept[o] for o in ds.new_order)
    new = logsumexp(x, axes, keepdims=True)
    if order != tuple(range(x.ndim)):
        new = DimShuffle(x.ndim, order)(new)
    return _replace(node, new)


# ======================================================================= log/exp pairs


@register("fast_run", "stabilize", phase="stabilize")
@node_rewriter([Elemwise])
def local_log_exp(fgraph, node):
    """log(exp(x)) -> x for real x: exp over/underflows beyond +-709 (stability, two ops fewer)."""
    if _scalar_name(node) != "log":
        return None
    e = _ew(node.inputs[0], "exp")
    if e is None or e.inputs[0].type.dtype_kind not in "biuf":
        return None  # complex: log(exp(z)) wraps the imaginary part into (-pi, pi]
    return _replace(node, _as_dtype(e.inputs[0], node.outputs[0].dtype))


def _nonnegative(var) -> bool:
    """``var`` is >= 0 or nan wherever it is defined (so exp(log(var)) is var)."""
    if var.type.dtype_kind in "bu":
        return True
    if var.type.dtype_kind == "c":
        return False
    if isinstance(var, TensorConstant):
        with np.errstate(invalid="ignore"):
            return bool(np.all(~(np.asarray(var.data) < 0)))
    node = var.owner
    if node is None:
        return False
    if isinstance(node.op, Softmax):
        return True
    name = _scalar_name(node)
    if name in ("exp", "exp2", "sqrt", "sigmoid", "softplus"):
        return True
    if name in ("sqr", "abs", "cosh"):
        return node.inputs[0].type.dtype_kind != "c"
    return False


@register("fast_run", "stabilize", phase="stabilize")
@node_rewriter([Elemwise])
def local_exp_log(fgraph, node):
    """exp(log(x)) -> x where x >= 0 is known: exact, and two ops fewer (speed, precision).

    Known non-negative: exp, exp2, sqrt, sqr, abs, cosh, sigmoid, softplus and softmax
    outputs, unsigned or non-negative constants. For a possibly negative x it would
    turn nan into x, so it does not fire.
    """
    if _scalar_name(node) != "exp":
        return None
    lg = _ew(node.inputs[0], "log")
    if lg is None or not _nonnegative(lg.inputs[0]):
        return None
    return _replace(node, _as_dtype(lg.inputs[0], node.outputs[0].dtype))


# ======================================================================= gradients


@register("fast_run", "stabilize", phase="stabilize")
@node_rewriter([Elemwise])
def local_mul_div_cancel(fgraph, node):
    """a * f / f -> a for f a sigmoid, exp or softmax output: f may be 0 or inf (stability).

    Makes gradients such as that of log(sigmoid(x)) finite; deliberately not nan
    where f is 0 or inf.
    """
    if _scalar_name(node) not in ("mul", "true_div") or node.outputs[0].type.dtype_kind not in "fc":
        return None
    return _replace(node, _cancelled(node.outputs[0]))


@register("fast_run", "stabilize", phase="stabilize")
@node_rewriter([Elemwise])
def local_mul_distribute_cancel(fgraph, node):
    """f * (a / f - b) -> a - f * b for f a sigmoid, exp or softmax output (stability).

    The gradient of log(softmax(x)) has this form and is nan where softmax
    underflows; deliberately not nan where f is 0 or inf. Also with +.
    """
    if _scalar_name(node) != "mul" or node.outputs[0].type.dtype_kind not in "fc":
        return None
    out = node.outputs[0]
    sign, num, den = _factors(out)
    for fk, f in enumerate(num):
        if not _cancellable(f):
            continue
        for tk, t in enumerate(num):
            tnode = _ew(t, "add", "sub")
            if tnode is None or t.dtype != out.dtype:
                continue
            terms = tnode.inputs
            if not any(any(f is d for d in _factors(p)[2]) for p in terms):
                continue
            new_terms = []
            for p in terms:
                fp = tm.mul(f, p)
                c = _cancelled(fp)
                new_terms.append(fp if c is None else c)
            op = tm.add if _scalar_name(tnode) == "add" else tm.sub
            rest = [v for k, v in enumerate(num) if k not in (fk, tk)]
            return _replace(node, _build(sign, rest + [op(*new_terms)], den, out.dtype))
    return None


def _peel_structure(var):
    """``var`` as layers of Alloc/DimShuffle over a core: (core, [layer nodes outermost
    first])."""
    layers = []
    while var.owner is not None and isinstance(var.owner.op, (Alloc, DimShuffle)):
        layers.append(var.owner)
        var = var.owner.inputs[0]
    return var, layers


def _wrap(var, layers):
    """Re-apply the ``layers`` of _peel_structure to ``var``."""
    for node in reversed(layers):
        if isinstance(node.op, Alloc):
            var = node.op(var, *node.inputs[1:])
        else:
            if var.ndim != node.op.input_ndim:
                return None
            var = node.op(var)
    return var


def _sum_of_exp(var):
    """(x, axes, layers) when ``var`` is Alloc/DimShuffle layers over sum(exp(x), axes)
    that put the sum back in x's layout (a keepdims broadcast), else None."""
    core, layers = _peel_structure(var)
    s, axes = _sum_of(core)
    if s is None or core.dtype != s.inputs[0].dtype or not _is_real_float(core):
        return None
    e = _ew(s.inputs[0], "exp")
    if e is None or _is_max_shifted(e.inputs[0]):
        return None  # already shifted (this rewrite's own output)
    x = e.inputs[0]
    # compose the layers (innermost first) into one dimension order over the sum
    order = tuple(range(core.ndim))
    for node in reversed(layers):
        if isinstance(node.op, Alloc):
            lead = len(node.inputs) - 1 - node.inputs[0].ndim
            order = ("x",) * lead + order
        else:
            order = tuple("x" if o == "x" else order[o] for o in node.op.new_order)
    if order != _keepdims_order(axes, x.ndim):
        return None
    return e.outputs[0], x, axes


def _shifted_ratio(x, axes):
    """exp(x) / sum(exp(x), axes) (keepdims layout) with x shifted by its maximum; the
    maximum is not subtracted where it is infinite, so that +inf and all -inf slices
    give the naive formula's values (nan at +inf and 0 beside it; nan)."""
    from symgraph.tensor.reduction import max as max_, sum as sum_

    m = max_(x, axes, keepdims=True)
    m = tm.switch(tm.isinf(m), constant(0, dtype=x.dtype), m)
    r = tm.exp(tm.sub(x, m))
    return tm.true_div(r, sum_(r, axes, keepdims=True))


@register("fast_run", "stabilize", phase="stabilize")
@node_rewriter([Elemwise])
def local_exp_over_sum_exp(fgraph, node):
    """exp(x) / sum(exp(x)) -> the same ratio of x - max(x): inf / inf is nan (stability).

    Also where grad() spreads the division over an alloc and a dimshuffle (the
    gradient of log(sum(exp(x)))). Equal values, nan and inf included, where the
    naive ratio does not overflow.
    """
    if _scalar_name(node) not in ("mul", "true_div"):
        return None
    out = node.outputs[0]
    if not _is_real_float(out):
        return None
    sign, num, den = _factors(out)
    # push a division hidden under allocs/dimshuffles (grad of a sum of a log) up
    for k, w in enumerate(num):
        core, layers = _peel_structure(w)
        if not layers:
            continue
        cnode = _ew(core, "true_div", "reciprocal")
        if cnode is None or core.dtype != out.dtype:
            continue
        wd = _wrap(cnode.inputs[-1], layers)
        if wd is None or _sum_of_exp(wd) is None:
            continue
        num = list(num)
        if _scalar_name(cnode) == "true_div":
            g = _wrap(cnode.inputs[0], layers)
            if g is None:
                continue
            num[k] = g
        else:
            del num[k]
        den = list(den) + [wd]
        break
    for dk, d in enumerate(den):
        found = _sum_of_exp(d)
        if found is None:
            continue
        e, x, axes = found
        ek = next((k for k, v in enumerate(num) if v is e), None)
        if ek is None:
            continue
        ratio = _shifted_ratio(_as_dtype(x, e.dtype), axes)
        num = [ratio if k == ek else v for k, v in enumerate(num)]
        den = [v for k, v in enumerate(den) if k != dk]
        return _replace(node, _build(sign, num, den, out.dtype))
    return None


def _is_arange(var):
    """``var`` is arange(n) (possibly padded on the left, or folded into a constant)."""
    var = _strip_dimshuffles(var)
    if isinstance(var, TensorConstant):
        data = np.asarray(var.data)
        return data.ndim >= 1 and data.shape[:-1] == (1,) * (data.ndim - 1) \
            and np.array_equal(data.reshape(-1), np.arange(data.size))
    node = var.owner
    return node is not None and isinstance(node.op, ARange) \
        and _is_const(node.inputs[0], 0) and _is_const(node.inputs[2], 1)


def _label_mask_labels(mask):
    """y when ``mask`` is eq(arange(n), y[..., None]) (either order), else None."""
    node = _ew(mask, "eq")
    if node is None:
        return None
    a, b = node.inputs
    for r, ds in ((a, b), (b, a)):
        if ds.owner is not None and isinstance(ds.owner.op, DimShuffle) \
                and ds.owner.op.new_order == tuple(range(ds.ndim - 1)) + ("x",) \
                and _is_arange(r):
            return ds.owner.inputs[0]
    return None


def _expand_last(var):
    """x when ``var`` is x[..., None] (a DimShuffle appending one broadcastable axis)."""
    node = var.owner
    if node is not None and isinstance(node.op, DimShuffle) \
            and node.op.new_order == tuple(range(node.op.input_ndim)) + ("x",):
        return node.inputs[0]
    return None


def _ce_grad_input(a, s):
    """When ``a`` is the gradient crossentropy_categorical_1hot(s, y) (or its fused form
    of softmax's input) sends to s, switch(mask_y, -(g * exp(ce))[..., None], 0) (the
    [..., None] possibly moved onto the leaves g and ce): (mask, g) with g the
    per-row gradient broadcast along the classes, or None for 1."""
    sw = _ew(a, "switch")
    if sw is None or not _is_const(sw.inputs[2], 0):
        return None
    mask, r = sw.inputs[0], sw.inputs[1]
    y = _label_mask_labels(mask)
    if y is None or r.dtype != s.dtype:
        return None
    per_row = _expand_last(r)
    if per_row is None:
        if r.type.shape[-1] != 1:
            return None
        per_row = r
    sign, num, den = _factors(per_row)
    x = s.owner.inputs[0]
    for k, f in enumerate(num):
        e = _ew(f, "exp")
        if e is None:
            continue
        ce = e.inputs[0] if per_row is not r else _expand_last(e.inputs[0])
        ce = getattr(ce, "owner", None)
        if ce is None or ce.inputs[1] is not y:
            continue
        if (isinstance(ce.op, CrossentropyCategorical1Hot) and ce.inputs[0] is s) or \
                (isinstance(ce.op, CrossentropySoftmax1Hot) and ce.inputs[0] is x):
            g = _build(-sign, [v for j, v in enumerate(num) if j != k], den, per_row.dtype)
            if g is not None and per_row is not r:
                g = r.owner.op(g)
            return mask, g
    return None


def _minus(var):
    """(a, b) when ``var`` is a - b or a + (-b) (either order), else None."""
    node = _ew(var, "sub")
    if node is not None:
        return node.inputs[0], node.inputs[1]
    node = _ew(var, "add")
    if node is not None:
        a, b = node.inputs
        if _ew(b, "neg") is not None:
            return a, b.owner.inputs[0]
        if _ew(a, "neg") is not None:
            return b, a.owner.inputs[0]
    return None


def _is_sum_times(var, a, s, axis):
    """``var`` is sum(a * s, axis, keepdims=True) (or the switch sunk into the product)."""
    ds = var.owner
    if ds is None or not isinstance(ds.op, DimShuffle):
        return False
    red, axes = _sum_of(ds.inputs[0])
    if red is None or axes != (axis,) or ds.op.new_order != _keepdims_order(axes, a.ndim):
        return False
    prod = red.inputs[0]
    m = _ew(prod, "mul")
    if m is not None and len(m.inputs) == 2 and {id(i) for i in m.inputs} == {id(a), id(s)}:
        return True
    # mul(switch(c, r, 0), s) may have become switch(c, r * s, 0)
    sw, asw = _ew(prod, "switch"), a.owner
    if sw is None or sw.inputs[0] is not asw.inputs[0] or not _is_const(sw.inputs[2], 0):
        return False
    m = _ew(sw.inputs[1], "mul")
    return m is not None and len(m.inputs) == 2 and \
        {id(i) for i in m.inputs} == {id(asw.inputs[1]), id(s)}


@register("fast_run", "stabilize", phase="stabilize")
@node_rewriter([Elemwise])
def local_crossentropy_softmax_grad(fgraph, node):
    """grad of crossentropy_1hot(softmax(x), y) -> g * (softmax(x) - onehot(y)) (stability).

    grad() builds s * (a - sum(a * s)) with a = onehot(y) * -g / s[y], which divides
    by a probability that rounds to 0 for large logits (nan where this is finite).
    """
    if _scalar_name(node) != "mul" or len(node.inputs) != 2:
        return None
    for s, d in (node.inputs, reversed(node.inputs)):
        x = _last_axis_softmax_input(s)
        if x is None:
            continue
        parts = _minus(d)
        if parts is None:
            continue
        a, k = parts
        found = _ce_grad_input(a, s)
        if found is None or not _is_sum_times(k, a, s, x.ndim - 1):
            continue
        mask, g = found
        dlogits = tm.switch(mask, tm.sub(s, constant(1, dtype=s.dtype)), s)
        new = dlogits if g is None else tm.mul(g, dlogits)
        return _replace(node, new)
    return None
