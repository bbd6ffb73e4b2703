"""Helpers shared by the numba backend's tests: compile a graph on both backends and
compare the results."""

from __future__ import annotations

import warnings

import numpy as np

import symgraph as sg
from backends.numba.dispatch.objmode import ObjectModeWarning
from tests.utils import assert_allclose


def compile_both(inputs, outputs, mode="numba", ref_mode="py"):
    """(numba function, interpreter function) of the same graph; no node of the numba
    graph may fall back to object mode."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ObjectModeWarning)
        f = sg.function(inputs, outputs, mode=mode)
    assert f._thunk.cacheable, "a node fell back to object mode"
    return f, sg.function(inputs, outputs, mode=ref_mode)


def check_same(f, ref, *values, exact=False, unspecified=()):
    """Call both functions on ``values``; every output must equal the interpreter's
    (bit for bit when ``exact``), except those listed in ``unspecified`` (e.g. an order
    of ties NumPy leaves to the CPU), which need only the same dtype and shape. Complex
    results are compared part by part, so an infinite part cannot hide the other.
    Returns the numba outputs."""
    got, want = f(*values), ref(*values)
    single = not isinstance(got, (list, tuple))
    pairs = [(got, want)] if single else list(zip(got, want))
    tol = dict(rtol=0, atol=0) if exact else {}
    for k, (g, w) in enumerate(pairs):
        g, w = np.asarray(g), np.asarray(w)
        if k in unspecified:
            assert g.dtype == w.dtype and g.shape == w.shape, (k, g.dtype, g.shape, w.dtype, w.shape)
        elif w.dtype.kind == "c":
            assert g.dtype == w.dtype, (g.dtype, w.dtype)
            assert_allclose(g.real, w.real, **tol)
            assert_allclose(g.imag, w.imag, **tol)
        else:
            assert_allclose(g, w, **tol)
    return got
