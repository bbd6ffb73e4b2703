"""The basic rewrites: merge, constant folding and the useless-op removals.

Each test compiles its pattern with the rewrite (alone, via ``Mode(linker,
optimizer=<rewrite name>)``, or with the whole pipeline), checks that the report
counts it and that the graph changed as expected, and compares values with the
same function compiled with no rewrites, on edge values."""

import warnings

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.compile.mode import Mode
from symgraph.gradient import (
    consider_constant, disconnected_grad, grad_clip, grad_scale, zero_grad,
)
from symgraph.graph.basic import Apply, Constant
from symgraph.graph.fg import FunctionGraph
from symgraph.graph.op import Op
from symgraph.graph.rewriting.db import rewrite_db
from symgraph.scalar.basic import Cast
from symgraph.tensor.creation import Alloc
from symgraph.tensor.elemwise import DimShuffle, Elemwise
from symgraph.tensor.rewriting.basic import CONSTANT_FOLDING_LIMIT
from symgraph.tensor.shape import Reshape, SpecifyShape, Unbroadcast
from symgraph.tensor.subtensor import Subtensor
from symgraph.tensor.type import TensorType

EDGES = np.array([0.0, -0.0, -1.5, 2.0, 1e300, -1e300, np.inf, -np.inf, np.nan])


def _compile(mode, inputs, outputs, rewrites="fast_run", **kw):
    """(rewritten, reference): ``rewrites`` is 'fast_run', a Mode, or a rewrite name to
    run alone."""
    if isinstance(rewrites, Mode):
        m = rewrites
    else:
        m = Mode(mode, optimizer=rewrites)
    f = sg.function(inputs, outputs, mode=m, **kw)
    ref = sg.function(inputs, outputs, mode=Mode(mode, optimizer=None), **kw)
    return f, ref


def _same(f, ref, *values):
    got, want = f(*values), ref(*values)
    if not isinstance(got, list):
        got, want = [got], [want]
    for a, b in zip(got, want):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape, (a, b)
        np.testing.assert_array_equal(a, b)  # NaN equals NaN here


def _ops(f):
    return [n.op for n in f.maker.fgraph.toposort()]


def _elemwise_names(f):
    return [n.op.scalar_op.name for n in f.maker.fgraph.toposort() if isinstance(n.op, Elemwise)]


# =========================================================================== merge

def test_merge_identical_subexpressions(mode):
    x = T.dvector("x")
    out = T.exp(x) + T.exp(x)
    f, ref = _compile(mode, [x], out, Mode(mode).excluding("fusion"))
    assert f.rewrite_report()["merge"] >= 1
    assert _elemwise_names(f).count("exp") == 1
    assert len(_ops(ref)) == 3
    _same(f, ref, EDGES)


def test_merge_equal_constants_and_outputs(mode):
    x = T.dvector("x")
    a = x * T.constant(2.0)
    b = x * T.constant(2.0)  # another constant object with the same value
    f, ref = _compile(mode, [x], [a, b], "merge")
    assert f.rewrite_report()["merge"] >= 2  # the constants, then the two products
    assert len(_ops(f)) == 1
    consts = [v for v in f.maker.fgraph.variables if isinstance(v, Constant)]
    assert len(consts) == 1
    r = f(EDGES)
    assert r[0] is not r[1]  # merged outputs are still separate arrays
    _same(f, ref, EDGES)


def test_merge_does_not_fire_on_different_inputs_types_or_values(mode):
    x = T.dvector("x")
    y = T.dvector("y")
    outs = [T.exp(x), T.exp(y),
            T.cast(x, "float32") * T.constant(np.float32(2)), T.cast(x, "float32") * 2.0,
            x * T.constant(2.0), x * T.constant(3.0),
            x * T.constant(0.0), x * T.constant(-0.0)]  # 0.0 and -0.0 differ
    f, ref = _compile(mode, [x, y], outs, "merge")
    names = _elemwise_names(f)
    assert names.count("exp") == 2
    # the two float32 products merge (equal constants), cast merges; the rest do not
    assert names.count("mul") == 5
    assert f.rewrite_report()["merge"] == 3
    _same(f, ref, EDGES, -EDGES)


