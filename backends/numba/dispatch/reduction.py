"""Reductions: CAReduce (sum, prod, max, min, all, any, bitwise and/or/xor), Argmax,
Argmin and CumOp, as loop nests specialised to the node's reduced axes.

A reduction walks its input in C order (the order of its memory when contiguous) and
folds each element into an accumulator array of the kept dimensions. When the last
axes are all reduced, the fold over them runs in a scalar first; there a float or
complex sum uses NumPy's pairwise summation (``pairwise_sum`` over the last axis,
``block_sum`` over several), so contiguous sums equal NumPy's to the bit and long
float32 sums keep its accuracy, and a float max/min is a select plus a NaN flag (a
loop LLVM vectorises). Values are accumulated in the dtype the interpreter
accumulates in (``acc_dtype``, else the output dtype for sum/prod, the natural dtype
for the others) and converted to the output dtype at the end.

The compiled helpers below are cached by numba in the per-user cache directory
(helper_cache.py); kernels calling them are cached with the helper's code linked
in, and numba does not track that dependency: the directory is keyed by a hash of
the backend's source, so a change to a helper starts a fresh one.
"""

from __future__ import annotations

import numba
from numba import types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed, impl_ret_new_ref
from numba.extending import intrinsic
from numba.np.arrayobj import _empty_nd_impl, populate_array

from backends.numba.dispatch import Kernel, register
from backends.numba.dispatch.scalar import COMPLEX, cast, literal, np_type
from symgraph.tensor.reduction import _REDUCERS, Argmax, Argmin, CAReduce, CumOp

HELPERS = "from backends.numba.dispatch import reduction as rd_"
NARROW = ("int8", "int16", "int32", "uint8", "uint16", "uint32")
FLOATS = ("float32", "float64")


# --------------------------------------------------------------------- compiled helpers
# Each helper is one compiled function (block_sum calls pairwise_sum once, on 1-d C
# views, the type the kernels call it with most). Scratch arrays come from intrinsics
# (stack memory, or the runtime's allocator) written straight into the function:
# numba's np.empty, np.zeros, np.full, a reshape overload... would each be compiled
# as a function of its own, and a chain of jitted calls costs more than its parts,
# as every caller re-optimises and re-emits the machine code of what it calls.
# (Measured cold, float64: block_sum 2.3 s -> 0.5 s, pairwise_sum 1.1-1.8 s -> 0.3 s.)


def _array_1d(context, builder, dtype, data, length, meminfo=None, parent=None):
    """An LLVM 1-d C array of ``length`` elements of ``dtype`` at ``data``."""
    aryty = types.Array(dtype, 1, "C")
    ary = context.make_array(aryty)(context, builder)
    itemsize = context.get_abi_sizeof(context.get_data_type(dtype))
    size = context.get_constant(types.intp, itemsize)
    populate_array(ary, data=data, shape=[length], strides=[size], itemsize=size,
                   meminfo=meminfo, parent=parent)
    return ary._getvalue()


@intrinsic
def _stack(typingctx, like, size):
    """A 1-d array of ``size`` (a constant) elements of the scalar type of ``like`` in
    the calling function's stack frame: valid until that function returns, never
    returned itself."""
    if not isinstance(size, types.IntegerLiteral) or not isinstance(like, types.Number):
        return None
    dtype = types.unliteral(like)
    n = size.literal_value

    def codegen(context, builder, sig, args):
        data = cgutils.alloca_once(builder, context.get_data_type(dtype), size=n)
        return _array_1d(context, builder, dtype, data, context.get_constant(types.intp, n))
    return types.Array(dtype, 1, "C")(like, size), codegen


@intrinsic
def _buffer(typingctx, a, size):
    """A new 1-d C array of ``size`` elements of ``a``'s dtype, uninitialised (np.empty
    without compiling numba's np.empty)."""
    if not isinstance(a, types.Array) or not isinstance(size, types.Integer):
        return None
    ret = types.Array(a.dtype, 1, "C")

    def codegen(context, builder, sig, args):
        n = context.cast(builder, args[1], sig.args[1], types.intp)
        ary = _empty_nd_impl(context, builder, ret, [n])
        return impl_ret_new_ref(context, builder, ret, ary._getvalue())
    return ret(a, size), codegen


