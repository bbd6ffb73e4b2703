"""The numba kernels of the dot family (backends/numba/dispatch/dot.py): Dot, MatMul,
TensorDot, BatchedDot. Always compiled with mode="numba", whatever
SYMGRAPH_TEST_BACKENDS says; tests/tensor/test_dot.py covers the values on both
backends, these the backend's own cases: no object mode, operand layouts (BLAS
needs contiguous operands), read-only and empty inputs, integer and bool products
in loops, and shape errors raised in native code."""

from functools import partial

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from backends.numba.dispatch import kernel_for
from symgraph.compile.mode import Mode
from symgraph.graph.utils import ShapeError
from symgraph.tensor.dot import BatchedDot, Dot, MatMul, TensorDot
from tests.backends.numba import utils as nb

NUMBA = Mode("numba", optimizer=None)  # no rewrite: the graph keeps the nodes under test
PY = Mode("py", optimizer=None)

compile_both = partial(nb.compile_both, mode=NUMBA, ref_mode=PY)
check_same = nb.check_same


@pytest.fixture(scope="module")
def float_products():
    """One graph of every product form on float64 operands."""
    m = T.dmatrix("m")
    v = T.dvector("v")
    t = T.tensor("float64", shape=(None, None, None), name="t")
    s = T.tensor("float64", shape=(1, None, None), name="s")  # a batch that broadcasts
    outs = [Dot()(m, m), Dot()(m, v), Dot()(v, m), Dot()(v, v),
            MatMul()(t, s), MatMul()(t, m), MatMul()(v, t), MatMul()(t, v), MatMul()(v, v),
            TensorDot(((0, 2), (1, 0)))(t, t), TensorDot(((), ()))(v, m),
            BatchedDot()(t, t), BatchedDot()(m, m), BatchedDot()(t, m)]
    return [m, v, t, s], compile_both([m, v, t, s], outs)


def _values(rng, n=3):
    return [rng.normal(size=(n, n)), rng.normal(size=n), rng.normal(size=(n, n, n)),
            rng.normal(size=(1, n, n))]


def test_kernels_native_and_shared():
    for out in (T.dot(T.fmatrix(), T.fvector()), T.matmul(T.ltensor3(), T.lmatrix()),
                T.tensordot(T.ztensor3(), T.zmatrix(), [[1], [0]]),
                T.batched_dot(T.btensor3(), T.btensor3()),
                T.dot(T.tensor("bool", shape=(None,)), T.tensor("bool", shape=(None, None)))):
        k = kernel_for(out.owner)
        assert not k.runtime_globals and k.uncacheable is None, out.owner
    # equal nodes in different graphs share one kernel: the source names no variable
    a = kernel_for(T.dot(T.dmatrix("a"), T.dmatrix("b")).owner)
    assert a.key == kernel_for(T.dot(T.dmatrix("c"), T.dmatrix("d")).owner).key


def test_values(float_products, rng):
    _, (f, ref) = float_products
    check_same(f, ref, *_values(rng))


def test_layouts_and_read_only(rng):
    # every input type is a new specialisation of every kernel: keep this graph small
    m = T.dmatrix("m")
    t = T.tensor("float64", shape=(None, None, None), name="t")
    s = T.tensor("float64", shape=(1, None, None), name="s")
    f, ref = compile_both([m, t, s], [Dot()(m, m), MatMul()(t, s),
                                      TensorDot(((0, 2), (1, 0)))(t, t), BatchedDot()(t, m)])
    m, _, t, s = _values(rng)
    check_same(f, ref, m, t, s)
    # Fortran order, transposed and strided views: copied where BLAS needs it
    big = rng.normal(size=(6, 6, 6))
    check_same(f, ref, np.asfortranarray(m), t.transpose(2, 0, 1), big[:1, ::2, 1::2])
    check_same(f, ref, big[::2, 1, ::2], big[::2, 1::2, ::2], s.transpose(0, 2, 1))
    ro = [x.copy() for x in (m, t, s)]
    for x in ro:
        x.setflags(write=False)
    check_same(f, ref, *ro)
    assert not any(x.flags.writeable for x in ro)


