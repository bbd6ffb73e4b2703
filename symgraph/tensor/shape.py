"""Shape ops: shape, shape_i, specify_shape, reshape and friends (flatten, squeeze,
expand_dims, size, the shape_pad* helpers, specify_broadcastable, unbroadcast)."""

from __future__ import annotations

import operator

import numpy as np

from symgraph.graph.basic import Apply, Constant, Variable
from symgraph.graph.op import Op
from symgraph.graph.utils import ShapeError
from symgraph.tensor.axes import axis_entries, normalize_axis, normalize_axes
from symgraph.tensor.basic import as_tensor_variable, constant
from symgraph.tensor.type import INTEGER_DTYPES, TensorType


class Shape(Op):
    """The shape of a tensor, as an int64 vector."""

    __props__ = ()

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", shape=(x.ndim,))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0].shape, dtype="int64")

    def infer_shape(self, fgraph, node, input_shapes):
        return [(constant(node.inputs[0].ndim, dtype="int64"),)]

    def connection_pattern(self, node):
        return [[False]]

    def L_op(self, inputs, outputs, output_grads):
        from symgraph.gradient import disconnected_type
        return [disconnected_type()]

    def R_op(self, inputs, eval_points):
        return [None]


class Shape_i(Op):
    """The length of dimension ``i``, as an int64 scalar."""

    __props__ = ("i",)

    def __init__(self, i):
        self.i = int(i)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if not 0 <= self.i < x.ndim:
            raise ValueError(f"Shape_i({self.i}) of {x}, which has {x.ndim} dimensions")
        return Apply(self, [x], [TensorType("int64", shape=())()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0].shape[self.i], dtype="int64")

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]

    def connection_pattern(self, node):
        return [[False]]

    def L_op(self, inputs, outputs, output_grads):
        from symgraph.gradient import disconnected_type
        return [disconnected_type()]

    def R_op(self, inputs, eval_points):
        return [None]


_shape = Shape()


def shape(x):
    """The symbolic shape of ``x`` (an int64 vector)."""
    return _shape(as_tensor_variable(x))


def shape_i(x, i, fgraph=None):
    """The length of dimension ``i`` of ``x``: a constant when statically known."""
    x = as_tensor_variable(x)
    n = x.type.shape[i]
    if n is not None:
        return constant(n, dtype="int64")
    if fgraph is not None and hasattr(fgraph, "shape_feature"):
        return fgraph.shape_feature.get_shape(x, i)
    return Shape_i(i % x.ndim)(x)


