"""Building tensors from shapes: alloc, zeros/ones/full, eye, arange, linspace,
diagonals and triangles.

Shape arguments (``zeros(shape)``, ``alloc(v, *shape)``, ...) may be a Python int,
a tuple or list of ints and symbolic integer scalars, or a symbolic integer vector
of static length (``zeros(x.shape)``). Every dimension that is a constant becomes
a static length of the result's type.
"""

from __future__ import annotations

import importlib
import math as _pymath

import numpy as np

from symgraph.graph.basic import Apply, Variable
from symgraph.graph.op import Op
from symgraph.graph.utils import ShapeError
from symgraph.tensor.axes import normalize_axis, normalize_axes
from symgraph.tensor.basic import (
    NotScalarConstantError, as_tensor_variable, constant, get_scalar_constant_value,
    is_python_scalar,
)
from symgraph.tensor.type import INTEGER_DTYPES, TensorType, normalize_dtype
from symgraph.tensor.variable import TensorConstant


# ----------------------------------------------------------------------- helpers

def _const_int(v):
    """The Python int value of a constant integer scalar expression, else None."""
    try:
        return int(get_scalar_constant_value(v))
    except (NotScalarConstantError, TypeError, ValueError):
        return None


def _as_int_scalar(v, what):
    """``v`` as an int64 0-d tensor: a Python/NumPy int or a symbolic integer scalar."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{what} must be an integer, got the bool {v!r}")
    if isinstance(v, (int, np.integer)):
        return constant(int(v), dtype="int64")
    if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.name in INTEGER_DTYPES:
        return constant(int(v), dtype="int64")
    if not isinstance(v, Variable):
        raise TypeError(f"{what} must be an integer or a symbolic integer scalar, "
                        f"got {type(v).__name__} {v!r}")
    v = as_tensor_variable(v)
    if v.ndim != 0 or v.dtype not in INTEGER_DTYPES:
        raise TypeError(f"{what} must be an integer scalar, got {_desc(v)}")
    if v.dtype != "int64":
        from symgraph.tensor.math import cast
        v = cast(v, "int64")
    return v


def _check_nonneg(dims, who):
    for d in dims:
        n = _const_int(d)
        if n is not None and n < 0:
            shp = tuple(_const_int(s) if _const_int(s) is not None else "?" for s in dims)
            raise ValueError(f"{who}: negative dimensions are not allowed (shape {shp})")


def as_shape(shape, who="shape"):
    """A list of int64 0-d tensors, one per dimension, from any accepted shape argument.

    Accepted: an int, a tuple/list of ints and symbolic integer scalars, a 1-d integer
    array, or a symbolic integer vector whose length is static.
    """
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        return [_as_int_scalar(shape, who)]
    if isinstance(shape, np.ndarray):
        if shape.ndim == 0:
            return [_as_int_scalar(shape, who)]
        if shape.ndim != 1 or shape.dtype.name not in INTEGER_DTYPES:
            raise TypeError(f"{who} must be a 1-d integer array, got dtype {shape.dtype} and "
                            f"shape {shape.shape}")
        return [_as_int_scalar(int(s), who) for s in shape]
    if isinstance(shape, (tuple, list)):
        return [_as_int_scalar(s, f"{who}[{i}]") for i, s in enumerate(shape)]
    if isinstance(shape, Variable):
        v = as_tensor_variable(shape)
        if v.ndim == 0:
            return [_as_int_scalar(v, who)]
        if v.ndim != 1 or v.dtype not in INTEGER_DTYPES:
            raise TypeError(f"{who} must be an integer scalar or vector, got {_desc(v)}")
        n = v.type.shape[0]
        if n is None:
            raise TypeError(f"{who}: the length of the symbolic shape vector {v} ({v.type}) is "
                            "not known statically, so the rank of the result is unknown; "
                            "give a tuple of scalars or a vector of static length")
        if isinstance(v, TensorConstant):
            return [_as_int_scalar(int(s), who) for s in v.data]
        from symgraph.tensor.shape import Shape, shape_i
        if v.owner is not None and isinstance(v.owner.op, Shape):
            src = v.owner.inputs[0]
            return [shape_i(src, d) for d in range(src.ndim)]
        return [_as_int_scalar(v[d], f"{who}[{d}]") for d in range(n)]
    raise TypeError(f"{who} must be an int, a tuple of ints or integer scalars, or an integer "
                    f"vector, got {type(shape).__name__} {shape!r}")


def _desc(v):
    """How error messages name a variable: itself, its rank and its type."""
    return f"{v} with {v.ndim} dimensions (type {v.type})"


def _static_dims(dims):
    return tuple(_const_int(d) for d in dims)


def _shape_of(x):
    from symgraph.tensor.shape import shape_i
    return [shape_i(x, d) for d in range(x.ndim)]


def _m():
    # the module itself: the package's star imports may rebind attribute names
    return importlib.import_module("symgraph.tensor.math")


def _i64(n):
    return constant(n, dtype="int64")


# ----------------------------------------------------------------------- Alloc

class Alloc(Op):
    """``Alloc()(value, *shape)``: a new array of ``shape`` filled with ``value``.

    ``value`` broadcasts as in NumPy, aligned on the right; one of its dimensions
    stretches only when its static length is 1 (the rule Elemwise follows), so a
    dimension of unknown length must match the target exactly at run time.
    """

    __props__ = ()

    def make_node(self, value, *shape):
        value = as_tensor_variable(value)
        dims = [_as_int_scalar(s, f"alloc: shape[{i}]") for i, s in enumerate(shape)]
        if value.ndim > len(dims):
            raise TypeError(f"alloc: the value {value} ({value.type}) has {value.ndim} dimensions, "
                            f"more than the {len(dims)} of the target shape")
        _check_nonneg(dims, "alloc")
        static = list(_static_dims(dims))
        off = len(dims) - value.ndim
        for i, vs in enumerate(value.type.shape):
            d = off + i
            if vs is None or vs == 1:
                continue
            if static[d] is None:
                static[d] = vs
            elif static[d] != vs:
                raise ShapeError(
                    f"alloc: cannot broadcast {value} of static shape {value.type.shape} to shape "
                    f"{tuple('?' if s is None else s for s in _static_dims(dims))}: dimension {i} "
                    f"of the value has length {vs}, the target {static[d]}")
        out = TensorType(value.dtype, shape=tuple(static))()
        return Apply(self, [value, *dims], [out])

    def perform(self, node, inputs, output_storage):
        v = inputs[0]
        sh = tuple(int(s) for s in inputs[1:])
        if any(s < 0 for s in sh):
            raise ValueError(f"alloc: negative dimensions are not allowed (shape {sh})")
        off = len(sh) - v.ndim
        vstatic = node.inputs[0].type.shape
        for i, n in enumerate(v.shape):
            t = sh[off + i]
            if n != t and not (n == 1 and vstatic[i] == 1):
                hint = ("; only dimensions declared with static length 1 broadcast"
                        if n == 1 else "")
                raise ShapeError(f"alloc: cannot broadcast a value of shape {v.shape} to shape "
                                 f"{sh}: dimension {i} of the value has length {n}, the target "
                                 f"{t}{hint}")
        out = np.empty(sh, dtype=v.dtype)
        out[...] = v
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(_i64(s) if s is not None else d
                      for s, d in zip(node.outputs[0].type.shape, node.inputs[1:]))]

    def do_constant_folding(self, fgraph, node):
        # A folded alloc would store the whole array in the graph.
        return False

    def L_op(self, inputs, outputs, output_grads):
        """The value's gradient is ``g`` summed over the dimensions the value was stretched
        along: the new leading ones and those of static length 1 (the only ones that
        broadcast). The shape inputs are disconnected."""
        from symgraph.gradient import disconnected_type
        from symgraph.tensor.reduction import sum as sum_
        value, g = inputs[0], output_grads[0]
        extra = g.ndim - value.ndim
        gv = sum_(g, axis=tuple(range(extra))) if extra else g
        out_shape = outputs[0].type.shape[extra:]
        axes = tuple(d for d, (vs, os_) in enumerate(zip(value.type.shape, out_shape))
                     if vs == 1 and os_ != 1)
        if axes:
            gv = sum_(gv, axis=axes, keepdims=True)
        return [gv] + [disconnected_type() for _ in inputs[1:]]

    def R_op(self, inputs, eval_points):
        ev = eval_points[0]
        return [None if ev is None else self(ev, *inputs[1:])]


_alloc = Alloc()


def alloc(value, *shape):
    """An array of ``shape`` filled with ``value`` (broadcast, NumPy's rules on static
    lengths); ``alloc(v, 2, n)`` or ``alloc(v, (2, n))``."""
    if len(shape) == 1 and not (isinstance(shape[0], (int, np.integer)) or
                                (isinstance(shape[0], Variable) and shape[0].ndim == 0)):
        dims = as_shape(shape[0], "alloc: shape")
    else:
        dims = as_shape(tuple(shape), "alloc: shape")
    return _alloc(value, *dims)


def _fill_constant(fill_value, dtype):
    """``fill_value`` as a tensor; a given ``dtype`` converts values as NumPy would."""
    if isinstance(fill_value, Variable):
        v = as_tensor_variable(fill_value)
        return v if dtype is None else _m().cast(v, dtype)
    if dtype is None:
        return as_tensor_variable(fill_value)
    return constant(fill_value, dtype=normalize_dtype(dtype))


def zeros(shape, dtype=None):
    """An array of zeros of ``shape``; ``dtype`` defaults to config.floatX."""
    return alloc(constant(0, dtype=normalize_dtype(dtype)), *as_shape(shape, "zeros: shape"))


def ones(shape, dtype=None):
    """An array of ones of ``shape``; ``dtype`` defaults to config.floatX."""
    return alloc(constant(1, dtype=normalize_dtype(dtype)), *as_shape(shape, "ones: shape"))


def full(shape, fill_value, dtype=None):
    """An array of ``shape`` filled with ``fill_value`` (a number or tensor broadcast to it).

    Without ``dtype`` the value's own dtype is used (a Python float gives floatX, as
    Theano; a Python int gives int64).
    """
    return alloc(_fill_constant(fill_value, dtype), *as_shape(shape, "full: shape"))


def _like_dtype(x, dtype):
    return x.dtype if dtype is None else normalize_dtype(dtype)


def zeros_like(x, dtype=None):
    """Zeros with the shape of ``x`` and its dtype (or ``dtype``)."""
    x = as_tensor_variable(x)
    return alloc(constant(0, dtype=_like_dtype(x, dtype)), *_shape_of(x))


def ones_like(x, dtype=None):
    """Ones with the shape of ``x`` and its dtype (or ``dtype``)."""
    x = as_tensor_variable(x)
    return alloc(constant(1, dtype=_like_dtype(x, dtype)), *_shape_of(x))


def full_like(x, fill_value, dtype=None):
    """``fill_value`` broadcast to the shape of ``x``, in x's dtype unless ``dtype`` is given
    (as numpy.full_like)."""
    x = as_tensor_variable(x)
    return alloc(_fill_constant(fill_value, _like_dtype(x, dtype)), *_shape_of(x))


def fill(model, value):
    """``value`` broadcast to the shape of ``model``, keeping value's dtype (Theano's fill).

    A Python number is weak: it takes the dtype of ``model`` where it fits there
    (``fill(x_float32, 1.0)`` is float32, ``fill(x_int8, 1.5)`` is float64).
    """
    model = as_tensor_variable(model)
    if is_python_scalar(value):
        value = _m().as_elemwise_inputs([model, value])[1]
    value = as_tensor_variable(value)
    if value.ndim > model.ndim:
        raise TypeError(f"fill: the value {value} ({value.type}) has more dimensions than the "
                        f"model {model} ({model.type})")
    return alloc(value, *_shape_of(model))


second = fill


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` (a new array, not a view, unlike NumPy).

    Dimensions of ``x`` stretch only where their static length is 1.
    """
    return alloc(as_tensor_variable(x), *as_shape(shape, "broadcast_to: shape"))


