"""Neural-network ops: Softmax, LogSoftmax, CrossentropyCategorical1Hot and the fused
CrossentropySoftmax1Hot, as loop nests specialised to the node's ndim and axis.

Softmax and LogSoftmax walk the input in C order three times, keeping the maximum
and the sum of exponentials of each slice in arrays of the other dimensions, so any
axis reads memory in order. Every step rounds in the output dtype as the
interpreter's NumPy code does: the maximum (NaN propagates; an empty axis is fine),
x - max (for LogSoftmax an infinite maximum is not subtracted), exp, the sum, and
the division or the subtraction of its log.
"""

from __future__ import annotations

from backends.numba.dispatch import Kernel, register
from backends.numba.dispatch.reduction import _idx, _indent, _shape
from backends.numba.dispatch.scalar import cast, np_type
from symgraph.tensor.nnet import (
    CrossentropyCategorical1Hot, CrossentropySoftmax1Hot, LogSoftmax, Softmax,
)


def _loops(n, depth=1):
    return [("    " * (depth + d)) + f"for j{d} in range(n{d}):" for d in range(n)]


@register(Softmax, LogSoftmax)
def build_softmax(op, node):
    x = node.inputs[0]
    n = x.ndim
    ax = op.axis % n
    in_dt, dt = x.type.dtype, node.outputs[0].type.dtype
    T = np_type(dt)
    log = isinstance(op, LogSoftmax)
    j = [f"j{d}" for d in range(n)]
    kept = [d for d in range(n) if d != ax]
    idx = _idx(j)
    if kept:
        k = _idx([j[d] for d in kept])
        m, s = f"m[{k}]", f"s[{k}]"
        kshape = _shape([f"n{d}" for d in kept])
        init = [f"    m = np.full({kshape}, {T}(-math.inf), dtype={T})",
                f"    s = np.zeros({kshape}, dtype={T})"]
    else:
        m, s = "m", "s"
        init = [f"    m = {T}(-math.inf)", f"    s = {T}(0)"]
    load = cast(f"a0[{idx}]", in_dt, dt)
    lines = ["def KERNEL_NAME(a0):"]
    lines += [f"    n{d} = a0.shape[{d}]" for d in range(n)]
    lines.append(f"    out = np.empty({_shape([f'n{d}' for d in range(n)])}, dtype={T})")
    lines += init
    # pass 1: the maximum of each slice (NaN wins, as np.max)
    lines += _loops(n)
    lines += _indent([f"v = {load}", f"if v > {m} or v != v:", f"    {m} = v"], n + 1)
    # pass 2: exp(x - max) summed (LogSoftmax keeps x - max, with an infinite max as 0)
    lines += _loops(n)
    body = [f"v = {load}", f"mk = {m}"]
    if log:
        body += ["if not np.isfinite(mk):", f"    mk = {T}(0)"]
    body += ["z = v - mk", "e = np.exp(z)", f"{s} += e", f"out[{idx}] = {'z' if log else 'e'}"]
    lines += _indent(body, n + 1)
    # pass 3: normalise
    lines += _loops(n)
    step = f"out[{idx}] - np.log({s})" if log else f"out[{idx}] / {s}"
    lines += _indent([f"out[{idx}] = {step}"], n + 1)
    lines.append("    return out")
    return Kernel("\n".join(lines) + "\n")


def _label_checks(what, n):
    """Lines checking that the labels (a1) have the shape of a0 minus its last axis."""
    lines = []
    for d in range(n - 1):
        lines += [f"    if a1.shape[{d}] != n{d}:",
                  f"        raise ValueError('{what}: the labels do not have the shape of the "
                  "other input without its last axis')"]
    return lines


def _label(what, n):
    """Lines reading the label at the current index into ``lab``, range checked."""
    rows = _idx([f"j{d}" for d in range(n - 1)])
    return [f"lab = np.int64(a1[{rows}])",
            f"if lab < 0 or lab >= n{n - 1}:",
            f"    raise IndexError('{what}: a label is out of range for the number of "
            "classes')"]


@register(CrossentropyCategorical1Hot)
def build_crossentropy_categorical_1hot(op, node):
    """-log(p[..., y]) per label, in p's dtype."""
    p = node.inputs[0]
    n = p.ndim
    T = np_type(node.outputs[0].type.dtype)
    what = "crossentropy_categorical_1hot"
    rows = [f"j{d}" for d in range(n - 1)]
    lines = ["def KERNEL_NAME(a0, a1):"]
    lines += [f"    n{d} = a0.shape[{d}]" for d in range(n)]
    lines += _label_checks(what, n)
    lines.append(f"    out = np.empty({_shape([f'n{d}' for d in range(n - 1)])}, dtype={T})")
    lines += _loops(n - 1)
    body = _label(what, n) + [f"out[{_idx(rows)}] = -np.log(a0[{_idx(rows + ['lab'])}])"]
    lines += _indent(body, n)
    lines.append("    return out")
    return Kernel("\n".join(lines) + "\n")


@register(CrossentropySoftmax1Hot)
def build_crossentropy_softmax_1hot(op, node):
    """log(sum(exp(x - max))) - (x[..., y] - max) per row of the logits, in the output
    dtype; the maximum is subtracted even when infinite (such rows give nan)."""
    x = node.inputs[0]
    n = x.ndim
    in_dt, dt = x.type.dtype, node.outputs[0].type.dtype
    T = np_type(dt)
    what = "crossentropy_softmax_1hot"
    rows = [f"j{d}" for d in range(n - 1)]

    def load(col):
        return cast(f"a0[{_idx(rows + [col])}]", in_dt, dt)

    last = f"n{n - 1}"
    lines = ["def KERNEL_NAME(a0, a1):"]
    lines += [f"    n{d} = a0.shape[{d}]" for d in range(n)]
    lines += _label_checks(what, n)
    lines.append(f"    out = np.empty({_shape([f'n{d}' for d in range(n - 1)])}, dtype={T})")
    lines += _loops(n - 1)
    body = _label(what, n) + [
        f"mx = {T}(-math.inf)",
        f"for c in range({last}):",
        f"    v = {load('c')}",
        "    if v > mx or v != v:",
        "        mx = v",
        f"s = {T}(0)",
        f"for c in range({last}):",
        f"    s += np.exp({load('c')} - mx)",
        f"out[{_idx(rows)}] = np.log(s) - ({load('lab')} - mx)",
    ]
    lines += _indent(body, n)
    lines.append("    return out")
    return Kernel("\n".join(lines) + "\n")