def test_merge_final_runs_in_final_phase():
    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x), T.exp(x)])
    report = rewrite_db["merge_final"].rewrite(fg)
    assert report == {"merge_final": 1}
    assert fg.outputs[0] is fg.outputs[1]
    assert len(fg.apply_nodes) == 1


def test_merge_runs_in_fast_compile(mode):
    x = T.dvector("x")
    f, ref = _compile(mode, [x], T.exp(x) * T.exp(x), "fast_compile")
    assert f.rewrite_report()["merge"] == 1
    _same(f, ref, EDGES)


# =========================================================================== constant folding

def test_constant_folding(mode):
    x = T.dvector("x")
    c = T.exp(T.constant(np.array([0.0, 1.0, np.inf, -np.inf, np.nan])))
    out = x + c * T.constant(2.0)
    f, ref = _compile(mode, [x], out, "local_constant_folding")
    assert f.rewrite_report()["local_constant_folding"] == 2
    assert _elemwise_names(f) == ["add"]
    folded = [i for i in f.maker.fgraph.toposort()[0].inputs if isinstance(i, Constant)]
    assert len(folded) == 1 and not folded[0].data.flags.writeable
    assert folded[0].type.shape == (5,)
    _same(f, ref, EDGES[:5])
    # the same in fast_compile and in the full pipeline
    f2, _ = _compile(mode, [x], out, "fast_compile")
    assert f2.rewrite_report()["local_constant_folding"] >= 1


def test_constant_folding_keeps_dtype_and_views(mode):
    c = T.constant(np.arange(6, dtype="int8").reshape(2, 3))
    outs = [c.T, T.cast(c, "float32") / 2, c[1], T.sum(c)]
    f, ref = _compile(mode, [], outs, "local_constant_folding")
    assert f.rewrite_report()["local_constant_folding"] == 5
    assert _ops(f) == []
    _same(f, ref)


def test_constant_folding_does_not_fold_large_allocs(mode):
    out = T.alloc(T.constant(1.5), 1000, 1000)
    f, ref = _compile(mode, [], out)
    assert "local_constant_folding" not in f.rewrite_report()
    assert any(isinstance(op, Alloc) for op in _ops(f))
    assert f().shape == (1000, 1000)


def test_constant_folding_size_limit(mode):
    big = T.constant(np.ones(CONSTANT_FOLDING_LIMIT + 1))
    small = T.constant(np.ones(10))
    x = T.dscalar("x")
    outs = [x + big * 2.0, x + small * 2.0]
    f, ref = _compile(mode, [x], outs, "local_constant_folding")
    assert f.rewrite_report()["local_constant_folding"] == 1
    assert _elemwise_names(f).count("mul") == 1
    _same(f, ref, 3.0)


class _FailsAtRunTime(Op):
    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        raise ValueError("bad value")


def test_constant_folding_leaves_failing_nodes_to_run_time(mode):
    out = _FailsAtRunTime()(T.constant(np.ones(2)))
    f = sg.function([], out, mode=Mode(mode, optimizer="local_constant_folding"))
    assert "local_constant_folding" not in f.rewrite_report()
    with pytest.raises(ValueError, match="bad value"):
        f()


def test_constant_folding_can_be_excluded(mode):
    x = T.dvector("x")
    out = x + T.exp(T.constant(1.0))
    f = sg.function([x], out, mode=Mode(mode).excluding("local_constant_folding"))
    assert "local_constant_folding" not in f.rewrite_report()
    f = sg.function([x], out, mode=Mode(mode, "fast_compile").excluding("local_constant_folding"))
    assert _elemwise_names(f).count("exp") == 1


# =========================================================================== useless ops

