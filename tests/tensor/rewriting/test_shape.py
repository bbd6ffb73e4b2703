"""Shape inference: the ShapeFeature and the rewrites that use it.

Each rewrite is checked to fire on its pattern (report and graph) and to keep
values against the same function compiled with no rewrites; nodes used only for
their shapes are dropped (their perform never runs) and recorded."""

import pickle

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.compile.mode import Mode
from symgraph.graph.basic import Apply, Constant
from symgraph.graph.fg import FunctionGraph
from symgraph.graph.op import Op
from symgraph.tensor.creation import Alloc
from symgraph.tensor.dot import Dot
from symgraph.tensor.elemwise import Elemwise
from symgraph.tensor.rewriting.shape import RemovedNode, ShapeFeature, equal_expressions
from symgraph.tensor.shape import Reshape, Shape, Shape_i
from symgraph.tensor.subtensor import Subtensor


def _compile(mode, inputs, outputs, rewrites="fast_run"):
    m = rewrites if isinstance(rewrites, Mode) else Mode(mode, optimizer=rewrites)
    f = sg.function(inputs, outputs, mode=m)
    ref = sg.function(inputs, outputs, mode=Mode(mode, optimizer=None))
    return f, ref


def _only(mode, *names):
    """A mode running only ``names`` (and the feature they need)."""
    return Mode(mode, optimizer="attach_shape_feature", include=names)


def _same(f, ref, *values):
    got, want = f(*values), ref(*values)
    if not isinstance(got, list):
        got, want = [got], [want]
    for a, b in zip(got, want):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape, (a, b)
        np.testing.assert_array_equal(a, b)


def _ops(f):
    return [n.op for n in f.maker.fgraph.toposort()]


def _has(f, cls):
    return any(isinstance(op, cls) for op in _ops(f))


# =========================================================================== the feature

class _NoInferShape(Op):
    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0].copy()


class _BadInferShape(_NoInferShape):
    __props__ = ()

    def infer_shape(self, fgraph, node, input_shapes):
        raise RuntimeError("broken")


def test_shape_feature_infers_shapes_from_infer_shape():
    a = T.dmatrix("a")
    b = T.tensor(dtype="float64", shape=(None, 4), name="b")
    d = T.dot(a, b)
    e = T.exp(d)
    fg = FunctionGraph([a, b], [e], clone=False)
    fe = ShapeFeature()
    fg.attach_feature(fe)
    assert fg.shape_feature is fe
    s0, s1 = fe.shape_tuple(e)
    assert s0.owner is not None and isinstance(s0.owner.op, Shape_i) and s0.owner.inputs[0] is a
    assert isinstance(s1, Constant) and int(s1.data) == 4
    assert fe.same_shape(d, e) and not fe.same_shape(a, e)
    assert equal_expressions(fe.get_shape(e, 0), Shape_i(0)(a))
    # a scalar has the empty shape; a constant's shape is constant
    assert fe.shape_tuple(T.constant(np.zeros((2, 0)))) [1].data == 0
    fg.remove_feature(fe)
    assert not hasattr(fg, "shape_feature")


@pytest.mark.parametrize("op", [_NoInferShape(), _BadInferShape()])
def test_shape_feature_falls_back_to_the_variable_itself(op):
    x = T.dmatrix("x")
    y = op(x)
    fg = FunctionGraph([x], [y], clone=False)
    fe = ShapeFeature()
    fg.attach_feature(fe)
    for d, s in enumerate(fe.shape_tuple(y)):
        assert isinstance(s.owner.op, Shape_i) and s.owner.op.i == d and s.owner.inputs[0] is y


def test_attach_is_idempotent_and_per_graph():
    x = T.dvector("x")
    f = sg.function([x], T.exp(x).shape[0])
    fe = f.maker.fgraph.shape_feature
    assert isinstance(fe, ShapeFeature)
    assert sum(isinstance(ft, ShapeFeature) for ft in f.maker.fgraph.features) == 1
    with pytest.raises(ValueError):
        f.maker.fgraph.attach_feature(ShapeFeature())


# =========================================================================== Shape_i

