"""Graph rewriting: node and graph rewriters, walkers, equilibrium, the tagged database."""

from symgraph.graph.rewriting.basic import (  # noqa: F401
    EquilibriumGraphRewriter, GraphRewriter, NodeRewriter, RewriteError, SequenceGraphRewriter,
    WalkingGraphRewriter, apply_node_rewriter, is_op, node_rewriter,
)
from symgraph.graph.rewriting.db import optimize_graph, register, rewrite_db  # noqa: F401
