"""Elementwise fusion: groups of Elemwise nodes become one Elemwise over a Composite.

A chain or tree of Elemwise nodes (broadcasting included) computes, element by
element, one scalar expression of its leaves. The rewrite ``elemwise_fusion``
(phase ``fusion``) replaces such a group by a single ``Elemwise(Composite)``
node, so a compiling backend emits one loop and makes no temporary arrays; the
Python interpreter evaluates the Composite with NumPy one inner op at a time.

How a group is formed (``FusionRewriter``):

- Nodes are visited from the outputs back to the inputs; each unfused Elemwise
  starts a group as its *root*, which then grows upwards through its inputs.
- An input produced by another Elemwise (single output, not in place) is
  absorbed when every client of it is already in the group. This is repeated
  until nothing more can be absorbed, so diamonds (``t = x*y; exp(t) + t``)
  end up inside, with ``t`` computed once.
- A producer that also has clients outside the group is absorbed as an *extra
  output* of a multi-output Composite, when its static shape equals the root's
  (so the fused node computes it at its own shape) and fusing it creates no
  cycle (no leaf of the group may depend on a node of the group: free when the
  producer's other clients come after the root in topological order, else
  checked by a walk up from the leaves). Otherwise it stays outside and its
  result is an input of the group. This is the choice
  between keeping such a value as an input or as an extra output: we take the
  extra output when it is safe, because a value with two users is then computed
  in the same loop as its users instead of in a loop of its own.
- Never across anything that is not an Elemwise: a DimShuffle adding
  broadcastable dimensions, a reduction, a dot... stays outside and its result
  is an input (a *leaf*). Every leaf has the output's number of dimensions, as
  Elemwise pads its inputs.
- A node whose inputs are all constants is not absorbed (constant folding owns
  it), so every result inside depends on at least one array input and comes out
  at the fused node's full shape.
- Leaves are deduplicated (a variable used twice is one input) and constants of
  size 1 go inside the Composite as scalar constants. Nested Composites (from an
  earlier pass) are inlined, so equal expressions give equal Composites and
  merging and kernel caches can share them.
- A group holds at most ``max_inputs`` (32) leaves; only groups of two or more
  Elemwise nodes are fused; the fused outputs' types (dtype and static shape)
  must equal the originals', or the group is left alone.

Groups grow upwards only: two consumers of one shared value are not merged into
one node (siblings); the shared value rides along as an extra output of one of
them. A fused Elemwise is a compile-time form: it has no gradient of its own
(differentiate the graph before compiling it, as function() does).

A CAReduce (sum, max...) whose input is an output of an Elemwise (fused or not)
is left to the backend: the numba linker computes a reduction that keeps the last
axis in the Elemwise's loop as the elements come (backends/numba/linker.py,
FOLD_REDUCTIONS), and does not store the output where the reduction is its only
reader. The groups built here keep that possible: the reduction's input is an
output of one Elemwise(Composite) node, whose clients a backend can inspect.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Constant, io_toposort
from symgraph.graph.fg import OUTPUT
from symgraph.graph.rewriting.basic import GraphRewriter, _on_error
from symgraph.graph.rewriting.db import rewrite_db
from symgraph.scalar.basic import ScalarConstant, ScalarType
from symgraph.scalar.composite import Composite
from symgraph.tensor.elemwise import Elemwise

#: the most leaves (inputs) one fused Composite may take
MAX_FUSION_INPUTS = 32


def _fusable(node) -> bool:
    """An Elemwise with one output, not in place (it can sit inside a Composite)."""
    op = node.op
    return type(op) is Elemwise and not op.inplace_pattern and len(node.outputs) == 1


def _is_inner_constant(v) -> bool:
    """A constant of size 1: it goes inside the Composite as a scalar constant."""
    return isinstance(v, Constant) and np.size(v.data) == 1


def _has_variable_input(node) -> bool:
    return any(not isinstance(i, Constant) for i in node.inputs)


class _Group:
    """The nodes being fused: the root, the others, the ones with outside clients, and
    the leaves (kept up to date as nodes join, in a stable order)."""

    def __init__(self, root):
        self.root = root
        self.members = {root}
        self.extras = []  # members other than the root whose output is used outside
        # True once an extra output has a client placed before the root: from then on
        # every new leaf must be checked for depending on a member (a cycle)
        self.checked = False
        self._leaves = dict.fromkeys(self.new_leaves(root))

    def add(self, node, extra=False, checked=False):
        self.members.add(node)
        if extra:
            self.extras.append(node)
        self.checked |= checked
        del self._leaves[node.outputs[0]]
        for i in self.new_leaves(node):
            self._leaves.setdefault(i)

    def leaves(self, extra=None):
        """The group's inputs (with ``extra`` absorbed): in order, each once."""
        if extra is None:
            return list(self._leaves)
        out = [v for v in self._leaves if v is not extra.outputs[0]]
        return out + [i for i in dict.fromkeys(self.new_leaves(extra)) if i not in self._leaves]

    def new_leaves(self, node):
        """Inputs of ``node`` that would be leaves if it were in the group."""
        return [i for i in node.inputs
                if i.owner not in self.members and not _is_inner_constant(i)]


