"""Canonical forms (phase 'canonicalize'): arithmetic trees, DimShuffle and Reshape
chains, reductions and casts.

Each rewrite here puts one family of patterns into a single standard spelling, so
that the later phases (stabilize, specialize, fusion, final merge) meet fewer
spellings of the same computation, and removes work that cannot change a value.

* ``local_add_canonize``: trees of add/sub/neg -> terms in a canonical order with
  the constants folded into one, last (``x + 1``, ``x - 1``, ``1 - x``), neutral
  zeros dropped, ``-(-x) -> x``, ``a + (-b) -> a - b``, ``x - x -> 0`` where exact.
* ``local_mul_canonize``: trees of mul/true_div/neg -> ``±(num / den)`` with sorted
  factors, constants folded, ``x*1``, ``x/1`` dropped, ``x*(-1) -> -x`` and ``x/x``
  cancelled where exact.
* ``local_dimshuffle_dimshuffle``, ``local_dimshuffle_constant``,
  ``local_dimshuffle_lift`` (a DimShuffle moved below an Elemwise),
  ``local_reshape_transposed_elemwise`` (an Elemwise reshaped after a transpose is
  computed transposed, when its other readers are reductions) and
  ``local_reshape_reshape``.
* ``local_add_inc_subtensor_zeros``: ``a + inc_subtensor(zeros[idx], y) ->
  inc_subtensor(a[idx], y)`` (gradients of sliced vectors: a chain of writes).
* ``local_reduce_dimshuffle`` (a reduction of a DimShuffle reduces the input over the
  mapped axes), ``local_reduce_reduce`` (two reductions of one kind -> one),
  ``local_sum_alloc`` (a sum over dimensions an alloc broadcast -> value * length),
  ``local_sum_mul_by_scalar`` (``sum(x * c) -> sum(x) * c``), ``local_sum_neg``.
* ``local_cast_cast``: ``cast(cast(x, d1), d2) -> cast(x, d2)`` when d1 loses nothing.

What "the same values" means here
---------------------------------
* Dtypes never change, and every operation of a rebuilt tree computes in the dtype
  the tree had (a narrower leaf is cast first where needed): reordering
  ``a_int8 + (b_int16 - c_int8)`` never lets a partial sum wrap in int8.
* Integers: add, sub, neg and mul are exact modular arithmetic, so flattening,
  reordering and cancelling terms never changes a value, wrap-around included.
* Floats: reordering a sum or a product changes rounding (a few ulps per operation),
  as in Theano; where terms cancel, that error is relative to the largest term (``(x +
  1) - x`` becomes ``(x - x) + 1``: 1 instead of the original's 0 at x = 1e300), and at
  extreme magnitudes reordering can change whether an intermediate over- or
  underflows. Constants are only folded together where the folded value neither
  overflows nor underflows.
* NaN and +-inf propagate as before. ``x - x`` is cancelled only for integers and for
  values known to be finite (constants, and allocs/dimshuffles of them): for a float
  x it is NaN at x = +-inf or NaN, so it is left alone (Theano cancels it anyway; we
  do not). ``x / x`` is cancelled only where x is known finite and nonzero (the same
  kind of constants): at 0, +-inf or NaN it is NaN, not 1. Complex products are not
  canonicalized at all: NumPy's complex multiply by 1 or -1 is not exact when a part
  is infinite (inf * 0 appears in the formula).
* Reductions: ``sum(x * c) -> sum(x) * c`` only for a finite constant c (with c = inf,
  sum([1, 0] * c) is NaN but sum([1, 0]) * c is inf); ``sum(alloc(v, n))`` gives 0 for
  n = 0 even where v is inf or NaN (a guard is added unless n > 0 or v finite is known).
* Signed zeros: +0 and -0 are taken to be the same value (they compare equal, and
  Theano does the same). ``x + 0 -> x`` (at x = -0 the original gives +0), ``0 - x ->
  -x``, distributing a minus over a sum and pulling a neg out of a sum may flip the
  sign of an exact-zero result; this is visible only as the sign of an infinity after
  dividing by that zero.
"""

from __future__ import annotations

import zlib

import numpy as np

from symgraph.graph.basic import Constant
from symgraph.graph.rewriting.basic import node_rewriter
from symgraph.graph.rewriting.db import register
from symgraph.scalar import math as sm
from symgraph.scalar.basic import Cast
from symgraph.tensor.basic import constant
from symgraph.tensor.creation import Alloc, alloc
from symgraph.tensor.elemwise import DimShuffle, Elemwise, broadcast_static_shape
from symgraph.tensor.math import cast, elemwise_of
from symgraph.tensor.reduction import CAReduce
from symgraph.tensor.shape import Reshape, shape_i, specify_shape
from symgraph.tensor.variable import TensorConstant

_add = elemwise_of(sm.add)
_sub = elemwise_of(sm.sub)
_neg = elemwise_of(sm.neg)
_mul = elemwise_of(sm.mul)
_div = elemwise_of(sm.true_div)
_gt = elemwise_of(sm.gt)
_switch = elemwise_of(sm.switch)


# =========================================================================== helpers

def _sop(var):
    """The scalar op computing ``var`` when it is the single output of a plain
    (not in-place) Elemwise, else None."""
    node = var.owner
    if node is not None and isinstance(node.op, Elemwise) and len(node.outputs) == 1 \
            and not node.op.inplace_pattern:
        return node.op.scalar_op
    return None


def _sop_name(var):
    op = _sop(var)
    return None if op is None else op.name


