"""A graph computed for a whole batch of values of some of its inputs at once.

``vectorize_graph(outputs, {x: xs})`` gives the outputs for every row of ``xs`` (a
leading batch axis added to ``x``) stacked along a new leading axis: the graph that a
loop ``[outputs(x=xs[b]) for b in range(len(xs))]`` would compute, built from
whole-batch ops (JAX's vmap). jacobian() uses it: row i of a Jacobian is the gradient
of ``expression[i]``, a graph of the row number i; vectorised over i = 0..n-1 it
computes every row with one matrix product where the loop made n matrix-vector ones.

Each variable of the rebuilt graph is batched (a leading axis of the batch's length)
or not (one value for every row). A node whose inputs do not depend on the batched
variables is kept as it is, shared by every row; every other node goes through the
batching rule of its op (below, one per op class, matched exactly: a subclass may
mean something else), which builds its outputs from the rebuilt inputs. An op
without a rule, or a case a rule does not cover, raises NotVectorizable; the caller
then falls back to a loop. Results keep the static shapes of the per-row graph.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Constant, Variable, io_toposort
from symgraph.tensor.basic import as_tensor_variable, constant
from symgraph.tensor.creation import Alloc, alloc, arange
from symgraph.tensor.dot import Dot, MatMul, matmul
from symgraph.tensor.elemwise import DimShuffle, Elemwise, dimshuffle
from symgraph.tensor.indexing import ARRAY, SCALAR, SliceIdx
from symgraph.tensor.join import Join
from symgraph.tensor.reduction import CAReduce
from symgraph.tensor.reduction import sum as sum_
from symgraph.tensor.shape import (
    Reshape, Shape, Shape_i, SpecifyShape, reshape, shape, shape_i, specify_shape,
)
from symgraph.tensor.subtensor import (
    AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor, Subtensor, SumToShape,
)
from symgraph.tensor.type import TensorType

__all__ = ["vectorize_graph", "NotVectorizable"]

_FULL = SliceIdx(None, None, None)


class NotVectorizable(Exception):
    """Some node on the way has no batching rule (or one that does not cover it)."""


# --------------------------------------------------------------------------- the walk

def vectorize_graph(outputs, replace):
    """The ``outputs`` (a variable or a list) for every row of the batched values in
    ``replace`` ({variable: the values, with a leading batch axis}), each with a new
    leading batch axis; an output that does not depend on the replaced variables is
    repeated along it. Every value in ``replace`` has the batch's length in front (the
    first one's is used; the ops combining them check it at run time). Raises
    NotVectorizable where some op has no batching rule.
    """
    single = isinstance(outputs, Variable)
    outs = [outputs] if single else list(outputs)
    if not replace:
        raise ValueError("vectorize_graph: nothing to vectorise over (replace is empty)")
    batched, plain = {}, {}
    for v, vs in replace.items():
        vs = as_tensor_variable(vs)
        if not isinstance(v.type, TensorType) or vs.ndim != v.ndim + 1 or vs.dtype != v.dtype:
            raise TypeError(f"vectorize_graph: {vs} ({vs.type}) is not a batch of {v} "
                            f"({v.type}): it needs one more (leading) dimension and the same "
                            "dtype")
        batched[v] = vs
    first = next(iter(batched.values()))
    size = shape_i(first, 0)
    for node in io_toposort(list(replace), outs):
        flags = [i in batched for i in node.inputs]
        if not any(flags) and not any(i in plain for i in node.inputs):
            continue
        ins = [batched.get(i, plain.get(i, i)) for i in node.inputs]
        if not any(flags):  # an input was rebuilt, unbatched: the same op on it
            for o, n in zip(node.outputs, node.op.make_node(*ins).outputs):
                plain[o] = _keep_static(n, o, None) if isinstance(o.type, TensorType) else n
            continue
        rule = _RULES.get(type(node.op))
        if rule is None or not all(isinstance(o.type, TensorType) for o in node.outputs):
            raise NotVectorizable(f"no batching rule for {node.op} ({type(node.op).__name__})")
        try:
            new = rule(node, ins, flags, size)
        except (TypeError, ValueError) as e:  # a case the rule's ops refuse: loop instead
            raise NotVectorizable(f"{node.op} cannot be batched here: {e}") from e
        for o, (n, is_batched) in zip(node.outputs, new):
            if is_batched:
                batched[o] = _keep_static(n, o, size)
            else:
                plain[o] = _keep_static(n, o, None)
    res = [batched[o] if o in batched else _repeat(plain.get(o, o), size) for o in outs]
    return res[0] if single else res


def _keep_static(new, old, size):
    """``new`` with the static shape of ``old`` (behind the batch axis when ``size`` is
    given): the per-row graph's static lengths decide broadcasting downstream."""
    if new.dtype != old.dtype or new.ndim != old.ndim + (size is not None):
        raise NotVectorizable(f"a batching rule gave {new.type} for {old.type}")
    lead = () if size is None else (_static_int(size),)
    want = lead + tuple(old.type.shape)
    merged = tuple(n if w is None else w for n, w in zip(new.type.shape, want))
    return new if merged == tuple(new.type.shape) else specify_shape(new, merged)


