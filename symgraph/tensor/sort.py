"""Sorting and searching: sort, argsort, nonzero, flatnonzero, argwhere.

Complex values sort as NumPy sorts them: lexicographically, real part first.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Apply
from symgraph.graph.op import Op
from symgraph.tensor.axes import normalize_axis
from symgraph.tensor.basic import as_tensor_variable, constant
from symgraph.tensor.type import TensorType

_KINDS = ("quicksort", "mergesort", "heapsort", "stable")


def _check_kind(kind, who):
    if kind not in _KINDS:
        raise ValueError(f"{who}: kind must be one of {', '.join(_KINDS)}, got {kind!r}")
    return kind


def _check_axis(axis, x, who):
    """``axis`` for ``x`` as None or a non-negative int, or a clear error."""
    try:
        return normalize_axis(axis, x.ndim, who, allow_none=True, of=x)
    except np.exceptions.AxisError as e:
        if x.ndim:
            raise
        raise np.exceptions.AxisError(f"{e}; use axis=None to sort a 0-d array") from None


class _SortBase(Op):
    """Common part of Sort and ArgSort: an axis (None flattens) and a NumPy sort kind."""

    __props__ = ("axis", "kind")
    _who = ""

    def __init__(self, axis=-1, kind="quicksort"):
        if axis is not None:
            axis = int(axis)
        self.axis = axis
        self.kind = _check_kind(kind, self._who)

    def _out_shape(self, x):
        if self.axis is None:
            s = x.type.shape
            return (None if any(n is None for n in s) else int(np.prod(s, dtype=np.int64)),)
        _check_axis(self.axis, x, self._who)
        return x.type.shape

    def infer_shape(self, fgraph, node, input_shapes):
        (s,) = input_shapes
        if self.axis is not None:
            return [tuple(s)]
        st = node.outputs[0].type.shape[0]
        if st is not None:
            return [(constant(st, dtype="int64"),)]
        from symgraph.tensor.math import mul
        n = constant(1, dtype="int64")
        for d in s:
            n = mul(n, d)
        return [(n,)]


class Sort(_SortBase):
    """``Sort(axis, kind)(x)``: numpy.sort; ``axis=None`` sorts the flattened array."""

    __props__ = ("axis", "kind")
    _who = "sort"

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType(x.dtype, shape=self._out_shape(x))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.sort(inputs[0], axis=self.axis, kind=self.kind)

    def L_op(self, inputs, outputs, output_grads):
        """A permutation: ``g`` goes back to where each element came from, i.e. ``g``
        gathered along the axis through the inverse of the sorting permutation
        (``argsort(argsort(x))``); ``axis=None`` works on the flattened input and
        reshapes back. Among tied values the permutation of ArgSort with the same
        kind decides which one gets which gradient (any choice is a valid
        subgradient)."""
        from symgraph.tensor.shape import reshape, shape
        (x,), (g,) = inputs, output_grads
        if self.axis is None:
            from symgraph.tensor.shape import flatten
            flat = flatten(x)
            inv = argsort(argsort(flat, 0, self.kind), 0, "stable")
            return [reshape(_take_along(g, inv, 0), shape(x))]
        perm = ArgSort(self.axis, self.kind)(x)
        inv = ArgSort(self.axis, "stable")(perm)
        return [_take_along(g, inv, self.axis % x.ndim)]

    def R_op(self, inputs, eval_points):
        """The tangent permuted as the values are."""
        (x,), (ev,) = inputs, eval_points
        if ev is None:
            return [None]
        if self.axis is None:
            from symgraph.tensor.shape import flatten
            flat = flatten(x)
            return [_take_along(flatten(ev), argsort(flat, 0, self.kind), 0)]
        return [_take_along(ev, ArgSort(self.axis, self.kind)(x), self.axis % x.ndim)]


class ArgSort(_SortBase):
    """``ArgSort(axis, kind)(x)``: numpy.argsort, as int64 indices."""

    __props__ = ("axis", "kind")
    _who = "argsort"

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", shape=self._out_shape(x))()])

    def perform(self, node, inputs, output_storage):
        out = np.argsort(inputs[0], axis=self.axis, kind=self.kind)
        output_storage[0][0] = out.astype("int64", copy=False)

    def connection_pattern(self, node):
        return [[False]]

    def L_op(self, inputs, outputs, output_grads):
        from symgraph.gradient import disconnected_type
        return [disconnected_type()]

    def R_op(self, inputs, eval_points):
        return [None]


def _take_along(a, idx, axis):
    """numpy.take_along_axis(a, idx, axis) for ``idx`` of a's shape: an advanced index
    with ``idx`` on ``axis`` and an arange grid on every other axis."""
    from symgraph.tensor.creation import arange
    from symgraph.tensor.elemwise import dimshuffle
    from symgraph.tensor.shape import shape_i
    from symgraph.tensor.subtensor import getitem
    if a.ndim == 1:
        return getitem(a, (idx,))
    key = []
    for d in range(a.ndim):
        if d == axis:
            key.append(idx)
        else:
            r = arange(shape_i(a, d), dtype="int64")
            key.append(dimshuffle(r, ["x"] * d + [0] + ["x"] * (a.ndim - d - 1)))
    return getitem(a, tuple(key))


def _sort_args(x, axis, kind, order, who):
    if order is not None:
        raise TypeError(f"{who}: order= (sorting by record fields) is not supported")
    x = as_tensor_variable(x)
    return x, _check_axis(axis, x, who), _check_kind(kind, who)


def sort(a, axis=-1, kind="quicksort", order=None):
    """A sorted copy of ``a`` along ``axis`` (numpy.sort); ``axis=None`` flattens first."""
    a, axis, kind = _sort_args(a, axis, kind, order, "sort")
    return Sort(axis, kind)(a)


def argsort(a, axis=-1, kind="quicksort", order=None):
    """The int64 indices that sort ``a`` along ``axis`` (numpy.argsort); ``axis=None``
    indexes the flattened array."""
    a, axis, kind = _sort_args(a, axis, kind, order, "argsort")
    return ArgSort(axis, kind)(a)


class Nonzero(Op):
    """``Nonzero(return_matrix)(x)``: the int64 indices of the non-zero entries of ``x``.

    With ``return_matrix=False`` there is one output vector per dimension (numpy.nonzero);
    with ``True``, one (ndim, n) matrix. The count ``n`` is only known once the
    data is: the Python interpreter handles that, and a compiled backend must
    allocate outputs of data-dependent size.
    """

    __props__ = ("return_matrix",)

    def __init__(self, return_matrix=False):
        self.return_matrix = bool(return_matrix)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise TypeError(f"nonzero expects an array of at least 1 dimension, got the 0-d "
                            f"{x} ({x.type}); use nonzero(x.flatten()) or flatnonzero(x)")
        if self.return_matrix:
            outs = [TensorType("int64", shape=(x.ndim, None))()]
        else:
            outs = [TensorType("int64", shape=(None,))() for _ in range(x.ndim)]
        return Apply(self, [x], outs)

    def perform(self, node, inputs, output_storage):
        idx = np.nonzero(inputs[0])
        if self.return_matrix:
            out = np.empty((len(idx), idx[0].shape[0]), dtype="int64")
            for d, i in enumerate(idx):
                out[d] = i
            output_storage[0][0] = out
        else:
            for store, i in zip(output_storage, idx):
                store[0] = i.astype("int64", copy=False)

    def infer_shape(self, fgraph, node, input_shapes):
        from symgraph.tensor.math import cast, neq
        from symgraph.tensor.reduction import sum as sum_
        x = node.inputs[0]
        n = cast(sum_(neq(x, constant(0, dtype=x.dtype)), dtype="int64"), "int64")
        if self.return_matrix:
            return [(constant(x.ndim, dtype="int64"), n)]
        return [(n,)] * x.ndim

    def connection_pattern(self, node):
        return [[False] * len(node.outputs)]

    def L_op(self, inputs, outputs, output_grads):
        from symgraph.gradient import disconnected_type
        return [disconnected_type()]

    def R_op(self, inputs, eval_points):
        return [None] * (1 if self.return_matrix else inputs[0].ndim)


def nonzero(a, return_matrix=False):
    """The indices of the non-zero entries of ``a``: a tuple of int64 vectors, one per
    dimension (numpy.nonzero), or with ``return_matrix`` one (ndim, n) int64 matrix (as
    Theano).

    The number of entries is not known statically (the outputs' length is None):
    this runs on the Python interpreter; a compiled backend must handle outputs
    whose size depends on the data.
    """
    a = as_tensor_variable(a)
    if return_matrix:
        return Nonzero(True)(a)
    return tuple(Nonzero(False)(a, return_list=True))


def flatnonzero(a):
    """The int64 indices of the non-zero entries of ``a`` flattened (numpy.flatnonzero).

    Its length depends on the data: see ``nonzero``.
    """
    from symgraph.tensor.elemwise import dimshuffle
    from symgraph.tensor.math import add, mul
    from symgraph.tensor.shape import shape_i
    a = as_tensor_variable(a)
    if a.ndim == 0:
        a = dimshuffle(a, ("x",))
    idx = nonzero(a)
    # The C-order flat index of (i0, i1, ...) is ((i0 * n1 + i1) * n2 + i2) ...
    flat = idx[0]
    for d in range(1, a.ndim):
        flat = add(mul(flat, shape_i(a, d)), idx[d])
    return flat


def argwhere(a):
    """The indices of the non-zero entries of ``a`` as an (n, ndim) int64 matrix, one row
    per entry (numpy.argwhere). Its length depends on the data: see ``nonzero``."""
    from symgraph.tensor.elemwise import transpose
    a = as_tensor_variable(a)
    if a.ndim == 0:
        raise TypeError(f"argwhere expects an array of at least 1 dimension, got the 0-d {a} "
                        f"({a.type})")
    return transpose(nonzero(a, return_matrix=True))


__all__ = ["Sort", "ArgSort", "Nonzero", "sort", "argsort", "nonzero", "flatnonzero",
           "argwhere"]