def _single_client(fgraph, var) -> bool:
    return len(fgraph.clients.get(var, ())) == 1


def _kind(dtype) -> str:
    return np.dtype(dtype).kind


def _const_array(var, dtype=None):
    data = np.asarray(var.data)
    return data if dtype is None else data.astype(dtype)


def _new_constant(data, dtype):
    return constant(np.asarray(data, dtype=dtype), dtype=dtype)


def _known(var, pred, depth=4) -> bool:
    """Whether every value ``var`` can take satisfies the elementwise predicate ``pred``
    (which must be symmetric under negation): ``var`` is a constant whose data does,
    or a DimShuffle, Alloc or neg of such a variable."""
    if isinstance(var, TensorConstant):
        return bool(np.all(pred(np.asarray(var.data))))
    node = var.owner
    if node is None or depth == 0:
        return False
    if isinstance(node.op, (DimShuffle, Alloc)) or _sop_name(var) == "neg":
        return _known(node.inputs[0], pred, depth - 1)
    return False


def _finite(var) -> bool:
    return _kind(var.dtype) in "biu" or _known(var, np.isfinite)


def _finite_nonzero(var) -> bool:
    return _known(var, lambda a: np.isfinite(a) & (a != 0))


def _static_ok(new, old) -> bool:
    """A result of static shape ``new`` may replace one of shape ``old`` (elementwise
    semantics): equal, or more precise without being a broadcast length 1 where the
    original could be longer."""
    if len(new) != len(old):
        return False
    for n, o in zip(new, old):
        if n == o:
            continue
        if o is None and n is not None and n != 1:
            continue
        return False
    return True


def _at_least_as_precise(new, old) -> bool:
    return len(new) == len(old) and all(o is None or n == o for n, o in zip(new, old))


def _sorted_terms(fgraph, terms, depth=3):
    """``terms`` in a canonical order: by structure (ops and graph-input positions a
    few levels down), so that ``a + b`` and ``b + a`` get one order; ties between
    distinct variables are broken by creation order (``auto_name``), not identity:
    the same program must rewrite to the same graph in every process, or the numba
    backend's disk cache (keyed by the generated source) misses on a warm start."""
    if len(terms) < 2:
        return list(terms)
    memo: dict = {}
    return sorted(terms, key=lambda v: (_structure(fgraph, v, depth, memo), v.auto_name))


def _structure(fgraph, var, depth, memo):
    key = (id(var), depth)
    found = memo.get(key)
    if found is not None:
        return found
    if isinstance(var, Constant):
        data = np.asarray(var.data)
        out = f"c{var.type}{zlib.crc32(data.tobytes()):08x}"
    elif var.owner is None:
        out = next((f"i{i:05d}" for i, v in enumerate(fgraph.inputs) if v is var),
                   f"s{var.name or ''}{var.type}")
    else:
        node = var.owner
        out = f"n{node.op}.{node.outputs.index(var)}"
        if depth > 0:
            out += "(" + ",".join(_structure(fgraph, i, depth - 1, memo)
                                  for i in node.inputs) + ")"
    memo[key] = out
    return out


def _seen_canonical(node, leaves) -> bool:
    """Whether ``node`` was already found canonical with these same leaves (a revisit in
    a later pass: nothing to do). Skipping is always safe: a stale hit only costs a
    missed rewrite."""
    seen = getattr(node.tag, "_canonical_leaves", None)
    return seen is not None and len(seen) == len(leaves) and all(
        a[0] == b[0] and a[1] == b[1] and a[2] is b[2] for a, b in zip(seen, leaves))


def _mark_canonical(node, leaves):
    node.tag._canonical_leaves = tuple(leaves)


def _same_tree(new, old) -> bool:
    """Whether ``new`` computes with exactly the Elemwise structure of ``old`` (same
    scalar ops, same leaves, equal constants)."""
    stack = [(new, old)]
    while stack:
        a, b = stack.pop()
        if a is b:
            continue
        if isinstance(a, Constant) or isinstance(b, Constant):
            if not (isinstance(a, Constant) and isinstance(b, Constant) and a.type == b.type
                    and np.array_equal(a.data, b.data, equal_nan=_kind(a.dtype) in "fc")):
                return False
            continue
        if a.owner is None or b.owner is None or a.type != b.type:
            return False
        if a.owner.op != b.owner.op or len(a.owner.inputs) != len(b.owner.inputs):
            return False
        stack.extend(zip(a.owner.inputs, b.owner.inputs))
    return True


def _lead(terms, dtype, cast_single=False):
    """``terms`` reordered so that the first has ``dtype`` (the dtype of the whole
    tree), or with the first cast to it when none has: then every operation of the
    fold computes in ``dtype``, as the original tree did."""
    terms = list(terms)
    if not terms or (len(terms) == 1 and not cast_single):
        return terms
    for i, t in enumerate(terms):
        if t.dtype == dtype:
            if i:
                terms.insert(0, terms.pop(i))
            return terms
    terms[0] = _cast_to(terms[0], dtype)
    return terms


def _cast_to(var, dtype):
    if var.dtype == dtype:
        return var
    if isinstance(var, TensorConstant):
        with np.errstate(all="ignore"):
            return _new_constant(_const_array(var, dtype), dtype)
    return cast(var, dtype)


def _fold(op, terms):
    acc = terms[0]
    for t in terms[1:]:
        acc = op(acc, t)
    return acc