def test_shape_i_of_dot_needs_no_dot(mode):
    a = T.dmatrix("a")
    b = T.dmatrix("b")
    out = T.dot(a, b).shape[0]
    f, ref = _compile(mode, [a, b], out)
    assert f.rewrite_report()["local_infer_shape_i"] >= 1
    assert not _has(f, Dot)
    ops = _ops(f)
    assert len(ops) == 1 and isinstance(ops[0], Shape_i)
    assert ops[0] is not None and f.maker.fgraph.toposort()[0].inputs[0] is f.maker.fgraph.inputs[0]
    for sa, sb in [((2, 3), (3, 4)), ((0, 3), (3, 5)), ((4, 0), (0, 1))]:
        _same(f, ref, np.full(sa, np.nan), np.full(sb, np.inf))
    rec = f.maker.fgraph.shape_feature.removed
    assert [type(r.op) for r in rec] == [Dot]


def test_shape_i_becomes_a_constant_when_static(mode):
    m = T.dmatrix("m")
    outs = [Shape_i(1)(T.exp(m)), Shape_i(1)(T.specify_shape(T.exp(m), (None, 5)))]
    f, ref = _compile(mode, [m], outs, _only(mode, "local_infer_shape_i"))
    assert f.rewrite_report()["local_infer_shape_i"] == 2
    assert not any(isinstance(op, Elemwise) for op in _ops(f))
    assert isinstance(f.maker.fgraph.outputs[1], Constant)
    _same(f, ref, np.zeros((2, 5)))


def test_shape_i_keeps_needed_inputs_and_long_expressions(mode):
    x = T.dmatrix("x")
    y = T.reshape(T.exp(x), (-1,))   # its length is a product of x's lengths
    outs = [y, y.shape[0]]
    f, ref = _compile(mode, [x], outs, _only(mode, "local_infer_shape_i"))
    # y is computed anyway: its Shape_i stays rather than a longer expression
    assert "local_infer_shape_i" not in f.rewrite_report()
    _same(f, ref, np.arange(6.0).reshape(2, 3))
    # used only for its shape, y goes and the product of x's lengths is computed
    f, ref = _compile(mode, [x], y.shape[0], _only(mode, "local_infer_shape_i"))
    assert f.rewrite_report()["local_infer_shape_i"] == 1
    assert not _has(f, Reshape)
    _same(f, ref, np.arange(6.0).reshape(2, 3))
    _same(f, ref, np.zeros((0, 3)))


def test_shape_i_of_an_input_does_not_fire(mode):
    x = T.dmatrix("x")
    f, ref = _compile(mode, [x], x.shape[1], _only(mode, "local_infer_shape_i"))
    assert "local_infer_shape_i" not in f.rewrite_report()
    assert isinstance(_ops(f)[0], Shape_i)
    _same(f, ref, np.zeros((2, 7)))


# =========================================================================== Shape

def test_shape_of_unneeded_variable_is_stacked_lengths(mode):
    a = T.dmatrix("a")
    b = T.dmatrix("b")
    out = T.dot(T.exp(a), b).shape
    f, ref = _compile(mode, [a, b], out, _only(mode, "local_infer_shape"))
    assert f.rewrite_report()["local_infer_shape"] == 1
    assert not _has(f, Dot) and not _has(f, Shape)
    assert not any(isinstance(op, Elemwise) for op in _ops(f))
    _same(f, ref, np.ones((2, 3)), np.ones((3, 5)))
    removed = sorted(type(r.op).__name__ for r in f.maker.fgraph.shape_feature.removed)
    assert removed == ["Dot"]


def test_shape_of_static_tensor_is_a_constant(mode):
    x = T.tensor(dtype="float32", shape=(2, 3), name="x")
    f, ref = _compile(mode, [x], [T.exp(x), T.exp(x).shape], _only(mode, "local_infer_shape"))
    assert f.rewrite_report()["local_infer_shape"] == 1
    assert isinstance(f.maker.fgraph.outputs[1], Constant)
    _same(f, ref, np.ones((2, 3), dtype="float32"))


def test_shape_of_needed_variable_stays(mode):
    a = T.dmatrix("a")
    y = T.exp(a)
    f, ref = _compile(mode, [a], [y, y.shape], _only(mode, "local_infer_shape"))
    assert "local_infer_shape" not in f.rewrite_report()
    assert _has(f, Shape)
    _same(f, ref, np.ones((2, 3)))


