"""The numba kernels of the random ops (backends/numba/dispatch/random.py). Always
compiled with mode="numba", whatever SYMGRAPH_TEST_BACKENDS says; the op tests
(tests/tensor/test_random.py) cover values against NumPy on every backend, these
the backend's own cases: kernels are native and cacheable, the numbers and the
generator states equal the interpreter's call after call, broadcasting loops,
0-d and empty draws, and a failing call changes no generator. One graph holds
every kernel, so this file compiles once."""

import warnings

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from backends.numba.dispatch import kernel_for
from backends.numba.dispatch.objmode import ObjectModeWarning
from symgraph.tensor import random as R
from symgraph.tensor.random_type import random_generator_type
from tests.utils import assert_allclose


def build(seed):
    """Draws of every kind from a RandomStream(seed), with symbolic parameters."""
    s = R.RandomStream(seed)
    low, scale, p = T.dvector("low"), T.dmatrix("scale"), T.dmatrix("p")
    n, rows = T.lscalar("n"), T.imatrix("rows")
    outs = [
        s.uniform(low, 10.0, size=(2, 3)),
        s.normal(low, scale),                       # (3,) against (2, 1): broadcast, no size
        s.normal(0.0, 1.0, dtype="float32"),        # 0-d
        s.normal(0.0, 1.0, size=(n, 0)),            # empty
        s.binomial(n, T.dcol("q"), size=(2, 4)),
        s.random_integers(-3, 3, size=(n,), dtype="int16"),
        s.integers(T.lvector("lo"), 1000),
        s.multinomial(n, p),
        s.choice(low, size=(2, n), p=[0.5, 0.25, 0.25]),
        s.choice(5, replace=False, size=(n,)),
        s.choice(3),
        s.permutation(n),
        s.permutation(rows),
    ]
    inputs = [low, scale, p, n, rows, outs[4].owner.inputs[3], outs[6].owner.inputs[2]]
    return s, inputs, outs


ARGS = [np.array([0.0, 1.0, 5.0]), np.array([[1.0], [2.0]]), np.array([[0.2, 0.8], [0.5, 0.5]]),
        3, np.arange(8, dtype="int32").reshape(4, 2), np.array([[0.1], [0.9]]),
        np.array([-5, 0, 900])]


@pytest.fixture(scope="module")
def compiled():
    s, inputs, outs = build(21)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ObjectModeWarning)
        f = sg.function(inputs, outs, mode="numba")
    assert f._thunk.cacheable, "a node fell back to object mode"
    r, rinputs, routs = build(21)
    ref = sg.function(rinputs, routs, mode="py")
    return s, f, r, ref


def states(stream):
    return [k.get_value() for k, _ in stream.state_updates]


def test_kernels_native_and_cacheable(compiled):
    _, f, _, _ = compiled
    nodes = [n for n in f.fgraph.toposort() if isinstance(n.op, R.RandomVariable)]
    assert len(nodes) == 13
    for node in nodes:
        k = kernel_for(node)
        assert not k.runtime_globals and k.uncacheable is None, node


def test_same_numbers_and_states_as_interpreter_call_after_call(compiled):
    s, f, r, ref = compiled
    s.seed(21)
    r.seed(21)
    for _ in range(3):
        got, want = f(*ARGS), ref(*ARGS)
        for k, (g, w) in enumerate(zip(got, want)):
            assert g.dtype == w.dtype and g.shape == w.shape, (k, g, w)
            assert_allclose(g, w, rtol=0, atol=0)
        for a, b in zip(states(s), states(r)):
            assert random_generator_type.values_eq(a, b)
    assert got[2].shape == () and got[3].shape == (3, 0) and got[1].shape == (2, 3)
    # the first draw of a stream is NumPy's draw from the documented generator
    s.seed(21)
    first = f(*ARGS)
    g0 = np.random.default_rng(np.random.SeedSequence(21).spawn(1)[0])
    assert_allclose(first[0], g0.uniform(ARGS[0], 10.0, (2, 3)), rtol=0, atol=0)


def test_failed_call_changes_no_generator(compiled):
    s, f, _, _ = compiled
    s.seed(4)
    f(*ARGS)
    before = states(s)
    bad = list(ARGS)
    bad[5] = np.array([[0.1], [1.5]])  # p > 1 for the binomial
    with pytest.raises(ValueError, match=r"binomial: p must be in \[0, 1\], got 1.5"):
        f(*bad)
    bad = list(ARGS)
    bad[3] = 6  # more choices than the population, without replacement
    with pytest.raises(ValueError, match="without replacement"):
        f(*bad)
    for a, b in zip(states(s), before):
        assert random_generator_type.values_eq(a, b)
    # an explicit generator input is not changed either
    g = random_generator_type("g")
    h = sg.function([g], R.normal(g, 0.0, 1.0, size=(2,)), mode="numba")
    gen = np.random.default_rng(3)
    new, x = h(gen)
    assert random_generator_type.values_eq(gen, np.random.default_rng(3))
    assert new is not gen
    assert_allclose(x, np.random.default_rng(3).normal(0.0, 1.0, 2), rtol=0, atol=0)