@intrinsic
def _as_flat(typingctx, a):
    """(True, the elements of ``a`` as a 1-d view) for a C-contiguous array type, else
    (False, an empty view): the layout is known when numba compiles the caller. The
    view is typed writable whatever ``a`` is, so that it unifies with a scratch
    buffer: only ever read it."""
    if not isinstance(a, types.Array):
        return None
    contiguous = a.layout == "C"
    ret = types.Tuple((types.boolean, types.Array(a.dtype, 1, "C")))

    def codegen(context, builder, sig, args):
        ary = context.make_array(a)(context, builder, args[0])
        length = ary.nitems if contiguous else context.get_constant(types.intp, 0)
        view = _array_1d(context, builder, a.dtype, ary.data, length, ary.meminfo, ary.parent)
        flag = cgutils.true_bit if contiguous else cgutils.false_bit
        res = context.make_tuple(builder, ret, [flag, view])
        return impl_ret_borrowed(context, builder, ret, res)
    return ret(a), codegen


@numba.njit(cache=True, nogil=True, error_model="numpy")
def pairwise_sum(a, zero):
    """The sum of the 1-d array ``a`` as NumPy's pairwise summation computes it, so a
    contiguous float sum matches NumPy's to the last bit; ``zero`` is -0.0 of the
    array's dtype.

    A block of at most 128 elements is summed in order from ``zero`` (under 8) or in 8
    interleaved partial sums; a longer one is halved (the first half rounded down to a
    multiple of 8) and the halves' sums added. The recursion runs on an explicit
    stack: numba cannot load a recursive function back from its disk cache (the
    symbol stays unresolved and LLVM aborts the process).
    """
    n = a.shape[0]
    # pending work, a stack: (start, length) of a right half still to sum, or a
    # length of -1 for "add the two sums on top of vals" (at most two per level of
    # halving, and there are under 60 levels for any length)
    f_lo = _stack(n, 128)
    f_n = _stack(n, 128)
    vals = _stack(zero, 128)
    start, m = 0, n
    top, nv = -1, 0
    while True:
        while m > 128:  # the left half now, its right half and the sum of both later
            half = m // 2
            half -= half % 8
            f_n[top + 1] = -1
            f_lo[top + 2] = start + half
            f_n[top + 2] = m - half
            top += 2
            m = half
        if m < 8:
            res = zero
            for i in range(start, start + m):
                res += a[i]
        else:
            r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
            r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
            stop = start + m - m % 8
            i = start + 8
            while i < stop:
                r0 += a[i]
                r1 += a[i + 1]
                r2 += a[i + 2]
                r3 += a[i + 3]
                r4 += a[i + 4]
                r5 += a[i + 5]
                r6 += a[i + 6]
                r7 += a[i + 7]
                i += 8
            res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            while i < start + m:
                res += a[i]
                i += 1
        vals[nv] = res
        nv += 1
        while top >= 0 and f_n[top] < 0:
            vals[nv - 2] = vals[nv - 2] + vals[nv - 1]
            nv -= 1
            top -= 1
        if top < 0:
            return vals[0]
        start, m = f_lo[top], f_n[top]
        top -= 1


@numba.njit(cache=True, nogil=True, error_model="numpy")
def block_sum(a, zero):
    """The sum of every element of the array ``a`` (any rank and layout).

    C-contiguous (by type or at run time): one pairwise sum over its memory, as NumPy
    sums a contiguous block. Otherwise the elements are gathered in C order into chunks of 8192 (NumPy's
    buffer size), each summed pairwise and added in order. Compiled once per array
    type and cached, so the kernels calling it stay small.
    """
    c, flat = _as_flat(a)
    if c:
        return pairwise_sum(flat, zero)
    n = a.size
    # C-ordered memory that numba typed with another layout (a view, say) is summed
    # as one block as well: the sum must not depend on what numba knew of the layout
    # (the interpreter's tier, exact.py, sees the same array with its real layout).
    # NumPy's rule, not numba's flag: an axis of length 1 places no condition on its
    # stride wherever it stands (a DimShuffle'd axis has stride 0 here, another one
    # in NumPy's view)
    whole = n <= 8192
    if not whole:
        whole = True
        expected = a.itemsize
        for ax in range(a.ndim - 1, -1, -1):
            if a.shape[ax] > 1:
                if a.strides[ax] != expected:
                    whole = False
                expected *= a.shape[ax]
    buf = _buffer(a, n if whole else 8192)
    res = zero
    k = 0
    for v in a.flat:
        buf[k] = v
        k += 1
        if k == buf.shape[0]:
            res += pairwise_sum(buf, zero)
            k = 0
    if k:
        res += pairwise_sum(buf[:k], zero)
    return res


