"""scan's forward semantics (Theano's) against Python loops, on every backend."""

import pickle

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph.basic import Apply
from symgraph.graph.op import Op
from symgraph.graph.type import Type
from symgraph.scan import Scan, scan, until
from symgraph.scan.utils import parse_step_return
from tests.scan.reference import ref_scan
from tests.utils import assert_allclose, check_infer_shape, run


def scan_nodes(f):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]


# --------------------------------------------------------------------------- basics

def test_cumulative_sum(mode, rng):
    x = T.dvector("x")
    h0 = T.dscalar("h0")
    out, updates = scan(lambda xt, h: h + xt, sequences=x, outputs_info=h0)
    assert not updates
    xv = rng.standard_normal(6)
    assert_allclose(run([x, h0], out, [xv, 1.5], mode), 1.5 + np.cumsum(xv))


def test_scan_over_rows_of_a_matrix_with_non_sequence(mode, rng):
    X = T.dmatrix("X")
    W = T.dmatrix("W")
    out, _ = scan(lambda row, W: T.dot(row, W), sequences=X, non_sequences=W)
    xv, wv = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    assert_allclose(run([X, W], out, [xv, wv], mode), xv @ wv)


def test_sequence_taps_negative_and_positive(mode, rng):
    x = T.dvector("x")
    out, _ = scan(lambda a, b, c: a - 2 * b + 3 * c,
                  sequences=dict(input=x, taps=[-1, 0, 1]))
    xv = rng.standard_normal(7)
    want = ref_scan(lambda a, b, c: a - 2 * b + 3 * c, seqs=[(xv, [-1, 0, 1])])[0]
    got = run([x], out, [xv], mode)
    assert got.shape == (5,)
    assert_allclose(got, want)


@pytest.mark.parametrize("taps", [[-2], [1, 2], [-3, -1]])
def test_sequence_taps_all_on_one_side_count_tap_zero(taps, rng):
    # Theano pretends tap 0 is used when cutting: taps [-2] run len-2 steps from x[0]
    x = T.dvector("x")
    out, _ = scan(lambda *a: sum(a), sequences=dict(input=x, taps=taps))
    xv = rng.standard_normal(8)
    want = ref_scan(lambda *a: sum(a), seqs=[(xv, taps)])[0]
    assert_allclose(run([x], out, [xv]), want)


def test_mit_sot_taps_minus_two_and_minus_one(mode):
    x0 = T.dvector("x0")
    out, _ = scan(lambda a, b: a + b, outputs_info=dict(initial=x0, taps=[-2, -1]),
                  n_steps=6)
    got = run([x0], out, [np.array([1.0, 1.0])], mode)
    assert_allclose(got, np.array([2.0, 3, 5, 8, 13, 21]))


def test_mit_sot_uses_the_first_k_rows_of_a_longer_initial_value():
    x0 = T.dvector("x0")
    out, _ = scan(lambda a, b: a - b, outputs_info=dict(initial=x0, taps=[-3, -1]),
                  n_steps=4)
    init = np.array([1.0, 2.0, 4.0, 100.0])
    want = ref_scan(lambda a, b: a - b, outs=[(init, [-3, -1])], n_steps=4)[0]
    assert_allclose(run([x0], out, [init]), want)


def test_several_outputs_some_not_fed_back(mode, rng):
    x = T.dmatrix("x")
    h0 = T.dvector("h0")

    def step(xt, h):
        new = T.tanh(xt + h)
        return [new.sum(), new, T.outer(new, xt)]

    outs, _ = scan(step, sequences=x, outputs_info=[None, h0, None])
    xv, hv = rng.standard_normal((5, 3)), rng.standard_normal(3)

    def np_step(xt, h):
        new = np.tanh(xt + h)
        return [new.sum(), new, np.outer(new, xt)]

    want = ref_scan(np_step, seqs=[(xv, [0])], outs=[(None, None), (hv, [-1]), (None, None)])
    got = run([x, h0], outs, [xv, hv], mode)
    assert [g.shape for g in got] == [(5,), (5, 3), (5, 3, 3)]
    for g, w in zip(got, want):
        assert_allclose(g, w)


