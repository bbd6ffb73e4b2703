"""NumPy twins of the reduction kernels (backends/numba/dispatch/reduction.py).

The kernels fold each element into its accumulator in a fixed order (C order over the
reduced axes, pairwise sums over the trailing ones); NumPy's own sum/max pick their
order and their zero's sign from the memory layout and the CPU. A twin here replays
the kernel's order with NumPy operations vectorised over the other axes: every
element of a NumPy ufunc call is one IEEE operation, so replaying the same
operations on the same values gives the same bits. What the kernel does:

- ``CAReduce``: with ``t`` trailing reduced axes, each block over them folds into a
  scalar ``s`` that starts from the identity (+0.0 for sums: so a sum is never -0.0),
  then the blocks fold in C order into ``r``, started from the identity too (except
  when every axis is reduced: then ``s`` is the result). A float/complex sum over
  trailing axes in its accumulator dtype is pairwise (``pairwise_sum`` on the last
  axis, or ``block_sum``: one pairwise sum of the block's C-ordered elements, or sums
  of 8192-element chunks added in order when the block is large and not
  C-contiguous). Max/min over floats: the first value, in C order, equal to the
  extreme; NaN if any (np.nan when ``t > 0`` or the input is 0-d, else the last NaN
  met).
- Complex products: numba's formula (ac - bd) + (ad + bc)i in the parts' dtype
  (NumPy's complex multiply, with FMA, differs in the last bit).
- Integer and bool accumulators wrap alike in any order: NumPy's reducer serves.
- ``CumOp``: out[0] = x[0], out[i] = out[i-1] op x[i]; NumPy's cumsum/cumprod are this
  sequence, except complex products, replayed with the kernel's formula.
"""

from __future__ import annotations

import sys
from functools import lru_cache

import numpy as np

from backends.numba.numpy_twins import register
from symgraph.tensor.reduction import _REDUCERS, CAReduce, CumOp

_FLOATS = ("float32", "float64")
_COMPLEX = ("complex64", "complex128")
_INEXACT = _FLOATS + _COMPLEX
_DISCRETE = ("bool", "int8", "int16", "int32", "int64",
             "uint8", "uint16", "uint32", "uint64")
#: numba's complex product recovers infinities from Python 3.14 on (not replayed)
_OLD_COMPLEX_MUL = sys.version_info < (3, 14)
#: pairwise_sum's leaf size and block_sum's chunk size (reduction.py)
_BLOCK = 128
_CHUNK = 8192


# ------------------------------------------------------------------ sums and products

@lru_cache(maxsize=64)
def _plan(m):
    """pairwise_sum's tree for a length ``m`` > 128: ``(leaves, levels, root, size)``.

    ``leaves``: (length, starts, ids) per leaf length; ``levels``: (ids, left, right)
    of the internal nodes by height (children first); node values live at ``ids``
    in an array of ``size`` slots. The tree depends on ``m`` only (each range of more
    than 128 splits at half its length rounded down to a multiple of 8)."""
    leaves, levels = {}, []
    count = [0]

    def build(start, m):
        k = count[0]
        count[0] += 1
        if m <= _BLOCK:
            leaves.setdefault(m, []).append((start, k))
            return k, 0
        half = m // 2
        half -= half % 8
        left, hl = build(start, half)
        right, hr = build(start + half, m - half)
        h = max(hl, hr)
        if len(levels) <= h:
            levels.append([])
        levels[h].append((k, left, right))
        return k, h + 1

    root, _ = build(0, m)
    leaf_groups = tuple((length, np.array([s for s, _ in v], dtype=np.intp),
                         np.array([k for _, k in v], dtype=np.intp))
                        for length, v in leaves.items())
    level_arrays = tuple(tuple(np.array(col, dtype=np.intp) for col in zip(*lv))
                         for lv in levels)
    return leaf_groups, level_arrays, root, count[0]


