"""Rewrites of Scan nodes: the inner graph gets the standard pipeline too.

When an outer function is compiled, each Scan's inner graph is rewritten with the
default ("fast_run") pipeline -- merge, canonicalize, stabilize, specialize,
fusion -- so the loop body runs as fast as straight-line code would. Nested
scans are reached by the same rewrite running on the inner graph. The rewritten
op is cached on the original, so compiling the same loop again costs nothing.
(The outer mode's include/exclude tags are not passed down; a mode without
rewrites, optimizer=None, leaves the inner graph alone too.)
"""

from __future__ import annotations

from symgraph.graph.rewriting.basic import node_rewriter
from symgraph.graph.rewriting.db import register
from symgraph.scan.op import Scan


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


@register("fast_run", "scan", phase="fusion")
@node_rewriter([Scan])
def scan_inner_rewrite(fgraph, node):
    """Rewrite the loop body with the standard pipeline (speed of every step)."""
    if node.op.inner_rewritten:
        return None
    new = rewritten_op(node.op)
    outs = new.make_node(*node.inputs).outputs
    if any(not o.type.is_super(n.type) for o, n in zip(node.outputs, outs)):
        return None
    return outs


__all__ = ["scan_inner_rewrite", "rewritten_op"]
