"""Join (concatenate), Split (views), Tile and Repeat.

Join writes each input into its slab of the output (numba casts to the output's
dtype while copying); Split returns views, as its view_map declares; Tile copies
the whole input into each block; Repeat copies each element (or each slice
across the axis) its count of times.
"""

from __future__ import annotations

from backends.numba.dispatch import Kernel, register
from backends.numba.dispatch.scalar import np_type
from symgraph.tensor.join import Join, Repeat, Split, Tile


def _tuple(items):
    return "(" + "".join(f"{i}, " for i in items) + ")"


def _key(ndim, axis, at):
    """An index of an ``ndim``-d array: ``at`` on ``axis``, full slices elsewhere."""
    return ", ".join(at if d == axis else ":" for d in range(ndim))


@register(Join)
def build_join(op, node):
    nin = len(node.inputs)
    ndim = node.outputs[0].ndim
    axis = op.axis % ndim
    dt = np_type(node.outputs[0].type.dtype)
    args = [f"a{k}" for k in range(nin)]
    lines = [f"def KERNEL_NAME({', '.join(args)}):"]
    for k in range(1, nin):
        for d in range(ndim):
            if d != axis:
                lines += [f"    if a{k}.shape[{d}] != a0.shape[{d}]:",
                          "        raise ValueError('join: the inputs differ off the axis')"]
    total = " + ".join(f"a{k}.shape[{axis}]" for k in range(nin))
    shape = [total if d == axis else f"a0.shape[{d}]" for d in range(ndim)]
    lines += [f"    out = np.empty({_tuple(shape)}, dtype={dt})", "    o = 0"]
    src = ", ".join(f"j{d}" for d in range(ndim))
    dst = ", ".join(f"o + j{d}" if d == axis else f"j{d}" for d in range(ndim))
    for k in range(nin):
        indent = "    "
        for d in range(ndim):
            lines.append(f"{indent}for j{d} in range(a{k}.shape[{d}]):")
            indent += "    "
        lines += [f"{indent}out[{dst}] = a{k}[{src}]",
                  f"    o += a{k}.shape[{axis}]"]
    lines.append("    return out")
    return Kernel("\n".join(lines) + "\n")


@register(Split)
def build_split(op, node):
    """Views of the input, after the checks perform makes (count, sign, total)."""
    n = op.len_splits
    ndim = node.inputs[0].ndim
    axis = op.axis % ndim
    lines = ["def KERNEL_NAME(a0, a1):",
             f"    if a1.shape[0] != {n}:",
             "        raise ValueError('split: wrong number of sizes')",
             "    total = 0",
             f"    for i in range({n}):",
             "        if a1[i] < 0:",
             "            raise ValueError('split: sizes must be >= 0')",
             "        total += a1[i]",
             f"    if total != a0.shape[{axis}]:",
             "        raise ValueError('split: the sizes do not add up to the length of the axis')",
             "    o = 0"]
    for k in range(n):
        lines += [f"    e = o + a1[{k}]",
                  f"    p{k} = a0[{_key(ndim, axis, 'o:e')}]",
                  "    o = e"]
    outs = ", ".join(f"p{k}" for k in range(n))
    lines.append(f"    return {outs}" if n == 1 else f"    return ({outs},)")
    return Kernel("\n".join(lines) + "\n")


@register(Tile)
def build_tile(op, node):
    """One copy of the input per block of the output (a loop nest over the reps)."""
    nd = op.ndim
    dt = np_type(node.outputs[0].type.dtype)
    lines = ["def KERNEL_NAME(a0, a1):",
             f"    if a1.shape[0] != {nd}:",
             "        raise ValueError('tile: wrong number of reps')",
             f"    for i in range({nd}):",
             "        if a1[i] < 0:",
             "            raise ValueError('tile: reps must be >= 0')"]
    if nd == 0:
        lines += [f"    out = np.empty((), dtype={dt})",
                  "    out[()] = a0[()]",
                  "    return out"]
        return Kernel("\n".join(lines) + "\n")
    for d in range(nd):
        lines += [f"    n{d} = a0.shape[{d}]", f"    r{d} = a1[{d}]"]
    lines.append(f"    out = np.empty({_tuple(f'n{d} * r{d}' for d in range(nd))}, dtype={dt})")
    # the output in C order: block index and position inside the block, per dimension
    indent = "    "
    for d in range(nd):
        lines += [f"{indent}for q{d} in range(r{d}):",
                  f"{indent}    for j{d} in range(n{d}):"]
        indent += "        "
    dst = ", ".join(f"q{d} * n{d} + j{d}" for d in range(nd))
    src = ", ".join(f"j{d}" for d in range(nd))
    lines += [f"{indent}out[{dst}] = a0[{src}]", "    return out"]
    return Kernel("\n".join(lines) + "\n")


@register(Repeat)
def build_repeat(op, node):
    """Count, allocate, then copy element ``i`` (a slice across the axis when the
    input has several dimensions) to its ``repeats[i]`` consecutive places."""
    x, reps = node.inputs
    dt = np_type(node.outputs[0].type.dtype)
    lines = ["def KERNEL_NAME(a0, a1):"]
    if op.axis is None:
        lines.append("    x = np.ascontiguousarray(a0).reshape(a0.size)")
        ndim, axis = 1, 0
    else:
        lines.append("    x = a0")
        ndim, axis = x.ndim, op.axis % x.ndim
    lines.append(f"    n = x.shape[{axis}]")
    if reps.ndim == 0:
        lines += ["    r = a1[()]",
                  "    if r < 0:",
                  "        raise ValueError('repeat: repeats must be >= 0')",
                  "    total = n * r"]
        count = "r"
    else:
        lines += ["    m = a1.shape[0]",
                  "    total = 0",
                  "    for i in range(m):",
                  "        if a1[i] < 0:",
                  "            raise ValueError('repeat: repeats must be >= 0')",
                  "        total += a1[i]",
                  "    if m == 1:",
                  "        total = n * a1[0]",
                  "    elif m != n:",
                  "        raise ValueError('repeat: repeats do not match the length of the axis')"]
        count = "a1[0] if m == 1 else a1[i]"
    shape = ["total" if d == axis else f"x.shape[{d}]" for d in range(ndim)]
    lines.append(f"    out = np.empty({_tuple(shape)}, dtype={dt})")
    # the output in C order: dimensions before the axis, then the element i of the
    # axis c times, then the dimensions after it
    indent = "    "
    for d in range(axis):
        lines.append(f"{indent}for j{d} in range(x.shape[{d}]):")
        indent += "    "
    lines += [f"{indent}pos = 0",
              f"{indent}for i in range(n):",
              f"{indent}    for _ in range({count}):"]
    indent += "        "
    for d in range(axis + 1, ndim):
        lines.append(f"{indent}for j{d} in range(x.shape[{d}]):")
        indent += "    "
    dst = ", ".join("pos" if d == axis else f"j{d}" for d in range(ndim))
    src = ", ".join("i" if d == axis else f"j{d}" for d in range(ndim))
    lines.append(f"{indent}out[{dst}] = x[{src}]")
    lines += [f"{'    ' * (axis + 3)}pos += 1", "    return out"]
    return Kernel("\n".join(lines) + "\n")