class FusionRewriter(GraphRewriter):
    """Fuse groups of Elemwise nodes into one Elemwise(Composite) (see the module doc)."""

    def __init__(self, max_inputs=MAX_FUSION_INPUTS, multi_output=True):
        if max_inputs < 2:
            raise ValueError(f"max_inputs must be at least 2, got {max_inputs}")
        self.max_inputs = max_inputs
        self.multi_output = multi_output
        self.name = "elemwise_fusion"

    # ----------------------------------------------------------------- driver
    def apply(self, fgraph, report) -> bool:
        order = fgraph.toposort()
        self._pos = {n: k for k, n in enumerate(order)}
        self._stale = False
        fused = 0
        for node in reversed(order):
            if node not in fgraph.apply_nodes or not _fusable(node) \
                    or not _has_variable_input(node):
                continue
            group = self._grow(fgraph, node)
            if len(group.members) < 2:
                continue
            try:
                done = self._fuse(fgraph, group)
            except Exception as e:  # a bug here must not break compilation
                _on_error(self, node, e)
                continue
            if done:
                fused += 1
        if fused:
            report[self.name] += fused
        return bool(fused)

    # ----------------------------------------------------------------- growing
    def _clients_inside(self, fgraph, node, members) -> bool:
        return all(c is not OUTPUT and c in members for c, _ in fgraph.clients[node.outputs[0]])

    def _grow(self, fgraph, root) -> _Group:
        group = _Group(root)
        shape = root.outputs[0].type.shape
        while True:
            self._absorb_single_client_producers(fgraph, group)
            if not self.multi_output or not self._absorb_one_shared_producer(fgraph, group,
                                                                              shape):
                return group

    def _candidates(self, group):
        """Producers of the group's leaves that could join it, in a stable order."""
        out = []
        for v in group.leaves():
            p = v.owner
            if p is not None and p not in out and _fusable(p) and _has_variable_input(p):
                out.append(p)
        return out

    def _fits(self, group, p) -> bool:
        return len(group.leaves(p)) <= self.max_inputs

    def _absorb_single_client_producers(self, fgraph, group):
        progress = True
        while progress:
            progress = False
            for p in self._candidates(group):
                if not self._clients_inside(fgraph, p, group.members) or not self._fits(group, p):
                    continue
                # a new leaf could depend on a member through an extra output's client
                if group.checked and self._reaches(fgraph, group.new_leaves(p),
                                                   group.members | {p}):
                    continue
                group.add(p)
                progress = True

    def _absorb_one_shared_producer(self, fgraph, group, shape) -> bool:
        for p in self._candidates(group):
            if p.outputs[0].type.shape != shape or not self._fits(group, p):
                continue
            # p's outside clients must not feed the group: no leaf may depend on a member.
            # Clients after the root in topological order cannot (every leaf comes before
            # the root); for others, look.
            pos = self._positions(fgraph)
            last = pos[group.root]
            if all(c is OUTPUT or c in group.members or pos.get(c, -1) > last
                   for c, _ in fgraph.clients[p.outputs[0]]):
                group.add(p, extra=True)
                return True
            if not self._reaches(fgraph, group.leaves(p), group.members | {p}):
                group.add(p, extra=True, checked=True)
                return True
        return False

    def _positions(self, fgraph):
        """Each node's place in a topological order of the current graph."""
        if self._stale:
            self._pos = {n: k for k, n in enumerate(fgraph.toposort())}
            self._stale = False
        return self._pos

    def _reaches(self, fgraph, variables, members) -> bool:
        """Does any of ``variables`` depend on a node in ``members``?"""
        pos = self._positions(fgraph)
        lowest = min(pos.get(n, -1) for n in members)
        stack = [v.owner for v in variables if v.owner is not None]
        seen = set()
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            if n in members:
                return True
            p = pos.get(n)
            if p is not None and p < lowest:
                continue  # before every member in topological order: cannot depend on one
            stack.extend(i.owner for i in n.inputs if i.owner is not None)
        return False

    # ----------------------------------------------------------------- fusing
    def _fuse(self, fgraph, group) -> bool:
        root = group.root
        leaves = group.leaves()
        inner_order = io_toposort(leaves, [root.outputs[0]])
        if set(inner_order) != group.members:  # pragma: no cover - growth guarantees it
            raise AssertionError("fusion group is not the graph between its leaves and root")
        rank = {n: k for k, n in enumerate(inner_order)}
        outs = [root.outputs[0]] + [p.outputs[0] for p in sorted(group.extras, key=rank.get)]

        smap = {}
        s_inputs, tensor_inputs = [], []
        for n in inner_order:
            args = []
            for i in n.inputs:
                s = smap.get(i)
                if s is None:
                    if _is_inner_constant(i):
                        s = ScalarConstant(ScalarType(i.type.dtype),
                                           np.asarray(i.data).reshape(()))
                    else:
                        s = ScalarType(i.type.dtype)()
                        s_inputs.append(s)
                        tensor_inputs.append(i)
                    smap[i] = s
                args.append(s)
            sop = n.op.scalar_op
            if isinstance(sop, Composite):
                (res,) = _inline(sop, args)
            else:
                (res,) = sop.make_node(*args).outputs
            if res.type.dtype != n.outputs[0].type.dtype:  # pragma: no cover - same rules
                raise TypeError(f"the scalar graph of {n} computes {res.type.dtype}, "
                                f"not {n.outputs[0].type.dtype}")
            smap[n.outputs[0]] = res

        comp = Composite(s_inputs, [smap[o] for o in outs])
        new_node = Elemwise(comp).make_node(*tensor_inputs)
        new_node.tag.trace = _merged_trace(inner_order)
        for old, new in zip(outs, new_node.outputs):
            if old.type != new.type:
                return False  # keep the graph as it is rather than lose static information
        for old, new in zip(outs, new_node.outputs):
            if new.name is None:
                new.name = old.name
            fgraph.replace(old, new, reason=self.name)
        if group.checked:
            # an extra output has clients placed before the root: renumber when next needed
            self._stale = True
        elif not self._stale:
            # every client of the new node comes after the root: its place is valid
            self._pos[new_node] = self._pos[root]
        return True


def _merged_trace(nodes, limit=16):
    """The user lines that built any of ``nodes`` (each once, in graph order), so an
    error in the fused node points at every line it came from."""
    out = []
    for n in nodes:
        for frame in getattr(n.tag, "trace", ()) or ():
            if frame not in out:
                out.append(frame)
    return tuple(out[:limit])


def _inline(comp, args):
    """The outputs of Composite ``comp`` rebuilt on scalar variables ``args``."""
    env = dict(zip(comp.inputs, args))
    for node in comp.nodes:
        new = node.op.make_node(*[env.get(i, i) for i in node.inputs])
        env.update(zip(node.outputs, new.outputs))
    return [env.get(o, o) for o in comp.outputs]


elemwise_fusion = FusionRewriter()
rewrite_db.register(elemwise_fusion, "fast_run", "fusion", phase="fusion", name="elemwise_fusion")

__all__ = ["FusionRewriter", "elemwise_fusion", "MAX_FUSION_INPUTS"]
