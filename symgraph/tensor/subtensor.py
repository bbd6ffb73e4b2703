"""Indexing with NumPy semantics: ``x[key]``, ``set_subtensor``, ``inc_subtensor``, ``take``.

A key is parsed once, at graph-build time, into a hashable *index list* (the
``idx_list`` prop of the ops below) that holds the static pattern: Python ints,
slices (as ``SliceIdx`` records), ``None`` (newaxis), ``Ellipsis``, and two
placeholders, ``SCALAR`` (a symbolic integer scalar) and ``ARRAY`` (an integer
array or boolean mask), whose values are the node's inputs after ``x`` (after
``x, y`` for the increment ops), in the order they occur. The index list itself,
key parsing and the shape rules live in ``symgraph.tensor.indexing``.

* ``Subtensor`` does basic indexing (ints and slices) and returns a view;
  ``None`` entries become a DimShuffle around it.
* ``AdvancedSubtensor`` handles every key with an array or a mask, mixed with
  basic entries; NumPy computes the value, and the static shape follows NumPy's
  rules (advanced indices separated by a slice, newaxis or Ellipsis put their
  broadcast dimensions first).
* ``IncSubtensor`` / ``AdvancedIncSubtensor`` return a new tensor equal to ``x``
  with ``x[key]`` set to, or incremented by, ``y``. Increments at repeated
  advanced indices accumulate (``np.add.at``).

Gradients: indexing sends ``g`` back into zeros of x's shape (an increment, so an
element picked twice gets both contributions); set/inc send ``g[key]`` to ``y``,
summed over the dimensions along which ``y`` was broadcast (``SumToShape`` when
that is only known at run time, since a run-time length 1 stretches here as in
NumPy). Where repeated indices let one write win (set, ``ignore_duplicates``),
only the winning element of ``y`` -- the last written -- gets a gradient. The
index inputs are disconnected. All four ops are linear in ``x`` and ``y`` and have
an R_op.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Apply, Variable
from symgraph.graph.op import Op
from symgraph.graph.utils import ShapeError
from symgraph.tensor import math as tm
from symgraph.tensor.axes import normalize_axis
from symgraph.tensor.basic import as_tensor_variable, constant, is_python_scalar
from symgraph.tensor.elemwise import DimShuffle, _fmt_shape, dimshuffle
from symgraph.tensor.indexing import (
    ARRAY, SCALAR, SliceIdx, _build_key, _fmt_idx_list, _is_int, _norm_idx_list,
    _out_static_shape, _out_symbolic_shape, _parse_key, _placeholder_kinds, _to_idx_list,
    indices_from_subtensor, slice_length,
)
from symgraph.tensor.type import TensorType

__all__ = [
    "Subtensor", "AdvancedSubtensor", "IncSubtensor", "AdvancedIncSubtensor",
    "SliceIdx", "SCALAR", "ARRAY", "getitem", "set_subtensor", "inc_subtensor", "take",
    "indices_from_subtensor", "slice_length", "SumToShape",
]


# =========================================================================== the ops

def _fmt_var(v):
    return f"{v} of type {v.type}"


def _check_index_inputs(op, idx_list, index_vars):
    """Type-check the placeholder inputs: integer scalars for SCALAR; integer or bool
    tensors for ARRAY."""
    kinds = _placeholder_kinds(idx_list)
    if len(index_vars) != len(kinds):
        raise TypeError(f"{op} takes {len(kinds)} index input(s), got {len(index_vars)}")
    for k, (ph, v) in enumerate(zip(kinds, index_vars)):
        if ph is SCALAR:
            if v.ndim != 0 or v.type.dtype_kind not in "iu":
                raise TypeError(f"{op}: index input {k} must be an integer scalar; got "
                                f"{_fmt_var(v)}")
        elif v.type.dtype_kind not in "iub":
            raise TypeError(f"{op}: index input {k} must be an integer array or a boolean "
                            f"mask; got {_fmt_var(v)}")


class _IndexOp(Op):
    """Shared machinery of the four indexing ops."""

    advanced = False

    def _effective_idx_list(self, n_index_inputs):
        # the advanced ops take idx_list=None for "every index input is an array"
        return (ARRAY,) * n_index_inputs if self.idx_list is None else self.idx_list


class Subtensor(_IndexOp):
    """Basic indexing ``x[idx_list]`` (ints and slices), returning a view of ``x``.

    ``Subtensor((1, slice(None, None, -1)))(x)`` is ``x[1, ::-1]``; symbolic integer
    scalars are written SCALAR in ``idx_list`` and passed after ``x``.
    """

    __props__ = ("idx_list",)
    view_map = {0: [0]}

    def __init__(self, idx_list):
        self.idx_list = _norm_idx_list(idx_list, advanced=False)

    def __str__(self):
        return f"Subtensor{{{_fmt_idx_list(self.idx_list)}}}"

    def make_node(self, x, *index):
        x = as_tensor_variable(x)
        index = [as_tensor_variable(i) for i in index]
        _check_index_inputs(self, self.idx_list, index)
        shape = _out_static_shape(x.type, self.idx_list, index)
        return Apply(self, [x, *index], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        key = _build_key(self.idx_list, inputs[1:])
        # a trailing Ellipsis makes NumPy return a 0-d view instead of a scalar
        output_storage[0][0] = x[key + (Ellipsis,)]

    def infer_shape(self, fgraph, node, input_shapes):
        return [_out_symbolic_shape(self.idx_list, node.inputs[1:], input_shapes[0],
                                    input_shapes[1:])]

    def L_op(self, inputs, outputs, output_grads):
        """The gradient of ``x`` is ``g`` written into zeros of x's shape at the indexed
        places; the index inputs are disconnected."""
        x, index, g = inputs[0], inputs[1:], output_grads[0]
        gx = IncSubtensor(self.idx_list)(_zeros_for(x, g), g, *index)
        return [gx] + _disconnected(index)

    def R_op(self, inputs, eval_points):
        ev = eval_points[0]
        return [None if ev is None else self(ev, *inputs[1:])]


class AdvancedSubtensor(_IndexOp):
    """``x[key]`` for a key holding integer arrays or boolean masks (NumPy semantics, mixed
    with ints, slices, newaxis and Ellipsis); the result is a copy.

    ``idx_list=None`` (Theano's form ``AdvancedSubtensor()(x, i, j)``) means every
    input after ``x`` is an array index, in order.
    """

    __props__ = ("idx_list",)
    advanced = True

    def __init__(self, idx_list=None):
        self.idx_list = None if idx_list is None else _norm_idx_list(idx_list, advanced=True)

    def __str__(self):
        inner = "" if self.idx_list is None else _fmt_idx_list(self.idx_list)
        return f"AdvancedSubtensor{{{inner}}}"

    def make_node(self, x, *index):
        x = as_tensor_variable(x)
        index = [as_tensor_variable(i) for i in index]
        idx_list = self._effective_idx_list(len(index))
        _check_advanced(self, idx_list, index)
        shape = _out_static_shape(x.type, idx_list, index)
        return Apply(self, [x, *index], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        x, index = inputs[0], inputs[1:]
        key = _build_key(self._effective_idx_list(len(index)), index)
        output_storage[0][0] = np.asarray(x[key])

    def infer_shape(self, fgraph, node, input_shapes):
        index = node.inputs[1:]
        return [_out_symbolic_shape(self._effective_idx_list(len(index)), index,
                                    input_shapes[0], input_shapes[1:])]

    def L_op(self, inputs, outputs, output_grads):
        """``g`` added into zeros of x's shape at the indexed places; an element picked
        several times (``x[[0, 0, 1]]``) receives the sum of its contributions. The
        index inputs are disconnected."""
        x, index, g = inputs[0], inputs[1:], output_grads[0]
        gx = AdvancedIncSubtensor(idx_list=self.idx_list)(_zeros_for(x, g), g, *index)
        return [gx] + _disconnected(index)

    def R_op(self, inputs, eval_points):
        ev = eval_points[0]
        return [None if ev is None else self(ev, *inputs[1:])]


def _check_advanced(op, idx_list, index):
    _check_index_inputs(op, idx_list, index)
    arrays = [v for e, v in zip(_placeholder_kinds(idx_list), index) if e is ARRAY]
    if not any(v.ndim > 0 or v.dtype == "bool" for v in arrays):
        raise TypeError(f"{op} needs an integer array or a boolean mask among its indices "
                        f"(got {', '.join(_fmt_var(v) for v in index) or 'none'}); use "
                        "Subtensor for ints and slices")


def _as_y(op_name, x, y):
    """``y`` as a tensor that may be written into ``x``: Python numbers are weak (they
    take x's dtype when that keeps their kind); tensors must cast safely."""
    if is_python_scalar(y):
        dt = tm._weak_dtype(x.dtype, y)
        if dt != x.dtype:
            raise TypeError(f"{op_name}: the Python {type(y).__name__} {y!r} cannot be stored in "
                            f"x of dtype {x.dtype} without changing its kind")
        return constant(y, dtype=x.dtype)
    y = as_tensor_variable(y)
    if not np.can_cast(y.type.numpy_dtype, x.type.numpy_dtype, "safe"):
        raise TypeError(f"{op_name}: y ({_fmt_var(y)}) cannot be cast safely to the dtype of x "
                        f"({x.dtype}); cast it explicitly, e.g. y.astype('{x.dtype}')")
    return y


def _check_y_shape(op_name, y, target):
    if y.ndim > len(target):
        raise TypeError(f"{op_name}: y ({_fmt_var(y)}) has more dimensions than x[idx], which has "
                        f"static shape {_fmt_shape(target)}")
    padded = (1,) * (len(target) - y.ndim) + y.type.shape
    for s, t in zip(padded, target):
        if s is not None and t is not None and s != 1 and s != t:
            raise ShapeError(f"{op_name}: y of static shape {_fmt_shape(y.type.shape)} cannot be "
                             f"broadcast to x[idx] of static shape {_fmt_shape(target)}")


class _IncOp(_IndexOp):
    def _name(self):
        return "set_subtensor" if self.set_instead_of_inc else "inc_subtensor"

    def make_node(self, x, y, *index):
        x = as_tensor_variable(x)
        y = _as_y(self._name(), x, y)
        index = [as_tensor_variable(i) for i in index]
        idx_list = self._effective_idx_list(len(index))
        if self.advanced:
            _check_advanced(self, idx_list, index)
        else:
            _check_index_inputs(self, idx_list, index)
        target = _out_static_shape(x.type, idx_list, index)
        _check_y_shape(self._name(), y, target)
        return Apply(self, [x, y, *index], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, y, index = inputs[0], inputs[1], inputs[2:]
        out = x.copy()
        key = _build_key(self._effective_idx_list(len(index)), index)
        try:
            self._write(out, key, y)
        except ValueError as e:
            if "broadcast" not in str(e) and "shape" not in str(e):
                raise
            raise ValueError(f"{self._name()}: cannot broadcast y of shape {y.shape} to x[idx] of "
                             f"shape {np.shape(x[key])}") from None
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def _getter(self):
        if self.advanced:
            return AdvancedSubtensor(self.idx_list)
        return Subtensor(self.idx_list)

    def L_op(self, inputs, outputs, output_grads):
        """x: ``g`` (increment) or ``g`` with the written places zeroed (set). y: ``g[idx]``
        summed over the dimensions along which y was broadcast into ``x[idx]`` (its
        missing leading dimensions and its length-1 ones, static or found at run
        time). Where repeated advanced indices make one write win (set, or an
        increment with ``ignore_duplicates``), only the winning element of y -- the
        one written last, as NumPy does -- receives a gradient; accumulated increments
        send ``g`` to every element of y. The index inputs are disconnected."""
        x, y, index = inputs[0], inputs[1], inputs[2:]
        g = output_grads[0]
        if self.set_instead_of_inc:
            gx = self(g, constant(0, dtype=g.dtype), *index)
        else:
            gx = g
        gi = self._getter()(g, *index)
        if self.advanced and (self.set_instead_of_inc or self.ignore_duplicates) \
                and _may_repeat(self.idx_list, index):
            win = _last_write_mask(self.idx_list, x, gi, index)
            gi = tm.switch(win, gi, constant(0, dtype=gi.dtype))
        gy = _sum_to_like(gi, y)
        return [gx, gy] + _disconnected(index)

    def R_op(self, inputs, eval_points):
        x, y, index = inputs[0], inputs[1], inputs[2:]
        ex, ey = eval_points[0], eval_points[1]
        if ex is None and ey is None:
            return [None]
        if ex is None:
            ex = _zeros_for(x, x)
        if ey is None:
            if not self.set_instead_of_inc:
                return [ex]
            ey = constant(0, dtype=ex.dtype)
        return [self(ex, ey, *index)]


class IncSubtensor(_IncOp):
    """``x`` with ``x[idx_list]`` incremented by (or, with ``set_instead_of_inc``, set to)
    ``y``, for a basic key. A new tensor: ``x`` itself is never modified."""

    __props__ = ("idx_list", "set_instead_of_inc")

    def __init__(self, idx_list, set_instead_of_inc=False):
        self.idx_list = _norm_idx_list(idx_list, advanced=False)
        self.set_instead_of_inc = bool(set_instead_of_inc)

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"{kind}Subtensor{{{_fmt_idx_list(self.idx_list)}}}"

    def _write(self, out, key, y):
        view = out[key + (Ellipsis,)]
        if self.set_instead_of_inc:
            view[...] = y
        else:
            np.add(view, y, out=view)


class AdvancedIncSubtensor(_IncOp):
    """``x`` with ``x[key]`` incremented by (or set to) ``y`` for an advanced key. Increments
    at repeated indices accumulate (np.add.at) unless ``ignore_duplicates``, where one of
    them wins (faster). A new tensor: ``x`` itself is never modified.

    ``idx_list=None`` means every input after ``x, y`` is an array index (Theano's form).
    """

    __props__ = ("idx_list", "set_instead_of_inc", "ignore_duplicates")
    advanced = True

    def __init__(self, set_instead_of_inc=False, ignore_duplicates=False, idx_list=None):
        self.set_instead_of_inc = bool(set_instead_of_inc)
        self.ignore_duplicates = bool(ignore_duplicates)
        self.idx_list = None if idx_list is None else _norm_idx_list(idx_list, advanced=True)

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        inner = "" if self.idx_list is None else _fmt_idx_list(self.idx_list)
        return f"Advanced{kind}Subtensor{{{inner}}}"

    def _write(self, out, key, y):
        if self.set_instead_of_inc:
            out[key] = y
        elif self.ignore_duplicates:
            out[key] += y
        else:
            np.add.at(out, key, y)


# =========================================================================== gradient helpers

def _disconnected(index):
    from symgraph.gradient import disconnected_type
    return [disconnected_type() for _ in index]


def _zeros_for(x, g):
    """Zeros with the shape of ``x`` in the dtype of ``g``."""
    from symgraph.tensor.creation import zeros_like
    return zeros_like(x, dtype=g.dtype)


class SumToShape(Op):
    """``SumToShape()(g, *shape)``: ``g`` summed back to ``shape``, the shape of a value that
    NumPy broadcast to ``g``'s shape: over g's extra leading dimensions and over every
    dimension whose target length is 1 (decided at run time).

    The adjoint of the broadcast that set/inc_subtensor apply to ``y``, which follows
    NumPy (a run-time length of 1 stretches), so the static shapes cannot always tell
    which dimensions were stretched.
    """

    __props__ = ()

    def make_node(self, g, *shape):
        from symgraph.tensor.creation import _as_int_scalar, _const_int
        g = as_tensor_variable(g)
        dims = [_as_int_scalar(s, f"SumToShape: shape[{i}]") for i, s in enumerate(shape)]
        if len(dims) > g.ndim:
            raise TypeError(f"SumToShape: cannot sum {_fmt_var(g)} to {len(dims)} dimensions")
        static = tuple(_const_int(d) for d in dims)
        return Apply(self, [g, *dims], [TensorType(g.dtype, shape=static)()])

    def perform(self, node, inputs, output_storage):
        g = inputs[0]
        shape = tuple(int(s) for s in inputs[1:])
        extra = g.ndim - len(shape)
        out = g.sum(axis=tuple(range(extra))) if extra else g
        axes = tuple(d for d, (n, t) in enumerate(zip(out.shape, shape)) if t == 1 and n != 1)
        if axes:
            out = out.sum(axis=axes, keepdims=True)
        if out.shape != shape:
            raise ShapeError(f"SumToShape: an array of shape {g.shape} is not a broadcast of "
                             f"shape {shape}")
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].type.numpy_dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(node.inputs[1:])]

    def L_op(self, inputs, outputs, output_grads):
        # the adjoint of a sum over broadcast dimensions is the broadcast itself
        g, gz = inputs[0], output_grads[0]
        return [IncSubtensor(())(_zeros_for(g, gz), gz)] + _disconnected(inputs[1:])

    def R_op(self, inputs, eval_points):
        ev = eval_points[0]
        return [None if ev is None else self(ev, *inputs[1:])]


def _sum_to_like(gi, y):
    """``gi`` (shaped like ``x[idx]``) summed over the dimensions along which ``y`` was
    broadcast to that shape; plain sums when the static shapes decide them."""
    from symgraph.tensor.reduction import sum as sum_
    from symgraph.tensor.shape import shape_i
    extra = gi.ndim - y.ndim
    tshape = gi.type.shape[extra:]
    if any(ys is None and ts != 1 for ys, ts in zip(y.type.shape, tshape)):
        return SumToShape()(gi, *[shape_i(y, d) for d in range(y.ndim)])
    if extra:
        gi = sum_(gi, axis=tuple(range(extra)))
    axes = tuple(d for d, (ys, ts) in enumerate(zip(y.type.shape, tshape))
                 if ys == 1 and ts != 1)
    if axes:
        gi = sum_(gi, axis=axes, keepdims=True)
    return gi


def _may_repeat(idx_list, index):
    """Whether an advanced key may name one element several times: False for keys whose
    arrays are all boolean masks, or whose only array is a constant of distinct
    indices of one sign."""
    from symgraph.graph.basic import Constant
    if idx_list is None:
        idx_list = (ARRAY,) * len(index)
    arrays = [v for k, v in zip(_placeholder_kinds(idx_list), index) if k is ARRAY]
    ints = [v for v in arrays if v.dtype != "bool"]
    if not ints:
        return False
    if len(arrays) == 1 and isinstance(ints[0], Constant):
        d = np.asarray(ints[0].data).ravel()
        if (np.all(d >= 0) or np.all(d < 0)) and np.unique(d).size == d.size:
            return False
    return True


def _last_write_mask(idx_list, x, gi, index):
    """A bool tensor shaped like ``x[idx]``: True where that element of the broadcast
    ``y`` is the one a set through ``idx`` leaves in ``x`` (the last write wins). Found
    by setting each position's number through the same key and reading it back."""
    from symgraph.tensor.creation import arange, full_like
    from symgraph.tensor.shape import reshape, shape, size
    pos = reshape(arange(size(gi), dtype="int64"), shape(gi))
    z = AdvancedIncSubtensor(True, False, idx_list)(full_like(x, -1, dtype="int64"), pos,
                                                    *index)
    return tm.eq(AdvancedSubtensor(idx_list)(z, *index), pos)


# =========================================================================== getitem

def getitem(x, key):
    """``x[key]`` with NumPy semantics (what ``TensorVariable.__getitem__`` calls).

    Basic keys (ints, slices, None, Ellipsis, integer scalar variables) give a
    Subtensor view; keys with integer arrays or boolean masks give an
    AdvancedSubtensor copy. ``x.shape[i]`` with a constant ``i`` is ``shape_i``, a
    constant when the length is known statically.
    """
    x = as_tensor_variable(x)
    from symgraph.tensor.shape import Shape, shape_i
    if x.owner is not None and isinstance(x.owner.op, Shape) and _is_int(key):
        inner = x.owner.inputs[0]
        if not -inner.ndim <= key < inner.ndim:
            raise IndexError(f"index {key} is out of bounds for the shape of {inner}, which "
                             f"has {inner.ndim} dimensions")
        return shape_i(inner, int(key) % inner.ndim)
    entries, consumed = _parse_key(x, key)
    if any(e[0] in ("array", "mask") for e in entries):
        idx_list, inputs = _to_idx_list(entries)
        return AdvancedSubtensor(idx_list)(x, *inputs)
    # basic: expand the Ellipsis, index with Subtensor, then insert the newaxis dims
    expanded = []
    for e in entries:
        if e[0] == "ellipsis":
            expanded.extend([("slice", None, None, None)] * (x.ndim - consumed))
        else:
            expanded.append(e)
    if not any(e[0] == "ellipsis" for e in entries):
        expanded.extend([("slice", None, None, None)] * (x.ndim - consumed))
    idx_list, inputs = _to_idx_list([e for e in expanded if e[0] != "new"])
    out = Subtensor(idx_list)(x, *inputs)
    if any(e[0] == "new" for e in expanded):
        pattern, d = [], 0
        for e in expanded:
            if e[0] == "new":
                pattern.append("x")
            elif e[0] == "slice":
                pattern.append(d)
                d += 1
        out = dimshuffle(out, pattern)
    return out


# =========================================================================== set / inc

def _is_newaxis_view(var):
    """Whether ``var`` is getitem's DimShuffle that puts newaxis dims around a Subtensor."""
    node = var.owner
    if node is None or not isinstance(node.op, DimShuffle):
        return False
    op = node.op
    inner = node.inputs[0]
    return (not op.drop and op.shuffle == tuple(range(op.input_ndim))
            and inner.owner is not None and isinstance(inner.owner.op, Subtensor))


def _drop_leading_ones(fname, y, ndim):
    """Drop leading dims of ``y`` beyond ``ndim`` that have static length 1 (NumPy allows
    them when assigning)."""
    extra = y.ndim - ndim
    if extra <= 0:
        return y
    if any(s != 1 for s in y.type.shape[:extra]):
        raise TypeError(f"{fname}: y ({_fmt_var(y)}) has more dimensions than x[idx], which has "
                        f"{ndim}")
    return dimshuffle(y, tuple(range(extra, y.ndim)))


def inc_subtensor(x, y, inplace=False, set_instead_of_inc=False,
                  tolerate_inplace_aliasing=False, ignore_duplicates=False):
    """The tensor indexed by ``x`` (which must be ``t[idx]``) with ``t[idx]`` incremented by
    ``y`` (Theano's API). Returns a new variable; nothing is modified in place.

    ``y`` broadcasts to ``t[idx]`` (NumPy rules); its dtype must cast safely to t's
    (Python numbers are weak). Repeated advanced indices accumulate, unless
    ``ignore_duplicates``. ``inplace`` and ``tolerate_inplace_aliasing`` are accepted
    for old code and ignored: in-place execution is the rewrites' business.
    """
    fname = "set_subtensor" if set_instead_of_inc else "inc_subtensor"
    if not isinstance(x, Variable):
        raise TypeError(f"{fname}: the first argument must be the result of indexing a tensor "
                        f"(x[idx]); got {type(x).__name__} {x!r}")
    node = x.owner
    if node is not None and _is_newaxis_view(x):
        inner = node.inputs[0]
        y = _as_y(fname, inner, y)
        y = _drop_leading_ones(fname, y, x.ndim)
        if y.ndim < x.ndim:
            y = dimshuffle(y, ("x",) * (x.ndim - y.ndim) + tuple(range(y.ndim)))
        new_axes = [d for d, o in enumerate(node.op.new_order) if o == "x"]
        fix = [1 if d in new_axes else None for d in range(y.ndim)]
        for d in new_axes:
            s = y.type.shape[d]
            if s is not None and s != 1:
                raise ShapeError(f"{fname}: y of static shape {_fmt_shape(y.type.shape)} cannot "
                                 f"be broadcast to x[idx] of static shape "
                                 f"{_fmt_shape(x.type.shape)}")
        if any(y.type.shape[d] is None for d in new_axes):
            from symgraph.tensor.shape import specify_shape
            y = specify_shape(y, fix)
        y = dimshuffle(y, [d for d in range(y.ndim) if d not in new_axes])
        return inc_subtensor(inner, y, set_instead_of_inc=set_instead_of_inc,
                             ignore_duplicates=ignore_duplicates)
    if node is None or not isinstance(node.op, (Subtensor, AdvancedSubtensor)):
        built = "no op (it is a graph input)" if node is None else node.op
        raise TypeError(f"{fname}: the first argument must be the result of indexing a tensor "
                        f"(x[idx]); got {x} built by {built}")
    base, index = node.inputs[0], node.inputs[1:]
    y = _drop_leading_ones(fname, _as_y(fname, base, y), x.ndim)
    if isinstance(node.op, Subtensor):
        op = IncSubtensor(node.op.idx_list, set_instead_of_inc)
    else:
        op = AdvancedIncSubtensor(set_instead_of_inc, ignore_duplicates, node.op.idx_list)
    return op(base, y, *index)


def set_subtensor(x, y, inplace=False, tolerate_inplace_aliasing=False):
    """The tensor indexed by ``x`` (which must be ``t[idx]``) with ``t[idx]`` replaced by
    ``y`` (broadcast, NumPy rules). Returns a new variable; nothing is modified in place."""
    return inc_subtensor(x, y, set_instead_of_inc=True)


# =========================================================================== take

def take(a, indices, axis=None, mode="raise"):
    """``np.take``: the elements of ``a`` at ``indices`` along ``axis`` (of the flattened
    ``a`` when axis is None). ``mode`` is 'raise' (negative indices count from the end),
    'wrap' or 'clip'."""
    a = as_tensor_variable(a)
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    axis = normalize_axis(axis, a.ndim, "take", allow_none=True, of=a)
    if axis is None:
        from symgraph.tensor.shape import flatten
        a, axis = flatten(a, 1), 0
    from symgraph.tensor.basic import _holds_variable
    if isinstance(indices, (list, tuple)) and _holds_variable(indices):
        indices = as_tensor_variable(indices)
    if not isinstance(indices, Variable):
        arr = np.asarray(indices)
        if arr.dtype.kind == "f" and arr.size == 0:
            arr = arr.astype("int64")
        indices = arr if arr.ndim else (int(arr) if arr.dtype.kind in "iu" else arr)
    idx = indices if _is_int(indices) else as_tensor_variable(indices)
    if not _is_int(idx) and idx.type.dtype_kind not in "iu":
        raise TypeError(f"take: indices must be integers; got {_fmt_var(idx)}")
    if mode != "raise":
        from symgraph.tensor.shape import shape_i
        n = shape_i(a, axis)
        idx = tm.mod(idx, n) if mode == "wrap" else tm.clip(idx, 0, n - 1)
    return getitem(a, (slice(None),) * axis + (idx,))
