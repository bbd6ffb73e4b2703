"""Canonicalizing rewrites (symgraph/tensor/rewriting/math.py): each fires on its
pattern, leaves values unchanged (against the same function without rewrites, on edge
values: 0, negatives, large, inf, NaN), and does not fire where it must not.

Structure is checked with only the rewrite under test (plus merge) selected, so
other phases (fusion, specialize ...) do not reshape the graph being inspected.
"""

import warnings

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph import config
from symgraph.compile.mode import Mode
from symgraph.scalar.basic import Cast
from symgraph.tensor.creation import Alloc
from symgraph.tensor.elemwise import DimShuffle, Elemwise
from symgraph.tensor.reduction import CAReduce
from symgraph.tensor.shape import Reshape

EDGE = np.array([0.0, -1.5, 2.5, 1e300, -1e3, np.inf, -np.inf, np.nan])


@pytest.fixture(autouse=True)
def _raise_on_rewrite_errors():
    old = config.on_opt_error
    config.on_opt_error = "raise"  # a failing rewrite must fail the test, not warn
    yield
    config.on_opt_error = old


def compile_both(mode, inputs, outputs, *rewrites):
    """(rewritten with only ``rewrites`` and merge, not rewritten) functions."""
    only = Mode(mode, optimizer=rewrites[0], include=rewrites[1:] + ("merge",))
    fast = sg.function(inputs, outputs, mode=only, on_unused_input="ignore")
    ref = sg.function(inputs, outputs, mode=Mode(mode, optimizer=None),
                      on_unused_input="ignore")
    return fast, ref


def same_values(fast, ref, *values, rtol=1e-12):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, want = fast(*values), ref(*values)
    if not isinstance(got, list):
        got, want = [got], [want]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, atol=0, equal_nan=True)
    return got


def scalar_ops(f):
    """The scalar op names of the Elemwise nodes, in topological order."""
    return [n.op.scalar_op.name for n in f.maker.fgraph.toposort() if isinstance(n.op, Elemwise)]


def nodes(f, op_class):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, op_class)]


def fired(f, name):
    return f.rewrite_report().get(name, 0)


# =========================================================================== sums

def test_add_flattens_sorts_and_merges(mode):
    x, y, z = T.dvectors("x", "y", "z")
    fast, ref = compile_both(mode, [x, y, z], [(x + y) + z, z + (y + x), y + (z + x)],
                             "local_add_canonize")
    assert fired(fast, "local_add_canonize") >= 2
    outs = fast.maker.fgraph.outputs
    assert outs[0] is outs[1] is outs[2]  # one canonical order, merged
    assert scalar_ops(fast) == ["add", "add"]
    v = [EDGE, EDGE[::-1], np.roll(EDGE, 3)]
    same_values(fast, ref, *v)


def test_add_folds_constants_last_and_keeps_subtraction(mode):
    x, y = T.dvectors("x", "y")
    outs = [(x + 1) - (y - 2) + 3, 1 + x, 1 - x, (x - 1) + (-2), x + (-1.0)]
    fast, ref = compile_both(mode, [x, y], outs, "local_add_canonize")
    assert fired(fast, "local_add_canonize") >= 4
    o = fast.maker.fgraph.outputs
    # x - y + 6: the constant folded, last
    assert o[0].owner.op.scalar_op.name == "add"
    assert float(o[0].owner.inputs[1].data.item()) == 6.0
    assert o[0].owner.inputs[0].owner.op.scalar_op.name == "sub"
    assert o[1].owner.inputs[0] is fast.maker.fgraph.inputs[0]  # x + 1
    assert o[2].owner.op.scalar_op.name == "sub"  # 1 - x stays
    assert o[3].owner.op.scalar_op.name == "sub" and float(o[3].owner.inputs[1].data.item()) == 3
    assert o[4].owner.op.scalar_op.name == "sub"  # x + (-1) -> x - 1
    same_values(fast, ref, EDGE, EDGE[::-1])


