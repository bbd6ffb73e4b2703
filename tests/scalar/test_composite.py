"""Composite: a scalar op defined by an inner graph of scalar ops."""

import pickle

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.compile.mode import Mode
from symgraph.graph.basic import Apply
from symgraph.graph.op import Op
from symgraph.scalar import math as sm
from symgraph.scalar.basic import ScalarType, as_scalar, cast_op
from symgraph.scalar.composite import MAX_NAME_LENGTH, Composite
from symgraph.tensor.elemwise import Elemwise

EDGES = np.array([0.0, -0.0, -1.5, 2.0, 1e300, -1e300, np.nan, np.inf, -np.inf, 1e-310])


def s(dtype="float64"):
    return ScalarType(dtype)()


def exp_add_mul(dtype="float64", const=1.0):
    """exp(x * y + c) and x * y: a fresh copy each call."""
    x, y = s(dtype), s(dtype)
    t = sm.mul(x, y)
    return Composite([x, y], [sm.exp(sm.add(t, as_scalar(np.asarray(const, dtype)))), t])


# ----------------------------------------------------------------------- identity

def test_equal_structure_gives_equal_ops_and_hashes():
    a, b = exp_add_mul(), exp_add_mul()
    assert a is not b
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1
    assert Elemwise(a) == Elemwise(b) and hash(Elemwise(a)) == hash(Elemwise(b))


@pytest.mark.parametrize("other", [
    lambda: exp_add_mul(const=2.0),                # another constant
    lambda: exp_add_mul("float32"),                # another dtype
], ids=["constant", "dtype"])
def test_different_structure_gives_different_ops(other):
    assert exp_add_mul() != other()


def test_nan_constants_compare_equal_and_zero_signs_do_not():
    assert exp_add_mul(const=np.nan) == exp_add_mul(const=np.nan)
    assert exp_add_mul(const=0.0) != exp_add_mul(const=-0.0)


def test_wiring_and_output_order_matter():
    x, y = s(), s()
    ab = Composite([x, y], [sm.sub(x, y)])
    x2, y2 = s(), s()
    ba = Composite([x2, y2], [sm.sub(y2, x2)])
    assert ab != ba
    x3, y3 = s(), s()
    two = Composite([x3, y3], [sm.add(x3, y3), sm.mul(x3, y3)])
    x4, y4 = s(), s()
    owt = Composite([x4, y4], [sm.mul(x4, y4), sm.add(x4, y4)])
    assert two != owt


def test_a_composite_never_equals_a_plain_scalar_op():
    x = s()
    c = Composite([x], [sm.exp(x)])
    assert c != sm.exp and sm.exp != c


# ----------------------------------------------------------------------- pickling

def test_pickle_round_trip_keeps_structure_name_and_values():
    x, y, b = s(), s("float32"), s("bool")
    t = sm.true_div(x, cast_op("float64")(y))
    c = Composite([x, y, b], [sm.switch(b, sm.log(t), as_scalar(np.inf)),
                              sm.add(t, as_scalar(np.nan))])
    c2 = pickle.loads(pickle.dumps(c))
    assert c2 == c and hash(c2) == hash(c) and c2.name == c.name
    args = [EDGES, np.float32(3) * np.ones(1, "float32"), EDGES > 0]
    with np.errstate(all="ignore"):
        pairs = zip(c2.compute(args, c.output_dtypes), c.compute(args, c.output_dtypes))
    for got, want in pairs:
        np.testing.assert_array_equal(got, want)


def test_pickle_nested_composite():
    x = s()
    inner = Composite([x], [sm.tanh(x)])
    y, z = s(), s()
    outer = Composite([y, z], [inner(sm.mul(y, z))])
    again = pickle.loads(pickle.dumps(outer))
    assert again == outer
    np.testing.assert_array_equal(again.impl(2.0, 0.25), np.tanh(0.5))


# ----------------------------------------------------------------------- naming

def test_readable_name():
    x, y = s(), s()
    c = Composite([x, y], [sm.exp(sm.add(x, y))])
    assert c.name == "Composite{exp(add(i0, i1))}"
    assert str(Elemwise(c)) == c.name


def test_a_shared_result_is_named_once():
    c = exp_add_mul()
    assert c.name == "Composite{t0=mul(i0, i1); exp(add(t0, 1.0)), t0}"


def test_name_of_a_deep_graph_is_bounded_and_builds_without_recursion():
    x, y = s(), s()
    e = x
    for _ in range(1200):
        e = sm.tanh(sm.add(e, y))
    c = Composite([x, y], [e])
    assert len(c.name) <= MAX_NAME_LENGTH + len("Composite{}")
    assert c.name.startswith("Composite{tanh(add(tanh(") and c.name.endswith("...}")
    got = c.impl(0.5, 0.1)
    want = 0.5
    for _ in range(1200):
        want = np.tanh(want + 0.1)
    assert got == want
    assert pickle.loads(pickle.dumps(c)) == c