def test_shape_subtensor(mode):
    x = T.dmatrix("x")
    y = T.exp(x)
    outs = [Subtensor((0,))(T.shape(y)), Subtensor((-1,))(T.shape(y))]
    f, ref = _compile(mode, [x], outs, _only(mode, "local_shape_subtensor"))
    assert f.rewrite_report()["local_shape_subtensor"] == 2
    assert not _has(f, Subtensor) and not _has(f, Shape)
    _same(f, ref, np.ones((2, 3)))
    # a symbolic index is left alone
    i = T.lscalar("i")
    f, ref = _compile(mode, [x, i], T.shape(y)[i], _only(mode, "local_shape_subtensor"))
    assert "local_shape_subtensor" not in f.rewrite_report()
    _same(f, ref, np.ones((2, 3)), -1)


# =========================================================================== alloc / reshape

def test_useless_alloc_inferred(mode):
    x = T.dmatrix("x")
    y = T.exp(x)
    out = T.alloc(y, x.shape[0], x.shape[1])
    f, ref = _compile(mode, [x], out, _only(mode, "local_useless_alloc_inferred"))
    assert f.rewrite_report()["local_useless_alloc_inferred"] == 1
    assert not _has(f, Alloc)
    v = np.array([[0.0, -1.0, np.inf], [np.nan, 1e300, -np.inf]])
    with np.errstate(over="ignore"):
        _same(f, ref, v)


def test_useless_alloc_inferred_does_not_fire_when_it_broadcasts(mode):
    x = T.dmatrix("x")
    r = T.row("r")
    outs = [T.alloc(r, x.shape[0], x.shape[1]), T.alloc(T.exp(x), x.shape[1], x.shape[0]),
            T.alloc(T.exp(x), 3, x.shape[0], x.shape[1])]
    f, ref = _compile(mode, [x, r], outs, _only(mode, "local_useless_alloc_inferred"))
    assert "local_useless_alloc_inferred" not in f.rewrite_report()
    assert [type(op) for op in _ops(f)].count(Alloc) == 3
    _same(f, ref, np.ones((2, 2)), np.array([[1.0, np.nan]]))


def test_alloc_feeding_an_elemwise_is_replaced_by_broadcasting(mode):
    x = T.dmatrix("x")
    b = T.dvector("b")
    r = T.row("r")
    outs = [x * T.alloc(b, x.shape[0], x.shape[1]),          # b's length is x's 2nd
            T.alloc(r, x.shape[0], x.shape[1]) + T.exp(x),    # r broadcasts along x's 1st
            T.alloc(T.sum(x), x.shape[0], x.shape[1]) - x]    # a 0-d value over x's shape
    f, ref = _compile(mode, [x, b, r], outs, _only(mode, "local_alloc_elemwise"))
    assert f.rewrite_report()["local_alloc_elemwise"] == 3
    assert not _has(f, Alloc)
    _same(f, ref, np.array([[1.0, -2.0, np.inf], [0.5, np.nan, 3.0]]),
          np.array([2.0, 0.0, -1.0]), np.array([[1.0, 2.0, 3.0]]))


def test_alloc_elemwise_keeps_allocs_that_fix_a_shape(mode):
    x = T.dmatrix("x")
    c = T.dcol("c")
    v = T.dvector("v")
    n = T.lscalar("n")
    outs = [c + T.alloc(v, c.shape[0], n),   # c broadcasts along n; v is not proven n long
            x + T.alloc(v, x.shape[0], n),   # x's columns are not proven n either
            T.alloc(v, 2, x.shape[1]) * x]   # 2 rows is not x's row count
    f, ref = _compile(mode, [x, c, v, n], outs, _only(mode, "local_alloc_elemwise"))
    assert "local_alloc_elemwise" not in f.rewrite_report()
    assert [type(op) for op in _ops(f)].count(Alloc) == 3
    _same(f, ref, np.ones((2, 3)), np.array([[1.0], [2.0]]), np.array([1.0, 2.0, 3.0]), 3)