# --------------------------------------------------------------------- source helpers

def _idx(names):
    return ", ".join(names) if names else "()"


def _shape(names):
    return "(" + "".join(f"{n}, " for n in names) + ")"


def _prod(names):
    return " * ".join(names) if names else "1"


def _limits(dtype, which):
    """The literal of the smallest (which='low') or largest value of ``dtype``."""
    if dtype == "bool":
        return "False" if which == "low" else "True"
    if dtype in FLOATS:
        return f"{np_type(dtype)}({'-' if which == 'low' else ''}math.inf)"
    attr = "min" if which == "low" else "max"
    return f"{np_type(dtype)}(np.iinfo({np_type(dtype)}).{attr})"


def _identity(name, dtype):
    if name == "add":
        return literal(False if dtype == "bool" else 0, dtype)
    if name == "mul":
        return literal(True if dtype == "bool" else 1, dtype)
    if name == "maximum":
        return _limits(dtype, "low")
    if name == "minimum":
        return _limits(dtype, "high")
    if name == "logical_and":
        return "True"
    if name == "logical_or":
        return "False"
    if name == "bitwise_and":  # every bit set
        if dtype == "bool" or dtype[0] == "u":
            return _limits(dtype, "high")
        return f"{np_type(dtype)}(-1)"
    return literal(False if dtype == "bool" else 0, dtype)  # bitwise or / xor


_BOOL_STEP = {"add": "or", "mul": "and", "logical_or": "or", "logical_and": "and",
              "bitwise_and": "and", "bitwise_or": "or", "bitwise_xor": "!="}
_SYM = {"add": "+", "mul": "*", "bitwise_and": "&", "bitwise_or": "|", "bitwise_xor": "^"}


def _fold(name, dtype, target, v):
    """Lines setting ``target`` to ``target <op> v`` in ``dtype`` (both already of it)."""
    if name in ("maximum", "minimum"):
        cmp = ">" if name == "maximum" else "<"
        cond = f"{v} {cmp} {target}"
        if dtype in FLOATS:
            cond += f" or {v} != {v}"  # NaN wins and stays, as np.maximum
        return [f"{target} = {v} if {cond} else {target}"]
    if dtype == "bool":
        return [f"{target} = {target} {_BOOL_STEP[name]} {v}"]
    expr = f"{target} {_SYM[name]} {v}"
    if dtype in NARROW:  # numba widens narrow integers; wrap back as NumPy does
        expr = f"{np_type(dtype)}({expr})"
    return [f"{target} = {expr}"]


#: A reduced last axis of at most this static length (one block of NumPy's pairwise
#: summation) is summed by lines in the kernel rather than a pairwise_sum call per
#: row: a call costs ~20 ns, a row of 8 a few (B5's Hessian sums 3000 such rows).
INLINE_PAIRWISE = 128


def _pairwise_block(load, length, zero):
    """Lines setting ``p`` to the pairwise sum of the ``length`` (<= 128, static)
    elements ``load(k)``: pairwise_sum's additions for one block, in its order (from
    ``zero`` under 8 elements, else 8 interleaved partial sums), so the value is the
    same to the bit."""
    if length < 8:
        return ["p = " + zero] + [f"p = p + {load(str(k))}" for k in range(length)]
    lines = [f"q{k} = {load(str(k))}" for k in range(8)]
    stop = length - length % 8
    if stop > 8:
        lines.append(f"for i in range(8, {stop}, 8):")
        lines += [f"    q{k} = q{k} + {load(f'i + {k}')}" for k in range(8)]
    lines.append("p = ((q0 + q1) + (q2 + q3)) + ((q4 + q5) + (q6 + q7))")
    return lines + [f"p = p + {load(str(k))}" for k in range(stop, length)]