# ----------------------------------------------------------------------- checking

def test_refuses_non_scalar_ops():
    class NotScalar(Op):
        def make_node(self, x):
            return Apply(self, [x], [ScalarType("float64")()])

    x = s()
    with pytest.raises(TypeError, match="only hold scalar ops"):
        Composite([x], [NotScalar()(x)])


def test_refuses_tensor_variables_and_bad_inputs():
    x = s()
    with pytest.raises(TypeError, match="outputs must be scalar"):
        Composite([x], [T.dvector()])
    with pytest.raises(TypeError, match="free scalar variables"):
        Composite([T.dscalar()], [x])
    with pytest.raises(TypeError, match="free scalar variables"):
        Composite([sm.exp(x)], [x])  # an input with an owner
    with pytest.raises(TypeError, match="free scalar variables"):
        Composite([as_scalar(1.0)], [x])
    with pytest.raises(ValueError, match="given twice"):
        Composite([x, x], [sm.add(x, x)])
    with pytest.raises(ValueError, match="at least one output"):
        Composite([x], [])


def test_refuses_a_free_variable_missing_from_the_inputs():
    x, y = s(), s()
    with pytest.raises(ValueError, match="neither an input nor computed"):
        Composite([x], [sm.add(x, y)])


def test_output_types_check_input_dtypes():
    c = exp_add_mul()
    assert c.output_types(["float64", "float64"]) == ("float64", "float64")
    with pytest.raises(TypeError, match="built for inputs of dtype"):
        c.output_types(["float32", "float64"])
    with pytest.raises(TypeError, match="takes 2 inputs"):
        c.output_types(["float64"])
    # and so an Elemwise over it refuses wrong tensors at graph-build time
    with pytest.raises(TypeError, match="built for inputs of dtype"):
        Elemwise(c)(T.fvector(), T.dvector())


def test_output_dtypes_follow_the_inner_ops():
    x, y = s("int8"), s("float32")
    c = Composite([x, y], [sm.add(sm.mul(x, as_scalar(np.int8(100))), y), sm.exp(x),
                           sm.lt(x, y)])
    assert c.output_dtypes == ("float32", "float32", "bool")
    xs = np.array([0, 1, 2, -128, 127], "int8")
    ys = np.array([0, np.nan, np.inf, -1, 1e30], "float32")
    with np.errstate(all="ignore"):
        a, e, b = c.compute([xs, ys], c.output_dtypes)
        np.testing.assert_array_equal(a, (xs * np.int8(100)) + ys)  # int8 wraps first
        np.testing.assert_array_equal(e, np.exp(xs.astype("float32")))
    np.testing.assert_array_equal(b, xs < ys)
    assert (a.dtype, e.dtype, b.dtype) == (np.float32, np.float32, np.bool_)


# ----------------------------------------------------------------------- computing

def test_compute_matches_numpy_with_broadcasting_and_edge_values():
    x, y, z = s(), s(), s()
    c = Composite([x, y, z], [sm.sub(sm.exp(sm.add(sm.mul(x, y), as_scalar(1.0))), z)])
    xs, ys, zs = EDGES[:, None], EDGES[None, :], EDGES[::-1][None, :]
    with np.errstate(all="ignore"):
        (got,) = c.compute([xs, ys, zs], c.output_dtypes)
        want = np.exp(xs * ys + 1.0) - zs
    np.testing.assert_array_equal(got, want)
    assert got.shape == (len(EDGES), len(EDGES))


def test_an_output_never_aliases_an_argument_or_another_output():
    x = s()
    t = sm.exp(x)
    c = Composite([x], [x, t, t])
    xs = np.array([0.0, 1.0])
    a, b, d = c.compute([xs], c.output_dtypes)
    assert a is not xs and not np.shares_memory(a, xs)
    assert not np.shares_memory(b, d)
    np.testing.assert_array_equal(a, xs)
    np.testing.assert_array_equal(d, np.exp(xs))


def test_impl_on_numbers():
    c = exp_add_mul()
    e, t = c.impl(2.0, 3.0)
    assert t == 6.0 and e == np.exp(7.0)


def test_elemwise_over_composite_in_a_function(mode):
    c = exp_add_mul()
    x, y = T.dmatrix("x", shape=(None, 1)), T.dvector("y")
    e, t = Elemwise(c)(x, y)
    assert e.type.shape == (None, None)
    f = sg.function([x, y], [e, t], mode=Mode(mode, optimizer=None))
    xv, yv = EDGES[:, None], EDGES
    ge, gt = f(xv, yv)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(gt, xv * yv, rtol=1e-15)
        np.testing.assert_allclose(ge, np.exp(xv * yv + 1.0), rtol=1e-13)
