"""Scalar ops: the per-element meaning of every elementwise operation.

A ScalarOp knows its arity, the dtype rule that maps input dtypes to output
dtypes, and a NumPy-vectorised implementation. ``Elemwise`` lifts it to tensors;
the fusion rewrite later composes several of them into one ``Composite``.
"""

from __future__ import annotations

import functools

import numpy as np

from symgraph.graph.basic import Apply, Constant, Variable
from symgraph.graph.op import Op
from symgraph.graph.type import Type

DISCRETE = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
SMALL_DISCRETE = ("bool", "int8", "uint8", "int16", "uint16")
COMPLEX = ("complex64", "complex128")
REAL_OF = {"complex64": "float32", "complex128": "float64"}
COMPLEX_OF = {"float32": "complex64", "float64": "complex128"}


# ----------------------------------------------------------------------- dtype rules

@functools.lru_cache(maxsize=None)
def dtype_name(dtype) -> str:
    """np.dtype(dtype).name, cached (NumPy computes the name in Python on every access)."""
    return np.dtype(dtype).name


@functools.lru_cache(maxsize=4096)
def _upcast(dtypes) -> str:
    return np.result_type(*dtypes).name


def upcast(*dtypes) -> str:
    """NumPy 2 promotion of array dtypes (no value-based casting)."""
    return _upcast(dtypes)


def upcast_out(*dtypes):
    return (upcast(*dtypes),)


def to_float(dtype: str) -> str:
    """The float dtype NumPy computes a discrete dtype in (float16 becomes float32)."""
    if dtype in SMALL_DISCRETE:
        return "float32"
    if dtype in DISCRETE:
        return "float64"
    return dtype


def float_upcast(*dtypes) -> str:
    """The dtype a float function computes in: each input is first made float (as NumPy
    does, so int8 with uint16 gives float32), then they are promoted together."""
    return upcast(*[to_float(d) for d in dtypes])


def upgrade_to_float(*dtypes):
    return (float_upcast(*dtypes),)


def upgrade_to_float_no_complex(*dtypes):
    out = float_upcast(*dtypes)
    if out in COMPLEX:
        raise TypeError(f"complex input ({', '.join(dtypes)}) is not supported here")
    return (out,)


def true_div_out(*dtypes):
    out = upcast(*dtypes)
    return ("float64" if out in DISCRETE else out,)


def upcast_out_no_complex(*dtypes):
    out = upcast(*dtypes)
    if out in COMPLEX:
        raise TypeError(f"complex input ({', '.join(dtypes)}) is not supported here")
    return (out,)


def _discrete_upcast(dtypes):
    for d in dtypes:
        if d not in DISCRETE:
            raise TypeError(f"expected integer or bool inputs, got {', '.join(dtypes)}")
    out = upcast(*dtypes)
    if out not in DISCRETE:
        # int64 with uint64: NumPy has no integer type holding both
        raise TypeError(f"no integer dtype holds both {' and '.join(dtypes)} (they promote "
                        f"to {out}); cast one of them first")
    return out


def discrete_out(*dtypes):
    return (_discrete_upcast(dtypes),)


def shift_out(*dtypes):
    """Bit shifts: integers (bool counts as int8, as in NumPy)."""
    out = _discrete_upcast(dtypes)
    return ("int8" if out == "bool" else out,)


def bool_out(*dtypes):
    return ("bool",)


def real_out(*dtypes):
    d = upcast(*dtypes)
    return (REAL_OF.get(d, d),)


def float_real_out(*dtypes):
    d = float_upcast(*dtypes)
    return (REAL_OF.get(d, d),)


def complex_out(*dtypes):
    d = float_upcast(*dtypes)
    if d in COMPLEX:
        raise TypeError(f"complex(re, im) takes real parts, got {', '.join(dtypes)}")
    return ("complex64" if d == "float32" else "complex128",)


