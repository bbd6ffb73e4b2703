"""Basic tensor rewrites: merge, constant folding and the removal of useless ops.

* ``merge`` (phase merge) and ``merge_final`` (phase final_merge): equal constants
  become one variable and Apply nodes with equal ops on identical inputs become
  one (common subexpression elimination).
* ``local_constant_folding`` (canonicalize): a node whose inputs are all constants
  is computed at compile time, with the op's ``perform``, unless the op refuses
  (``do_constant_folding``) or the result is large (``CONSTANT_FOLDING_LIMIT``).
* ``local_useless_*`` (canonicalize): ops that return their input unchanged
  (identity, same-dtype casts, identity dimshuffles, reshapes and allocs to the
  same static shape, redundant specify_shape/unbroadcast, gradient modifiers,
  ``x[:]``) and switches on a constant condition.
"""

from __future__ import annotations

import warnings

import numpy as np

from symgraph.gradient import GradientModifier
from symgraph.graph.basic import Constant
from symgraph.graph.rewriting.basic import GraphRewriter, node_rewriter
from symgraph.graph.rewriting.db import register
from symgraph.scalar.basic import Cast
from symgraph.tensor.creation import Alloc
from symgraph.tensor.elemwise import DimShuffle, Elemwise
from symgraph.tensor.shape import Reshape, SpecifyShape, Unbroadcast
from symgraph.tensor.subtensor import Subtensor
from symgraph.tensor.indexing import SliceIdx
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorConstant

#: Results with more elements than this are not folded into constants: a folded
#: constant lives in the graph (memory, pickles, compile-cache keys) and computing
#: it costs compile time that a run would spend only when called.
CONSTANT_FOLDING_LIMIT = 10_000


# =========================================================================== merge

class MergeRewriter(GraphRewriter):
    """Equal constants and equal ops on identical inputs become one (less work, smaller graph)."""

    def __init__(self, name="merge"):
        self.name = name

    def apply(self, fgraph, report) -> bool:
        merged = self._merge_constants(fgraph) + self._merge_nodes(fgraph)
        if merged:
            report[self.name] += merged
        return bool(merged)

    @staticmethod
    def _merge_constants(fgraph) -> int:
        seen: dict = {}
        count = 0
        # sort for a deterministic choice of the variable that is kept
        consts = [v for v in fgraph.variables if isinstance(v, Constant)]
        consts.sort(key=lambda v: v.auto_name)
        for c in consts:
            try:
                key = c.signature()
                hash(key)
            except TypeError:
                continue  # an unhashable value: leave it alone
            keep = seen.get(key)
            if keep is None or keep not in fgraph.variables:
                seen[key] = c
                continue
            if c in fgraph.inputs or not fgraph.clients.get(c):
                continue
            fgraph.replace(c, keep, reason="merge")
            count += 1
        return count

    @staticmethod
    def _merge_nodes(fgraph) -> int:
        seen: dict = {}
        count = 0
        for node in fgraph.toposort():
            if node not in fgraph.apply_nodes:
                continue
            if getattr(node.op, "destroy_map", None):
                continue  # an op that overwrites an input must run once per use
            try:
                key = (node.op, tuple(id(i) for i in node.inputs))
                keep = seen.get(key)
            except TypeError:
                continue  # an op with unhashable props
            if keep is None or keep not in fgraph.apply_nodes:
                seen[key] = node
                continue
            if len(keep.outputs) != len(node.outputs) or \
                    any(a.type != b.type for a, b in zip(keep.outputs, node.outputs)):
                continue
            for old, new in zip(node.outputs, keep.outputs):
                if old in fgraph.variables:
                    fgraph.replace(old, new, reason="merge")
            count += 1
        return count


merge = register("fast_run", "fast_compile", phase="merge")(MergeRewriter("merge"))
merge_final = register("fast_run", "fast_compile", "merge", phase="final_merge")(
    MergeRewriter("merge_final"))


# =========================================================================== constant folding

def _static_size(var):
    shape = getattr(var.type, "shape", None)
    if shape is None or any(s is None for s in shape):
        return None
    n = 1
    for s in shape:
        n *= s
    return n