class SpecifyShape(Op):
    """Assert a (partly) known static shape; the output carries it in its type."""

    __props__ = ("shape",)
    view_map = {0: [0]}

    def __init__(self, shape):
        self.shape = tuple(None if s is None else int(s) for s in shape)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim != len(self.shape):
            raise TypeError(f"specify_shape: {x} has {x.ndim} dimensions, shape {self.shape} has "
                            f"{len(self.shape)}")
        new = []
        for d, (a, b) in enumerate(zip(x.type.shape, self.shape)):
            if a is not None and b is not None and a != b:
                raise ShapeError(f"specify_shape: dimension {d} of {x} has static length {a}, "
                                 f"not {b}")
            new.append(b if b is not None else a)
        return Apply(self, [x], [TensorType(x.dtype, shape=tuple(new))()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        for d, (n, want) in enumerate(zip(x.shape, self.shape)):
            if want is not None and n != want:
                raise ShapeError(f"specify_shape: expected shape {self.shape}, got {x.shape}")
        output_storage[0][0] = x

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(constant(s, dtype="int64") if s is not None else i
                      for s, i in zip(self.shape, input_shapes[0]))]

    def L_op(self, inputs, outputs, output_grads):
        # the identity; the gradient has the same (checked) shape
        return [specify_shape(output_grads[0], self.shape)]

    def R_op(self, inputs, eval_points):
        t = eval_points[0]
        return [None if t is None else specify_shape(t, self.shape)]


def specify_shape(x, shape):
    """``x`` with a static shape: a tuple of int (or None to leave a dimension open)."""
    x = as_tensor_variable(x)
    shape = tuple(shape)
    for s in shape:
        if isinstance(s, Variable):
            raise TypeError("specify_shape takes static lengths (int or None), not variables")
    if tuple(x.type.shape) == tuple(shape):
        return x
    return SpecifyShape(shape)(x)


def broadcast_shape_symbolic(inputs, input_shapes):
    """Output shape of broadcasting equal-rank ``inputs`` given their symbolic shapes."""
    ndim = inputs[0].ndim if inputs else 0
    out = []
    for d in range(ndim):
        chosen = None
        for i, shp in zip(inputs, input_shapes):
            n = i.type.shape[d]
            if n is not None and n != 1:
                chosen = constant(n, dtype="int64")
                break
            if n is None and chosen is None:
                chosen = shp[d]
        out.append(chosen if chosen is not None else constant(1, dtype="int64"))
    return tuple(out)


# --------------------------------------------------------------------------- helpers

def _fmt_shape(shape):
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _prod(values):
    out = 1
    for v in values:
        out *= int(v)
    return out


def _as_int_scalar(v, what):
    """One shape entry as an int64 0-d variable (Python ints become constants)."""
    from symgraph.tensor.math import cast

    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{what}: shape entries must be integers, got {v!r}")
    if isinstance(v, (int, np.integer)):
        return constant(int(v), dtype="int64")
    v = as_tensor_variable(v)
    if v.ndim != 0 or v.dtype not in INTEGER_DTYPES:
        raise TypeError(f"{what}: shape entries must be integer scalars, got {v} of type {v.type}")
    return cast(v, "int64")


def as_int_vector(v, length, what, name):
    """The integer vector ``v`` cast to int64, checked to hold ``length`` entries when
    its static length is known (``length=None``: any). ``what`` names the caller and
    ``name`` the argument in errors: TypeError for a non-integer or non-vector
    ``v``, ShapeError for a wrong static length."""
    from symgraph.tensor.math import cast

    v = as_tensor_variable(v)
    if v.ndim != 1 or v.dtype not in INTEGER_DTYPES:
        raise TypeError(f"{what}: {name} must be an integer vector, got {v} of type {v.type}")
    v = cast(v, "int64")
    n = v.type.shape[0]
    if length is not None and n is not None and n != length:
        raise ShapeError(f"{what}: {name} {v} has {n} entries, expected {length}")
    return v


def as_shape_vector(value, what="shape"):
    """``value`` (an int, a sequence of ints and int scalars, or an int vector) as an int64
    vector, with its static length (None when unknown)."""
    from symgraph.tensor.math import cast

    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what}: expected an integer or a sequence of integers, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return constant(np.array([int(value)], dtype="int64")), 1
    if isinstance(value, (list, tuple)):
        entries = list(value)
        if all(isinstance(e, Constant) and e.ndim == 0 for e in entries
               if isinstance(e, Variable)):
            vals = []
            for e in entries:
                d = e.data if isinstance(e, Constant) else e
                if isinstance(d, (bool, np.bool_)) or np.asarray(d).dtype.kind not in "iu" \
                        or np.ndim(d) != 0:
                    raise TypeError(f"{what}: shape entries must be integers, got {e!r}")
                vals.append(int(d))
            return constant(np.array(vals, dtype="int64")), len(vals)
        from symgraph.tensor.join import stack
        return stack([_as_int_scalar(e, what) for e in entries]), len(entries)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iu" or value.ndim > 1:
            raise TypeError(f"{what}: expected an integer vector, got an array of dtype "
                            f"{value.dtype} and shape {value.shape}")
        return constant(value.reshape(-1).astype("int64")), value.size
    v = as_tensor_variable(value)
    if v.dtype not in INTEGER_DTYPES or v.ndim > 1:
        raise TypeError(f"{what}: expected an integer scalar or vector, got {v} of type {v.type}")
    if v.ndim == 0:
        from symgraph.tensor.join import stack
        return stack([cast(v, "int64")]), 1
    return cast(v, "int64"), v.type.shape[0]


