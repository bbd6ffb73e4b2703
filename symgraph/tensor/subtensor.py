"""Indexing with NumPy semantics: ``x[key]``, ``set_subtensor``, ``inc_subtensor``, ``take``.

A key is parsed once, at graph-build time, into a hashable *index list* (the
``idx_list`` prop of the ops below) that holds the static pattern: Python ints,
slices (as ``SliceIdx`` records), ``None`` (newaxis), ``Ellipsis``, and two
placeholders, ``SCALAR`` (a symbolic integer scalar) and ``ARRAY`` (an integer
array or boolean mask), whose values are the node's inputs after ``x`` (after
``x, y`` for the increment ops), in the order they occur.

* ``Subtensor`` does basic indexing (ints and slices) and returns a view;
  ``None`` entries become a DimShuffle around it.
* ``AdvancedSubtensor`` handles every key with an array or a mask, mixed with
  basic entries; NumPy computes the value, and the static shape follows NumPy's
  rules (advanced indices separated by a slice, newaxis or Ellipsis put their
  broadcast dimensions first).
* ``IncSubtensor`` / ``AdvancedIncSubtensor`` return a new tensor equal to ``x``
  with ``x[key]`` set to, or incremented by, ``y``. Increments at repeated
  advanced indices accumulate (``np.add.at``).
"""

from __future__ import annotations

import operator
from typing import NamedTuple

import numpy as np

from symgraph.graph.basic import Apply, Constant, Variable
from symgraph.graph.op import Op
from symgraph.graph.utils import ShapeError
from symgraph.tensor import math as tm
from symgraph.tensor.basic import (
    NotScalarConstantError, as_tensor_variable, constant, get_scalar_constant_value,
    is_python_scalar,
)
from symgraph.tensor.elemwise import (
    DimShuffle, _fmt_shape, broadcast_static_shape, dimshuffle,
)
from symgraph.tensor.type import TensorType

__all__ = [
    "Subtensor", "AdvancedSubtensor", "IncSubtensor", "AdvancedIncSubtensor",
    "SliceIdx", "SCALAR", "ARRAY", "getitem", "set_subtensor", "inc_subtensor", "take",
    "indices_from_subtensor", "slice_length",
]


# =========================================================================== index records

class _Placeholder:
    """An entry of an index list whose value is a node input (see the module doc)."""

    __slots__ = ()
    symbol = "?"

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self).__name__)

    def __repr__(self):
        return self.symbol

    def __reduce__(self):
        return self._global_name


class _ScalarIdx(_Placeholder):
    __slots__ = ()
    symbol = "?"
    _global_name = "SCALAR"


class _ArrayIdx(_Placeholder):
    __slots__ = ()
    symbol = "[?]"
    _global_name = "ARRAY"


#: placeholder for a symbolic integer scalar (an index or a slice bound)
SCALAR = _ScalarIdx()
#: placeholder for an integer array or a boolean mask (advanced indexing)
ARRAY = _ArrayIdx()


class SliceIdx(NamedTuple):
    """A slice in an index list: each part is None, an int or SCALAR (hashable, unlike
    ``slice`` before Python 3.12)."""

    start: object = None
    stop: object = None
    step: object = None

    def __str__(self):
        def f(p):
            return "" if p is None else str(p)
        s = f"{f(self.start)}:{f(self.stop)}"
        return s if self.step is None else f"{s}:{f(self.step)}"


_FULL = SliceIdx(None, None, None)


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _norm_part(p):
    if p is None or p is SCALAR or isinstance(p, _ScalarIdx):
        return None if p is None else SCALAR
    if isinstance(p, (int, np.integer)):  # bools are ints in a slice, as in Python
        return int(p)
    raise TypeError(f"a slice bound in an index list must be None, an int or SCALAR; got {p!r}")


def _norm_entry(e, advanced):
    if isinstance(e, _Placeholder):
        if isinstance(e, _ArrayIdx) and not advanced:
            raise TypeError("Subtensor takes ints and slices only; arrays and masks need "
                            "AdvancedSubtensor")
        return SCALAR if isinstance(e, _ScalarIdx) else ARRAY
    if isinstance(e, slice) or (isinstance(e, tuple) and len(e) == 3):
        parts = (e.start, e.stop, e.step) if isinstance(e, slice) else tuple(e)
        parts = tuple(_norm_part(p) for p in parts)
        if parts[2] == 0:
            raise ValueError("slice step cannot be zero")
        return SliceIdx(*parts)
    if _is_int(e):
        return int(e)
    if advanced and (e is None or e is Ellipsis):
        return e
    raise TypeError(f"invalid entry {e!r} in an index list")


