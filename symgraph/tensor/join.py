"""Joining and splitting tensors: concatenate/join, stack, split, tile, repeat,
horizontal_stack and vertical_stack."""

from __future__ import annotations

import operator

import numpy as np

from symgraph.graph.basic import Apply, Constant, Variable
from symgraph.graph.op import Op
from symgraph.graph.utils import MethodNotDefined, ShapeError
from symgraph.scalar.basic import upcast
from symgraph.tensor.axes import normalize_axis
from symgraph.tensor.basic import as_tensor_variable, constant
from symgraph.tensor.shape import (
    _fmt_shape, _mul_all, as_int_vector, as_shape_vector, expand_dims, shape_padleft,
    static_vector_entries, vector_elements,
)
from symgraph.tensor.type import INTEGER_DTYPES, TensorType


def _shapes_str(values):
    return ", ".join(str(tuple(v.shape)) for v in values)


def _add_all(values):
    from symgraph.tensor.math import add

    out = None
    for v in values:
        out = v if out is None else add(out, v)
    return constant(0, dtype="int64") if out is None else out


# --------------------------------------------------------------------------- join

class Join(Op):
    """Concatenate tensors of equal rank along ``axis``; the dtype is NumPy's promotion."""

    __props__ = ("axis",)

    def __init__(self, axis=0):
        self.axis = operator.index(axis)

    def make_node(self, *tensors):
        if not tensors:
            raise ValueError("join needs at least one tensor")
        tensors = [as_tensor_variable(t) for t in tensors]
        first = tensors[0]
        if first.ndim == 0:
            raise TypeError(f"join: cannot join 0-d tensors ({first} is {first.type}); "
                            "use stack to build a vector from scalars")
        for t in tensors[1:]:
            if t.ndim != first.ndim:
                raise TypeError(f"join: every input needs the same number of dimensions; {first} "
                                f"is {first.type} but {t} is {t.type}")
        axis = normalize_axis(self.axis, first.ndim, "join")
        shapes = [t.type.shape for t in tensors]
        out_shape = []
        for d in range(first.ndim):
            lens = [s[d] for s in shapes]
            if d == axis:
                out_shape.append(None if None in lens else sum(lens))
                continue
            known = {n for n in lens if n is not None}
            if len(known) > 1:
                raise ShapeError(
                    f"join along axis {axis}: the inputs differ in dimension {d} "
                    f"(static shapes {', '.join(_fmt_shape(s) for s in shapes)})")
            out_shape.append(known.pop() if known else None)
        dtype = upcast(*[t.dtype for t in tensors])
        return Apply(self, tensors, [TensorType(dtype, shape=tuple(out_shape))()])

    def perform(self, node, inputs, output_storage):
        axis = self.axis % inputs[0].ndim
        ref = inputs[0].shape
        for v in inputs[1:]:
            if v.ndim != len(ref) or any(a != b for d, (a, b) in enumerate(zip(ref, v.shape))
                                         if d != axis):
                raise ValueError(f"join along axis {axis}: the input shapes {_shapes_str(inputs)} "
                                 "must agree in every other dimension")
        out = np.concatenate(inputs, axis=axis)
        output_storage[0][0] = out.astype(node.outputs[0].type.dtype, copy=False)

    def infer_shape(self, fgraph, node, input_shapes):
        ndim = node.outputs[0].ndim
        axis = self.axis % ndim
        out = []
        for d in range(ndim):
            s = node.outputs[0].type.shape[d]
            if s is not None:
                out.append(constant(s, dtype="int64"))
            elif d == axis:
                out.append(_add_all(shp[d] for shp in input_shapes))
            else:
                out.append(input_shapes[0][d])
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        from symgraph.tensor.shape import shape_i

        (g,) = output_grads
        if len(inputs) == 1:
            return [g]
        axis = self.axis % g.ndim
        # cut g where the inputs were glued (their lengths may be symbolic)
        return split(g, [shape_i(t, axis) for t in inputs], len(inputs), axis)

    def R_op(self, inputs, eval_points):
        if all(t is None for t in eval_points):
            return [None]
        from symgraph.tensor.creation import zeros_like
        return [self(*[zeros_like(x) if t is None else t
                       for x, t in zip(inputs, eval_points)])]


