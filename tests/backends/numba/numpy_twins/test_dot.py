"""NumPy twins of the dot family (backends/numba/numpy_twins/dot.py) give the numba
kernels' values to the bit.

The helpers ``mm`` and ``gemm`` against dotlib's compiled ones, then each op's twin
against its kernel compiled alone, on shapes with lengths 0 and 1, small products
(the loops) and BLAS-sized ones (dot, gemv, gemm), operands of every layout (C, F,
strided, negative strides, stride 0, permuted axes), every dtype the kernels take,
and values with NaN, inf and zeros of both signs. Compiled code is made for arrays
of any layout ('A' signatures), so that one compile serves every layout: the
kernels decide from the strides at run time, and so do the twins."""

from __future__ import annotations

import functools

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from numba import types

import symgraph as sg
import symgraph.tensor as T
from backends.numba.dispatch import dotlib
from backends.numba.exact import _twin, step_for
from backends.numba.numpy_twins import dot as twins
from backends.numba.numpy_twins import numpy_twin
from symgraph.graph.fg import FunctionGraph
from symgraph.graph.utils import ShapeError
from symgraph.tensor.blas import Gemm
from symgraph.tensor.dot import BatchedDot, Dot, MatMul, TensorDot
from tests.backends.numba.utils import check_tier_exact, tier_outputs

FLOATS = ["float32", "float64", "complex64", "complex128"]
DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"] \
    + FLOATS
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# lengths that make loops (m * n * k <= 4096, 16 ** 3 on the edge) and BLAS calls
LENGTHS = [0, 1, 2, 3, 5, 16, 17, 70]


# ------------------------------------------------------------------ values, layouts

def _random(rng, shape, dtype, kind):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < (0.05 if kind == "pool" else 0.5)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        lo, hi = (-3, 3) if kind == "pool" else (int(info.min), int(info.max))
        return rng.integers(max(lo, int(info.min)), hi, size=shape, dtype=dtype,
                            endpoint=True)

    def part():
        if kind == "pool":  # zeros of both signs meet in the sums; 0 * inf
            x = rng.choice(np.array([0.0, -0.0, 1.0, -1.0, 0.5]), size=shape)
        else:
            x = rng.normal(size=shape) * 10.0 ** rng.integers(-3, 4, size=shape)
        if kind == "special":
            at = rng.random(shape) < 0.1
            x[at] = rng.choice(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0]), size=at.sum())
        return x
    if dtype.kind == "f":
        return part().astype(dtype)
    x = np.empty(shape, dtype)
    x.real, x.imag = part(), part()
    return x


def _arrange(x, layout, rng):
    """An array of x's values (x[0]'s repeated, for "B") in ``layout``; never
    read-only (numba types read-only arrays apart)."""
    if x.ndim == 0 or layout == "C":
        return np.ascontiguousarray(x)
    if layout == "F":
        return np.asfortranarray(x)
    if layout == "S":  # every other element along the last axis
        wide = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), x.dtype)
        wide[..., ::2] = x
        return wide[..., ::2]
    if layout == "N":  # negative strides
        return np.flip(np.ascontiguousarray(np.flip(x)))
    if layout == "B":  # stride 0 along the first axis
        row = np.ascontiguousarray(x[:1])
        return np.lib.stride_tricks.as_strided(row, x.shape, (0,) + row.strides[1:])
    if layout == "P":  # axes permuted in memory
        perm = rng.permutation(x.ndim)
        return np.ascontiguousarray(x.transpose(perm)).transpose(np.argsort(perm))
    raise ValueError(layout)


LAYOUTS = ["C", "F", "S", "N", "B", "P"]