def test_add_drops_zeros_and_double_negation(mode):
    x, y = T.dvectors("x", "y")
    outs = [x + 0, 0 + x, x - 0, -(-x), x + (-y), x - (-y), -x + y, -x - y]
    fast, ref = compile_both(mode, [x, y], outs, "local_add_canonize")
    o = fast.maker.fgraph.outputs
    xin, yin = fast.maker.fgraph.inputs
    assert o[0] is xin and o[1] is xin and o[2] is xin and o[3] is xin
    assert o[4].owner.op.scalar_op.name == "sub" and o[4].owner.inputs == [xin, yin]
    assert o[5].owner.op.scalar_op.name == "add"
    assert o[6].owner.op.scalar_op.name == "sub" and o[6].owner.inputs == [yin, xin]
    assert o[7].owner.op.scalar_op.name == "neg"  # -(x + y): one neg, one add
    assert fired(fast, "local_add_canonize") >= 7
    same_values(fast, ref, EDGE, np.roll(EDGE, 1))


def test_add_cancels_integers_but_not_floats(mode):
    i, j = T.lvectors("i", "j")
    x = T.dvector("x")
    fast, ref = compile_both(mode, [i, j, x], [i - i, (i + j) - i, x - x, (x + 1) - x],
                             "local_add_canonize")
    o = fast.maker.fgraph.outputs
    assert isinstance(o[0].owner.op, Alloc)  # zeros shaped like i
    assert o[1] is fast.maker.fgraph.inputs[1]  # (i + j) - i -> j, exact with wrap-around
    # x - x is nan at x = inf or nan: left as it is
    assert o[2].owner.op.scalar_op.name == "sub" and o[2].owner.inputs[0] is o[2].owner.inputs[1]
    iv = np.array([0, -3, 2 ** 62, -2 ** 63, 7, 1, 2, 3], dtype="int64")
    jv = np.array([2 ** 62, 5, 2 ** 62, -1, 0, 1, 2, 3], dtype="int64")
    # (x + 1) - x becomes (x - x) + 1: reassociated, so not at x = 1e300, where the
    # original absorbs the 1 (0, where the rewritten graph gives the exact 1)
    xv = np.where(np.abs(EDGE) == 1e300, 1e3, EDGE)
    got = same_values(fast, ref, iv, jv, xv)
    assert np.isnan(got[2][-1]) and np.isnan(got[2][-3])


def test_add_keeps_dtype_of_every_partial_sum(mode):
    a = T.vector("a", dtype="int8")
    b = T.vector("b", dtype="int16")
    c = T.vector("c", dtype="int8")
    zero16 = T.constant(np.zeros(1, dtype="int16"))
    outs = [a + (b - c), a + (zero16 - c), a + zero16]
    fast, ref = compile_both(mode, [a, b, c], outs, "local_add_canonize")
    assert [o.dtype for o in fast.maker.fgraph.outputs] == ["int16"] * 3
    assert fired(fast, "local_add_canonize") >= 2
    av = np.array([100, -128, 127, 0], dtype="int8")
    bv = np.array([0, 0, 30000, -5], dtype="int16")
    cv = np.array([-100, 127, -128, 0], dtype="int8")
    got = same_values(fast, ref, av, bv, cv)
    assert got[1][0] == 200  # not 100 - (-100) wrapped in int8


def test_add_keeps_a_zero_that_broadcasts(mode):
    x = T.dvector("x", shape=(3,))
    zeros = T.constant(np.zeros((2, 3)))
    fast, ref = compile_both(mode, [x], [x + zeros, T.shape_padleft(x) + zeros],
                             "local_add_canonize")
    assert fired(fast, "local_add_canonize") == 0
    got = same_values(fast, ref, np.array([1.0, -np.inf, np.nan]))
    assert got[0].shape == (2, 3)


# =========================================================================== products