def concatenate(tensors, axis=0):
    """Join a sequence of tensors along an existing axis (numpy.concatenate).

    ``axis=None`` flattens the tensors first. The dtype is NumPy's promotion of
    the inputs' dtypes; lengths off the axis must agree.
    """
    if isinstance(tensors, Variable) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"concatenate takes a list or tuple of tensors, got "
                        f"{type(tensors).__name__}")
    tensors = [as_tensor_variable(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate needs at least one tensor")
    if axis is None:
        from symgraph.tensor.shape import flatten
        tensors = [flatten(t) for t in tensors]
        axis = 0
    if tensors[0].ndim == 0:
        raise TypeError(f"concatenate: cannot join 0-d tensors ({tensors[0]} is "
                        f"{tensors[0].type}); use stack to build a vector from scalars")
    axis = normalize_axis(axis, tensors[0].ndim, "concatenate")
    if len(tensors) == 1:
        return tensors[0]
    return Join(axis)(*tensors)


def join(axis, *tensors):
    """Theano's spelling of concatenate: ``join(axis, a, b, ...)``."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    return concatenate(list(tensors), axis=axis)


def stack(*tensors, axis=0):
    """Join tensors of one shape along a new axis (numpy.stack): ``stack([a, b], axis=0)``.

    Theano's older ``stack(a, b, c)`` form works too. Python numbers among
    variables are weak: they take the variables' dtype (NEP 50).
    """
    if tensors and isinstance(tensors[0], (list, tuple)):
        if len(tensors) > 2:
            raise TypeError("stack(tensors, axis): give the tensors as one list")
        if len(tensors) == 2:
            axis = tensors[1]
        items = list(tensors[0])
    else:
        items = list(tensors)
    if not items:
        raise ValueError("stack needs at least one tensor")
    from symgraph.tensor.math import as_elemwise_inputs
    items = as_elemwise_inputs(items)
    first = items[0]
    for t in items[1:]:
        if t.ndim != first.ndim:
            raise TypeError(f"stack: every input needs the same shape; {first} is {first.type} "
                            f"but {t} is {t.type}")
        for a, b in zip(first.type.shape, t.type.shape):
            if a is not None and b is not None and a != b:
                raise ShapeError(f"stack: every input needs the same shape; {first} has static "
                                 f"shape {_fmt_shape(first.type.shape)} but {t} has "
                                 f"{_fmt_shape(t.type.shape)}")
    axis = normalize_axis(axis, first.ndim + 1, "stack")
    expanded = [expand_dims(t, axis) for t in items]
    if len(expanded) == 1:
        return expanded[0]
    return Join(axis)(*expanded)


def _atleast(t, n):
    t = as_tensor_variable(t)
    if t.ndim >= n:
        return t
    if n == 2 and t.ndim == 1:
        return expand_dims(t, 0)
    return shape_padleft(t, n - t.ndim)


def horizontal_stack(*tensors):
    """Stack tensors column-wise (numpy.hstack): along axis 1, or axis 0 for vectors.

    Takes the tensors as arguments (Theano) or as one list (NumPy).
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    items = [_atleast(t, 1) for t in tensors]
    if not items:
        raise ValueError("horizontal_stack needs at least one tensor")
    return concatenate(items, axis=0 if items[0].ndim == 1 else 1)


def vertical_stack(*tensors):
    """Stack tensors row-wise (numpy.vstack): vectors become rows, then join on axis 0.

    Takes the tensors as arguments (Theano) or as one list (NumPy).
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    items = [_atleast(t, 2) for t in tensors]
    if not items:
        raise ValueError("vertical_stack needs at least one tensor")
    return concatenate(items, axis=0)


hstack = horizontal_stack
vstack = vertical_stack


# --------------------------------------------------------------------------- split

class Split(Op):
    """Cut ``x`` along ``axis`` into ``len_splits`` pieces whose lengths are the int
    vector ``splits``; each piece is a view of ``x``."""

    __props__ = ("len_splits", "axis")

    def __init__(self, len_splits, axis=0):
        self.len_splits = operator.index(len_splits)
        if self.len_splits < 1:
            raise ValueError(f"Split: len_splits must be >= 1, got {len_splits}")
        self.axis = operator.index(axis)
        self.view_map = {i: [0] for i in range(self.len_splits)}

    def make_node(self, x, splits):
        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise TypeError(f"split: cannot split the 0-d {x} ({x.type})")
        splits = as_int_vector(splits, self.len_splits,
                               f"split into {self.len_splits} pieces", "the sizes")
        axis = normalize_axis(self.axis, x.ndim, "split")
        sizes = static_vector_entries(splits, self.len_splits)
        if any(s is not None and s < 0 for s in sizes):
            raise ValueError(f"split: sizes must be >= 0, got {_fmt_shape(sizes)}")
        length = x.type.shape[axis]
        if length is not None and None not in sizes and sum(sizes) != length:
            raise ShapeError(f"split: the sizes {_fmt_shape(sizes)} sum to {sum(sizes)}, but "
                             f"dimension {axis} of {x} ({x.type}) has length {length}")
        outs = []
        for s in sizes:
            shp = list(x.type.shape)
            shp[axis] = s
            outs.append(TensorType(x.dtype, shape=tuple(shp))())
        return Apply(self, [x, splits], outs)

    def perform(self, node, inputs, output_storage):
        x, sizes = inputs
        axis = self.axis % x.ndim
        if len(sizes) != self.len_splits:
            raise ValueError(f"split: expected {self.len_splits} sizes, got {len(sizes)} "
                             f"({sizes.tolist()})")
        if (sizes < 0).any():
            raise ValueError(f"split: sizes must be >= 0, got {sizes.tolist()}")
        if sizes.sum() != x.shape[axis]:
            raise ValueError(f"split: the sizes {sizes.tolist()} sum to {int(sizes.sum())}, but "
                             f"dimension {axis} of the input (shape {x.shape}) has length "
                             f"{x.shape[axis]}")
        parts = np.split(x, np.cumsum(sizes)[:-1], axis=axis)
        for store, p in zip(output_storage, parts):
            store[0] = p

    def infer_shape(self, fgraph, node, input_shapes):
        xshape = input_shapes[0]
        axis = self.axis % len(xshape)
        sizes = vector_elements(node.inputs[1], self.len_splits)
        out = []
        for o, s in zip(node.outputs, sizes):
            static = o.type.shape[axis]
            shp = list(xshape)
            shp[axis] = constant(static, dtype="int64") if static is not None else s
            out.append(tuple(shp))
        return out

    def L_op(self, inputs, outputs, output_grads):
        # grad() passes zeros for pieces that got no gradient
        from symgraph.gradient import disconnected_type
        return [concatenate(list(output_grads), axis=self.axis), disconnected_type()]

    def R_op(self, inputs, eval_points):
        t = eval_points[0]
        if t is None:
            return [None] * self.len_splits
        return self(t, inputs[1], return_list=True)


def split(x, splits_size, n_splits, axis=0):
    """Cut ``x`` along ``axis`` into ``n_splits`` pieces of lengths ``splits_size``
    (ints, int scalars or an int vector); returns a list of ``n_splits`` views.

    The sizes must add up to the length of the axis (checked at run time when
    not known before).
    """
    x = as_tensor_variable(x)
    vec, n = as_shape_vector(splits_size, "split")
    n_splits = operator.index(n_splits)
    if n is not None and n != n_splits:
        raise ValueError(f"split: n_splits={n_splits} but {n} sizes were given")
    if x.ndim == 0:
        raise TypeError(f"split: cannot split the 0-d {x} ({x.type})")
    axis = normalize_axis(axis, x.ndim, "split")
    return Split(n_splits, axis)(x, vec, return_list=True)


# --------------------------------------------------------------------------- tile

class Tile(Op):
    """Repeat the whole of ``x`` ``reps[d]`` times along each dimension d (numpy.tile
    once ``x`` and ``reps`` have the same length ``ndim``)."""

    __props__ = ("ndim",)

    def __init__(self, ndim):
        self.ndim = operator.index(ndim)

    def make_node(self, x, reps):
        x = as_tensor_variable(x)
        if x.ndim != self.ndim:
            raise TypeError(f"Tile({self.ndim}): expected a {self.ndim}-d tensor, got {x} "
                            f"({x.type})")
        reps = as_int_vector(reps, self.ndim, f"Tile({self.ndim})", "reps")
        known = static_vector_entries(reps, self.ndim)
        if any(r is not None and r < 0 for r in known):
            raise ValueError(f"tile: reps must be >= 0, got {_fmt_shape(known)}")
        shape = []
        for s, r in zip(x.type.shape, known):
            if s == 0 or r == 0:
                shape.append(0)
            else:
                shape.append(None if s is None or r is None else s * r)
        return Apply(self, [x, reps], [TensorType(x.dtype, shape=tuple(shape))()])

    def perform(self, node, inputs, output_storage):
        x, reps = inputs
        if len(reps) != self.ndim:
            raise ValueError(f"tile: reps {reps.tolist()} has {len(reps)} entries, expected "
                             f"{self.ndim} (input shape {x.shape})")
        if (reps < 0).any():
            raise ValueError(f"tile: reps must be >= 0, got {reps.tolist()} (input shape "
                             f"{x.shape})")
        output_storage[0][0] = np.tile(x, tuple(int(r) for r in reps))

    def infer_shape(self, fgraph, node, input_shapes):
        from symgraph.tensor.math import mul

        static = node.outputs[0].type.shape
        reps = vector_elements(node.inputs[1], self.ndim)
        return [tuple(constant(s, dtype="int64") if s is not None else mul(xs, r)
                      for s, xs, r in zip(static, input_shapes[0], reps))]

    def L_op(self, inputs, outputs, output_grads):
        from symgraph.gradient import disconnected_type
        from symgraph.tensor.reduction import sum as sum_
        from symgraph.tensor.shape import reshape, shape_i

        x, reps = inputs
        (g,) = output_grads
        if self.ndim == 0:
            return [g, disconnected_type()]
        # along each dimension the output is reps[d] copies of x: separate the copy
        # index from the position in x, then add the copies up
        split_shape = []
        for r, d in zip(vector_elements(reps, self.ndim), range(self.ndim)):
            split_shape += [r, shape_i(x, d)]
        gx = sum_(reshape(g, split_shape), axis=tuple(range(0, 2 * self.ndim, 2)))
        return [gx, disconnected_type()]

    def R_op(self, inputs, eval_points):
        t = eval_points[0]
        return [None if t is None else self(t, inputs[1])]


def tile(x, reps, ndim=None):
    """Repeat ``x`` ``reps`` times along each dimension (numpy.tile).

    ``reps`` is an int, a tuple of ints and int scalars, or an int vector; the
    shorter of ``x.shape`` and ``reps`` is padded with ones on the left. For a
    symbolic ``reps`` of unknown length, ``ndim`` gives its length (the rank of
    the result, at least ``x.ndim``).
    """
    x = as_tensor_variable(x)
    vec, n = as_shape_vector(reps, "tile")
    if n is None:
        if ndim is None:
            raise TypeError(f"tile: the length of reps {vec} ({vec.type}) is not known "
                            "statically; pass ndim=")
        n = operator.index(ndim)
        if n < x.ndim:
            raise ValueError(f"tile: ndim={n} is less than the rank of {x} ({x.type})")
    out_nd = max(x.ndim, n)
    if ndim is not None and operator.index(ndim) != out_nd:
        raise ValueError(f"tile: ndim={ndim}, but tiling {x} ({x.type}) by {n} reps gives "
                         f"{out_nd} dimensions")
    if n < out_nd:
        vec = concatenate([constant(np.ones(out_nd - n, dtype="int64")), vec])
    return Tile(out_nd)(shape_padleft(x, out_nd - x.ndim), vec)


# --------------------------------------------------------------------------- repeat

class Repeat(Op):
    """Repeat each element of ``x`` along ``axis`` (numpy.repeat); ``repeats`` is an int
    scalar or a vector with one count per element (or one for all). ``axis=None``
    works on the flattened ``x``."""

    __props__ = ("axis",)

    def __init__(self, axis=None):
        self.axis = None if axis is None else operator.index(axis)

    def make_node(self, x, repeats):
        x = as_tensor_variable(x)
        repeats = as_tensor_variable(repeats)
        if repeats.ndim > 1 or repeats.dtype not in INTEGER_DTYPES:
            raise TypeError(f"repeat: repeats must be an integer scalar or vector, got {repeats} "
                            f"of type {repeats.type}")
        from symgraph.tensor.math import cast
        known = None
        if isinstance(repeats, Constant):
            known = np.asarray(repeats.data).astype("int64")
            if (known < 0).any():
                raise ValueError(f"repeat: repeats must be >= 0, got {known.tolist()}")
        repeats = cast(repeats, "int64")
        if self.axis is None:
            n = None if None in x.type.shape else int(np.prod(x.type.shape, dtype="int64"))
            shape = [None]
            axis = 0
        else:
            axis = normalize_axis(self.axis, x.ndim, "repeat")
            n = x.type.shape[axis]
            shape = list(x.type.shape)
        rlen = repeats.type.shape[0] if repeats.ndim else 1
        if repeats.ndim == 1 and rlen is not None and rlen != 1 and n is not None and rlen != n:
            raise ShapeError(f"repeat: {rlen} repeat counts for {n} elements along the axis "
                             f"of {x} ({x.type})")
        if n == 0:
            shape[axis] = 0
        elif known is not None and (known.size == 1 and n is not None):
            shape[axis] = n * int(known.reshape(-1)[0])
        elif known is not None and known.size != 1:
            shape[axis] = int(known.sum())
        else:
            shape[axis] = None
        return Apply(self, [x, repeats], [TensorType(x.dtype, shape=tuple(shape))()])

    def perform(self, node, inputs, output_storage):
        x, repeats = inputs
        if (repeats < 0).any():
            raise ValueError(f"repeat: repeats must be >= 0, got {repeats.tolist()}")
        n = x.size if self.axis is None else x.shape[self.axis]
        if repeats.ndim == 1 and repeats.size not in (1, n):
            where = "the flattened input" if self.axis is None else f"axis {self.axis}"
            raise ValueError(f"repeat: repeats of shape {repeats.shape} do not match the "
                             f"{n} elements along {where} (input shape {x.shape})")
        output_storage[0][0] = np.repeat(x, repeats, axis=self.axis)

    def infer_shape(self, fgraph, node, input_shapes):
        from symgraph.tensor.math import eq, mul, switch

        x, repeats = node.inputs
        static = node.outputs[0].type.shape
        xshape = input_shapes[0]
        axis = 0 if self.axis is None else self.axis % x.ndim
        n = _mul_all(xshape) if self.axis is None else xshape[axis]
        if static[axis] is not None:
            length = constant(static[axis], dtype="int64")
        elif repeats.ndim == 0:
            length = mul(n, repeats)
        else:
            rlen = repeats.type.shape[0]
            if rlen == 1:
                length = mul(n, vector_elements(repeats, 1)[0])
            elif rlen is not None and rlen <= 16:
                length = _add_all(vector_elements(repeats, rlen))
            else:
                try:
                    from symgraph.tensor.reduction import sum as sum_
                except ImportError:
                    raise MethodNotDefined("Repeat.infer_shape needs reduction.sum for a "
                                           "repeats vector of unknown length") from None
                total = sum_(repeats)
                if total.dtype != "int64":
                    from symgraph.tensor.math import cast
                    total = cast(total, "int64")
                one = constant(1, dtype="int64")
                # one count for all elements repeats each of the n elements that often
                length = mul(total, switch(eq(input_shapes[1][0], 1), n, one))
        out = list(xshape) if self.axis is not None else [None]
        out[axis] = length
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        from symgraph.gradient import disconnected_type
        from symgraph.tensor.reduction import sum as sum_
        from symgraph.tensor.shape import reshape, shape_i, size

        x, repeats = inputs
        (g,) = output_grads
        if self.axis is None:
            axis, n = 0, size(x)
            lead, tail = [], []
        else:
            axis = self.axis % x.ndim
            n = shape_i(x, axis)
            lead = [shape_i(x, d) for d in range(axis)]
            tail = [shape_i(x, d) for d in range(axis + 1, x.ndim)]
        if repeats.ndim == 0 or repeats.type.shape[0] == 1:
            # every element repeated r times: output position j * r + c comes from j
            r = repeats if repeats.ndim == 0 else vector_elements(repeats, 1)[0]
            gx = sum_(reshape(g, lead + [n, r] + tail), axis=axis + 1)
        else:
            # one count per element (or, at run time, one for all): add up each group
            # by scattering g onto the source index of every output position
            from symgraph.tensor.creation import arange, zeros
            from symgraph.tensor.subtensor import inc_subtensor

            src = Repeat(0)(arange(n), repeats)
            base = zeros(lead + [n] + tail, dtype=g.dtype)
            gx = inc_subtensor(base[(slice(None),) * axis + (src,)], g)
        if self.axis is None and x.ndim != 1:
            gx = reshape(gx, [shape_i(x, d) for d in range(x.ndim)])
        return [gx, disconnected_type()]

    def R_op(self, inputs, eval_points):
        t = eval_points[0]
        return [None if t is None else self(t, inputs[1])]


def repeat(x, repeats, axis=None):
    """Repeat each element of ``x`` ``repeats`` times along ``axis`` (numpy.repeat).

    ``repeats`` is an int, a sequence of ints, or an int scalar/vector variable;
    with ``axis=None`` the result is 1-d (``x`` flattened first).
    """
    x = as_tensor_variable(x)
    if isinstance(repeats, (bool, np.bool_)):
        raise TypeError(f"repeat: repeats must be integers, got {repeats!r}")
    if isinstance(repeats, (int, np.integer)):
        repeats = constant(int(repeats), dtype="int64")
    elif isinstance(repeats, (list, tuple)) and not any(isinstance(r, Variable) for r in repeats):
        arr = np.asarray(repeats)
        if arr.size and arr.dtype.kind not in "iu":
            raise TypeError(f"repeat: repeats must be integers, got {repeats!r}")
        repeats = constant(arr.astype("int64"))
    repeats = as_tensor_variable(repeats)
    if axis is not None:
        axis = normalize_axis(axis, x.ndim, "repeat")
    return Repeat(axis)(x, repeats)


__all__ = ["Join", "Split", "Tile", "Repeat", "concatenate", "join", "stack", "split", "tile",
           "repeat", "horizontal_stack", "vertical_stack", "hstack", "vstack"]
