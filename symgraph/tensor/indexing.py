"""How a NumPy indexing key is represented inside an indexing op, and what shape it gives.

A key is parsed once, at graph-build time (``_parse_key`` / ``_to_idx_list``), into a
hashable *index list*, the ``idx_list`` prop of the ops in ``symgraph.tensor.subtensor``.
It holds the static pattern: Python ints, slices (as ``SliceIdx`` records), ``None``
(newaxis), ``Ellipsis``, and two placeholders, ``SCALAR`` (a symbolic integer scalar) and
``ARRAY`` (an integer array or boolean mask), whose values are the node's inputs after
``x`` (after ``x, y`` for the increment ops), in the order they occur.

This module normalises and formats index lists, rebuilds the NumPy key from them
(``_build_key``, ``indices_from_subtensor``), and computes the indexed shape following
NumPy's rules, statically (``_out_static_shape``, with build-time bounds checks) and
symbolically for ``infer_shape`` (``_out_symbolic_shape``, ``slice_length``).
"""

from __future__ import annotations

import operator
from typing import NamedTuple

import numpy as np

from symgraph.graph.basic import Constant, Variable
from symgraph.tensor import math as tm
from symgraph.tensor.basic import (
    NotScalarConstantError, as_tensor_variable, constant, get_scalar_constant_value,
)
from symgraph.tensor.elemwise import broadcast_static_shape

__all__ = ["SliceIdx", "SCALAR", "ARRAY", "indices_from_subtensor", "slice_length"]


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