def _fill_dims(out, terms, fgraph):
    """Symbolic lengths of ``out``'s dimensions: static ones as constants, the others
    from a term that is not broadcast there (it then has the output's length)."""
    dims = []
    for d, s in enumerate(out.type.shape):
        if s is not None:
            dims.append(constant(s, dtype="int64"))
            continue
        src = next((t for t in terms if t.type.shape[d] is None), None)
        if src is None:
            return None
        dims.append(shape_i(src, d, fgraph))
    return dims


def _finish(new, out):
    """``new`` as a replacement for ``out``: cast to its dtype; None when the static
    shape would lose precision or broadcasting."""
    if new is None:
        return None
    new = _cast_to(new, out.dtype)
    if new.type.ndim != out.type.ndim or not _static_ok(new.type.shape, out.type.shape):
        return None
    return new


# =========================================================================== sums

_ADD_FAMILY = ("add", "sub", "neg")
_MUL_FAMILY = ("mul", "true_div", "neg")


def _absorbed(fgraph, var, family) -> bool:
    """Whether ``var`` is an inner node of a larger tree of ``family`` (its only client
    is a node of the family with the same dtype): the root will rewrite it."""
    clients = fgraph.clients.get(var, ())
    if len(clients) != 1:
        return False
    client, _ = clients[0]
    if isinstance(client, str):  # a graph output
        return False
    out = client.outputs[0]
    return _sop_name(out) in family and out.dtype == var.dtype


def _collect(fgraph, root, family):
    """The leaves of the tree of ``family`` ops rooted at ``root``: inner nodes are
    those of the family, of the root's dtype, used only inside the tree.

    Returns ([(sign, inverted, leaf)] in tree order, number of negs passed). For a sum
    the sign of a leaf is its sign in the sum; for a product only the count of negs
    matters (each multiplies the whole product by -1)."""
    dtype = root.dtype
    leaves = []
    n_neg = 0
    stack = [(root, 1, False)]
    while stack:
        var, sign, inv = stack.pop()
        name = _sop_name(var)
        if name in family and (var is root or (var.dtype == dtype and _single_client(fgraph, var))):
            ins = var.owner.inputs
            if name == "neg":
                n_neg += 1
                stack.append((ins[0], -sign, inv))
            elif name == "add" or name == "mul":
                stack.extend([(ins[1], sign, inv), (ins[0], sign, inv)])
            elif name == "sub":
                stack.extend([(ins[1], -sign, inv), (ins[0], sign, inv)])
            else:  # true_div
                stack.extend([(ins[1], sign, not inv), (ins[0], sign, inv)])
        else:
            leaves.append((sign, inv, var))
    return leaves, n_neg


def _cancel(pos, neg, ok):
    """Remove pairs of the same variable from ``pos`` and ``neg`` where ``ok(var)``."""
    pos, kept = list(pos), []
    for t in neg:
        idx = next((i for i, p in enumerate(pos) if p is t), None) if ok(t) else None
        if idx is None:
            kept.append(t)
        else:
            del pos[idx]
    return pos, kept


def _flip_sign(data, dtype) -> bool:
    """Whether a constant is better written negated (all <= 0, some < 0, and negating
    does not wrap): ``x + (-1)`` and ``x - 1`` become one spelling."""
    if _kind(dtype) not in "if":
        return False
    with np.errstate(all="ignore"):
        return bool(np.all(data <= 0) and np.any(data < 0) and np.all(-data >= 0))


def _fold_add_constants(pos_c, neg_c, dtype):
    """The signed sum of the constants as (sign, constant), placed by ``_flip_sign``;
    None when folding would overflow."""
    if len(pos_c) + len(neg_c) == 1:
        c, sign = (pos_c[0], 1) if pos_c else (neg_c[0], -1)
        data = np.asarray(c.data)
        if _flip_sign(data, c.dtype):
            with np.errstate(all="ignore"):
                return -sign, _new_constant(-data, c.dtype)
        return sign, c
    arrays = [(1, _const_array(c, dtype)) for c in pos_c] + \
             [(-1, _const_array(c, dtype)) for c in neg_c]
    with np.errstate(all="ignore"):
        total = None
        for s, a in arrays:
            total = (a if s > 0 else -a) if total is None else (total + a if s > 0 else total - a)
        total = np.asarray(total, dtype=dtype)
        if _kind(dtype) in "fc" and all(np.all(np.isfinite(a)) for _, a in arrays) \
                and not np.all(np.isfinite(total)):
            return None
        if _flip_sign(total, dtype):
            return -1, _new_constant(-total, dtype)
    return 1, _new_constant(total, dtype)


def _build_sum(pos, neg, const, dtype):
    """pos1 + pos2 ... - neg1 - neg2 ... ± const (the constant last), or
    -(neg1 + neg2 ...) ± const when no term is added; every operation computes in
    ``dtype``."""
    csign, c = const if const is not None else (0, None)
    if pos or csign > 0:
        seq = [(1, t) for t in pos] + [(-1, t) for t in neg]
        if c is not None:
            seq = seq + [(csign, c)] if pos else [(1, c)] + seq
        if len(seq) > 1 and seq[0][1].dtype != dtype:
            i = next((i for i, (s, t) in enumerate(seq) if s > 0 and t.dtype == dtype), None)
            if i is None:
                seq[0] = (1, _cast_to(seq[0][1], dtype))
            else:
                seq.insert(0, seq.pop(i))
        acc = seq[0][1]
        for s, t in seq[1:]:
            acc = _add(acc, t) if s > 0 else _sub(acc, t)
        return acc
    acc = _neg(_fold(_add, _lead(neg, dtype, cast_single=True)))
    return acc if c is None else _sub(acc, c)