def _predicted_size(fgraph, node, k):
    """The size of output ``k`` from the op's infer_shape on the constant inputs' shapes,
    when that evaluates to constants without running the op; else None."""
    from symgraph.tensor.basic import constant, get_scalar_constant_value
    try:
        shapes = node.op.infer_shape(fgraph, node, [
            tuple(constant(s, dtype="int64") for s in np.shape(i.data))
            if isinstance(i.type, TensorType) else None for i in node.inputs])
        n = 1
        for d in shapes[k]:
            n *= int(get_scalar_constant_value(d))
        return n
    except Exception:
        return None


@register("fast_run", "fast_compile", "constant_folding", phase="canonicalize")
@node_rewriter(None)
def local_constant_folding(fgraph, node):
    """All-constant inputs -> a constant computed now, unless large (memory, compile time)."""
    # Skipped too when the op refuses (do_constant_folding) and when perform raises or
    # warns: the error then happens at run time, as the user wrote it.
    if not node.inputs or not all(isinstance(i, Constant) for i in node.inputs):
        return None
    if getattr(node.op, "destroy_map", None):
        return None
    if not all(isinstance(o.type, TensorType) for o in node.outputs):
        return None
    for k, o in enumerate(node.outputs):
        n = _static_size(o)
        if n is None:
            n = _predicted_size(fgraph, node, k)
        if n is not None and n > CONSTANT_FOLDING_LIMIT:
            return None
    try:
        if not node.op.do_constant_folding(fgraph, node):
            return None
    except Exception:
        return None
    storage = [[None] for _ in node.outputs]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            node.op.perform(node, [i.data for i in node.inputs], storage)
    except Exception:
        return None
    if caught:
        return None
    out = []
    for o, (value,) in zip(node.outputs, storage):
        t = o.type
        if isinstance(value, np.generic):
            value = np.asarray(value)
        if not isinstance(value, np.ndarray) or value.dtype != t.numpy_dtype or \
                value.ndim != t.ndim or \
                any(s is not None and s != n for s, n in zip(t.shape, value.shape)):
            return None  # a bad perform: let the run report it
        if value.size > CONSTANT_FOLDING_LIMIT:
            return None
        value = np.array(value, copy=True)
        value.setflags(write=False)
        out.append(TensorConstant(TensorType(t.dtype, shape=value.shape), value))
    return out


# =========================================================================== useless ops

def _elemwise_scalar_op(node):
    return node.op.scalar_op if isinstance(node.op, Elemwise) else None


@register("fast_run", "useless", phase="canonicalize")
@node_rewriter([Elemwise])
def local_useless_identity(fgraph, node):
    """identity(x) -> x: the elementwise identity only copies (simpler graph, no copy)."""
    sop = _elemwise_scalar_op(node)
    if sop is None or sop.name != "identity" or node.op.destroy_map:
        return None
    (x,) = node.inputs
    if x.type != node.outputs[0].type:
        return None
    return [x]


@register("fast_run", "useless", phase="canonicalize")
@node_rewriter([Elemwise])
def local_useless_cast(fgraph, node):
    """cast(x, x.dtype) -> x: a cast to the dtype x already has changes nothing."""
    sop = _elemwise_scalar_op(node)
    if not isinstance(sop, Cast) or node.op.destroy_map:
        return None
    (x,) = node.inputs
    if x.type != node.outputs[0].type:
        return None
    return [x]


def _dimshuffle_is_identity(op, xtype):
    """Whether ``op`` applied to a value of ``xtype`` gives the same array: the rank is
    kept and every dimension not of length 1 stays in place (length-1 dimensions may
    be dropped, added or moved: that does not move any element)."""
    if len(op.new_order) != op.input_ndim:
        return False
    shape = xtype.shape
    for i, o in enumerate(op.new_order):
        if o == i:
            continue
        if shape[i] != 1:
            return False
        if o != "x" and shape[o] != 1:
            return False
    return True


@register("fast_run", "useless", phase="canonicalize")
@node_rewriter([DimShuffle])
def local_useless_dimshuffle(fgraph, node):
    """A DimShuffle that moves no element (x.dimshuffle(0, 1)) -> x (simpler graph)."""
    (x,) = node.inputs
    if x.type != node.outputs[0].type or not _dimshuffle_is_identity(node.op, x.type):
        return None
    return [x]


@register("fast_run", "useless", phase="canonicalize")
@node_rewriter([Reshape])
def local_useless_reshape(fgraph, node):
    """reshape(x, s) to x's own fully static shape -> x (the identity; simpler graph)."""
    x = node.inputs[0]
    out = node.outputs[0]
    if x.type != out.type or any(s is None for s in x.type.shape):
        return None
    return [x]


