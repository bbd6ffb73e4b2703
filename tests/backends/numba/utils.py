"""Helpers shared by the numba backend's tests: compile a graph on both backends and
compare the results."""

from __future__ import annotations

import os
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
    With SYMGRAPH_CHECK_TIER=1 in the environment, the tiered mode's interpreter
    (backends/numba/exact.py) must also give the numba outputs to the bit: it runs
    first, on the same values (it compiles a kernel per node that NumPy computes
    otherwise, so it is not on by default; test_exact.py always checks it).
    Returns the numba outputs."""
    tier = tier_outputs(f, values) if os.environ.get("SYMGRAPH_CHECK_TIER") == "1" else None
    got, want = f(*values), ref(*values)
    if tier is not None:
        check_tier_exact(got, tier)
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


def tier_outputs(f, values):
    """The outputs of numba function ``f``'s graph run by the tiered mode's interpreter
    (before ``f`` runs: updates are not written), or None when it would not be tiered."""
    from backends.numba.exact import tier_thunk

    if getattr(f._thunk, "jitted", None) is None:
        return None
    tier = tier_thunk(f.fgraph)
    if tier is None:
        return None
    args = f._filter_inputs(f._bind(list(values), {}))
    args += [np.asarray(st[0]) if isinstance(st[0], (np.ndarray, np.generic)) else st[0]
             for st in f._storages]
    outs = tier(*args)
    return outs[0] if f.single else list(outs[:f._n_out])


def check_tier_exact(got, tier):
    """Equality of native and tier outputs to the bit (the sign of zeros included;
    NaNs need only be in the same places)."""
    single = not isinstance(got, (list, tuple))
    pairs = [(got, tier)] if single else list(zip(got, tier))
    for k, (g, t) in enumerate(pairs):
        g, t = np.asarray(g), np.asarray(t)
        assert g.dtype == t.dtype and g.shape == t.shape, (k, g.dtype, g.shape, t.dtype, t.shape)
        parts = [(g.real, t.real), (g.imag, t.imag)] if g.dtype.kind == "c" else [(g, t)]
        same = all(np.array_equal(a, b, equal_nan=a.dtype.kind == "f") and
                   (a.dtype.kind != "f" or
                    np.array_equal(np.signbit(a) & ~np.isnan(a), np.signbit(b) & ~np.isnan(b)))
                   for a, b in parts)
        assert same, f"output {k}: the tier's values differ from native ones:\n{t}\n{g}"
