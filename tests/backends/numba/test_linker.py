"""The numba linker: one jitted graph function, retrievable source, tiered execution."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.compile.mode import Mode


def test_one_function_calls_kernels_in_order():
    x = T.dvector("x")
    y = T.dmatrix("y")
    f = sg.function([x, y], T.exp(x) + y, mode=Mode("numba", optimizer=None))
    src = f._thunk.source
    assert src.count("def graph(") == 1
    assert "# exp(x)" in src and "# add(" in src
    assert src.index("# exp(x)") < src.index("# add(")
    np.testing.assert_allclose(f(np.zeros(3), np.ones((2, 3))), np.full((2, 3), 2.0))


def test_constants_are_arguments_not_embedded():
    x = T.dvector("x")
    c = np.arange(3.0)
    f = sg.function([x], x * T.constant(c), mode=Mode("numba", optimizer=None))
    assert "def graph(i0, c0)" in f._thunk.source
    np.testing.assert_allclose(f(np.ones(3)), c)


def test_runtime_error_names_the_failing_node_not_the_output():
    x = T.dvector("x")
    z = T.dvector("z")
    bad = x * z  # the node that fails
    out = T.exp(bad) + 1
    f = sg.function([x, z], out, mode=Mode("numba", optimizer=None))
    with pytest.raises(ValueError) as info:
        f(np.ones(3), np.ones(4))
    msg = str(info.value)
    assert "Apply node that failed: mul" in msg and "the node that fails" in msg


def test_tiered_execution_answers_first_then_switches_with_same_values():
    x = T.dvector("x")
    expr = T.tanh(x) * 3 + T.exp(-x ** 2)
    with sg.change_flags(numba_tiered=True):
        f = sg.function([x], expr, mode=Mode("numba", optimizer=None))
    ref = sg.function([x], expr, mode="py")
    v = np.linspace(-2, 2, 7)
    first = f(v)
    np.testing.assert_allclose(first, ref(v))
    assert f._thunk.wait(timeout=120)
    assert f._thunk.native_ready and f._thunk.native_since is not None
    np.testing.assert_allclose(f(v), first, rtol=1e-12)


def test_config_flag_parses_strings():
    c = sg.config
    with c.change_flags(numba_tiered="True"):
        assert c.numba_tiered is True
    with pytest.raises(ValueError, match="True or False"):
        c.numba_tiered = "maybe"