def _indent(lines, depth):
    return ["    " * depth + ln for ln in lines]


# --------------------------------------------------------------------- CAReduce

def _acc_dtype(op, in_dt, out_dt):
    name = op.scalar_op.name
    if name in ("add", "mul"):
        return op.acc_dtype or out_dt
    return _REDUCERS[name][1](in_dt)


def _empty_check(op, axes, lengths):
    """max/min of nothing has no identity: the check on the reduced lengths."""
    name = op.scalar_op.name
    if name not in ("maximum", "minimum") or not axes:
        return []
    return [f"if {_prod([lengths[d] for d in axes])} == 0:",
            f"    raise ValueError('{_REDUCERS[name][2]}: zero-size array to reduction "
            "operation with no identity')"]


def keeps_last_axis(node) -> bool:
    """Whether the CAReduce ``node`` keeps its input's last axis: it then folds each
    element into the accumulator of its kept index, in C order (no scalar fold, no
    pairwise sums), so an elementwise loop nest over the input can do it as it computes
    the elements (``fold_in_loop``) and give the same values to the bit."""
    x = node.inputs[0]
    return x.ndim > 0 and (x.ndim - 1) not in node.op._axes(x.ndim)


def _reduction_parts(node):
    """(input ndim, scalar op name, input dtype, output dtype, reduced axes,
    accumulator dtype, kept axes) of a CAReduce node."""
    op, x = node.op, node.inputs[0]
    n = x.ndim
    in_dt, out_dt = x.type.dtype, node.outputs[0].type.dtype
    axes = op._axes(n)
    return (n, op.scalar_op.name, in_dt, out_dt, axes, _acc_dtype(op, in_dt, out_dt),
            [d for d in range(n) if d not in axes])


def fold_in_loop(node, lengths, index, acc_name, value):
    """The reduction ``node`` (``keeps_last_axis``) folded into a loop nest over its
    input's shape: (lines before the nest, lines in its body, the result expression).
    ``lengths``/``index``: the names of the nest's lengths and indices per axis;
    ``value``: the element's expression, of the input's dtype. The same lines as the
    kernel's own loop (build_careduce), so the same values to the bit."""
    op = node.op
    n, name, in_dt, out_dt, axes, acc, kept = _reduction_parts(node)
    before = _empty_check(op, axes, lengths)
    before.append(f"{acc_name} = np.full({_shape([lengths[d] for d in kept])}, "
                  f"{_identity(name, acc)}, dtype={np_type(acc)})")
    v = f"{acc_name}_v"
    body = [f"{v} = {cast(value, in_dt, acc)}"] + \
        _fold(name, acc, f"{acc_name}[{_idx([index[d] for d in kept])}]", v)
    result = acc_name if acc == out_dt else f"{acc_name}.astype({np_type(out_dt)})"
    return before, body, result