def test_mul_flattens_sorts_and_merges(mode):
    x, y, z = T.dvectors("x", "y", "z")
    fast, ref = compile_both(mode, [x, y, z], [(x * y) * z, z * (y * x), (x / y) / z],
                             "local_mul_canonize")
    assert fired(fast, "local_mul_canonize") >= 2
    o = fast.maker.fgraph.outputs
    assert o[0] is o[1]
    # x / (y * z): one division
    assert o[2].owner.op.scalar_op.name == "true_div"
    assert o[2].owner.inputs[1].owner.op.scalar_op.name == "mul"
    same_values(fast, ref, EDGE, np.roll(EDGE, 2), np.roll(EDGE, 5), rtol=1e-12)


def test_mul_folds_constants_and_signs(mode):
    x, y = T.dvectors("x", "y")
    outs = [x * 2 * y / 2 * (-1), x * 1.0, x / 1.0, 1.0 * x, x * (-1.0), (-x) * (-y),
            x * 3 * 4, -(x * y) * y]
    fast, ref = compile_both(mode, [x, y], outs, "local_mul_canonize")
    o = fast.maker.fgraph.outputs
    xin = fast.maker.fgraph.inputs[0]
    assert o[0].owner.op.scalar_op.name == "neg"
    assert o[0].owner.inputs[0].owner.op.scalar_op.name == "mul"
    assert o[1] is xin and o[2] is xin and o[3] is xin
    assert o[4].owner.op.scalar_op.name == "neg" and o[4].owner.inputs[0] is xin
    assert o[5].owner.op.scalar_op.name == "mul"
    assert float(o[6].owner.inputs[1].data.item()) == 12.0
    assert o[7].owner.op.scalar_op.name == "neg"  # the sign pulled out
    same_values(fast, ref, EDGE, np.roll(EDGE, 3))


def test_mul_cancels_x_over_x_only_when_finite_and_nonzero(mode):
    x = T.dvector("x")
    n = T.lscalar("n")
    two = T.alloc(2.0, n)  # known finite and nonzero
    fast, ref = compile_both(mode, [x, n], [x / x, (x * two) / two, (x * x) / x],
                             "local_mul_canonize")
    o = fast.maker.fgraph.outputs
    assert o[0].owner.op.scalar_op.name == "true_div"  # x / x: nan at 0, inf, nan
    assert o[1] is fast.maker.fgraph.inputs[0]
    assert o[2].owner.op.scalar_op.name == "true_div"
    got = same_values(fast, ref, EDGE, np.int64(len(EDGE)))
    assert np.isnan(got[0][0]) and got[0][1] == 1.0


def test_mul_leaves_complex_alone(mode):
    z = T.zvector("z")
    fast, ref = compile_both(mode, [z], [z * 1.0, z * (-1.0)], "local_mul_canonize")
    assert fired(fast, "local_mul_canonize") == 0
    same_values(fast, ref, np.array([np.inf + 1j, 1 - 2j, complex(np.nan, 0)]))


def test_mul_integer_and_mixed_dtypes(mode):
    i = T.vector("i", dtype="int8")
    j = T.vector("j", dtype="int8")
    x = T.fvector("x")
    outs = [i * (j * 2), x * (i / j), (i / j) / j]
    fast, ref = compile_both(mode, [i, j, x], outs, "local_mul_canonize")
    assert [o.dtype for o in fast.maker.fgraph.outputs] == ["int8", "float64", "float64"]
    iv = np.array([100, -128, 0, 3], dtype="int8")
    jv = np.array([3, 2, 0, -1], dtype="int8")
    xv = np.array([1.5, np.inf, 0, -2], dtype="float32")
    same_values(fast, ref, iv, jv, xv)


# =========================================================================== DimShuffle, Reshape

def test_dimshuffle_of_dimshuffle(mode):
    m = T.dmatrix("m")
    v = T.dvector("v")
    fast, ref = compile_both(mode, [m, v], [m.T.T, v.dimshuffle("x", 0).dimshuffle(1, 0)],
                             "local_dimshuffle_dimshuffle")
    assert fired(fast, "local_dimshuffle_dimshuffle") == 2
    o = fast.maker.fgraph.outputs
    assert o[0] is fast.maker.fgraph.inputs[0]
    assert o[1].owner.op.new_order == (0, "x") and len(nodes(fast, DimShuffle)) == 1
    same_values(fast, ref, np.array([[0.0, np.inf], [np.nan, -1.0]]), EDGE)