def test_outputs_info_empty_means_all_nit_sot_and_return_list():
    x = T.dvector("x")
    outs, _ = scan(lambda v: [v * 2, v + 1], sequences=x)
    assert isinstance(outs, list) and len(outs) == 2
    one, _ = scan(lambda v: v * 2, sequences=x, return_list=True)
    assert isinstance(one, list) and len(one) == 1
    got = run([x], outs + one, [np.arange(3.0)])
    assert_allclose(got[0], np.arange(3.0) * 2)
    assert_allclose(got[1], np.arange(3.0) + 1)


def test_n_steps_only_and_static_shapes():
    a = T.dscalar("a")
    out, _ = scan(lambda h, a: h * a, outputs_info=np.float64(1.0), non_sequences=a,
                  n_steps=5)
    assert out.type.shape == (5,)
    assert_allclose(run([a], out, [2.0]), 2.0 ** np.arange(1, 6))


def test_static_length_follows_static_sequences():
    x = T.TensorType("float64", shape=(7, 2))("x")
    out, _ = scan(lambda a, b: a + b, sequences=dict(input=x, taps=[-2, 0]))
    assert out.type.shape == (5, 2)


def test_n_steps_shorter_than_sequence_uses_its_start(mode):
    x = T.dvector("x")
    out, _ = scan(lambda v: v * 10, sequences=x, n_steps=3)
    assert_allclose(run([x], out, [np.arange(5.0)], mode), np.array([0.0, 10, 20]))


def test_n_steps_longer_than_sequences_is_an_error():
    x = T.TensorType("float64", shape=(4,))("x")
    with pytest.raises(ValueError, match="n_steps is 6 but sequence x allows only 4"):
        scan(lambda v: v, sequences=x, n_steps=6)
    y = T.dvector("y")
    n = T.iscalar("n")
    out, _ = scan(lambda v: v, sequences=y, n_steps=n)
    f = sg.function([y, n], out)
    with pytest.raises(ValueError, match="n_steps is 6 but sequence 0 provides only 4"):
        f(np.zeros(4), 6)


def test_negative_n_steps_is_refused():
    with pytest.raises(ValueError, match="go_backwards"):
        scan(lambda h: h + 1, outputs_info=np.float64(0), n_steps=-3)
    n = T.iscalar("n")
    out, _ = scan(lambda h: h + 1, outputs_info=np.float64(0), n_steps=n)
    with pytest.raises(ValueError, match="n_steps must be >= 0, got -2"):
        sg.function([n], out)(-2)


def test_zero_steps_give_empty_outputs():
    n = T.iscalar("n")
    h0 = T.dvector("h0")
    outs, _ = scan(lambda h: [h + 1, h.sum()], outputs_info=[h0, None], n_steps=n)
    got = run([n, h0], outs, [0, np.zeros(3)])
    assert got[0].shape == (0, 3) and got[1].shape == (0,)
    # the step shape of an output not fed back is inferred from the inputs
    x = T.dmatrix("x")
    rows, _ = scan(lambda r: T.concatenate([r, r]), sequences=x, n_steps=n)
    assert run([x, n], rows, [np.zeros((4, 3)), 0]).shape == (0, 6)


def test_go_backwards_with_taps_and_n_steps(mode, rng):
    x = T.dvector("x")
    out, _ = scan(lambda a, b: a * 10 + b, sequences=dict(input=x, taps=[-1, 0]),
                  go_backwards=True)
    xv = rng.standard_normal(6)
    want = ref_scan(lambda a, b: a * 10 + b, seqs=[(xv, [-1, 0])], go_backwards=True)[0]
    assert_allclose(run([x], out, [xv], mode), want)
    # with n_steps shorter than the sequence, the last steps are used, in reverse
    out2, _ = scan(lambda v: v, sequences=x, n_steps=2, go_backwards=True)
    assert_allclose(run([x], out2, [np.arange(5.0)]), np.array([4.0, 3.0]))


