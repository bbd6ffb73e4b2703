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


def test_function_without_a_mode_compiles_with_numba_by_default():
    from symgraph.config import Config, config

    x = T.dvector("x")
    with config.change_flags(mode=Config().mode):
        f = sg.function([x], x * 2.0)
    assert "def graph(" in f._thunk.source
    np.testing.assert_allclose(f(np.arange(3.0)), [0.0, 2.0, 4.0])


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
    np.testing.assert_array_equal(f(v), first)  # the tier is exact (exact.py)


def test_config_flag_parses_strings():
    c = sg.config
    with c.change_flags(numba_tiered="True"):
        assert c.numba_tiered is True
    with pytest.raises(ValueError, match="True or False"):
        c.numba_tiered = "maybe"


# ----------------------------------------------------------------------------- kernels inline

def test_kernels_are_written_into_the_graph_function():
    x = T.dvector("x")
    y = T.dmatrix("y")
    f = sg.function([x, y], [T.exp(x) + y, y.T.sum(axis=0)], mode=Mode("numba", optimizer=None))
    src = f._thunk.source
    # no kernel module is imported: every node's body is in `graph`, one per comment
    assert "from symgraph_k_" not in src and src.count("def ") == 1
    assert "# exp(x)" in src and "# add(" in src and "# DimShuffle{1,0}(y)" in src
    ref = sg.function([x, y], [T.exp(x) + y, y.T.sum(axis=0)], mode="py")
    xv, yv = np.linspace(-1, 1, 3), np.arange(6.0).reshape(2, 3)
    for a, b in zip(f(xv, yv), ref(xv, yv)):
        np.testing.assert_array_equal(a, b)
    assert len(f._thunk.jitted.overloads) == 1


def test_kernel_with_an_early_return_stays_a_function_of_its_own():
    from symgraph.tensor.creation import ARange
    a, b = T.dscalar("a"), T.dscalar("b")
    f = sg.function([a, b], ARange("float64")(a, b, T.constant(1.0)),
                    mode=Mode("numba", optimizer=None))
    assert "from symgraph_k_" in f._thunk.source  # arange returns early
    np.testing.assert_array_equal(f(0.0, 3.0), [0.0, 1.0, 2.0])
    assert f(3.0, 0.0).shape == (0,)


def test_inliner_renames_locals_and_keeps_arguments():
    from backends.numba.inline import can_inline, inline_lines
    src = ("def KERNEL_NAME(a0, a1):\n"
           "    n = a0.shape[0]\n"
           "    a1 = a1 + n\n"
           "    for j in range(n):\n"
           "        n = n + j\n"
           "    return (a0, a1, n)\n")
    lines = inline_lines(src, "n3_", ["v1", "i0"], "v2, v3, v4")
    text = "\n".join(lines)
    assert "n3_a1 = i0" in text  # an argument the kernel assigns to is copied first
    assert "n3_n = v1.shape[0]" in text and "for n3_j in range(n3_n)" in text
    assert lines[-1].strip() == "v2, v3, v4 = (v1, n3_a1, n3_n)"
    ns = {}
    exec("def g(v1, i0):\n" + text + "\n    return v2, v3, v4\n", ns)
    exec(src.replace("KERNEL_NAME", "k"), ns)
    xs = np.arange(3.0)
    assert [np.asarray(r).tolist() for r in ns["g"](xs, 1.0)] == \
        [np.asarray(r).tolist() for r in ns["k"](xs, 1.0)]
    for bad in ("def KERNEL_NAME(a0):\n    if a0:\n        return 1\n    return 2\n",
                "def KERNEL_NAME(a0):\n    f = lambda t: t\n    return f(a0)\n",
                "def KERNEL_NAME(a0):\n    return [t for t in a0]\n"):
        assert not can_inline(bad)


# ----------------------------------------------------------------------------- the call path

NUMBA = Mode("numba")