def test_useless_identity(mode):
    x = T.dvector("x")
    f, ref = _compile(mode, [x], T.exp(T.identity(x)), "local_useless_identity")
    assert f.rewrite_report()["local_useless_identity"] == 1
    assert _elemwise_names(f) == ["exp"]
    _same(f, ref, EDGES)
    # the identity as the output: the input is returned as a fresh array
    f = sg.function([x], T.identity(x), mode=Mode(mode, optimizer="local_useless_identity"))
    assert _ops(f) == []
    v = EDGES.copy()
    r = f(v)
    np.testing.assert_array_equal(r, v)
    assert r is not v


def test_useless_cast(mode):
    x = T.fvector("x")
    out = T.exp(Elemwise(Cast("float32"))(x))  # cast() itself skips same-dtype casts
    f, ref = _compile(mode, [x], out, "local_useless_cast")
    assert f.rewrite_report()["local_useless_cast"] == 1
    assert _elemwise_names(f) == ["exp"]
    with np.errstate(over="ignore"):
        v = EDGES.astype("float32")
    _same(f, ref, v)


def test_useless_cast_does_not_fire_on_real_casts(mode):
    x = T.dvector("x")
    outs = [T.cast(x, "float32"), T.cast(x, "int64"), T.cast(x, "bool")]
    f, ref = _compile(mode, [x], outs, "local_useless_cast")
    assert "local_useless_cast" not in f.rewrite_report()
    assert len(_ops(f)) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(f, ref, np.array([0.0, -1.5, 2.5, 1e10]))


def test_useless_dimshuffle(mode):
    r = T.tensor(dtype="float64", shape=(1, None), name="r")
    outs = [T.exp(DimShuffle(2, (0, 1))(r)), T.exp(DimShuffle(2, ("x", 1))(r))]
    f, ref = _compile(mode, [r], outs, "local_useless_dimshuffle")
    assert f.rewrite_report()["local_useless_dimshuffle"] == 2
    assert not any(isinstance(op, DimShuffle) for op in _ops(f))
    _same(f, ref, EDGES[None, :])


def test_useless_dimshuffle_does_not_fire_on_transposes(mode):
    m = T.dmatrix("m")
    s = T.tensor(dtype="float64", shape=(2, 2), name="s")
    outs = [m.T, s.T, T.shape_padleft(m)]
    f, ref = _compile(mode, [m, s], outs, "local_useless_dimshuffle")
    assert "local_useless_dimshuffle" not in f.rewrite_report()
    v = np.arange(4.0).reshape(2, 2)
    _same(f, ref, v, v)


def test_useless_reshape(mode):
    x = T.tensor(dtype="float64", shape=(2, 3), name="x")
    out = T.exp(T.reshape(x, (2, 3)))
    f, ref = _compile(mode, [x], out, "local_useless_reshape")
    assert f.rewrite_report()["local_useless_reshape"] == 1
    assert not any(isinstance(op, Reshape) for op in _ops(f))
    _same(f, ref, np.array([[0.0, -1.0, np.inf], [np.nan, 1e300, -0.0]]))


def test_useless_reshape_does_not_fire_on_real_reshapes(mode):
    x = T.tensor(dtype="float64", shape=(2, 3), name="x")
    y = T.dmatrix("y")
    outs = [T.reshape(x, (3, 2)), T.reshape(y, (2, 3))]
    f, ref = _compile(mode, [x, y], outs, "local_useless_reshape")
    assert "local_useless_reshape" not in f.rewrite_report()
    v = np.arange(6.0).reshape(2, 3)
    _same(f, ref, v, v)


def test_useless_specify_shape(mode):
    x = T.tensor(dtype="float64", shape=(2, None), name="x")
    out = T.exp(SpecifyShape((2, None))(x))
    f, ref = _compile(mode, [x], out, "local_useless_specify_shape")
    assert f.rewrite_report()["local_useless_specify_shape"] == 1
    assert not any(isinstance(op, SpecifyShape) for op in _ops(f))
    _same(f, ref, EDGES[:6].reshape(2, 3))