def _leaf_sum(g, zero):
    """pairwise_sum of each row (last axis) of ``g``, of length at most 128: in order
    from ``zero`` under 8 elements, else 8 interleaved partial sums (one lane each
    here), combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then the tail in order."""
    m = g.shape[-1]
    if m < 8:
        r = np.full(g.shape[:-1], zero, dtype=g.dtype)
        for i in range(m):
            r = r + g[..., i]
        return r
    stop = m - m % 8
    lanes = g[..., 0:8]
    for i in range(8, stop, 8):
        lanes = lanes + g[..., i:i + 8]
    r = (((lanes[..., 0] + lanes[..., 1]) + (lanes[..., 2] + lanes[..., 3]))
         + ((lanes[..., 4] + lanes[..., 5]) + (lanes[..., 6] + lanes[..., 7])))
    for i in range(stop, m):
        r = r + g[..., i]
    return r


def _pairwise(x, zero):
    """pairwise_sum (reduction.py) of every row (last axis, any strides) of ``x``."""
    m = x.shape[-1]
    if m <= _BLOCK:
        return _leaf_sum(x, zero)
    leaves, levels, root, size = _plan(m)
    vals = np.empty(x.shape[:-1] + (size,), dtype=x.dtype)
    for length, starts, ids in leaves:
        # the leaves of one length, gathered side by side: (..., leaves, length)
        vals[..., ids] = _leaf_sum(x[..., starts[:, None] + np.arange(length)], zero)
    for ids, left, right in levels:
        vals[..., ids] = vals[..., left] + vals[..., right]
    return vals[..., root]


def _numba_c_contiguous(shape, strides, itemsize):
    """block_sum's run-time test of a block's layout: its elements lie in C order
    without gaps, axes of length at most 1 placing no condition on their strides
    (NumPy's rule). An empty block passes (block_sum never asks: it has no chunks)."""
    if 0 in shape:
        return True
    expected = itemsize
    for n, st in zip(reversed(shape), reversed(strides)):
        if n > 1:
            if st != expected:
                return False
            expected *= n
    return True


def _block_sums(x, t, zero):
    """block_sum of each block ``x[j0, ..., j_{outer-1}]`` over the ``t`` (> 1) trailing
    axes: one pairwise sum of its elements in C order when the block has at most 8192
    of them or is C-contiguous (numba typed ``x`` C, or the block passes numba's run-time
    check), else the pairwise sums of 8192-element chunks added in order from -0.0."""
    outer_shape, block_shape = x.shape[:x.ndim - t], x.shape[x.ndim - t:]
    size = int(np.prod(block_shape, dtype=np.int64))
    flat = x.reshape(outer_shape + (size,))
    if size <= _CHUNK or x.flags.c_contiguous or \
            _numba_c_contiguous(block_shape, x.strides[x.ndim - t:], x.itemsize):
        return _pairwise(flat, zero)
    full = size // _CHUNK
    sums = _pairwise(flat[..., :full * _CHUNK].reshape(outer_shape + (full, _CHUNK)), zero)
    res = np.full(outer_shape, zero, dtype=x.dtype)
    for c in range(full):
        res = res + sums[..., c]
    if size % _CHUNK:
        res = res + _pairwise(flat[..., full * _CHUNK:], zero)
    return res


def _complex_mul(z, w):
    """numba's complex product z * w (CPython's algorithm before 3.14, no FMA):
    (ac - bd) + (ad + bc)i, each operation rounded in the parts' dtype."""
    a, b, c, d = z.real, z.imag, w.real, w.imag
    out = np.empty(np.broadcast_shapes(np.shape(z), np.shape(w)), dtype=z.dtype)
    out.real = a * c - b * d
    out.imag = a * d + b * c
    return out


def _complex_steps(z, w, out=None):
    """z, z * w[0], (z * w[0]) * w[1], ... (numba's product, along the first axis of
    ``w``): the last one, and each into ``out[i]`` when given. complex128 lanes of one
    element step in Python floats (IEEE doubles, each operation rounded once, as
    numba's), the others in NumPy operations on the parts."""
    if w.dtype == np.complex128 and z.size == 1:
        a, b = complex(z.reshape(-1)[0]).real, complex(z.reshape(-1)[0]).imag
        cs, ds = w.real.reshape(-1).tolist(), w.imag.reshape(-1).tolist()
        res = []
        for c, d in zip(cs, ds):
            a, b = a * c - b * d, a * d + b * c
            res.append(complex(a, b))
        if out is not None and res:
            out[...] = np.array(res, dtype=w.dtype).reshape(out.shape)
        return np.array(complex(a, b), dtype=w.dtype).reshape(z.shape)
    a, b = z.real.copy(), z.imag.copy()
    for i in range(w.shape[0]):
        c, d = w[i].real, w[i].imag
        a, b = a * c - b * d, a * d + b * c
        if out is not None:
            out.real[i] = a
            out.imag[i] = b
    res = np.empty(a.shape, dtype=w.dtype)
    res.real, res.imag = a, b
    return res