def _norm_idx_list(idx_list, advanced):
    out = tuple(_norm_entry(e, advanced) for e in idx_list)
    if sum(e is Ellipsis for e in out) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    # trailing full slices change nothing: drop them so equal keys give equal ops
    n = len(out)
    while n and out[n - 1] == _FULL:
        n -= 1
    return out[:n]


def _fmt_entry(e):
    if e is None:
        return "newaxis"
    if e is Ellipsis:
        return "..."
    return str(e)


def _fmt_idx_list(idx_list):
    return ", ".join(_fmt_entry(e) for e in idx_list)


def _placeholder_kinds(idx_list):
    """The placeholders of ``idx_list`` in input order (SCALAR or ARRAY each)."""
    out = []
    for e in idx_list:
        if isinstance(e, _Placeholder):
            out.append(e)
        elif isinstance(e, SliceIdx):
            out.extend(p for p in e if isinstance(p, _Placeholder))
    return out


def _build_key(idx_list, values):
    """The NumPy key for ``idx_list`` given the run-time values of its placeholders."""
    it = iter(values)
    key = []
    for e in idx_list:
        if e is SCALAR:
            key.append(operator.index(next(it)))
        elif e is ARRAY:
            key.append(next(it))
        elif isinstance(e, SliceIdx):
            key.append(slice(*[operator.index(next(it)) if p is SCALAR else p for p in e]))
        else:
            key.append(e)
    return tuple(key)


def indices_from_subtensor(index_inputs, idx_list):
    """The key (a tuple for ``getitem``) that an indexing op's ``idx_list`` and its index
    inputs stand for: placeholders become the variables, SliceIdx becomes slice."""
    it = iter(index_inputs)
    key = []
    for e in idx_list:
        if isinstance(e, _Placeholder):
            key.append(next(it))
        elif isinstance(e, SliceIdx):
            key.append(slice(*[next(it) if isinstance(p, _Placeholder) else p for p in e]))
        else:
            key.append(e)
    return tuple(key)


# =========================================================================== index arithmetic
# Works on Python ints and symbolic int64 scalars alike, folding when it can, so the
# same code gives static lengths and infer_shape's symbolic ones.

def _fold(v):
    if isinstance(v, (int, np.integer)):
        return int(v)
    try:
        return int(get_scalar_constant_value(v))
    except NotScalarConstantError:
        return tm.cast(v, "int64") if v.dtype != "int64" else v


def _both_int(a, b):
    return isinstance(a, int) and isinstance(b, int)


def _add(a, b):
    return a + b if _both_int(a, b) else tm.add(a, b)


def _sub(a, b):
    return a - b if _both_int(a, b) else tm.sub(a, b)


def _floordiv(a, b):
    return a // b if _both_int(a, b) else tm.int_div(a, b)


def _max(a, b):
    return max(a, b) if _both_int(a, b) else tm.maximum(a, b)


def _min(a, b):
    return min(a, b) if _both_int(a, b) else tm.minimum(a, b)


def _where_neg(v, if_neg, if_not):
    if isinstance(v, int):
        return if_neg if v < 0 else if_not
    return tm.switch(tm.lt(v, 0), if_neg, if_not)


def _clip(v, lo, hi):
    return _max(lo, _min(v, hi))


def slice_length(n, start, stop, step):
    """The length of ``range(n)[start:stop:step]``: an int when every argument is an int,
    else a symbolic int64 scalar (None bounds as in Python; step may be symbolic)."""
    n = _fold(n)
    start, stop = (None if p is None else _fold(p) for p in (start, stop))
    step = 1 if step is None else _fold(step)

    def wrap(v):
        return _where_neg(v, _add(v, n), v)

    def up():
        s = 0 if start is None else _clip(wrap(start), 0, n)
        e = n if stop is None else _clip(wrap(stop), 0, n)
        return _max(0, _floordiv(_add(_sub(e, s), _sub(step, 1)), step))

    def down():
        last = _sub(n, 1)
        s = last if start is None else _clip(wrap(start), -1, last)
        e = -1 if stop is None else _clip(wrap(stop), -1, last)
        return _max(0, _floordiv(_sub(_sub(s, e), _add(step, 1)), _sub(0, step)))

    if isinstance(step, int):
        if step == 0:
            raise ValueError("slice step cannot be zero")
        return up() if step > 0 else down()
    return tm.switch(tm.gt(step, 0), up(), down())


