"""Scan in the numba backend: a native loop (dispatch/scan.py), checked against the
Python interpreter. Each test compiles one small numba function; several scans
share a function where they can, to keep compilations few."""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from backends.numba.dispatch.objmode import ObjectModeWarning
from symgraph.scan import Scan, scan, until
from tests.utils import assert_allclose

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))


def compile_both(inputs, outputs, updates=None):
    """The function in mode "py" and in mode "numba"; the numba one must not fall
    back to object mode and must be cacheable on disk."""
    ref = sg.function(inputs, outputs, mode="py", updates=updates, on_unused_input="ignore")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ObjectModeWarning)
        f = sg.function(inputs, outputs, mode="numba", updates=updates,
                        on_unused_input="ignore")
    assert f._thunk.cacheable
    assert any(isinstance(n.op, Scan) for n in f._thunk.order)
    return f, ref


def check_both(inputs, outputs, values):
    f, ref = compile_both(inputs, outputs)
    got, want = f(*values), ref(*values)
    for g, w in zip(got, want):
        assert_allclose(g, w)
    return got


def test_recurrence_several_outputs_and_n_steps_only(rng):
    x = T.dmatrix("x")
    h0 = T.dvector("h0")
    W = T.dmatrix("W")
    # h fed back, y (a vector) and its norm (0-d) not: a sequence, a non-sequence
    [h, y, s], _ = scan(lambda row, h, W: (T.tanh(row + T.dot(h, W)), 2.0 * h, (h ** 2).sum()),
                        sequences=x, outputs_info=[h0, None, None], non_sequences=W)
    # n_steps only, with a constant array in the step function (an inner constant)
    c = np.array([1.0, -2.0])
    p = scan(lambda a: a * c + 1.0, outputs_info=T.ones(2), n_steps=4)[0]
    got = check_both([x, h0, W], [h, y, s, p],
                     [rng.standard_normal((5, 2)), rng.standard_normal(2),
                      rng.standard_normal((2, 2))])
    assert got[0].shape == (5, 2) and got[2].shape == (5,)
    assert_allclose(got[3][-1], np.array([5.0, 11.0]))


def test_taps_of_outputs_and_sequences_and_go_backwards(rng):
    x = T.dvector("x")
    init = T.dvector("init")
    # mit_sot taps [-2, -1] (Fibonacci-like) reading a sequence at taps [-1, 0, 2]
    fib = scan(lambda a, b, c, u, v: u + v + 0.1 * (a - b + c),
               sequences=dict(input=x, taps=[-1, 0, 2]),
               outputs_info=dict(initial=init, taps=[-2, -1]))[0]
    # backwards over the sequence, with 2-d nit_sot steps
    back = scan(lambda v, h: (h * 0.5 + v, T.outer(T.stack([v, h]), T.stack([h, 1.0]))),
                sequences=x, outputs_info=[T.constant(0.0), None], go_backwards=True)[0]
    got = check_both([x, init], [fib] + back, [rng.standard_normal(7), np.array([1.0, 2.0])])
    assert got[0].shape == (4,) and got[2].shape == (7, 2, 2)


def test_until_stops_and_trims():
    lim = T.dscalar("lim")

    def step(h, lim):
        return [h * 1.1 + 1.0, h * 2], until(h > lim)

    # up to 100 steps: the buffers grow while the loop runs (past 16 steps); nit_sot too
    [h, d], _ = scan(step, outputs_info=[T.constant(0.0), None], non_sequences=lim,
                     n_steps=100)
    f, ref = compile_both([lim], [h, d])
    for value in (50.0, 1e9, -1.0):
        got, want = f(value), ref(value)
        for g, w in zip(got, want):
            assert_allclose(g, w)
    assert f(50.0)[0].shape[0] == 20 and f(1e9)[0].shape[0] == 100 and f(-1.0)[0].shape == (1,)


def test_nested_scan_with_inner_constants_and_zero_steps(rng):
    X = T.dmatrix("X")
    c = T.dscalar("c")
    n = T.lscalar("n")
    shift = np.array([1.0, -1.0])  # a constant of the innermost graph

    def outer_step(row, h):
        inner, _ = scan(lambda v, g: g * c + v + shift, sequences=row, outputs_info=h)
        return inner[-1], inner

    [last, rows], _ = scan(outer_step, sequences=X, outputs_info=[np.zeros(2), None],
                           n_steps=n)
    f, ref = compile_both([X, c, n], [last, rows])
    xv = rng.standard_normal((3, 4))
    for steps in (3, 0):
        got, want = f(xv, 0.5, steps), ref(xv, 0.5, steps)
        for g, w in zip(got, want):
            assert_allclose(g, w)
    # zero steps: the stacked output still has the step shape (4, 2)
    assert f(xv, 0.5, 0)[1].shape == (0, 4, 2)