# ----------------------------------------------------------------------- Eye / Tri

class _MatrixFromSizes(Op):
    """Base of Eye and Tri: inputs (n, m, k) int64 scalars, output an (n, m) matrix."""

    __props__ = ("dtype",)
    _name = ""

    def __init__(self, dtype=None):
        self.dtype = normalize_dtype(dtype)

    def make_node(self, n, m, k):
        n = _as_int_scalar(n, f"{self._name}: N")
        m = _as_int_scalar(m, f"{self._name}: M")
        k = _as_int_scalar(k, f"{self._name}: k")
        _check_nonneg([n, m], self._name)
        out = TensorType(self.dtype, shape=(_const_int(n), _const_int(m)))()
        return Apply(self, [n, m, k], [out])

    def infer_shape(self, fgraph, node, input_shapes):
        return [(node.inputs[0], node.inputs[1])]

    def L_op(self, inputs, outputs, output_grads):
        # the sizes and the offset are integers: the values do not depend on anything
        from symgraph.gradient import disconnected_type
        return [disconnected_type() for _ in inputs]

    def R_op(self, inputs, eval_points):
        return [None]


class Eye(_MatrixFromSizes):
    """``Eye(dtype)(n, m, k)``: an n×m matrix with ones on the k-th diagonal."""

    __props__ = ("dtype",)
    _name = "eye"

    def perform(self, node, inputs, output_storage):
        n, m, k = (int(i) for i in inputs)
        output_storage[0][0] = np.eye(n, m, k, dtype=self.dtype)