def test_integer_and_complex_dtypes(mode, rng):
    xi = T.lvector("xi")
    acc, _ = scan(lambda v, h: h * 2 + v, sequences=xi, outputs_info=np.int64(0))
    xv = np.array([1, 2, 3, 4], dtype="int64")
    want = ref_scan(lambda v, h: h * 2 + v, seqs=[(xv, [0])], outs=[(np.int64(0), [-1])])[0]
    got = run([xi], acc, [xv], mode)
    assert got.dtype == np.int64 and np.array_equal(got, want)
    z = T.zvector("z")
    h0 = T.zscalar("h0")
    out, _ = scan(lambda v, h: h * v + 1j, sequences=z, outputs_info=h0)
    zv = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    want = ref_scan(lambda v, h: h * v + 1j, seqs=[(zv, [0])], outs=[(0.5 + 0j, [-1])])[0]
    assert_allclose(run([z, h0], out, [zv, 0.5 + 0j], mode), want)


def test_dtype_mismatch_between_initial_state_and_output_is_explained():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="initial state .* has dtype int64.*float64"):
        scan(lambda v, h: h + v, sequences=x, outputs_info=0)


def test_recurrent_output_must_keep_its_shape():
    h0 = T.dvector("h0")
    out, _ = scan(lambda h: T.concatenate([h, h]), outputs_info=h0, n_steps=2)
    with pytest.raises(ValueError, match="keep the shape of its initial state"):
        sg.function([h0], out)(np.zeros(2))


def test_wrong_number_of_outputs_info():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="returned 2 output.*outputs_info has 1"):
        scan(lambda v, h: [h + v, v], sequences=x, outputs_info=[T.dscalar()])


def test_taps_without_initial_and_positive_output_taps_are_errors():
    with pytest.raises(ValueError, match="no initial"):
        scan(lambda h: h, outputs_info=dict(taps=[-1]), n_steps=2)
    with pytest.raises(ValueError, match="must be negative"):
        scan(lambda h: h, outputs_info=dict(initial=T.dvector(), taps=[0]), n_steps=2)
    with pytest.raises(ValueError, match="n_steps or at least one sequence"):
        scan(lambda h: h + 1, outputs_info=T.dscalar())


# --------------------------------------------------------------------------- until

def test_until_stops_after_the_true_step(mode):
    h0 = T.dscalar("h0")
    out, _ = scan(lambda h: (h * 2, until(h * 2 > 20)), outputs_info=h0, n_steps=100)
    assert out.type.shape == (None,)
    got = run([h0], out, [1.0], mode)
    assert_allclose(got, np.array([2.0, 4, 8, 16, 32]))
    # never true: all steps
    assert_allclose(run([h0], out, [0.0], mode), np.zeros(100))


def test_until_with_sequences_and_nit_sot(rng):
    x = T.dvector("x")
    outs, _ = scan(lambda v, s: ([s + v, v * 2], until(s + v > 2.5)), sequences=x,
                   outputs_info=[np.float64(0), None])
    got = run([x], outs, [np.ones(10)])
    assert_allclose(got[0], np.array([1.0, 2, 3]))
    assert_allclose(got[1], np.array([2.0, 2, 2]))


# --------------------------------------------------------------------------- shared state

def test_shared_variable_is_captured_and_strict_refuses_it():
    w = sg.shared(np.array(3.0), name="w")
    x = T.dvector("x")
    out, _ = scan(lambda v: v * w, sequences=x)
    assert_allclose(run([x], out, [np.arange(3.0)]), np.arange(3.0) * 3)
    with pytest.raises(ValueError, match="strict=True.*w"):
        scan(lambda v: v * w, sequences=x, strict=True)
    out2, _ = scan(lambda v, w: v * w, sequences=x, non_sequences=w, strict=True)
    assert_allclose(run([x], out2, [np.arange(3.0)]), np.arange(3.0) * 3)


def test_free_variable_is_captured_and_loop_invariant_work_is_hoisted():
    x = T.dvector("x")
    a = T.dscalar("a")
    out, _ = scan(lambda v: v * T.exp(a), sequences=x)
    node = out.owner
    assert isinstance(node.op, Scan)
    # exp(a) is computed once, outside the loop
    assert any(i.owner is not None and "exp" in str(i.owner.op) for i in node.inputs)
    assert_allclose(run([x, a], out, [np.arange(3.0), 1.0]), np.arange(3.0) * np.e)


