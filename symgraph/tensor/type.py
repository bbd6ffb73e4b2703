"""TensorType (dtype + static shape) and the Theano-style variable constructors."""

from __future__ import annotations

import numpy as np

from symgraph import config
from symgraph.graph.type import Type
from symgraph.scalar.basic import dtype_name

ALL_DTYPES = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "complex64", "complex128",
)
INT_DTYPES = ("int8", "int16", "int32", "int64")
UINT_DTYPES = ("uint8", "uint16", "uint32", "uint64")
INTEGER_DTYPES = INT_DTYPES + UINT_DTYPES
FLOAT_DTYPES = ("float32", "float64")
COMPLEX_DTYPES = ("complex64", "complex128")
DISCRETE_DTYPES = ("bool",) + INTEGER_DTYPES
CONTINUOUS_DTYPES = FLOAT_DTYPES + COMPLEX_DTYPES


def normalize_dtype(dtype) -> str:
    """The canonical name of a dtype, refusing those symgraph does not support."""
    if dtype is None:
        return config.floatX
    if dtype == "floatX":
        return config.floatX
    try:
        name = dtype_name(dtype)
    except TypeError:
        raise TypeError(f"{dtype!r} is not a dtype; expected one of {', '.join(ALL_DTYPES)}") from None
    if name not in ALL_DTYPES:
        raise TypeError(f"dtype {name} is not supported; expected one of {', '.join(ALL_DTYPES)}")
    return name


def _normalize_shape(shape, broadcastable, ndim=None):
    if shape is not None and broadcastable is not None:
        raise TypeError("give either shape or broadcastable, not both")
    if broadcastable is not None:
        return tuple(1 if b else None for b in broadcastable)
    if shape is None:
        if ndim is None:
            raise TypeError("TensorType needs a shape (a tuple of int or None per dimension)")
        return (None,) * ndim
    out = []
    for s in shape:
        if s is None:
            out.append(None)
        elif isinstance(s, (bool, np.bool_)):
            # Theano-style broadcastable pattern passed positionally
            out.append(1 if s else None)
        else:
            try:
                s = int(s)
            except (TypeError, ValueError):
                raise TypeError(f"shape entries must be int or None, got {s!r}") from None
            if s < 0:
                raise ValueError(f"static shape entries must be >= 0, got {s}")
            out.append(s)
    return tuple(out)


