"""Alloc, Eye, Tri, ARange, AllocDiag, ExtractDiag.

Shape, size and offset inputs are int64 0-d arrays, read with ``a[()]``. ARange
reproduces numpy.arange step by step (see build_arange), so float results match
the interpreter bit for bit.
"""

from __future__ import annotations

import numpy as np

from backends.numba.dispatch import Kernel, register
from backends.numba.dispatch.scalar import cast, literal, np_type
from symgraph.tensor.creation import Alloc, AllocDiag, ARange, ExtractDiag, Eye, Tri


def _tuple(items):
    return "(" + "".join(f"{i}, " for i in items) + ")"


def _kernel(lines):
    return Kernel("\n".join(lines) + "\n")


@register(Alloc)
def build_alloc(op, node):
    """Check the value against the shape (only static-1 dimensions stretch), then fill."""
    value = node.inputs[0]
    nd = len(node.inputs) - 1
    dt = np_type(node.outputs[0].type.dtype)
    args = ", ".join(f"a{k}" for k in range(nd + 1))
    lines = [f"def KERNEL_NAME({args}):"]
    for d in range(nd):
        lines += [f"    s{d} = a{d + 1}[()]",
                  f"    if s{d} < 0:",
                  "        raise ValueError('alloc: negative dimensions are not allowed')"]
    off = nd - value.ndim
    vstatic = value.type.shape
    for i in range(value.ndim):
        if vstatic[i] != 1:
            lines += [f"    if a0.shape[{i}] != s{off + i}:",
                      "        raise ValueError('alloc: the value does not fit the shape')"]
    lines.append(f"    out = np.empty({_tuple(f's{d}' for d in range(nd))}, dtype={dt})")
    if nd == 0:
        lines.append("    out[()] = a0[()]")
    elif all(s == 1 for s in vstatic):
        # one value for every element (a 0-d value, or only static-1 dimensions)
        lines.append(f"    out.fill(a0[{', '.join('0' * value.ndim) or '()'}])")
    else:
        indent = "    "
        for d in range(nd):
            lines.append(f"{indent}for j{d} in range(s{d}):")
            indent += "    "
        src = ", ".join("0" if vstatic[i] == 1 else f"j{off + i}" for i in range(value.ndim))
        dst = ", ".join(f"j{d}" for d in range(nd))
        lines.append(f"{indent}out[{dst}] = a0[{src}]")
    lines.append("    return out")
    return _kernel(lines)


def _sizes(who):
    return ["def KERNEL_NAME(a0, a1, a2):",
            "    n = a0[()]",
            "    m = a1[()]",
            "    k = a2[()]",
            "    if n < 0 or m < 0:",
            f"        raise ValueError('{who}: negative dimensions are not allowed')"]


@register(Eye)
def build_eye(op, node):
    dtype = node.outputs[0].type.dtype
    lines = _sizes("eye") + [
        f"    out = np.zeros((n, m), dtype={np_type(dtype)})",
        "    for i in range(max(0, -k), min(n, m - k)):",
        f"        out[i, i + k] = {literal(1, dtype)}",
        "    return out"]
    return _kernel(lines)


@register(Tri)
def build_tri(op, node):
    dtype = node.outputs[0].type.dtype
    lines = _sizes("tri") + [
        f"    out = np.zeros((n, m), dtype={np_type(dtype)})",
        "    for i in range(n):",
        "        for j in range(min(m, max(0, i + k + 1))):",
        f"            out[i, j] = {literal(1, dtype)}",
        "    return out"]
    return _kernel(lines)


