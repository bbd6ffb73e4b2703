"""The rewrite local_gemm (symgraph/tensor/rewriting/blas.py): sums with matrix products
become Gemm chains where the accumulator has the sum's full shape and the products
have no other readers; values equal the graph without rewrites on both backends."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgraph as sg
import symgraph.tensor as T
from symgraph.compile.mode import Mode
from symgraph.scan.op import Scan
from symgraph.tensor.blas import Gemm
from symgraph.tensor.dot import Dot
from symgraph.tensor.type import TensorType
from tests.utils import assert_allclose

pytestmark = pytest.mark.filterwarnings("error:.*no equilibrium")


def mat(dtype="float64", shape=(None, None), name=None):
    return TensorType(dtype, shape=shape)(name)


def ops(f, kind):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, kind)]


def compile_pair(mode, inputs, output):
    return (sg.function(inputs, output, mode=Mode(mode)),
            sg.function(inputs, output, mode=Mode(mode, optimizer=None)))


def values(rng, inputs, shapes):
    out = []
    for v, s in zip(inputs, shapes):
        x = rng.standard_normal(s)
        if v.dtype.startswith("complex"):
            x = x + 1j * rng.standard_normal(s)
        out.append(np.asarray(x, dtype=v.dtype))
    return out


z, a, b, c, d = (mat(name=k) for k in "zabcd")
s = TensorType("float64", shape=())("s")
row = mat(shape=(1, None), name="row")
SHAPES = {z: (3, 4), a: (3, 5), b: (5, 4), c: (3, 2), d: (2, 4), s: (), row: (1, 4)}

REWRITTEN = {  # expression -> number of Gemm nodes (and no Dot left but those expected)
    "z + a@b": (lambda: z + T.dot(a, b), 1, 0),
    "z - a@b": (lambda: z - T.dot(a, b), 1, 0),
    "a@b - z": (lambda: T.dot(a, b) - z, 1, 0),
    "-(z + a@b)": (lambda: -(z + T.dot(a, b)), 1, 0),
    "z + 2*a@b": (lambda: z + 2.0 * T.dot(a, b), 1, 0),
    "z - s*a@b": (lambda: z - T.dot(a, b) * s, 1, 0),
    "z + a@b + c@d": (lambda: z + T.dot(a, b) + T.dot(c, d), 2, 0),
    "z - a@b + 3*c@d": (lambda: z - T.dot(a, b) + 3.0 * T.dot(c, d), 2, 0),
    "a@b + c@d": (lambda: T.dot(a, b) + T.dot(c, d), 1, 1),
    "a@b + c@d + row": (lambda: T.tanh(T.dot(a, b) + T.dot(c, d) + row), 1, 1),
    "z + a@b + row": (lambda: z + T.dot(a, b) + row, 1, 0),
}

LEFT_ALONE = {  # expression -> number of Dot nodes kept
    "a@b + row": (lambda: T.dot(a, b) + row, 1),
    "row - a@b": (lambda: row - T.dot(a, b), 1),
    "a@b used twice": (lambda: [z + T.dot(a, b), T.exp(T.dot(a, b))], 1),
    "z * a@b": (lambda: z * T.dot(a, b), 1),
    "z + a@b*row": (lambda: z + T.dot(a, b) * row, 1),
}


@pytest.mark.parametrize("name", list(REWRITTEN))
def test_rewritten(name, mode, rng):
    build, n_gemm, n_dot = REWRITTEN[name]
    out = build()
    inputs = [v for v in SHAPES if v in sg.graph.basic.graph_inputs([out])]
    f, ref = compile_pair(mode, inputs, out)
    assert len(ops(f, Gemm)) == n_gemm, sg.printing.debugprint(f, file="str")
    assert len(ops(f, Dot)) == n_dot
    vals = values(rng, inputs, [SHAPES[v] for v in inputs])
    assert_allclose(f(*vals), ref(*vals))


@pytest.mark.parametrize("name", list(LEFT_ALONE))
def test_left_alone(name, mode, rng):
    build, n_dot = LEFT_ALONE[name]
    outs = build()
    outs = outs if isinstance(outs, list) else [outs]
    inputs = [v for v in SHAPES if v in sg.graph.basic.graph_inputs(outs)]
    f, ref = compile_pair(mode, inputs, outs)
    assert not ops(f, Gemm), sg.printing.debugprint(f, file="str")
    assert len(ops(f, Dot)) == n_dot
    vals = values(rng, inputs, [SHAPES[v] for v in inputs])
    for got, want in zip(f(*vals), ref(*vals)):
        assert_allclose(got, want)


@pytest.mark.parametrize("case", ["int", "vector", "z float32", "z broadcast 1x1"])
def test_left_alone_types(case):
    if case == "int":
        zi, ai, bi = (mat("int64") for _ in range(3))
        out, ins = zi + T.dot(ai, bi), [zi, ai, bi]
    elif case == "vector":
        v = TensorType("float64", shape=(None,))("v")
        out, ins = T.dvector() + T.dot(a, v), None
    elif case == "z float32":  # the sum is float64: z would need a cast, the product none
        zf = mat("float32")
        out, ins = zf + T.dot(a, b), [zf, a, b]
    else:
        zb = mat(shape=(1, 1))
        out, ins = zb + T.dot(a, b), [zb, a, b]
    inputs = ins if ins is not None else list(sg.graph.basic.graph_inputs([out]))
    f = sg.function(inputs, out, mode=Mode("py"))
    assert not ops(f, Gemm)


@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_dtypes(dtype, mode, rng):
    zz, aa, bb = (mat(dtype) for _ in range(3))
    ss = TensorType(dtype, shape=())("s")
    out = zz - ss * T.dot(aa, bb)
    f, ref = compile_pair(mode, [zz, ss, aa, bb], out)
    assert len(ops(f, Gemm)) == 1 and not ops(f, Dot)
    vals = values(rng, [zz, ss, aa, bb], [(3, 4), (), (3, 5), (5, 4)])
    assert_allclose(f(*vals), ref(*vals))


def test_negated_scale_keeps_nan_of_zero_times_inf(mode):
    # z - c * (a @ b) at c = 0 with an infinite product: NaN, as without the rewrite
    cs = TensorType("float64", shape=())("c")
    f, ref = compile_pair(mode, [z, cs, a, b], z - cs * T.dot(a, b))
    assert len(ops(f, Gemm)) == 1
    A = np.ones((3, 5))
    A[0, 0] = np.inf
    args = (np.ones((3, 4)), np.float64(0), A, np.ones((5, 4)))
    with np.errstate(invalid="ignore"):
        got, want = f(*args), ref(*args)
    assert np.isnan(want[0]).all() and np.isnan(got[0]).all()
    assert_allclose(got[1:], want[1:])


def test_accumulators_in_scan_body(mode, rng):
    """The backward scan of an RNN accumulates weight gradients as acc + dot(h.T, d):
    its body (rewritten with the default pipeline) holds Gemms, not Dot + add."""
    x, h0 = T.tensor3("x"), T.matrix("h0")
    W = sg.shared(rng.standard_normal((4, 4)) * 0.5, name="W")
    U = sg.shared(rng.standard_normal((3, 4)) * 0.5, name="U")

    def step(x_t, h, W, U):
        return T.tanh(T.dot(x_t, U) + T.dot(h, W))

    hs, _ = sg.scan(step, sequences=[x], outputs_info=[h0], non_sequences=[W, U])
    cost = (hs ** 2).sum()
    grads = sg.grad(cost, [W, U])
    f = sg.function([x, h0], grads, mode=Mode(mode))
    ref = sg.function([x, h0], grads, mode=Mode(mode, optimizer=None))
    bodies = [n.op for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]
    backward = [op for op in bodies if any(isinstance(v.owner.op, Gemm)
                                           for v in op.inner_outputs if v.owner is not None)]
    assert backward, "no scan body accumulates with Gemm"
    X, H = rng.standard_normal((5, 2, 3)), rng.standard_normal((2, 4))
    for got, want in zip(f(X, H), ref(X, H)):
        assert_allclose(got, want)


TERMS = {  # a term of a random sum: its expression, built from the shared leaves
    "z": lambda: z,
    "a@b": lambda: T.dot(a, b),
    "c@d": lambda: T.dot(c, d),
    "s*(a@b)": lambda: s * T.dot(a, b),
    "(c@d)*2": lambda: T.dot(c, d) * 2.0,
    "row": lambda: row,
}


@st.composite
def sums(draw):
    """A sum of 1 to 5 signed terms, maybe negated or inside a tanh."""
    picks = draw(st.lists(st.tuples(st.sampled_from(sorted(TERMS)), st.booleans()),
                          min_size=1, max_size=5))
    out = None
    for name, minus in picks:
        term = TERMS[name]()
        out = (-term if minus else term) if out is None else (out - term if minus else
                                                              out + term)
    wrap = draw(st.sampled_from(["none", "neg", "tanh"]))
    return {"none": out, "neg": -out, "tanh": T.tanh(out)}[wrap]


def test_rewritten_sums_keep_values():
    """Random signed sums of products, accumulators and a broadcast row: the rewritten
    graph computes the values of the graph without rewrites. On the interpreter only:
    the rewrite is the same for every backend (the numba kernel's values are tested
    above and in tests/backends/numba/test_blas.py), and each example is a new graph
    that numba would compile cold."""
    fired = []

    @settings(max_examples=40, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(out=sums())
    def check(out):
        inputs = [v for v in SHAPES if v in sg.graph.basic.graph_inputs([out])]
        f, ref = compile_pair("py", inputs, out)
        vals = values(np.random.default_rng(0), inputs, [SHAPES[v] for v in inputs])
        assert_allclose(f(*vals), ref(*vals))
        fired.append(bool(ops(f, Gemm)))

    check()
    assert any(fired) and not all(fired)


# ----------------------------------------------------------- local_sum_mul_to_dot

def _reductions(f):
    from symgraph.tensor.reduction import CAReduce
    return ops(f, CAReduce)


m3 = TensorType("float64", shape=(None, None, None))("m3")
m3s = TensorType("float64", shape=(2, 3, 4))("m3s")
vec = TensorType("float64", shape=(None,))("vec")
SUM_MUL = {  # expression -> (inputs, shapes)
    "sum(a * v[None, :], 1)": (lambda: T.sum(a * vec[None, :], axis=1), [a, vec], [(3, 5), (5,)]),
    "sum(v[:, None] * a, 0)": (lambda: T.sum(vec[:, None] * a, axis=0), [a, vec], [(3, 5), (3,)]),
    "sum(t * v[None, None, :], 2)": (lambda: T.sum(m3 * vec[None, None, :], axis=2),
                                     [m3, vec], [(2, 3, 4), (4,)]),
    "sum(t * v[:, None, None], 0)": (lambda: T.sum(vec[:, None, None] * m3, axis=0),
                                     [m3, vec], [(2, 3, 4), (2,)]),
    "static sum(t * v, 2)": (lambda: T.sum(m3s * vec[None, None, :], axis=2),
                             [m3s, vec], [(2, 3, 4), (4,)]),
    "sum(a * b * v, 1)": (lambda: T.sum(a * T.exp(z) * vec[None, :], axis=1),
                          [a, z, vec], [(3, 4), (3, 4), (4,)]),
}
SUM_MUL_LEFT_ALONE = {
    "middle axis": (lambda: T.sum(m3 * vec[None, :, None], axis=1), [m3, vec], [(2, 3, 4), (3,)]),
    "both axes": (lambda: T.sum(a * row, axis=(0, 1)), [a, row], [(1, 4), (1, 4)]),
    "v not broadcast": (lambda: T.sum(a * b.T, axis=1), [a, b], [(3, 5), (5, 3)]),
    "product used twice": (lambda: [T.sum(a * vec[None, :], axis=1), T.exp(a * vec[None, :])],
                           [a, vec], [(3, 5), (5,)]),
    "x broadcast too": (lambda: T.sum(row.T * vec[None, :], axis=1), [row, vec], [(1, 4), (4,)]),
}


@pytest.mark.parametrize("name", list(SUM_MUL))
def test_sum_of_product_with_a_vector_is_a_dot(name, mode, rng):
    build, inputs, shapes = SUM_MUL[name]
    out = build()
    f, ref = compile_pair(mode, inputs, out)
    assert f.rewrite_report().get("local_sum_mul_to_dot") == 1
    assert not _reductions(f) and len(ops(f, Dot)) == 1, sg.printing.debugprint(f, file="str")
    assert f.maker.fgraph.outputs[0].type == out.type
    vals = values(rng, inputs, shapes)
    assert_allclose(f(*vals), ref(*vals))
    vals[0][(0,) * vals[0].ndim] = np.inf  # inf and NaN (inf * 0) propagate alike
    vals[-1][0] = 0.0
    assert_allclose(f(*vals), ref(*vals))


@pytest.mark.parametrize("name", list(SUM_MUL_LEFT_ALONE))
def test_sum_of_product_left_alone(name, mode, rng):
    build, inputs, shapes = SUM_MUL_LEFT_ALONE[name]
    outs = build()
    outs = outs if isinstance(outs, list) else [outs]
    f, ref = compile_pair(mode, inputs, outs)
    assert not f.rewrite_report().get("local_sum_mul_to_dot")
    vals = values(rng, inputs, shapes)
    for got, want in zip(f(*vals), ref(*vals)):
        assert_allclose(got, want)


def test_sum_of_product_dtypes(rng):
    ai = mat("int64")
    vi = TensorType("int64", shape=(None,))("vi")
    f = sg.function([ai, vi], T.sum(ai * vi[None, :], axis=1), mode=Mode("py"))
    assert not f.rewrite_report().get("local_sum_mul_to_dot")  # no BLAS for integers
    af = mat("float32")
    vf = TensorType("float32", shape=(None,))("vf")
    f32 = sg.function([af, vf], T.sum(af * vf[None, :], axis=1), mode=Mode("py"))
    assert f32.rewrite_report().get("local_sum_mul_to_dot") == 1
    av, vv = values(rng, [af, vf], [(4, 3), (3,)])
    got = f32(av, vv)
    assert got.dtype == "float32"
    assert_allclose(got, (av * vv).sum(axis=1), rtol=1e-5)