def test_useless_specify_shape_does_not_fire_when_it_adds_a_shape(mode):
    x = T.dmatrix("x")
    f, ref = _compile(mode, [x], T.specify_shape(x, (2, None)), "local_useless_specify_shape")
    assert "local_useless_specify_shape" not in f.rewrite_report()
    with pytest.raises(Exception, match="specify_shape"):
        f(np.ones((3, 3)))


def test_useless_unbroadcast(mode):
    x = T.dmatrix("x")
    r = T.row("r")
    outs = [T.exp(Unbroadcast(0)(x)), T.unbroadcast(r, 0)]
    f, ref = _compile(mode, [x, r], outs, "local_useless_unbroadcast")
    assert f.rewrite_report()["local_useless_unbroadcast"] == 1
    # the one that forgets r's length-1 dimension stays
    assert [type(op) for op in _ops(f)].count(Unbroadcast) == 1
    _same(f, ref, EDGES[:6].reshape(2, 3), EDGES[None, :3])


def test_useless_alloc(mode):
    x = T.tensor(dtype="float64", shape=(2, 3), name="x")
    y = T.dmatrix("y")
    outs = [T.exp(T.alloc(x, 2, 3)),
            T.alloc(x, 4, 2, 3),   # adds a dimension: stays
            T.alloc(y, 2, 3),      # y's shape is not known statically: stays (checked)
            T.alloc(x[0:1], 2, 3)]  # broadcasts a row: stays
    f, ref = _compile(mode, [x, y], outs, "local_useless_alloc")
    assert f.rewrite_report()["local_useless_alloc"] == 1
    assert [type(op) for op in _ops(f)].count(Alloc) == 3
    v = np.array([[0.0, -1.0, np.inf], [np.nan, 1e300, -0.0]])
    _same(f, ref, v, v)
    with pytest.raises(Exception):
        f(v, np.ones((3, 3)))


def test_useless_switch(mode):
    x = T.dvector("x")
    y = T.dvector("y")
    ib = T.ivector("ib")
    outs = [T.switch(T.constant(True), x, y),
            T.switch(T.constant(np.array([0, 0, 0], dtype="int8")), x, y),
            T.switch(1, ib, x),                         # chosen branch cast to float64
            T.switch(T.constant(np.ones((2, 1), dtype=bool)), x, y)]  # broadcast to (2, n)
    f, ref = _compile(mode, [x, y, ib], outs, "local_useless_switch")
    assert f.rewrite_report()["local_useless_switch"] == 4
    assert not any(isinstance(op, Elemwise) and op.scalar_op.name == "switch" for op in _ops(f))
    for o, fo in zip(outs, f.maker.fgraph.outputs):
        assert o.type.is_super(fo.type)
    _same(f, ref, EDGES[:3], -EDGES[:3], np.array([1, -2, 3], dtype="int32"))


def test_useless_switch_does_not_fire_on_mixed_or_symbolic_conditions(mode):
    x = T.dvector("x")
    y = T.dvector("y")
    c = T.bvector("c")
    outs = [T.switch(T.constant(np.array([True, False, True])), x, y), T.switch(c, x, y)]
    f, ref = _compile(mode, [x, y, c], outs, "local_useless_switch")
    assert "local_useless_switch" not in f.rewrite_report()
    _same(f, ref, EDGES[:3], -EDGES[:3], np.array([1, 0, 1], dtype="int8"))


@pytest.mark.parametrize("modifier", [
    disconnected_grad, zero_grad, consider_constant,
    lambda v: grad_clip(v, -1.0, 1.0), lambda v: grad_scale(v, 2.0)])
