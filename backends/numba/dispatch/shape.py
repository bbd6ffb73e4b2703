"""Shape ops: shape, shape_i, specify_shape, reshape, unbroadcast."""

from __future__ import annotations

from backends.numba.dispatch import Kernel, register
from symgraph.tensor.shape import Reshape, Shape, Shape_i, SpecifyShape, Unbroadcast


@register(Shape)
def build_shape(op, node):
    n = node.inputs[0].ndim
    items = "".join(f"a0.shape[{d}], " for d in range(n))
    return Kernel("def KERNEL_NAME(a0):\n"
                  f"    return np.array(({items}), dtype=np.int64)\n" if n else
                  "def KERNEL_NAME(a0):\n    return np.empty(0, dtype=np.int64)\n")


@register(Shape_i)
def build_shape_i(op, node):
    return Kernel("def KERNEL_NAME(a0):\n"
                  f"    out = np.empty((), dtype=np.int64)\n"
                  f"    out[()] = a0.shape[{op.i}]\n"
                  "    return out\n")


@register(SpecifyShape)
def build_specify_shape(op, node):
    lines = ["def KERNEL_NAME(a0):"]
    for d, s in enumerate(op.shape):
        if s is not None:
            lines.append(f"    if a0.shape[{d}] != {s}:")
            lines.append(f"        raise ValueError('specify_shape: expected static shape "
                         f"{op.shape} (dimension {d})')")
    lines.append("    return a0")
    return Kernel("\n".join(lines) + "\n")


@register(Unbroadcast)
def build_unbroadcast(op, node):
    return Kernel("def KERNEL_NAME(a0):\n    return a0\n")


@register(Reshape)
def build_reshape(op, node):
    """np.reshape with one -1 resolved; a copy first when the input is not contiguous."""
    n = op.ndim
    lines = ["def KERNEL_NAME(a0, a1):",
             f"    if a1.shape[0] != {n}:",
             "        raise ValueError('reshape: wrong length of the shape vector')",
             "    size = a0.size",
             "    known = 1",
             "    neg = -1"]
    for d in range(n):
        lines += [f"    s{d} = a1[{d}]",
                  f"    if s{d} == -1:",
                  "        if neg >= 0:",
                  "            raise ValueError('reshape: more than one -1 in the shape')",
                  f"        neg = {d}",
                  f"    elif s{d} < 0:",
                  "        raise ValueError('reshape: negative length in the shape')",
                  "    else:",
                  f"        known *= s{d}"]
    if n:
        lines += ["    if neg >= 0:",
                  "        if known == 0:",  # NumPy refuses to infer a length next to a 0
                  "            raise ValueError('reshape: cannot infer the -1 next to a 0')"]
    for d in range(n):
        lines += [f"    if neg == {d}:",
                  f"        s{d} = size // known"]
    shape = "(" + "".join(f"s{d}, " for d in range(n)) + ")"
    prod = " * ".join(f"s{d}" for d in range(n)) or "1"
    lines += [f"    if {prod} != size:",
              "        raise ValueError('reshape: the new shape does not hold as many elements')",
              f"    return np.ascontiguousarray(a0).reshape({shape})"]
    return Kernel("\n".join(lines) + "\n")