class TensorType(Type):
    """Arrays of one dtype and rank; ``shape`` holds an int or None per dimension.

    A dimension of static length 1 is broadcastable.
    """

    def __init__(self, dtype, shape=None, broadcastable=None, name=None):
        self.dtype = normalize_dtype(dtype)
        self.shape = _normalize_shape(shape, broadcastable)
        self.name = name
        self.numpy_dtype = np.dtype(self.dtype)

    # -------------------------------------------------------------- properties
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def broadcastable(self) -> tuple:
        return tuple(s == 1 for s in self.shape)

    @property
    def dtype_kind(self) -> str:
        return self.numpy_dtype.kind

    def clone(self, dtype=None, shape=None, broadcastable=None):
        if shape is None and broadcastable is None:
            shape = self.shape
        return TensorType(self.dtype if dtype is None else dtype, shape=shape,
                          broadcastable=broadcastable)

    # -------------------------------------------------------------- identity
    def __eq__(self, other):
        return type(other) is type(self) and other.dtype == self.dtype and other.shape == self.shape

    def __hash__(self):
        return hash((type(self), self.dtype, self.shape))

    def __str__(self):
        if self.name:
            return self.name
        shp = ", ".join("?" if s is None else str(s) for s in self.shape)
        if self.ndim == 1:
            shp += ","
        return f"TensorType({self.dtype}, shape=({shp}))"

    __repr__ = __str__

    # -------------------------------------------------------------- values
    def describe_value(self, data) -> str:
        arr = np.asarray(data) if not isinstance(data, np.ndarray) else data
        return f"an array of dtype {arr.dtype} and shape {arr.shape}"

    def filter(self, data, strict=False, allow_downcast=None):
        """Convert ``data`` to an ndarray of this type or raise TypeError saying why not.

        Theano's rules: with ``strict`` only an ndarray of the exact dtype passes;
        otherwise values that convert without loss pass, a Python float may be
        downcast to floatX when ``allow_downcast`` is None, and anything goes
        when ``allow_downcast`` is True.
        """
        if type(data) is np.ndarray and data.dtype == self.numpy_dtype:
            arr = data
        elif type(data) is float and self.dtype == "float64" and not strict:
            arr = np.array(data)  # the most common call argument, exact by construction
        elif strict:
            if not isinstance(data, np.ndarray):
                raise TypeError(f"expected an ndarray of dtype {self.dtype} (strict), "
                                f"got {type(data).__name__}")
            raise TypeError(f"expected dtype {self.dtype} (strict), got {data.dtype}")
        else:
            arr = self._convert(data, allow_downcast)
        if arr.ndim != self.ndim:
            raise TypeError(f"wrong number of dimensions: expected {self.ndim} "
                            f"({self}), got {arr.ndim} with shape {arr.shape}")
        for s, a in zip(self.shape, arr.shape):
            if s is not None and s != a:
                raise TypeError(f"wrong shape: expected static shape {self._shape_str()}, "
                                f"got {arr.shape}")
        return arr

    def _shape_str(self):
        return "(" + ", ".join("?" if s is None else str(s) for s in self.shape) + \
            ("," if self.ndim == 1 else "") + ")"

    def _convert(self, data, allow_downcast):
        from symgraph.graph.basic import Variable

        if isinstance(data, Variable):
            raise TypeError(f"expected a numeric value for {self}, got the symbolic variable "
                            f"{data}; symbolic inputs go in `givens`, not in the call")
        python_data = not isinstance(data, (np.ndarray, np.generic))
        src = np.asarray(data)
        if src.dtype == object and isinstance(data, int):
            raise TypeError(f"the Python integer {data} does not fit in any integer dtype, "
                            f"let alone {self.dtype}")
        if src.dtype == object or src.dtype.kind in "USVM":
            raise TypeError(f"cannot convert {type(data).__name__} of dtype {src.dtype} to {self}")
        target = self.numpy_dtype
        if src.dtype == target:
            return src
        if allow_downcast or np.can_cast(src.dtype, target, "safe"):
            return src.astype(target)
        if python_data:
            # Python numbers pass when they convert without changing value, and
            # Python floats (complexes) may be rounded to floatX (its complex type)
            # unless downcasting was refused.
            if allow_downcast is None and (
                    (src.dtype.kind == "f" and self.dtype == config.floatX) or
                    (src.dtype.kind == "c" and target.kind == "c" and
                     target.itemsize == 2 * np.dtype(config.floatX).itemsize)):
                return src.astype(target)
            if src.dtype.kind != "c" or target.kind == "c":
                with np.errstate(all="ignore"):
                    conv = src.astype(target)
                # NaN converts to NaN without loss
                if np.array_equal(conv, src, equal_nan=src.dtype.kind in "fc" and
                                  target.kind in "fc"):
                    return conv
        raise TypeError(self._cast_msg(src))

    def _cast_msg(self, src):
        return (f"expected dtype {self.dtype}, got {src.dtype} (shape {src.shape}); "
                f"converting it would lose precision. Cast the value yourself "
                f"(value.astype('{self.dtype}')), or pass allow_input_downcast=True "
                f"to function() (allow_downcast=True for shared values)")

    def values_eq(self, a, b) -> bool:
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))

    def values_eq_approx(self, a, b, rtol=None, atol=None) -> bool:
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if self.dtype_kind in "fc":
            tol = 1e-4 if self.dtype in ("float32", "complex64") else 1e-8
            return bool(np.allclose(a, b, rtol=rtol or tol, atol=atol or tol, equal_nan=True))
        return bool(np.array_equal(a, b))

    def signature_of(self, data):
        arr = np.asarray(data)
        return (arr.shape, arr.tobytes()) if arr.size < 1 << 16 else id(data)

    def constant_str(self, data) -> str:
        arr = np.asarray(data)
        if arr.size == 1:
            return str(arr.item())
        if arr.size <= 6:
            return np.array2string(arr, separator=",").replace("\n", "")
        return f"Constant{{{arr.dtype}{arr.shape}}}"

    # -------------------------------------------------------------- variables
    def convert_variable(self, var):
        """``var`` as this type: itself when at least as specific, else via specify_shape."""
        t = var.type
        if self.is_super(t):
            return var
        if isinstance(t, TensorType) and t.is_super(self):
            from symgraph.tensor.shape import specify_shape
            return specify_shape(var, self.shape)
        return None

    def is_super(self, other) -> bool:
        """Every value of ``other`` is a value of self."""
        return isinstance(other, TensorType) and other.dtype == self.dtype and \
            other.ndim == self.ndim and all(a is None or a == b for a, b in zip(self.shape, other.shape))

    @property
    def variable_type(self):
        from symgraph.tensor.variable import TensorVariable
        return TensorVariable

    @property
    def constant_type(self):
        from symgraph.tensor.variable import TensorConstant
        return TensorConstant