def test_dimshuffle_rewrites_leave_a_single_shuffle_of_a_variable(mode):
    m = T.dmatrix("m")
    fast, ref = compile_both(mode, [m], m.T + 1.0, "local_dimshuffle_dimshuffle",
                             "local_dimshuffle_constant")
    assert fast.rewrite_report() == {}
    assert len(nodes(fast, DimShuffle)) == 1
    same_values(fast, ref, np.array([[0.0, np.inf], [np.nan, -1.0]]))


def test_dimshuffle_of_constant(mode):
    m = T.dmatrix("m")
    c = T.constant(np.arange(6.0).reshape(2, 3))
    fast, ref = compile_both(mode, [m], m + c.T, "local_dimshuffle_constant")
    assert fired(fast, "local_dimshuffle_constant") == 1
    assert not nodes(fast, DimShuffle)
    same_values(fast, ref, np.array([[0.0, np.inf], [np.nan, -1.0], [1e300, 2.0]]))


def test_dimshuffle_lift_through_elemwise(mode):
    x, y = T.dmatrices("x", "y")
    s = x * y
    fast, ref = compile_both(mode, [x, y], (T.exp(x) + y).T, "local_dimshuffle_lift")
    assert fired(fast, "local_dimshuffle_lift") >= 2
    order = [type(n.op) for n in fast.maker.fgraph.toposort()]
    assert order[-1] is Elemwise  # the add is last: shuffles sank to the inputs
    xv = np.array([[0.0, 800.0, -1.0], [np.nan, -np.inf, 2.0]])
    same_values(fast, ref, xv, xv[::-1])
    # not when the Elemwise is used elsewhere too: it would be computed twice
    fast2, ref2 = compile_both(mode, [x, y], [s.T, s], "local_dimshuffle_lift")
    assert fired(fast2, "local_dimshuffle_lift") == 0
    same_values(fast2, ref2, xv, xv[::-1])


def test_reshape_of_reshape(mode):
    x = T.dmatrix("x")
    fast, ref = compile_both(mode, [x], T.reshape(T.reshape(x, (6,)), (3, 2)),
                             "local_reshape_reshape")
    assert fired(fast, "local_reshape_reshape") == 1
    assert len(nodes(fast, Reshape)) == 1
    same_values(fast, ref, np.array([[0.0, np.inf, 3.0], [np.nan, -1.0, 2.0]]))
    # not when the inner reshape gives the static shape the merged one would not know
    y = T.dmatrix("y")
    out = T.reshape(T.reshape(y, (6,)), (2, -1))
    assert out.type.shape == (2, 3)
    fast2, ref2 = compile_both(mode, [y], out, "local_reshape_reshape")
    assert fired(fast2, "local_reshape_reshape") == 0
    same_values(fast2, ref2, np.arange(6.0).reshape(3, 2))


# =========================================================================== reductions

def test_reduce_of_dimshuffle(mode):
    m = T.dmatrix("m")
    t = T.tensor3("t")
    outs = [T.sum(m.T, axis=0), T.max(t.dimshuffle(2, "x", 0, 1), axis=(0, 1)),
            T.sum(m.dimshuffle("x", 1, 0), axis=0)]
    fast, ref = compile_both(mode, [m, t], outs, "local_reduce_dimshuffle")
    assert fired(fast, "local_reduce_dimshuffle") == 3
    o = fast.maker.fgraph.outputs
    assert isinstance(o[0].owner.op, CAReduce) and o[0].owner.op.axis == (1,)
    assert o[0].owner.inputs[0] is fast.maker.fgraph.inputs[0]
    assert isinstance(o[1].owner.op, CAReduce) and o[1].owner.op.axis == (2,)
    assert o[2].owner.op.new_order == (1, 0)  # only the transpose is left
    mv = np.array([[0.0, np.inf, 3.0], [np.nan, -1.0, 2.0]])
    tv = np.array([[[1.0, -np.inf], [0.0, 5.0]], [[np.nan, 2.0], [1e300, 1e300]]])
    same_values(fast, ref, mv, tv)
    # not when only an inserted axis is reduced in a narrower acc_dtype: the float32
    # rounding of each element would be lost
    v = T.dvector("v")
    out = T.sum(v.dimshuffle("x", 0), axis=0, acc_dtype="float32")
    fast2, ref2 = compile_both(mode, [v], out, "local_reduce_dimshuffle")
    assert fired(fast2, "local_reduce_dimshuffle") == 0
    same_values(fast2, ref2, np.array([0.1, 1e300, np.nan]))


