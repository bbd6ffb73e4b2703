import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.tensor.sort import ArgSort, Nonzero, Sort
from tests.utils import assert_allclose, check_cases, check_infer_shape, random_value

DTYPES = ["bool", "int8", "uint16", "int64", "float32", "float64", "complex64", "complex128"]


def _values(dtype, shape, rng):
    """random_value with ties and exact zeros, which sorting and nonzero must handle."""
    if np.dtype(dtype).kind in "biu":
        return random_value(dtype, shape, rng, int_high=3)  # small range: ties and zeros
    v = rng.integers(-2, 3, shape) + rng.uniform(-1, 1, shape).round(1)
    if np.dtype(dtype).kind == "c":
        # equal real parts, so the imaginary part decides (lexicographic order)
        v = np.round(v) + 1j * rng.uniform(-2, 2, shape)
    v = v * rng.integers(0, 2, shape)  # some exact zeros, for nonzero
    return v.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sort_argsort(dtype, mode, rng):
    x = T.tensor(dtype, shape=(None, 4, None), name="x")
    v = T.tensor(dtype, shape=(None,), name="v")
    xv, vv = _values(dtype, (2, 4, 3), rng), _values(dtype, (5,), rng)
    cases = [
        (T.sort(x), np.sort(xv)),
        (T.sort(x, axis=0), np.sort(xv, axis=0)),
        (x.sort(axis=-2), np.sort(xv, axis=-2)),
        (T.sort(x, axis=None), np.sort(xv, axis=None)),
        (T.sort(v, kind="mergesort"), np.sort(vv, kind="mergesort")),
        (T.argsort(x, kind="stable"), np.argsort(xv, kind="stable")),
        (x.argsort(axis=1, kind="stable"), np.argsort(xv, axis=1, kind="stable")),
        (T.argsort(x, axis=None, kind="stable"), np.argsort(xv, axis=None, kind="stable")),
        (T.argsort(v, -1, "heapsort"), np.argsort(vv, -1, "heapsort")),
    ]
    check_cases(mode, [x, v], [xv, vv], cases)


def test_sort_static_shape_and_props():
    x = T.tensor("int8", shape=(2, None, 3))
    assert T.sort(x).type.shape == (2, None, 3)
    assert T.sort(x, axis=None).type.shape == (None,)
    assert T.sort(T.matrix(shape=(2, 3)), axis=None).type.shape == (6,)
    assert T.argsort(x, 0).type == T.TensorType("int64", shape=(2, None, 3))
    assert T.sort(T.scalar(), axis=None).type.shape == (1,)
    assert T.sort(x, -1).owner.op == Sort(2, "quicksort")
    assert T.argsort(x).owner.op == ArgSort(2, "quicksort")
    assert Sort(0, "stable") != Sort(0, "mergesort") and Sort(0) != ArgSort(0)


def test_sort_errors():
    x = T.matrix("x")
    with pytest.raises(np.exceptions.AxisError, match="axis 2 is out of bounds for x with 2"):
        T.sort(x, 2)
    with pytest.raises(np.exceptions.AxisError, match="argsort: axis -3 is out of bounds"):
        T.argsort(x, -3)
    with pytest.raises(np.exceptions.AxisError, match="use axis=None to sort a 0-d array"):
        T.sort(T.scalar())
    with pytest.raises(ValueError, match="kind must be one of .*got 'bubble'"):
        T.sort(x, kind="bubble")
    with pytest.raises(TypeError, match="order= .* is not supported"):
        T.argsort(x, order="f")
    with pytest.raises(TypeError, match="axis must be an int or None, got 1.0"):
        T.sort(x, 1.0)


def test_sort_infer_shape(rng):
    x = T.tensor3("x")
    xv = rng.uniform(size=(2, 3, 4))
    check_infer_shape([T.sort(x, 1)], [x], [xv])
    check_infer_shape([T.argsort(x, None)], [x], [xv])
    y = T.tensor3("y", shape=(2, 3, 4))
    check_infer_shape([T.sort(y, None)], [y], [xv])


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint16", "float32", "complex128"])
def test_nonzero_family(dtype, mode, rng):
    x = T.tensor(dtype, shape=(None, None, 2), name="x")
    v = T.tensor(dtype, shape=(None,), name="v")
    s = T.tensor(dtype, shape=(), name="s")
    xv, vv, sv = _values(dtype, (3, 2, 2), rng), _values(dtype, (6,), rng), \
        _values(dtype, (), rng)
    assert np.count_nonzero(xv) not in (0, xv.size)
    nz = T.nonzero(x)
    assert isinstance(nz, tuple) and len(nz) == 3
    where1 = T.where(v)
    assert isinstance(where1, tuple) and len(where1) == 1
    cases = [
        *zip(nz, np.nonzero(xv)),
        *zip(x.nonzero(), np.nonzero(xv)),
        (T.nonzero(x, return_matrix=True), np.array(np.nonzero(xv))),
        (T.nonzero(v, return_matrix=True), np.array(np.nonzero(vv))),
        (where1[0], np.where(vv)[0]),
        (T.flatnonzero(x), np.flatnonzero(xv)),
        (T.flatnonzero(v), np.flatnonzero(vv)),
        (T.flatnonzero(s), np.flatnonzero(sv)),
        (T.argwhere(x), np.argwhere(xv)),
        (T.argwhere(v), np.argwhere(vv)),
    ]
    check_cases(mode, [x, v, s], [xv, vv, sv], cases)


def test_nonzero_empty_and_static(mode):
    x = T.matrix("x")
    f = sg.function([x], [*T.nonzero(x), T.nonzero(x, True), T.argwhere(x), T.flatnonzero(x)],
                    mode=mode)
    zero = np.zeros((2, 3))
    got = f(zero)
    for g, want in zip(got, [*np.nonzero(zero), np.array(np.nonzero(zero)),
                             np.argwhere(zero), np.flatnonzero(zero)]):
        assert_allclose(g, want)
    assert T.nonzero(x, True).type.shape == (2, None)
    assert T.argwhere(T.tensor3()).type.shape == (None, 3)
    assert all(o.type.shape == (None,) and o.dtype == "int64" for o in T.nonzero(x))
    assert T.nonzero(x)[0].owner.op == Nonzero(False) != Nonzero(True)


def test_nonzero_errors():
    with pytest.raises(TypeError, match="nonzero expects an array of at least 1 dimension"):
        T.nonzero(T.scalar())
    with pytest.raises(TypeError, match="at least 1 dimension"):
        T.where(T.bscalar())
    with pytest.raises(TypeError, match="argwhere expects an array of at least 1 dimension"):
        T.argwhere(T.scalar())


def test_nonzero_infer_shape():
    x = T.tensor("int8", shape=(None, None, None), name="x")
    xv = np.array([[[0, 1], [2, 0]], [[3, 0], [0, 0]], [[0, 4], [5, 6]]], dtype="int8")
    check_infer_shape(list(T.nonzero(x)), [x], [xv])
    check_infer_shape(T.nonzero(x, return_matrix=True), [x], [xv])
