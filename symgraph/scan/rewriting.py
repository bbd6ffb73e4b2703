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
expressions, constants included, out of the body into non-sequences).
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Constant, clone_replace
from symgraph.graph.rewriting.basic import node_rewriter
from symgraph.graph.rewriting.db import register
from symgraph.scan.op import Scan
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
    new = Scan(fg.inputs, fg.outputs, n_seqs=op.n_seqs, rec_taps=op.rec_taps, n_nit=op.n_nit,
               n_states=op.n_states, as_while=op.as_while,
               truncate_gradient=op.truncate_gradient, truncate_style=op.truncate_style,
               name=op.name, mode=op.mode, go_backwards=op.go_backwards, inner_rewritten=True)
    op._rewritten = new
    return new


def _small_constant(v):
    return (isinstance(v, Constant) and isinstance(v.type, TensorType)
            and np.size(v.data) <= INLINE_CONSTANT_SIZE)


def without_constant_nonseqs(op, inputs):
    """(op, inputs) with the small constant non-sequences written into the body;
    the same pair when there are none (or a constant does not fit its inner input)."""
    nonseq = op.outer_slices()[3]
    start = nonseq.start
    outer = list(inputs[nonseq])
    picks = [j for j, v in enumerate(outer) if _small_constant(v)]
    if not picks:
        return op, inputs
    key = tuple((j, outer[j].signature()) for j in picks)
    cache = op.__dict__.setdefault("_inlined_constants", {})
    new = cache.get(key)
    if new is None:
        inner = op.inner_nonseqs()
        try:
            outs = clone_replace(op.inner_outputs, {inner[j]: outer[j].clone() for j in picks})
        except TypeError:
            return op, inputs
        dropped = {inner[j] for j in picks}
        new = Scan([v for v in op.inner_inputs if v not in dropped], outs,
                   n_seqs=op.n_seqs, rec_taps=op.rec_taps, n_nit=op.n_nit,
                   n_states=op.n_states, as_while=op.as_while,
                   truncate_gradient=op.truncate_gradient,
                   truncate_style=op.truncate_style, name=op.name, mode=op.mode,
                   go_backwards=op.go_backwards)
        cache[key] = new
    keep = [v for j, v in enumerate(outer) if j not in set(picks)]
    return new, list(inputs[:start]) + keep


@register("fast_run", "scan", phase="fusion")
@node_rewriter([Scan])
def scan_inner_rewrite(fgraph, node):
    """Rewrite the loop body with the standard pipeline (speed of every step), after
    writing small constant non-sequences into it."""
    if node.op.inner_rewritten:
        return None
    op, inputs = without_constant_nonseqs(node.op, node.inputs)
    new = rewritten_op(op)
    outs = new.make_node(*inputs).outputs
    if any(not o.type.is_super(n.type) for o, n in zip(node.outputs, outs)):
        return None
    return outs


__all__ = ["scan_inner_rewrite", "rewritten_op", "without_constant_nonseqs"]