#: a fold of at most this many steps, or over rows of at least this many elements,
#: runs as a loop of array operations; the others through ufunc.accumulate (each
#: output the previous one op the next element), slower per element but one call
_LOOP = 32


def _fold(name, init, g):
    """init op g[0] op g[1] op ... (left to right: the kernel's loop) along the first
    axis of ``g`` (of the accumulator dtype), for op add or mul."""
    length = g.shape[0]
    r = np.full(g.shape[1:], init, dtype=g.dtype)
    if name == "mul" and g.dtype.kind == "c":
        return _complex_steps(r, g)
    ufunc = np.add if name == "add" else np.multiply
    if length <= _LOOP or r.size >= _LOOP:
        for i in range(length):
            r = ufunc(r, g[i])
        return r
    h = np.array(g, copy=True)
    h[0] = ufunc(r, h[0])
    return ufunc.accumulate(h, axis=0)[-1]


def _to_first(x, axes):
    """``x`` with ``axes`` moved to the front (in their order) and merged into one:
    the C order of the kernel's folds over them."""
    rest = [d for d in range(x.ndim) if d not in axes]
    moved = np.transpose(x, list(axes) + rest)
    size = int(np.prod([x.shape[d] for d in axes], dtype=np.int64))
    return moved.reshape((size,) + tuple(x.shape[d] for d in rest))


def _to_last(x, axes):
    """As ``_to_first``, with the merged axis last."""
    return np.moveaxis(_to_first(x, axes), 0, -1)


def _extreme(x, axes, name, canonical_nan):
    """The kernel's max/min over ``axes`` of float ``x``: the first value in C order
    equal to the extreme (its zero's sign), NaN where any is."""
    g = _to_last(x, axes)
    nan = np.isnan(g)
    fill = -np.inf if name == "maximum" else np.inf
    clean = np.where(nan, fill, g)
    ext = clean.max(axis=-1) if name == "maximum" else clean.min(axis=-1)
    first = np.argmax(clean == ext[..., None], axis=-1)
    res = np.take_along_axis(g, first[..., None], axis=-1)[..., 0]
    any_nan = nan.any(axis=-1)
    if canonical_nan:   # the kernel's flag: s = nan
        return np.where(any_nan, np.array(np.nan, dtype=x.dtype), res)
    # r = v if v > r or v != v: the last NaN stays
    last = g.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
    return np.where(any_nan, np.take_along_axis(g, last[..., None], axis=-1)[..., 0], res)


def _quiet(perform):
    """``perform`` without NumPy's floating-point warnings (native code gives none)."""
    def run(node, inputs, output_storage):
        with np.errstate(all="ignore"):
            perform(node, inputs, output_storage)
    return run


def _finish(r, out_dtype):
    """``r`` as a C-contiguous array of ``out_dtype`` (0-d stays 0-d)."""
    r = np.asarray(r).astype(out_dtype, copy=False)
    return r if r.flags.c_contiguous else np.ascontiguousarray(r)