_UNKNOWN = object()  # a statically unknown scalar in a resolved index list


def _static_slice_len(n, start, stop, step):
    """The static length of a slice of a dimension of static length ``n`` (or None)."""
    if any(p is _UNKNOWN for p in (start, stop, step)):
        return None
    if step == 0:
        raise ValueError("slice step cannot be zero")
    if n is not None:
        return len(range(*slice(start, stop, step).indices(n)))
    # Without n, the length is known only if it is the same for every n. Once n passes
    # M = max(|start|, |stop|) no bound is clipped, and the length is
    # max(0, ceil((a + c*n) / step)) with c in {-1, 0, 1} and |a| <= 2M: constant,
    # growing (by one every |step|), or 0 from n = 3M on. So a short scan decides.
    bound = max([abs(p) for p in (start, stop) if p is not None], default=0)
    span = 3 * bound + abs(step or 1) + 3
    if span > 3000:
        return None
    lens = {len(range(*slice(start, stop, step).indices(k))) for k in range(span)}
    return lens.pop() if len(lens) == 1 else None


# =========================================================================== shapes

def _resolve(idx_list, infos):
    """Replace the placeholders of ``idx_list`` by ``infos`` (one per placeholder, in order).

    Gives a list of ("idx", v) | ("slice", a, b, c) | ("new",) | ("ellipsis",) |
    ("arr", info) entries.
    """
    it = iter(infos)
    out = []
    for e in idx_list:
        if e is SCALAR:
            out.append(("idx", next(it)))
        elif _is_int(e):
            out.append(("idx", e))
        elif e is ARRAY:
            out.append(("arr", next(it)))
        elif isinstance(e, SliceIdx):
            out.append(("slice",) + tuple(next(it) if p is SCALAR else p for p in e))
        elif e is None:
            out.append(("new",))
        else:
            out.append(("ellipsis",))
    return out


def _consumed(entries):
    n = 0
    for e in entries:
        if e[0] in ("idx", "slice"):
            n += 1
        elif e[0] == "arr":
            n += e[1]["ndim"] if e[1]["mask"] else 1
    return n


def _index_shape(xshape, entries, slice_len, bcast, one, check=None):
    """The shape of ``x[key]`` following NumPy's rules, over static or symbolic lengths.

    ``entries`` come from _resolve; array infos are dicts with "mask", "ndim",
    "shape" (index arrays) and "count" (masks: the number of true values).
    """
    ndim = len(xshape)
    consumed = _consumed(entries)
    if consumed > ndim:
        raise IndexError(f"too many indices: {consumed} dimensions indexed, but the tensor has "
                         f"{ndim}")
    advanced = any(e[0] == "arr" for e in entries)
    before, after, bshapes, adv_pos = [], [], [], []
    k = 0
    for pos, e in enumerate(entries):
        dst = after if adv_pos else before
        kind = e[0]
        if kind == "new":
            dst.append(one)
        elif kind == "ellipsis":
            n_e = ndim - consumed
            dst.extend(xshape[k:k + n_e])
            k += n_e
        elif kind == "slice":
            dst.append(slice_len(xshape[k], *e[1:]))
            k += 1
        elif kind == "idx":
            if check is not None:
                check(e, k)
            if advanced:
                adv_pos.append(pos)
                bshapes.append(())
            k += 1
        else:
            if check is not None:
                check(e, k)
            info = e[1]
            adv_pos.append(pos)
            if info["mask"]:
                bshapes.append((info["count"],))
                k += info["ndim"]
            else:
                bshapes.append(tuple(info["shape"]))
                k += 1
    (after if adv_pos else before).extend(xshape[k:])
    if not advanced:
        return tuple(before)
    b = tuple(bcast(bshapes))
    if adv_pos == list(range(adv_pos[0], adv_pos[-1] + 1)):
        return tuple(before) + b + tuple(after)
    return b + tuple(before) + tuple(after)


