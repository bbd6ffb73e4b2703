"""Shape inference and the rewrites it allows.

``ShapeFeature`` is a FunctionGraph feature that knows the symbolic shape of each
tensor variable: a tuple of int64 0-d variables, one per dimension, built from
the ops' ``infer_shape`` (a constant where the length is static; ``Shape_i`` of
the variable itself where an op has no ``infer_shape`` or it fails). Shapes are
computed lazily, when a rewrite asks, and cached.

With it, ``x.shape`` and ``x.shape[i]`` need not compute ``x`` (``local_infer_shape``,
``local_infer_shape_i``), and allocs and reshapes that the inferred shapes prove
to be the identity go (``local_useless_alloc_inferred``,
``local_useless_reshape_inferred``). Nodes that were computed only for their
shape and so disappear are recorded in ``fgraph.shape_feature.removed`` (op, node
string, the user's line that built it), so a user can find out why a custom
Op's ``perform`` never ran.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from symgraph.graph.basic import Constant, Variable, clone_replace
from symgraph.graph.rewriting.basic import GraphRewriter, node_rewriter
from symgraph.graph.rewriting.db import register
from symgraph.tensor.basic import (
    NotScalarConstantError, as_tensor_variable, constant, get_scalar_constant_value,
)
from symgraph.tensor.creation import Alloc
from symgraph.tensor.elemwise import Elemwise
from symgraph.tensor.shape import Reshape, Shape, Shape_i, vector_elements
from symgraph.tensor.subtensor import Subtensor
from symgraph.tensor.type import INTEGER_DTYPES, TensorType


class RemovedNode(NamedTuple):
    """A node that shape inference made unnecessary: its outputs were used only
    through their shapes, which are now computed without it."""

    op: object
    node: str
    trace: tuple


def _int64(n):
    return constant(int(n), dtype="int64")


def _const_value(v):
    """The int value of a constant scalar expression, else None."""
    if isinstance(v, Constant):
        try:
            return int(np.asarray(v.data).reshape(()))
        except (TypeError, ValueError):
            return None
    try:
        return int(get_scalar_constant_value(v))
    except (NotScalarConstantError, TypeError, ValueError):
        return None


def equal_expressions(a, b, depth=10):
    """Whether the scalar expressions ``a`` and ``b`` certainly have the same value: the
    same variable, equal constants, or the same op applied to equal inputs."""
    if a is b:
        return True
    ca, cb = _const_value(a), _const_value(b)
    if ca is not None or cb is not None:
        return ca is not None and ca == cb
    if depth <= 0 or a.owner is None or b.owner is None:
        return False
    na, nb = a.owner, b.owner
    if a.index != b.index or na.op != nb.op or len(na.inputs) != len(nb.inputs):
        return False
    if getattr(na.op, "destroy_map", None):
        return False
    return all(equal_expressions(x, y, depth - 1) for x, y in zip(na.inputs, nb.inputs))


# =========================================================================== the feature

class ShapeFeature:
    """Symbolic shapes of the variables of a FunctionGraph (see the module doc).

    ``shape_tuple(v)`` is v's shape, ``get_shape(v, i)`` one length; both are int64
    0-d variables that may not be in the graph yet (a rewrite puts them there).
    ``removed`` lists the nodes pruned because their outputs were used only for
    their shapes.
    """

    def __init__(self):
        self.fgraph = None
        self.shape_of: dict = {}
        self._leaves: dict = {}
        self.replaced: dict = {}
        self.removed: list[RemovedNode] = []
        self._shape_only: set = set()

    # ------------------------------------------------------------ feature protocol
    def on_attach(self, fgraph):
        other = getattr(fgraph, "shape_feature", None)
        if other is not None and other is not self:
            raise ValueError("this FunctionGraph already has a ShapeFeature")
        self.fgraph = fgraph
        fgraph.shape_feature = self

    def on_detach(self, fgraph):
        if getattr(fgraph, "shape_feature", None) is self:
            del fgraph.shape_feature
        self.fgraph = None

    def on_import(self, fgraph, node, reason=None):
        # shapes are computed lazily, when a rewrite asks for them
        pass

    def on_change_input(self, fgraph, node, i, old, new, reason=None):
        self._shape_only.clear()
        if old is new:
            return
        self.replaced[old] = new
        if old in self.shape_of and isinstance(new.type, TensorType) and \
                isinstance(old.type, TensorType) and old.type.ndim == new.type.ndim:
            # keep the better of what is known for the old and the new variable
            try:
                old_shape = self.shape_of[old]
                new_shape = self.shape_tuple(new)
                self.shape_of[new] = tuple(self._better(a, b, old, new) for a, b in
                                           zip(old_shape, new_shape))
            except Exception:  # shape knowledge is optional: never break a replacement
                pass

    def on_prune(self, fgraph, node, reason=None):
        if isinstance(node.op, (Shape, Shape_i)):
            owner = node.inputs[0].owner
            if owner is not None:
                self._shape_only.add(owner)
        elif node in self._shape_only:
            self._shape_only.discard(node)
            self.removed.append(RemovedNode(node.op, str(node), getattr(node.tag, "trace", ())))

    def clone(self):
        new = ShapeFeature()
        new.removed = list(self.removed)
        return new

    def __getstate__(self):
        # the cached shapes are rebuilt on demand; keep what a user inspects
        return {"fgraph": self.fgraph, "removed": self.removed}

    def __setstate__(self, state):
        self.__init__()
        self.fgraph = state["fgraph"]
        self.removed = state["removed"]

    # ------------------------------------------------------------ queries
    def shape_tuple(self, var):
        """The shape of ``var`` (a tuple of int64 0-d variables), or None if not a tensor."""
        if not isinstance(var.type, TensorType):
            return None
        shp = self.shape_of.get(var)
        if shp is None:
            self._compute(var)
            shp = self.shape_of[var]
        fresh = tuple(self._fresh(e) for e in shp)
        if any(a is not b for a, b in zip(fresh, shp)):
            self.shape_of[var] = fresh
        return fresh

    def get_shape(self, var, i):
        """The length of dimension ``i`` of ``var`` (an int64 0-d variable)."""
        return self.shape_tuple(var)[i]

    def same_shape(self, x, y, dim_x=None, dim_y=None):
        """Whether ``x`` and ``y`` (or dimension ``dim_x`` of x and ``dim_y`` of y)
        certainly have the same length(s)."""
        sx, sy = self.shape_tuple(x), self.shape_tuple(y)
        if dim_x is not None:
            sx = (sx[dim_x],)
        if dim_y is not None:
            sy = (sy[dim_y],)
        return len(sx) == len(sy) and all(equal_expressions(a, b) for a, b in zip(sx, sy))

    def is_leaf_of(self, expr, var, d=None):
        """Whether ``expr`` is ``Shape_i(var)`` (of dimension ``d`` when given)."""
        node = expr.owner
        return node is not None and isinstance(node.op, Shape_i) and \
            node.inputs[0] is var and (d is None or node.op.i == d)

    # ------------------------------------------------------------ computing
    def _leaf(self, var, d):
        """``Shape_i(d)(var)``: one per (var, d), reusing a node already in the graph."""
        key = (var, d)
        out = self._leaves.get(key)
        if out is None:
            fg = self.fgraph
            if fg is not None:
                for client, _ in fg.clients.get(var, ()):
                    if client != "output" and isinstance(client.op, Shape_i) and \
                            client.op.i == d:
                        out = client.outputs[0]
                        break
            if out is None:
                out = Shape_i(d)(var)
            self._leaves[key] = out
        return out

    def _leaf_shape(self, var):
        return tuple(_int64(s) if s is not None else self._leaf(var, d)
                     for d, s in enumerate(var.type.shape))

    def _compute(self, var):
        """Fill ``shape_of`` for ``var`` and the ancestors it needs (iteratively)."""
        stack = [(var, False)]
        while stack:
            v, ready = stack.pop()
            if v in self.shape_of:
                continue
            node = v.owner
            if node is None or isinstance(v, Constant):
                self.shape_of[v] = self._leaf_shape(v)
                continue
            if ready:
                self._infer_node(node)
                continue
            stack.append((v, True))
            for i in node.inputs:
                if i not in self.shape_of and isinstance(i.type, TensorType):
                    stack.append((i, False))

    def _infer_node(self, node):
        in_shapes = [self.shape_of.get(i) if isinstance(i.type, TensorType) else None
                     for i in node.inputs]
        try:
            outs = node.op.infer_shape(self.fgraph, node, in_shapes)
            outs = list(outs)
            if len(outs) != len(node.outputs):
                raise ValueError("wrong number of shapes")
        except Exception:
            outs = [None] * len(node.outputs)
        for o, s in zip(node.outputs, outs):
            if isinstance(o.type, TensorType):
                self.shape_of[o] = self._normalize(o, s)

    def _normalize(self, var, shp):
        """``shp`` from an infer_shape as int64 0-d variables (static lengths win)."""
        try:
            shp = tuple(shp)
        except TypeError:
            shp = None
        if shp is None or len(shp) != var.ndim:
            return self._leaf_shape(var)
        out = []
        for d, (s, e) in enumerate(zip(var.type.shape, shp)):
            if s is not None:
                out.append(_int64(s))
                continue
            try:
                if isinstance(e, (int, np.integer)) and not isinstance(e, (bool, np.bool_)):
                    e = _int64(e)
                elif isinstance(e, Variable):
                    e = as_tensor_variable(e)
                    if e.ndim != 0 or e.dtype not in INTEGER_DTYPES:
                        raise TypeError
                    if e.dtype != "int64":
                        from symgraph.tensor.math import cast
                        e = cast(e, "int64")
                else:
                    raise TypeError
            except (TypeError, ValueError):
                e = self._leaf(var, d)
            out.append(e)
        return tuple(out)

    def _better(self, a, b, old, new):
        """Of two expressions for one length (``a`` known for ``old``, ``b`` for ``new``,
        which replaced it), the more useful: a constant, else one that needs neither."""
        if isinstance(b, Constant):
            return b
        if isinstance(a, Constant):
            return a
        if self.is_leaf_of(b, new) and not self.is_leaf_of(a, old):
            return a
        return b

    def _current(self, var):
        """What ``var`` was replaced by, following replacements, if it left the graph."""
        fg = self.fgraph
        seen = 0
        while var not in fg.variables and var in self.replaced and seen < 1000:
            var = self.replaced[var]
            seen += 1
        return var if var in fg.variables else None

    def _fresh(self, expr):
        """``expr`` with ``Shape_i`` of variables that have left the graph replaced by the
        shapes of their replacements, so that using it does not recompute them."""
        fg = self.fgraph
        if fg is None or expr.owner is None or expr in fg.variables:
            return expr
        stale = {}
        todo, seen = [expr], set()
        while todo:
            v = todo.pop()
            if v in seen or v.owner is None or v in fg.variables:
                continue
            seen.add(v)
            node = v.owner
            if isinstance(node.op, Shape_i) and node.inputs[0] not in fg.variables:
                cur = self._current(node.inputs[0])
                if cur is not None and isinstance(cur.type, TensorType) and \
                        cur.ndim == node.inputs[0].ndim:
                    stale[v] = self.get_shape(cur, node.op.i)
                continue
            todo.extend(node.inputs)
        if not stale:
            return expr
        return clone_replace(expr, stale)


def _depends_on(expr, var, fgraph):
    """Whether computing ``expr`` needs ``var`` (or another output of its node).

    Shape expressions are built from the shapes of the ancestors of ``var``, so the
    walk stops at the variables of the graph other than ``var`` and its siblings.
    """
    owner = var.owner
    todo, seen = [expr], set()
    while todo:
        v = todo.pop()
        if v is var or (owner is not None and v.owner is owner):
            return True
        if v in seen or v.owner is None or v in fgraph.variables:
            continue
        seen.add(v)
        todo.extend(v.owner.inputs)
    return False


def _only_shape_clients(fgraph, var):
    """Whether ``var``'s node is used only through shapes, so it goes once they are
    computed otherwise (a graph input or constant costs nothing to keep)."""
    node = var.owner
    if node is None:
        return False
    for o in node.outputs:
        for client, _ in fgraph.clients.get(o, ()):
            if client == "output" or not isinstance(client.op, (Shape, Shape_i)):
                return False
    return True


def _cheap(expr):
    """A constant, a graph variable or one Shape_i: replacing a Shape_i by it adds
    no node."""
    return expr.owner is None or isinstance(expr.owner.op, Shape_i)


# =========================================================================== rewrites

class AttachShapeFeature(GraphRewriter):
    """Attach a ShapeFeature as ``fgraph.shape_feature`` (changes nothing itself)."""

    def __init__(self, name="attach_shape_feature"):
        self.name = name

    def apply(self, fgraph, report) -> bool:
        if getattr(fgraph, "shape_feature", None) is None:
            fgraph.attach_feature(ShapeFeature())
        return False


attach_shape_feature = register("fast_run", "shape", phase="canonicalize")(
    AttachShapeFeature())


def _feature(fgraph):
    return getattr(fgraph, "shape_feature", None)


@register("fast_run", "shape", phase="canonicalize")
@node_rewriter([Shape_i])
def local_infer_shape_i(fgraph, node):
    """Shape_i(x) -> x's inferred length, so x need not be computed for it (speed)."""
    # An expression longer than one Shape_i is used only when x then goes.
    fe = _feature(fgraph)
    x = node.inputs[0]
    i = node.op.i
    if x.type.shape[i] is not None:
        return [_int64(x.type.shape[i])]
    if fe is None:
        return None
    new = fe.get_shape(x, i)
    if new is node.outputs[0] or fe.is_leaf_of(new, x, i):
        return None
    if isinstance(new, Constant):
        return [new]
    if _depends_on(new, x, fgraph):
        return None
    # a longer expression pays only when x itself then goes
    if not _cheap(new) and not _only_shape_clients(fgraph, x):
        return None
    return [new]