def test_integer_and_complex_dtypes(rng):
    xi = T.lvector("xi")
    xc = T.zvector("xc")
    acc = scan(lambda v, a: a * 3 + v, sequences=xi, outputs_info=np.int64(1))[0]
    cum = scan(lambda v, h: h * (0.5 + 0.5j) + v, sequences=xc,
               outputs_info=np.complex128(1j))[0]
    small = scan(lambda v: (v % 7).astype("int8"), sequences=xi)[0]
    got = check_both([xi, xc], [acc, cum, small],
                     [rng.integers(-5, 5, 6), rng.standard_normal(4) + 1j])
    assert got[0].dtype == np.int64 and got[1].dtype == np.complex128 \
        and got[2].dtype == np.int8


def test_random_generators_are_native_loop_states():
    from symgraph.tensor.random import RandomStream
    from symgraph.tensor.random_type import generator_states_equal

    srng = RandomStream(seed=3)
    x = T.dvector("x")
    p = T.dvector("p")
    out, updates = scan(lambda v: v + srng.normal(0.0, 1.0, size=(2,)).sum(), sequences=x)

    # a multinomial draw (NumPy's, in an object-mode section of the random helpers) in a
    # loop that stops when it draws symbol 3
    def sample(prev):
        nxt = T.argmax(srng.multinomial(1, p))
        return nxt, until(T.eq(nxt, 3))

    symbols, more = scan(sample, outputs_info=T.constant(np.int64(0)), n_steps=50)
    updates.update(more)
    gens = list(updates)
    start = [g.get_value() for g in gens]
    f, ref = compile_both([x, p], [out, symbols], updates=updates)
    xv, pv = np.arange(3.0), np.array([0.3, 0.3, 0.3, 0.1])
    got = [f(xv, pv) for _ in range(3)]
    end = [g.get_value() for g in gens]
    for g, s0 in zip(gens, start):
        g.set_value(s0)
    want = [ref(xv, pv) for _ in range(3)]
    for a, b in zip(got, want):
        assert_allclose(a[0], b[0])
        assert np.array_equal(a[1], b[1])
    # both backends advanced the generators alike
    assert all(generator_states_equal(e, g.get_value()) for e, g in zip(end, gens))


def test_error_inside_the_loop_names_the_node():
    n = T.lvector("n")
    # the stacked output changes shape at step 3
    out, _ = scan(lambda v: T.ones(v), sequences=n)
    f, _ = compile_both([n], out)
    assert_allclose(f(np.array([2, 2])), np.ones((2, 2)))
    with pytest.raises(ValueError) as info:
        f(np.array([2, 2, 2, 3]))
    text = str(info.value)
    assert "at step 3" in text and "Apply node that failed: Scan" in text


@pytest.mark.skipif(not os.path.exists(os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                                    "symgraph", "scan", "grad.py")),
                    reason="the gradient of Scan is not written yet")
def test_elman_bptt_gradient_runs_natively(rng):
    """The gradient of an Elman RNN's loss: the backward pass is a second Scan."""
    n_in, n_h, n_out, steps = 3, 4, 3, 5
    x = T.dmatrix("x")
    y = T.lvector("y")
    Wx = sg.shared(rng.uniform(-0.5, 0.5, (n_in, n_h)), name="Wx")
    Wh = sg.shared(rng.uniform(-0.5, 0.5, (n_h, n_h)), name="Wh")
    Wy = sg.shared(rng.uniform(-0.5, 0.5, (n_h, n_out)), name="Wy")
    h0 = T.zeros(n_h)

    def step(xt, yt, h):
        h = T.tanh(T.dot(xt, Wx) + T.dot(h, Wh))
        p = T.nnet.softmax(T.dot(h, Wy)[None])
        return h, T.nnet.categorical_crossentropy(p, yt[None])[0]

    [h, nll], _ = scan(step, sequences=[x, y], outputs_info=[h0, None])
    loss = nll.mean()
    grads = sg.grad(loss, [Wx, Wh, Wy])
    f, ref = compile_both([x, y], [loss] + grads)
    scans = [n for n in f._thunk.order if isinstance(n.op, Scan)]
    assert len(scans) >= 2
    xv = rng.standard_normal((steps, n_in))
    yv = rng.integers(0, n_out, steps)
    for g, w in zip(f(xv, yv), ref(xv, yv)):
        assert_allclose(g, w)


# a scan whose inner graph holds constants, in a process of its own: the first process
# compiles the graph function, the second loads it (and the scan kernel in it) from disk
_CACHE_SCRIPT = """
import json
import numpy as np
import symgraph as sg
import symgraph.tensor as T
from symgraph.scan import scan
x = T.dmatrix("x")
out, _ = scan(lambda r, h: T.tanh(r * np.array([1.0, -2.0]) + h), sequences=x,
              outputs_info=T.zeros(2))
f = sg.function([x], out, mode="numba")
res = f(np.arange(6.0).reshape(3, 2) / 10)
stats = f._thunk.jitted.stats
print(json.dumps({"hits": sum(stats.cache_hits.values()),
                  "misses": sum(stats.cache_misses.values()),
                  "cacheable": bool(f._thunk.cacheable), "out": res.tolist()}))
"""


