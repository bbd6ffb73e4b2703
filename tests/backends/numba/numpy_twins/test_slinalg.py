"""The NumPy twin of the general solve (backends/numba/numpy_twins/slinalg.py) gives
the Solve kernel's values to the bit: the node runs as its numba kernel compiled
alone (exact._twin) and as the twin on the same inputs, for float64 and complex128,
vector and matrix right-hand sides, every layout; singular matrices and non-finite
values raise both ways."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph.tensor as T
from backends.numba.exact import _twin
from backends.numba.numpy_twins import numpy_twin
from tests.backends.numba.numpy_twins.test_reduction import assert_same_bits


def solve_node(dtype, b_ndim, assume="gen"):
    a = T.matrix("a", dtype=dtype)
    b = (T.vector if b_ndim == 1 else T.matrix)("b", dtype=dtype)
    return T.solve(a, b, assume_a=assume, b_ndim=b_ndim).owner


def run(perform, node, *values):
    store = [[None]]
    perform(node, list(values), store)
    return store[0][0]


def values(rng, dtype, n, shape_b):
    def draw(shape):
        v = rng.normal(size=shape)
        if dtype == "complex128":
            v = v + 1j * rng.normal(size=shape)
        return v.astype(dtype)
    return draw((n, n)) + n * np.eye(n, dtype=dtype) * 0.1, draw(shape_b)


def layouts(v):
    yield v
    yield np.asfortranarray(v)
    big = np.zeros(tuple(2 * s for s in v.shape), dtype=v.dtype)
    view = big[tuple(slice(None, None, 2) for _ in v.shape)]
    view[...] = v
    yield view
    yield v[::-1][::-1]


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("b_ndim", [1, 2])
def test_twin_matches_the_kernel_bit_for_bit(dtype, b_ndim):
    node = solve_node(dtype, b_ndim)
    mine, native = numpy_twin(node), _twin(node)
    assert mine is not None
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 17, 49):
        a, b = values(rng, dtype, n, (n,) if b_ndim == 1 else (n, 3))
        want = run(native, node, a, b)
        for av in layouts(a):
            for bv in layouts(b):
                assert_same_bits(run(mine, node, av, bv), want)
    # empty system
    e = np.zeros((0, 0), dtype), np.zeros((0,) if b_ndim == 1 else (0, 2), dtype)
    assert_same_bits(run(mine, node, *e), run(native, node, *e))


def test_singular_and_non_finite_matrices_raise_both_ways():
    node = solve_node("float64", 1)
    mine, native = numpy_twin(node), _twin(node)
    nan_b = np.array([1.0, np.nan])
    inf_a = np.array([[1.0, np.inf], [0.0, 1.0]])
    for a, b in ((np.zeros((3, 3)), np.ones(3)), (inf_a, np.ones(2)), (np.eye(2), nan_b)):
        for perform in (native, mine):
            with pytest.raises(Exception):
                run(perform, node, a, b)


def test_other_solves_are_left_to_the_kernel():
    assert numpy_twin(solve_node("float64", 1, assume="pos")) is None
    assert numpy_twin(solve_node("float32", 1)) is None
    a, b = T.tensor3("a"), T.matrix("b")
    assert numpy_twin(T.solve(a, b, b_ndim=1).owner) is None