@pytest.fixture(scope="module")
def scalar_fn():
    a, b = T.dscalars("a", "b")
    return sg.function([a, b], a * b + a, mode=NUMBA), sg.function([a, b], a * b + a, mode="py")


def test_scalar_inputs_cross_as_scalars_and_compile_once(scalar_fn):
    f, ref = scalar_fn
    assert f._thunk.scalar_inputs == (True, True)
    for args in [(1.5, 2.5), (np.array(1.5), np.array(2.5)), (np.float64(1.5), 2.5),
                 (1, np.array(2.5)), (np.array(1.5, dtype="float32"), 2.5)]:
        out = f(*args)
        assert type(out) is np.ndarray and out.dtype == np.float64 and out.shape == ()
        assert out == ref(*args) == float(args[0]) * float(args[1]) + float(args[0])
    assert f(a=1.5, b=2.5) == 5.25 and f(1.5, b=2.5) == 5.25
    # one compiled overload, whatever the scalars came as
    assert len(f._thunk.jitted.overloads) == 1
    # each call returns a fresh array
    r1 = f(1.0, 1.0)
    r2 = f(1.0, 1.0)
    assert r1 is not r2 and not np.shares_memory(r1, r2)


def test_scalar_call_path_keeps_input_checks(scalar_fn):
    f, _ = scalar_fn
    with pytest.raises(TypeError, match="bad argument 'b'.*expected TensorType\\(float64"):
        f(1.0, np.ones(2))
    with pytest.raises(TypeError, match="bad argument 'a'"):
        f("x", 1.0)
    with pytest.raises(TypeError, match="takes 2 argument"):
        f(1.0, 2.0, 3.0)
    with pytest.raises(TypeError, match="missing argument 'b'"):
        f(1.0)
    s = T.fscalar("s")
    g = sg.function([s], s * 2, mode=NUMBA)
    assert g(1.5).dtype == np.float32 and g(1.5) == 3.0  # a Python float may become floatX
    with pytest.raises(TypeError, match="bad argument 's'"):
        g(np.float64(1.5))  # a float64 value is not downcast silently
    h = sg.function([s], s * 2, mode=NUMBA, allow_input_downcast=True)
    assert h(np.float64(1.5)) == 3.0


def test_strict_and_trusted_scalar_inputs():
    t = T.dscalar("t")
    f = sg.function([sg.In(t, strict=True)], t + 1, mode=NUMBA)
    assert f(np.array(1.0)) == 2.0
    with pytest.raises(TypeError, match="bad argument 't'"):
        f(1.0)  # strict: only an ndarray of the exact dtype
    g = sg.function([t], t + 1, mode=NUMBA, trust_input=True)
    assert g(np.array(1.0)) == 2.0 and g(1.0) == 2.0


def test_scalar_outputs_updates_and_mixed_inputs():
    x = T.dvector("x")
    a = T.lscalar("a")
    s = sg.shared(np.float64(0.5), name="s")
    v = sg.shared(np.zeros(3), name="v")
    outs = [x.sum() * a, a + 1, s, x * s]
    upd = [(s, s + x.sum()), (v, v + x * a)]
    f = sg.function([x, a], outs, updates=upd, mode=NUMBA)
    s2 = sg.shared(np.float64(0.5), name="s")
    v2 = sg.shared(np.zeros(3), name="v")
    ref = sg.function([x, a], [x.sum() * a, a + 1, s2, x * s2],
                      updates=[(s2, s2 + x.sum()), (v2, v2 + x * a)], mode="py")
    assert f._thunk.scalar_inputs == (False, True, True, False)
    xv = np.arange(3.0)
    for _ in range(2):
        got, want = f(xv, 2), ref(xv, 2)
        for g_, w_ in zip(got, want):
            assert type(g_) is np.ndarray and g_.dtype == w_.dtype and g_.shape == w_.shape
            np.testing.assert_array_equal(g_, w_)
        assert s.get_value() == s2.get_value() and type(s.get_value()) is np.ndarray
        np.testing.assert_array_equal(v.get_value(), v2.get_value())
    # the output that is the shared value is not the stored array
    r = f(xv, 2)
    assert not np.shares_memory(r[2], s.get_value(borrow=True))