def no_bool(rule, hint=""):
    """``rule``, refusing an all-boolean computation as NumPy does (``-`` and ``sign`` of
    booleans); a boolean mixed with numbers is promoted as usual."""
    def checked(*dtypes):
        out = rule(*dtypes)
        if "bool" in out:
            raise TypeError(f"boolean input ({', '.join(dtypes)}) is not supported here{hint}")
        return out
    checked.__name__ = rule.__name__
    return checked


def bool_as_int8(rule):
    """``rule``, with a bool result made int8: NumPy computes these ops on booleans in int8."""
    def checked(*dtypes):
        return tuple("int8" if d == "bool" else d for d in rule(*dtypes))
    checked.__name__ = rule.__name__
    return checked


def no_complex(rule):
    def checked(*dtypes):
        for d in dtypes:
            if d in COMPLEX:
                raise TypeError(f"complex input ({d}) is not supported here")
        return rule(*dtypes)
    checked.__name__ = rule.__name__
    return checked


# ----------------------------------------------------------------------- scalar type

class ScalarType(Type):
    """A single number of one dtype; the type inside Composite graphs."""

    def __init__(self, dtype):
        self.dtype = dtype_name(dtype)

    def __eq__(self, other):
        return type(other) is ScalarType and other.dtype == self.dtype

    def __hash__(self):
        return hash((ScalarType, self.dtype))

    def __str__(self):
        return self.dtype

    __repr__ = __str__

    def filter(self, data, strict=False, allow_downcast=None):
        arr = np.asarray(data)
        if arr.ndim != 0:
            raise TypeError(f"expected a scalar of dtype {self.dtype}, got shape {arr.shape}")
        if dtype_name(arr.dtype) != self.dtype:
            if strict:
                raise TypeError(f"expected dtype {self.dtype}, got {arr.dtype}")
            if not (allow_downcast or np.can_cast(arr.dtype, self.dtype, "safe")):
                conv = arr.astype(self.dtype)
                if not (isinstance(data, (int, float, complex, bool)) and conv == arr):
                    raise TypeError(f"cannot convert {arr.dtype} to {self.dtype} without loss")
        return np.dtype(self.dtype).type(arr.item() if arr.dtype.kind != "c" else arr)

    @property
    def variable_type(self):
        return ScalarVariable

    @property
    def constant_type(self):
        return ScalarConstant


class ScalarVariable(Variable):
    __slots__ = ()

    @property
    def dtype(self):
        return self.type.dtype


class ScalarConstant(Constant):
    __slots__ = ()

    @property
    def dtype(self):
        return self.type.dtype


def as_scalar(x, dtype=None):
    if isinstance(x, Variable):
        if not isinstance(x.type, ScalarType):
            raise TypeError(f"expected a scalar variable, got {x} of type {x.type}")
        return x
    dtype = dtype or dtype_name(np.asarray(x).dtype)
    return ScalarConstant(ScalarType(dtype), x)


# ----------------------------------------------------------------------- ops

