"""Elementwise fusion: groups of Elemwise nodes become one Elemwise over a Composite."""

from collections import Counter

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgraph as sg
import symgraph.tensor as T
from symgraph.compile.mode import Mode
from symgraph.graph.fg import FunctionGraph
from symgraph.scalar.composite import Composite
from symgraph.tensor.elemwise import DimShuffle, Elemwise
from symgraph.tensor.rewriting.fusion import MAX_FUSION_INPUTS, FusionRewriter

FLOAT_EDGES = [0.0, -0.0, -1.5, 2.0, 1e300, -1e300, np.nan, np.inf, -np.inf, 1e-310, 3.0, -7.0]


def edge_array(shape, dtype="float64", seed=0):
    """An array of ``shape`` holding edge values (0, negative, large, NaN, inf) and randoms."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if np.dtype(dtype).kind == "f":
        pool = np.array(FLOAT_EDGES + list(rng.normal(size=8) * 10))
    elif np.dtype(dtype).kind == "b":
        pool = np.array([True, False])
    else:
        info = np.iinfo(dtype)
        pool = np.array([0, -1, 1, 2, info.min, info.max, 5, -7], dtype="int64")
        pool = pool[(pool >= info.min) & (pool <= info.max)]
    vals = np.resize(rng.permutation(pool), n)
    with np.errstate(all="ignore"):
        return vals.astype(dtype).reshape(shape)


def fused_nodes(f):
    return [n for n in f.maker.fgraph.apply_nodes
            if isinstance(n.op, Elemwise) and isinstance(n.op.scalar_op, Composite)]


def elemwise_nodes(f):
    return [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Elemwise)]


def only_fusion(linker):
    """A mode running the fusion rewrite alone (the rest of the pipeline off)."""
    return Mode(linker, "elemwise_fusion")


def check_same(f, ref, args, rtol=0.0):
    """Outputs of ``f`` equal those of ``ref``: dtype, shape, NaN and inf positions, values."""
    got, want = f(*args), ref(*args)
    if not isinstance(got, list):
        got, want = [got], [want]
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, g.shape, w.dtype, w.shape)
        if rtol == 0.0 or g.dtype.kind not in "fc":
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=rtol, atol=0)


# ----------------------------------------------------------------------- the main case

def test_chain_with_broadcasting_becomes_one_composite(mode):
    x = T.dmatrix("x", shape=(3, 1))
    y = T.dmatrix("y", shape=(1, 4))
    z = T.dvector("z", shape=(4,))
    out = T.exp(x * y + 1) - z
    f = sg.function([x, y, z], out, mode=Mode(mode))
    ref = sg.function([x, y, z], out, mode=Mode(mode, optimizer=None))
    assert f.rewrite_report().get("elemwise_fusion", 0) >= 1
    (node,) = elemwise_nodes(f)
    assert isinstance(node.op.scalar_op, Composite)
    assert f.maker.fgraph.outputs[0].type == out.type  # float64, static shape (3, 4)
    assert f.maker.fgraph.outputs[0].type.shape == (3, 4)
    # the leaves: x, y and z made 2-d by a DimShuffle that stays outside; 1 goes inside
    assert len(node.inputs) == 3
    others = [n for n in f.maker.fgraph.apply_nodes if n is not node]
    assert all(isinstance(n.op, DimShuffle) for n in others)
    assert "exp" in node.op.scalar_op.name
    args = [edge_array((3, 1), seed=1), edge_array((1, 4), seed=2), edge_array((4,), seed=3)]
    check_same(f, ref, args, rtol=1e-15)
    check_same(f, ref, [np.zeros((3, 1)), -np.ones((1, 4)), np.full(4, 1e308)], rtol=1e-15)


def test_fusion_alone_gives_exactly_the_interpreter_values(mode):
    x = T.dmatrix("x", shape=(3, 1))
    y = T.dmatrix("y", shape=(1, 4))
    z = T.dvector("z", shape=(4,))
    out = T.exp(x * y + 1) - z
    f = sg.function([x, y, z], out, mode=only_fusion(mode))
    ref = sg.function([x, y, z], out, mode=Mode(mode, optimizer=None))
    assert f.rewrite_report() == {"elemwise_fusion": 1}
    (node,) = fused_nodes(f)
    assert node.op.scalar_op.name == "Composite{sub(exp(add(mul(i0, i1), 1.0)), i2)}"
    check_same(f, ref, [edge_array((3, 1), seed=4), edge_array((1, 4), seed=5),
                        edge_array((4,), seed=6)])


def test_static_shape_is_kept_exactly():
    x = T.dmatrix("x", shape=(None, 1))
    y = T.dmatrix("y", shape=(1, 5))
    out = T.tanh(x + y) * 2
    f = sg.function([x, y], out, mode=only_fusion("py"))
    (node,) = fused_nodes(f)
    assert node.outputs[0].type.shape == (None, 5)
    assert f.maker.fgraph.outputs[0].type == out.type


# ----------------------------------------------------------------------- shared producers

def test_producer_with_two_clients_becomes_an_extra_output(mode):
    x, y = T.dvectors("x", "y")
    t = x * y                      # used by the output list and by exp(t) + y
    out = T.exp(t) + y
    f = sg.function([x, y], [t, out], mode=only_fusion(mode))
    ref = sg.function([x, y], [t, out], mode=Mode(mode, optimizer=None))
    (node,) = elemwise_nodes(f)
    assert len(node.outputs) == 2 and isinstance(node.op.scalar_op, Composite)
    assert node.op.scalar_op.name == "Composite{t0=mul(i0, i1); add(exp(t0), i1), t0}"
    args = [edge_array((12,), seed=7), edge_array((12,), seed=8)]
    check_same(f, ref, args)
    f2 = sg.function([x, y], [t, out], mode=Mode(mode))
    check_same(f2, ref, args, rtol=1e-15)


def test_producer_shared_by_two_fused_consumers(mode):
    x, y = T.dvectors("x", "y")
    t = x * y
    out1 = T.exp(t) + 1
    out2 = T.log(t) * 2
    f = sg.function([x, y], [out1, out2], mode=only_fusion(mode))
    ref = sg.function([x, y], [out1, out2], mode=Mode(mode, optimizer=None))
    f.maker.fgraph.check_integrity()
    nodes = elemwise_nodes(f)
    # t is computed once, as the extra output of one of the two fused consumers
    assert len(nodes) == 2 and all(isinstance(n.op.scalar_op, Composite) for n in nodes)
    assert sorted(len(n.outputs) for n in nodes) == [1, 2]
    check_same(f, ref, [edge_array((12,), seed=17), edge_array((12,), seed=18)])


def test_producer_with_two_clients_stays_an_input_without_multi_output():
    x, y = T.dvectors("x", "y")
    t = x * y
    out1 = T.exp(t) + 1
    out2 = T.log(t) * 2
    fg = FunctionGraph([x, y], [out1, out2])
    report = FusionRewriter(multi_output=False).rewrite(fg)
    assert report == {"elemwise_fusion": 2}
    ops = Counter(str(n.op) for n in fg.apply_nodes)
    # mul is computed once, then two fused consumers read it
    assert ops == Counter({"mul": 1, "Composite{add(exp(i0), 1.0)}": 1,
                           "Composite{mul(log(i0), 2.0)}": 1})


def test_diamond_is_fused_with_the_shared_value_computed_once(mode):
    x, y = T.dvectors("x", "y")
    t = x * y
    out = T.exp(t) + T.log(t) * t
    f = sg.function([x, y], out, mode=only_fusion(mode))
    ref = sg.function([x, y], out, mode=Mode(mode, optimizer=None))
    (node,) = elemwise_nodes(f)
    comp = node.op.scalar_op
    assert [n.op.name for n in comp.nodes].count("mul") == 2  # t, and log(t) * t
    assert comp.name.startswith("Composite{t0=mul(i0, i1); ")
    check_same(f, ref, [edge_array((12,), seed=9), edge_array((12,), seed=10)])


def test_no_cycle_when_a_producer_also_feeds_a_reduction(mode):
    x = T.dvector("x")
    t = T.exp(x)
    out = (t + t.sum()) * 2  # t's sum is an input of the group: t must stay outside
    f = sg.function([x], out, mode=only_fusion(mode))
    ref = sg.function([x], out, mode=Mode(mode, optimizer=None))
    f.maker.fgraph.check_integrity()
    names = sorted(str(n.op) for n in elemwise_nodes(f))
    assert names == ["Composite{mul(add(i0, i1), 2.0)}", "exp"]
    check_same(f, ref, [edge_array((6,), seed=11)])
    check_same(f, ref, [np.array([0.0, -1.0, 2.5])])


# ----------------------------------------------------------------------- dtypes and ops

def test_mixed_dtypes_int8_with_float32(mode):
    a = T.bvector("a")    # int8
    b = T.fvector("b")    # float32
    out = T.exp(a * 100 + b) - a  # a * 100 wraps around in int8 before joining b
    assert out.dtype == "float32"
    f = sg.function([a, b], out, mode=Mode(mode))
    ref = sg.function([a, b], out, mode=Mode(mode, optimizer=None))
    assert f.rewrite_report().get("elemwise_fusion", 0) >= 1
    (node,) = elemwise_nodes(f)
    assert node.op.scalar_op.input_dtypes == ("int8", "float32")
    assert node.outputs[0].dtype == "float32"
    args = [edge_array((10,), "int8", seed=12), edge_array((10,), "float32", seed=13)]
    check_same(f, ref, args)
    check_same(f, ref, [np.array([127, -128, 0, 1], "int8"),
                        np.array([np.nan, np.inf, -np.inf, -0.0], "float32")])


def test_switch_inside(mode):
    x = T.dvector("x")
    y = T.dvector("y")
    out = T.switch(x > 0, T.log(x), -x * y) + 1
    f = sg.function([x, y], out, mode=Mode(mode))
    ref = sg.function([x, y], out, mode=Mode(mode, optimizer=None))
    (node,) = elemwise_nodes(f)
    assert "switch" in node.op.scalar_op.name
    assert "log" in node.op.scalar_op.name
    check_same(f, ref, [edge_array((12,), seed=14), edge_array((12,), seed=15)], rtol=1e-15)


def test_bool_and_integer_chain(mode):
    i = T.lvector("i")
    out = T.switch((i > 2) & (i < 100), i * 3, -i) // 2
    f = sg.function([i], out, mode=Mode(mode))
    ref = sg.function([i], out, mode=Mode(mode, optimizer=None))
    assert len(fused_nodes(f)) == 1
    check_same(f, ref, [edge_array((8,), "int64", seed=16)])


# ----------------------------------------------------------------------- leaves

def test_leaves_are_deduplicated_and_size_one_constants_go_inside():
    x = T.dmatrix("x")
    out = x * x + x * 2.5 - 1
    f = sg.function([x], out, mode=only_fusion("py"))
    (node,) = fused_nodes(f)
    assert node.inputs == [f.maker.fgraph.inputs[0]]
    assert "2.5" in node.op.scalar_op.name


def test_a_constant_array_stays_an_input(mode):
    x = T.dvector("x", shape=(3,))
    c = np.array([1.0, -np.inf, np.nan])
    out = T.exp(x) * c + 1
    f = sg.function([x], out, mode=only_fusion(mode))
    ref = sg.function([x], out, mode=Mode(mode, optimizer=None))
    (node,) = fused_nodes(f)
    assert len(node.inputs) == 2
    check_same(f, ref, [np.array([0.0, 1.0, -2.0])])


def test_the_number_of_inputs_is_capped(mode):
    xs = [T.dvector(f"x{k}") for k in range(MAX_FUSION_INPUTS + 8)]
    out = xs[0]
    for v in xs[1:]:
        out = out * 0.5 + v
    f = sg.function(xs, out, mode=only_fusion(mode))
    ref = sg.function(xs, out, mode=Mode(mode, optimizer=None))
    nodes = fused_nodes(f)
    assert len(nodes) >= 2
    assert all(len(n.inputs) <= MAX_FUSION_INPUTS for n in nodes)
    assert not [n for n in elemwise_nodes(f) if n not in nodes]
    args = [edge_array((4,), seed=k) for k in range(len(xs))]
    check_same(f, ref, args)


def test_a_fused_node_absorbs_into_a_later_fusion_and_inlines_it():
    x, y = T.dvectors("x", "y")
    first = sg.function([x, y], T.exp(x * y), mode=only_fusion("py"))
    (node,) = fused_nodes(first)
    inner = node.op
    z = T.dvector("z")
    out = T.log(inner(x, y) + z)
    f = sg.function([x, y, z], out, mode=only_fusion("py"))
    (fused,) = elemwise_nodes(f)
    direct = sg.function([x, y, z], T.log(T.exp(x * y) + z), mode=only_fusion("py"))
    (direct_node,) = elemwise_nodes(direct)
    # inlined: the same Composite as fusing the whole expression at once
    assert fused.op == direct_node.op and hash(fused.op) == hash(direct_node.op)
    args = [np.array([0.0, 1.0, np.nan]), np.array([2.0, -1.0, 1.0]), np.array([1.0, 0.0, 2.0])]
    np.testing.assert_array_equal(f(*args), direct(*args))


def test_two_fusions_of_the_same_expression_give_equal_ops():
    def build():
        x, y = T.dvectors("x", "y")
        return sg.function([x, y], T.tanh(x + y) * x, mode=only_fusion("py"))
    (a,), (b,) = fused_nodes(build()), fused_nodes(build())
    assert a.op == b.op and hash(a.op) == hash(b.op)


def test_identical_fused_subexpressions_are_merged():
    x, y = T.dvectors("x", "y")
    out1 = T.exp(x + y) * 2
    out2 = T.exp(y + x) * 2  # the same expression on swapped leaves
    alone = sg.function([x, y], [out1, out2], mode=only_fusion("py"))
    a, b = fused_nodes(alone)
    assert a.op == b.op and a.inputs != b.inputs  # one Composite, two applications
    # the whole pipeline sorts the add's inputs, fuses, and the final merge keeps one node
    f = sg.function([x, y], [out1, out2], mode=Mode("py"))
    assert len(fused_nodes(f)) == 1
    assert f.maker.fgraph.outputs[0] is f.maker.fgraph.outputs[1]


# ----------------------------------------------------------------------- must not fire

def test_a_single_elemwise_is_left_alone():
    x = T.dvector("x")
    f = sg.function([x], T.exp(x), mode=only_fusion("py"))
    assert f.rewrite_report() == {}
    assert not fused_nodes(f)


def test_no_fusion_across_non_elemwise_ops(mode):
    x = T.dmatrix("x")
    out = T.exp(T.sum(T.tanh(x), axis=0))  # tanh | Sum | exp
    out2 = T.log(T.exp(x).T)                # exp | DimShuffle | log
    f = sg.function([x], [out, out2], mode=only_fusion(mode))
    ref = sg.function([x], [out, out2], mode=Mode(mode, optimizer=None))
    assert f.rewrite_report() == {}
    assert not fused_nodes(f)
    check_same(f, ref, [edge_array((3, 4), seed=20)])


def test_no_fusion_when_rewrites_are_off():
    x = T.dvector("x")
    f = sg.function([x], T.exp(x) + 1, mode=Mode("py", optimizer=None))
    assert not fused_nodes(f) and f.rewrite_report() == {}


def test_inputs_are_never_modified(mode):
    x = T.dvector("x")
    f = sg.function([x], [x, T.exp(x) * 2 + x], mode=Mode(mode))
    v = np.array([0.0, -1.0, np.inf])
    keep = v.copy()
    a, b = f(v)
    np.testing.assert_array_equal(v, keep)
    np.testing.assert_array_equal(a, keep)


def test_an_output_of_the_graph_in_the_middle_of_a_chain(mode):
    x = T.dvector("x")
    a = T.exp(x)
    b = T.log(a + 1)
    c = b * b
    f = sg.function([x], [a, c, b], mode=only_fusion(mode))
    ref = sg.function([x], [a, c, b], mode=Mode(mode, optimizer=None))
    assert len(elemwise_nodes(f)) == 1
    check_same(f, ref, [edge_array((12,), seed=21)])


# ----------------------------------------------------------------------- a training step

def _rmsprop_mlp_step(mode, seed=0):
    """A 2-layer MLP (tanh, softmax cross-entropy) training step with RMSprop updates."""
    rng = np.random.default_rng(seed)
    x = T.dmatrix("x")
    y = T.lvector("y")
    shapes = {"W1": (4, 6), "b1": (6,), "W2": (6, 3), "b2": (3,)}
    params = [sg.shared(rng.normal(scale=0.5, size=shp) if len(shp) == 2 else np.zeros(shp),
                        name=name) for name, shp in shapes.items()]
    accs = [sg.shared(np.zeros(p.get_value().shape), name="acc_" + p.name) for p in params]
    W1, b1, W2, b2 = params
    h = T.tanh(T.dot(x, W1) + b1)
    p = T.nnet.softmax(T.dot(h, W2) + b2)
    loss = T.nnet.categorical_crossentropy(p, y).mean()
    grads = T.grad(loss, params)
    lr, rho, eps = 0.05, 0.9, 1e-6
    updates = []
    for q, acc, g in zip(params, accs, grads):
        acc_new = rho * acc + (1 - rho) * g ** 2
        updates += [(acc, acc_new), (q, q - lr * g / T.sqrt(acc_new + eps))]
    step = sg.function([x, y], loss, updates=updates, mode=mode)
    return step, params + accs


def _counts(step):
    nodes = step.maker.fgraph.apply_nodes
    return len(nodes), sum(isinstance(n.op, Elemwise) for n in nodes)


def test_mlp_rmsprop_step_fuses_its_update_arithmetic(mode):
    plain, plain_vars = _rmsprop_mlp_step(Mode(mode, optimizer=None))
    fused, fused_vars = _rmsprop_mlp_step(Mode(mode))
    n_plain, e_plain = _counts(plain)
    n_fused, e_fused = _counts(fused)
    assert fused.rewrite_report().get("elemwise_fusion", 0) >= 4
    assert n_fused < n_plain and e_fused < e_plain / 3
    # each parameter's update is one node with two outputs: the new accumulator and value
    two_out = [n for n in fused_nodes(fused) if len(n.outputs) == 2]
    assert len(two_out) >= 4
    rng = np.random.default_rng(3)
    xv = rng.normal(size=(10, 4))
    yv = rng.integers(0, 3, size=10)
    for _ in range(3):
        np.testing.assert_allclose(fused(xv, yv), plain(xv, yv), rtol=1e-10)
    for a, b in zip(fused_vars, plain_vars):
        np.testing.assert_allclose(a.get_value(), b.get_value(), rtol=1e-9, atol=1e-14)
    # NaN and inf flow through both in the same places
    xbad = xv.copy()
    xbad[0, 0], xbad[1, 1] = np.nan, np.inf
    with np.errstate(all="ignore"):
        lf, lp = fused(xbad, yv), plain(xbad, yv)
    assert np.isnan(lf) and np.isnan(lp)
    for a, b in zip(fused_vars, plain_vars):
        np.testing.assert_array_equal(np.isnan(a.get_value()), np.isnan(b.get_value()))


def test_mlp_rmsprop_step_fusion_alone_keeps_exact_values():
    plain, plain_vars = _rmsprop_mlp_step(Mode("py", optimizer=None))
    fused, fused_vars = _rmsprop_mlp_step(only_fusion("py"))
    assert _counts(fused)[1] < _counts(plain)[1]
    rng = np.random.default_rng(4)
    xv, yv = rng.normal(size=(8, 4)), rng.integers(0, 3, size=8)
    for _ in range(2):
        np.testing.assert_array_equal(fused(xv, yv), plain(xv, yv))
    for a, b in zip(fused_vars, plain_vars):
        np.testing.assert_array_equal(a.get_value(), b.get_value())


# ----------------------------------------------------------------------- random graphs

_UNARY = [T.exp, T.tanh, T.neg, T.abs, T.sqr, T.log, T.sqrt, T.sigmoid]
_BINARY = [T.add, T.sub, T.mul, T.true_div, T.maximum]
_SHAPES = [(3, 1), (1, 4), (3, 4)]


@st.composite
def _expressions(draw):
    """A random elementwise expression over three broadcasting inputs, as a build plan."""
    plan = []
    n = draw(st.integers(2, 9))
    for k in range(n):
        kind = draw(st.sampled_from(["unary", "binary", "switch", "const"]))
        avail = 3 + k
        pick = st.integers(0, avail - 1)
        if kind == "unary":
            plan.append(("unary", draw(st.integers(0, len(_UNARY) - 1)), draw(pick)))
        elif kind == "binary":
            plan.append(("binary", draw(st.integers(0, len(_BINARY) - 1)), draw(pick),
                         draw(pick)))
        elif kind == "switch":
            plan.append(("switch", draw(pick), draw(pick), draw(pick)))
        else:
            plan.append(("const", draw(st.sampled_from([0.0, -1.0, 2.5, np.inf])), draw(pick)))
    outs = draw(st.lists(st.integers(0, 3 + n - 1), min_size=1, max_size=3, unique=True))
    return plan, outs


def _build(plan, outs):
    xs = [T.dmatrix(f"x{k}", shape=s) for k, s in enumerate(_SHAPES)]
    vs = list(xs)
    for step in plan:
        if step[0] == "unary":
            vs.append(_UNARY[step[1]](vs[step[2]]))
        elif step[0] == "binary":
            vs.append(_BINARY[step[1]](vs[step[2]], vs[step[3]]))
        elif step[0] == "switch":
            vs.append(T.switch(vs[step[1]] > 0, vs[step[2]], vs[step[3]]))
        else:
            vs.append(vs[step[2]] * step[1])
    return xs, [vs[k] for k in outs]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_expressions(), st.integers(0, 1000))
def test_random_expression_graphs_keep_their_values(expr, seed):
    plan, outs = expr
    xs, ys = _build(plan, outs)
    f = sg.function(xs, ys, mode=only_fusion("py"), on_unused_input="ignore")
    ref = sg.function(xs, ys, mode=Mode("py", optimizer=None), on_unused_input="ignore")
    f.maker.fgraph.check_integrity()
    for o, want in zip(f.maker.fgraph.outputs, ys):
        assert o.type == want.type
    args = [edge_array(s, seed=seed + k) for k, s in enumerate(_SHAPES)]
    check_same(f, ref, args)