def _shape_of_terms(terms):
    return broadcast_static_shape([t.type.shape for t in terms])


def _constant_result(data, dtype, out, terms, fgraph, limit=10_000):
    """What is left of a tree is the constant ``data``: it broadcast to ``out``'s shape,
    as a constant when that shape is static (and small), else as an alloc."""
    data = np.asarray(data, dtype=dtype)
    shape = tuple(out.type.shape)
    if all(s is not None for s in shape) and int(np.prod(shape)) <= limit:
        new = _new_constant(np.broadcast_to(data, shape).copy(), dtype)
    else:
        dims = _fill_dims(out, terms, fgraph)
        if dims is None:
            return None
        new = alloc(_new_constant(data, dtype), *dims)
    return _finish(new, out)


@register("fast_run", "arith", phase="canonicalize")
@node_rewriter([Elemwise])
def local_add_canonize(fgraph, node):
    """add/sub/neg trees -> one canonical spelling: terms flattened and sorted, constants
    folded (last), zeros dropped, -(-x) -> x, a + (-b) -> a - b, x - x -> 0 for integers
    and known-finite x (fewer nodes; equal sums merge later)."""
    out = node.outputs[0]
    if _sop_name(out) not in _ADD_FAMILY or _kind(out.dtype) == "b":
        return None
    if _absorbed(fgraph, out, _ADD_FAMILY):
        return None
    leaves, _ = _collect(fgraph, out, _ADD_FAMILY)
    if _seen_canonical(node, leaves):
        return None
    new = _canonical_sum(fgraph, out, leaves)
    if new is None or _same_tree(new, out):
        _mark_canonical(node, leaves)
        return None
    return [new]


def _all_zeros(var) -> bool:
    """Whether ``var`` is known to hold zeros only: a constant, or an alloc of one."""
    if isinstance(var, TensorConstant):
        data = np.asarray(var.data)
        return data.size > 0 and not np.any(data)
    node = var.owner
    return node is not None and isinstance(node.op, Alloc) and _all_zeros(node.inputs[0])


@register("fast_run", "arith", phase="canonicalize")
@node_rewriter([Elemwise])
def local_add_inc_subtensor_zeros(fgraph, node):
    """a ± inc_subtensor(zeros[idx], y) -> inc_subtensor(a[idx], ±y) when the other
    terms make one array of the sum's full shape (Theano's
    local_IncSubtensor_serialize).

    The gradient with respect to a vector that was sliced into pieces (parameters
    packed in one flat vector: B5's weights; a jacobian's rows of such) is a sum of
    zero arrays each with one piece written in. Applied term by term this becomes a
    chain of writes into one array, without the zero arrays nor the sum of them.
    Values: ``0 + y + a`` becomes ``a + y`` (the same but for the sign of a zero)."""
    out = node.outputs[0]
    if _sop_name(out) not in _ADD_FAMILY or _absorbed(fgraph, out, _ADD_FAMILY):
        return None  # an inner sum: the root's rewrite sees its terms
    from symgraph.tensor.subtensor import IncSubtensor
    leaves, _ = _collect(fgraph, out, _ADD_FAMILY)
    if len(leaves) < 2:
        return None
    for j, (sign, _, term) in enumerate(leaves):
        inc = term.owner
        if inc is None or type(inc.op) is not IncSubtensor or inc.op.set_instead_of_inc \
                or term.type != out.type or not _single_client(fgraph, term) \
                or not _all_zeros(inc.inputs[0]):
            continue
        rest = [(s, t) for k, (s, _, t) in enumerate(leaves) if k != j]
        base = _build_sum([t for s, t in rest if s > 0], [t for s, t in rest if s < 0],
                          None, out.dtype)
        if base.dtype != out.dtype or base.type.broadcastable != out.type.broadcastable:
            continue  # the other terms broadcast: they are not one full array
        y = inc.inputs[1] if sign > 0 else _neg(inc.inputs[1])
        new = IncSubtensor(inc.op.idx_list)(base, y, *inc.inputs[2:])
        if new.type != out.type:  # the zeros told the static shape: keep it
            new = specify_shape(new, out.type.shape)
        if new.type != out.type:
            continue
        return [new]
    return None


def _through_shared_negs(leaves, dtype):
    """Leaves that are negs used elsewhere too (so not absorbed) are looked through
    where that costs no new op: ``-(-x)`` and ``a - (-x)`` always, ``a + (-x)`` when
    some other term is added (the sum then starts with it)."""
    def is_neg(t):
        return _sop_name(t) == "neg" and t.owner.inputs[0].dtype == dtype

    out = [(-s, inv, t.owner.inputs[0]) if s < 0 and is_neg(t) else (s, inv, t)
           for s, inv, t in leaves]
    added = sum(1 for s, _, t in out if s > 0 and not is_neg(t))
    if added:
        out = [(-s, inv, t.owner.inputs[0]) if s > 0 and is_neg(t) else (s, inv, t)
               for s, inv, t in out]
    return out