def vector_elements(v, n, build=True):
    """The ``n`` entries of the int vector ``v`` as 0-d variables.

    Entries are read through constants, stacks of scalars and ``shape(x)``
    without new computation; otherwise (with ``build``) ``v`` is split. With
    ``build=False``, entries that cannot be read without computation are None.
    """
    from symgraph.tensor.math import cast

    def same_dtype(elems):
        return [e if e is None or e.dtype == v.dtype else cast(e, v.dtype) for e in elems]

    if isinstance(v, Constant):
        data = np.asarray(v.data).reshape(-1)
        return [constant(d, dtype=v.dtype) for d in data]
    node = v.owner
    if node is not None:
        from symgraph.scalar.basic import Cast
        from symgraph.tensor.elemwise import DimShuffle, Elemwise
        from symgraph.tensor.join import Join
        op = node.op
        if isinstance(op, Shape):
            return same_dtype(shape_i(node.inputs[0], d) for d in range(node.inputs[0].ndim))
        if isinstance(op, SpecifyShape) or (isinstance(op, Elemwise) and
                                            isinstance(op.scalar_op, Cast)):
            return same_dtype(vector_elements(node.inputs[0], n, build))
        if isinstance(op, Join) and v.ndim == 1 and \
                all(i.type.shape[0] is not None for i in node.inputs):
            out = []
            for i in node.inputs:
                if isinstance(i.owner and i.owner.op, DimShuffle) and \
                        i.owner.op.new_order == ("x",):
                    out.append(i.owner.inputs[0])
                else:
                    out.extend(vector_elements(i, i.type.shape[0], build))
            return same_dtype(out)
    if not build:
        return [None] * n
    from symgraph.tensor.elemwise import dimshuffle
    from symgraph.tensor.join import split
    parts = split(v, [1] * n, n) if n != 1 else [specify_shape(v, (1,))]
    return [dimshuffle(p, ()) for p in parts]


def static_vector_entries(v, n):
    """The Python ints in the int vector ``v`` that are known statically (None elsewhere)."""
    from symgraph.tensor.basic import NotScalarConstantError, get_scalar_constant_value

    if v.type.shape[0] is None and not isinstance(v, Constant):
        return [None] * n
    out = []
    for e in vector_elements(v, n, build=False):
        try:
            out.append(None if e is None else int(get_scalar_constant_value(e)))
        except NotScalarConstantError:
            out.append(None)
    return out


def _mul_all(values):
    from symgraph.tensor.math import mul

    out = None
    for v in values:
        out = v if out is None else mul(out, v)
    return constant(1, dtype="int64") if out is None else out


def _is_length(e):
    """Whether the int scalar ``e`` is certainly >= 0: a length read off a tensor or a
    non-negative constant (a reshape entry that cannot be -1 is the output length)."""
    if isinstance(e, Constant):
        return bool(np.all(np.asarray(e.data) >= 0))
    return e.owner is not None and isinstance(e.owner.op, Shape_i)


# --------------------------------------------------------------------------- reshape

def _static_reshape(xtype, entries):
    """The static output shape of reshaping a value of ``xtype`` to ``entries``."""
    known = [e for e in entries if e is not None]
    shown = _fmt_shape(entries)
    if any(e < -1 for e in known):
        raise ValueError(f"reshape: shape entries must be >= 0, or -1 for one inferred "
                         f"length; got {shown}")
    if known.count(-1) > 1:
        raise ValueError(f"reshape: only one shape entry may be -1, got {shown}")
    out = [None if e is None or e == -1 else e for e in entries]
    if None in entries or None in xtype.shape:
        return tuple(out)
    size = _prod(xtype.shape)
    if -1 in entries:
        rest = _prod(e for e in entries if e != -1)
        if rest:
            if size % rest:
                raise ShapeError(f"reshape: cannot reshape {xtype} (size {size}) into shape "
                                 f"{shown}")
            out[entries.index(-1)] = size // rest
    elif _prod(entries) != size:
        raise ShapeError(f"reshape: cannot reshape {xtype} (size {size}) into shape {shown}")
    return tuple(out)