def _static_int(v):
    return int(v.data) if isinstance(v, Constant) else None


# --------------------------------------------------------------------------- helpers

def _repeat(v, size):
    """The unbatched ``v`` for every row: a new array with a leading axis of ``size``."""
    if v.owner is not None and type(v.owner.op) is Alloc:  # fill it at that size directly
        return alloc(v.owner.inputs[0], size, *v.owner.inputs[1:])
    return alloc(v, size, *[shape_i(v, d) for d in range(v.ndim)])


def _align(vb, ndim):
    """The batched ``vb`` with broadcastable axes after the batch axis, up to ``ndim``
    axes: how an unbatched value of lower rank broadcasts (aligned on the right)."""
    pad = ndim - vb.ndim
    if pad <= 0:
        return vb
    return dimshuffle(vb, (0,) + ("x",) * pad + tuple(range(1, vb.ndim)))


def _with_size(size, vector):
    """The int64 vector ``[size, *vector]``: a constant when both are."""
    from symgraph.tensor.join import concatenate
    if isinstance(size, Constant) and isinstance(vector, Constant):
        return constant(np.concatenate([[int(size.data)], np.asarray(vector.data)])
                        .astype("int64"))
    return concatenate([dimshuffle(size, ("x",)), vector])


def _batched_inputs(ins, flags, size):
    """Every input batched (the unbatched ones repeated)."""
    return [v if f else _repeat(v, size) for v, f in zip(ins, flags)]


# --------------------------------------------------------------------------- rules
# rule(node, inputs, flags, size) -> [(output, batched?) for each output of node]:
# ``inputs`` are the rebuilt inputs, ``flags[k]`` says whether input k is batched,
# ``size`` is the batch length (an int64 scalar, constant when static).

_RULES: dict = {}


def _rule(*op_classes):
    def register(fn):
        for cls in op_classes:
            _RULES[cls] = fn
        return fn
    return register


@_rule(Elemwise)
def _elemwise(node, ins, flags, size):
    # make_node pads the unbatched (lower-rank) inputs with a leading broadcastable axis
    op = node.op if not node.op.inplace_pattern else Elemwise(node.op.scalar_op)
    return [(o, True) for o in op.make_node(*ins).outputs]


@_rule(DimShuffle)
def _dimshuffle(node, ins, flags, size):
    order = (0,) + tuple("x" if o == "x" else o + 1 for o in node.op.new_order)
    return [(DimShuffle(node.op.input_ndim + 1, order)(ins[0]), True)]


@_rule(CAReduce)
def _careduce(node, ins, flags, size):
    op = node.op
    ndim = node.inputs[0].ndim
    axes = tuple(range(1, ndim + 1)) if op.axis is None else tuple(a + 1 for a in op.axis)
    new = CAReduce(op.scalar_op, axis=axes, dtype=op.dtype, acc_dtype=op.acc_dtype)
    return [(new(ins[0]), True)]