class Tri(_MatrixFromSizes):
    """``Tri(dtype)(N, M, k)``: an N×M matrix with ones at and below the k-th diagonal."""

    __props__ = ("dtype",)
    _name = "tri"

    def perform(self, node, inputs, output_storage):
        n, m, k = (int(i) for i in inputs)
        output_storage[0][0] = np.tri(n, m, k, dtype=self.dtype)


def eye(n, m=None, k=0, dtype=None):
    """An n×m matrix (m defaults to n) with ones on the k-th diagonal; dtype floatX."""
    return Eye(dtype)(n, n if m is None else m, k)


def identity_like(x, dtype=None):
    """The identity-like matrix (ones on the main diagonal) of the shape of matrix ``x``,
    in x's dtype unless ``dtype`` is given."""
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(f"identity_like expects a matrix, got {_desc(x)}")
    from symgraph.tensor.shape import shape_i
    return eye(shape_i(x, 0), shape_i(x, 1), 0, dtype=_like_dtype(x, dtype))


def tri(N, M=None, k=0, dtype=None):
    """An N×M matrix (M defaults to N) with ones at and below the k-th diagonal, zeros
    elsewhere; dtype floatX unless given."""
    return Tri(dtype)(N, N if M is None else M, k)


def _tri_args(x, who):
    x = as_tensor_variable(x)
    if x.ndim < 2:
        raise TypeError(f"{who} expects an array of at least 2 dimensions, got "
                        f"{_desc(x)}")
    from symgraph.tensor.shape import shape_i
    return x, shape_i(x, -2), shape_i(x, -1)