@st.composite
def operands(draw, shapes, dtype):
    """Arrays of the given shapes and dtype, each in a drawn layout, with values of a
    drawn kind."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    kind = draw(st.sampled_from(["normal", "pool", "special"]))
    return [_arrange(_random(rng, s, dtype, kind), draw(st.sampled_from(LAYOUTS)), rng)
            for s in shapes]


def assert_same_bits(got, want):
    """Same dtype and shape, equal values with NaNs in the same places and zeros of
    the same sign (real and imaginary parts apart); the twin's array C-contiguous."""
    assert isinstance(got, np.ndarray) and got.flags.c_contiguous
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, \
        (got.dtype, got.shape, want.dtype, want.shape)
    parts = [(got.real, want.real), (got.imag, want.imag)] if got.dtype.kind == "c" \
        else [(got, want)]
    for g, w in parts:
        assert np.array_equal(g, w, equal_nan=g.dtype.kind == "f"), (g, w)
        if g.dtype.kind == "f":
            assert np.array_equal(np.signbit(g) & ~np.isnan(g), np.signbit(w) & ~np.isnan(w)), \
                ("sign of zeros", g, w)


# ------------------------------------------------------------------ the helpers

def _mm_py(a, b, out):
    dotlib.mm(a[::1, ::1], b[::1, ::1], out)


def _gemm_py(z, alpha, x, y, beta, out):
    dotlib.gemm(z[::1, ::1], alpha, x[::1, ::1], y[::1, ::1], beta, out)


@functools.lru_cache(maxsize=None)
def _native_mm(dtype):
    t = numba.from_dtype(np.dtype(dtype))
    a = types.Array(t, 2, "A")
    return numba.njit(types.void(a, a, types.Array(t, 2, "C")))(_mm_py)


@functools.lru_cache(maxsize=None)
def _native_gemm(dtype):
    t = numba.from_dtype(np.dtype(dtype))
    a = types.Array(t, 2, "A")
    return numba.njit(types.void(a, t, a, a, t, types.Array(t, 2, "C")))(_gemm_py)


@st.composite
def products(draw, dtypes):
    dtype = draw(st.sampled_from(dtypes))
    m, k, n = (draw(st.sampled_from(LENGTHS)) for _ in "mkn")
    a, b = draw(operands([(m, k), (k, n)], dtype))
    return a, b


def _check_mm(a, b):
    out = np.full((a.shape[0], b.shape[1]), 7, a.dtype)
    _native_mm(a.dtype)(a, b, out)
    assert_same_bits(twins.mm(a, b), out)


@SETTINGS
@given(products(DTYPES))
@example((np.ones((16, 16)), np.ones((16, 16))))  # 16 ** 3: still the loop
@example((np.ones((1, 5000)), np.ones((5000, 1))))  # BLAS dot
@example((np.ones((1, 4096), np.float32), np.ones((4096, 1), np.float32)))
def test_mm_is_dotlib_mm(ab):
    _check_mm(*ab)


@pytest.mark.parametrize("dtype", FLOATS)
def test_mm_blas_calls_on_every_layout(rng, dtype):
    """dot, gemv with the matrix on either side, gemm; each operand C, F, or copied."""
    for m, k, n in [(1, 5000, 1), (70, 300, 1), (1, 300, 70), (40, 50, 60), (50, 1, 100),
                    (3, 2000, 4)]:
        for la in LAYOUTS:
            for lb in LAYOUTS:
                a = _arrange(_random(rng, (m, k), dtype, "normal"), la, rng)
                b = _arrange(_random(rng, (k, n), dtype, "normal"), lb, rng)
                _check_mm(a, b)


def test_small_sums_one_p_at_a_time(rng, monkeypatch):
    """Past ``_AT_ONCE`` products the small-product sums go p by p: the same bits."""
    monkeypatch.setattr(twins, "_AT_ONCE", 0)
    for dtype in FLOATS:
        for kind in ("normal", "pool", "special"):
            for m, k, n in [(7, 10, 10), (10, 10, 1), (1, 40, 3), (4, 0, 3)]:
                a = _arrange(_random(rng, (m, k), dtype, kind), "N", rng)
                _check_mm(a, _random(rng, (k, n), dtype, kind))