@_rule(SpecifyShape)
def _specify_shape(node, ins, flags, size):
    return [(SpecifyShape((_static_int(size),) + node.op.shape)(ins[0]), True)]


@_rule(Shape)
def _shape(node, ins, flags, size):
    return [(shape(ins[0])[1:], False)]


@_rule(Shape_i)
def _shape_i(node, ins, flags, size):
    return [(Shape_i(node.op.i + 1)(ins[0]), False)]


@_rule(Reshape)
def _reshape(node, ins, flags, size):
    if flags[1]:
        raise NotVectorizable("Reshape to a shape that differs between rows")
    return [(Reshape(node.op.ndim + 1)(ins[0], _with_size(size, ins[1])), True)]


@_rule(Alloc)
def _alloc(node, ins, flags, size):
    if any(flags[1:]):
        raise NotVectorizable("Alloc of a shape that differs between rows")
    dims = ins[1:]
    return [(alloc(_align(ins[0], len(dims) + 1), size, *dims), True)]


@_rule(Join)
def _join(node, ins, flags, size):
    axis = node.op.axis % node.inputs[0].ndim
    return [(Join(axis + 1)(*_batched_inputs(ins, flags, size)), True)]


@_rule(SumToShape)
def _sum_to_shape(node, ins, flags, size):
    if any(flags[1:]):
        raise NotVectorizable("SumToShape to a shape that differs between rows")
    g, dims = ins[0], ins[1:]
    extra = node.inputs[0].ndim - len(dims)
    if extra:  # the leading axes a row sums over come after the batch axis here
        g = sum_(g, axis=tuple(range(1, 1 + extra)))
    return [(SumToShape()(g, size, *dims), True)]


# ------------------------------------------------------------------ products

@_rule(Dot)
def _dot(node, ins, flags, size):
    """np.dot of vectors and matrices, one operand or both batched: a single product
    of the batch folded into the rows or columns where one operand is shared."""
    a, b = ins
    ra, rb = node.inputs[0].ndim, node.inputs[1].ndim
    dot = Dot()
    if flags[0] and flags[1]:
        a3 = a if ra == 2 else dimshuffle(a, (0, "x", 1))
        b3 = b if rb == 2 else dimshuffle(b, (0, 1, "x"))
        keep = (0,) + ((1,) if ra == 2 else ()) + ((2,) if rb == 2 else ())
        return [(dimshuffle(matmul(a3, b3), keep), True)]
    if flags[0]:  # a: (B, k) or (B, n, k); b shared
        if ra == 1:
            return [(dot(a, b), True)]
        n, k = shape_i(a, 1), shape_i(a, 2)
        flat = dot(reshape(a, (size * n, k)), b)
        out = (size, n) if rb == 1 else (size, n, shape_i(b, 1))
        return [(reshape(flat, out), True)]
    # b: (B, k) or (B, k, m); a shared
    if rb == 1:
        return [(dot(b, a if ra == 1 else dimshuffle(a, (1, 0))), True)]
    k, m = shape_i(b, 1), shape_i(b, 2)
    cols = reshape(dimshuffle(b, (1, 0, 2)), (k, size * m))  # column (b, j) at b * m + j
    flat = dot(a, cols)
    if ra == 1:
        return [(reshape(flat, (size, m)), True)]
    return [(dimshuffle(reshape(flat, (shape_i(a, 0), size, m)), (1, 0, 2)), True)]


