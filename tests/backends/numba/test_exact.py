"""The tiered mode's interpreter (backends/numba/exact.py) gives the native code's
values to the bit: nodes that NumPy computes otherwise (SIMD exp/tanh, its own choice
of BLAS call, sum order, max of signed zeros, quicksort ties) run NumPy twins
(numpy_twins/, tested there) or their numba kernels compiled alone. check_same checks
this in every numba test with SYMGRAPH_CHECK_TIER=1; here are the cases where NumPy's
values differ from numba's, a scan, a training loop that switches from the tier to
native code in the middle, and which graphs the tiered mode answers on the tier."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from backends.numba.exact import _exact_on_interpreter, tier_thunk
from tests.backends.numba.utils import check_tier_exact


def _native_and_tier(inputs, outputs, values):
    f = sg.function(inputs, outputs, mode="numba")
    tier = tier_thunk(f.fgraph)
    assert tier is not None
    return f(*values), tier(*values)


def test_values_numpy_computes_otherwise_are_the_kernels(rng):
    x, y, v = T.dmatrix("x"), T.dmatrix("y"), T.dvector("v")
    outs = [T.exp(x), T.tanh(x), T.log1p(abs(x)), T.sin(x), abs(x) ** 1.7, T.erf(x),
            T.dot(x, v), T.dot(v, y), T.dot(v, v), T.dot(x, x.T), T.nnet.softmax(x),
            T.maximum(x, -x), x.T.sum(axis=1)]
    X, Y, V = rng.normal(size=(37, 53)), rng.normal(size=(53, 29)), rng.normal(size=53)
    X[0, :2] = [0.0, -0.0]
    native, tier = _native_and_tier([x, y, v], outs, [X, Y, V])
    check_tier_exact(native, tier)
    # NumPy itself differs from the kernels in some of these (the point of the tier)
    py = sg.function([x, y, v], outs, mode="py")(X, Y, V)
    assert any(not np.array_equal(a, b) for a, b in zip(py, native))


def test_large_sums_of_views_do_not_depend_on_the_layout_numba_knew(rng):
    # a contiguous slice typed as a strided view in native code: one pairwise sum,
    # as for the contiguous array the interpreter hands the tier's kernel
    x = T.dtensor3("x")
    outs = [x[1:].sum(), x[:, ::1].sum(), x.sum(axis=(1, 2)), x[:, ::2].sum()]
    X = rng.normal(size=(3, 100, 90))
    native, tier = _native_and_tier([x], outs, [X])
    check_tier_exact(native, tier)
    assert native[0] == np.sum(X[1:]) and native[1] == np.sum(X)  # NumPy's pairwise sums


def test_scan_body_runs_node_by_node_with_the_same_bits(rng):
    x, h0, W = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("W")
    hs, _ = sg.scan(lambda x_t, h, W: T.tanh(T.dot(W, h) + x_t), sequences=[x],
                    outputs_info=[h0], non_sequences=[W])
    cost = T.log(T.exp(hs).sum())
    outs = [hs, cost] + sg.grad(cost, [W, h0])
    native, tier = _native_and_tier([x, h0, W], outs,
                                    [rng.normal(size=(12, 5)), rng.normal(size=5),
                                     rng.normal(size=(5, 5))])
    check_tier_exact(native, tier)


def test_which_nodes_run_their_perform():
    x = T.dvector("x")
    assert _exact_on_interpreter((x * 2 + 1).owner)
    assert _exact_on_interpreter(x[1:].owner)
    assert not _exact_on_interpreter(T.exp(x).owner)
    assert not _exact_on_interpreter(T.maximum(x, 0).owner)  # NumPy: either zero's sign
    assert not _exact_on_interpreter(x.sum().owner)
    assert not _exact_on_interpreter(x.max().owner)


@pytest.mark.parametrize("steps", [40])
def test_training_loop_switching_to_native_code_matches_native_throughout(tmp_path, steps):
    """A shared-weight update loop run tiered (cold cache: the first calls on the
    tier, the rest native) gives the same weights, bit for bit, as native code
    from the first call."""
    def build():
        rng = np.random.default_rng(3)
        w = sg.shared(rng.normal(size=(4, 3)), name="w")
        x, y = T.dmatrix("x"), T.ivector("y")
        p = T.nnet.softmax(T.tanh(T.dot(x, w)))
        cost = T.nnet.categorical_crossentropy(p, y).mean()
        return w, sg.function([x, y], cost, updates=[(w, w - 0.5 * sg.grad(cost, w))],
                              mode="numba")

    data = np.random.default_rng(4)
    xs = data.normal(size=(steps, 8, 4))
    ys = data.integers(0, 3, size=(steps, 8)).astype("int32")
    with sg.change_flags(numba_tiered=True, cache_dir=str(tmp_path / "cache")):
        w_tier, f_tier = build()  # first: this process has not loaded the graph yet
        got = [float(f_tier(xs[t], ys[t])) for t in range(steps // 2)]
        assert f_tier._thunk.wait(timeout=600) and f_tier._thunk.failed is None
        assert f_tier._thunk.compiled_in == "worker", f_tier._thunk.worker_error
        got += [float(f_tier(xs[t], ys[t])) for t in range(steps // 2, steps)]
    w_native, f_native = build()
    ref = [float(f_native(xs[t], ys[t])) for t in range(steps)]
    assert got == ref
    np.testing.assert_array_equal(w_tier.get_value(), w_native.get_value())


def test_tiered_mode_tiers_only_graphs_that_need_no_kernel_compiled(tmp_path):
    """The tier answers the first call when every node runs without compiling (its
    perform, or a NumPy twin); a node whose twin would be its kernel compiled alone
    (erf has no NumPy twin) makes the graph compile first, as untiered: compiling
    kernels next to the worker made first results later, not sooner."""
    x = T.dvector("x")
    v = np.linspace(-2, 2, 7)
    with sg.change_flags(numba_tiered=True, cache_dir=str(tmp_path / "cache")):
        tiered = sg.function([x], T.tanh(x).sum(), mode="numba")
        first = tiered(v)
        assert not tiered._thunk.native_ready  # answered on the tier
        assert tiered._thunk.wait(timeout=600)
        assert float(tiered(v)) == float(first)
        compiled = sg.function([x], T.erf(x).sum(), mode="numba")
        compiled(v)
        assert compiled._thunk.native_ready  # no tier: compiled before answering
    g = sg.function([x], T.erf(x).sum(), mode="numba")
    assert tier_thunk(g.fgraph) is not None  # compiling twins, it can be tiered
    assert tier_thunk(g.fgraph, compile_twins=False) is None


def test_tiered_mode_compiles_first_for_large_inputs(tmp_path):
    """Node by node with NumPy temporaries, the tier is slow on large arrays, where one
    call repays a compile: above TIER_MAX_ELEMENTS input values the first call
    compiles."""
    from backends.numba.thunk import TIER_MAX_ELEMENTS

    x = T.dvector("x")
    with sg.change_flags(numba_tiered=True, cache_dir=str(tmp_path / "cache")):
        small = sg.function([x], T.tanh(x) * 2, mode="numba")
        small(np.zeros(TIER_MAX_ELEMENTS))
        assert not small._thunk.native_ready
        large = sg.function([x], T.tanh(x) * 3, mode="numba")
        large(np.zeros(TIER_MAX_ELEMENTS + 1))
        assert large._thunk.native_ready