def _canonical_sum(fgraph, out, leaves):
    """The canonical form of the sum tree ``out`` with ``leaves``, or None."""
    dtype = out.dtype
    terms = [t for _, _, t in leaves]
    leaves = _through_shared_negs(leaves, dtype)
    pos, neg = _cancel([t for s, _, t in leaves if s > 0],
                       [t for s, _, t in leaves if s < 0], _finite)
    pos_c = [t for t in pos if isinstance(t, TensorConstant)]
    neg_c = [t for t in neg if isinstance(t, TensorConstant)]
    pos = _sorted_terms(fgraph, [t for t in pos if not isinstance(t, TensorConstant)])
    neg = _sorted_terms(fgraph, [t for t in neg if not isinstance(t, TensorConstant)])
    const = None
    if pos_c or neg_c:
        const = _fold_add_constants(pos_c, neg_c, dtype)
        if const is None:  # folding would overflow: keep each constant as written
            pos, neg = pos + pos_c, neg + neg_c
        elif not pos and not neg:  # constants only
            csign, c = const
            with np.errstate(all="ignore"):
                data = -_const_array(c, dtype) if csign < 0 else _const_array(c, dtype)
            return _constant_result(data, dtype, out, terms, fgraph)
        elif not np.any(np.asarray(const[1].data)) and \
                _static_ok(_shape_of_terms(pos + neg), out.type.shape):
            const = None  # a neutral zero (kept when it carries the broadcast shape)
    if not pos and not neg:
        new = _constant_result(0, dtype, out, terms, fgraph)  # everything cancelled
    else:
        kept = pos + neg + ([const[1]] if const is not None else [])
        if not _static_ok(_shape_of_terms(kept), out.type.shape):
            return None  # a cancelled term carried the broadcast shape
        new = _build_sum(pos, neg, const, dtype)
    return _finish(new, out)


# =========================================================================== products

def _fold_mul_constants(cs, dtype):
    """The product of constants ``cs`` in ``dtype``; None when it would over- or
    underflow."""
    arrays = [_const_array(c, dtype) for c in cs]
    with np.errstate(all="ignore"):
        total = arrays[0]
        for a in arrays[1:]:
            total = total * a
        total = np.asarray(total, dtype=dtype)
    if _kind(dtype) == "f" and not _no_overflow(arrays, total):
        return None
    return _new_constant(total, dtype)


def _no_overflow(arrays, total) -> bool:
    """Finite, nonzero factors gave a finite, nonzero result."""
    finite = all(np.all(np.isfinite(a)) for a in arrays)
    nonzero = all(np.all(a != 0) for a in arrays)
    return not ((finite and not np.all(np.isfinite(total))) or (nonzero and np.any(total == 0)))


def _all_equal(c, value) -> bool:
    data = np.asarray(c.data)
    return data.size > 0 and bool(np.all(data == value))


def _mul_constants(num_c, den_c, dtype):
    """Fold the constant factors: (numerator constants, denominator constants, sign).
    Ones are dropped and minus ones become the sign; a fold that would over- or
    underflow is not made."""
    def fold(cs):
        if len(cs) <= 1:
            return list(cs)
        c = _fold_mul_constants(cs, dtype)
        return list(cs) if c is None else [c]

    num_c, den_c = fold(num_c), fold(den_c)
    if len(num_c) == 1 and len(den_c) == 1 and _kind(dtype) == "f":
        with np.errstate(all="ignore"):
            a, b = _const_array(num_c[0], dtype), _const_array(den_c[0], dtype)
            q = np.asarray(a / b, dtype=dtype)
        if _no_overflow([a, b], q) and np.all(np.isfinite(b)) and np.all(b != 0):
            num_c, den_c = [_new_constant(q, dtype)], []
    sign = 1
    signed = _kind(dtype) in "if"
    dropped = []
    for cs in (num_c, den_c):
        if len(cs) == 1 and (_all_equal(cs[0], 1) or (signed and _all_equal(cs[0], -1))):
            if not _all_equal(cs[0], 1):
                sign = -sign
            dropped.append(cs.pop())
    return num_c, den_c, sign, dropped


@register("fast_run", "arith", phase="canonicalize")
@node_rewriter([Elemwise])
def local_mul_canonize(fgraph, node):
    """mul/true_div/neg trees -> ±(num / den) with sorted factors and one folded
    constant: x*1, x/1 dropped, x*(-1) -> -x, negs pulled out, x/x -> 1 only for x known
    finite and nonzero (fewer nodes; equal products merge later)."""
    out = node.outputs[0]
    name = _sop_name(out)
    if name not in _MUL_FAMILY or _kind(out.dtype) not in "iuf":
        return None
    if name == "neg" and _sop_name(out.owner.inputs[0]) not in ("mul", "true_div"):
        return None  # a neg of anything else belongs to the sum canonizer
    if _absorbed(fgraph, out, _MUL_FAMILY):
        return None
    leaves, n_neg = _collect(fgraph, out, _MUL_FAMILY)
    if _seen_canonical(node, leaves):
        return None
    new = _canonical_product(fgraph, out, leaves, n_neg)
    if new is None or _same_tree(new, out):
        _mark_canonical(node, leaves)
        return None
    return [new]