@st.composite
def gemm_args(draw, dtypes=tuple(FLOATS)):
    dtype = draw(st.sampled_from(dtypes))
    m, k, n = (draw(st.sampled_from(LENGTHS)) for _ in "mkn")
    z, x, y = draw(operands([(m, n), (m, k), (k, n)], dtype))
    pool = [0, 1, -1, 2.5, -0.0, np.nan, np.inf, 1e-3]
    if dtype.startswith("complex"):
        pool += [1j, 0.5 - 2j, complex(0.0, -0.0)]
    alpha, beta = (np.asarray(draw(st.sampled_from(pool)), dtype)[()] for _ in "ab")
    return z, alpha, x, y, beta


@SETTINGS
@given(gemm_args())
def test_gemm_is_dotlib_gemm(args):
    z, alpha, x, y, beta = args
    out = np.full(z.shape, 7, z.dtype)
    _native_gemm(z.dtype)(z, alpha, x, y, beta, out)
    got = twins.gemm(z, alpha, x, y, beta)
    assert_same_bits(got, out)
    assert not np.shares_memory(got, z)


def test_gemm_blas_call_on_every_layout(rng):
    for dtype in FLOATS:
        for m, k, n in [(40, 50, 60), (70, 300, 1), (1, 300, 70)]:
            for lz, lx, ly in [("C", "C", "C"), ("S", "F", "C"), ("F", "C", "F"),
                               ("N", "S", "P"), ("B", "N", "S")]:
                z, x, y = (_arrange(_random(rng, s, dtype, "normal"), lay, rng)
                           for s, lay in (((m, n), lz), ((m, k), lx), ((k, n), ly)))
                for alpha, beta in [(1, 1), (-0.5, 2), (1.5, 0), (0, 1)]:
                    a, b = np.asarray(alpha, dtype)[()], np.asarray(beta, dtype)[()]
                    out = np.empty((m, n), dtype)
                    _native_gemm(dtype)(z, a, x, y, b, out)
                    assert_same_bits(twins.gemm(z, a, x, y, b), out)


# ------------------------------------------------------------------ the ops

@functools.lru_cache(maxsize=None)
def _native(node):
    """``node``'s kernel compiled alone, as exact._twin compiles it (a one-node graph
    function, 0-d values crossing as scalars), but once for arrays of any layout."""
    from backends.numba.linker import compile_graph

    code = compile_graph(FunctionGraph(list(node.inputs), list(node.outputs), clone=True),
                         scalar_io=True)
    sig = tuple(numba.from_dtype(i.type.numpy_dtype) if s else
                types.Array(numba.from_dtype(i.type.numpy_dtype), i.ndim, "A")
                for i, s in zip(node.inputs, code.scalar_inputs))
    sig += tuple(numba.typeof(c) for c in code.consts)
    jitted = numba.njit(sig, nogil=True, error_model="numpy")(code.jitted.py_func)

    def run(values):
        args = [v[()] if s else v for v, s in zip(values, code.scalar_inputs)]
        (res,) = jitted(*args, *code.consts)
        return np.asarray(res, node.outputs[0].type.numpy_dtype)
    return run


def _twin_value(node, values):
    perform = numpy_twin(node)
    assert perform is not None, node
    store = [[None]]
    perform(node, list(values), store)
    return store[0][0]


@functools.lru_cache(maxsize=None)
def _node(op, dtype, static_shapes):
    """One node per op, dtype and input types: its kernel is compiled once."""
    return op(*[T.tensor(dtype, shape=s) for s in static_shapes]).owner


def _run_both(node, values):
    got = _twin_value(node, values)
    assert_same_bits(got, _native(node)(values))
    for v in values:  # a new array, as the kernel's
        assert not np.shares_memory(got, v)