def test_useless_grad_modifiers(mode, modifier):
    x = T.dvector("x")
    f, ref = _compile(mode, [x], T.exp(modifier(x)), "local_useless_grad_modifier")
    assert f.rewrite_report()["local_useless_grad_modifier"] == 1
    assert _elemwise_names(f) == ["exp"] and len(_ops(f)) == 1
    _same(f, ref, EDGES)


def test_grad_modifiers_still_shape_gradients():
    # the rewrite runs on the compiled graph, after grad() has used the modifiers
    x = T.dvector("x")
    g = sg.grad(T.sum(grad_scale(x, -2.0) ** 2), x)
    f = sg.function([x], g)
    np.testing.assert_allclose(f(np.array([1.0, -3.0])), [-4.0, 12.0])


def test_useless_subtensor(mode):
    x = T.dmatrix("x")
    outs = [T.exp(x[:]), T.exp(x[:, :]), T.exp(x[0:, ::1])]
    f, ref = _compile(mode, [x], outs, "local_useless_subtensor")
    assert f.rewrite_report()["local_useless_subtensor"] == 3
    assert not any(isinstance(op, Subtensor) for op in _ops(f))
    _same(f, ref, EDGES[:6].reshape(2, 3))


def test_useless_subtensor_does_not_fire_on_real_slices(mode):
    x = T.dmatrix("x")
    i = T.lscalar("i")
    outs = [x[1:], x[:, ::-1], x[0], x[i:], x[:-1]]
    f, ref = _compile(mode, [x, i], outs, "local_useless_subtensor")
    assert "local_useless_subtensor" not in f.rewrite_report()
    assert [type(op) for op in _ops(f)].count(Subtensor) == 5
    _same(f, ref, EDGES[:6].reshape(2, 3), 1)


def test_useless_rewrites_in_the_full_pipeline(mode):
    x = T.dvector("x")
    out = T.identity(disconnected_grad(x))[:] * T.switch(1, 2.0, x)
    f, ref = _compile(mode, [x], out)
    rep = f.rewrite_report()
    assert rep.get("local_useless_identity", 0) + rep.get("local_useless_grad_modifier", 0) \
        + rep.get("local_useless_subtensor", 0) >= 2
    assert not any(isinstance(op, Subtensor) for op in _ops(f))
    _same(f, ref, EDGES)


def test_rewritten_types_match():
    """Every replacement keeps dtype and rank (FunctionGraph refuses others); the
    outputs' static shapes are at least as precise as the originals."""
    x = T.tensor(dtype="float32", shape=(2, None), name="x")
    outs = [T.identity(x), T.switch(True, x, 1.0), T.alloc(T.constant(np.ones(3, "float32")), 3)]
    f = sg.function([x], outs)
    for o, fo in zip(outs, f.maker.fgraph.outputs):
        assert isinstance(fo.type, TensorType)
        assert fo.type.dtype == o.type.dtype and fo.type.ndim == o.type.ndim
        assert o.type.is_super(fo.type)


class _Big(Op):
    """A vector of unknown static length; infer_shape says how long it will be."""

    __props__ = ()
    calls = 0

    def make_node(self, n):
        return Apply(self, [n], [T.dvector()])

    def perform(self, node, inputs, output_storage):
        type(self).calls += 1
        output_storage[0][0] = np.zeros(int(inputs[0]))

    def infer_shape(self, fgraph, node, input_shapes):
        return [(node.inputs[0],)]


def test_constant_folding_predicts_large_results_without_computing(mode):
    _Big.calls = 0
    big = _Big()(T.constant(CONSTANT_FOLDING_LIMIT + 1, dtype="int64"))
    small = _Big()(T.constant(3, dtype="int64"))
    f = sg.function([], [big, small], mode=Mode(mode, optimizer="local_constant_folding"))
    assert f.rewrite_report()["local_constant_folding"] == 1
    assert _Big.calls == 1  # only the small one ran, at compile time
    assert [type(op) for op in _ops(f)] == [_Big]
    assert [r.shape for r in f()] == [(CONSTANT_FOLDING_LIMIT + 1,), (3,)]