# ----------------------------------------------------------------------- constructors

def tensor(dtype=None, shape=None, name=None, broadcastable=None, ndim=None):
    """A symbolic tensor: ``tensor("float32", shape=(None, 3), name="x")``.

    Theano's old positional form ``tensor(dtype, broadcastable)`` also works.
    """
    if isinstance(dtype, (tuple, list)) and shape is None:
        dtype, shape = None, dtype
    if shape is None and broadcastable is None:
        shape = (None,) * (ndim or 0)
    return TensorType(dtype, shape=shape, broadcastable=broadcastable)(name)


def _rank_ctor(ndim, default_shape=None, doc=""):
    def ctor(name=None, dtype=None, shape=None):
        if shape is None:
            shape = default_shape if default_shape is not None else (None,) * ndim
        if len(shape) != ndim:
            raise ValueError(f"shape {shape} does not have {ndim} dimensions")
        return TensorType(dtype, shape=shape)(name)
    ctor.__doc__ = doc
    return ctor


scalar = _rank_ctor(0, doc="A 0-d tensor of floatX (or the dtype given).")
vector = _rank_ctor(1, doc="A 1-d tensor.")
matrix = _rank_ctor(2, doc="A 2-d tensor.")
row = _rank_ctor(2, (1, None), doc="A 2-d tensor with a broadcastable first dimension.")
col = _rank_ctor(2, (None, 1), doc="A 2-d tensor with a broadcastable second dimension.")
tensor3 = _rank_ctor(3, doc="A 3-d tensor.")
tensor4 = _rank_ctor(4, doc="A 4-d tensor.")
tensor5 = _rank_ctor(5, doc="A 5-d tensor.")

_FAMILY_PREFIX = {
    "b": "int8", "w": "int16", "i": "int32", "l": "int64",
    "f": "float32", "d": "float64", "c": "complex64", "z": "complex128",
}
_FAMILY_RANKS = {
    "scalar": (0, None), "vector": (1, None), "matrix": (2, None), "row": (2, (1, None)),
    "col": (2, (None, 1)), "tensor3": (3, None), "tensor4": (4, None), "tensor5": (5, None),
}


def _family(dtype, ndim, default_shape):
    def ctor(name=None, shape=None):
        if shape is None:
            shape = default_shape if default_shape is not None else (None,) * ndim
        return TensorType(dtype, shape=shape)(name)
    return ctor


_families = {}
for _p, _dt in _FAMILY_PREFIX.items():
    for _r, (_nd, _shape) in _FAMILY_RANKS.items():
        _families[_p + _r] = _family(_dt, _nd, _shape)
        _families[_p + _r].__doc__ = f"A {_nd}-d tensor of {_dt}."
globals().update(_families)


# Theano's batch constructor: dscalars('a', 'b') -> two variables
def _plural(ctor):
    def many(*names):
        if len(names) == 1 and isinstance(names[0], int):
            return [ctor() for _ in range(names[0])]
        return [ctor(n) for n in names]
    return many


def _plural_name(name):
    return name[:-len("matrix")] + "matrices" if name.endswith("matrix") else name + "s"


_plurals = {_plural_name(n): _plural(globals()[n]) for n in
            list(_families) + ["scalar", "vector", "matrix", "row", "col", "tensor3", "tensor4"]}
globals().update(_plurals)

__all__ = ["TensorType", "tensor", "scalar", "vector", "matrix", "row", "col", "tensor3",
           "tensor4", "tensor5", *_families, *_plurals]
