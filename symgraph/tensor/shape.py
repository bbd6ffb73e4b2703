"""Shape ops: shape, shape_i, specify_shape (and reshape and friends)."""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Apply, Variable
from symgraph.graph.op import Op
from symgraph.graph.utils import ShapeError
from symgraph.tensor.basic import as_tensor_variable, constant
from symgraph.tensor.type import TensorType


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


__all__ = ["Shape", "Shape_i", "SpecifyShape", "shape", "shape_i", "specify_shape"]
