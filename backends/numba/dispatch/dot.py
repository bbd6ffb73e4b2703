"""Dot, MatMul (batched, static broadcasting of batch dims), TensorDot, BatchedDot,
and Gemm (``beta * z + alpha * (x @ y)``, through ``dotlib.gemm``; GemmInPlace, the
Scan kernel's form writing into z).

Every op reduces to products of 2-d operands (passed as any-layout views,
``x[::1, ::1]``, so that mm is compiled once per dtype) written into a C-contiguous
output by ``dotlib.mm`` (BLAS for float and complex dtypes, loops for integers
and bools). A vector operand is a (1, k) row or a (k, 1) column view; TensorDot
and BatchedDot transpose and reshape their operands (copying only when the
layout requires it) into (M, K) @ (K, N) products.
"""

from __future__ import annotations

from pathlib import Path

from backends.numba.cache import digest
from backends.numba.dispatch import Kernel, dotlib, register
from backends.numba.dispatch.objmode import NotSupported
from backends.numba.dispatch.scalar import np_type
from symgraph.tensor.blas import Gemm
from symgraph.tensor.dot import BatchedDot, Dot, MatMul, TensorDot

# the helper's source is part of every kernel's key, so a changed helper is never
# served from kernels cached with the old one
DOTLIB = ("from backends.numba.dispatch import dotlib as dl_  "
          f"# {digest(Path(dotlib.__file__).read_text())}")

_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float32", "float64", "complex64", "complex128"}


def _dtype(node):
    dt = node.outputs[0].type.dtype
    if dt not in _DTYPES or any(i.type.dtype != dt for i in node.inputs):
        raise NotSupported(f"a product of dtype {dt}")
    return np_type(dt)


def _tuple(items):
    return "(" + "".join(f"{i}, " for i in items) + ")"


def _prod(items):
    return " * ".join(items) if items else "1"


def _finish(lines, out_dims, dt):
    """Return ``out`` (a C-contiguous (M, N) or batched array) in the final shape."""
    if out_dims:
        lines.append(f"    return out.reshape({_tuple(out_dims)})")
    else:
        lines += [f"    res = np.empty((), dtype={dt})",
                  "    res[()] = out.reshape(1)[0]",
                  "    return res"]
    return Kernel("\n".join(lines) + "\n", imports=(DOTLIB,))


@register(Dot)
def build_dot(op, node):
    dt = _dtype(node)
    nda, ndb = (i.ndim for i in node.inputs)
    lines = ["def KERNEL_NAME(a0, a1):",
             f"    if a0.shape[{nda - 1}] != a1.shape[0]:",
             "        raise ValueError('dot: shapes not aligned')",
             "    m = a0.shape[0]" if nda == 2 else "    m = 1",
             "    n = a1.shape[1]" if ndb == 2 else "    n = 1",
             f"    out = np.empty((m, n), dtype={dt})",
             f"    dl_.mm({'a0[::1, ::1]' if nda == 2 else 'a0[None, ::1]'}, "
             f"{'a1[::1, ::1]' if ndb == 2 else 'a1[::1, None]'}, out)"]
    dims = (["m"] if nda == 2 else []) + (["n"] if ndb == 2 else [])
    return _finish(lines, dims, dt)