def test_useless_reshape_inferred(mode):
    x = T.dmatrix("x")
    y = T.exp(x)
    outs = [T.reshape(y, x.shape), T.reshape(y, (y.shape[0], x.shape[1]))]
    f, ref = _compile(mode, [x], outs, _only(mode, "local_useless_reshape_inferred"))
    assert f.rewrite_report()["local_useless_reshape_inferred"] == 2
    assert not _has(f, Reshape)
    _same(f, ref, np.array([[0.0, -1.0, np.inf], [np.nan, -0.0, -np.inf]]))


def test_useless_reshape_inferred_does_not_fire_on_real_reshapes(mode):
    x = T.dmatrix("x")
    outs = [T.reshape(x, (x.shape[1], x.shape[0])), T.reshape(x, (x.shape[0], -1))]
    f, ref = _compile(mode, [x], outs, _only(mode, "local_useless_reshape_inferred"))
    assert "local_useless_reshape_inferred" not in f.rewrite_report()
    _same(f, ref, np.arange(6.0).reshape(2, 3))


# =========================================================================== custom ops

class _Counting(Op):
    """A Theano-style custom op: perform and infer_shape, nothing else."""

    __props__ = ()
    calls = 0

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [T.dmatrix()])

    def perform(self, node, inputs, output_storage):
        type(self).calls += 1
        (x,) = inputs
        output_storage[0][0] = np.outer(x, x)

    def infer_shape(self, fgraph, node, input_shapes):
        (n,) = input_shapes[0]
        return [(n, n)]


def test_custom_op_used_only_for_its_shape_never_runs(mode):
    x = T.dvector("x")
    y = _Counting()(x)   # the line the record points at
    line = y.owner.tag.trace[0][1]
    out = y.shape[0] * 2 + T.sum(y.shape)
    f = sg.function([x], out, mode=mode)
    _Counting.calls = 0
    assert int(f(np.arange(5.0))) == 20
    assert _Counting.calls == 0
    assert not any(isinstance(op, _Counting) for op in _ops(f))
    rec = f.maker.fgraph.shape_feature.removed
    assert len(rec) == 1
    r = rec[0]
    assert isinstance(r, RemovedNode) and isinstance(r.op, _Counting)
    assert "_Counting" in r.node
    assert r.trace[0][0] == __file__ and r.trace[0][1] == line
    # without rewrites it runs
    g = sg.function([x], out, mode=Mode(mode, optimizer=None))
    assert int(g(np.arange(5.0))) == 20 and _Counting.calls == 1


def test_removed_lists_only_nodes_used_for_their_shapes(mode):
    x = T.dvector("x")
    y = _Counting()(x)
    f = sg.function([x], [y, y.shape[0]], mode=mode)
    assert f.maker.fgraph.shape_feature.removed == []
    _Counting.calls = 0
    out = f(np.arange(3.0))
    assert _Counting.calls == 1 and int(out[1]) == 3


def test_removed_survives_pickling():
    x = T.dvector("x")
    f = sg.function([x], T.exp(x).shape[0] + 1)
    g = pickle.loads(pickle.dumps(f))
    assert g(np.ones(4)) == 5
    assert [type(r.op) for r in g.maker.fgraph.shape_feature.removed] == \
        [type(r.op) for r in f.maker.fgraph.shape_feature.removed]


def test_shape_rewrites_are_off_without_fast_run(mode):
    x = T.dvector("x")
    f = sg.function([x], T.exp(x).shape[0], mode=Mode(mode, optimizer="fast_compile"))
    assert not hasattr(f.maker.fgraph, "shape_feature")
    assert any(isinstance(op, Elemwise) for op in _ops(f))
    assert f(np.ones(3)) == 3


def test_shapes_follow_replacements():
    """A shape known through a variable that was replaced refers to its replacement,
    so using it does not bring the old computation back."""
    from symgraph.graph.basic import ancestors

    x = T.dvector("x")
    y = _NoInferShape()(x)
    z = T.exp(y)
    fg = FunctionGraph([x], [z], clone=False)
    fe = ShapeFeature()
    fg.attach_feature(fe)
    (s,) = fe.shape_tuple(z)
    assert y in ancestors([s])
    new_y = T.sqrt(x)
    fg.replace(y, new_y)
    (s,) = fe.shape_tuple(z)
    assert y not in ancestors([s])
    assert not any(isinstance(v.owner.op, _NoInferShape) for v in ancestors([s]) if v.owner)