def _canonical_product(fgraph, out, leaves, n_neg):
    """The canonical form of the product tree ``out`` with ``leaves``, or None."""
    dtype = out.dtype
    terms = [t for _, _, t in leaves]
    sign = -1 if n_neg % 2 else 1
    num, den = _cancel([t for _, inv, t in leaves if not inv],
                       [t for _, inv, t in leaves if inv], _finite_nonzero)
    num_c, den_c, csign, dropped = _mul_constants(
        [t for t in num if isinstance(t, TensorConstant)],
        [t for t in den if isinstance(t, TensorConstant)], dtype)
    sign *= csign
    num = _sorted_terms(fgraph, [t for t in num if not isinstance(t, TensorConstant)]) + num_c
    den = _sorted_terms(fgraph, [t for t in den if not isinstance(t, TensorConstant)]) + den_c
    if dropped and (num or den) and not _static_ok(_shape_of_terms(num + den), out.type.shape):
        return None  # the neutral constant carried the broadcast shape
    if not num and not den:
        # only neutral constants were left, or x/x with x finite and nonzero
        new = _constant_result(sign, dtype, out, terms, fgraph)
    else:
        if not _static_ok(_shape_of_terms(num + den), out.type.shape):
            return None  # a cancelled pair carried the broadcast shape
        if not num:
            num = [_new_constant(np.ones((1,) * out.ndim), dtype)]
        n_ops = len(num) + len(den) - 1 + (sign < 0)
        new = _fold(_mul, _lead(num, dtype, cast_single=n_ops > 0))
        if den:
            new = _div(new, _fold(_mul, _lead(den, dtype)))
        if sign < 0:
            new = _neg(new)
    return _finish(new, out)


# =========================================================================== DimShuffle

def _compose(inner_order, outer_order):
    return tuple("x" if o == "x" else inner_order[o] for o in outer_order)


def _shuffle(var, order):
    """``var`` dimshuffled by ``order``: a constant stays a constant, a DimShuffle is
    composed with this one, an identity order gives ``var``."""
    order = tuple(order)
    node = var.owner
    if node is not None and isinstance(node.op, DimShuffle):
        return _shuffle(node.inputs[0], _compose(node.op.new_order, order))
    if order == tuple(range(var.ndim)):
        return var
    op = DimShuffle(var.ndim, order)
    if isinstance(var, TensorConstant):
        storage = [None]
        op.perform(None, [np.asarray(var.data)], [storage])
        return _new_constant(np.ascontiguousarray(storage[0]), var.dtype)
    return op(var)


@register("fast_run", "dimshuffle", phase="canonicalize")
@node_rewriter([DimShuffle])
def local_dimshuffle_dimshuffle(fgraph, node):
    """DimShuffle(DimShuffle(x)) -> one DimShuffle of x, or x when they cancel (simpler
    graph)."""
    (y,) = node.inputs
    if y.owner is None or not isinstance(y.owner.op, DimShuffle):
        return None
    new = _shuffle(y, node.op.new_order)
    return [new] if new.type == node.outputs[0].type else None


@register("fast_run", "dimshuffle", phase="canonicalize")
@node_rewriter([DimShuffle])
def local_dimshuffle_constant(fgraph, node):
    """DimShuffle of a constant -> the shuffled constant (nothing to run; constants feed
    folding)."""
    (c,) = node.inputs
    if not isinstance(c, TensorConstant):
        return None
    new = _shuffle(c, node.op.new_order)
    return [new] if new.type == node.outputs[0].type else None


@register("fast_run", "dimshuffle", phase="canonicalize")
@node_rewriter([DimShuffle])
def local_dimshuffle_lift(fgraph, node):
    """dimshuffle(elemwise(a, b)) -> elemwise(dimshuffle(a), dimshuffle(b)) when the
    Elemwise has no other client: shuffles sink to the leaves, where they merge,
    fold into constants or vanish, and Elemwise chains become contiguous for fusion."""
    (y,) = node.inputs
    inner = y.owner
    if inner is None or not isinstance(inner.op, Elemwise) or len(inner.outputs) != 1 \
            or inner.op.inplace_pattern or not _single_client(fgraph, y):
        return None
    order = node.op.new_order
    new = inner.op(*[_shuffle(i, order) for i in inner.inputs])
    out = node.outputs[0]
    if new.type != out.type:
        return None
    return [new]


def _reads_any_layout(client) -> bool:
    """Whether ``client`` (a node, or "output") costs no more on a transposed view of
    its input: a reduction (it reduces the mapped axes: local_reduce_dimshuffle), a
    DimShuffle (composed), a shape."""
    from symgraph.tensor.shape import Shape, Shape_i
    return not isinstance(client, str) and \
        isinstance(client.op, (CAReduce, DimShuffle, Shape, Shape_i))


@register("fast_run", "dimshuffle", phase="canonicalize")
@node_rewriter([Reshape])
def local_reshape_transposed_elemwise(fgraph, node):
    """reshape(y.transpose(p)) with y = elemwise(a, b) also used by reductions ->
    y2 = elemwise(a.transpose(p), b.transpose(p)) computed in the transposed order,
    reshaped (a view), and the reductions reading y2.transpose(inverse p).

    The reshape of a transpose copies the whole array, and y is written once already:
    computing y in the order the reshape wants saves that copy (the vectorised
    jacobian's products with a shared matrix transpose their batched operand so:
    B5's Hessian). local_dimshuffle_lift does this when the reshape is y's only
    reader; here y also has readers that do not care about its layout. Only for
    permutations that keep the last axis in place, so that the elemwise loop still
    reads its inputs' rows contiguously."""
    (ds_out, _) = node.inputs
    ds = ds_out.owner
    if ds is None or not isinstance(ds.op, DimShuffle):
        return None
    order = ds.op.new_order
    n = len(order)
    if "x" in order or ds.op.drop or sorted(order) != list(range(n)) or n < 2 \
            or order[-1] != n - 1 or list(order) == list(range(n)):
        return None
    y = ds.inputs[0]
    inner = y.owner
    if inner is None or not isinstance(inner.op, Elemwise) or len(inner.outputs) != 1 \
            or inner.op.inplace_pattern:
        return None
    others = [c for c, _ in fgraph.clients.get(y, ()) if c is not ds]
    if not others or not all(_reads_any_layout(c) for c in others):
        return None  # a sole reader: local_dimshuffle_lift's case
    new = inner.op(*[_shuffle(i, order) for i in inner.inputs])
    if new.type != ds_out.type:
        return None
    inverse = [0] * n
    for k, o in enumerate(order):
        inverse[o] = k
    back = _shuffle(new, inverse)
    if back.type != y.type:
        return None
    return {ds_out: new, y: back}


