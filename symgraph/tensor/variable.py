"""TensorVariable and TensorConstant: symbolic arrays with NumPy-like operators.

``==`` is deliberately *not* overloaded (as in Theano): variables are used as dict
keys and in lists, so equality stays identity. Use ``eq(a, b)`` for the
elementwise comparison.
"""

from __future__ import annotations

import importlib

import numpy as np

from symgraph.graph.basic import Constant, Variable


def _m():
    from symgraph.tensor import math
    return math


def _r():
    from symgraph.tensor import reduction
    return reduction


def _s():
    # not `from symgraph.tensor import shape`: the package's star import rebinds that
    # name to the function shape(); sys.modules holds the module itself.
    return importlib.import_module("symgraph.tensor.shape")


class _TensorOps:
    """Operators and methods shared by every tensor-typed variable."""

    __slots__ = ()
    # Make NumPy hand `ndarray + variable` back to us instead of looping elementwise.
    __array_priority__ = 1000
    __array_ufunc__ = None

    # ------------------------------------------------------------ attributes
    @property
    def ndim(self):
        return self.type.ndim

    @property
    def dtype(self):
        return self.type.dtype

    @property
    def broadcastable(self):
        return self.type.broadcastable

    @property
    def shape(self):
        return _s().shape(self)

    @property
    def size(self):
        return _s().size(self)

    @property
    def T(self):
        return self.transpose()

    @property
    def real(self):
        return _m().real(self)

    @property
    def imag(self):
        return _m().imag(self)

    # ------------------------------------------------------------ truthiness etc.
    def __bool__(self):
        raise TypeError(
            f"the truth value of the symbolic variable {self} is unknown until the graph runs; "
            "use symgraph.tensor.switch / ifelse for a symbolic condition")

    def __len__(self):
        n = self.type.shape[0] if self.ndim else None
        if n is None:
            raise TypeError(f"len() of {self} is not known statically; use x.shape[0]")
        return n

    def __iter__(self):
        n = len(self)
        for i in range(n):
            yield self[i]

    def __index__(self):
        raise TypeError(f"the symbolic variable {self} cannot be used as a Python integer")

    # ------------------------------------------------------------ arithmetic
    def __add__(self, o): return _m().add(self, o)
    def __radd__(self, o): return _m().add(o, self)
    def __sub__(self, o): return _m().sub(self, o)
    def __rsub__(self, o): return _m().sub(o, self)
    def __mul__(self, o): return _m().mul(self, o)
    def __rmul__(self, o): return _m().mul(o, self)
    def __truediv__(self, o): return _m().true_div(self, o)
    def __rtruediv__(self, o): return _m().true_div(o, self)
    def __floordiv__(self, o): return _m().int_div(self, o)
    def __rfloordiv__(self, o): return _m().int_div(o, self)
    def __mod__(self, o): return _m().mod(self, o)
    def __rmod__(self, o): return _m().mod(o, self)
    def __pow__(self, o): return _m().pow(self, o)
    def __rpow__(self, o): return _m().pow(o, self)
    def __matmul__(self, o): return _dot().matmul(self, o)
    def __rmatmul__(self, o): return _dot().matmul(o, self)
    def __neg__(self): return _m().neg(self)
    def __pos__(self): return self
    def __abs__(self): return _m().abs(self)
    def __invert__(self): return _m().invert(self)
    def __and__(self, o): return _m().bitwise_and(self, o)
    def __rand__(self, o): return _m().bitwise_and(o, self)
    def __or__(self, o): return _m().bitwise_or(self, o)
    def __ror__(self, o): return _m().bitwise_or(o, self)
    def __xor__(self, o): return _m().bitwise_xor(self, o)
    def __rxor__(self, o): return _m().bitwise_xor(o, self)
    def __lshift__(self, o): return _m().left_shift(self, o)
    def __rshift__(self, o): return _m().right_shift(self, o)
    def __lt__(self, o): return _m().lt(self, o)
    def __le__(self, o): return _m().le(self, o)
    def __gt__(self, o): return _m().gt(self, o)
    def __ge__(self, o): return _m().ge(self, o)

    # ------------------------------------------------------------ indexing
    def __getitem__(self, key):
        from symgraph.tensor.subtensor import getitem
        return getitem(self, key)

    def __setitem__(self, key, value):
        raise TypeError(
            "symbolic tensors are immutable: use x = set_subtensor(x[idx], value) "
            "(or inc_subtensor) and keep the returned variable")

    # ------------------------------------------------------------ methods
    def astype(self, dtype): return _m().cast(self, dtype)
    def conj(self): return _m().conj(self)
    conjugate = conj
    def dimshuffle(self, *pattern):
        from symgraph.tensor.elemwise import dimshuffle
        if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
            pattern = tuple(pattern[0])
        return dimshuffle(self, pattern)
    def transpose(self, *axes):
        from symgraph.tensor.elemwise import transpose
        if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
            axes = tuple(axes[0])
        return transpose(self, axes or None)
    def reshape(self, *shape, ndim=None):
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = shape[0]
        return _s().reshape(self, shape, ndim=ndim)
    def flatten(self, ndim=1): return _s().flatten(self, ndim)
    ravel = flatten
    def squeeze(self, axis=None): return _s().squeeze(self, axis)
    def dot(self, o): return _dot().dot(self, o)
    def sum(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _r().sum(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)
    def prod(self, axis=None, dtype=None, keepdims=False): return _r().prod(self, axis=axis, dtype=dtype, keepdims=keepdims)
    def mean(self, axis=None, dtype=None, keepdims=False): return _r().mean(self, axis=axis, dtype=dtype, keepdims=keepdims)
    def var(self, axis=None, ddof=0, keepdims=False): return _r().var(self, axis=axis, ddof=ddof, keepdims=keepdims)
    def std(self, axis=None, ddof=0, keepdims=False): return _r().std(self, axis=axis, ddof=ddof, keepdims=keepdims)
    def max(self, axis=None, keepdims=False): return _r().max(self, axis=axis, keepdims=keepdims)
    def min(self, axis=None, keepdims=False): return _r().min(self, axis=axis, keepdims=keepdims)
    def argmax(self, axis=None, keepdims=False): return _r().argmax(self, axis=axis, keepdims=keepdims)
    def argmin(self, axis=None, keepdims=False): return _r().argmin(self, axis=axis, keepdims=keepdims)
    def any(self, axis=None, keepdims=False): return _r().any(self, axis=axis, keepdims=keepdims)
    def all(self, axis=None, keepdims=False): return _r().all(self, axis=axis, keepdims=keepdims)
    def cumsum(self, axis=None): return _r().cumsum(self, axis=axis)
    def cumprod(self, axis=None): return _r().cumprod(self, axis=axis)
    def clip(self, a_min, a_max): return _m().clip(self, a_min, a_max)
    def round(self, mode="half_to_even"): return _m().round(self, mode)
    def nonzero(self, return_matrix=False):
        from symgraph.tensor.sort import nonzero
        return nonzero(self, return_matrix=return_matrix)
    def sort(self, axis=-1, kind="quicksort"):
        from symgraph.tensor.sort import sort
        return sort(self, axis=axis, kind=kind)
    def argsort(self, axis=-1, kind="quicksort"):
        from symgraph.tensor.sort import argsort
        return argsort(self, axis=axis, kind=kind)
    def diagonal(self, offset=0, axis1=0, axis2=1):
        from symgraph.tensor.creation import diagonal
        return diagonal(self, offset, axis1, axis2)
    def repeat(self, repeats, axis=None):
        from symgraph.tensor.join import repeat
        return repeat(self, repeats, axis)
    def copy(self, name=None):
        out = _m().identity(self)
        out.name = name
        return out
    def zeros_like(self, dtype=None):
        from symgraph.tensor.creation import zeros_like
        return zeros_like(self, dtype=dtype)
    def ones_like(self, dtype=None):
        from symgraph.tensor.creation import ones_like
        return ones_like(self, dtype=dtype)


def _dot():
    # the module, not the function dot() that the package's star import exports
    return importlib.import_module("symgraph.tensor.dot")


class TensorVariable(_TensorOps, Variable):
    """A symbolic array; see TensorType for what it may hold."""

    __slots__ = ()


class TensorConstant(_TensorOps, Constant):
    """A tensor whose value is fixed at graph-build time."""

    __slots__ = ()

    def __str__(self):
        if self.name is not None:
            return self.name
        return self.type.constant_str(self.data)