@register(MatMul)
def build_matmul(op, node):
    """A loop nest over the broadcast batch dimensions, one 2-d product per step.

    A batch dimension of static length 1 in one operand is read at index 0 (it
    broadcasts); dimensions that neither operand has statically 1 must agree.
    """
    dt = _dtype(node)
    ta, tb = node.inputs
    nda, ndb = ta.ndim, tb.ndim
    sa, sb = MatMul._padded_batches(ta.type.shape, tb.type.shape)
    nb = len(sa)
    own_a = max(nda - 2, 0)
    own_b = max(ndb - 2, 0)
    ka, kb = nda - 1, max(ndb - 2, 0)
    lines = ["def KERNEL_NAME(a0, a1):",
             f"    if a0.shape[{ka}] != a1.shape[{kb}]:",
             "        raise ValueError('matmul: shapes not aligned')"]
    idx_a, idx_b = [], []
    for d in range(nb):
        da, db = d - (nb - own_a), d - (nb - own_b)
        live_a = da >= 0 and sa[d] != 1
        live_b = db >= 0 and sb[d] != 1
        if live_a:
            lines.append(f"    n{d} = a0.shape[{da}]")
            if live_b:
                lines += [f"    if a1.shape[{db}] != n{d}:",
                          "        raise ValueError('matmul: batch dimensions differ')"]
        elif live_b:
            lines.append(f"    n{d} = a1.shape[{db}]")
        else:
            lines.append(f"    n{d} = 1")
        if da >= 0:
            idx_a.append(f"j{d}" if live_a else "0")
        if db >= 0:
            idx_b.append(f"j{d}" if live_b else "0")
    lines.append(f"    m = a0.shape[{nda - 2}]" if nda >= 2 else "    m = 1")
    lines.append(f"    n = a1.shape[{ndb - 1}]" if ndb >= 2 else "    n = 1")
    batch = [f"n{d}" for d in range(nb)]
    lines.append(f"    out = np.empty({_tuple(batch + ['m', 'n'])}, dtype={dt})")
    opa = f"a0[{', '.join(idx_a + ['::1', '::1'])}]" if nda >= 2 else "a0[None, ::1]"
    opb = f"a1[{', '.join(idx_b + ['::1', '::1'])}]" if ndb >= 2 else "a1[::1, None]"
    indent = "    "
    for d in range(nb):
        lines.append(f"{indent}for j{d} in range(n{d}):")
        indent += "    "
    target = f"out[{', '.join(f'j{d}' for d in range(nb))}]" if nb else "out"
    lines.append(f"{indent}dl_.mm({opa}, {opb}, {target})")
    dims = batch + (["m"] if nda >= 2 else []) + (["n"] if ndb >= 2 else [])
    return _finish(lines, dims, dt)


def _as_block(lines, name, arg, ndim, perm, dims, dt):
    """``name`` = ``arg`` with its axes in the order ``perm``, reshaped to ``dims``: a
    view when ``perm`` keeps the order and ``arg`` is contiguous, else a copy made by
    a loop nest (cheaper to compile than numba's transpose-and-copy)."""
    if list(perm) == list(range(ndim)):
        lines.append(f"    {name} = np.ascontiguousarray({arg}).reshape({_tuple(dims)})")
        return
    lines += [f"    {name} = np.empty({_prod(dims)}, dtype={dt})", "    p = 0"]
    indent = "    "
    for d in perm:
        lines.append(f"{indent}for i{d} in range({arg}.shape[{d}]):")
        indent += "    "
    lines += [f"{indent}{name}[p] = {arg}[{', '.join(f'i{d}' for d in range(ndim))}]",
              f"{indent}p += 1",
              f"    {name} = {name}.reshape({_tuple(dims)})"]


@register(TensorDot)
def build_tensordot(op, node):
    """(free a, summed a) @ (summed b, free b) as one 2-d product, then reshaped."""
    dt = _dtype(node)
    ta, tb = node.inputs
    xa, xb = op.axes
    free_a = [i for i in range(ta.ndim) if i not in xa]
    free_b = [i for i in range(tb.ndim) if i not in xb]
    lines = ["def KERNEL_NAME(a0, a1):"]
    for ia, ib in zip(xa, xb):
        lines += [f"    if a0.shape[{ia}] != a1.shape[{ib}]:",
                  "        raise ValueError('tensordot: shapes not aligned')"]
    lines += [f"    m = {_prod([f'a0.shape[{i}]' for i in free_a])}",
              f"    k = {_prod([f'a0.shape[{i}]' for i in xa])}",
              f"    n = {_prod([f'a1.shape[{i}]' for i in free_b])}"]
    _as_block(lines, "x", "a0", ta.ndim, free_a + list(xa), ["m", "k"], dt)
    _as_block(lines, "y", "a1", tb.ndim, list(xb) + free_b, ["k", "n"], dt)
    lines += [f"    out = np.empty((m, n), dtype={dt})",
              "    dl_.mm(x[::1, ::1], y[::1, ::1], out)"]
    dims = [f"a0.shape[{i}]" for i in free_a] + [f"a1.shape[{i}]" for i in free_b]
    return _finish(lines, dims, dt)


