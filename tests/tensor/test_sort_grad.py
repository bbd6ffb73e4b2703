"""Gradients (L_op) and R_op of Sort, and the disconnected ArgSort and Nonzero, checked
by finite differences (verify_grad) at points without ties."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import (
    DisconnectedInputError, DisconnectedType, Rop, _forward, grad, verify_grad,
)
from symgraph.tensor.sort import ArgSort, Nonzero, Sort
from tests.utils import assert_allclose


def _rng(k):
    return np.random.default_rng(k)


def _point(shape, k, dtype="float64"):
    """Distinct values (distinct real parts), spaced well beyond the finite-difference
    step, so no perturbation changes the order."""
    r = _rng(k)
    n = int(np.prod(shape, dtype=np.int64))
    v = (r.permutation(n) * 0.5 + r.uniform(-0.1, 0.1, n) - n / 4).reshape(shape)
    if dtype == "complex128":
        v = v + 1j * r.uniform(-2.0, 2.0, shape)
    return v.astype(dtype)


SORT_CASES = [((5,), -1), ((5,), 0), ((3, 4), 0), ((3, 4), -1), ((2, 3, 2), 1),
              ((2, 3, 2), -3), ((3, 4), None), ((2, 3, 2), None), ((), None), ((1, 4), 0)]


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("shape,axis", SORT_CASES, ids=str)
def test_sort_grad(shape, axis, dtype):
    build = lambda x: T.sort(x, axis)  # noqa: E731
    assert isinstance(build(T.tensor(dtype, shape=(None,) * len(shape))).owner.op, Sort)
    verify_grad(build, [_point(shape, 1, dtype)], n_tests=1, rng=_rng(2))


@pytest.mark.parametrize("kind", ["mergesort", "heapsort", "stable"])
def test_sort_grad_kinds(kind):
    verify_grad(lambda x: T.sort(x, 0, kind), [_point((4, 2), 3)], n_tests=1, rng=_rng(4))


def test_sort_grad_value_and_ties():
    x = T.vector("x")
    w = np.array([1.0, 10.0, 100.0, 1000.0])
    g = grad(T.sum(T.sort(x) * T.constant(w)), x)
    f = sg.function([x], g)
    # x = [3, 1, 4, 2] sorts to [1, 2, 3, 4]: x[1] is first, x[3] second, ...
    assert_allclose(f(np.array([3.0, 1.0, 4.0, 2.0])), np.array([100.0, 1.0, 1000.0, 10.0]))
    # with ties each element still gets exactly one weight (a permutation of w)
    got = f(np.array([2.0, 1.0, 2.0, 1.0]))
    assert_allclose(np.sort(got), w)
    assert set(got[[1, 3]]) == {1.0, 10.0}


def test_sort_rop():
    for shape, axis, dtype, k in [((5,), -1, "float64", 5), ((3, 2), 0, "complex128", 6),
                                  ((2, 3), None, "float64", 7)]:
        xv = _point(shape, k, dtype)
        x = T.tensor(dtype, shape=(None,) * len(shape), name="x")
        v = x.type("v")
        out = T.sort(x, axis)
        _forward([out], [x], [v])
        r = Rop(out, x, v)
        vv = _rng(k + 20).standard_normal(shape).astype(dtype)
        got = sg.function([x, v], r)(xv, vv)
        f = sg.function([x], out)
        eps = 1e-6
        np.testing.assert_allclose(got, (f(xv + eps * vv) - f(xv - eps * vv)) / (2 * eps),
                                   rtol=1e-6, atol=1e-6)


def test_argsort_nonzero_disconnected():
    x = T.matrix("x")
    for out in (T.argsort(x), T.argsort(x, None), T.nonzero(x, return_matrix=True),
                T.nonzero(x)[0]):
        node = out.owner
        assert isinstance(node.op, (ArgSort, Nonzero))
        gs = node.op.L_op(node.inputs, node.outputs, [o.type() for o in node.outputs])
        assert len(gs) == 1 and isinstance(gs[0].type, DisconnectedType)
        with pytest.raises(DisconnectedInputError):
            grad(T.sum(T.cast(out, "float64")), x)
    assert Rop(T.argsort(x), x, T.matrix("v"), disconnected_outputs="ignore",
               return_disconnected="None") is None


def test_grad_through_argsort_and_nonzero_indices():
    # the indices are disconnected, the values they pick are not
    verify_grad(lambda x: x[T.argsort(x)] * T.arange(4.0), [_point((4,), 8)], n_tests=1,
                rng=_rng(9))
    verify_grad(lambda x: x[T.nonzero(T.gt(x, 0))] ** 2, [_point((2, 3), 10)], n_tests=1,
                rng=_rng(11))
    x = T.vector("x")
    g = grad(T.sum(x[T.nonzero(x)] ** 2), x)
    xv = np.array([0.0, 1.5, 0.0, -2.0])
    assert_allclose(sg.function([x], g)(xv), 2 * xv)