def test_reduce_of_reduce(mode):
    t = T.tensor3("t")
    b = T.tensor3("b", dtype="int8")
    outs = [T.sum(T.sum(t, axis=1), axis=0), T.max(T.max(t, axis=2), axis=1),
            T.sum(T.sum(b, axis=0), axis=0)]
    fast, ref = compile_both(mode, [t, b], outs, "local_reduce_reduce")
    assert fired(fast, "local_reduce_reduce") == 3
    o = fast.maker.fgraph.outputs
    assert o[0].owner.op.axis == (0, 1) and o[0].owner.inputs[0] is fast.maker.fgraph.inputs[0]
    assert o[1].owner.op.axis == (1, 2)
    assert o[2].owner.op.axis == (0, 1) and o[2].dtype == "int64"
    tv = np.array([[[1.0, -np.inf], [0.0, 5.0]], [[np.nan, 2.0], [1e300, 1e300]]])
    bv = np.array([[[127, 127], [-128, 1]], [[127, 5], [0, -128]]], dtype="int8")
    same_values(fast, ref, tv, bv, rtol=1e-15)
    # not when the inner sum is also an output, nor when it wraps in a narrower dtype
    inner = T.sum(t, axis=0)
    narrow = T.sum(T.sum(b, axis=0, dtype="int8"), axis=0)
    fast2, ref2 = compile_both(mode, [t, b], [T.sum(inner, axis=0), inner, narrow],
                               "local_reduce_reduce")
    assert fired(fast2, "local_reduce_reduce") == 0
    same_values(fast2, ref2, tv, bv)


def test_sum_over_broadcast_dimensions(mode):
    v = T.dvector("v")
    n = T.lscalar("n")
    outs = [T.sum(T.alloc(v, n, 3), axis=0), T.sum(T.alloc(v, 4, 3)),
            T.sum(T.alloc(T.shape_padright(v), 3, n), axis=1)]
    fast, ref = compile_both(mode, [v, n], outs, "local_sum_alloc")
    assert fired(fast, "local_sum_alloc") == 3
    # no sum runs over an allocated (n, 3) array any more
    for node in nodes(fast, CAReduce):
        assert not (node.inputs[0].owner and isinstance(node.inputs[0].owner.op, Alloc))
    vv = np.array([1.0, np.inf, np.nan])
    same_values(fast, ref, vv, np.int64(5))
    # an empty broadcast range sums to 0 even where v is inf or nan
    got = same_values(fast, ref, vv, np.int64(0))
    np.testing.assert_array_equal(got[0], [0.0, 0.0, 0.0])
    # not over the dimensions that hold v's own data
    fast2, ref2 = compile_both(mode, [v], T.sum(T.alloc(v, 2, 3), axis=1), "local_sum_alloc")
    assert fired(fast2, "local_sum_alloc") == 0
    same_values(fast2, ref2, vv)


def test_sum_of_product_with_a_constant_scalar(mode):
    x = T.dmatrix("x")
    s = T.dscalar("s")
    fast, ref = compile_both(mode, [x, s], [T.sum(x * 2.5, axis=0), T.sum(x * s)],
                             "local_sum_mul_by_scalar")
    assert fired(fast, "local_sum_mul_by_scalar") == 1  # not for the variable s
    o = fast.maker.fgraph.outputs
    assert o[0].owner.op.scalar_op.name == "mul" and isinstance(o[0].owner.inputs[0].owner.op,
                                                                   CAReduce)
    assert isinstance(o[1].owner.op, CAReduce)
    xv = np.array([[1.0, 0.0, np.nan], [-2.0, np.inf, 1e300]])
    same_values(fast, ref, xv, np.inf)  # sum([1, 0] * inf) is nan, sum([1, 0]) * inf is not