@register("fast_run", "reshape", phase="canonicalize")
@node_rewriter([Reshape])
def local_reshape_reshape(fgraph, node):
    """reshape(reshape(x, s1), s2) -> reshape(x, s2): a reshape only depends on the
    elements in C order, which the inner one keeps (one view instead of two)."""
    y, shp = node.inputs
    if y.owner is None or not isinstance(y.owner.op, Reshape):
        return None
    new = Reshape(node.op.ndim)(y.owner.inputs[0], shp)
    out = node.outputs[0]
    if new.dtype != out.dtype or not _at_least_as_precise(new.type.shape, out.type.shape):
        return None  # the inner reshape told us more about the static shape
    return [new]


# =========================================================================== reductions

def _reduction_like(op, axis, out_dtype, in_dtype):
    """A CAReduce like ``op`` over ``axis`` giving ``out_dtype`` from ``in_dtype``."""
    default = CAReduce(op.scalar_op, axis)._out_dtype(in_dtype)
    return CAReduce(op.scalar_op, axis, dtype=None if default == out_dtype else out_dtype,
                    acc_dtype=op.acc_dtype)


@register("fast_run", "reduction", phase="canonicalize")
@node_rewriter([CAReduce])
def local_reduce_dimshuffle(fgraph, node):
    """reduce(dimshuffle(x), axes) -> dimshuffle(reduce(x, mapped axes)): a sum (max,
    ...) of a transpose reduces x directly, and the shuffle acts on the smaller
    result."""
    (y,) = node.inputs
    if y.owner is None or not isinstance(y.owner.op, DimShuffle):
        return None
    ds, x = y.owner.op, y.owner.inputs[0]
    op, out = node.op, node.outputs[0]
    axes = op._axes(y.ndim)
    reduced = set(ds.drop) | {ds.new_order[k] for k in axes if ds.new_order[k] != "x"}
    kept = [ds.new_order[k] for k in range(y.ndim) if k not in axes]
    rank = {d: i for i, d in enumerate(d for d in range(x.ndim) if d not in reduced)}
    pattern = tuple("x" if o == "x" else rank[o] for o in kept)
    if reduced:
        axis = None if len(reduced) == x.ndim else tuple(sorted(reduced))
        r = CAReduce(op.scalar_op, axis, dtype=op.dtype, acc_dtype=op.acc_dtype)(x)
    else:
        # only inserted length-1 axes are reduced: each result is one element, converted
        if op.acc_dtype not in (None, out.dtype):
            return None
        r = _cast_to(x, out.dtype)
    new = _shuffle(r, pattern)
    if new.type != out.type:
        return None
    return [new]


@register("fast_run", "reduction", phase="canonicalize")
@node_rewriter([CAReduce])
def local_reduce_reduce(fgraph, node):
    """reduce(reduce(x, a), b) of one kind (sum of sum, max of max, ...) -> one reduction
    over both sets of axes, when the inner one has no other client and the dtypes
    agree (one pass over x, no intermediate)."""
    (y,) = node.inputs
    inner = y.owner
    if inner is None or not isinstance(inner.op, CAReduce) \
            or inner.op.scalar_op != node.op.scalar_op or not _single_client(fgraph, y):
        return None
    x, out = inner.inputs[0], node.outputs[0]
    if y.dtype != out.dtype or inner.op.acc_dtype not in (None, y.dtype) \
            or node.op.acc_dtype not in (None, out.dtype):
        return None
    a = inner.op._axes(x.ndim)
    rest = [d for d in range(x.ndim) if d not in a]
    both = sorted(set(a) | {rest[j] for j in node.op._axes(y.ndim)})
    axis = None if len(both) == x.ndim else tuple(both)
    new = _reduction_like(CAReduce(node.op.scalar_op), axis, out.dtype, x.dtype)(x)
    if new.type != out.type:
        return None
    return [new]


def _nonempty_guard(value, lengths, dtype, finite_value):
    """``value`` where the product of ``lengths`` (int64 scalars) is > 0, else 0: a sum
    over an empty range is 0 even when the summed value is inf or NaN."""
    static = [int(np.asarray(n.data)) if isinstance(n, TensorConstant) else None
              for n in lengths]
    if finite_value or all(s is not None and s > 0 for s in static):
        return value
    total = _fold(_mul, lengths)
    zero = _new_constant(np.zeros((1,) * value.ndim), dtype)
    return _switch(_gt(total, _new_constant(0, "int64")), value, zero)


