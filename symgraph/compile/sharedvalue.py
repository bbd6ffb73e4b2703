"""Shared variables: symbolic variables with a value that compiled functions read and update."""

from __future__ import annotations

import copy

import numpy as np

from symgraph.graph.basic import Variable
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import _TensorOps


class Container:
    """One storage cell (``storage[0]``) shared by every function that uses a variable."""

    __slots__ = ("type", "storage", "name", "strict", "allow_downcast", "readonly")

    def __init__(self, type, value, name=None, strict=False, allow_downcast=None, readonly=False):
        self.type = type
        self.name = name
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.readonly = readonly
        self.storage = [value]

    @property
    def value(self):
        return self.storage[0]

    @value.setter
    def value(self, v):
        if self.readonly:
            raise ValueError(f"{self.name} is read-only")
        self.storage[0] = self.type.filter(v, strict=self.strict, allow_downcast=self.allow_downcast)

    def __getstate__(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state):
        for k, v in state.items():
            setattr(self, k, v)


class SharedVariable(Variable):
    """A variable whose value lives in a Container shared by all compiled functions.

    ``get_value()`` returns a copy unless ``borrow=True``; ``set_value(v)`` copies
    ``v`` unless ``borrow=True``, so the caller's array is never aliased by default.
    ``default_update``, when set, is the update function() applies if none is given.
    """

    __slots__ = ("container", "default_update")

    def __init__(self, type, value=None, name=None, strict=False, allow_downcast=None,
                 container=None):
        super().__init__(type, None, None, name)
        if container is None:
            container = Container(type, type.filter(value, strict=strict,
                                                    allow_downcast=allow_downcast),
                                  name=name, strict=strict, allow_downcast=allow_downcast)
        self.container = container
        self.default_update = None

    def get_value(self, borrow=False, return_internal_type=False):
        v = self.container.storage[0]
        return v if borrow else copy.deepcopy(v)

    def set_value(self, new_value, borrow=False):
        v = self.type.filter(new_value, strict=self.container.strict,
                             allow_downcast=self.container.allow_downcast)
        if not borrow and (v is new_value or _may_alias(v, new_value)):
            v = copy.deepcopy(v)
        self.container.storage[0] = v

    @property
    def value(self):
        raise AttributeError("use get_value() / set_value() on shared variables")

    def zero(self, borrow=False):
        v = self.container.storage[0]
        if borrow and isinstance(v, np.ndarray):
            v.fill(0)
        else:
            self.container.storage[0] = np.zeros_like(v)

    def clone(self, name=None):
        cp = self.__class__(self.type, name=self.name if name is None else name,
                            container=self.container)
        cp.tag = copy.copy(self.tag)
        cp.default_update = self.default_update
        return cp

    def __str__(self):
        return self.name if self.name is not None else f"<shared {self.type}>"


def _may_alias(a, b):
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.may_share_memory(a, b)


class TensorSharedVariable(_TensorOps, SharedVariable):
    __slots__ = ()


_CONSTRUCTORS: dict = {}


def register_shared_constructor(value_class, constructor):
    """Make ``shared(value)`` call ``constructor(value, name=..., strict=...,
    allow_downcast=..., borrow=..., shape=..., broadcastable=...)`` for values of
    ``value_class`` (e.g. numpy.random.Generator) instead of making an array."""
    _CONSTRUCTORS[value_class] = constructor


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False, shape=None,
           broadcastable=None):
    """A shared variable holding ``value`` (an array or number; a numpy.random.Generator
    gives a generator shared variable, see register_shared_constructor).

    The static shape is unknown in every dimension unless ``shape`` (or Theano's
    ``broadcastable``) says otherwise; the dtype is the value's own.
    """
    if isinstance(value, Variable):
        raise TypeError(f"shared() needs a value, got the symbolic variable {value}; "
                        "use value.eval() or a numpy array")
    for cls in type(value).__mro__:
        ctor = _CONSTRUCTORS.get(cls)
        if ctor is not None:
            return ctor(value, name=name, strict=strict, allow_downcast=allow_downcast,
                        borrow=borrow, shape=shape, broadcastable=broadcastable)
    arr = np.asarray(value)
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError(f"shared() supports numeric arrays, got {type(value).__name__} "
                        f"of dtype {arr.dtype}")
    dtype = arr.dtype.name
    if dtype == "float16":
        raise TypeError("float16 is not supported; use float32")
    if shape is None and broadcastable is None:
        shape = (None,) * arr.ndim
    type_ = TensorType(dtype, shape=shape, broadcastable=broadcastable)
    if not borrow or not isinstance(value, np.ndarray):
        arr = np.array(arr, copy=True)
    else:
        arr = value
    return TensorSharedVariable(type_, arr, name=name, strict=strict,
                                allow_downcast=allow_downcast)
