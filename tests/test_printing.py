import networkx as nx
import numpy as np

import symgraph as sg
import symgraph.tensor as T
from symgraph.printing import debugprint, to_dot, to_networkx


def test_debugprint_tree_and_shared_subtrees():
    x = T.dvector("x")
    a = T.exp(x)
    y = a * a
    text = debugprint(y, file="str")
    lines = text.splitlines()
    assert lines[0].startswith("mul [id A]")
    assert "exp [id B]" in lines[1]
    assert "(see above)" in lines[-1]
    assert "x [id C] {TensorType(float64, shape=(?,))}" in text


def test_debugprint_of_function_and_depth():
    x = T.dvector("x")
    f = sg.function([x], T.sqrt(x) + 1)
    text = debugprint(f, file="str")
    assert "add" in text and "sqrt" in text
    shallow = debugprint(T.sqrt(x) + 1, file="str", depth=0)
    assert len(shallow.splitlines()) == 1


def test_to_networkx_and_dot():
    x = T.dvector("x")
    y = T.exp(x) + 1
    g = to_networkx(y)
    assert isinstance(g, nx.DiGraph)
    assert nx.is_directed_acyclic_graph(g)
    kinds = nx.get_node_attributes(g, "kind")
    assert sorted(k for k in kinds.values() if k == "apply") == ["apply", "apply"]
    dot = to_dot(y)
    assert dot.startswith("digraph") and "exp" in dot and "->" in dot


def test_constants_print_their_value():
    x = T.dvector("x")
    text = debugprint(x * np.float64(3.0), file="str")
    assert "3.0" in text
