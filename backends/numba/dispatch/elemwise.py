"""Elemwise (one loop nest per node, fused Composites included) and DimShuffle (a view)."""

from __future__ import annotations

from itertools import count

from backends.numba.dispatch import Kernel, register
from backends.numba.dispatch.scalar import kernel_imports, np_type, scalar_lines
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
    return elemwise_kernel(node)


def elemwise_kernel(node, folds=(), dropped=()):
    """The Elemwise ``node``'s kernel; with ``folds`` [(k, reduction node)], each
    reduction (a CAReduce of output k that keeps the last axis: reduction.py's
    fold_in_loop) is computed in the loop nest as the elements come, and output k is
    not stored where k is in ``dropped`` (the reduction was its only reader). The
    kernel returns the stored outputs in order, then the reductions' results."""
    from backends.numba.dispatch.reduction import fold_in_loop

    op = node.op
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
    stored = [j for j in range(len(node.outputs)) if j not in dropped]
    for j in stored:
        o = node.outputs[j]
        lines.append(f"    o{j} = np.empty({shape}, dtype={np_type(o.type.dtype)})")
    lengths, index = [f"n{d}" for d in range(ndim)], [f"j{d}" for d in range(ndim)]
    folded = [fold_in_loop(r, lengths, index, f"r{m}", f"v{k}")
              for m, (k, r) in enumerate(folds)]
    for before, _, _ in folded:
        lines += ["    " + ln for ln in before]
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
    for j in stored:
        lines.append(f"{indent}o{j}[{store}] = {results[j]}")
    for k in sorted({k for k, _ in folds}):
        # the element as the array would hold it (what the reduction would read)
        dt = np_type(node.outputs[k].type.dtype)
        lines.append(f"{indent}v{k} = {dt}({results[k]})")
    for _, each, _ in folded:
        lines += [indent + ln for ln in each]
    outs = [f"o{j}" for j in stored] + [res for _, _, res in folded]
    lines.append(f"    return {outs[0]}" if len(outs) == 1
                 else f"    return ({', '.join(outs)},)")
    src = "\n".join(lines) + "\n"
    return Kernel(src, imports=kernel_imports(src))


def _clean(op):
    return str(op).replace("'", "").replace("\\", "")[:60]


@register(DimShuffle)
def build_dimshuffle(op, node):
    """A view, as the interpreter's: drop the length-1 axes by indexing them at 0,
    permute the kept ones (``.T``, or new strides), insert the new axes by indexing
    with None. Every step is a view for every layout (strided and read-only inputs
    included)."""
    lines = ["def KERNEL_NAME(a0):"]
    t = "a0"
    kept = op.shuffle
    if op.drop:
        if kept:
            idx = ", ".join("0" if d in op.drop else ":" for d in range(op.input_ndim))
            lines.append(f"    t0 = a0[{idx}]")
        else:  # every axis dropped: a 0-d array holding the single element
            dt = node.inputs[0].type.dtype
            lines.append(f"    t0 = np.empty((), dtype={np_type(dt)})")
            lines.append(f"    t0[()] = a0[{', '.join('0' for _ in range(op.input_ndim))}]")
        t = "t0"
    rank = {d: k for k, d in enumerate(sorted(kept))}
    perm = [rank[d] for d in kept]
    if perm == list(range(len(perm)))[::-1] and len(perm) > 1:
        lines.append(f"    t1 = {t}.T")
        t = "t1"
    elif perm != sorted(perm):
        # a view with permuted strides; np.transpose(x, axes) would compile ~10 s of
        # numba's argument checking into every such kernel, as_strided well under 1 s
        shape = "".join(f"{t}.shape[{p}], " for p in perm)
        strides = "".join(f"{t}.strides[{p}], " for p in perm)
        lines.append(f"    t1 = np.lib.stride_tricks.as_strided({t}, shape=({shape}), "
                     f"strides=({strides}))")
        t = "t1"
    if op.augment:
        idx = ", ".join("None" if o == "x" else ":" for o in op.new_order)
        lines.append(f"    t2 = {t}[{idx}]")
        t = "t2"
    lines.append(f"    return {t}")
    return Kernel("\n".join(lines) + "\n")
