"""Rewrites of Scan nodes: the inner graph gets the standard pipeline too.

When an outer function is compiled, each Scan's inner graph is rewritten with the
default ("fast_run") pipeline -- merge, canonicalize, stabilize, specialize,
fusion -- so the loop body runs as fast as straight-line code would. Nested
scans are reached by the same rewrite running on the inner graph. The rewritten
op is cached on the original, so compiling the same loop again costs nothing.
(The outer mode's include/exclude tags are not passed down; a mode without
rewrites, optimizer=None, leaves the inner graph alone too.)

Before that, a non-sequence whose outer value is a small constant (a reshape's
target shape, a length, a coefficient) is written into the body as that constant
and dropped from the node's inputs, as Theano's scan optimisations did: the body's
rewrites and static shapes then see the value (scan() hoists loop-invariant
expressions, constants included, out of the body into non-sequences). A
non-sequence that is a length of another one becomes that length inside the body.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Constant, clone_replace
from symgraph.graph.rewriting.basic import node_rewriter
from symgraph.graph.rewriting.db import register
from symgraph.scan.op import Scan
from symgraph.tensor.shape import Shape_i
from symgraph.tensor.type import TensorType

# constants up to this many elements go into the body (larger ones stay inputs:
# the body's kernels would carry a copy each)
INLINE_CONSTANT_SIZE = 1024


def rewritten_op(op):
    """A copy of ``op`` whose inner graph went through the fast_run pipeline."""
    cached = op.__dict__.get("_rewritten")
    if cached is not None:
        return cached
    from symgraph.graph.fg import FunctionGraph
    from symgraph.graph.rewriting.db import optimize_graph

    fg = FunctionGraph(op.inner_inputs, op.inner_outputs, clone=True)
    optimize_graph(fg, "fast_run")
    new = _with_body(op, fg.inputs, fg.outputs, inner_rewritten=True)
    op._rewritten = new
    return new


def _with_body(op, inner_inputs, inner_outputs, inner_rewritten=False):
    """A Scan with ``op``'s settings around another body."""
    return Scan(inner_inputs, inner_outputs, n_seqs=op.n_seqs, rec_taps=op.rec_taps,
                n_nit=op.n_nit, n_states=op.n_states, as_while=op.as_while,
                truncate_gradient=op.truncate_gradient, truncate_style=op.truncate_style,
                name=op.name, mode=op.mode, go_backwards=op.go_backwards,
                inner_rewritten=inner_rewritten)


def _small_constant(v):
    return (isinstance(v, Constant) and isinstance(v.type, TensorType)
            and np.size(v.data) <= INLINE_CONSTANT_SIZE)


def without_known_nonseqs(op, inputs):
    """(op, inputs) with the non-sequences the body can know by itself written into
    it: small constants, and lengths ``Shape_i(w)`` of another non-sequence w (the
    body then computes ``Shape_i`` of its own copy of w, so its shape inference
    sees that the length and w's rows agree; scan() hoists such lengths out of the
    body). The same pair when there are none (or a value does not fit its input)."""
    nonseq = op.outer_slices()[3]
    start = nonseq.start
    outer = list(inputs[nonseq])
    position = {v: j for j, v in enumerate(outer)}
    picks = {}
    for j, v in enumerate(outer):
        if _small_constant(v):
            picks[j] = ("constant", v.signature())
    for j, v in enumerate(outer):
        node = v.owner
        if j in picks or node is None or type(node.op) is not Shape_i:
            continue
        w = position.get(node.inputs[0])
        if w is not None and w not in picks:
            picks[j] = ("length", node.op.i, w)
    if not picks:
        return op, inputs
    key = tuple(sorted(picks.items()))
    cache = op.__dict__.setdefault("_inlined_nonseqs", {})
    new = cache.get(key)
    if new is None:
        inner = op.inner_nonseqs()
        replace = {}
        for j, how in picks.items():
            if how[0] == "constant":
                replace[inner[j]] = outer[j].clone()
            else:
                replace[inner[j]] = Shape_i(how[1])(inner[how[2]])
        try:
            outs = clone_replace(op.inner_outputs, replace)
        except TypeError:
            return op, inputs
        dropped = {inner[j] for j in picks}
        new = _with_body(op, [v for v in op.inner_inputs if v not in dropped], outs)
        cache[key] = new
    keep = [v for j, v in enumerate(outer) if j not in picks]
    return new, list(inputs[:start]) + keep


@register("fast_run", "scan", phase="fusion")
@node_rewriter([Scan])
def scan_inner_rewrite(fgraph, node):
    """Rewrite the loop body with the standard pipeline (speed of every step), after
    writing into it the non-sequences it can know by itself (without_known_nonseqs)."""
    if node.op.inner_rewritten:
        return None
    op, inputs = without_known_nonseqs(node.op, node.inputs)
    new = rewritten_op(op)
    outs = new.make_node(*inputs).outputs
    if any(not o.type.is_super(n.type) for o, n in zip(node.outputs, outs)):
        return None
    return outs


__all__ = ["scan_inner_rewrite", "rewritten_op", "without_known_nonseqs"]