class Reshape(Op):
    """Give ``x`` the shape held by the int64 vector ``shp`` (of length ``ndim``).

    One entry may be -1: that length is inferred from the size, as in NumPy. The
    output is a view of the input whenever NumPy can make one.
    """

    __props__ = ("ndim",)
    view_map = {0: [0]}

    def __init__(self, ndim):
        self.ndim = int(ndim)
        if self.ndim < 0:
            raise ValueError(f"Reshape: ndim must be >= 0, got {ndim}")

    def make_node(self, x, shp):
        x = as_tensor_variable(x)
        shp = as_int_vector(shp, self.ndim, f"Reshape({self.ndim})", "the new shape")
        out_shape = _static_reshape(x.type, static_vector_entries(shp, self.ndim))
        return Apply(self, [x, shp], [TensorType(x.dtype, shape=out_shape)()])

    def perform(self, node, inputs, output_storage):
        x, shp = inputs
        new = tuple(int(s) for s in shp)
        if len(new) != self.ndim:
            raise ValueError(f"reshape: the shape vector {new} has {len(new)} entries, "
                             f"expected {self.ndim}")
        try:
            out = x.reshape(new)
        except ValueError:
            why = ""
            if any(s < -1 for s in new):
                why = "; entries must be >= 0, or -1 for one inferred length"
            elif new.count(-1) > 1:
                why = "; only one entry may be -1"
            raise ValueError(f"reshape: cannot reshape an array of shape {x.shape} "
                             f"(size {x.size}) into shape {new}{why}") from None
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        from symgraph.tensor.math import eq, int_div, neg, switch

        static = node.outputs[0].type.shape
        if all(s is not None for s in static):
            return [tuple(constant(s, dtype="int64") for s in static)]
        entries = vector_elements(node.inputs[1], self.ndim)
        known = static_vector_entries(node.inputs[1], self.ndim)
        size_x = _mul_all(input_shapes[0])
        out = []
        for i, (s, e, k) in enumerate(zip(static, entries, known)):
            if s is not None:
                out.append(constant(s, dtype="int64"))
            elif k is not None and k != -1:
                out.append(constant(k, dtype="int64"))
            elif k == -1:
                out.append(int_div(size_x, _mul_all(e2 for j, e2 in enumerate(entries) if j != i)))
            elif _is_length(e):  # never the -1 to infer
                out.append(e)
            else:
                # A -1 makes the product of all entries minus the product of the others.
                rest = neg(_mul_all(entries))
                out.append(switch(eq(e, -1), int_div(size_x, rest), e))
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        from symgraph.gradient import disconnected_type

        x, _ = inputs
        g = Reshape(x.ndim)(output_grads[0], _shape_vector_of(x))
        return [g, disconnected_type()]

    def R_op(self, inputs, eval_points):
        t = eval_points[0]
        return [None if t is None else self(t, inputs[1])]


def _shape_vector_of(x):
    """The shape of ``x`` as an int64 vector: a constant when it is known statically."""
    if all(s is not None for s in x.type.shape):
        return constant(np.array(x.type.shape, dtype="int64").reshape(-1))
    return shape(x)


def reshape(x, newshape, ndim=None):
    """``x`` with shape ``newshape`` (NumPy's reshape; one entry may be -1).

    ``newshape`` is an int, a tuple/list of ints and int scalar variables, or an
    int vector variable; for a vector whose length is not known statically,
    ``ndim`` gives the rank of the result.
    """
    x = as_tensor_variable(x)
    vec, n = as_shape_vector(newshape, "reshape")
    if n is None:
        if ndim is None:
            raise TypeError(f"reshape: the length of the shape vector {vec} ({vec.type}) is not "
                            "known statically, so the rank of the result is unknown; pass ndim=")
        n = int(ndim)
    elif ndim is not None and int(ndim) != n:
        raise ValueError(f"reshape: ndim={ndim} but the new shape has {n} entries")
    return Reshape(n)(x, vec)


def flatten(x, ndim=1):
    """Keep the first ``ndim - 1`` dimensions of ``x`` and collapse the rest into one
    (Theano's flatten; ``flatten(x)`` is a 1-d copy or view of every element)."""
    x = as_tensor_variable(x)
    ndim = operator.index(ndim)
    if x.ndim == 0 and ndim == 1:
        return reshape(x, (1,))
    if not 1 <= ndim <= x.ndim:
        raise ValueError(f"flatten: ndim must be between 1 and {x.ndim} for {x} ({x.type}), "
                         f"got {ndim}")
    if ndim == x.ndim:
        return x
    lead = [shape_i(x, d) for d in range(ndim - 1)]
    tail = x.type.shape[ndim - 1:]
    if all(s is not None for s in tail):
        last = _prod(tail)
    else:
        last = _mul_all(shape_i(x, d) for d in range(ndim - 1, x.ndim))
    return reshape(x, lead + [last])


def squeeze(x, axis=None):
    """``x`` without length-1 dimensions.

    With ``axis=None`` the dimensions of static length 1 go (those not known to
    be 1 cannot be dropped from a static graph). An explicit axis whose length is
    not statically 1 is checked at run time.
    """
    x = as_tensor_variable(x)
    if axis is None:
        axes = [d for d, s in enumerate(x.type.shape) if s == 1]
    else:
        axes = normalize_axes(axis, x.ndim, "squeeze", allow_none=False)
    for d in axes:
        s = x.type.shape[d]
        if s is not None and s != 1:
            raise ShapeError(f"squeeze: dimension {d} of {x} ({x.type}) has static length {s}, "
                             "not 1")
    if any(x.type.shape[d] is None for d in axes):
        x = specify_shape(x, tuple(1 if d in axes else s for d, s in enumerate(x.type.shape)))
    from symgraph.tensor.elemwise import dimshuffle
    return dimshuffle(x, [d for d in range(x.ndim) if d not in axes])