class ScalarOp(Op):
    """One elementwise operation.

    ``fn`` is a NumPy (or SciPy) function applied to whole arrays; ``output_types``
    maps input dtypes to output dtypes. With ``compute_in_output_dtype`` the
    inputs are first cast to the output dtype, so ``sqrt`` of int8 runs in float32
    (NumPy would pick float16, which symgraph does not have).
    """

    __props__ = ()
    nin = 1
    nout = 1
    commutative = False
    associative = False
    identity = None  # neutral element, for reductions and canonicalisation
    compute_in_output_dtype = False

    def __init__(self, name, fn, nin=1, output_types=upcast_out, nout=1,
                 compute_in_output_dtype=None, commutative=False, associative=False,
                 identity=None):
        self.name = name
        self.fn = fn
        self.nin = nin
        self.nout = nout
        self.output_types_preference = output_types
        if compute_in_output_dtype is None:
            compute_in_output_dtype = output_types in (
                upgrade_to_float, upgrade_to_float_no_complex, true_div_out, float_real_out)
        self.compute_in_output_dtype = compute_in_output_dtype
        self.commutative = commutative
        self.associative = associative
        self.identity = identity

    # scalar ops are singletons identified by name, so they pickle and compare cheaply
    def __eq__(self, other):
        return self is other or (type(self) is type(other) and self.name == other.name)

    def __hash__(self):
        return hash((type(self), self.name))

    def __reduce__(self):
        return (_lookup_scalar_op, (self.name,)) if _REGISTRY.get(self.name) is self \
            else super().__reduce__()

    def __str__(self):
        return self.name

    __repr__ = __str__

    def output_types(self, dtypes):
        return tuple(self.output_types_preference(*dtypes))

    def make_node(self, *inputs):
        if len(inputs) != self.nin:
            raise TypeError(f"{self.name} takes {self.nin} inputs, got {len(inputs)}")
        inputs = [as_scalar(i) for i in inputs]
        outs = [ScalarType(d)() for d in self.output_types([i.type.dtype for i in inputs])]
        return Apply(self, inputs, outs)

    def compute(self, inputs, out_dtypes):
        """Apply to NumPy arrays (or scalars); results have exactly ``out_dtypes``."""
        if self.compute_in_output_dtype:
            dt = out_dtypes[0]
            # complex inputs of a real-valued function (angle) keep their imaginary part
            cdt = COMPLEX_OF.get(dt, dt)
            inputs = [x if x.dtype == dt else
                      x.astype(cdt if x.dtype.kind == "c" else dt) for x in inputs]
        res = self.fn(*inputs)
        if self.nout == 1:
            res = (res,)
        out = []
        for r, dt in zip(res, out_dtypes):
            if not isinstance(r, np.ndarray) or r.dtype != dt:
                r = np.asarray(r, dtype=dt)
            out.append(r)
        return out

    def perform(self, node, inputs, output_storage):
        outs = self.compute([np.asarray(i) for i in inputs], [o.type.dtype for o in node.outputs])
        for store, val in zip(output_storage, outs):
            store[0] = val[()]

    def impl(self, *inputs):
        """Compute on plain numbers (used by constant folding of scalar graphs)."""
        dts = self.output_types([dtype_name(np.asarray(i).dtype) for i in inputs])
        out = self.compute([np.asarray(i) for i in inputs], dts)
        return out[0][()] if self.nout == 1 else tuple(o[()] for o in out)


class Cast(ScalarOp):
    """Convert to ``dtype`` (NumPy's astype; complex to real keeps the real part)."""

    def __init__(self, dtype):
        dtype = dtype_name(dtype)
        super().__init__(f"cast_{dtype}", self._cast, 1, lambda *d: (dtype,))
        self.o_type = dtype

    def _cast(self, x):
        if x.dtype.kind == "c" and self.o_type not in COMPLEX:
            if self.o_type == "bool":
                return x != 0  # as NumPy: true when either part is nonzero
            x = x.real
        return x.astype(self.o_type)

    def __reduce__(self):
        return (Cast, (self.o_type,))


_REGISTRY: dict[str, ScalarOp] = {}
_CASTS: dict[str, Cast] = {}


def _lookup_scalar_op(name):
    return _REGISTRY[name]


def register(op: ScalarOp) -> ScalarOp:
    if op.name in _REGISTRY:
        raise ValueError(f"scalar op {op.name} already registered")
    _REGISTRY[op.name] = op
    return op


def get_scalar_op(name) -> ScalarOp:
    return _REGISTRY[name]


def cast_op(dtype) -> Cast:
    dtype = dtype_name(dtype)
    op = _CASTS.get(dtype)
    if op is None:
        op = _CASTS[dtype] = Cast(dtype)
    return op


def all_scalar_ops():
    return dict(_REGISTRY)


def is_constant_scalar(v):
    return isinstance(v, Constant)
