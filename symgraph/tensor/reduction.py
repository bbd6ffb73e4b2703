"""Reductions: sum, prod, mean, var, std, max, min, argmax, argmin, any, all,
logsumexp, and the cumulative ops cumsum and cumprod.

``CAReduce`` (a commutative, associative scalar op folded over some axes) lives
here rather than next to Elemwise in elemwise.py: it is the op behind every
reduction, and keeping the reductions and their dtype rules in one module keeps
elemwise.py about elementwise work only.

The functions follow NumPy's signatures and dtype rules (NumPy 2):

- ``sum``/``prod``/``cumsum``/``cumprod`` of bool and signed integers narrower than
  int64 give int64, of unsigned integers uint64; floats and complexes keep their
  dtype; ``dtype=`` overrides.
- ``mean`` of discrete input gives float64; ``var``/``std`` of complex input are real.
- ``max``/``min`` keep the dtype and, like ``argmax``/``argmin``, refuse complex input
  (as Theano) and raise ValueError at run time on an empty axis (as NumPy).

``axis`` is an int, a tuple of ints, or None (every axis); negative axes count
from the end. ``keepdims=True`` puts the reduced axes back as broadcastable
dimensions of length 1.

Several names here shadow Python builtins (sum, max, min, all, any); the module
uses ``builtins.<name>`` where it needs the originals.
"""

from __future__ import annotations

import builtins

import numpy as np

from symgraph.graph.basic import Apply, Variable
from symgraph.graph.op import Op
from symgraph.scalar import math as sm
from symgraph.scalar.basic import ScalarOp, to_float
from symgraph.tensor.axes import normalize_axes
from symgraph.tensor.axes import normalize_axis as normalize_one_axis
from symgraph.tensor.basic import as_tensor_variable, constant
from symgraph.tensor.elemwise import dimshuffle
from symgraph.tensor.type import TensorType, normalize_dtype

# ----------------------------------------------------------------------- helpers

def normalize_axis(axis, ndim, fname="reduction"):
    """``axis`` (None, an int or a sequence of ints, negatives allowed) as a sorted tuple
    of distinct non-negative ints below ``ndim``; None means every axis.

    The reductions' name for ``symgraph.tensor.axes.normalize_axes``.
    """
    return normalize_axes(axis, ndim, fname)


def _op_axis(axis, who, hint=""):
    """An op's ``axis`` parameter: None, or a sorted tuple of distinct non-negative ints
    (as ``normalize_axis`` gives); ValueError otherwise."""
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    axis = tuple(int(a) for a in axis)
    if builtins.any(a < 0 for a in axis) or list(axis) != sorted(set(axis)):
        raise ValueError(f"{who}: axis must be None or a sorted tuple of distinct "
                         f"non-negative ints, got {axis}{hint}")
    return axis


def _keepdims(out, axes, ndim):
    """Re-insert the reduced ``axes`` of an ``ndim``-d input as broadcastable dims."""
    pattern, k = [], 0
    for d in range(ndim):
        if d in axes:
            pattern.append("x")
        else:
            pattern.append(k)
            k += 1
    return dimshuffle(out, pattern)


def _sum_dtype(dtype):
    """NumPy's default dtype of sum/prod/cumsum: at least int64 (uint64) for integers."""
    if dtype in ("bool", "int8", "int16", "int32"):
        return "int64"
    if dtype in ("uint8", "uint16", "uint32"):
        return "uint64"
    return dtype


def _fmt_type(x):
    return f"{x} of type {x.type}"


# ----------------------------------------------------------------------- CAReduce

# scalar op name -> (NumPy reducer(x, axis, dtype), default output dtype rule)
def _np_sum(x, axis, dtype):
    return np.sum(x, axis=axis, dtype=dtype)


def _np_prod(x, axis, dtype):
    return np.prod(x, axis=axis, dtype=dtype)


def _np_max(x, axis, dtype):
    return np.max(x, axis=axis)


def _np_min(x, axis, dtype):
    return np.min(x, axis=axis)


def _np_all(x, axis, dtype):
    return np.all(x, axis=axis)