def tril(x, k=0):
    """``x`` with the elements above the k-th diagonal of its last two axes set to zero."""
    x, n, m = _tri_args(x, "tril")
    mask = tri(n, m, k, dtype="bool")
    return _m().switch(mask, x, constant(0, dtype=x.dtype))


def triu(x, k=0):
    """``x`` with the elements below the k-th diagonal of its last two axes set to zero."""
    x, n, m = _tri_args(x, "triu")
    k1 = k - 1 if isinstance(k, (int, np.integer)) else _m().sub(_as_int_scalar(k, "triu: k"), 1)
    mask = tri(n, m, k1, dtype="bool")
    return _m().switch(mask, constant(0, dtype=x.dtype), x)


# ----------------------------------------------------------------------- ARange

def _is_float_dtype(dt):
    return np.dtype(dt).kind == "f"


class ARange(Op):
    """``ARange(dtype)(start, stop, step)``: evenly spaced values in [start, stop)."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = normalize_dtype(dtype)
        if np.dtype(self.dtype).kind in "cb":
            raise TypeError(f"arange: dtype must be an integer or float dtype, got {self.dtype}")

    def make_node(self, start, stop, step):
        ins = []
        for name, v in (("start", start), ("stop", stop), ("step", step)):
            v = as_tensor_variable(v)
            if v.ndim != 0 or v.type.dtype_kind not in "biuf":
                raise TypeError(f"arange: {name} must be a real scalar, got {_desc(v)}")
            ins.append(v)
        vals = []
        for v in ins:
            try:
                vals.append(get_scalar_constant_value(v)[()])
            except NotScalarConstantError:
                vals = None
                break
        length = None
        if vals is not None:
            if vals[2] == 0:
                raise ValueError(f"arange: step must not be zero (start={vals[0]}, "
                                 f"stop={vals[1]})")
            length = _arange_length(*vals, dtype=self.dtype)
        return Apply(self, ins, [TensorType(self.dtype, shape=(length,))()])

    def perform(self, node, inputs, output_storage):
        start, stop, step = (i[()] for i in inputs)
        if step == 0:
            raise ValueError(f"arange: step must not be zero (start={start}, stop={stop})")
        output_storage[0][0] = np.arange(start, stop, step, dtype=self.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        if node.outputs[0].type.shape[0] is not None:
            return [(_i64(node.outputs[0].type.shape[0]),)]
        m = _m()
        start, stop, step = node.inputs
        if all(v.type.dtype_kind in "biu" for v in node.inputs):
            start, stop, step = (m.cast(v, "int64") for v in node.inputs)
            n = m.neg(m.int_div(m.sub(start, stop), step))
        else:
            n = m.cast(m.ceil(m.true_div(m.sub(stop, start), step)), "int64")
        return [(m.maximum(n, _i64(0)),)]

    def L_op(self, inputs, outputs, output_grads):
        """The values are ``start + i * step``, so (for a float result) start gets
        ``sum(g)`` and step ``sum(g * i)``. ``stop`` only decides the length, a
        piecewise constant function: it is disconnected (Theano returns zeros for all
        three). An integer result is disconnected from everything."""
        from symgraph.gradient import disconnected_type
        from symgraph.tensor.reduction import sum as sum_
        (out,), (g,) = outputs, output_grads
        if np.dtype(self.dtype).kind not in "fc":
            return [disconnected_type() for _ in inputs]
        i = self._positions(out)
        return [sum_(g), disconnected_type(), sum_(_m().mul(g, i))]

    def R_op(self, inputs, eval_points):
        """The tangent of ``start + i * step``: ``d_start + i * d_step``."""
        es, _, ed = eval_points
        if np.dtype(self.dtype).kind not in "fc" or (es is None and ed is None):
            return [None]
        m = _m()
        out = self(*inputs)
        i = self._positions(out)
        t = m.mul(i, m.cast(ed, self.dtype)) if ed is not None else m.mul(i, _i64(0))
        if es is not None:
            t = m.add(t, m.cast(es, self.dtype))
        return [m.cast(t, self.dtype)]

    def _positions(self, out):
        """0, 1, ..., len(out) - 1 in the output's dtype."""
        from symgraph.tensor.shape import shape_i
        return ARange(self.dtype)(_i64(0), shape_i(out, 0), _i64(1))