def test_a_second_process_loads_the_scan_from_the_disk_cache(tmp_path):
    env = dict(os.environ, SYMGRAPH_FLAGS=f"cache_dir={tmp_path / 'cache'},numba_tiered=False")
    runs = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", _CACHE_SCRIPT], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    first, second = runs
    assert first["cacheable"] and (first["hits"], first["misses"]) == (0, 1), first
    assert (second["hits"], second["misses"]) == (1, 0), second
    assert first["out"] == second["out"]


# ------------------------------------------------------- accumulators added into in place

def _accumulating_scan(read_acc=False, stack=False):
    """A loop whose state ``acc`` (2-d, an outer input) becomes
    ``acc + x_t.T @ (x_t @ W)`` by a Gemm each step; with ``read_acc`` the step also
    stacks the column sums of acc (another reader), with ``stack`` it stacks the new
    acc itself (the Gemm's result is then a stacked output and the state's value)."""
    from symgraph.tensor.blas import gemm

    x_t, acc, W = T.dmatrix("x_t"), T.dmatrix("acc"), T.dmatrix("W")
    new = gemm(acc, 1.0, x_t.T, T.dot(x_t, W), 1.0)
    stacked = [acc.sum(axis=0)] if read_acc else [new] if stack else []
    op = Scan([x_t, acc, W], stacked + [new], n_seqs=1, n_states=1, n_nit=len(stacked))
    xs, acc0, Wv = T.tensor3("xs"), T.dmatrix("acc0"), T.dmatrix("Wv")
    res = op(xs.shape[0], xs, acc0, Wv)
    return [xs, acc0, Wv], res if isinstance(res, list) else [res]


def _numpy_accumulation(xs, acc0, W):
    acc, seen, sums = acc0.copy(), [], []
    for x in xs:
        sums.append(acc.sum(axis=0))
        acc = acc + x.T @ (x @ W)
        seen.append(acc)
    return acc, np.array(seen), np.array(sums)


@pytest.mark.parametrize("variant", ["alone", "stacked", "read_elsewhere"])
def test_an_accumulator_state_is_added_into_in_place(variant, rng, monkeypatch):
    from backends.numba.dispatch import scan as dscan
    from backends.numba.dispatch.dot import GemmInPlace

    inputs, outputs = _accumulating_scan(read_acc=variant == "read_elsewhere",
                                         stack=variant == "stacked")
    f, ref = compile_both(inputs, outputs)
    (node,) = [n for n in f._thunk.order if isinstance(n.op, Scan)]
    body = dscan._inner_fgraph(node.op)
    owned = dscan._accumulate_in_place(node.op, body)
    in_place = [n for n in body.apply_nodes if isinstance(n.op, GemmInPlace)]
    assert (owned, len(in_place)) == (([], 0) if variant == "read_elsewhere" else ([0], 1))
    # 40 x 3 @ 3 x 40 products: BLAS, not dotlib's small loop
    xs, acc0, W = rng.standard_normal((4, 3, 40)), rng.standard_normal((40, 40)), \
        rng.standard_normal((40, 40))
    kept = acc0.copy()
    got = f(xs, acc0, W)
    again = f(xs, acc0, W)  # each call starts from the caller's value, untouched
    np.testing.assert_array_equal(acc0, kept)
    final, seen, sums = _numpy_accumulation(xs, kept, W)
    want = {"alone": [final], "stacked": [seen, final], "read_elsewhere": [sums, final]}
    for g, a, r, w in zip(got, again, ref(xs, acc0, W), want[variant]):
        np.testing.assert_array_equal(g, a)
        assert_allclose(g, r)
        assert_allclose(g, w)
    # the same bits as the copying Gemm
    monkeypatch.setattr(dscan, "_accumulate_in_place", lambda op, fg: [])
    monkeypatch.setattr(dscan, "_built", {})
    plain = sg.function(inputs, outputs, mode="numba")
    for g, p in zip(got, plain(xs, acc0, W)):
        np.testing.assert_array_equal(g, p)


def test_gemm_in_place_on_the_interpreter_writes_into_z(rng):
    """GemmInPlace.perform (the object-mode fallback's path) gives Gemm's values in
    z itself."""
    from backends.numba.dispatch.dot import GemmInPlace
    from symgraph.tensor.blas import gemm

    z, x, y = T.dmatrix("z"), T.dmatrix("x"), T.dmatrix("y")
    node = GemmInPlace()(z, 0.5, x, y, 2.0).owner
    assert node.op.destroy_map == {0: [0]}
    zv, xv, yv = rng.standard_normal((3, 4)), rng.standard_normal((3, 2)), \
        rng.standard_normal((2, 4))
    want = sg.function([z, x, y], gemm(z, 0.5, x, y, 2.0), mode="py")(zv, xv, yv)
    store = [[None]]
    node.op.perform(node, [zv, np.asarray(0.5), xv, yv, np.asarray(2.0)], store)
    assert store[0][0] is zv
    np.testing.assert_array_equal(zv, want)
