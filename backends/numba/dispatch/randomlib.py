"""Compiled helpers of the random kernels (dispatch/random.py).

numba cannot copy a Generator in native code, and its Generator methods change the
state of the generator they are given. Random ops are functional (their input
state must survive the call), so every kernel first takes a copy through the one
object-mode section here (``copy_generator``) and draws from the copy natively.
multinomial and choice have no numba implementation: their whole draw runs in
object mode through the op's own ``perform`` (so the numbers are NumPy's), and
comes back as a flat array plus its shape, which the kernel reshapes; that keeps
these helpers' types fixed, so they live in this file and are cached with it.

The object-mode sections are our own, so they warn about nothing.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types

from symgraph.tensor.random_ops import ChoiceRV, MultinomialRV
from symgraph.tensor.random_type import copy_generator as _copy

try:  # numba's port of NumPy's random_interval (Generator.shuffle draws with it)
    from numba.np.random.random_methods import random_interval as _interval
except ImportError:  # pragma: no cover  (a numba without it: use its shuffle)
    _interval = None

GENERATOR = numba.typeof(np.random.default_rng(0))
I64_1 = types.Array(types.int64, 1, "C")


@numba.njit(cache=True)
def copy_generator(g):
    """A copy of ``g`` (about 10 us: the copy, plus numba reading the new generator)."""
    with numba.objmode(out=GENERATOR):
        out = _copy(g)
    return out


def _flat(g, out):
    out = np.asarray(out)
    return g, np.ascontiguousarray(out, dtype=np.int64).reshape(-1), \
        np.array(out.shape, dtype=np.int64)


def _multinomial(g, size, n, pvals):
    storage = [[None], [None]]
    MultinomialRV("int64").perform(None, [g, size, n, pvals], storage)
    return _flat(storage[0][0], storage[1][0])


def _choice(g, size, pop, p, has_p, replace):
    storage = [[None], [None]]
    inputs = [g, size, np.asarray(pop, dtype=np.int64)] + ([p] if has_p else [])
    ChoiceRV(replace).perform(None, inputs, storage)
    return _flat(storage[0][0], storage[1][0])


@numba.njit(cache=True)
def multinomial(g, size, n, pvals):
    """(new generator, int64 counts flattened, their shape)."""
    with numba.objmode(g2=GENERATOR, flat=I64_1, shape=I64_1):
        g2, flat, shape = _multinomial(g, size, n, pvals)
    return g2, flat, shape


@numba.njit(cache=True)
def choice(g, size, pop, p, has_p, replace):
    """(new generator, the chosen indices into the population flattened, their shape)."""
    with numba.objmode(g2=GENERATOR, flat=I64_1, shape=I64_1):
        g2, flat, shape = _choice(g, size, pop, p, has_p, replace)
    return g2, flat, shape


if _interval is not None:
    @numba.njit(cache=True, nogil=True)
    def shuffled_arange(g, n):
        """``arange(n)`` shuffled as ``Generator.shuffle`` does it (Fisher-Yates from the
        end, swapping with ``random_interval(i)``): the same numbers as numba's
        ``g.shuffle``, which costs ~7 s of compilation against ~1 s for this loop."""
        out = np.arange(n)
        bg = g.bit_generator
        for i in range(n - 1, 0, -1):
            j = np.intp(_interval(bg, i))
            if i != j:
                out[i], out[j] = out[j], out[i]
        return out
else:  # pragma: no cover
    @numba.njit(cache=True, nogil=True)
    def shuffled_arange(g, n):
        out = np.arange(n)
        g.shuffle(out)
        return out