@register("fast_run", "shape", phase="canonicalize")
@node_rewriter([Shape])
def local_infer_shape(fgraph, node):
    """Shape(x) -> stacked inferred lengths when x then goes, so x need not be computed (speed)."""
    x = node.inputs[0]
    fe = _feature(fgraph)
    if all(s is not None for s in x.type.shape):
        return [constant(np.array(x.type.shape, dtype="int64").reshape(-1))]
    if fe is None:
        return None
    dims = fe.shape_tuple(x)
    if all(isinstance(d, Constant) for d in dims):
        return [constant(np.array([int(d.data) for d in dims], dtype="int64").reshape(-1))]
    if not _only_shape_clients(fgraph, x):
        return None  # x is computed anyway: one Shape beats a stack of lengths
    if any(_depends_on(d, x, fgraph) for d in dims if not isinstance(d, Constant)):
        return None
    from symgraph.tensor.join import stack
    return [stack(list(dims))]


@register("fast_run", "shape", phase="canonicalize")
@node_rewriter([Subtensor])
def local_shape_subtensor(fgraph, node):
    """Shape(x)[i] for a constant i -> x's inferred length i (simpler graph; x may go)."""
    v = node.inputs[0]
    if v.owner is None or not isinstance(v.owner.op, Shape) or len(node.inputs) != 1:
        return None
    idx = node.op.idx_list
    if len(idx) != 1 or not isinstance(idx[0], int):
        return None
    x = v.owner.inputs[0]
    i = idx[0]
    if not -x.ndim <= i < x.ndim:
        return None
    i %= x.ndim
    if x.type.shape[i] is not None:
        return [_int64(x.type.shape[i])]
    fe = _feature(fgraph)
    return [fe.get_shape(x, i) if fe is not None else Shape_i(i)(x)]