# each case: (op, dtypes, input dimension names; "1" is a static length 1)
OP_CASES = [
    (Dot(), ["float64", "complex64", "int8"], ["mk", "kn"]),
    (Dot(), ["float64", "bool"], ["mk", "k"]),
    (Dot(), ["float32", "complex128"], ["k", "kn"]),
    (Dot(), ["float64", "uint64"], ["k", "k"]),
    (MatMul(), ["float64", "int32", "complex128"], ["bmk", "bkn"]),
    (MatMul(), ["float64"], ["bmk", "1kn"]),
    (MatMul(), ["float64"], ["c1mk", "bkn"]),
    (MatMul(), ["float64", "bool"], ["k", "bkn"]),
    (MatMul(), ["float64"], ["bmk", "k"]),
    (MatMul(), ["float32"], ["k", "k"]),
    (MatMul(), ["float64"], ["mk", "cbkn"]),
    (TensorDot(((0, 2), (1, 0))), ["float64", "complex64"], ["kmj", "jkn"]),
    (TensorDot(((), ())), ["float64"], ["m", "kn"]),
    (TensorDot(((1,), (0,))), ["float64", "int16"], ["mkj", "kn"]),
    (TensorDot(((0, 1), (0, 1))), ["float64"], ["mk", "mk"]),
    (BatchedDot(), ["float64", "int64", "complex128"], ["bmk", "bkn"]),
    (BatchedDot(), ["float64"], ["bk", "bk"]),
    (BatchedDot(), ["float32"], ["bmk", "bk"]),
    (BatchedDot(), ["float64"], ["bmjk", "bnkc"]),
]


@pytest.mark.parametrize("op, dtypes, dims", OP_CASES,
                         ids=[f"{type(c[0]).__name__}-{'-'.join(c[2])}" for c in OP_CASES])
@SETTINGS
@given(data=st.data())
def test_op_twins_are_the_kernels(op, dtypes, dims, data):
    dtype = data.draw(st.sampled_from(dtypes), label="dtype")
    names = sorted(set("".join(dims)) - {"1"})
    lengths = LENGTHS if len(names) <= 3 else LENGTHS[:-1]  # operands stay small
    length = {c: data.draw(st.sampled_from(lengths), label=c) for c in names}
    length["1"] = 1
    static = tuple(tuple(1 if c == "1" else None for c in d) for d in dims)
    node = _node(op, dtype, static)
    values = data.draw(operands([tuple(length[c] for c in d) for d in dims], dtype))
    _run_both(node, values)


@SETTINGS
@given(data=st.data())
def test_gemm_op_twin_is_the_kernel(data):
    dtype = data.draw(st.sampled_from(FLOATS), label="dtype")
    node = _node(Gemm(), dtype, ((None, None), (), (None, None), (None, None), ()))
    z, alpha, x, y, beta = data.draw(gemm_args((dtype,)))
    _run_both(node, [z, np.asarray(alpha), x, y, np.asarray(beta)])


def test_factories_cover_the_kernels_dtypes():
    for dtype in DTYPES:
        for node in (Dot()(T.tensor(dtype, shape=(None,)), T.tensor(dtype, shape=(None, None))),
                     MatMul()(T.tensor(dtype, shape=(None,) * 3), T.tensor(dtype, shape=(None,))),
                     TensorDot(((1,), (0,)))(T.tensor(dtype, shape=(None,) * 2),
                                             T.tensor(dtype, shape=(None,) * 2)),
                     BatchedDot()(T.tensor(dtype, shape=(None,) * 2),
                                  T.tensor(dtype, shape=(None,) * 2))):
            assert numpy_twin(node.owner) is not None, (dtype, node)
    for dtype in FLOATS:
        z = T.tensor(dtype, shape=(None, None))
        assert numpy_twin(Gemm()(z, T.tensor(dtype, shape=()), z, z,
                                 T.tensor(dtype, shape=())).owner) is not None
    # an op writing into its input is not replayed by a twin making a new array
    in_place = type("InPlaceGemm", (Gemm,), {"destroy_map": {0: [0]}})()
    m, s = T.dmatrix(), T.dscalar()
    assert numpy_twin(in_place(m, s, m, m, s).owner) is None


