import numpy as np
import pytest

import symgraph.tensor as T
from backends.python.linker import PythonLinker, check_output
from symgraph.graph.fg import FunctionGraph


def test_thunk_runs_in_topological_order_and_clears_storage():
    x = T.dvector("x")
    y = T.exp(x) * 2 + x
    fg = FunctionGraph([x], [y])
    thunk = PythonLinker().make_thunk(fg)
    (out,) = thunk(np.array([0.0, 1.0]))
    np.testing.assert_allclose(out, np.exp([0.0, 1.0]) * 2 + [0.0, 1.0])
    assert [str(n.op) for n in thunk.order] == ["exp", "mul", "add"]
    with pytest.raises(TypeError, match="expected 1 input"):
        thunk()


def test_check_output_accepts_numpy_scalars_of_the_right_dtype():
    x = T.dscalar("x")
    node = (x + 1).owner
    out = check_output(node, 0, np.float64(2.0))
    assert isinstance(out, np.ndarray) and out.shape == ()
    with pytest.raises(TypeError, match="stored a float"):
        check_output(node, 0, 2.0)
    with pytest.raises(TypeError, match="static shape"):
        v = T.TensorType("float64", shape=(2,))("v")
        check_output((v * 2).owner, 0, np.ones(3))


def test_error_keeps_exception_type_and_adds_context():
    x = T.lvector("x")
    y = x ** T.constant(np.array([-1]))  # integers to negative powers
    fg = FunctionGraph([x], [y])
    thunk = PythonLinker().make_thunk(fg)
    with pytest.raises(ValueError) as info:
        thunk(np.array([2]))
    msg = str(info.value)
    assert "negative integer powers" in msg and "Apply node that failed: pow" in msg
    assert "test_python_linker.py" in msg
    assert info.value.node is y.owner or str(info.value.node.op) == "pow"
