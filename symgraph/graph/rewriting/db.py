"""The tagged rewrite database and the standard pipeline.

Rewrites register under a phase and any number of tags; a Mode's query
(``optimizer`` plus include/exclude tag lists) picks which run. Phases run in
this order, each to equilibrium:

    merge -> canonicalize -> stabilize -> specialize -> fusion -> merge

Every rewrite can also be excluded by its own name.
"""

from __future__ import annotations

from collections import Counter

from symgraph.graph.rewriting.basic import (
    EquilibriumGraphRewriter, GraphRewriter, NodeRewriter, SequenceGraphRewriter,
)

PHASES = ("merge", "canonicalize", "stabilize", "specialize", "fusion", "final_merge")


class _Entry:
    __slots__ = ("name", "rewriter", "phase", "tags", "order")

    def __init__(self, name, rewriter, phase, tags, order):
        self.name, self.rewriter, self.phase, self.tags, self.order = \
            name, rewriter, phase, frozenset(tags), order


class RewriteDatabase:
    """Registered rewrites: name -> (rewriter, phase, tags)."""

    def __init__(self):
        self._entries: dict[str, _Entry] = {}
        self._counter = 0

    def register(self, rewriter, *tags, phase="canonicalize", name=None):
        """Register a NodeRewriter or GraphRewriter under ``phase`` with ``tags``.

        Tags select rewrites in a query; 'fast_run' is implied unless the tags name
        an optimizer level themselves.
        """
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}; phases are {PHASES}")
        name = name or rewriter.name
        if name in self._entries:
            raise ValueError(f"a rewrite named {name!r} is already registered")
        rewriter.name = name
        tags = set(tags) | {phase, name}
        if not tags & {"fast_run", "fast_compile"}:
            tags.add("fast_run")
        self._counter += 1
        self._entries[name] = _Entry(name, rewriter, phase, tags, self._counter)
        return rewriter

    def __contains__(self, name):
        return name in self._entries

    def __getitem__(self, name):
        return self._entries[name].rewriter

    def names(self, phase=None):
        return [e.name for e in self._entries.values() if phase is None or e.phase == phase]

    def query(self, optimizer="fast_run", include=(), exclude=()):
        """The pipeline (a GraphRewriter) for this selection of tags."""
        selected = []
        want = {optimizer} | set(include)
        if optimizer == "fast_run":
            want.add("fast_compile")  # fast_run includes every fast_compile rewrite
        excluded = set(exclude)
        for e in sorted(self._entries.values(), key=lambda e: e.order):
            if e.tags & want and not e.tags & excluded:
                selected.append(e)
        phases = []
        for phase in PHASES:
            items = [e.rewriter for e in selected if e.phase == phase]
            if not items:
                continue
            node_rws = [r for r in items if isinstance(r, NodeRewriter)]
            global_rws = [r for r in items if isinstance(r, GraphRewriter)]
            phases.append(EquilibriumGraphRewriter(node_rws, global_rws, name=phase))
        return SequenceGraphRewriter(phases, name=f"{optimizer}")


rewrite_db = RewriteDatabase()


def register(*tags, phase="canonicalize", name=None):
    """Decorator form: ``@register("stabilize", phase="stabilize")`` above a rewriter."""
    def deco(rewriter):
        return rewrite_db.register(rewriter, *tags, phase=phase, name=name)
    return deco


def optimize_graph(fgraph, optimizer="fast_run", include=(), exclude=()):
    """Rewrite ``fgraph`` in place with the selected rewrites; return {name: times fired}."""
    _load_rewrites()
    pipeline = rewrite_db.query(optimizer, include, exclude)
    report: Counter = Counter()
    pipeline.apply(fgraph, report)
    return dict(report)


def _load_rewrites():
    """Import the modules that register rewrites (once)."""
    import symgraph.tensor.rewriting  # noqa: F401
