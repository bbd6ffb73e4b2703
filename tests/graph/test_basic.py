import pickle

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph.basic import (
    Apply, Constant, Variable, ancestors, clone, clone_replace, graph_inputs, io_toposort,
)
from symgraph.graph.op import Op
from symgraph.tensor.type import TensorType


def test_apply_links_outputs_and_records_user_line():
    x = T.vector("x")
    y = x + 1  # this line is the trace
    node = y.owner
    assert isinstance(node, Apply)
    assert y.index == 0 and node.outputs[0] is y
    filename, lineno, func, text = node.tag.trace[0]
    assert filename == __file__
    assert func == "test_apply_links_outputs_and_records_user_line"
    assert "this line is the trace" in text


def test_trace_skips_symgraph_frames():
    x = T.matrix("x")
    y = x.T  # goes through variable.py and elemwise.py
    assert y.owner.tag.trace[0][0] == __file__


def test_ancestors_graph_inputs_and_toposort():
    x, y = T.vectors("x", "y")
    a = x * y
    b = a + x
    c = T.exp(b) - a
    anc = ancestors([c])
    assert x in anc and y in anc and a in anc and b in anc
    ins = graph_inputs([c])
    assert set(v for v in ins if not isinstance(v, Constant)) == {x, y}
    order = io_toposort([x, y], [c])
    pos = {n: i for i, n in enumerate(order)}
    for n in order:
        for i in n.inputs:
            if i.owner is not None and i.owner in pos:
                assert pos[i.owner] < pos[n]
    assert a.owner in pos and b.owner in pos and c.owner in pos


def test_toposort_stops_at_inputs():
    x = T.vector("x")
    a = x * 2
    b = a + 1
    order = io_toposort([a], [b])
    assert order == [b.owner]


def test_clone_copies_nodes_but_keeps_constants():
    x = T.vector("x")
    y = x * 2 + 1
    (cx,), (cy,) = clone([x], [y])
    assert cx is not x and cy is not y
    assert cx.type == x.type and cy.type == y.type
    assert cy.owner.op == y.owner.op
    assert x not in ancestors([cy])


def test_clone_replace_substitutes_and_checks_types():
    x, z = T.vectors("x", "z")
    y = T.exp(x) * 3
    y2 = clone_replace(y, {x: z})
    assert z in ancestors([y2]) and x not in ancestors([y2])
    # the original is untouched
    assert x in ancestors([y])
    f = sg.function([z], y2)
    np.testing.assert_allclose(f(np.array([0.0, 1.0])), np.exp([0.0, 1.0]) * 3)
    with pytest.raises(TypeError, match="types differ"):
        clone_replace(y, {x: T.matrix("m")})


def test_clone_replace_list_in_list_out():
    x = T.scalar("x")
    outs = clone_replace([x + 1, x * 2], {x: T.constant(3.0)})
    assert isinstance(outs, list) and len(outs) == 2


def test_variable_str_and_eval():
    x = T.vector("x")
    assert str(x) == "x"
    out = (x * 2).eval({x: np.array([1.0, 2.0])})
    np.testing.assert_allclose(out, [2.0, 4.0])
    c = T.constant(np.arange(3))
    np.testing.assert_array_equal((c + 1).eval(), [1, 2, 3])


class Double(Op):
    """A user-style custom Op (Theano signatures), used by several tests."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2


class Scaled(Op):
    __props__ = ("factor",)

    def __init__(self, factor):
        self.factor = factor

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * self.factor


class NoProps(Op):
    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])


def test_op_equality_and_hash_follow_props():
    assert Double() == Double() and hash(Double()) == hash(Double())
    assert Scaled(2) == Scaled(2) and Scaled(2) != Scaled(3)
    assert hash(Scaled(2)) == hash(Scaled(2))
    a, b = NoProps(), NoProps()
    assert a != b and a == a
    assert str(Scaled(2)) == "Scaled{2}"


def test_custom_op_runs_and_pickles():
    x = T.vector("x")
    f = sg.function([x], Double()(x))
    np.testing.assert_allclose(f(np.array([1.0, 2.0])), [2.0, 4.0])
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_allclose(g(np.array([3.0])), [6.0])


def test_op_without_perform_or_infer_shape_says_so():
    x = T.vector("x")
    y = NoProps()(x)
    f = sg.function([x], y)
    with pytest.raises(NotImplementedError, match="NoProps.perform"):
        f(np.ones(2))
    with pytest.raises(NotImplementedError, match="infer_shape"):
        y.owner.op.infer_shape(None, y.owner, [(T.constant(2),)])


def test_apply_refuses_non_variables():
    with pytest.raises(TypeError, match="must be a Variable"):
        Apply(Double(), [np.ones(2)], [T.vector()])


def test_variables_are_hashable_by_identity_and_not_bool():
    x = T.vector("x")
    d = {x: 1}
    assert d[x] == 1
    assert x in [x] and T.vector("x") not in [x]
    with pytest.raises(TypeError, match="truth value"):
        bool(x > 0)
    with pytest.raises(TypeError, match="immutable"):
        x[0] = 1
    with pytest.raises(TypeError, match="not known statically"):
        len(x)


def test_pickle_graph_roundtrip():
    x = T.matrix("x")
    y = T.exp(x).T + 1
    y2 = pickle.loads(pickle.dumps(y))
    assert y2.type == y.type
    assert str(y2.owner.op) == str(y.owner.op)
    (x2,) = [v for v in graph_inputs([y2]) if isinstance(v, Variable) and v.name == "x"]
    f = sg.function([x2], y2)
    v = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(f(v), np.exp(v).T + 1)


def test_tensor_type_make_variable():
    t = TensorType("float32", shape=(None, 3))
    v = t("v")
    assert v.type is t and v.name == "v" and v.ndim == 2 and v.dtype == "float32"
    assert v.broadcastable == (False, False)