def test_transposed_operands_of_blas_sized_products(rng):
    """Above the small-product loop, a transposed operand (x.T @ d of a backward
    pass) goes to BLAS flagged transposed; every layout pair gives NumPy's product."""
    a, b = T.dmatrix("a"), T.dmatrix("b")
    f, ref = compile_both([a, b], [Dot()(a.T, b), Dot()(a, b.T), Dot()(a.T.T, b.T.T)])
    av, bv = rng.normal(size=(30, 30)), rng.normal(size=(30, 30))
    check_same(f, ref, av, bv)
    check_same(f, ref, np.asfortranarray(av), np.asfortranarray(bv))
    wide = rng.normal(size=(30, 60))
    check_same(f, ref, wide[:, ::2], np.asfortranarray(bv))
    np.testing.assert_allclose(f(av, bv)[0], av.T @ bv)


def test_empty_operands(float_products):
    _, (f, ref) = float_products
    got = check_same(f, ref, np.zeros((0, 0)), np.zeros(0), np.zeros((0, 0, 0)),
                     np.zeros((1, 0, 0)))
    assert got[3].shape == () and got[3] == 0.0
    # a zero-length contracted dimension gives zeros, as NumPy
    a = T.dmatrix("a")
    t = T.tensor("float64", shape=(None, None, None), name="t")
    f, ref = compile_both([a, t], [Dot()(a, a.T), MatMul()(t, a.T),
                                   BatchedDot()(t, t.dimshuffle(0, 2, 1))])
    got = check_same(f, ref, np.zeros((3, 0)), np.zeros((2, 4, 0)))
    assert [g.shape for g in got] == [(3, 3), (2, 4, 3), (2, 4, 4)]
    assert not any(g.any() for g in got)


def test_integer_and_bool_products_as_numpy(rng):
    b = T.tensor("int8", shape=(None, None), name="b")
    u = T.tensor("uint64", shape=(None, None, None), name="u")
    q = T.tensor("bool", shape=(None, None), name="q")
    w = T.tensor("bool", shape=(None,), name="w")
    outs = [Dot()(b, b), MatMul()(u, u), TensorDot(((1,), (0,)))(b, b), BatchedDot()(u, u),
            Dot()(q, q), Dot()(w, w), MatMul()(q, w)]
    f, ref = compile_both([b, u, q, w], outs)
    bv = np.full((3, 3), 100, dtype="int8")  # the sums overflow int8 and wrap
    uv = rng.integers(0, 2**63, size=(2, 2, 2), dtype="uint64")
    qv = np.array([[True, False], [False, False]])
    got = check_same(f, ref, bv, uv, qv, np.array([False, True]))
    assert got[0].dtype == np.int8 and got[0][0, 0] == np.dot(bv, bv)[0, 0]
    assert got[5].dtype == np.bool_ and got[5].shape == () and got[5]
    check_same(f, ref, bv.T[:, ::-1], uv[:, ::-1], qv.T, np.array([True, True]))


def test_complex_products_do_not_conjugate(rng):
    z = T.cvector("z")
    c = T.tensor("complex64", shape=(None, None, None), name="c")
    f, ref = compile_both([z, c], [Dot()(z, z), MatMul()(c, c), MatMul()(z, c)])
    zv = (rng.normal(size=3) + 1j * rng.normal(size=3)).astype("complex64")
    cv = (rng.normal(size=(2, 3, 3)) + 1j * rng.normal(size=(2, 3, 3))).astype("complex64")
    got = check_same(f, ref, zv, cv)
    assert got[0].dtype == np.complex64
    np.testing.assert_allclose(got[0], np.sum(zv * zv), rtol=1e-5)


def test_shape_errors_raise_in_native_code_and_name_the_node():
    m = T.dmatrix("m")
    t = T.tensor("float64", shape=(None, None, None), name="t")
    f = sg.function([m, t], [Dot()(m, m), MatMul()(t, t)], mode=NUMBA)
    ok = np.zeros((2, 2))
    f(ok, np.zeros((1, 2, 2)))
    for args in [(np.zeros((2, 3)), np.zeros((1, 2, 2))), (ok, np.zeros((1, 2, 3)))]:
        with pytest.raises(ValueError):
            f._thunk.jitted(*args)  # the kernel itself refuses
        with pytest.raises(ShapeError, match="not aligned"):
            f(*args)
    # batch dimensions that differ (neither of static length 1) are refused
    a = T.tensor("float64", shape=(None, 2, 2), name="a")
    g = sg.function([a, t], MatMul()(a, t), mode=NUMBA)
    with pytest.raises(ShapeError, match="batch dimension 0 differs"):
        g(np.zeros((2, 2, 2)), np.zeros((3, 2, 2)))