def test_updates_of_a_shared_accumulator(mode):
    acc = sg.shared(np.float64(0.0), name="acc")
    x = T.dvector("x")

    def step(v):
        new = acc + v
        return new * 1.0, {acc: new}

    out, updates = scan(step, sequences=x)
    assert list(updates) == [acc]
    f = sg.function([x], out, updates=updates, mode=mode)
    # each step sees the value written by the previous one
    assert_allclose(f(np.array([1.0, 2.0, 3.0])), np.array([1.0, 3.0, 6.0]))
    assert acc.get_value() == 6.0
    assert_allclose(f(np.array([1.0])), np.array([7.0]))


def test_return_forms_are_parsed():
    a, b = T.dscalar(), T.dscalar()
    s = sg.shared(np.float64(0))
    c = until(a > 0)
    assert parse_step_return(a) == ([a], [], None)
    assert parse_step_return([a, b]) == ([a, b], [], None)
    assert parse_step_return((a, {s: b})) == ([a], [(s, b)], None)
    assert parse_step_return(({s: b}, a)) == ([a], [(s, b)], None)
    o, u, cond = parse_step_return((a, c))
    assert (o, u, cond) == ([a], [], c.condition)
    o, u, cond = parse_step_return(([a, b], [(s, a)], c))
    assert (o, u, cond) == ([a, b], [(s, a)], c.condition)
    o, u, cond = parse_step_return(({s: a}, c))
    assert (o, u, cond) == ([], [(s, a)], c.condition)
    with pytest.raises(ValueError, match="until"):
        parse_step_return((c, a))


class GenType(Type):
    """Values are numpy Generators: a non-tensor loop state."""

    def filter(self, data, strict=False, allow_downcast=None):
        if not isinstance(data, np.random.Generator):
            raise TypeError(f"expected a numpy Generator, got {type(data).__name__}")
        return data

    def __eq__(self, other):
        return type(other) is GenType

    def __hash__(self):
        return hash(GenType)

    @property
    def variable_type(self):
        return sg.Variable


class Normal(Op):
    """(rng, n) -> (new rng, n standard normal draws); functional: the input is copied."""

    __props__ = ()

    def make_node(self, rng, n):
        n = T.as_tensor_variable(n)
        return Apply(self, [rng, n], [GenType()(), T.dvector()])

    def perform(self, node, inputs, out):
        import copy
        g = copy.deepcopy(inputs[0])
        out[1][0] = g.standard_normal(int(inputs[1]))
        out[0][0] = g


def test_non_tensor_state_is_carried_and_returned_in_updates():
    rng_var = sg.SharedVariable(GenType(), np.random.default_rng(3), name="rng")
    x = T.dvector("x")

    def step(v):
        new_rng, draw = Normal()(rng_var, 2)
        return v + draw.sum(), {rng_var: new_rng}

    out, updates = scan(step, sequences=x)
    f = sg.function([x], out, updates=updates)
    g = np.random.default_rng(3)
    want = np.array([i + g.standard_normal(2).sum() for i in range(3)])
    assert_allclose(f(np.arange(3.0)), want)
    # the generator advanced by three steps; the next call continues from there
    want2 = np.array([g.standard_normal(2).sum()])
    assert_allclose(f(np.zeros(1)), want2)


# --------------------------------------------------------------------------- nesting

def test_nested_scan(mode, rng):
    X = T.dmatrix("X")
    c = T.dscalar("c")

    def outer_step(row, h):
        inner, _ = scan(lambda v, g: g * c + v, sequences=row, outputs_info=h)
        return inner[-1]

    out, _ = scan(outer_step, sequences=X, outputs_info=np.float64(0))
    xv = rng.standard_normal((3, 4))
    h, want = 0.0, []
    for row in xv:
        for v in row:
            h = h * 0.5 + v
        want.append(h)
    assert_allclose(run([X, c], out, [xv, 0.5], mode), np.array(want))


# --------------------------------------------------------------------------- graph-level

