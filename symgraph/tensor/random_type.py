"""The type of random generator states, and shared variables holding them.

A ``RandomGeneratorType`` value is a ``numpy.random.Generator``. Graphs treat it as
an immutable value: every random op copies its input generator, draws from the
copy and returns the copy as its new state (symgraph/tensor/random_ops.py), so a
generator that a function reads is never changed behind the function's back, and
``filter`` need not copy. Shared variables (``sg.shared(np.random.default_rng(3))``)
copy the generator they are given unless ``borrow=True``, as for arrays.
"""

from __future__ import annotations

import hashlib
import pickle

import numpy as np
from numpy.random.bit_generator import ISeedSequence

from symgraph.compile.sharedvalue import SharedVariable, register_shared_constructor
from symgraph.graph.basic import Constant, Variable
from symgraph.graph.type import Type

__all__ = [
    "RandomGeneratorType", "RandomGeneratorVariable", "RandomGeneratorConstant",
    "RandomGeneratorSharedVariable", "random_generator_type", "copy_generator",
    "generator_states_equal", "shared_generator",
]


class _NoSeed(ISeedSequence):
    """A seed source that costs nothing: the bit generator it seeds is overwritten at once
    by a state copy, so its words do not matter (drawing OS entropy would cost ~10 us)."""

    def generate_state(self, n_words, dtype=np.uint32):
        return np.ones(n_words, dtype=dtype)


_NO_SEED = _NoSeed()


def copy_generator(g):
    """An independent Generator in the same state as ``g`` (same bit generator kind).

    About 4 us, against ~50 us for copy.deepcopy; random ops call it once per draw.
    """
    bg = g.bit_generator
    new = type(bg)(_NO_SEED)
    new.state = bg.state
    return np.random.Generator(new)


def _states_equal(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and \
            all(_states_equal(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and bool(np.array_equal(a, b))
    return a == b


def generator_states_equal(a, b) -> bool:
    """Whether two Generators will draw the same numbers: same bit generator, same state."""
    return type(a.bit_generator) is type(b.bit_generator) and \
        _states_equal(a.bit_generator.state, b.bit_generator.state)


class RandomGeneratorType(Type):
    """Values are ``numpy.random.Generator`` objects (any bit generator)."""

    def filter(self, data, strict=False, allow_downcast=None):
        """``data`` itself if it is a Generator (random ops never mutate it), else a
        TypeError that says what to pass instead."""
        if isinstance(data, np.random.Generator):
            return data
        if isinstance(data, Variable):
            raise TypeError(f"expected a numpy.random.Generator value, got the symbolic "
                            f"variable {data}; symbolic inputs go in `givens`")
        hint = ""
        if isinstance(data, np.random.RandomState):
            hint = ("; the legacy RandomState is not supported, use "
                    "numpy.random.default_rng(seed)")
        elif isinstance(data, np.random.BitGenerator):
            hint = "; wrap the bit generator: numpy.random.Generator(bit_generator)"
        elif isinstance(data, (int, np.integer)):
            hint = "; to seed, pass numpy.random.default_rng(seed)"
        raise TypeError(f"expected a numpy.random.Generator, got {type(data).__name__}{hint}")

    def describe_value(self, data) -> str:
        if isinstance(data, np.random.Generator):
            return f"a numpy.random.Generator ({type(data.bit_generator).__name__})"
        return f"a {type(data).__name__}"

    def values_eq(self, a, b) -> bool:
        return isinstance(a, np.random.Generator) and isinstance(b, np.random.Generator) \
            and generator_states_equal(a, b)

    def values_eq_approx(self, a, b) -> bool:
        return self.values_eq(a, b)

    def signature_of(self, data):
        # constants with equal states may merge: drawing from either gives the same numbers
        st = (type(data.bit_generator).__name__, data.bit_generator.state)
        return ("generator", hashlib.sha256(pickle.dumps(st)).hexdigest())

    def constant_str(self, data) -> str:
        return f"<Generator {type(data.bit_generator).__name__}>"

    def clone(self, **kwargs):
        return RandomGeneratorType()

    def __eq__(self, other):
        return type(other) is RandomGeneratorType

    def __hash__(self):
        return hash(RandomGeneratorType)

    def __str__(self):
        return "RandomGeneratorType"

    __repr__ = __str__


class RandomGeneratorVariable(Variable):
    """A symbolic generator state (the ``new_rng`` output of a random op, or an input)."""

    __slots__ = ()


class RandomGeneratorConstant(Constant):
    __slots__ = ()


RandomGeneratorType.variable_type = RandomGeneratorVariable
RandomGeneratorType.constant_type = RandomGeneratorConstant

random_generator_type = RandomGeneratorType()


class RandomGeneratorSharedVariable(SharedVariable):
    """A shared generator state; ``RandomStream`` sets its ``default_update``."""

    __slots__ = ()

    def get_value(self, borrow=False, return_internal_type=False):
        v = self.container.storage[0]
        return v if borrow else copy_generator(v)

    def set_value(self, new_value, borrow=False):
        v = self.type.filter(new_value)
        self.container.storage[0] = v if borrow else copy_generator(v)

    def zero(self, borrow=False):
        raise TypeError(f"{self} holds a random generator, which has no zero; use "
                        "set_value(numpy.random.default_rng(seed)) to reset it")


def shared_generator(value, name=None, strict=False, allow_downcast=None, borrow=False,
                     shape=None, broadcastable=None):
    """``sg.shared(generator)``: a shared variable holding a copy of ``generator`` (the
    generator itself with ``borrow=True``)."""
    if shape is not None or broadcastable is not None:
        raise TypeError("shared(): a random generator has no shape; do not pass shape= "
                        "or broadcastable=")
    v = random_generator_type.filter(value)
    if not borrow:
        v = copy_generator(v)
    return RandomGeneratorSharedVariable(random_generator_type, v, name=name, strict=strict,
                                         allow_downcast=allow_downcast)


register_shared_constructor(np.random.Generator, shared_generator)
