"""Neural-network helpers: Theano's ``T.nnet`` namespace.

``softmax`` and ``log_softmax`` are ops of their own (Softmax, LogSoftmax) so that
later rewrites and the gradient can recognise them; both subtract the maximum
along the axis first, so large inputs do not overflow. ``categorical_crossentropy``
with integer labels uses a dedicated op that picks one probability per row
(CrossentropyCategorical1Hot) instead of building a one-hot matrix; the stabilize
rewrites replace it, applied to a softmax, by CrossentropySoftmax1Hot, which works
from the logits.
``sigmoid``, ``softplus`` and ``relu`` are the elementwise functions of
symgraph.tensor.math, re-exported here under their Theano home.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Apply
from symgraph.graph.op import Op
from symgraph.graph.utils import ShapeError
from symgraph.scalar.basic import to_float
from symgraph.tensor.basic import as_tensor_variable
from symgraph.tensor.math import (
    as_elemwise_inputs, eq, exp, log, mul, neg, relu, sigmoid, softplus, sub, switch,
)
from symgraph.tensor.axes import normalize_axis
from symgraph.tensor.reduction import sum as _sum
from symgraph.tensor.type import TensorType


def _float_dtype(x, what):
    """The float dtype ``what`` computes ``x`` in; complex input is refused."""
    if x.type.dtype_kind == "c":
        raise TypeError(f"{what} expects real input, got {x} of type {x.type}")
    return to_float(x.dtype)


class _SoftmaxBase(Op):
    __props__ = ("axis",)
    _name = ""

    def __init__(self, axis=-1):
        if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"{type(self).__name__}: axis must be an int, got {axis!r}")
        self.axis = int(axis)

    def make_node(self, x):
        x = as_tensor_variable(x)
        dtype = _float_dtype(x, self._name)
        if x.ndim < 1:
            raise TypeError(f"{self._name} expects a tensor of at least 1 dimension, got {x} "
                            f"of type {x.type}")
        normalize_axis(self.axis, x.ndim, self._name, of=x)
        return Apply(self, [x], [TensorType(dtype, shape=x.type.shape)()])

    def _shifted(self, node, x, finite_only=False):
        """x minus its maximum along the axis, in the output dtype (an empty axis is fine);
        with ``finite_only`` an infinite maximum is not subtracted (as SciPy's log_softmax,
        so a row holding +inf gives -inf, not nan, at its finite entries)."""
        x = x.astype(node.outputs[0].type.numpy_dtype, copy=False)
        m = np.max(x, axis=self.axis, keepdims=True, initial=-np.inf)
        if finite_only:
            m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
        return x - m

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]


class Softmax(_SoftmaxBase):
    """exp(x) / sum(exp(x)) along ``axis``, computed after subtracting the maximum.

    A slice holding +inf, or only -inf, gives nan (as SciPy's softmax).
    """

    __props__ = ("axis",)
    _name = "softmax"

    def L_op(self, inputs, outputs, output_grads):
        """s * (g - sum(g * s, axis)): the Jacobian diag(s) - s s^T applied to g."""
        (s,), (g,) = outputs, output_grads
        return [mul(s, sub(g, _sum(mul(g, s), axis=self.axis, keepdims=True)))]

    def R_op(self, inputs, eval_points):
        """The same symmetric Jacobian applied to the tangent."""
        (v,) = eval_points
        if v is None:
            return [None]
        s = self(inputs[0])
        return [mul(s, sub(v, _sum(mul(v, s), axis=self.axis, keepdims=True)))]

    def perform(self, node, inputs, output_storage):
        with np.errstate(all="ignore"):
            e = np.exp(self._shifted(node, inputs[0]))
            out = e / e.sum(axis=self.axis, keepdims=True)
        output_storage[0][0] = out


class LogSoftmax(_SoftmaxBase):
    """x - logsumexp(x) along ``axis``, computed after subtracting the maximum."""

    __props__ = ("axis",)
    _name = "log_softmax"

    def L_op(self, inputs, outputs, output_grads):
        """g - softmax(x) * sum(g, axis), with softmax(x) = exp(out)."""
        (out,), (g,) = outputs, output_grads
        return [sub(g, mul(exp(out), _sum(g, axis=self.axis, keepdims=True)))]

    def R_op(self, inputs, eval_points):
        """v - sum(softmax(x) * v, axis)."""
        (v,) = eval_points
        if v is None:
            return [None]
        out = self(inputs[0])
        return [sub(v, _sum(mul(exp(out), v), axis=self.axis, keepdims=True))]

    def perform(self, node, inputs, output_storage):
        with np.errstate(all="ignore"):
            z = self._shifted(node, inputs[0], finite_only=True)
            out = z - np.log(np.exp(z).sum(axis=self.axis, keepdims=True))
        output_storage[0][0] = out


def _apply_softmax(op_class, x, axis, what):
    x = as_tensor_variable(x)
    if x.ndim < 1:
        raise TypeError(f"{what} expects a tensor of at least 1 dimension, got {x} "
                        f"of type {x.type}")
    return op_class(normalize_axis(axis, x.ndim, what))(x)


def softmax(x, axis=-1):
    """The softmax of ``x`` along ``axis`` (default the last); discrete input becomes float."""
    return _apply_softmax(Softmax, x, axis, "softmax")


def log_softmax(x, axis=-1):
    """log(softmax(x)) along ``axis``, without the underflow of taking log of softmax."""
    return _apply_softmax(LogSoftmax, x, axis, "log_softmax")


class CrossentropyCategorical1Hot(Op):
    """-log(coding_dist[..., label]) for integer labels: one value per label.

    ``coding_dist`` has shape (..., n_classes) and holds probabilities; ``labels``
    holds class indices with the shape of ``coding_dist`` minus its last axis
    (Theano's matrix/vector case is the common one). A label outside
    [0, n_classes) raises IndexError at run time.
    """

    __props__ = ()

    def make_node(self, coding_dist, labels):
        p = as_tensor_variable(coding_dist)
        y = as_tensor_variable(labels)
        if p.type.dtype_kind not in "f":
            raise TypeError(f"crossentropy_categorical_1hot expects float probabilities, got "
                            f"{p} of type {p.type}")
        if y.type.dtype_kind not in "iu":
            raise TypeError(f"crossentropy_categorical_1hot expects integer labels, got "
                            f"{y} of type {y.type}")
        if p.ndim < 1 or y.ndim != p.ndim - 1:
            raise TypeError(f"crossentropy_categorical_1hot expects labels with one dimension "
                            f"fewer than the probabilities, got {p} of type {p.type} and "
                            f"{y} of type {y.type}")
        shape = []
        for d, (a, b) in enumerate(zip(p.type.shape[:-1], y.type.shape)):
            if a is not None and b is not None and a != b:
                raise ShapeError(f"crossentropy_categorical_1hot: dimension {d} has length "
                                 f"{a} in the probabilities {p} ({p.type}) but {b} in the "
                                 f"labels {y} ({y.type})")
            shape.append(a if a is not None else b)
        return Apply(self, [p, y], [TensorType(p.dtype, shape=tuple(shape))()])

    def perform(self, node, inputs, output_storage):
        p, y = inputs
        if p.shape[:-1] != y.shape:
            raise ShapeError(f"crossentropy_categorical_1hot: probabilities of shape {p.shape} "
                             f"need labels of shape {p.shape[:-1]}, got labels of shape "
                             f"{y.shape}")
        k = p.shape[-1]
        bad = (y < 0) | (y >= k)
        if bad.any():
            label = y[bad].flat[0]
            raise IndexError(f"crossentropy_categorical_1hot: label {label} is out of range "
                             f"for {k} classes (labels must lie in [0, {k}))")
        picked = np.take_along_axis(p, y[..., None].astype(np.intp), axis=-1)[..., 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            out = -np.log(picked)
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].type.numpy_dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[1])]

    def _label_mask(self, p, y):
        """A bool tensor of p's shape, true at each row's label."""
        from symgraph.tensor.creation import arange
        from symgraph.tensor.shape import shape_i

        return eq(arange(shape_i(p, p.ndim - 1)), y.dimshuffle(*range(y.ndim), "x"))

    def L_op(self, inputs, outputs, output_grads):
        """d/dp: -g / p[..., y] at the label position, 0 elsewhere (1 / p[..., y] is
        exp(out)); the integer labels are disconnected."""
        from symgraph.gradient import disconnected_type

        p, y = inputs
        (out,), (g,) = outputs, output_grads
        per_row = neg(mul(g, exp(out))).dimshuffle(*range(y.ndim), "x")
        # switch, not a product with the mask: p = 0 gives an infinite gradient at the
        # label only, not nan (0 * inf) everywhere else
        return [switch(self._label_mask(p, y), per_row, 0), disconnected_type()]

    def R_op(self, inputs, eval_points):
        """-v[..., y] / p[..., y]."""
        p, y = inputs
        v = eval_points[0]
        if v is None:
            return [None]
        picked = _sum(switch(self._label_mask(p, y), v, 0), axis=-1)
        return [neg(mul(picked, exp(self(p, y))))]


crossentropy_categorical_1hot = CrossentropyCategorical1Hot()


class CrossentropySoftmax1Hot(Op):
    """-log(softmax(x)[..., y]) along the last axis, from the logits ``x`` directly.

    The stable fused form of ``crossentropy_categorical_1hot(softmax(x), y)`` (the
    stabilize rewrites introduce it): it computes logsumexp(x) - x[..., y] after
    subtracting the row maximum, so a probability that would round to 0 gives its
    large finite loss instead of inf, and the gradient, g * (softmax(x) - onehot(y)),
    never divides by a probability. Rows holding +inf, or only -inf, give nan (as the
    unfused pair). Labels outside [0, n_classes) raise IndexError at run time.
    """

    __props__ = ()

    def make_node(self, logits, labels):
        x = as_tensor_variable(logits)
        y = as_tensor_variable(labels)
        dtype = _float_dtype(x, "crossentropy_softmax_1hot")
        if y.type.dtype_kind not in "iu":
            raise TypeError(f"crossentropy_softmax_1hot expects integer labels, got {y} of "
                            f"type {y.type}")
        if x.ndim < 1 or y.ndim != x.ndim - 1:
            raise TypeError(f"crossentropy_softmax_1hot expects labels with one dimension "
                            f"fewer than the logits, got {x} of type {x.type} and {y} of "
                            f"type {y.type}")
        shape = []
        for d, (a, b) in enumerate(zip(x.type.shape[:-1], y.type.shape)):
            if a is not None and b is not None and a != b:
                raise ShapeError(f"crossentropy_softmax_1hot: dimension {d} has length {a} in "
                                 f"the logits {x} ({x.type}) but {b} in the labels {y} "
                                 f"({y.type})")
            shape.append(a if a is not None else b)
        return Apply(self, [x, y], [TensorType(dtype, shape=tuple(shape))()])

    def perform(self, node, inputs, output_storage):
        x, y = inputs
        if x.shape[:-1] != y.shape:
            raise ShapeError(f"crossentropy_softmax_1hot: logits of shape {x.shape} need "
                             f"labels of shape {x.shape[:-1]}, got labels of shape {y.shape}")
        k = x.shape[-1]
        bad = (y < 0) | (y >= k)
        if bad.any():
            label = y[bad].flat[0]
            raise IndexError(f"crossentropy_softmax_1hot: label {label} is out of range for "
                             f"{k} classes (labels must lie in [0, {k}))")
        dtype = node.outputs[0].type.numpy_dtype
        x = x.astype(dtype, copy=False)
        with np.errstate(all="ignore"):
            # an infinite maximum is subtracted too: such rows give nan, as softmax does
            z = x - np.max(x, axis=-1, keepdims=True, initial=-np.inf)
            lse = np.log(np.exp(z).sum(axis=-1))
            picked = np.take_along_axis(z, y[..., None].astype(np.intp), axis=-1)[..., 0]
            out = lse - picked
        output_storage[0][0] = np.asarray(out, dtype=dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[1])]

    @staticmethod
    def _dlogits(x, y):
        """softmax(x) - onehot(y): the derivative of each row's loss with respect to x."""
        s = softmax(x, axis=-1)
        return switch(crossentropy_categorical_1hot._label_mask(x, y), sub(s, 1), s)

    def L_op(self, inputs, outputs, output_grads):
        """d/dx: g * (softmax(x) - onehot(y)); the integer labels are disconnected."""
        from symgraph.gradient import disconnected_type

        x, y = inputs
        (g,) = output_grads
        gx = mul(g.dimshuffle(*range(y.ndim), "x"), self._dlogits(x, y))
        return [gx, disconnected_type()]

    def R_op(self, inputs, eval_points):
        """sum(v * (softmax(x) - onehot(y)), axis=-1)."""
        x, y = inputs
        v = eval_points[0]
        if v is None:
            return [None]
        return [_sum(mul(v, self._dlogits(x, y)), axis=-1)]


crossentropy_softmax_1hot = CrossentropySoftmax1Hot()


def categorical_crossentropy(coding_dist, true_dist):
    """Cross-entropy between predicted class probabilities and the targets.

    ``true_dist`` is either integer labels (one dimension fewer than
    ``coding_dist``: -log(coding_dist[i, y_i])) or a distribution of the shape of
    ``coding_dist`` (one-hot or soft: -sum(true_dist * log(coding_dist), axis=-1)).
    """
    p = as_tensor_variable(coding_dist)
    t = as_tensor_variable(true_dist)
    if t.ndim == p.ndim - 1 and t.type.dtype_kind in "iu":
        return crossentropy_categorical_1hot(p, t)
    if t.ndim == p.ndim and p.ndim >= 1:
        return neg(_sum(mul(t, log(p)), axis=-1))
    raise TypeError(f"categorical_crossentropy: true_dist must be integer labels with one "
                    f"dimension fewer than coding_dist, or a distribution of the same number "
                    f"of dimensions; got coding_dist {p} of type {p.type} and true_dist {t} "
                    f"of type {t.type}")


def binary_crossentropy(output, target):
    """-(target * log(output) + (1 - target) * log(1 - output)), elementwise.

    ``output`` holds probabilities; from logits prefer sigmoid_binary_crossentropy.
    """
    o, t = as_elemwise_inputs([output, target])
    return neg(mul(t, log(o)) + mul(sub(1, t), log(sub(1, o))))


def sigmoid_binary_crossentropy(logits, target):
    """binary_crossentropy(sigmoid(logits), target), computed stably from the logits.

    Uses t * softplus(-x) + (1 - t) * softplus(x), which neither overflows nor takes
    the log of a probability rounded to 0 or 1.
    """
    x, t = as_elemwise_inputs([logits, target])
    return mul(t, softplus(neg(x))) + mul(sub(1, t), softplus(x))


__all__ = [
    "Softmax", "LogSoftmax", "CrossentropyCategorical1Hot", "CrossentropySoftmax1Hot",
    "softmax", "log_softmax", "crossentropy_softmax_1hot",
    "sigmoid", "softplus", "relu", "categorical_crossentropy",
    "crossentropy_categorical_1hot", "binary_crossentropy", "sigmoid_binary_crossentropy",
]
