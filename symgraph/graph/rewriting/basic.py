"""Rewriters: local (one node at a time) and global (a whole FunctionGraph).

A NodeRewriter says which ops it tracks and, given a node, returns replacements
for the node's outputs (a list, or a {old: new} dict) or None/False when it does
not apply. Walkers visit nodes in order and apply node rewriters; an equilibrium
rewriter repeats until nothing changes. Every replacement goes through
``FunctionGraph.replace``, which checks that types agree, and is counted under
the rewriter's name so a compiled function can report what fired.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter

from symgraph import config


class RewriteError(Exception):
    """A rewrite produced something invalid (and on_opt_error='raise')."""


class NodeRewriter:
    """Rewrites one node. Subclasses set ``tracks`` (Op classes or instances, or None
    for every node) and define ``transform(fgraph, node)``."""

    tracks = None
    name = None

    def transform(self, fgraph, node):
        raise NotImplementedError

    def applies_to(self, op) -> bool:
        tracks = self.tracks
        if tracks is None:
            return True
        for t in tracks:
            if isinstance(t, type):
                if isinstance(op, t):
                    return True
            elif op == t:
                return True
        return False

    def __repr__(self):
        return f"<NodeRewriter {self.name}>"


class FunctionNodeRewriter(NodeRewriter):
    def __init__(self, fn, tracks, name=None):
        self.fn = fn
        self.tracks = None if tracks is None else tuple(tracks)
        self.name = name or fn.__name__
        self.__doc__ = fn.__doc__

    def transform(self, fgraph, node):
        return self.fn(fgraph, node)


def node_rewriter(tracks, name=None):
    """Decorator: ``@node_rewriter([Elemwise])`` turns ``fn(fgraph, node)`` into a NodeRewriter."""
    def deco(fn):
        return FunctionNodeRewriter(fn, tracks, name)
    return deco


class GraphRewriter:
    """Rewrites a whole FunctionGraph; ``apply(fgraph, report)`` returns True if it changed it."""

    name = None

    def apply(self, fgraph, report: Counter) -> bool:
        raise NotImplementedError

    def rewrite(self, fgraph):
        """Apply to ``fgraph`` and return the {rewrite: count} report."""
        report: Counter = Counter()
        self.apply(fgraph, report)
        return dict(report)


def _replacement_pairs(node, result):
    if isinstance(result, dict):
        return list(result.items())
    result = list(result)
    if len(result) != len(node.outputs):
        raise RewriteError(f"a rewrite of {node.op} returned {len(result)} outputs for "
                           f"{len(node.outputs)}")
    return [(o, n) for o, n in zip(node.outputs, result) if n is not None and n is not o]


def apply_node_rewriter(rewriter, fgraph, node, report) -> bool:
    """Try one rewriter on one node; on success replace and count it."""
    try:
        result = rewriter.transform(fgraph, node)
    except Exception as e:  # a buggy rewrite must not break compilation
        return _on_error(rewriter, node, e)
    if not result:
        return False
    try:
        pairs = _replacement_pairs(node, result)
        if not pairs:
            return False
        for old, new in pairs:
            if old in fgraph.variables:
                fgraph.replace(old, new, reason=rewriter.name)
    except Exception as e:
        return _on_error(rewriter, node, e)
    report[rewriter.name] += 1
    return True


def _on_error(rewriter, node, exc):
    mode = config.on_opt_error
    msg = f"rewrite {rewriter.name} failed on {node}: {type(exc).__name__}: {exc}"
    if mode == "raise":
        raise RewriteError(msg) from exc
    if mode == "warn":
        warnings.warn(msg + " (skipped; set config.on_opt_error='raise' to debug)", stacklevel=3)
    return False


class WalkingGraphRewriter(GraphRewriter):
    """Apply node rewriters to every node once, in topological order or its reverse."""

    def __init__(self, rewriters, order="in_to_out", name=None):
        if order not in ("in_to_out", "out_to_in"):
            raise ValueError(f"order must be 'in_to_out' or 'out_to_in', got {order!r}")
        self.rewriters = list(rewriters)
        self.order = order
        self.name = name or f"walk({', '.join(r.name for r in self.rewriters)})"

    def apply(self, fgraph, report) -> bool:
        nodes = fgraph.toposort()
        if self.order == "out_to_in":
            nodes.reverse()
        changed = False
        # rewriters that track op classes can be looked up once per class
        class_only = all(r.tracks is None or all(isinstance(t, type) for t in r.tracks)
                         for r in self.rewriters)
        cache: dict = {}
        for node in nodes:
            if node not in fgraph.apply_nodes:
                continue  # pruned by an earlier replacement
            rws = cache.get(type(node.op)) if class_only else None
            if rws is None:
                rws = [r for r in self.rewriters if r.applies_to(node.op)]
                if class_only:
                    cache[type(node.op)] = rws
            for r in rws:
                if apply_node_rewriter(r, fgraph, node, report):
                    changed = True
                    break
        return changed


class EquilibriumGraphRewriter(GraphRewriter):
    """Walk repeatedly (and run global rewriters) until nothing changes, or ``max_passes``."""

    def __init__(self, rewriters, global_rewriters=(), max_passes=50, order="in_to_out",
                 name=None):
        self.walker = WalkingGraphRewriter(rewriters, order)
        self.global_rewriters = list(global_rewriters)
        self.max_passes = max_passes
        self.name = name or "equilibrium"

    def apply(self, fgraph, report) -> bool:
        changed_any = False
        for _ in range(self.max_passes):
            changed = False
            for g in self.global_rewriters:
                changed |= bool(g.apply(fgraph, report))
            changed |= self.walker.apply(fgraph, report)
            changed_any |= changed
            if not changed:
                return changed_any
        warnings.warn(f"{self.name}: no equilibrium after {self.max_passes} passes", stacklevel=2)
        return changed_any


class SequenceGraphRewriter(GraphRewriter):
    """Run several graph rewriters one after the other, timing each."""

    def __init__(self, rewriters, name=None):
        self.rewriters = list(rewriters)
        self.name = name or "sequence"
        self.times: dict = {}

    def apply(self, fgraph, report) -> bool:
        changed = False
        for r in self.rewriters:
            t0 = time.perf_counter()
            changed |= bool(r.apply(fgraph, report))
            self.times[r.name] = time.perf_counter() - t0
        return changed


def is_op(node, op_class) -> bool:
    """``node``'s op is an instance of ``op_class`` (None-safe)."""
    return node is not None and isinstance(node.op, op_class)


__all__ = [
    "NodeRewriter", "GraphRewriter", "WalkingGraphRewriter", "EquilibriumGraphRewriter",
    "SequenceGraphRewriter", "node_rewriter", "apply_node_rewriter", "RewriteError", "is_op",
]