@register(BatchedDot)
def build_batched_dot(op, node):
    """a as (n, M, k), b as (n, k, P): one 2-d product per batch entry."""
    dt = _dtype(node)
    ta, tb = node.inputs
    nda, ndb = ta.ndim, tb.ndim
    cb = 1 if ndb == 2 else ndb - 2
    free_b = [i for i in range(1, ndb) if i != cb]
    mid_a = list(range(1, nda - 1))
    lines = ["def KERNEL_NAME(a0, a1):",
             "    if a0.shape[0] != a1.shape[0]:",
             "        raise ValueError('batched_dot: batch lengths differ')",
             f"    if a0.shape[{nda - 1}] != a1.shape[{cb}]:",
             "        raise ValueError('batched_dot: shapes not aligned')",
             "    b = a0.shape[0]",
             f"    m = {_prod([f'a0.shape[{i}]' for i in mid_a])}",
             f"    k = a0.shape[{nda - 1}]",
             f"    n = {_prod([f'a1.shape[{i}]' for i in free_b])}",
             "    x = np.ascontiguousarray(a0).reshape((b, m, k))"]
    _as_block(lines, "y", "a1", ndb, [0, cb] + free_b, ["b", "k", "n"], dt)
    lines += [f"    out = np.empty((b, m, n), dtype={dt})",
              "    for j in range(b):",
              "        dl_.mm(x[j, ::1, ::1], y[j, ::1, ::1], out[j])"]
    dims = ["b"] + [f"a0.shape[{i}]" for i in mid_a] + [f"a1.shape[{i}]" for i in free_b]
    return _finish(lines, dims, dt)


@register(Gemm)
def build_gemm(op, node):
    """A fresh C-contiguous output that ``dotlib.gemm`` fills with a copy of z and
    accumulates into with one BLAS gemm call (beta = the given beta). Not in place:
    z may be an input or have other readers (GemmInPlace below is the Scan kernel's
    in-place form, for accumulators it owns)."""
    dt = _dtype(node)
    return _gemm_kernel([f"    out = np.empty((m, n), dtype={dt})"], "out")


def _gemm_kernel(alloc, out):
    """The Gemm kernel's source: shape checks, ``alloc`` lines, dotlib.gemm into
    ``out``, which it returns."""
    lines = ["def KERNEL_NAME(a0, a1, a2, a3, a4):",
             "    m = a2.shape[0]",
             "    n = a3.shape[1]",
             "    if a2.shape[1] != a3.shape[0]:",
             "        raise ValueError('gemm: x and y are not aligned')",
             "    if a0.shape[0] != m or a0.shape[1] != n:",
             "        raise ValueError('gemm: z does not have the shape of x @ y')",
             *alloc,
             f"    dl_.gemm(a0[::1, ::1], a1[()], a2[::1, ::1], a3[::1, ::1], a4[()], {out})",
             f"    return {out}"]
    return Kernel("\n".join(lines) + "\n", imports=(DOTLIB,))


class GemmInPlace(Gemm):
    """Gemm that writes ``beta * z + alpha * (x @ y)`` into ``z`` and returns it.

    symgraph has no destroy handler, so no rewrite puts this op into a graph: only
    the Scan kernel does (dispatch/scan.py), in the copy of a loop body it compiles,
    for an accumulator state whose buffer the kernel owns (a C-contiguous copy of
    the initial value, then this op's own output) and that nothing else in the body
    reads. Each step then adds into the accumulator where it is, rather than copying
    it into a new array first: on B1m's backward loop (accumulators of 64x256,
    256x256 and 256x64) the copies and fresh buffers cost about as much as a fifth
    of the loop's BLAS time. The arithmetic is ``dotlib.gemm``'s, so the values are
    Gemm's to the bit."""

    __props__ = ()
    destroy_map = {0: [0]}

    def __str__(self):
        return "Gemm{z <- beta*z + alpha*(x @ y)}"

    def perform(self, node, inputs, output_storage):
        tmp = [[None]]
        super().perform(node, inputs, tmp)
        z = inputs[0]
        z[...] = tmp[0][0]
        output_storage[0][0] = z


@register(GemmInPlace)
def build_gemm_in_place(op, node):
    """``dotlib.gemm`` with z as its output (BLAS accumulates into it). z must be typed C-contiguous: the Scan kernel passes the
    buffer it allocated."""
    _dtype(node)
    return _gemm_kernel([], "a0")