@register(CAReduce)
def build_careduce(op, node):
    """One pass over the input in C order; trailing reduced axes fold in a scalar."""
    n, name, in_dt, out_dt, axes, acc, kept = _reduction_parts(node)
    what = _REDUCERS[name][2]
    ident = _identity(name, acc)
    t = 0
    while t < n and (n - 1 - t) in axes:
        t += 1
    outer = n - t
    pairwise = name == "add" and in_dt == acc and (acc in FLOATS or acc in COMPLEX) and t > 0

    lines = ["def KERNEL_NAME(a0):"]
    lines += [f"    n{d} = a0.shape[{d}]" for d in range(n)]
    j = [f"j{d}" for d in range(n)]
    if t == 0 and n:  # the last axis kept: the fold that an elementwise loop may do too
        before, body, result = fold_in_loop(node, [f"n{d}" for d in range(n)], j, "r",
                                            f"a0[{_idx(j)}]")
        lines += _indent(before, 1)
        for d in range(n):
            lines += _indent([f"for {j[d]} in range(n{d}):"], d + 1)
        lines += _indent(body, n + 1)
        lines.append(f"    return {result}")
        return Kernel("\n".join(lines) + "\n")
    lines += _indent(_empty_check(op, axes, [f"n{d}" for d in range(n)]), 1)
    kidx = _idx([j[d] for d in kept])

    def load(index):
        return cast(f"a0[{index}]", in_dt, acc)

    # the fold over the trailing reduced axes, into the scalar s
    inner = [f"s = {ident}"]
    helper = pairwise  # whether the kernel calls rd_'s compiled helpers
    if pairwise:
        zero = (f"{np_type(acc)}(-0.0)" if acc in FLOATS
                else f"{np_type(acc)}(complex(-0.0, -0.0))")
        length = node.inputs[0].type.shape[n - 1]
        if t == 1 and length is not None and length <= INLINE_PAIRWISE:
            # a short last axis of static length: pairwise_sum's one block, written inline
            # (its loads trust the length: checked once)
            lines += [f"    if n{n - 1} != {length}:",
                      f"        raise ValueError('{what}: the input does not have the static "
                      "shape the kernel was built for')"]
            inner += _pairwise_block(lambda k: f"a0[{_idx(j[:n - 1] + [k])}]", length, zero)
            inner += _fold(name, acc, "s", "p")
            helper = False
        elif t == 1:  # the last axis: a 1-d view, any stride
            block = f"a0[{_idx(j[:n - 1] + [':'])}]"
            inner += _fold(name, acc, "s", f"rd_.pairwise_sum({block}, {zero})")
        else:  # several trailing axes: one block (C-contiguous: one run of memory)
            block = f"a0[{', '.join(j[:outer])}]" if outer else "a0"
            inner += _fold(name, acc, "s", f"rd_.block_sum({block}, {zero})")
    elif name in ("maximum", "minimum") and acc in FLOATS:
        # a select and a NaN flag: a loop LLVM vectorises (a branch on NaN is 4x slower)
        cmp = ">" if name == "maximum" else "<"
        inner.append("sn = False")
        for d in range(outer, n):
            inner += _indent([f"for {j[d]} in range(n{d}):"], d - outer)
        inner += _indent([f"v = {load(_idx(j))}", f"s = v if v {cmp} s else s",
                          "sn = sn | (v != v)"], t)
        inner += ["if sn:", f"    s = {np_type(acc)}(math.nan)"]
    else:
        for d in range(outer, n):
            inner += _indent([f"for {j[d]} in range(n{d}):"], d - outer)
        inner += _indent([f"v = {load(_idx(j))}"] + _fold(name, acc, "s", "v"), t)

    if outer == 0:  # everything reduced: a scalar result
        lines += _indent(inner, 1)
        lines += [f"    out = np.empty((), dtype={np_type(out_dt)})",
                  f"    out[()] = {cast('s', acc, out_dt)}",
                  "    return out"]
        return Kernel("\n".join(lines) + "\n", imports=(HELPERS,) if helper else ())

    lines.append(f"    r = np.full({_shape([f'n{d}' for d in kept])}, {ident}, "
                 f"dtype={np_type(acc)})")
    for d in range(outer):
        lines += _indent([f"for {j[d]} in range(n{d}):"], d + 1)
    if t:
        body = inner + _fold(name, acc, "r[" + kidx + "]", "s")
    else:
        body = [f"v = {load(_idx(j))}"] + _fold(name, acc, "r[" + kidx + "]", "v")
    lines += _indent(body, outer + 1)
    lines.append("    return r" if acc == out_dt else f"    return r.astype({np_type(out_dt)})")
    return Kernel("\n".join(lines) + "\n", imports=(HELPERS,) if helper else ())


# --------------------------------------------------------------------- Argmax / Argmin