def test_infer_shape(rng):
    x = T.dmatrix("x")
    h0 = T.dvector("h0")
    y0 = T.dmatrix("y0")

    def step(a, b, h, y2, y1):
        return [h + a, T.outer(a, b), y1 + y2]

    outs, _ = scan(step, sequences=dict(input=x, taps=[0, 1]),
                   outputs_info=[h0, None, dict(initial=y0, taps=[-2, -1])])
    node = outs[0].owner.inputs[0].owner
    check_infer_shape(node.outputs, [x, h0, y0],
                      [rng.standard_normal((5, 3)), rng.standard_normal(3),
                       rng.standard_normal((2, 4))])


def test_shape_of_an_output_does_not_run_the_loop():
    x = T.dmatrix("x")
    out, _ = scan(lambda row: T.outer(row, row), sequences=x)
    f = sg.function([x], out.shape)
    assert not scan_nodes(f)
    assert tuple(f(np.zeros((4, 3)))) == (4, 3, 3)


def test_identical_scans_merge_and_different_ones_do_not():
    x = T.dvector("x")
    a, _ = scan(lambda v: T.exp(v), sequences=x)
    b, _ = scan(lambda v: T.exp(v), sequences=x)
    c, _ = scan(lambda v: T.sin(v), sequences=x)
    assert a.owner.op == b.owner.op and hash(a.owner.op) == hash(b.owner.op)
    assert a.owner.op != c.owner.op
    # equal ops merge as nodes; the sin loop stays apart (scan_merge, the fusion of
    # loops of the same length, would join it too: see test_rewriting.py)
    from symgraph.compile.mode import get_mode
    f = sg.function([x], [a, b, c], mode=get_mode().excluding("scan_merge"))
    assert len(scan_nodes(f)) == 2
    got = f(np.arange(3.0))
    assert_allclose(got[0], np.exp(np.arange(3.0)))
    assert_allclose(got[2], np.sin(np.arange(3.0)))


def test_constant_inputs_are_folded_and_pickling_works():
    out, _ = scan(lambda h: h * 2, outputs_info=np.float64(1), n_steps=4)
    f = sg.function([], out)
    assert_allclose(f(), np.array([2.0, 4, 8, 16]))
    x = T.dvector("x")
    out2, _ = scan(lambda v, h: h + v, sequences=x, outputs_info=np.float64(0))
    g = pickle.loads(pickle.dumps(sg.function([x], out2)))
    assert_allclose(g(np.ones(3)), np.array([1.0, 2, 3]))


def test_debugprint_shows_the_scan():
    x = T.dvector("x")
    out, _ = scan(lambda v, h: h + v, sequences=x, outputs_info=np.float64(0), name="acc")
    text = sg.debugprint(out, file="str")
    assert "Scan{acc}{seqs=1, taps=[-1]" in text
    inner = out.owner.inputs[0].owner.op.inner_debugprint()
    assert "add" in inner


def test_inner_graph_is_rewritten_when_compiled():
    x = T.dvector("x")
    out, _ = scan(lambda v, h: (T.exp(v) * 1.0 + 0.0) + h * 1.0, sequences=x,
                  outputs_info=np.float64(0))
    f = sg.function([x], out)
    (node,) = scan_nodes(f)
    assert node.op.inner_rewritten
    before = out.owner.inputs[0].owner.op
    n_before = len(sg.FunctionGraph(before.inner_inputs, before.inner_outputs).apply_nodes)
    n_after = len(sg.FunctionGraph(node.op.inner_inputs, node.op.inner_outputs).apply_nodes)
    assert n_after < n_before
    assert_allclose(f(np.arange(3.0)), np.cumsum(np.exp(np.arange(3.0))))
    # no rewrites at all: the loop body stays as written
    g = sg.function([x], out, mode=sg.Mode("py", optimizer=None))
    assert not scan_nodes(g)[0].op.inner_rewritten


def test_random_stream_inside_the_loop_advances_per_step():
    from symgraph.tensor.random import RandomStream

    srng = RandomStream(seed=42)
    x = T.dvector("x")
    out, updates = scan(lambda v: v + srng.normal(0, 1, size=()), sequences=x)
    assert len(updates) == 1
    f = sg.function([x], out, updates=updates)
    g = np.random.default_rng(np.random.SeedSequence(42).spawn(1)[0])
    want = np.array([g.normal(0, 1) for _ in range(6)])
    assert_allclose(np.concatenate([f(np.zeros(3)), f(np.zeros(3))]), want)
