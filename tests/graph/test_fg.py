import numpy as np
import pytest

import symgraph.tensor as T
from symgraph.graph.fg import OUTPUT, FunctionGraph, InconsistencyError, MissingInputError


def _graph():
    x, y = T.vectors("x", "y")
    a = x * y
    out = T.exp(a) + a
    return x, y, a, out


def test_fg_clones_by_default_and_tracks_clients():
    x, y, a, out = _graph()
    fg = FunctionGraph([x, y], [out])
    assert fg.inputs[0] is not x and fg.outputs[0] is not out
    fx, fy = fg.inputs
    (mul_node,) = [n for n in fg.apply_nodes if str(n.op) == "mul"]
    fa = mul_node.outputs[0]
    # `a` is used by exp and by add
    assert sorted(str(c[0].op) for c in fg.clients[fa]) == ["add", "exp"]
    assert fg.clients[fg.outputs[0]] == [(OUTPUT, 0)]
    assert fx in fg.variables and fy in fg.variables
    fg.check_integrity()


def test_fg_without_clone_uses_given_variables():
    x, y, a, out = _graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    assert fg.inputs == [x, y] and fg.outputs == [out]
    assert a.owner in fg.apply_nodes


def test_replace_rewires_clients_and_prunes():
    x, y, a, out = _graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    new = x + y
    fg.replace(a, new, reason="test")
    assert a.owner not in fg.apply_nodes
    assert new.owner in fg.apply_nodes
    assert all(a not in n.inputs for n in fg.apply_nodes)
    fg.check_integrity()


def test_replace_refuses_other_types_and_cycles():
    x, y, a, out = _graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    with pytest.raises(TypeError, match="keep the type"):
        fg.replace(a, T.cast(a, "float32"), reason="bad")
    with pytest.raises(InconsistencyError, match="cycle"):
        fg.replace(a, out * 2)


def test_replace_accepts_more_specific_static_shape():
    x = T.vector("x")
    y = T.exp(x)
    fg = FunctionGraph([x], [y], clone=False)
    z = T.specify_shape(x * 2, (3,))
    fg.replace(y, z)
    assert fg.outputs[0] is z


def test_missing_input_is_reported():
    x, y, a, out = _graph()
    with pytest.raises(MissingInputError, match="y"):
        FunctionGraph([x], [out])


def test_features_are_notified():
    events = []

    class Recorder:
        def on_attach(self, fg):
            events.append("attach")

        def on_import(self, fg, node, reason):
            events.append(("import", str(node.op)))

        def on_prune(self, fg, node, reason):
            events.append(("prune", str(node.op)))

        def on_change_input(self, fg, node, i, old, new, reason):
            events.append(("change", reason))

    x, y, a, out = _graph()
    fg = FunctionGraph([x, y], [out], features=[Recorder()], clone=False)
    assert events == ["attach"]
    fg.replace(a, x - y, reason="swap")
    assert ("import", "sub") in events
    assert ("prune", "mul") in events
    assert ("change", "swap") in events


def test_clone_get_equiv_and_toposort():
    x, y, a, out = _graph()
    fg = FunctionGraph([x, y], [out])
    fg2, memo = fg.clone_get_equiv()
    assert fg2.inputs[0] is memo[fg.inputs[0]]
    assert [str(n.op) for n in fg2.toposort()] == [str(n.op) for n in fg.toposort()]
    assert not set(fg2.apply_nodes) & set(fg.apply_nodes)


def test_orphans_are_constants_and_shared():
    import symgraph as sg
    x = T.vector("x")
    s = sg.shared(np.ones(3), name="s")
    out = x * 2 + s
    fg = FunctionGraph([x], [out], clone=False)
    orph = fg.orphans()
    assert s in orph
    assert any(isinstance(o, T.TensorConstant) for o in orph)