def _static_bcast(shapes):
    nd = max((len(s) for s in shapes), default=0)
    padded = [(1,) * (nd - len(s)) + tuple(s) for s in shapes]
    return broadcast_static_shape(padded, what="the index arrays")


def _symbolic_bcast(shapes):
    nd = max((len(s) for s in shapes), default=0)
    out = []
    for d in range(nd):
        cur = 1
        for s in shapes:
            if d < nd - len(s):
                continue
            b = _fold(s[d - (nd - len(s))])
            # lengths that broadcast are equal or 1: a known length other than 1 decides
            if isinstance(cur, int):
                cur = b if cur == 1 else cur
            elif isinstance(b, int):
                cur = cur if b == 1 else b
            else:
                cur = tm.switch(tm.eq(cur, 1), b, cur)
        out.append(cur)
    return out


def _static_infos(idx_list, index_vars):
    """Static information on each placeholder's input, for _resolve."""
    infos = []
    for ph, v in zip(_placeholder_kinds(idx_list), index_vars):
        if ph is SCALAR:
            try:
                infos.append(int(get_scalar_constant_value(v)))
            except NotScalarConstantError:
                infos.append(_UNKNOWN)
        else:
            data = v.data if isinstance(v, Constant) else None
            mask = v.dtype == "bool"
            count = int(np.count_nonzero(data)) if mask and data is not None else None
            infos.append({"mask": mask, "ndim": v.ndim, "shape": v.type.shape, "count": count,
                          "data": data, "var": v})
    return infos


def _static_check(e, axis, xshape):
    """Build-time bounds and mask-shape checks where the static information allows."""
    if e[0] == "idx":
        i, n = e[1], xshape[axis]
        if isinstance(i, int) and n is not None and not -n <= i < n:
            raise IndexError(f"index {i} is out of bounds for axis {axis} with size {n}")
        return
    info = e[1]
    if info["mask"]:
        for j, s in enumerate(info["shape"]):
            n = xshape[axis + j]
            if s is not None and n is not None and s != n:
                raise IndexError(
                    f"boolean index did not match the indexed tensor along axis {axis + j}: "
                    f"the axis has length {n}, the mask has length {s} (mask {info['var']} of "
                    f"type {info['var'].type})")
        return
    data, n = info["data"], xshape[axis]
    if data is not None and n is not None and data.size:
        bad = data[(data < -n) | (data >= n)]
        if bad.size:
            raise IndexError(f"index {bad.flat[0]} is out of bounds for axis {axis} with size {n}")


def _out_static_shape(xtype, idx_list, index_vars):
    entries = _resolve(idx_list, _static_infos(idx_list, index_vars))

    def check(e, axis):
        _static_check(e, axis, xtype.shape)

    return _index_shape(xtype.shape, entries, _static_slice_len, _static_bcast, 1, check)


def _out_symbolic_shape(idx_list, index_vars, xshape_sym, index_shapes):
    infos = []
    static = _static_infos(idx_list, index_vars)
    for v, st, vshape in zip(index_vars, static, index_shapes):
        if not isinstance(st, dict):
            infos.append(st if isinstance(st, int) else _fold(v))
        else:
            info = dict(st)
            if info["mask"]:
                if info["count"] is None:
                    from symgraph.tensor.reduction import sum as sum_
                    info["count"] = tm.cast(sum_(v), "int64")
            else:
                info["shape"] = tuple(vshape)
            infos.append(info)
    entries = _resolve(idx_list, infos)
    xshape = tuple(_fold(s) for s in xshape_sym)
    shp = _index_shape(xshape, entries, slice_length, _symbolic_bcast, 1)
    return tuple(constant(s, dtype="int64") if isinstance(s, int) else _fold(s) for s in shp)


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


# =========================================================================== key parsing

def _index_error_type(k, what):
    return TypeError(f"index {k!r} has {what}; indices must be integers, slices, None, "
                     "Ellipsis, integer arrays or boolean masks")