@register("fast_run", "reduction", phase="canonicalize")
@node_rewriter([CAReduce])
def local_sum_alloc(fgraph, node):
    """sum(alloc(v, shape)) over dimensions the alloc broadcast -> sum(v) * their
    lengths (the big array is never summed; 0 for an empty range, as the sum is)."""
    op = node.op
    (y,) = node.inputs
    if op.scalar_op != sm.add or y.owner is None or not isinstance(y.owner.op, Alloc):
        return None
    v, dims = y.owner.inputs[0], y.owner.inputs[1:]
    out = node.outputs[0]
    if _kind(out.dtype) not in "iuf" or _kind(v.dtype) == "c":
        return None
    extra = y.ndim - v.ndim
    vshape = (1,) * extra + tuple(v.type.shape)
    axes = op._axes(y.ndim)
    bcast = [d for d in axes if vshape[d] == 1 and y.type.shape[d] != 1]
    if not bcast:
        return None
    vpad = _shuffle(v, ("x",) * extra + tuple(range(v.ndim))) if extra else v
    red = CAReduce(op.scalar_op, op.axis, dtype=op.dtype, acc_dtype=op.acc_dtype)(vpad)
    lengths = [dims[d] for d in bcast]
    n = _fold(_mul, lengths)
    new = _mul(red, _cast_to(n, out.dtype))
    new = _nonempty_guard(new, lengths, out.dtype, _finite(v))
    rest = [d for d in range(y.ndim) if d not in axes]
    if any(vshape[d] != y.type.shape[d] for d in rest):
        new = alloc(new, *[dims[d] for d in rest])  # broadcast back what was not summed
    if new.dtype != out.dtype or not _at_least_as_precise(new.type.shape, out.type.shape):
        return None
    return [new]


def _scalar_like(var) -> bool:
    return all(s == 1 for s in var.type.shape)


@register("fast_run", "reduction", phase="canonicalize")
@node_rewriter([CAReduce])
def local_sum_mul_by_scalar(fgraph, node):
    """sum(x * c) -> sum(x) * c for a finite constant scalar c (one multiplication
    instead of one per element). Only constants: for c = inf, sum([1, 0] * c) is NaN
    but sum([1, 0]) * c is inf."""
    op = node.op
    (y,) = node.inputs
    if op.scalar_op != sm.add or _sop_name(y) != "mul" or not _single_client(fgraph, y):
        return None
    out = node.outputs[0]
    if _kind(out.dtype) not in "iuf" or out.dtype != y.dtype or op.acc_dtype not in (None, y.dtype):
        return None
    a, b = y.owner.inputs
    for x, c in ((a, b), (b, a)):
        if isinstance(c, TensorConstant) and _scalar_like(c) and x.dtype == y.dtype \
                and c.dtype == y.dtype and np.all(np.isfinite(np.asarray(c.data))):
            break
    else:
        return None
    s = CAReduce(op.scalar_op, op.axis, dtype=op.dtype, acc_dtype=op.acc_dtype)(x)
    new = _mul(s, _new_constant(np.asarray(c.data).reshape((1,) * s.ndim), c.dtype))
    if new.type != out.type:
        return None
    return [new]


@register("fast_run", "reduction", phase="canonicalize")
@node_rewriter([CAReduce])
def local_sum_neg(fgraph, node):
    """sum(-x) -> -sum(x): one negation of the (smaller) result instead of one per
    element (the sign of an exact-zero sum may differ)."""
    op = node.op
    (y,) = node.inputs
    if op.scalar_op != sm.add or _sop_name(y) != "neg" or not _single_client(fgraph, y):
        return None
    out = node.outputs[0]
    if out.dtype != y.dtype or op.acc_dtype not in (None, y.dtype):
        return None
    new = _neg(CAReduce(op.scalar_op, op.axis, dtype=op.dtype, acc_dtype=op.acc_dtype)(
        y.owner.inputs[0]))
    if new.type != out.type:
        return None
    return [new]


# =========================================================================== casts

def _exact_cast(src, dst) -> bool:
    """Every value of dtype ``src`` is exactly representable in ``dst``."""
    a, b = np.dtype(src), np.dtype(dst)
    if a == b or a.kind == "b":
        return True
    if b.kind == "b":
        return False
    if a.kind in "iu":
        if b.kind in "iu":
            return bool(np.can_cast(a, b, "safe"))
        bits = a.itemsize * 8 - (a.kind == "i")
        return bits <= np.finfo(b).nmant + 1
    if a.kind == "f":
        return (b.kind == "f" and b.itemsize >= a.itemsize) or \
            (b.kind == "c" and b.itemsize >= 2 * a.itemsize)
    return a.kind == "c" and b.kind == "c" and b.itemsize >= a.itemsize


@register("fast_run", "cast", phase="canonicalize")
@node_rewriter([Elemwise])
def local_cast_cast(fgraph, node):
    """cast(cast(x, d1), d2) -> cast(x, d2) (or x) when every value of x's dtype is exact in
    d1, so the intermediate changes nothing (one conversion instead of two)."""
    if not isinstance(_sop(node.outputs[0]), Cast):
        return None
    (y,) = node.inputs
    if not isinstance(_sop(y), Cast):
        return None
    x = y.owner.inputs[0]
    d0, d1, d2 = x.dtype, y.dtype, node.outputs[0].dtype
    if not _exact_cast(d0, d1):
        return None
    if _kind(d2) in "iu":
        # float -> int conversions saturate or wrap differently from int -> int ones
        if _kind(d0) not in "biu":
            return None
        if _kind(d1) not in "biu" and not np.can_cast(d0, d2, "safe"):
            return None
    new = _cast_to(x, d2)
    if new.type != node.outputs[0].type:
        return None
    return [new]
