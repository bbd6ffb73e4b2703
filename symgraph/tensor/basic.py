"""Turning Python and NumPy values into tensor variables, and building tensors."""

from __future__ import annotations

import numbers

import numpy as np

from symgraph import config
from symgraph.graph.basic import Apply, Variable
from symgraph.scalar.basic import dtype_name
from symgraph.tensor.type import ALL_DTYPES, TensorType, normalize_dtype
from symgraph.tensor.variable import TensorConstant, TensorVariable

PY_SCALARS = (bool, int, float, complex)


def is_python_scalar(x) -> bool:
    return isinstance(x, PY_SCALARS) and not isinstance(x, np.generic)


def _default_dtype(data) -> str:
    """The dtype a Python/NumPy value gets as a constant: NumPy's, with Python
    floats and complexes following floatX."""
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        dt = data.dtype
        if dt.name == "float16":
            return "float32"
        if dt.name not in ALL_DTYPES:
            raise TypeError(f"arrays of dtype {dt} cannot be symgraph constants; "
                            f"supported: {', '.join(ALL_DTYPES)}")
        return dt.name
    arr = np.asarray(data)
    if arr.dtype.kind == "f":
        return config.floatX
    if arr.dtype.kind == "c":
        return "complex64" if config.floatX == "float32" else "complex128"
    if arr.dtype.kind in "biu":
        return dtype_name(arr.dtype)
    raise TypeError(f"cannot make a tensor constant from {type(data).__name__} "
                    f"(dtype {arr.dtype})")


def constant(x, name=None, ndim=None, dtype=None) -> TensorConstant:
    """A TensorConstant holding ``x`` (its static shape is the value's shape)."""
    if isinstance(x, Variable):
        raise TypeError(f"constant() needs a value, got the variable {x}")
    dtype = normalize_dtype(dtype) if dtype is not None else _default_dtype(x)
    arr = np.asarray(x)
    if dtype_name(arr.dtype) != dtype:
        if arr.dtype.kind in "iu" and np.dtype(dtype).kind in "iu" and arr.size:
            info = np.iinfo(dtype)
            if arr.min() < info.min or arr.max() > info.max:
                raise OverflowError(f"Python integer {x!r} is out of bounds for {dtype}")
        with np.errstate(all="ignore"):
            arr = arr.astype(dtype)
    if ndim is not None:
        if arr.ndim > ndim:
            sq = arr.squeeze() if arr.size == 1 else arr
            if sq.ndim > ndim:
                raise ValueError(f"value of shape {arr.shape} has more than {ndim} dimensions")
            arr = sq.reshape(sq.shape[sq.ndim - ndim:] if ndim else ())
        arr = arr.reshape((1,) * (ndim - arr.ndim) + arr.shape)
    if not arr.flags.writeable or arr.base is not None or arr is x:
        arr = arr.copy()
    arr.setflags(write=False)
    return TensorConstant(TensorType(dtype, shape=arr.shape), arr, name=name)


def as_tensor_variable(x, name=None, ndim=None, dtype=None) -> TensorVariable:
    """``x`` as a tensor variable: variables pass through, values become constants, and a
    list or tuple holding variables is stacked (and remembered as such for error hints)."""
    if isinstance(x, Apply):
        x = x.out
    if isinstance(x, Variable):
        if not isinstance(x.type, TensorType):
            raise TypeError(f"expected a tensor, got {x} of type {x.type}")
        if ndim is not None and x.ndim != ndim:
            if x.ndim < ndim:
                from symgraph.tensor.elemwise import dimshuffle
                return dimshuffle(x, ("x",) * (ndim - x.ndim) + tuple(range(x.ndim)))
            raise TypeError(f"expected a {ndim}-d tensor, got {x} with {x.ndim} dimensions")
        if dtype is not None and x.dtype != normalize_dtype(dtype):
            from symgraph.tensor.math import cast
            return cast(x, dtype)
        return x
    if isinstance(x, (list, tuple)) and any(_holds_variable(e) for e in x):
        from symgraph.tensor.join import stack
        # Python numbers stay weak (they take the variables' dtype) unless dtype is given.
        out = stack([e if dtype is None and is_python_scalar(e)
                     else as_tensor_variable(e, dtype=dtype) for e in x])
        out.tag.stacked_from_list = len(x)
        if name is not None:
            out.name = name
        return out
    return constant(x, name=name, ndim=ndim, dtype=dtype)


def _holds_variable(e):
    return isinstance(e, Variable) or (isinstance(e, (list, tuple)) and any(_holds_variable(i) for i in e))


as_tensor = as_tensor_variable


def get_scalar_constant_value(v, elemwise=True):
    """The Python value of a 0-d (or size-1) constant expression; raises
    NotScalarConstantError when ``v`` is not one."""
    if isinstance(v, numbers.Number) or isinstance(v, np.generic):
        return np.asarray(v)
    if isinstance(v, np.ndarray):
        if v.size == 1:
            return v.reshape(())
        raise NotScalarConstantError(f"{v} is not a scalar")
    if isinstance(v, TensorConstant):
        if v.data.size == 1:
            return v.data.reshape(())
        raise NotScalarConstantError(f"{v} holds {v.data.size} values")
    node = getattr(v, "owner", None)
    if node is not None:
        from symgraph.tensor.elemwise import DimShuffle, Elemwise
        from symgraph.tensor.shape import Shape_i, SpecifyShape
        op = node.op
        if isinstance(op, (DimShuffle, SpecifyShape)):
            return get_scalar_constant_value(node.inputs[0], elemwise)
        if isinstance(op, Shape_i):
            s = node.inputs[0].type.shape[op.i]
            if s is not None:
                return np.asarray(s, dtype="int64")
        if elemwise and isinstance(op, Elemwise) and op.scalar_op.nout == 1 \
                and op.scalar_op.name in _FOLDABLE:
            vals = [get_scalar_constant_value(i, elemwise) for i in node.inputs]
            return np.asarray(op.scalar_op.impl(*vals), dtype=v.dtype)
    raise NotScalarConstantError(f"{v} is not a constant scalar")


_FOLDABLE = {"add", "sub", "mul", "true_div", "int_div", "mod", "neg", "maximum",
             "minimum", "identity", "pow"} | {f"cast_{d}" for d in ALL_DTYPES}


class NotScalarConstantError(ValueError):
    """Raised by get_scalar_constant_value for non-constant expressions."""