@_rule(MatMul)
def _matmul(node, ins, flags, size):
    """np.matmul: vectors promoted to matrices (a row first, a column second), the
    batch axis put in front of both operands' batch axes (a broadcastable one for the
    shared operand), the axes added for vectors dropped from the result."""
    ta, tb = node.inputs
    nb = max(ta.ndim, tb.ndim, 2) - 2
    a = _stack_operand(ins[0], flags[0], ta.ndim, ("x", 0), nb)
    b = _stack_operand(ins[1], flags[1], tb.ndim, (0, "x"), nb)
    out = matmul(a, b)
    drop = ([out.ndim - 2] if ta.ndim == 1 else []) + ([out.ndim - 1] if tb.ndim == 1 else [])
    if drop:
        out = dimshuffle(out, tuple(d for d in range(out.ndim) if d not in drop))
    return [(out, True)]


def _stack_operand(v, batched, rank, vector_order, nb):
    """A matmul operand as (batch, nb batch axes, rows, columns): a vector promoted by
    ``vector_order``, missing batch axes broadcastable."""
    lead = 1 if batched else 0
    if rank == 1:
        v = dimshuffle(v, tuple(range(lead)) +
                       tuple(d if d == "x" else d + lead for d in vector_order))
    core = v.ndim - lead  # its own batch axes and the two matrix axes
    order = (0,) if batched else ("x",)
    order += ("x",) * (nb + 2 - core) + tuple(range(lead, v.ndim))
    return v if order == tuple(range(v.ndim)) else dimshuffle(v, order)


# ------------------------------------------------------------------ indexing

def _index_parts(idx_list, index, flags):
    """(entries, inputs) of an advanced key equivalent to ``idx_list`` on the batched
    array: ARRAY for the batch axis first (the caller passes arange(size) for it), the
    scalar indices that differ between rows as ARRAY (one per row), the rest as they
    were. With the batch's index in front, NumPy puts the broadcast index axes first:
    the batch axis, then the sliced axes in order."""
    entries, inputs = [ARRAY], []
    it = iter(zip(index, flags))
    for e in idx_list:
        if e is SCALAR:
            v, f = next(it)
            entries.append(ARRAY if f else SCALAR)
            inputs.append(v)
        elif isinstance(e, SliceIdx):
            for p in e:
                if p is SCALAR:
                    v, f = next(it)
                    if f:
                        raise NotVectorizable("a slice whose bounds differ between rows")
                    inputs.append(v)
            entries.append(e)
        else:
            entries.append(e)
    return tuple(entries), inputs


def _kept_ndim(x_ndim, idx_list):
    """The rank of ``x[idx_list]`` for a basic key: ints and scalars remove an axis."""
    return x_ndim - sum(1 for e in idx_list if e is SCALAR or isinstance(e, int))


@_rule(Subtensor)
def _subtensor(node, ins, flags, size):
    x, index = ins[0], ins[1:]
    if not any(flags[1:]):
        return [(Subtensor((_FULL,) + node.op.idx_list)(x, *index), True)]
    if not flags[0]:  # a copy of x per row: simple, and rare (a jacobian's rows write
        x = _repeat(x, size)  # at their index, they do not read there)
    entries, inputs = _index_parts(node.op.idx_list, index, flags[1:])
    return [(AdvancedSubtensor(entries)(x, arange(size), *inputs), True)]


@_rule(IncSubtensor)
def _inc_subtensor(node, ins, flags, size):
    """The write into each row's own array; where the written place differs between
    rows, one advanced write for the batch (each row's index paired with its row)."""
    x, y, index = ins[0], ins[1], ins[2:]
    op = node.op
    if not flags[0]:
        x = _repeat(x, size)
    target = 1 + _kept_ndim(node.inputs[0].ndim, op.idx_list)
    if flags[1]:
        y = _align(y, target)
    if not any(flags[2:]):
        new = IncSubtensor((_FULL,) + op.idx_list, op.set_instead_of_inc)(x, y, *index)
        return [(new, True)]
    entries, inputs = _index_parts(op.idx_list, index, flags[2:])
    # one place per row: no index repeats, so the faster (non-accumulating) write is exact
    new = AdvancedIncSubtensor(op.set_instead_of_inc, True, entries)(x, y, arange(size),
                                                                     *inputs)
    return [(new, True)]
