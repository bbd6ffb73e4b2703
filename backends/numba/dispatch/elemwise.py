"""Elemwise (one loop nest per node, fused Composites included) and DimShuffle (a view)."""

from __future__ import annotations

from itertools import count

from backends.numba.dispatch import Kernel, register
from backends.numba.dispatch.scalar import SPECIAL, np_type, scalar_lines
from symgraph.tensor.elemwise import DimShuffle, Elemwise


def _index(ndim, bcast, prefix="j"):
    if ndim == 0:
        return "()"
    return ", ".join("0" if b else f"{prefix}{d}" for d, b in enumerate(bcast))


@register(Elemwise)
def build_elemwise(op, node):
    """One loop nest over the broadcast shape; the scalar expression is its body.

    Dimensions that are statically 1 in an input are read at index 0 (that is
    broadcasting); other dimensions must agree at run time.
    """
    nin = len(node.inputs)
    out0 = node.outputs[0]
    ndim = out0.ndim
    bcast = [i.type.broadcastable for i in node.inputs]
    args = [f"a{k}" for k in range(nin)]
    lines = [f"def KERNEL_NAME({', '.join(args)}):"]
    for d in range(ndim):
        src = [k for k in range(nin) if not bcast[k][d]]
        if not src:
            lines.append(f"    n{d} = 1")
            continue
        lines.append(f"    n{d} = a{src[0]}.shape[{d}]")
        for k in src[1:]:
            lines.append(f"    if a{k}.shape[{d}] != n{d}:")
            lines.append(f"        raise ValueError('shape mismatch in {_clean(op)} along "
                         f"dimension {d}')")
    shape = "(" + "".join(f"n{d}, " for d in range(ndim)) + ")"
    for j, o in enumerate(node.outputs):
        lines.append(f"    o{j} = np.empty({shape}, dtype={np_type(o.type.dtype)})")
    indent = "    "
    for d in range(ndim):
        lines.append(f"{indent}for j{d} in range({'n' + str(d)}):")
        indent += "    "
    loads = [f"a{k}[{_index(ndim, bcast[k])}]" for k in range(nin)]
    counter = count()
    body, results = scalar_lines(op.scalar_op, loads, [i.type.dtype for i in node.inputs],
                                 [o.type.dtype for o in node.outputs],
                                 lambda: f"t{next(counter)}")
    for line in body:
        lines.append(indent + line)
    store = _index(ndim, [False] * ndim)
    for j, r in enumerate(results):
        lines.append(f"{indent}o{j}[{store}] = {r}")
    outs = ", ".join(f"o{j}" for j in range(len(node.outputs)))
    lines.append(f"    return {outs}" if len(node.outputs) == 1 else f"    return ({outs},)")
    return Kernel("\n".join(lines) + "\n", imports=(SPECIAL,))


def _clean(op):
    return str(op).replace("'", "").replace("\\", "")[:60]


@register(DimShuffle)
def build_dimshuffle(op, node):
    """Drop length-1 axes, permute, insert length-1 axes: a reshape of a transpose (a view
    when the input layout allows, else a copy)."""
    x = node.inputs[0]
    kept = [d for d in range(op.input_ndim) if d not in op.drop]
    lines = ["def KERNEL_NAME(a0):"]
    # transpose the kept axes into place (dropped axes, of length 1, go last)
    perm = list(op.shuffle) + list(op.drop)
    if perm != list(range(op.input_ndim)):
        lines.append(f"    t = np.transpose(a0, ({', '.join(map(str, perm))}{',' if len(perm) == 1 else ''}))")
    else:
        lines.append("    t = a0")
    out_dims = []
    k = 0
    for o in op.new_order:
        if o == "x":
            out_dims.append("1")
        else:
            out_dims.append(f"t.shape[{k}]")
            k += 1
    del kept
    shape = "(" + "".join(f"{d}, " for d in out_dims) + ")"
    if x.ndim == 0 and not out_dims:
        lines.append("    return t")
    else:
        lines.append(f"    return np.ascontiguousarray(t).reshape({shape})"
                     if op.drop or op.augment else "    return t")
    return Kernel("\n".join(lines) + "\n")