@register("fast_run", "useless", phase="canonicalize")
@node_rewriter([SpecifyShape])
def local_useless_specify_shape(fgraph, node):
    """specify_shape(x, s) when x's type already has shape s -> x (cannot fail; simpler graph)."""
    x = node.inputs[0]
    if x.type != node.outputs[0].type:
        return None
    if any(s is not None and s != xs for s, xs in zip(node.op.shape, x.type.shape)):
        return None
    return [x]


@register("fast_run", "useless", phase="canonicalize")
@node_rewriter([Unbroadcast])
def local_useless_unbroadcast(fgraph, node):
    """unbroadcast(x) that forgets no static length 1 -> x (simpler graph)."""
    x = node.inputs[0]
    if x.type != node.outputs[0].type:
        return None
    return [x]


@register("fast_run", "useless", phase="canonicalize")
@node_rewriter([Alloc])
def local_useless_alloc(fgraph, node):
    """alloc(v, *shape) when v's static shape is the constant target -> v (no copy)."""
    v, dims = node.inputs[0], node.inputs[1:]
    out = node.outputs[0]
    if v.type != out.type or any(s is None for s in v.type.shape):
        return None
    # the target must be known too: a symbolic length is checked against v's at run time
    from symgraph.tensor.basic import NotScalarConstantError, get_scalar_constant_value
    try:
        target = tuple(int(get_scalar_constant_value(d)) for d in dims)
    except NotScalarConstantError:
        return None
    if target != v.type.shape:
        return None
    return [v]


def _constant_truth(var):
    """True/False when the constant ``var`` is true (false) everywhere, else None."""
    if not isinstance(var, Constant):
        return None
    data = np.asarray(var.data)
    if data.size == 0:
        return None
    if np.all(data):
        return True
    if not np.any(data):
        return False
    return None


@register("fast_run", "useless", phase="canonicalize")
@node_rewriter([Elemwise])
def local_useless_switch(fgraph, node):
    """switch(c, a, b) with c constant all true (false) -> a (b), cast/broadcast (less work)."""
    sop = _elemwise_scalar_op(node)
    if sop is None or sop.name != "switch" or node.op.destroy_map:
        return None
    cond, a, b = node.inputs
    truth = _constant_truth(cond)
    if truth is None:
        return None
    out = node.outputs[0]
    chosen = a if truth else b
    from symgraph.tensor.math import cast
    res = cast(chosen, out.dtype)
    if any(cs == 1 and os_ != 1 for cs, os_ in zip(res.type.shape, out.type.shape)):
        # the other inputs stretch the chosen branch: broadcast it to the result's shape
        from symgraph.tensor.creation import alloc
        from symgraph.tensor.shape import broadcast_shape_symbolic, shape_i
        shapes = [tuple(shape_i(i, d, fgraph) for d in range(i.ndim)) for i in node.inputs]
        res = alloc(res, *broadcast_shape_symbolic(node.inputs, shapes))
    if res.type.ndim != out.type.ndim:
        return None
    return [res]


@register("fast_run", "useless", phase="canonicalize")
@node_rewriter([GradientModifier])
def local_useless_grad_modifier(fgraph, node):
    """Gradient modifiers (stop/zero/clip/scale grad) -> x: identities forward (simpler graph)."""
    x = node.inputs[0]
    if x.type != node.outputs[0].type:
        return None
    return [x]


def _is_full_slice(e):
    return isinstance(e, SliceIdx) and e.start in (None, 0) and e.stop is None and \
        e.step in (None, 1)


@register("fast_run", "useless", phase="canonicalize")
@node_rewriter([Subtensor])
def local_useless_subtensor(fgraph, node):
    """x[:] (every entry a full slice) -> x: it takes the whole tensor (simpler graph)."""
    x = node.inputs[0]
    if len(node.inputs) != 1 or x.type != node.outputs[0].type:
        return None
    if not all(_is_full_slice(e) for e in node.op.idx_list):
        return None
    return [x]


__all__ = [
    "CONSTANT_FOLDING_LIMIT", "MergeRewriter", "merge", "merge_final", "local_constant_folding",
    "local_useless_identity", "local_useless_cast", "local_useless_dimshuffle",
    "local_useless_reshape", "local_useless_specify_shape", "local_useless_unbroadcast",
    "local_useless_alloc", "local_useless_switch", "local_useless_grad_modifier",
    "local_useless_subtensor",
]
