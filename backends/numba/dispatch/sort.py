"""Sort and ArgSort (one stable merge sort per line along the axis, sortlib.py) and
Nonzero (count the non-zero entries first, then fill outputs of that length)."""

from __future__ import annotations

from pathlib import Path

from backends.numba.cache import digest
from backends.numba.dispatch import Kernel, register, sortlib
from backends.numba.dispatch.scalar import np_type
from symgraph.tensor.sort import ArgSort, Nonzero, Sort

# the helper's source is part of every kernel's key (see dot.py)
SORTLIB = ("from backends.numba.dispatch import sortlib as sl_  "
           f"# {digest(Path(sortlib.__file__).read_text())}")


def _sort_kernel(op, node, helper, out_dtype):
    nd = node.inputs[0].ndim
    dt = np_type(out_dtype)
    lines = ["def KERNEL_NAME(a0):"]
    if op.axis is None:
        lines += ["    flat = np.ascontiguousarray(a0).reshape(a0.size)",
                  f"    out = np.empty(a0.size, dtype={dt})",
                  f"    sl_.{helper}(flat[::1], out[::1])"]
    else:
        axis = op.axis % nd
        lines.append(f"    out = np.empty(a0.shape, dtype={dt})")
        indent = "    "
        key = []
        for d in range(nd):
            if d == axis:
                key.append("::1")
                continue
            lines.append(f"{indent}for j{d} in range(a0.shape[{d}]):")
            indent += "    "
            key.append(f"j{d}")
        k = ", ".join(key)
        lines.append(f"{indent}sl_.{helper}(a0[{k}], out[{k}])")
    lines.append("    return out")
    return Kernel("\n".join(lines) + "\n", imports=(SORTLIB,))


@register(Sort)
def build_sort(op, node):
    return _sort_kernel(op, node, "sort_into", node.outputs[0].type.dtype)


@register(ArgSort)
def build_argsort(op, node):
    return _sort_kernel(op, node, "argsort_into", "int64")


@register(Nonzero)
def build_nonzero(op, node):
    x = node.inputs[0]
    nd = x.ndim
    test = "" if x.type.dtype == "bool" else " != 0"
    key = ", ".join(f"j{d}" for d in range(nd))

    def nest(lines, body):
        indent = "    "
        for d in range(nd):
            lines.append(f"{indent}for j{d} in range(a0.shape[{d}]):")
            indent += "    "
        lines.append(f"{indent}if a0[{key}]{test}:")
        lines += [f"{indent}    {b}" for b in body]

    lines = ["def KERNEL_NAME(a0):", "    cnt = 0"]
    nest(lines, ["cnt += 1"])
    if op.return_matrix:
        lines.append(f"    out = np.empty(({nd}, cnt), dtype=np.int64)")
        stores = [f"out[{d}, k] = j{d}" for d in range(nd)]
        ret = "out"
    else:
        lines += [f"    o{d} = np.empty(cnt, dtype=np.int64)" for d in range(nd)]
        stores = [f"o{d}[k] = j{d}" for d in range(nd)]
        outs = ", ".join(f"o{d}" for d in range(nd))
        ret = outs if nd == 1 else f"({outs},)"
    lines.append("    k = 0")
    nest(lines, stores + ["k += 1"])
    lines.append(f"    return {ret}")
    return Kernel("\n".join(lines) + "\n")
