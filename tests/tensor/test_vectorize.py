"""vectorize_graph (symgraph/tensor/vectorize.py): each batching rule against a loop
over the rows on both backends, static shapes kept, shared parts left alone, and the
errors (NotVectorizable where an op has no rule)."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph.basic import io_toposort
from symgraph.tensor.subtensor import AdvancedIncSubtensor, SumToShape
from symgraph.tensor.vectorize import NotVectorizable, vectorize_graph
from tests.utils import assert_allclose


def _check_rows(mode, x, outs, rows, others=(), other_values=(), static=False):
    """The vectorised ``outs`` (over a batch of ``x``) equal ``outs`` computed row by
    row, with the per-row static shapes behind the batch axis."""
    lead = (len(rows),) if static else (None,)
    xs = T.tensor(x.dtype, shape=lead + x.type.shape, name="xs")
    batched = vectorize_graph(outs, {x: xs})
    for o, b in zip(outs, batched):
        assert b.type.shape == lead + o.type.shape, (o, b.type)
        assert b.dtype == o.dtype
    f = sg.function([x, *others], outs, mode=mode, on_unused_input="ignore")
    fb = sg.function([xs, *others], batched, mode=mode, on_unused_input="ignore")
    per_row = [f(r, *other_values) for r in rows]
    for k, got in enumerate(fb(rows, *other_values)):
        assert_allclose(got, np.stack([np.asarray(p[k]) for p in per_row]))
    return batched


def test_elemwise_dimshuffle_and_reductions(mode, rng):
    x = T.dmatrix("x")
    w = T.dvector("w")
    outs = [T.tanh(x) * 2.0 + w, x.T, x.dimshuffle(1, "x", 0), T.sum(x), T.sum(x, axis=0),
            T.max(x, axis=1), x.sum(axis=1, keepdims=True), T.prod(x[0]),
            T.cast(x > 0, "int64"), T.sum(w)]
    _check_rows(mode, x, outs, rng.normal(size=(5, 4, 3)), [w], [rng.normal(size=3)])


def test_dot_every_rank_and_operand(mode, rng):
    v = T.dvector("v")
    m = T.dmatrix("m")
    a = T.constant(rng.normal(size=(5, 4)))
    u = T.constant(rng.normal(size=4))
    p = T.constant(rng.normal(size=(3, 2)))
    vs = [T.dot(a, v), T.dot(v, u), T.dot(u, v), T.dot(v, v), T.dot(a.T, a).sum() * v]
    _check_rows(mode, v, vs, rng.normal(size=(6, 4)))
    ms = [T.dot(a, m), T.dot(m, p), T.dot(u, m), T.dot(m.T, u), T.dot(m, m.T), T.dot(m.T, m),
          T.dot(m[:, 0], m), T.dot(m, m[0])]
    _check_rows(mode, m, ms, rng.normal(size=(6, 4, 3)))


def test_matmul_broadcasts_batches(mode, rng):
    m = T.dmatrix("m")
    stack = T.constant(rng.normal(size=(2, 3, 4)))
    u = T.constant(rng.normal(size=3))
    u4 = T.constant(rng.normal(size=4))
    outs = [T.matmul(stack, m), T.matmul(u4, m), T.matmul(m, u), T.matmul(m.T, m),
            T.matmul(m[0], m.T)]
    _check_rows(mode, m, outs, rng.normal(size=(5, 4, 3)))


def test_indexing_with_shared_indices(mode, rng):
    x = T.dmatrix("x")
    k = T.lscalar("k")
    y = T.dvector("y")
    a = T.constant(rng.normal(size=(4, 3)))
    outs = [x[1:3], x[2], x[:, k], x[k, ::-1], T.inc_subtensor(x[1:], 1.0),
            T.set_subtensor(x[0, 1:3], y[:2]), T.inc_subtensor(a[k], x[0]),
            T.set_subtensor(a[0], y), T.inc_subtensor(x[::2], y)]
    _check_rows(mode, x, outs, rng.normal(size=(5, 4, 3)), [k, y], [2, rng.normal(size=3)])


def test_indexing_with_an_index_per_row(mode, rng):
    """A row's own index (a one-hot row of a Jacobian's seed): one advanced read or
    write for the batch, each row's index paired with its row."""
    i = T.lscalar("i")
    x = T.dmatrix("x")
    a = T.constant(rng.normal(size=(5, 4)))
    outs = [a[i], a[i, 1:3], a[1:, i], T.inc_subtensor(T.zeros((5,))[i], 1.0),
            T.set_subtensor(a[i, 2], 7.0), T.inc_subtensor(a[:, i], a[:, 0]),
            T.inc_subtensor(x[i], x[0]) * 2.0]
    batched = _check_rows(mode, i, outs, np.array([0, 3, 3, 1, 2]), [x],
                          [rng.normal(size=(6, 4))])
    writes = [n.op for n in io_toposort([], batched) if isinstance(n.op, AdvancedIncSubtensor)]
    assert writes and all(op.ignore_duplicates for op in writes)


def test_shapes_creation_and_joins(mode, rng):
    x = T.dmatrix("x")
    b = T.constant(rng.normal(size=(5, 2)))
    outs = [T.reshape(x, (2, -1)), x.flatten(), T.alloc(x, 2, 5, 4), T.alloc(x[0], 3, 4),
            x * T.cast(x.shape[0] * x.shape[1], "float64"), T.shape(x),
            T.specify_shape(x, (5, 4)), T.concatenate([x, b], axis=1),
            T.concatenate([b.T, x[:2]], axis=-1), SumToShape()(x, 1, 4),
            SumToShape()(T.alloc(x, 3, 5, 4), 5, 1)]
    _check_rows(mode, x, outs, rng.normal(size=(3, 5, 4)))


def test_static_batch_length_and_shared_parts(rng):
    """A static batch length reaches the results; nodes that do not depend on the
    batched variable stay as they are, shared by every row; an output that does not
    depend on it at all is repeated."""
    x = T.dvector("x", shape=(3,))
    w = T.dmatrix("w")
    hidden = T.tanh(w).sum(axis=0)
    outs = [x * hidden, hidden]
    batched = _check_rows("py", x, outs, rng.normal(size=(4, 3)), [w],
                          [rng.normal(size=(2, 3))], static=True)
    assert all(b.type.shape[0] == 4 for b in batched)
    used = {v for n in io_toposort([], batched) for v in n.inputs}
    assert hidden in used  # computed once, not once per row


def test_errors_and_ops_without_rules():
    x = T.dvector("x")
    xs = T.dmatrix("xs")
    with pytest.raises(ValueError, match="nothing to vectorise"):
        vectorize_graph(x * 2, {})
    with pytest.raises(TypeError, match="not a batch of"):
        vectorize_graph(x * 2, {x: T.dvector("v")})
    with pytest.raises(TypeError, match="not a batch of"):
        vectorize_graph(x * 2, {x: T.fmatrix("f")})
    with pytest.raises(NotVectorizable, match="no batching rule"):
        vectorize_graph(T.sort(x), {x: xs})
    with pytest.raises(NotVectorizable, match="differs between rows"):
        vectorize_graph(T.zeros((T.cast(x.sum(), "int64"),)), {x: xs})
    single = vectorize_graph(x * 2, {x: xs})  # a variable in, a variable out
    assert single.type.shape == (None, None)