def _parse_slice_part(p):
    if p is None:
        return None
    if isinstance(p, (int, np.integer)):
        return int(p)
    if isinstance(p, Variable):
        v = as_tensor_variable(p)
        if v.ndim != 0 or v.type.dtype_kind not in "iu":
            raise TypeError(f"slice bound {v} must be an integer scalar; got type {v.type}")
        try:
            return int(get_scalar_constant_value(v))
        except NotScalarConstantError:
            return v
    if isinstance(p, np.ndarray) and p.ndim == 0 and p.dtype.kind in "iu":
        return int(p)
    dtype = getattr(p, "dtype", type(p).__name__)
    raise TypeError(f"slice bound {p!r} has dtype {dtype}; slice bounds must be integers, "
                    "integer scalar variables or None")


def _parse_entry(k):
    """One key entry as ("int", i) | ("sym", var) | ("slice", a, b, c) | ("new",) |
    ("ellipsis",) | ("array", var) | ("mask", var)."""
    if k is None:
        return ("new",)
    if k is Ellipsis:
        return ("ellipsis",)
    if isinstance(k, slice):
        return ("slice",) + tuple(_parse_slice_part(p) for p in (k.start, k.stop, k.step))
    if isinstance(k, (bool, np.bool_)):
        return ("mask", constant(np.asarray(k, dtype=bool)))
    if isinstance(k, (int, np.integer)):
        return ("int", int(k))
    if isinstance(k, (float, complex, np.floating, np.complexfloating)):
        raise _index_error_type(k, f"dtype {np.asarray(k).dtype}")
    if isinstance(k, (list, tuple, np.ndarray)) and not isinstance(k, Variable):
        from symgraph.tensor.basic import _holds_variable
        if isinstance(k, np.ndarray) or not _holds_variable(k):
            arr = np.asarray(k)
            if arr.dtype.kind == "f" and arr.size == 0:
                arr = arr.astype("int64")  # NumPy reads an empty list as an integer index
            if arr.dtype.kind not in "iub":
                raise _index_error_type(k, f"dtype {arr.dtype}")
            if arr.dtype.kind == "b":
                return ("mask", constant(arr))
            if arr.ndim == 0:
                return ("int", int(arr))
            return ("array", constant(arr, dtype="int64" if arr.dtype == np.uint64 else None))
        k = as_tensor_variable(k)
    if isinstance(k, Variable):
        v = as_tensor_variable(k)
        kind = v.type.dtype_kind
        if kind == "b":
            return ("mask", v)
        if kind not in "iu":
            raise _index_error_type(v, f"dtype {v.dtype} (type {v.type})")
        if v.ndim == 0:
            try:
                return ("int", int(get_scalar_constant_value(v)))
            except NotScalarConstantError:
                return ("sym", v)
        return ("array", v)
    raise _index_error_type(k, f"type {type(k).__name__}")


def _parse_key(x, key):
    if not isinstance(key, tuple):
        key = (key,)
    entries = [_parse_entry(k) for k in key]
    if sum(e[0] == "ellipsis" for e in entries) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = 0
    for e in entries:
        if e[0] in ("int", "sym", "slice", "array"):
            consumed += 1
        elif e[0] == "mask":
            consumed += e[1].ndim
    if consumed > x.ndim:
        raise IndexError(f"too many indices for {x} ({x.type}): {consumed} dimensions indexed, "
                         f"but it has {x.ndim}")
    return entries, consumed


def _to_idx_list(entries):
    idx_list, inputs = [], []
    for e in entries:
        kind = e[0]
        if kind == "int":
            idx_list.append(e[1])
        elif kind == "sym":
            idx_list.append(SCALAR)
            inputs.append(e[1])
        elif kind == "slice":
            parts = []
            for p in e[1:]:
                if isinstance(p, Variable):
                    parts.append(SCALAR)
                    inputs.append(p)
                else:
                    parts.append(p)
            idx_list.append(SliceIdx(*parts))
        elif kind == "new":
            idx_list.append(None)
        elif kind == "ellipsis":
            idx_list.append(Ellipsis)
        else:
            idx_list.append(ARRAY)
            inputs.append(e[1])
    return idx_list, inputs


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
    if axis is None:
        from symgraph.tensor.shape import flatten
        a, axis = flatten(a, 1), 0
    if not _is_int(axis):
        raise TypeError(f"take: axis must be an int or None, got {axis!r}")
    if not -a.ndim <= axis < a.ndim:
        raise np.exceptions.AxisError(axis, a.ndim)
    axis = int(axis) % a.ndim
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
