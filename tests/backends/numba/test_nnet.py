"""The numba kernels of the nnet ops (backends/numba/dispatch/nnet.py) and of the
gradient modifiers (backends/numba/dispatch/gradient.py). Always compiled with
mode="numba", whatever SYMGRAPH_TEST_BACKENDS says: no object mode, every axis,
non-contiguous and read-only inputs, infinities, empty axes, and label errors raised
in native code that name the node through the interpreter's re-run."""

from functools import partial

import numpy as np
import pytest

import symgraph.tensor as T
from symgraph.compile.mode import Mode
from symgraph.graph.utils import ShapeError
from symgraph.tensor import nnet
from tests.backends.numba import utils as nb
from tests.utils import assert_allclose

RAW = Mode("numba", optimizer=None)  # the graph as built: no rewrite fuses or removes ops

compile_both = partial(nb.compile_both, mode=RAW, ref_mode=Mode("py", optimizer=None))
check_same = nb.check_same


@pytest.fixture(scope="module")
def softmaxes():
    x = T.tensor("float64", shape=(None, None, None), name="x")
    outs = [nnet.softmax(x, axis=0), nnet.softmax(x, axis=-1), nnet.log_softmax(x, axis=1),
            nnet.log_softmax(x, axis=2)]
    return compile_both([x], outs)


def test_softmax_every_axis_and_layout(softmaxes, rng):
    f, ref = softmaxes
    v = rng.normal(size=(3, 4, 5)) * 10
    check_same(f, ref, v)
    # read-only views, not C-contiguous (one more compiled specialisation)
    ro = rng.normal(size=(5, 3, 8))
    ro.setflags(write=False)
    check_same(f, ref, ro.transpose(1, 2, 0)[:, ::2])
    check_same(f, ref, ro[:, :, ::-2].transpose(1, 2, 0))
    got = f(v)
    np.testing.assert_allclose(got[0].sum(axis=0), 1.0)
    np.testing.assert_allclose(np.exp(got[3]).sum(axis=2), 1.0)


def test_softmax_infinities_nan_and_empty_axis(softmaxes):
    f, ref = softmaxes
    v = np.zeros((2, 3, 4))
    v[0, 0, :] = [np.inf, 1.0, 2.0, -np.inf]  # +inf: softmax nan, log_softmax -inf
    v[0, 1, :] = -np.inf                       # all -inf: nan
    v[1, 2, 1] = np.nan
    v[1, 0, :] = [1000.0, 0.0, -1000.0, 999.0]  # no overflow
    check_same(f, ref, v)
    got = f(v)
    assert np.isfinite(got[1][1, 0]).all() and np.isnan(got[1][1, 2]).all()
    check_same(f, ref, np.zeros((2, 0, 3)))
    check_same(f, ref, np.zeros((0, 3, 4)))


def test_softmax_dtypes_and_vectors(rng):
    i = T.tensor("int8", shape=(None, None), name="i")
    s = T.fvector("s")
    outs = [nnet.softmax(i), nnet.log_softmax(i, axis=0), nnet.softmax(s), nnet.log_softmax(s)]
    f, ref = compile_both([i, s], outs)
    iv = rng.integers(-5, 5, size=(3, 4)).astype("int8")
    sv = (rng.normal(size=7) * 30).astype("float32")
    check_same(f, ref, iv, sv)
    assert [o.dtype for o in f(iv, sv)] == ["float32"] * 4


@pytest.fixture(scope="module")
def crossentropies():
    p = T.tensor("float32", shape=(None, None, None), name="p")
    y = T.tensor("uint8", shape=(None, None), name="y")
    q = T.dvector("q")
    k = T.lscalar("k")
    outs = [nnet.crossentropy_categorical_1hot(p, y), nnet.crossentropy_softmax_1hot(p, y),
            nnet.crossentropy_categorical_1hot(q, k), nnet.crossentropy_softmax_1hot(q, k)]
    return compile_both([p, y, q, k], outs)


def test_crossentropies_values_layouts_and_0d(crossentropies, rng):
    f, ref = crossentropies
    pv = rng.uniform(0.01, 1.0, size=(2, 3, 4)).astype("float32")
    yv = rng.integers(0, 4, size=(2, 3)).astype("uint8")
    qv = np.array([0.2, 0.0, 0.8])
    check_same(f, ref, pv, yv, qv, 2)
    check_same(f, ref, pv.transpose(1, 0, 2).copy().transpose(1, 0, 2), yv.T.copy().T, qv[::-1],
               np.int64(0))
    got = f(pv, yv, qv, 1)
    assert got[2].shape == () and got[2] == np.inf  # -log(0), as the interpreter
    assert got[3].shape == () and np.isfinite(got[3])
    # the fused form stays finite where the probability would round to 0
    big = np.zeros((1, 1, 3), dtype="float32")
    big[..., 0] = 200.0
    loss = f(big, np.array([[2]], dtype="uint8"), qv, 0)[1]
    assert_allclose(loss, np.array([[200.0]], dtype="float32"))
    inf_row = big.copy()
    inf_row[..., 1] = np.inf
    check_same(f, ref, inf_row, np.array([[2]], dtype="uint8"), qv, 0)
    check_same(f, ref, np.zeros((0, 3, 4), "float32"), np.zeros((0, 3), "uint8"), qv, 0)


@pytest.mark.parametrize("labels, exc", [(np.array([[0, 4, 1]]), IndexError),
                                         (np.array([[0, -1, 1]]), IndexError),
                                         (np.array([[0, 1]]), ShapeError)])
def test_crossentropy_errors_in_native_code_name_the_node(labels, exc):
    p = T.dtensor3("p")
    y = T.lmatrix("y")
    for op in (nnet.crossentropy_categorical_1hot, nnet.crossentropy_softmax_1hot):
        f, _ = compile_both([p, y], op(p, y))
        pv = np.full((1, 3, 4), 0.25)
        with pytest.raises(IndexError if exc is IndexError else ValueError):
            f._thunk.jitted(pv, labels)  # the kernel refuses: no read out of bounds
        with pytest.raises(exc, match="Apply node that failed"):
            f(pv, labels)


# ------------------------------------------------ gradient modifiers (dispatch/gradient.py)

def test_gradient_modifiers_compile_as_identity_without_rewrites():
    from symgraph import gradient as G

    x = T.dvector("x")
    outs = [G.zero_grad(x) * 2, G.disconnected_grad(x) + 1, G.grad_clip(x, -1.0, 1.0),
            G.grad_scale(x, -3.0), G.consider_constant(x)]
    f, ref = compile_both([x], outs)
    v = np.array([1.0, -2.0, 0.5])
    check_same(f, ref, v)
    cost = T.sum(G.grad_scale(x, -3.0) ** 2)
    g, gref = compile_both([x], [T.grad(cost, x)])
    check_same(g, gref, v)