@register(ARange)
def build_arange(op, node):
    """numpy.arange as NumPy computes it: the length is ceil((stop - start) / step)
    evaluated in the inputs' scalar types; then out[0] = start and out[1] = start +
    step (in the inputs' promoted type), both converted to the dtype, and
    out[i] = out[0] + i * (out[1] - out[0]) in the dtype's own arithmetic."""
    ts, te, tp = (i.type.dtype for i in node.inputs)
    dtype = op.dtype
    dt = np.dtype(dtype)
    lines = ["def KERNEL_NAME(a0, a1, a2):"]
    if ts == "bool" and te == "bool":
        # numpy cannot subtract booleans; the interpreter's re-run raises its error
        lines += ["    raise ValueError('arange: boolean start and stop')"]
        return _kernel(lines)

    def rt(*dts):
        return np.result_type(*[np.dtype(d) for d in dts]).name

    r_diff = rt(te, ts)
    r_quot = (np.zeros(1, r_diff) / np.ones(1, tp)).dtype.name
    r_next = rt(ts, tp)

    def rounded(expr, dst):
        # numba computes small integer types in int64: wrap back as NumPy does
        return cast(expr, "int64" if dst != "int64" else "float64", dst)

    diff = rounded(f"{cast('stop', te, r_diff)} - {cast('start', ts, r_diff)}", r_diff)
    nxt = rounded(f"{cast('start', ts, r_next)} + {cast('step', tp, r_next)}", r_next)
    lines += ["    start = a0[()]",
              "    stop = a1[()]",
              "    step = a2[()]",
              "    if step == 0:",
              "        raise ValueError('arange: step must not be zero')",
              f"    d = {diff}",
              f"    q = np.float64({cast('d', r_diff, r_quot)} / {cast('step', tp, r_quot)})",
              "    if not (abs(q) < 9.2e18):",
              "        raise ValueError('arange: cannot compute the length')",
              "    n = max(math.ceil(q), 0)",
              f"    out = np.empty(n, dtype={np_type(dtype)})",
              "    if n == 0:",
              "        return out",
              f"    b0 = {cast('start', ts, dtype)}",
              "    out[0] = b0",
              "    if n == 1:",
              "        return out",
              f"    nxt = {nxt}",
              f"    b1 = {cast('nxt', r_next, dtype)}",
              "    out[1] = b1"]
    if dt.kind == "f":
        lines += [f"    delta = {np_type(dtype)}(b1 - b0)",
                  "    for i in range(2, n):",
                  f"        out[i] = b0 + {np_type(dtype)}(i) * delta"]
    else:
        # C integer arithmetic: the same values modulo 2**bits as in a wide type
        wide = "np.uint64" if dtype == "uint64" else "np.int64"
        lines += [f"    w0 = {wide}(b0)",
                  f"    delta = {wide}({wide}(b1) - w0)",
                  "    for i in range(2, n):",
                  f"        out[i] = w0 + {wide}(i) * delta"]
    lines.append("    return out")
    return _kernel(lines)


@register(AllocDiag)
def build_alloc_diag(op, node):
    k = op.offset
    dt = np_type(node.outputs[0].type.dtype)
    lines = ["def KERNEL_NAME(a0):",
             "    L = a0.shape[0]",
             f"    n = L + {abs(k)}",
             f"    out = np.zeros((n, n), dtype={dt})",
             "    for i in range(L):",
             f"        out[i + {max(0, -k)}, i + {max(0, k)}] = a0[i]",
             "    return out"]
    return _kernel(lines)


@register(ExtractDiag)
def build_extract_diag(op, node):
    """The other axes first, in order, the diagonal last (a copy)."""
    x = node.inputs[0]
    nd = x.ndim
    a1, a2, k = op.axis1, op.axis2, op.offset
    r0, c0 = max(0, -k), max(0, k)
    dt = np_type(node.outputs[0].type.dtype)
    rest = [d for d in range(nd) if d not in (a1, a2)]
    lines = ["def KERNEL_NAME(a0):",
             f"    L = max(0, min(a0.shape[{a1}] - {r0}, a0.shape[{a2}] - {c0}))"]
    shape = [f"a0.shape[{d}]" for d in rest] + ["L"]
    lines.append(f"    out = np.empty({_tuple(shape)}, dtype={dt})")
    indent = "    "
    for p, d in enumerate(rest):
        lines.append(f"{indent}for j{p} in range(a0.shape[{d}]):")
        indent += "    "
    lines.append(f"{indent}for i in range(L):")
    src = []
    for d in range(nd):
        if d == a1:
            src.append(f"i + {r0}")
        elif d == a2:
            src.append(f"i + {c0}")
        else:
            src.append(f"j{rest.index(d)}")
    dst = [f"j{p}" for p in range(len(rest))] + ["i"]
    lines += [f"{indent}    out[{', '.join(dst)}] = a0[{', '.join(src)}]",
              "    return out"]
    return _kernel(lines)