def test_sum_of_neg(mode):
    x = T.dmatrix("x")
    fast, ref = compile_both(mode, [x], T.sum(-x, axis=1), "local_sum_neg")
    assert fired(fast, "local_sum_neg") == 1
    o = fast.maker.fgraph.outputs[0]
    assert o.owner.op.scalar_op.name == "neg" and isinstance(o.owner.inputs[0].owner.op, CAReduce)
    same_values(fast, ref, np.array([[1.0, 0.0, np.nan], [-2.0, np.inf, 1e300]]))
    # int8: -x wraps in int8 before the int64 sum; not rewritten
    b = T.vector("b", dtype="int8")
    fast2, ref2 = compile_both(mode, [b], T.sum(-b), "local_sum_neg")
    assert fired(fast2, "local_sum_neg") == 0
    same_values(fast2, ref2, np.array([-128, 1], dtype="int8"))


# =========================================================================== casts

def test_cast_of_cast(mode):
    b = T.vector("b", dtype="int8")
    x = T.dvector("x")
    i = T.vector("i", dtype="int16")
    outs = [T.cast(T.cast(b, "int32"), "float64"), T.cast(T.cast(b, "float32"), "int8"),
            T.cast(T.cast(x, "float32"), "float64"), T.cast(T.cast(i, "float32"), "int8")]
    fast, ref = compile_both(mode, [b, x, i], outs, "local_cast_cast")
    assert fired(fast, "local_cast_cast") == 2
    o = fast.maker.fgraph.outputs
    fin = fast.maker.fgraph.inputs
    assert isinstance(o[0].owner.op.scalar_op, Cast) and o[0].owner.inputs[0] is fin[0]
    assert o[1] is fin[0]  # int8 -> float32 -> int8 is x itself
    # float64 -> float32 rounds; int16 -> float32 -> int8 saturates differently from a wrap
    assert len([n for n in nodes(fast, Elemwise) if isinstance(n.op.scalar_op, Cast)]) == 5
    same_values(fast, ref, np.array([-128, 0, 127], dtype="int8"),
                np.array([1e300, 0.1, np.nan]), np.array([300, -1, 7], dtype="int16"))


# =========================================================================== the pipeline

def test_default_pipeline_runs_them_and_names_exclude_them(mode):
    x, y = T.dvectors("x", "y")
    out = -(-x) + y * 1.0 + T.sum((x * y).dimshuffle("x", 0).T, axis=1)
    f = sg.function([x, y], out, mode=Mode(mode))
    report = f.rewrite_report()
    assert report.get("local_add_canonize", 0) >= 1
    g = sg.function([x, y], out, mode=Mode(mode).excluding("local_add_canonize", "arith"))
    assert "local_add_canonize" not in g.rewrite_report()
    ref = sg.function([x, y], out, mode=Mode(mode, optimizer=None))
    for h in (f, g):
        same_values(h, ref, EDGE, np.roll(EDGE, 1), rtol=1e-9)


def test_terms_of_equal_structure_are_ordered_by_creation_not_identity():
    # the numba backend caches compiled graphs on disk under a hash of the generated
    # source: the same program must rewrite to the same graph in every process, so
    # ties may not be broken by id() (which varies with the address space layout)
    from symgraph.graph.fg import FunctionGraph
    from symgraph.tensor.rewriting.math import _sorted_terms
    x = T.dvector("x")
    deep = [T.tanh(T.tanh(T.tanh(T.tanh(x * k)))) for k in (2.0, 3.0, 5.0, 7.0)]
    fg = FunctionGraph([x], deep, clone=False)
    shuffled = [deep[2], deep[0], deep[3], deep[1]]
    ordered = _sorted_terms(fg, shuffled)
    assert ordered == sorted(deep, key=lambda v: v.auto_name)