@register(CAReduce)
def careduce_twin(node):
    """Sum, prod, max and min of the kernel's CAReduce.

    Covered: accumulators float32/64, complex64/128 (the kernel's order replayed) and
    bool/integer (wrapping folds: any order gives the same, so NumPy's reducer).
    Not covered (None): the other scalar ops (all/any/bitwise, exact on the
    interpreter anyway), a float accumulator with a discrete output (numba's astype
    there, out of range, is not NumPy's cast), complex products under Python 3.14+
    (numba's product then recovers infinities).
    """
    op = node.op
    name = op.scalar_op.name
    if name not in ("add", "mul", "maximum", "minimum"):
        return None
    x = node.inputs[0]
    n = x.ndim
    in_dt, out_dt = x.type.dtype, node.outputs[0].type.dtype
    acc = (op.acc_dtype or out_dt) if name in ("add", "mul") else _REDUCERS[name][1](in_dt)
    if acc in _INEXACT and out_dt in _DISCRETE:
        return None
    if name == "mul" and acc in _COMPLEX and not _OLD_COMPLEX_MUL:
        return None
    axes = op._axes(n)
    what = _REDUCERS[name][2]
    out_np, acc_np = np.dtype(out_dt), np.dtype(acc)
    t = 0
    while t < n and (n - 1 - t) in axes:
        t += 1
    outer = n - t
    red_outer = [d for d in axes if d < outer]
    extreme = name in ("maximum", "minimum")

    def check_nonempty(a):
        if extreme and axes and any(a.shape[d] == 0 for d in axes):
            raise ValueError(f"{what}: zero-size array to reduction operation with no identity")

    if acc in _DISCRETE:
        reducer = _REDUCERS[name][0]

        def perform(node, inputs, output_storage):
            a = np.asarray(inputs[0])
            check_nonempty(a)
            r = reducer(a.astype(acc_np, copy=False), axes, acc_np)
            output_storage[0][0] = _finish(r, out_np)
        return _quiet(perform)

    if extreme:
        canonical = t > 0 or n == 0

        def perform(node, inputs, output_storage):
            a = np.asarray(inputs[0])
            check_nonempty(a)
            output_storage[0][0] = _finish(_extreme(a, axes, name, canonical), out_np)
        return _quiet(perform)

    ident = acc_np.type(0 if name == "add" else 1)
    zero = acc_np.type(complex(-0.0, -0.0) if acc in _COMPLEX else -0.0)
    pairwise = name == "add" and in_dt == acc and t > 0

    def perform(node, inputs, output_storage):
        a = np.asarray(inputs[0])
        if not t:   # every element folds into r (into s from the identity when 0-d)
            r = _fold(name, ident, _to_first(a.astype(acc_np, copy=False), axes))
        else:
            if pairwise:
                p = _pairwise(a, zero) if t == 1 else _block_sums(a, t, zero)
                s = ident + p          # s = 0, then s = s + p
            else:   # the trailing block's elements in C order, from the identity
                s = _fold(name, ident, _to_first(a.astype(acc_np, copy=False),
                                                 range(outer, n)))
            # the blocks fold in C order into r, started from the identity; s is the
            # result itself when every axis is reduced
            r = s if outer == 0 else _fold(name, ident, _to_first(np.asarray(s), red_outer))
        output_storage[0][0] = _finish(r, out_np)
    return _quiet(perform)


@register(CumOp)
def cumop_twin(node):
    """The kernel's cumsum/cumprod: NumPy's accumulate (out[i] = out[i-1] op x[i]) for
    every dtype; complex products step by step with numba's formula, from x[0] along
    an axis, from 1 for the flattened input (axis=None). None under Python 3.14+ for
    complex products (numba's then recovers infinities)."""
    out_dt = node.outputs[0].type.dtype
    op = node.op
    out_np = np.dtype(out_dt)
    if op.mode == "mul" and out_dt in _COMPLEX:
        if not _OLD_COMPLEX_MUL:
            return None

        def perform(node, inputs, output_storage):
            a = np.asarray(inputs[0]).astype(out_np, copy=False)
            if op.axis is None:   # from 1, over the flattened input in C order
                out = np.empty(a.size, dtype=out_np)
                _complex_steps(np.ones((), dtype=out_np), a.reshape(-1), out)
            else:                 # out[0] = x[0], then products along the axis
                ax = op.axis % a.ndim
                src = np.moveaxis(a, ax, 0)
                out = np.empty(a.shape, dtype=out_np)
                dst = np.moveaxis(out, ax, 0)
                if src.shape[0]:
                    dst[0] = src[0]
                    _complex_steps(src[0], src[1:], dst[1:])
            output_storage[0][0] = out
        return _quiet(perform)

    fn = np.cumsum if op.mode == "add" else np.cumprod

    def perform(node, inputs, output_storage):
        a = np.asarray(inputs[0])
        if op.axis is None:   # the flattened input in C order
            a = a.reshape(-1)
            r = fn(a, dtype=out_np)
        else:
            r = fn(a, axis=op.axis, dtype=out_np)
        output_storage[0][0] = np.ascontiguousarray(r)
    return _quiet(perform)