def _has_length(fe, v, d, target):
    """Whether dimension ``d`` of ``v`` certainly has the length ``target``."""
    return equal_expressions(fe.get_shape(v, d), target) or fe.is_leaf_of(target, v, d)


@register("fast_run", "shape", phase="canonicalize")
@node_rewriter([Alloc])
def local_useless_alloc_inferred(fgraph, node):
    """alloc(v, *shape) when v's inferred shape is the target -> v (no copy; simpler graph)."""
    fe = _feature(fgraph)
    if fe is None:
        return None
    v, dims = node.inputs[0], node.inputs[1:]
    out = node.outputs[0]
    if v.ndim != out.ndim:
        return None
    if not all(_has_length(fe, v, d, target) for d, target in enumerate(dims)):
        return None
    if v.type == out.type:
        return [v]
    from symgraph.tensor.shape import specify_shape
    res = specify_shape(v, out.type.shape) if v.type.is_super(out.type) else v
    return [res]


@register("fast_run", "shape", phase="canonicalize")
@node_rewriter([Elemwise])
def local_alloc_elemwise(fgraph, node):
    """elemwise(alloc(v, *shape), y) -> elemwise(v', y) when broadcasting v' (v with
    leading broadcast dimensions) against the other inputs gives the same shape: the
    other inputs fix every length v does not (speed: no filled temporary; gradients
    of broadcasting build many such allocs)."""
    fe = _feature(fgraph)
    if fe is None:
        return None
    out = node.outputs[0]
    n = out.ndim
    for k, a in enumerate(node.inputs):
        if a.owner is None or not isinstance(a.owner.op, Alloc) or a.ndim != n or n == 0:
            continue
        v, dims = a.owner.inputs[0], a.owner.inputs[1:]
        others = [b for j, b in enumerate(node.inputs) if j != k and b.ndim == n]
        pad = n - v.ndim
        # each length must stay the target: another input has it (an unequal length
        # of v then fails the elemwise's check as it failed the alloc's), or v has it
        # itself, unbroadcast
        if not all(any(fe.same_shape(b, a, d, d) for b in others) or
                   (d >= pad and v.type.shape[d - pad] != 1 and
                    _has_length(fe, v, d - pad, dims[d]))
                   for d in range(n)):
            continue
        vp = v.dimshuffle(["x"] * pad + list(range(v.ndim))) if pad else v
        new = node.op.make_node(*[vp if j == k else b for j, b in enumerate(node.inputs)])
        if any(o.type != no.type for o, no in zip(node.outputs, new.outputs)):
            continue
        return new.outputs
    return None


@register("fast_run", "shape", phase="canonicalize")
@node_rewriter([Reshape])
def local_useless_reshape_inferred(fgraph, node):
    """reshape(x, s) with s proven equal to x's shape (reshape(x, x.shape)) -> x (simpler graph)."""
    fe = _feature(fgraph)
    if fe is None:
        return None
    x, shp = node.inputs
    out = node.outputs[0]
    if x.ndim != node.op.ndim:
        return None
    entries = vector_elements(shp, node.op.ndim, build=False)
    xshape = fe.shape_tuple(x)
    for d, (e, s) in enumerate(zip(entries, xshape)):
        if e is None:
            return None
        if not (fe.is_leaf_of(e, x, d) or equal_expressions(e, s)):
            return None
    if x.type == out.type:
        return [x]
    from symgraph.tensor.shape import specify_shape
    res = specify_shape(x, out.type.shape) if x.type.is_super(out.type) else x
    return [res]


__all__ = [
    "ShapeFeature", "RemovedNode", "AttachShapeFeature", "attach_shape_feature",
    "equal_expressions", "local_infer_shape_i", "local_infer_shape", "local_shape_subtensor",
    "local_useless_alloc_inferred", "local_useless_reshape_inferred",
]