def _arange_length(start, stop, step, dtype):
    """The length numpy.arange gives, computed without allocating huge arrays."""
    if all(np.asarray(v).dtype.kind in "biu" for v in (start, stop, step)):
        est = -((int(start) - int(stop)) // int(step))
    else:
        est = _pymath.ceil((float(stop) - float(start)) / float(step))
    if est <= 1 << 16:
        return len(np.arange(start, stop, step, dtype=dtype))
    return max(est, 0)


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in [start, stop) by ``step`` (numpy.arange); symbolic scalars
    allowed.

    Without ``dtype``: int64 when every argument is an integer; float32 when the
    symbolic arguments are all float32 (Python numbers do not count); float64 otherwise.
    The length is static when every argument is a constant. A zero step raises
    ValueError. Gradients (for a float result) flow to ``start`` and ``step``;
    ``stop`` only sets the length and is disconnected.
    """
    if stop is None:
        start, stop = 0, start
    args = [start, stop, step]
    strong = [as_tensor_variable(a) for a in args if not is_python_scalar(a)]
    for v in strong:
        if v.type.dtype_kind == "c":
            raise TypeError(f"arange: complex arguments are not supported, got "
                        f"{_desc(v)}")
    any_float = any(isinstance(a, float) for a in args if is_python_scalar(a)) or \
        any(_is_float_dtype(v.dtype) for v in strong)
    if isinstance(start, complex) or isinstance(stop, complex) or isinstance(step, complex):
        raise TypeError("arange: complex arguments are not supported")
    if dtype is None:
        if not any_float:
            dtype = "int64"
        elif strong and all(v.dtype == "float32" for v in strong):
            dtype = "float32"
        else:
            dtype = "float64"
    dtype = normalize_dtype(dtype)
    ins, it = [], iter(strong)
    for a in args:
        if is_python_scalar(a):
            kind = np.asarray(a).dtype.kind
            if kind == "f":
                cdt = "float32" if dtype == "float32" else "float64"
            else:
                cdt = "float32" if dtype == "float32" else "int64"
            ins.append(constant(a, dtype=cdt))
        else:
            ins.append(next(it))
    return ARange(dtype)(*ins)


def linspace(start, stop, num=50, endpoint=True, dtype=None):
    """``num`` evenly spaced samples from ``start`` to ``stop`` (numpy.linspace, axis 0).

    ``num`` is a Python int, so the length is static; ``start``/``stop`` may be
    symbolic (and arrays: the samples run along a new first axis). Without ``dtype``
    the result is inexact: float64 for integers, float32 for float32 inputs (Python
    numbers are weak). An integer ``dtype`` floors the samples, as NumPy 2.
    """
    if isinstance(num, (bool, np.bool_)) or not isinstance(num, (int, np.integer)):
        raise TypeError(f"linspace: num must be a Python int, got {type(num).__name__} {num!r}")
    num = int(num)
    if num < 0:
        raise ValueError(f"linspace: number of samples, {num}, must be non-negative")
    m = _m()
    if is_python_scalar(start) and is_python_scalar(stop):
        dt = np.result_type(start, stop, 1.0).name
        start, stop = constant(start, dtype=dt), constant(stop, dtype=dt)
    else:
        start, stop = m.as_elemwise_inputs([start, stop])
        dt = np.result_type(start.dtype, stop.dtype, 1.0).name
        if dt == "float16":
            dt = "float32"
    if dt in ("complex64", "complex128"):
        real_dt = "float32" if dt == "complex64" else "float64"
    else:
        real_dt = dt
    start, stop = m.cast(start, dt), m.cast(stop, dt)
    nd = max(start.ndim, stop.ndim)
    idx = arange(num, dtype=real_dt)
    if nd:
        from symgraph.tensor.elemwise import dimshuffle
        idx = dimshuffle(idx, (0,) + ("x",) * nd)
    delta = m.sub(stop, start)
    div = (num - 1) if endpoint else num
    if div > 0:
        step = m.true_div(delta, div)
        # NumPy's way round an underflowing step: scale by delta after dividing.
        y = m.switch(m.eq(step, 0), m.mul(m.true_div(idx, div), delta), m.mul(idx, step))
    else:
        y = m.mul(idx, delta)
    y = m.add(y, start)
    if endpoint and num > 1:
        last = m.eq(arange(num, dtype="int64"), num - 1)
        if nd:
            from symgraph.tensor.elemwise import dimshuffle
            last = dimshuffle(last, (0,) + ("x",) * nd)
        y = m.switch(last, stop, y)
    y = m.cast(y, dt)
    if dtype is not None:
        dtype = normalize_dtype(dtype)
        if np.dtype(dtype).kind in "iu":
            y = m.floor(y)
        y = m.cast(y, dtype)
    return y


# ----------------------------------------------------------------------- diagonals

def _diag_len(n1, n2, k):
    """Length of the k-th diagonal of an n1×n2 matrix (ints or symbolic)."""
    if isinstance(n1, int) and isinstance(n2, int):
        return max(0, min(n1, n2 - k) if k >= 0 else min(n1 + k, n2))
    m = _m()
    if k >= 0:
        ln = m.minimum(n1, m.sub(n2, _i64(k)))
    else:
        ln = m.minimum(m.add(n1, _i64(k)), n2)
    return m.maximum(ln, _i64(0))


class AllocDiag(Op):
    """``AllocDiag(offset)(v)``: the square matrix with vector ``v`` on diagonal ``offset``."""

    __props__ = ("offset",)

    def __init__(self, offset=0):
        self.offset = int(offset)

    def make_node(self, v):
        v = as_tensor_variable(v)
        if v.ndim != 1:
            raise TypeError(f"AllocDiag expects a vector, got {_desc(v)}")
        n = v.type.shape[0]
        size = None if n is None else n + abs(self.offset)
        return Apply(self, [v], [TensorType(v.dtype, shape=(size, size))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.diag(inputs[0], self.offset)

    def infer_shape(self, fgraph, node, input_shapes):
        n = _m().add(input_shapes[0][0], _i64(abs(self.offset)))
        return [(n, n)]

    def L_op(self, inputs, outputs, output_grads):
        """The ``offset``-th diagonal of ``g``."""
        return [ExtractDiag(self.offset, 0, 1)(output_grads[0])]

    def R_op(self, inputs, eval_points):
        ev = eval_points[0]
        return [None if ev is None else self(ev)]


class ExtractDiag(Op):
    """``ExtractDiag(offset, axis1, axis2)(x)``: numpy.diagonal, as a new array.

    The axes are stored non-negative; the diagonal becomes the last axis.
    """

    __props__ = ("offset", "axis1", "axis2")

    def __init__(self, offset=0, axis1=0, axis2=1):
        self.offset = int(offset)
        self.axis1 = int(axis1)
        self.axis2 = int(axis2)
        if self.axis1 < 0 or self.axis2 < 0 or self.axis1 == self.axis2:
            raise ValueError(f"ExtractDiag: axes must be distinct and non-negative, got "
                             f"({axis1}, {axis2})")

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim < 2:
            raise TypeError(f"diagonal expects an array of at least 2 dimensions, got "
                        f"{_desc(x)}")
        normalize_axes((self.axis1, self.axis2), x.ndim, "diagonal", of=x, negative=False)
        s = x.type.shape
        n1, n2 = s[self.axis1], s[self.axis2]
        ln = None if n1 is None or n2 is None else _diag_len(n1, n2, self.offset)
        rest = tuple(n for d, n in enumerate(s) if d not in (self.axis1, self.axis2))
        return Apply(self, [x], [TensorType(x.dtype, shape=rest + (ln,))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.diagonal(inputs[0], self.offset, self.axis1,
                                           self.axis2).copy()

    def infer_shape(self, fgraph, node, input_shapes):
        s = input_shapes[0]
        st = node.outputs[0].type.shape[-1]
        ln = _i64(st) if st is not None else \
            _diag_len(s[self.axis1], s[self.axis2], self.offset)
        rest = tuple(n for d, n in enumerate(s) if d not in (self.axis1, self.axis2))
        return [rest + (ln,)]

    def L_op(self, inputs, outputs, output_grads):
        """``g`` written back on the diagonal of zeros shaped like ``x`` (an advanced
        increment at rows ``i + max(0, -offset)``, columns ``i + max(0, offset)``)."""
        from symgraph.tensor.elemwise import dimshuffle
        from symgraph.tensor.shape import shape_i
        from symgraph.tensor.subtensor import getitem, inc_subtensor
        (x,), (out,), (g,) = inputs, outputs, output_grads
        m = _m()
        a1, a2, k = self.axis1, self.axis2, self.offset
        i = arange(shape_i(out, out.ndim - 1), dtype="int64")
        rows = m.add(i, _i64(max(0, -k))) if k < 0 else i
        cols = m.add(i, _i64(k)) if k > 0 else i
        key = [slice(None)] * x.ndim
        key[a1], key[a2] = rows, cols
        # NumPy puts the indexed dimension where the two arrays are when they are
        # adjacent in the key, else first; ``g`` has it last
        lo, nrest = min(a1, a2), x.ndim - 2
        if abs(a1 - a2) == 1:
            pattern = list(range(lo)) + [nrest] + list(range(lo, nrest))
        else:
            pattern = [nrest] + list(range(nrest))
        gy = dimshuffle(g, pattern) if pattern != list(range(x.ndim - 1)) else g
        zeros = zeros_like(x, dtype=g.dtype)
        return [inc_subtensor(getitem(zeros, tuple(key)), gy)]

    def R_op(self, inputs, eval_points):
        ev = eval_points[0]
        return [None if ev is None else self(ev)]


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The ``offset``-th diagonal over axes ``axis1``, ``axis2`` (numpy.diagonal): the other
    axes come first and the diagonal last. The result is a copy."""
    x = as_tensor_variable(x)
    if x.ndim < 2:
        raise TypeError(f"diagonal expects an array of at least 2 dimensions, got "
                        f"{_desc(x)}")
    if isinstance(offset, (bool, np.bool_)) or not isinstance(offset, (int, np.integer)):
        raise TypeError(f"diagonal: offset must be an int, got {offset!r}")
    a1 = normalize_axis(axis1, x.ndim, "diagonal")
    a2 = normalize_axis(axis2, x.ndim, "diagonal")
    if a1 == a2:
        raise ValueError(f"diagonal: axis1 and axis2 must differ, got {axis1} and {axis2} "
                         f"for {x.ndim} dimensions")
    return ExtractDiag(offset, a1, a2)(x)


def diag(v, k=0):
    """numpy.diag: a vector gives the square matrix with ``v`` on the k-th diagonal, a
    matrix gives its k-th diagonal."""
    v = as_tensor_variable(v)
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"diag: k must be an int, got {k!r}")
    if v.ndim == 1:
        return AllocDiag(k)(v)
    if v.ndim == 2:
        return ExtractDiag(k, 0, 1)(v)
    raise TypeError(f"diag expects a vector or a matrix, got {_desc(v)}")


__all__ = [
    "Alloc", "ARange", "AllocDiag", "ExtractDiag", "Eye", "Tri",
    "alloc", "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "fill",
    "second", "broadcast_to", "eye", "identity_like", "tri", "tril", "triu", "arange",
    "linspace", "diag", "diagonal",
]