def _np_any(x, axis, dtype):
    return np.any(x, axis=axis)


def _ufunc_reducer(ufunc):
    def reduce(x, axis, dtype):
        return ufunc.reduce(x, axis=axis)
    return reduce


def _same(dtype):
    return dtype


def _bool(dtype):
    return "bool"


_REDUCERS = {
    "add": (_np_sum, _sum_dtype, "sum"),
    "mul": (_np_prod, _sum_dtype, "prod"),
    "maximum": (_np_max, _same, "max"),
    "minimum": (_np_min, _same, "min"),
    "logical_and": (_np_all, _bool, "all"),
    "logical_or": (_np_any, _bool, "any"),
    "bitwise_and": (_ufunc_reducer(np.bitwise_and), _same, "bitwise_and"),
    "bitwise_or": (_ufunc_reducer(np.bitwise_or), _same, "bitwise_or"),
    "bitwise_xor": (_ufunc_reducer(np.bitwise_xor), _same, "bitwise_xor"),
}


class CAReduce(Op):
    """Fold a commutative, associative binary scalar op over ``axis`` of a tensor.

    ``axis`` is None (every axis) or a sorted tuple of non-negative ints. The
    scalar op picks NumPy's reduction: add -> sum, mul -> prod, maximum -> max,
    minimum -> min, logical_and -> all, logical_or -> any, and bitwise and/or/xor
    through their ufunc's ``reduce``. ``dtype`` is the output dtype (None: NumPy's
    default for that reduction); ``acc_dtype`` the dtype the reduction runs in
    (None: ``dtype``), as Theano's Sum.
    """

    __props__ = ("scalar_op", "axis", "dtype", "acc_dtype")

    def __init__(self, scalar_op, axis=None, dtype=None, acc_dtype=None):
        if not isinstance(scalar_op, ScalarOp):
            raise TypeError(f"CAReduce needs a ScalarOp, got {scalar_op!r}")
        if scalar_op.name not in _REDUCERS:
            raise TypeError(f"CAReduce cannot reduce with {scalar_op.name}; supported: "
                            f"{', '.join(_REDUCERS)}")
        self.scalar_op = scalar_op
        self.axis = _op_axis(axis, "CAReduce",
                             "; the reduction functions (sum, max, ...) normalise it for you")
        self.dtype = None if dtype is None else normalize_dtype(dtype)
        self.acc_dtype = None if acc_dtype is None else normalize_dtype(acc_dtype)

    def __str__(self):
        name = _REDUCERS[self.scalar_op.name][2]
        parts = [] if self.axis is None else [f"axis={self.axis}"]
        if self.dtype is not None:
            parts.append(f"dtype={self.dtype}")
        if self.acc_dtype is not None:
            parts.append(f"acc_dtype={self.acc_dtype}")
        return f"{name.capitalize()}{{{', '.join(parts)}}}" if parts else name.capitalize()

    def _axes(self, ndim):
        return tuple(range(ndim)) if self.axis is None else self.axis

    def _out_dtype(self, in_dtype):
        if self.dtype is not None:
            return self.dtype
        return _REDUCERS[self.scalar_op.name][1](in_dtype)

    def make_node(self, x):
        x = as_tensor_variable(x)
        name = self.scalar_op.name
        what = _REDUCERS[name][2]
        if name in ("maximum", "minimum") and x.type.dtype_kind == "c":
            raise TypeError(f"{what} is not defined for complex input: got {_fmt_type(x)}; "
                            "reduce abs(x), real(x) or imag(x) instead")
        if name.startswith("bitwise") and x.type.dtype_kind not in "biu":
            raise TypeError(f"{what} reduction needs bool or integer input, got {_fmt_type(x)}")
        axes = normalize_axes(self.axis, x.ndim, str(self), of=x, negative=False)
        out_dtype = self._out_dtype(x.dtype)
        # sum/prod run in the requested dtype (NumPy's same_kind rule applies to the
        # input); the others compute in their natural dtype and then convert.
        src = x.dtype if name in ("add", "mul") else _REDUCERS[name][1](x.dtype)
        for dt, label in ((self.acc_dtype, "acc_dtype"), (self.dtype, "dtype")):
            if dt is not None and not np.can_cast(src, dt, "same_kind"):
                raise TypeError(f"{what}: cannot reduce {_fmt_type(x)} with {label}={dt}; "
                                f"expected a {label} that {src} casts to safely or "
                                "within its kind (cast the input explicitly)")
        shape = tuple(s for d, s in enumerate(x.type.shape) if d not in axes)
        return Apply(self, [x], [TensorType(out_dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        out_dtype = node.outputs[0].type.numpy_dtype
        reducer = _REDUCERS[self.scalar_op.name][0]
        axis = self.axis
        if axis is None or x.ndim == 0:
            axis = None if x.ndim else ()
        res = reducer(x, axis, self.acc_dtype or out_dtype)
        if not isinstance(res, np.ndarray) or res.dtype != out_dtype:
            res = np.asarray(res, dtype=out_dtype)
        output_storage[0][0] = res

    def infer_shape(self, fgraph, node, input_shapes):
        axes = self._axes(node.inputs[0].ndim)
        return [tuple(s for d, s in enumerate(input_shapes[0]) if d not in axes)]

    # ------------------------------------------------------------ gradients
    def L_op(self, inputs, outputs, output_grads):
        """sum: g broadcast back over the reduced axes. prod: g * conj(product of the
        other elements), exact where the input holds zeros (zeros are counted, so no
        division by zero happens). max/min: g goes to every position equal to the
        extreme value -- on ties each tied position receives the whole of g (as
        Theano). Reductions with bool/integer output (all, any, bitwise) are
        disconnected."""
        from symgraph.gradient import disconnected_type

        (x,), (out,), (g,) = inputs, outputs, output_grads
        name = self.scalar_op.name
        if name not in ("add", "mul", "maximum", "minimum") \
                or out.type.dtype_kind not in "fc" or x.type.dtype_kind not in "fc":
            return [disconnected_type()]
        axes = self._axes(x.ndim)
        gk = _keepdims(g, axes, x.ndim)
        if name == "add":
            return [_broadcast_like(gk, x)]
        if name == "mul":
            return [_conj_if_complex(_prod_others(x, out, axes)) * gk]
        from symgraph.tensor.math import eq, switch
        return [switch(eq(x, _keepdims(out, axes, x.ndim)), gk, 0)]

    def R_op(self, inputs, eval_points):
        """sum: the sum of the tangent; prod: sum(tangent * product of the others);
        max/min: the sum of the tangent over the positions holding the extreme value
        (the transpose of L_op, also at ties); bool/integer outputs: no tangent."""
        (x,), (v,) = inputs, eval_points
        name = self.scalar_op.name
        out_dtype = self._out_dtype(x.dtype)
        if v is None or name not in ("add", "mul", "maximum", "minimum") \
                or np.dtype(out_dtype).kind not in "fc":
            return [None]
        axes = self._axes(x.ndim)
        v = as_tensor_variable(v)
        if name == "add":
            return [self(v)]
        red = CAReduce(sm.add, self.axis, dtype=self.dtype, acc_dtype=self.acc_dtype)
        out = self(x)
        if name == "mul":
            return [red(_prod_others(x, out, axes) * v)]
        from symgraph.tensor.math import eq, switch
        return [red(switch(eq(x, _keepdims(out, axes, x.ndim)), v, 0))]


def _conj_if_complex(x):
    if x.type.dtype_kind == "c":
        from symgraph.tensor.math import conj
        return conj(x)
    return x


def _broadcast_like(v, x):
    """``v`` (x's rank, length 1 on the axes to stretch) broadcast to the shape of ``x``."""
    from symgraph.tensor.creation import alloc
    from symgraph.tensor.shape import shape_i

    return alloc(v, *[shape_i(x, d) for d in range(x.ndim)])


def _prod_others(x, out, axes):
    """For each element of ``x``, the product of the other elements of its slice over
    ``axes`` (the derivative of prod), with the reduced axes of ``out`` kept.

    Exact where ``x`` holds zeros: with no zero in the slice it is prod / x_i; with one
    zero it is the product of the non-zero elements at the zero and 0 elsewhere; with
    two or more zeros it is 0 everywhere. The zero counts are piecewise constant, so
    derivatives of this gradient (Hessians) are exact away from zeros only.
    """
    from symgraph.tensor.math import eq, logical_and, switch, true_div

    zero = eq(x, 0)
    n_zero = sum(zero, axes, keepdims=True)
    safe = switch(zero, 1, x)
    p_safe = prod(safe, axes, dtype=out.dtype, keepdims=True)
    # with no zero in the slice the forward output is the whole product: divide it
    return switch(eq(n_zero, 0), true_div(_keepdims(out, axes, x.ndim), safe),
                  switch(logical_and(zero, eq(n_zero, 1)), p_safe, 0))


def _careduce(scalar_op, x, axis, keepdims, fname, dtype=None, acc_dtype=None):
    x = as_tensor_variable(x)
    axes = normalize_axes(axis, x.ndim, fname)
    op_axis = None if len(axes) == x.ndim else axes
    out = CAReduce(scalar_op, op_axis, dtype=dtype, acc_dtype=acc_dtype)(x)
    if keepdims:
        out = _keepdims(out, axes, x.ndim)
    return out


def sum(x, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Sum over ``axis`` (NumPy's sum); ``acc_dtype`` is the dtype to accumulate in."""
    return _careduce(sm.add, x, axis, keepdims, "sum", dtype, acc_dtype)


def prod(x, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Product over ``axis`` (NumPy's prod)."""
    return _careduce(sm.mul, x, axis, keepdims, "prod", dtype, acc_dtype)


def max(x, axis=None, keepdims=False):
    """Largest value over ``axis``; complex input is refused, an empty axis fails at run time."""
    return _careduce(sm.maximum, x, axis, keepdims, "max")


def min(x, axis=None, keepdims=False):
    """Smallest value over ``axis``; complex input is refused, an empty axis fails at run time."""
    return _careduce(sm.minimum, x, axis, keepdims, "min")


def all(x, axis=None, keepdims=False):
    """True where every value over ``axis`` is non-zero (bool output)."""
    return _careduce(sm.logical_and, x, axis, keepdims, "all")


def any(x, axis=None, keepdims=False):
    """True where some value over ``axis`` is non-zero (bool output)."""
    return _careduce(sm.logical_or, x, axis, keepdims, "any")


def bitwise_and_reduce(x, axis=None, keepdims=False):
    """Bitwise and of the values over ``axis`` (``np.bitwise_and.reduce``)."""
    return _careduce(sm.bitwise_and, x, axis, keepdims, "bitwise_and_reduce")


def bitwise_or_reduce(x, axis=None, keepdims=False):
    """Bitwise or of the values over ``axis`` (``np.bitwise_or.reduce``)."""
    return _careduce(sm.bitwise_or, x, axis, keepdims, "bitwise_or_reduce")


def bitwise_xor_reduce(x, axis=None, keepdims=False):
    """Bitwise xor of the values over ``axis`` (``np.bitwise_xor.reduce``)."""
    return _careduce(sm.bitwise_xor, x, axis, keepdims, "bitwise_xor_reduce")


def _count(x, axes, dtype):
    """The number of elements over ``axes`` of ``x``, as a 0-d tensor of ``dtype``."""
    from symgraph.tensor.math import cast, mul
    from symgraph.tensor.shape import shape_i

    static = [x.type.shape[d] for d in axes]
    if builtins.all(s is not None for s in static):
        return constant(int(np.prod(static, dtype="int64")), dtype=dtype)
    n = constant(1, dtype="int64")
    known = 1
    for d, s in zip(axes, static):
        if s is None:
            n = mul(n, shape_i(x, d))
        else:
            known *= s
    if known != 1:
        n = mul(n, known)
    return cast(n, dtype)


def mean(x, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Arithmetic mean over ``axis``; discrete input gives float64 (NumPy's mean).

    An empty axis gives nan, as NumPy (without its warning).
    """
    from symgraph.tensor.math import cast, true_div

    x = as_tensor_variable(x)
    axes = normalize_axes(axis, x.ndim, "mean")
    if dtype is not None:
        dtype = normalize_dtype(dtype)
        work = dtype if np.dtype(dtype).kind in "fc" else "float64"
    else:
        work = "float64" if x.type.dtype_kind in "biu" else x.dtype
    s = sum(x, axes, dtype=work, acc_dtype=acc_dtype)
    n_dtype = {"complex64": "float32", "complex128": "float64"}.get(work, work)
    out = true_div(s, _count(x, axes, n_dtype))
    if dtype is not None and out.dtype != dtype:
        out = cast(out, dtype)
    if keepdims:
        out = _keepdims(out, axes, x.ndim)
    return out


def var(x, axis=None, ddof=0, keepdims=False):
    """Variance over ``axis``: mean(|x - mean(x)|**2) * n / (n - ddof), as NumPy's var.

    Complex input gives a real result; discrete input gives float64.
    """
    from symgraph.tensor.math import cast, imag, maximum, real, sqr, sub, true_div

    x = as_tensor_variable(x)
    axes = normalize_axes(axis, x.ndim, "var")
    if isinstance(ddof, Variable) or not isinstance(ddof, (int, np.integer)) \
            or isinstance(ddof, (bool, np.bool_)):
        raise TypeError(f"var: ddof must be an int, got {ddof!r}")
    m = mean(x, axes, keepdims=True)
    d = sub(x, m)
    if d.type.dtype_kind == "c":
        sq = real(d) ** 2 + imag(d) ** 2
    else:
        sq = sqr(d)
    s = sum(sq, axes)
    static = [x.type.shape[a] for a in axes]
    if None not in static:
        n = constant(builtins.max(int(np.prod(static, dtype="int64")) - int(ddof), 0),
                     dtype=s.dtype)
    else:
        n = _count(x, axes, "int64")
        if ddof:
            n = maximum(sub(n, int(ddof)), 0)
        n = cast(n, s.dtype)
    out = true_div(s, n)
    if keepdims:
        out = _keepdims(out, axes, x.ndim)
    return out


def std(x, axis=None, ddof=0, keepdims=False):
    """Standard deviation over ``axis``: sqrt(var(x, axis, ddof)); real for complex input."""
    from symgraph.tensor.math import sqrt

    return sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x), axis)) computed stably: shifted by the maximum over ``axis``.

    Slices that are all -inf give -inf (not nan). Discrete input is computed in
    the float dtype ``exp`` would give; complex input is shifted by the maximum of
    its real part. As ``max``, an empty axis fails at run time.
    """
    from symgraph.tensor.math import add, cast, exp, isinf, log, real, sub, switch

    x = as_tensor_variable(x)
    axes = normalize_axes(axis, x.ndim, "logsumexp")
    if x.type.dtype_kind in "biu":
        x = cast(x, to_float(x.dtype))
    m = max(real(x) if x.type.dtype_kind == "c" else x, axes, keepdims=True)
    # a non-finite max (all -inf, or +inf present) must not be subtracted: inf - inf = nan
    m = switch(isinf(m), 0, m)
    out = add(log(sum(exp(sub(x, m)), axes, keepdims=True)), m)
    if not keepdims:
        out = dimshuffle(out, [d for d in range(x.ndim) if d not in axes])
    return out


# ----------------------------------------------------------------------- argmax / argmin

class _ArgReduce(Op):
    """Index of the extreme value over ``axis`` (None: the flattened input), int64.

    With several axes the index runs over those axes flattened in C order (as Theano).
    """

    __props__ = ("axis",)
    _np_fn = None
    _name = ""

    def __init__(self, axis=None):
        self.axis = _op_axis(axis, type(self).__name__)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.type.dtype_kind == "c":
            raise TypeError(f"{self._name} is not defined for complex input: got "
                            f"{_fmt_type(x)}; use abs(x), real(x) or imag(x)")
        axes = normalize_axes(self.axis, x.ndim, str(self), of=x, negative=False)
        shape = tuple(s for d, s in enumerate(x.type.shape) if d not in axes)
        return Apply(self, [x], [TensorType("int64", shape=shape)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        fn = type(self)._np_fn
        if self.axis is None or x.ndim == 0:
            res = fn(x)
        elif len(self.axis) == 1:
            res = fn(x, axis=self.axis[0])
        else:
            kept = [d for d in range(x.ndim) if d not in self.axis]
            n = int(np.prod([x.shape[d] for d in self.axis], dtype="int64"))
            y = x.transpose(kept + list(self.axis)).reshape([x.shape[d] for d in kept] + [n])
            res = fn(y, axis=-1)
        output_storage[0][0] = np.asarray(res, dtype="int64")

    def infer_shape(self, fgraph, node, input_shapes):
        nd = node.inputs[0].ndim
        axes = tuple(range(nd)) if self.axis is None else self.axis
        return [tuple(s for d, s in enumerate(input_shapes[0]) if d not in axes)]

    def L_op(self, inputs, outputs, output_grads):
        """An index is not a differentiable function of the values: disconnected."""
        from symgraph.gradient import disconnected_type
        return [disconnected_type()]

    def R_op(self, inputs, eval_points):
        return [None]


class Argmax(_ArgReduce):
    """Index of the largest value over ``axis`` (int64); the first one on ties."""

    __props__ = ("axis",)
    _np_fn = staticmethod(np.argmax)
    _name = "argmax"


class Argmin(_ArgReduce):
    """Index of the smallest value over ``axis`` (int64); the first one on ties."""

    __props__ = ("axis",)
    _np_fn = staticmethod(np.argmin)
    _name = "argmin"


def _argreduce(cls, x, axis, keepdims, fname):
    x = as_tensor_variable(x)
    axes = normalize_axes(axis, x.ndim, fname)
    op_axis = None if len(axes) == x.ndim else axes
    out = cls(op_axis)(x)
    if keepdims:
        out = _keepdims(out, axes, x.ndim)
    return out


def argmax(x, axis=None, keepdims=False):
    """Index (int64) of the largest value over ``axis``; None indexes the flattened input."""
    return _argreduce(Argmax, x, axis, keepdims, "argmax")


def argmin(x, axis=None, keepdims=False):
    """Index (int64) of the smallest value over ``axis``; None indexes the flattened input."""
    return _argreduce(Argmin, x, axis, keepdims, "argmin")


# ----------------------------------------------------------------------- cumulative

class CumOp(Op):
    """Cumulative sum (``mode="add"``) or product (``mode="mul"``) along ``axis``.

    ``axis=None`` works on the flattened input and gives a vector, as NumPy. The
    dtype follows NumPy's cumsum: narrow integers and bool accumulate in int64
    (unsigned in uint64).
    """

    __props__ = ("axis", "mode")

    def __init__(self, axis=None, mode="add"):
        if mode not in ("add", "mul"):
            raise ValueError(f"CumOp: mode must be 'add' or 'mul', got {mode!r}")
        if axis is not None:
            if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
                raise TypeError(f"CumOp: axis must be an int or None, got {axis!r}")
            axis = int(axis)
        self.axis = axis
        self.mode = mode

    def __str__(self):
        name = "Cumsum" if self.mode == "add" else "Cumprod"
        return name if self.axis is None else f"{name}{{axis={self.axis}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        out_dtype = _sum_dtype(x.dtype)
        if self.axis is None:
            static = x.type.shape
            n = int(np.prod(static, dtype="int64")) if None not in static else None
            shape = (n,)
        else:
            normalize_one_axis(self.axis, x.ndim, str(self), of=x)
            shape = x.type.shape
        return Apply(self, [x], [TensorType(out_dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        fn = np.cumsum if self.mode == "add" else np.cumprod
        out_dtype = node.outputs[0].type.numpy_dtype
        output_storage[0][0] = np.asarray(fn(x, axis=self.axis, dtype=out_dtype),
                                          dtype=out_dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        from symgraph.tensor.math import mul

        (shp,) = input_shapes
        if self.axis is not None:
            return [tuple(shp)]
        n = constant(1, dtype="int64")
        for s in shp:
            n = mul(n, s)
        return [(n,)]

    # ------------------------------------------------------------ gradients
    def L_op(self, inputs, outputs, output_grads):
        """cumsum: the reversed cumulative sum of g along the axis. cumprod:
        sum over i >= j of g_i * conj(prod_{k <= i, k != j} x_k), exact also where the
        input holds zeros (zeros are counted along the axis; nothing is divided by
        zero). axis=None works on the flattened input and reshapes back."""
        from symgraph.gradient import disconnected_type
        from symgraph.tensor.shape import reshape, shape_i

        (x,), (out,), (g,) = inputs, outputs, output_grads
        if x.type.dtype_kind not in "fc" or out.type.dtype_kind not in "fc":
            return [disconnected_type()]
        xa = x.flatten() if self.axis is None else x
        axis = 0 if self.axis is None else self.axis % x.ndim
        if self.mode == "add":
            gx = _reverse_cumsum(g, axis)
        else:
            gx = _cumprod_grad(xa, g, axis)
        if self.axis is None:
            gx = reshape(gx, [shape_i(x, d) for d in range(x.ndim)])
        return [gx]

    def R_op(self, inputs, eval_points):
        """cumsum is linear: the cumulative sum of the tangent. cumprod has none (Rop
        falls back to two reverse passes)."""
        (v,) = eval_points
        if v is None:
            return [None]
        if self.mode == "add":
            return [self(as_tensor_variable(v))]
        from symgraph.graph.utils import MethodNotDefined
        raise MethodNotDefined("CumOp.R_op for cumprod")


def _flip(x, axis):
    key = (slice(None),) * axis + (slice(None, None, -1),)
    return x[key]


def _reverse_cumsum(g, axis):
    """out[j] = sum over i >= j of g[i] along ``axis``."""
    return _flip(CumOp(axis, "add")(_flip(g, axis)), axis)


def _cumprod_grad(x, g, axis):
    """The gradient of cumprod(x, axis) (out) for the output gradient g, exact with zeros.

    With Z the running count of zeros and P' the running product of x with its zeros
    replaced by 1, d out_i / d x_j (j <= i) is P'_i / x_j where Z_i = 0, P'_i at the
    first zero j where Z_i = 1, and 0 otherwise. As for prod, second derivatives built
    from this gradient are exact away from zeros only.
    """
    from symgraph.tensor.math import eq, logical_and, switch, true_div

    zero = eq(x, 0)
    n_zero = CumOp(axis, "add")(zero)
    safe = switch(zero, 1, x)
    none_yet, one_yet = eq(n_zero, 0), eq(n_zero, 1)
    p_safe = CumOp(axis, "mul")(safe)
    w = g * _conj_if_complex(p_safe)
    before = true_div(_reverse_cumsum(switch(none_yet, w, 0), axis), _conj_if_complex(safe))
    at_first_zero = _reverse_cumsum(switch(one_yet, w, 0), axis)
    return switch(none_yet, before, switch(logical_and(zero, one_yet), at_first_zero, 0))


def _cumop(x, axis, mode, fname):
    x = as_tensor_variable(x)
    return CumOp(normalize_one_axis(axis, x.ndim, fname, allow_none=True), mode)(x)


def cumsum(x, axis=None):
    """Cumulative sum along ``axis`` (None: of the flattened input), as numpy.cumsum."""
    return _cumop(x, axis, "add", "cumsum")


def cumprod(x, axis=None):
    """Cumulative product along ``axis`` (None: of the flattened input), as numpy.cumprod."""
    return _cumop(x, axis, "mul", "cumprod")


__all__ = [
    "CAReduce", "Argmax", "Argmin", "CumOp", "normalize_axis",
    "sum", "prod", "mean", "var", "std", "max", "min", "argmax", "argmin", "any", "all",
    "logsumexp", "cumsum", "cumprod",
    "bitwise_and_reduce", "bitwise_or_reduce", "bitwise_xor_reduce",
]