def expand_dims(x, axis):
    """``x`` with new length-1 (broadcastable) dimensions at ``axis`` (an int or a tuple,
    positions in the result, negative allowed), as numpy.expand_dims."""
    from symgraph.tensor.elemwise import dimshuffle

    x = as_tensor_variable(x)
    out_nd = x.ndim + len(axis_entries(axis))
    axes = normalize_axes(axis, out_nd, "expand_dims", allow_none=False)
    old = iter(range(x.ndim))
    return dimshuffle(x, ["x" if d in axes else next(old) for d in range(out_nd)])


def size(x):
    """The number of elements of ``x``, as an int64 scalar (a constant when known)."""
    x = as_tensor_variable(x)
    if all(s is not None for s in x.type.shape):
        return constant(_prod(x.type.shape), dtype="int64")
    return _mul_all(shape_i(x, d) for d in range(x.ndim))


def shape_padleft(x, n_ones=1):
    """``x`` with ``n_ones`` broadcastable dimensions added on the left."""
    from symgraph.tensor.elemwise import dimshuffle

    x = as_tensor_variable(x)
    n_ones = operator.index(n_ones)
    if n_ones < 0:
        raise ValueError(f"shape_padleft: n_ones must be >= 0, got {n_ones}")
    return dimshuffle(x, ["x"] * n_ones + list(range(x.ndim)))


def shape_padright(x, n_ones=1):
    """``x`` with ``n_ones`` broadcastable dimensions added on the right."""
    from symgraph.tensor.elemwise import dimshuffle

    x = as_tensor_variable(x)
    n_ones = operator.index(n_ones)
    if n_ones < 0:
        raise ValueError(f"shape_padright: n_ones must be >= 0, got {n_ones}")
    return dimshuffle(x, list(range(x.ndim)) + ["x"] * n_ones)


def shape_padaxis(x, axis):
    """``x`` with one broadcastable dimension inserted at ``axis`` (in
    ``[-x.ndim - 1, x.ndim]``)."""
    x = as_tensor_variable(x)
    return expand_dims(x, normalize_axis(axis, x.ndim + 1, "shape_padaxis"))


def specify_broadcastable(x, *axes):
    """``x`` declared to have length 1 (so to broadcast) along ``axes``; checked at run time."""
    x = as_tensor_variable(x)
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:
        return x
    axes = normalize_axes(axes, x.ndim, "specify_broadcastable", allow_none=False)
    return specify_shape(x, tuple(1 if d in axes else s for d, s in enumerate(x.type.shape)))


class Unbroadcast(Op):
    """Forget that some dimensions have static length 1 (they become unknown).

    The value passes through unchanged; only the type is less specific, e.g. so
    that a loop state keeps one type whatever its first value's shape.
    """

    __props__ = ("axes",)
    view_map = {0: [0]}

    def __init__(self, *axes):
        self.axes = tuple(sorted({operator.index(a) for a in axes}))

    def make_node(self, x):
        x = as_tensor_variable(x)
        normalize_axes(self.axes, x.ndim, "unbroadcast", of=x, negative=False)
        shape = tuple(None if d in self.axes and s == 1 else s
                      for d, s in enumerate(x.type.shape))
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0]

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]

    def L_op(self, inputs, outputs, output_grads):
        # the identity; grad() gives the gradient back x's static length-1 dims
        return [output_grads[0]]

    def R_op(self, inputs, eval_points):
        t = eval_points[0]
        return [None if t is None else unbroadcast(t, *self.axes)]


def unbroadcast(x, *axes):
    """``x`` with the static length 1 of ``axes`` forgotten (those dimensions become None)."""
    x = as_tensor_variable(x)
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    axes = [a for a in normalize_axes(axes, x.ndim, "unbroadcast", allow_none=False)
            if x.type.shape[a] == 1]
    if not axes:
        return x
    return Unbroadcast(*axes)(x)


__all__ = ["Shape", "Shape_i", "SpecifyShape", "Reshape", "Unbroadcast", "shape", "shape_i",
           "specify_shape", "reshape", "flatten", "squeeze", "expand_dims", "size",
           "shape_padleft", "shape_padright", "shape_padaxis", "specify_broadcastable",
           "unbroadcast"]
