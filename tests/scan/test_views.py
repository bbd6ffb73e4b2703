"""map, reduce, foldl, foldr: Theano's views of scan."""

import numpy as np

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import verify_grad
from symgraph.scan import foldl, foldr, map as sg_map, reduce as sg_reduce
from tests.utils import assert_allclose, run


def test_map(mode, rng):
    x = T.dmatrix("x")
    w = T.dvector("w")
    out, updates = sg_map(lambda row, w: (row * w).sum(), x, non_sequences=w)
    assert not updates
    xv, wv = rng.standard_normal((4, 3)), rng.standard_normal(3)
    assert_allclose(run([x, w], out, [xv, wv], mode), xv @ wv)


def test_map_over_two_sequences_returns_two_outputs():
    a, b = T.dvector("a"), T.dvector("b")
    outs, _ = sg_map(lambda u, v: [u + v, u * v], [a, b])
    got = run([a, b], outs, [np.arange(3.0), np.ones(3) * 2])
    assert_allclose(got[0], np.arange(3.0) + 2)
    assert_allclose(got[1], np.arange(3.0) * 2)


def test_reduce_foldl_foldr(mode):
    x = T.dvector("x")
    s0 = T.dscalar("s0")
    total, _ = sg_reduce(lambda v, acc: acc * 10 + v, x, s0)
    left, _ = foldl(lambda v, acc: acc * 10 + v, x, s0)
    right, _ = foldr(lambda v, acc: acc * 10 + v, x, s0)
    assert total.ndim == 0
    got = run([x, s0], [total, left, right], [np.array([1.0, 2.0, 3.0]), 0.0], mode)
    assert_allclose(got[0], np.array(123.0))
    assert_allclose(got[1], np.array(123.0))
    assert_allclose(got[2], np.array(321.0))


def test_reduce_with_two_accumulators_and_gradient(rng):
    x = T.dvector("x")
    outs, _ = sg_reduce(lambda v, s, p: [s + v, p * v], x,
                        [np.float64(0), np.float64(1)])
    got = sg.function([x], outs)(np.array([1.0, 2.0, 4.0]))
    assert_allclose(got[0], np.array(7.0))
    assert_allclose(got[1], np.array(8.0))
    verify_grad(lambda x: foldr(lambda v, acc: T.sin(acc) + v * v, x, np.float64(0.5))[0],
                [rng.standard_normal(4)])