def test_failed_scalar_call_names_node_and_writes_no_update():
    a, b = T.lscalars("a", "b")
    s = sg.shared(np.int64(1), name="s")
    f = sg.function([a, b], a // b, updates=[(s, s + a)], mode=NUMBA)
    assert f(7, 2) == 3 and s.get_value() == 8
    # integer division by zero: NumPy gives 0 with a warning, so does the interpreter
    with np.errstate(all="ignore"):
        assert f(1, 0) == 0
    x = T.dvector("x")
    g = sg.function([x, a], x[a], updates=[(s, s + a)], mode=NUMBA)
    before = s.get_value()
    with pytest.raises(IndexError):
        g(np.zeros(2), 5)
    assert s.get_value() == before


def test_tiered_scalar_graph_switches_to_the_entry_point():
    a, b = T.dscalars("a", "b")
    expr = T.tanh(a) * b + T.exp(-a * a)
    with sg.change_flags(numba_tiered=True):
        f = sg.function([a, b], expr, mode=Mode("numba", optimizer=None))
    ref = sg.function([a, b], expr, mode="py")
    first = f(0.3, 2.0)
    assert first.shape == () and first.dtype == np.float64
    np.testing.assert_allclose(first, ref(0.3, 2.0), rtol=1e-15)
    assert f._thunk.wait(timeout=300) and f._thunk.failed is None
    np.testing.assert_allclose(f(0.3, 2.0), first, rtol=1e-12)
    assert len(f._thunk.jitted.overloads) == 1


@pytest.mark.parametrize("dtype", ["float32", "uint64", "int8", "complex64", "bool"])
def test_scalars_of_other_dtypes_keep_their_dtype_on_the_dispatcher_path(dtype):
    # a graph with an array input goes through numba's dispatcher, which types each
    # argument: a 0-d input must come as a scalar of exactly its dtype, or numba would
    # compile (and compute) another version
    x = T.tensor(dtype, shape=(None,), name="x")
    s = T.tensor(dtype, shape=(), name="s")
    f = sg.function([x, s], [x + s, s], mode=NUMBA)
    ref = sg.function([x, s], [x + s, s], mode="py")
    xv = np.ones(3, dtype=dtype)
    for sv in (np.array(1, dtype=dtype), np.array(1, dtype=dtype)[()], 1):
        for a, b in zip(f(xv, sv), ref(xv, sv)):
            assert a.dtype == b.dtype == np.dtype(dtype) and a.shape == b.shape
            np.testing.assert_array_equal(a, b)
    assert len(f._thunk.jitted.overloads) == 1


def test_tiered_graph_compiles_in_a_worker_then_loads_from_the_cache(tmp_path):
    # not in the disk cache yet: a worker process compiles it (the interpreter keeps
    # the GIL meanwhile), then this process loads the machine code from the cache
    x = T.dvector("x")
    expr = T.tanh(x) * 2 + T.exp(-x)
    v = np.linspace(-1, 1, 5)
    with sg.change_flags(numba_tiered=True, cache_dir=str(tmp_path / "cache")):
        f = sg.function([x], expr, mode=Mode("numba", optimizer=None))
        first = f(v)
        assert f._thunk.wait(timeout=600) and f._thunk.failed is None
    assert f._thunk.compiled_in == "worker", f._thunk.worker_error
    stats = f._thunk.jitted.stats
    assert (sum(stats.cache_hits.values()), sum(stats.cache_misses.values())) == (1, 0)
    np.testing.assert_array_equal(f(v), first)


def test_graph_with_a_type_numba_cannot_hold_runs_on_the_interpreter():
    """A user's own non-tensor Type cannot pass through native code: numba mode (the
    default) runs such a graph on the interpreter, says so once, and gives its values."""
    from backends.numba.linker import InterpretedGraphWarning
    from symgraph.graph.basic import Apply
    from symgraph.graph.op import Op
    from symgraph.graph.type import Type

    class BoxType(Type):
        def filter(self, data, strict=False, allow_downcast=None):
            if not isinstance(data, list):
                raise TypeError(f"expected a list, got {type(data).__name__}")
            return data

        def __eq__(self, other):
            return type(other) is type(self)

        def __hash__(self):
            return hash(type(self))

        @property
        def variable_type(self):
            return sg.Variable

    class Unbox(Op):
        __props__ = ()

        def make_node(self, box):
            return Apply(self, [box], [T.dvector()])

        def perform(self, node, inputs, output_storage):
            output_storage[0][0] = np.asarray(inputs[0], dtype="float64")

    box = sg.SharedVariable(BoxType(), [1.0, 2.0], name="box")
    x = T.dvector("x")
    with pytest.warns(InterpretedGraphWarning, match="Unbox"):
        f = sg.function([x], Unbox()(box) * x, mode="numba")
    np.testing.assert_allclose(f(np.array([3.0, 4.0])), [3.0, 8.0])


# ----------------------------------------------------------------------------- 0-d values as scalars

def test_inliner_computes_zero_d_results_as_scalars():
    from backends.numba.inline import inline_scalar_lines, zero_d_args
    src = ("def KERNEL_NAME(a, b):\n"
           "    o0 = np.empty((), dtype=np.float64)\n"
           "    o1 = np.empty((), dtype=np.int64)\n"
           "    t = np.float64(a[()] * b.shape[0])\n"
           "    o0[()] = t\n"
           "    o1[()] = b.shape[0]  # a comment keeps o1 a 0-d array\n"
           "    return (o0, o1,)\n")
    assert zero_d_args(src) == {"a"}  # b is read as an array
    lines, flags = inline_scalar_lines(src, "n1_", ["v0", "v1"], "v2, v3", {"v0"}, True)
    text = "\n".join(lines)
    assert flags == (True, False)
    assert "n1_t = np.float64(v0 * v1.shape[0])" in text
    assert "n1_o0 = np.float64(n1_t)" in text and "np.empty((), dtype=np.float64)" not in text
    assert "n1_o1 = np.empty((), dtype=np.int64)" in text
    ns = {"np": np}
    exec("def g(v0, v1):\n" + text + "\n    return v2, v3\n", ns)
    r0, r1 = ns["g"](2.5, np.zeros(4))
    assert r0 == 10.0 and np.asarray(r1).shape == () and r1[()] == 4
    # a result read before its store, or stored twice, stays an array
    for body in ("    o[()] = o[()] + 1.0\n", "    o[()] = 1.0\n    o[()] = 2.0\n"):
        src2 = ("def KERNEL_NAME(a):\n    o = np.empty((), dtype=np.float64)\n" + body +
                "    return o\n")
        assert not any(inline_scalar_lines(src2, "n2_", ["v0"], "v1", set(), True)[1])


def test_zero_d_chain_is_scalars_and_arrays_where_needed():
    x = T.dmatrix("x")
    n = x.shape[0] * 2 + x.shape[1]            # 0-d values, from Shape_i
    s = x.sum() / n                            # a 0-d result read by an elementwise op
    col = T.alloc(s, n, 1)                      # Alloc reads the 0-d sizes as scalars
    row = T.shape_padleft(T.shape_padleft(s))  # DimShuffle needs the 0-d array
    f = sg.function([x], [s, col.sum(), row, n], mode=Mode("numba", optimizer=None))
    ref = sg.function([x], [s, col.sum(), row, n], mode=Mode("py", optimizer=None))
    src = f._thunk.source
    assert "_a = np.empty((), dtype=" in src  # the twin the DimShuffle reads
    assert src.count("np.empty((), dtype=") < 4
    xv = np.arange(6.0).reshape(2, 3)
    for got, want in zip(f(xv), ref(xv)):
        np.testing.assert_array_equal(got, want)
        assert np.asarray(got).dtype == np.asarray(want).dtype