@register(Argmax, Argmin)
def build_argreduce(op, node):
    """The first index of the extreme value (of the first NaN, as NumPy) over the reduced
    axes, flattened in C order; the input is walked in C order."""
    x = node.inputs[0]
    n = x.ndim
    dt = x.type.dtype
    axes = tuple(range(n)) if op.axis is None else op.axis
    is_max = isinstance(op, Argmax)
    init = _limits(dt, "low" if is_max else "high")
    cmp = ">" if is_max else "<"
    kept = [d for d in range(n) if d not in axes]
    j = [f"j{d}" for d in range(n)]
    flat = "0"
    for d in axes:
        flat = j[d] if flat == "0" else f"({flat}) * n{d} + {j[d]}"
    lines = ["def KERNEL_NAME(a0):"]
    lines += [f"    n{d} = a0.shape[{d}]" for d in range(n)]
    lines += [f"    if {_prod([f'n{d}' for d in axes])} == 0:",
              f"        raise ValueError('{type(op).__name__.lower()}: attempt to get "
              "the index of an extreme of an empty sequence')"]
    if kept:
        kshape = _shape([f"n{d}" for d in kept])
        best, where = f"bv[{_idx([j[d] for d in kept])}]", f"bi[{_idx([j[d] for d in kept])}]"
        lines += [f"    bv = np.full({kshape}, {init}, dtype={np_type(dt)})",
                  f"    bi = np.zeros({kshape}, dtype=np.int64)"]
    else:
        best, where = "bv", "bi"
        lines += [f"    bv = {init}", "    bi = 0"]
    for d in range(n):
        lines += _indent([f"for {j[d]} in range(n{d}):"], d + 1)
    cond = f"v {cmp} t"
    if dt in FLOATS:
        cond += " or (v != v and t == t)"
    body = ["v = a0[" + _idx(j) + "]", f"t = {best}", f"if {cond}:",
            f"    {best} = v", f"    {where} = {flat}"]
    lines += _indent(body, n + 1)
    if kept:
        lines.append("    return bi")
    else:
        lines += ["    out = np.empty((), dtype=np.int64)", "    out[()] = bi", "    return out"]
    return Kernel("\n".join(lines) + "\n")


# --------------------------------------------------------------------- CumOp

@register(CumOp)
def build_cumop(op, node):
    """A running sum or product in the output dtype, along one axis or the flattened input."""
    x = node.inputs[0]
    n = x.ndim
    in_dt, out_dt = x.type.dtype, node.outputs[0].type.dtype
    name = op.mode
    sym = "+" if name == "add" else "*"
    # -0.0 is the exact identity of float addition (x + -0.0 == x, also for x = -0.0)
    if name == "add" and (out_dt in FLOATS or out_dt in COMPLEX):
        ident = f"{np_type(out_dt)}(-0.0)" if out_dt in FLOATS else \
            f"{np_type(out_dt)}(complex(-0.0, -0.0))"
    else:
        ident = literal(0 if name == "add" else 1, out_dt)
    j = [f"j{d}" for d in range(n)]
    lines = ["def KERNEL_NAME(a0):"]
    lines += [f"    n{d} = a0.shape[{d}]" for d in range(n)]
    load = cast(f"a0[{_idx(j)}]", in_dt, out_dt)
    if op.axis is None:
        lines += [f"    out = np.empty({_prod([f'n{d}' for d in range(n)])}, "
                  f"dtype={np_type(out_dt)})",
                  f"    s = {ident}", "    k = 0"]
        for d in range(n):
            lines += _indent([f"for {j[d]} in range(n{d}):"], d + 1)
        lines += _indent([f"s = s {sym} {load}", "out[k] = s", "k += 1"], n + 1)
        lines.append("    return out")
        return Kernel("\n".join(lines) + "\n")
    ax = op.axis % n
    lines.append(f"    out = np.empty({_shape([f'n{d}' for d in range(n)])}, "
                 f"dtype={np_type(out_dt)})")
    for d in range(n):
        lines += _indent([f"for {j[d]} in range(n{d}):"], d + 1)
    prev = _idx([f"{j[d]} - 1" if d == ax else j[d] for d in range(n)])
    lines += _indent([f"v = {load}",
                      f"if {j[ax]} == 0:",
                      f"    out[{_idx(j)}] = v",
                      "else:",
                      f"    out[{_idx(j)}] = out[{prev}] {sym} v"], n + 1)
    lines.append("    return out")
    return Kernel("\n".join(lines) + "\n")
