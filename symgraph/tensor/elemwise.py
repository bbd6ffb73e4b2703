"""Elemwise (a scalar op lifted to tensors with broadcasting) and DimShuffle.

Broadcasting follows NumPy's rules on *static* types, as Theano and PyTensor do:
inputs of lower rank are padded on the left with broadcastable dimensions, and a
dimension broadcasts only when its static length is 1. At run time, a dimension
that is not statically broadcastable must match the others exactly.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Apply
from symgraph.graph.op import Op
from symgraph.graph.utils import ShapeError
from symgraph.scalar.basic import ScalarOp
from symgraph.tensor.basic import as_tensor_variable, constant
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorConstant


def _fmt_shape(shape):
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def broadcast_static_shape(shapes, what="inputs"):
    """The static output shape of broadcasting equal-rank static ``shapes``."""
    out = []
    for d, lens in enumerate(zip(*shapes)):
        known = {n for n in lens if n is not None and n != 1}
        if len(known) > 1:
            raise ShapeError(
                f"{what} cannot be broadcast: dimension {d} has static lengths "
                f"{sorted(known)} (shapes {', '.join(_fmt_shape(s) for s in shapes)})")
        if known:
            out.append(known.pop())
        elif all(n == 1 for n in lens):
            out.append(1)
        else:
            out.append(None)
    return tuple(out)


class Elemwise(Op):
    """Apply ``scalar_op`` element by element over broadcast inputs."""

    __props__ = ("scalar_op", "inplace_pattern")

    def __init__(self, scalar_op: ScalarOp, inplace_pattern=None, name=None):
        if not isinstance(scalar_op, ScalarOp):
            raise TypeError(f"Elemwise needs a ScalarOp, got {scalar_op!r}")
        self.scalar_op = scalar_op
        self.inplace_pattern = tuple(sorted((inplace_pattern or {}).items()))
        self.name = name
        self.destroy_map = {o: [i] for o, i in self.inplace_pattern}

    @property
    def nin(self):
        return self.scalar_op.nin

    @property
    def nout(self):
        return self.scalar_op.nout

    def __str__(self):
        return self.name or self.scalar_op.name

    def __repr__(self):
        return f"Elemwise{{{self.scalar_op.name}}}"

    def make_node(self, *inputs):
        if len(inputs) != self.scalar_op.nin:
            raise TypeError(f"{self} takes {self.scalar_op.nin} inputs, got {len(inputs)}")
        inputs = [as_tensor_variable(i) for i in inputs]
        nd = max(i.ndim for i in inputs) if inputs else 0
        padded = []
        for i in inputs:
            if i.ndim < nd:
                if isinstance(i, TensorConstant):
                    # pad constants directly: the graph stays as the user wrote it
                    i = constant(i.data.reshape((1,) * (nd - i.ndim) + i.data.shape),
                                 name=i.name, dtype=i.dtype)
                else:
                    i = dimshuffle(i, ("x",) * (nd - i.ndim) + tuple(range(i.ndim)))
            padded.append(i)
        shape = broadcast_static_shape([i.type.shape for i in padded],
                                       what=f"the inputs of {self}")
        try:
            out_dtypes = self.scalar_op.output_types([i.dtype for i in padded])
        except TypeError as e:
            raise TypeError(f"{self}: {e} (inputs: "
                            f"{', '.join(f'{i} of type {i.type}' for i in padded)})") from None
        outputs = [TensorType(dt, shape=shape)() for dt in out_dtypes]
        return Apply(self, padded, outputs)

    def perform(self, node, inputs, output_storage):
        checks = getattr(node.tag, "_bcast_checks", None)
        if checks is None:
            checks = node.tag._bcast_checks = _runtime_checks(node)
        for d, idx in checks:
            n = inputs[idx[0]].shape[d]
            for j in idx[1:]:
                if inputs[j].shape[d] != n:
                    raise ShapeError(_mismatch_msg(node, inputs, d))
        with np.errstate(all="ignore"):
            outs = self.scalar_op.compute(inputs, [o.type.dtype for o in node.outputs])
        for store, val in zip(output_storage, outs):
            store[0] = val

    def infer_shape(self, fgraph, node, input_shapes):
        from symgraph.tensor.shape import broadcast_shape_symbolic
        shp = broadcast_shape_symbolic(node.inputs, input_shapes)
        return [shp] * len(node.outputs)

    def L_op(self, inputs, outputs, output_grads):
        # the derivatives of the scalar ops live in elemwise_grad.py, as tensor code
        from symgraph.tensor.elemwise_grad import elemwise_L_op
        return elemwise_L_op(self, inputs, outputs, output_grads)

    def R_op(self, inputs, eval_points):
        from symgraph.tensor.elemwise_grad import elemwise_R_op
        return elemwise_R_op(self, inputs, eval_points)


def _runtime_checks(node):
    """For each output dim, the inputs whose lengths there must agree at run time."""
    checks = []
    ndim = node.outputs[0].ndim
    for d in range(ndim):
        idx = [k for k, i in enumerate(node.inputs) if i.type.shape[d] != 1]
        if len(idx) > 1 and any(node.inputs[k].type.shape[d] is None for k in idx):
            checks.append((d, idx))
    return checks


def _mismatch_msg(node, inputs, d):
    shapes = ", ".join(str(tuple(i.shape)) for i in inputs)
    static = ", ".join(_fmt_shape(i.type.shape) for i in node.inputs)
    return (f"shape mismatch in {node.op} along dimension {d}: input shapes {shapes} "
            f"(static {static}). Only dimensions declared with static length 1 broadcast; "
            f"declare it (shape=(1, ...), a row/col variable) or use dimshuffle('x', ...)")


class DimShuffle(Op):
    """Reorder dimensions, insert broadcastable ones ('x') and drop length-1 ones.

    ``DimShuffle(input_ndim, new_order)``; Theano's ``DimShuffle(input_broadcastable,
    new_order)`` is also accepted. The output is a view of the input.
    """

    __props__ = ("input_ndim", "new_order")
    view_map = {0: [0]}

    def __init__(self, input_ndim, new_order):
        if isinstance(input_ndim, (tuple, list)):
            input_ndim = len(input_ndim)
        self.input_ndim = int(input_ndim)
        new_order = tuple(new_order)
        for o in new_order:
            if o != "x" and not (isinstance(o, (int, np.integer)) and 0 <= o < self.input_ndim):
                raise ValueError(f"DimShuffle: invalid entry {o!r} in {new_order} for an input "
                                 f"of {self.input_ndim} dimensions")
        kept = [o for o in new_order if o != "x"]
        if len(set(kept)) != len(kept):
            raise ValueError(f"DimShuffle: dimension repeated in {new_order}")
        self.new_order = tuple(o if o == "x" else int(o) for o in new_order)
        self.drop = tuple(d for d in range(self.input_ndim) if d not in kept)
        self.shuffle = tuple(kept)
        self.augment = tuple(i for i, o in enumerate(self.new_order) if o == "x")
        self.is_transpose = not self.drop and not self.augment

    def __str__(self):
        return f"DimShuffle{{{','.join(map(str, self.new_order))}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim != self.input_ndim:
            raise TypeError(f"{self} expects a {self.input_ndim}-d input, got {x} with "
                            f"{x.ndim} dimensions ({x.type})")
        for d in self.drop:
            if x.type.shape[d] != 1:
                raise ValueError(
                    f"{self} drops dimension {d} of {x} ({x.type}), but that dimension is not "
                    "known to have length 1; only broadcastable dimensions can be dropped")
        shape = tuple(1 if o == "x" else x.type.shape[o] for o in self.new_order)
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        if self.drop:
            x = np.squeeze(x, axis=self.drop)
        if self.shuffle != tuple(range(len(self.shuffle))):
            rank = {d: k for k, d in enumerate(sorted(self.shuffle))}
            x = x.transpose([rank[d] for d in self.shuffle])
        if self.augment:
            x = np.expand_dims(x, self.augment)
        output_storage[0][0] = x

    def L_op(self, inputs, outputs, output_grads):
        """The inverse shuffle: the 'x' dimensions are dropped (summed over if the
        gradient is not statically 1 there), the dropped ones re-inserted."""
        (x,), (g,) = inputs, output_grads
        if g.dtype in ("bool", "int8", "int16", "int32", "int64",
                       "uint8", "uint16", "uint32", "uint64"):
            from symgraph.gradient import disconnected_type
            return [disconnected_type()]
        wide = [k for k in self.augment if g.type.shape[k] != 1]
        if wide:
            from symgraph.tensor.reduction import sum as sum_
            g = sum_(g, axis=wide, keepdims=True)
        where = {d: k for k, d in enumerate(self.new_order) if d != "x"}
        pattern = tuple("x" if d in self.drop else where[d] for d in range(self.input_ndim))
        return [DimShuffle(g.ndim, pattern)(g) if pattern != tuple(range(g.ndim)) else g]

    def R_op(self, inputs, eval_points):
        (x,), (t,) = inputs, eval_points
        if t is None:
            return [None]
        t = as_tensor_variable(t)
        if any(s == 1 and ts != 1 for s, ts in zip(x.type.shape, t.type.shape)):
            # the tangent has the input's broadcastable dimensions (dropped ones included)
            from symgraph.tensor.shape import specify_shape
            t = specify_shape(t, tuple(1 if s == 1 else ts
                                       for s, ts in zip(x.type.shape, t.type.shape)))
        return [self(t)]

    def infer_shape(self, fgraph, node, input_shapes):
        from symgraph.tensor.basic import constant
        (ishape,) = input_shapes
        one = constant(1, dtype="int64")
        return [tuple(one if o == "x" else ishape[o] for o in self.new_order)]


def dimshuffle(x, pattern):
    x = as_tensor_variable(x)
    pattern = tuple(pattern)
    if pattern == tuple(range(x.ndim)):
        return x
    return DimShuffle(x.ndim, pattern)(x)


def transpose(x, axes=None):
    """Reverse (or permute by ``axes``) the dimensions, as numpy.transpose."""
    x = as_tensor_variable(x)
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    axes = tuple(int(a) % x.ndim if x.ndim else int(a) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"transpose axes {axes} are not a permutation of {x.ndim} dimensions")
    return dimshuffle(x, axes)