def test_complex_products_fall_back_where_numba_multiplies_otherwise(monkeypatch):
    """From Python 3.14 on, numba's complex product recovers infinities from NaN
    results (CPython's algorithm): not replayed, those nodes compile."""
    import numba.core.utils

    monkeypatch.setattr(numba.core.utils, "PYVERSION", (3, 14))
    for dtype, covered in (("complex128", False), ("complex64", False), ("float64", True)):
        x = T.tensor(dtype, shape=(None, None))
        assert (numpy_twin(Dot()(x, x).owner) is not None) == covered


def test_the_tier_runs_the_twins_with_no_compile(monkeypatch):
    import backends.numba.exact as exact

    def no_compile(node):
        raise AssertionError(f"compiled {node}")
    monkeypatch.setattr(exact, "_twin", no_compile)
    m, v = T.dmatrix("m"), T.dvector("v")
    for out in (Dot()(m, v), MatMul()(m, m), TensorDot(((0,), (0,)))(m, m),
                BatchedDot()(m, m), Gemm()(m, T.dscalar(), m, m, T.dscalar())):
        assert step_for(out.owner) is not None


def test_shape_errors_are_the_interpreters(rng):
    m = T.dmatrix("m")
    cases = [(Dot()(m, m), [np.zeros((2, 3)), np.zeros((2, 3))]),
             (MatMul()(T.dtensor3(), T.dtensor3()),
              [np.zeros((2, 3, 4)), np.zeros((3, 4, 5))]),
             (TensorDot(((0,), (0,)))(m, m), [np.zeros((2, 3)), np.zeros((3, 3))]),
             (BatchedDot()(m, m), [np.zeros((2, 3)), np.zeros((3, 3))]),
             (Gemm()(m, T.dscalar(), m, m, T.dscalar()),
              [np.zeros((2, 2)), np.asarray(1.0), np.zeros((2, 3)), np.zeros((3, 3)),
               np.asarray(1.0)])]
    for out, values in cases:
        with pytest.raises(ShapeError):
            _twin_value(out.owner, values)


def test_layout_typed_kernels_agree(rng):
    """The tier's own fallback (exact._twin: compiled per layout of its inputs) gives
    what the twin gives, on C- and F-typed inputs."""
    x, y, z, v = T.dmatrix("x"), T.dmatrix("y"), T.dmatrix("z"), T.dvector("v")
    for out in (Dot()(x, y), Dot()(x, v), Gemm()(z, T.dscalar(), x, y, T.dscalar())):
        node = out.owner
        native = _twin(node)
        for size in (5, 30):  # the loops and BLAS
            mats = [rng.normal(size=(size, size)) for _ in range(3)]
            mats[1] = np.asfortranarray(mats[1])
            if isinstance(node.op, Gemm):
                values = [mats[0], np.asarray(-1.5), mats[1], mats[2], np.asarray(0.5)]
            else:
                values = [mats[0], mats[1] if node.inputs[1].ndim == 2 else mats[1][:, 0].copy()]
            store = [[None]]
            native(node, values, store)
            assert_same_bits(_twin_value(node, values), store[0][0])


def test_whole_graph_tier_is_native(rng):
    """A compiled graph's tier (its dot nodes run by the twins) against its native code."""
    x, y, v = T.dmatrix("x"), T.dmatrix("y"), T.dvector("v")
    outs = [T.dot(x, v), T.dot(v, y), T.dot(v, v), T.dot(x, y.T), T.matmul(x, y),
            x + 2 * T.dot(x, y)]
    f = sg.function([x, y, v], outs, mode="numba")
    ops = {type(n.op) for n in f.maker.fgraph.toposort()}
    assert {Dot, Gemm} <= ops, ops
    for size in (6, 40):
        X, Y = rng.normal(size=(size, size)), rng.normal(size=(size, size))
        V = rng.normal(size=size)
        X[0, :2] = [0.0, -0.0]
        tier = tier_outputs(f, [X, Y, V])
        assert tier is not None
        check_tier_exact(f(X, Y, V), tier)