# =========================================================================== layout and writes

def test_reshape_of_transposed_elemwise_computes_it_transposed(mode):
    from symgraph.tensor.shape import Reshape

    t = T.tensor3("t")
    y = T.exp(t) * t - 1.0
    flat = T.reshape(y.dimshuffle(1, 0, 2), (t.shape[1], -1))
    rewrites = ("local_reshape_transposed_elemwise", "local_dimshuffle_lift",
                "local_reduce_dimshuffle", "local_dimshuffle_dimshuffle")
    fast, ref = compile_both(mode, [t], [flat, T.sum(y, axis=1), y.shape[0]], *rewrites)
    assert fired(fast, "local_reshape_transposed_elemwise") == 1
    (reshape,) = nodes(fast, Reshape)
    assert isinstance(reshape.inputs[0].owner.op, Elemwise)  # no transpose to copy
    (red,) = nodes(fast, CAReduce)
    assert red.op.axis == (0,) and red.inputs[0] is reshape.inputs[0]
    tv = np.array(list(EDGE) * 3).reshape(2, 3, 4)
    same_values(fast, ref, tv)
    # not when another reader would get a transposed view (an Elemwise: strided reads),
    # nor for a permutation that moves the last axis, nor for a sole reader (the lift's)
    for outs in ([flat, y + 1.0], [T.reshape(y.dimshuffle(2, 1, 0), (-1,)), T.sum(y)],
                 [flat]):
        fast2, ref2 = compile_both(mode, [t], outs, "local_reshape_transposed_elemwise")
        assert fired(fast2, "local_reshape_transposed_elemwise") == 0
        same_values(fast2, ref2, tv)


def test_sum_of_writes_into_zeros_becomes_a_chain_of_writes(mode):
    from symgraph.tensor.subtensor import IncSubtensor

    a, p, q = T.dvector("a"), T.dvector("p"), T.dvector("q")
    zeros = T.zeros((5,))

    def w1():
        return T.inc_subtensor(zeros[1:3], p)

    def w2():
        return T.inc_subtensor(zeros[3:], q)

    outs = [w1() + (w2() + a), a - T.inc_subtensor(zeros[:2], p),
            T.inc_subtensor(zeros[:2], q) + T.inc_subtensor(zeros[2:4], p)]
    fast, ref = compile_both(mode, [a, p, q], outs, "local_add_inc_subtensor_zeros")
    assert fired(fast, "local_add_inc_subtensor_zeros") == 4
    assert not [n for n in nodes(fast, Elemwise) if n.op.scalar_op.name in ("add", "sub")]
    o = fast.maker.fgraph.outputs
    chain, writes = o[0], 0
    while chain.owner is not None:  # (SpecifyShape keeps the zeros' static length)
        writes += isinstance(chain.owner.op, IncSubtensor)
        chain = chain.owner.inputs[0]
    assert writes == 2 and chain is fast.maker.fgraph.inputs[0]  # written into a copy of a
    assert IncSubtensor in [type(n.op) for n in sg.graph.basic.io_toposort([a], [o[1]])]
    av = np.array([0.0, -1.5, np.inf, 1e300, np.nan])
    same_values(fast, ref, av, np.array([2.0, -np.inf]), np.array([1.0, -0.0]))
    # not when the other terms broadcast, nor for a set, nor for a write read elsewhere
    s = T.dscalar("s")
    shared = w2()
    outs2 = [w1() + s, T.set_subtensor(zeros[1:3], p) + a, shared + a, T.exp(shared)]
    fast2, ref2 = compile_both(mode, [a, p, q, s], outs2, "local_add_inc_subtensor_zeros")
    assert fired(fast2, "local_add_inc_subtensor_zeros") == 0
    same_values(fast2, ref2, av, np.array([2.0, 3.0]), np.array([1.0, 4.0]), np.float64(2.0))
