"""NumPy twins of Elemwise nodes (backends/numba/numpy_twins/elemwise.py, maps.py)
give the numba kernel's values to the bit: each node is run by its kernel compiled
alone (exact._twin) and by the twin on the same inputs, over values with NaN, inf,
-0.0, huge and tiny magnitudes, and inputs of every layout."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgraph.tensor as T
from backends.numba.exact import _twin
from backends.numba.numpy_twins import maps, numpy_twin
from symgraph.scalar import math as sm
from symgraph.scalar.basic import ScalarOp, ScalarType, as_scalar, cast_op
from symgraph.scalar.composite import Composite
from symgraph.tensor.elemwise import Elemwise

SPECIALS = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 5e-324, -5e-324,
            2.2250738585072014e-308, 1e-300, 1e300, -1e300, 1.7976931348623157e308,
            709.78, 709.79, 710.0, -745.1, -745.2, -746.0, 22.0, -22.0, 0.35, -0.35,
            0.34999999999999997, 1e22, -1e22, 2.0 ** 52, 2.0 ** 1000, 3.141592653589793,
            1.5707963267948966, 1e-9, -1e-9, 7.450580596923828e-09, 44.0, -45.0,
            88.72, -103.9, 3.4e38, -3.4e38, 1e-45, 0.6931471805599453, -0.9999999999]
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ------------------------------------------------------------------ helpers

def run(perform, node, values):
    store = [[None] for _ in node.outputs]
    perform(node, list(values), store)
    return [s[0] for s in store]


def assert_same_bits(got, want):
    """Same dtype, shape and values; zeros of the same sign; NaNs in the same places."""
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert isinstance(g, np.ndarray), (k, type(g))
        w = np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape, (k, g.dtype, g.shape, w.dtype, w.shape)
        assert np.array_equal(g, w, equal_nan=g.dtype.kind == "f"), (k, g, w)
        if g.dtype.kind == "f":
            sg_, sw = np.signbit(g) & ~np.isnan(g), np.signbit(w) & ~np.isnan(w)
            assert np.array_equal(sg_, sw), (k, "sign of zeros", g, w)


def assert_new_c_arrays(outs, inputs):
    for o in outs:
        assert o.flags.c_contiguous
        for i in inputs:
            assert not np.shares_memory(o, np.asarray(i))


@st.composite
def values(draw, dtype, shape):
    """An array of ``dtype`` and ``shape``: normal values at a drawn scale, spread
    over many magnitudes or drawn from a small pool, with special values at drawn
    places."""
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    size = int(np.prod(shape))
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        lo, hi = draw(st.sampled_from([(-3, 4), (int(info.min), int(info.max))]))
        return rng.integers(max(lo, int(info.min)), min(hi, int(info.max)), size=shape,
                            dtype=dtype, endpoint=True)
    if dtype.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    top = 300 if dtype == np.float64 else 37
    kind = draw(st.sampled_from(["scale", "spread", "pool"]))
    if kind == "pool":  # few distinct values: equal pairs, zeros of both signs meet
        a = rng.choice(np.array([0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf]), size=size)
    elif kind == "scale":
        scale = draw(st.sampled_from([1e-30, 1e-6, 0.3, 1.0, 3.0, 30.0, 1e3, 1e6, 1e30]))
        a = rng.normal(size=size) * scale
    else:
        a = rng.choice([-1.0, 1.0], size=size) * 10.0 ** rng.uniform(-top, top, size=size)
    if size:
        n_special = draw(st.integers(0, min(size, 12)))
        for _ in range(n_special):
            a[draw(st.integers(0, size - 1))] = draw(st.sampled_from(SPECIALS))
    with np.errstate(over="ignore"):
        return a.reshape(shape).astype(dtype)


@st.composite
def laid_out(draw, a):
    """``a`` (the same values) in a drawn memory layout: C, Fortran, negative strides,
    a strided view, or one axis broadcast (stride 0, read-only)."""
    layout = draw(st.sampled_from(["C", "F", "neg", "step", "bcast"]))
    if a.ndim == 0 or layout == "C":
        return a
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "neg":
        return np.flip(np.ascontiguousarray(np.flip(a)))
    if layout == "step":
        big = np.zeros(tuple(2 * n for n in a.shape), dtype=a.dtype)
        view = big[tuple(slice(None, None, 2) for _ in a.shape)]
        view[...] = a
        return view
    axes = [d for d in range(a.ndim) if a.shape[d] > 1]
    if not axes:
        return a
    d = draw(st.sampled_from(axes))
    return np.broadcast_to(np.take(a, [0], axis=d), a.shape)


def elemwise_node(fn, specs):
    """Elemwise over the Composite of ``fn`` (scalar inputs -> list of outputs), or
    over ``fn`` itself when it is a scalar op; specs: (dtype, static shape) per input."""
    xs = [T.tensor(dtype, shape=shape) for dtype, shape in specs]
    if isinstance(fn, ScalarOp):
        op = fn
    else:
        ins = [ScalarType(dtype)() for dtype, _ in specs]
        op = Composite(ins, fn(*ins))
    outs = Elemwise(op)(*xs)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return outs[0].owner


def f32(v):
    return as_scalar(np.float32(v))


# the cases: name -> (scalar function or op, input specs); "?" dims vary, 1 broadcasts
M, ROW, COL, S = (None, None), (1, None), (None, 1), ()
CASES = {
    "rnn_tanh_add": (lambda a, b: [sm.tanh(sm.add(a, b))], [("float64", M), ("float64", ROW)]),
    "vecmath64": (lambda a: [sm.exp(a), sm.expm1(a), sm.log(a), sm.log1p(a), sm.sin(a),
                             sm.cos(a), sm.tanh(a)], [("float64", M)]),
    "vecmath32": (lambda a: [sm.exp(a), sm.expm1(a), sm.log(a), sm.log1p(a), sm.sin(a),
                             sm.cos(a), sm.tanh(a)], [("float32", M)]),
    "special64": (lambda a: [sm.sigmoid(a), sm.softplus(a)], [("float64", M)]),
    "special32": (lambda a: [sm.sigmoid(a), sm.softplus(a)], [("float32", M)]),
    "minmax64": (lambda a, b, c: [sm.maximum(a, b), sm.minimum(a, b), sm.clip(a, b, c),
                                  sm.maximum(b, a)],
                 [("float64", M), ("float64", COL), ("float64", ROW)]),
    "minmax32": (lambda a, b, c: [sm.maximum(a, b), sm.minimum(b, a), sm.clip(a, c, b)],
                 [("float32", M), ("float32", M), ("float32", ROW)]),
    # casts and mixed dtypes: float32 computed in float64, ints made float first
    "mixed": (lambda x, y, z: [sm.log1p(sm.mul(x, z)), sm.sigmoid(y), sm.exp(x),
                               sm.softplus(z), sm.maximum(x, y),
                               cast_op("float32")(sm.cos(y)), sm.tanh(sm.add(x, f32(0.5))),
                               sm.sin(cast_op("float64")(x))],
              [("float32", M), ("float64", ROW), ("int8", COL)]),
    "chain64": (lambda a, b: [sm.mul(sm.exp(sm.neg(a)), sm.log1p(sm.sqr(b))),
                              sm.switch(sm.lt(a, b), sm.tanh(a), sm.softplus(b)),
                              sm.true_div(sm.expm1(a), sm.add(b, 1.0)), b],
                [("float64", M), ("float64", M)]),
    "ints": (lambda a, b: [sm.tanh(a), sm.exp(b), sm.sigmoid(b), sm.maximum(a, b)],
             [("int64", M), ("int16", ROW)]),
    # pow: the C library's, and what LLVM makes of the exponents it sees as literals
    "pow64": (lambda a, b: [sm.pow(a, b), sm.pow(a, 2.0), sm.pow(a, 0.5), sm.pow(a, -1.0),
                            sm.pow(a, 1.0), sm.pow(a, 0.0), sm.pow(a, -0.0), sm.pow(a, 3.0),
                            sm.pow(a, 1.7), sm.pow(a, -0.5), sm.pow(a, -2.0),
                            sm.pow(a, as_scalar(np.int8(2))), sm.pow(sm.abs(a), 1.7),
                            sm.pow(sm.add(a, b), sm.neg(b))],
              [("float64", M), ("float64", ROW)]),
    "pow32": (lambda a, b, n: [sm.pow(a, b), sm.pow(a, f32(2.0)), sm.pow(a, f32(0.5)),
                               sm.pow(a, f32(-1.0)), sm.pow(a, f32(3.0)), sm.pow(a, n),
                               sm.pow(a, f32(0.0)), sm.pow(a, f32(1.0)), sm.pow(a, 2.0)],
              [("float32", M), ("float32", M), ("int16", COL)]),
    "pow_plain": (sm.pow, [("float64", M), ("float64", M)]),
    # plain Elemwise nodes (no Composite), other ranks
    "exp32_3d": (sm.exp, [("float32", (None, 1, None))]),
    "softplus_0d": (sm.softplus, [("float64", S)]),
    "tanh_1d": (sm.tanh, [("float64", (None,))]),
    "log_3d": (sm.log, [("float64", (None, None, None))]),
    "maximum_0d_row": (sm.maximum, [("float32", ROW), ("float32", (1, 1))]),
}


def kernel_and_twin(node):
    """(node, its kernel compiled alone, its NumPy twin); the twin must exist."""
    twin = numpy_twin(node)
    assert twin is not None, f"{node.op} is not covered"
    kernel = _twin(node)
    assert callable(kernel)
    return node, kernel, twin


@functools.lru_cache(maxsize=None)
def compiled(name):
    """(node, kernel perform, twin perform) of a case, built once per session."""
    fn, specs = CASES[name]
    return kernel_and_twin(elemwise_node(fn, specs))


@st.composite
def case_inputs(draw, node):
    """Inputs of ``node``: the varying dimensions drawn once (small or large), the
    static 1s kept."""
    ndim = node.outputs[0].ndim
    # small (0 and 1 lengths likely) or large (vectorised loops with remainders)
    cap = int(2500 ** (1 / ndim)) if ndim and draw(st.booleans()) else 5
    dims = [draw(st.integers(0, cap)) for _ in range(ndim)]
    out = []
    for i in node.inputs:
        shape = tuple(1 if b else n for b, n in zip(i.type.broadcastable, dims))
        out.append(draw(laid_out(draw(values(i.type.dtype, shape)))))
    return out


@pytest.mark.parametrize("name", sorted(CASES))
@SETTINGS
@given(data=st.data())
def test_twin_gives_the_kernels_bits(name, data):
    node, kernel, twin = compiled(name)
    inputs = data.draw(case_inputs(node))
    want = run(kernel, node, inputs)
    got = run(twin, node, inputs)
    assert_same_bits(got, want)
    assert_new_c_arrays(got, inputs)


def test_rnn_nodes_and_every_covered_op_get_a_twin():
    # the nodes of benchmarks/wl_rnn.py's graph, and each op the module replays
    x, b = T.dmatrix("x"), T.drow("b")
    node = elemwise_node(lambda a, c: [sm.tanh(sm.add(a, c))],
                         [("float64", M), ("float64", ROW)])
    assert str(node.op) == "Composite{tanh(add(i0, i1))}"
    assert numpy_twin(node) is not None
    for op in (sm.exp, sm.expm1, sm.log, sm.log1p, sm.sin, sm.cos, sm.tanh, sm.sigmoid,
               sm.softplus):
        for dt in ("float32", "float64", "int8", "uint16", "int64", "bool"):
            assert numpy_twin(elemwise_node(op, [(dt, M)])) is not None, (op, dt)
    for op in (sm.maximum, sm.minimum):
        assert numpy_twin(Elemwise(op)(x, b).owner) is not None
    assert numpy_twin(T.clip(x, b, 1.0).owner) is not None


def test_ops_it_does_not_replay_fall_back():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    z = T.tensor("complex128", shape=M)
    i, j = T.lmatrix("i"), T.lmatrix("j")
    for out in (i ** j, T.erf(x), T.exp(z), x // y, x % y, T.exp2(x), T.arctan(x)):
        assert numpy_twin(out.owner) is None, out.owner.op
    # a Composite with one op not replayed falls back as a whole
    node = elemwise_node(lambda a, c: [sm.tanh(a), sm.erf(c)],
                         [("float64", M), ("float64", M)])
    assert numpy_twin(node) is None
    # pow of a literal base (LLVM makes pow(2.0, x) exp2(x)), or of an exponent
    # computed from literals
    for fn in (lambda a: [sm.pow(2.0, a)], lambda a: [sm.pow(a, sm.add(1.0, 1.0))]):
        assert numpy_twin(elemwise_node(fn, [("float64", M)])) is None
    assert numpy_twin(elemwise_node(lambda a: [sm.pow(a, sm.add(a, 1.0))],
                                    [("float64", M)])) is not None


def test_literals_reach_a_composite_inside_a_composite():
    # the kernel inlines the inner Composite: LLVM sees pow(x, 2.0) and makes it x * x,
    # which rounds otherwise than the C library's pow now and then
    def inner():
        p, q = ScalarType("float64")(), ScalarType("float64")()
        return Composite([p, q], [sm.pow(p, q)])

    node = elemwise_node(lambda a, b: [inner()(a, 2.0), inner()(a, -1.0), inner()(a, 0.5),
                                       inner()(a, b)],
                         [("float64", (None,)), ("float64", (None,))])
    twin = numpy_twin(node)
    assert twin is not None
    rng = np.random.default_rng(11)
    n = 30000
    x = rng.choice([-1.0, 1.0], size=n) * 10.0 ** rng.uniform(-300, 300, size=n)
    x[:len(SPECIALS)] = SPECIALS
    y = rng.normal(size=n) * 3
    assert_same_bits(run(twin, node, [x, y]), run(_twin(node), node, [x, y]))


def test_in_place_nodes_give_new_arrays_as_the_kernel():
    # the kernel ignores the destroy map: it returns a new array, the input is kept
    ins = [ScalarType("float64")(), ScalarType("float64")()]
    op = Elemwise(Composite(ins, [sm.tanh(sm.add(*ins))]), inplace_pattern={0: 0})
    node = op(T.dmatrix("x"), T.drow("b")).owner
    x, b = np.linspace(-3, 3, 12).reshape(3, 4), np.full((1, 4), 0.25)
    want = run(_twin(node), node, [x.copy(), b])
    x_in = x.copy()
    got = run(numpy_twin(node), node, [x_in, b])
    assert_same_bits(got, want)
    assert_new_c_arrays(got, [x_in, b])
    assert np.array_equal(x_in, x)


def test_shape_mismatch_raises_as_the_kernel():
    node, kernel, twin = compiled("rnn_tanh_add")
    x, b = np.ones((3, 4)), np.ones((1, 5))
    for perform in (kernel, twin):
        with pytest.raises(ValueError):
            run(perform, node, [x, b])
    # a non-broadcastable dimension of runtime length 1 does not broadcast either
    node, kernel, twin = compiled("chain64")
    for perform in (kernel, twin):
        with pytest.raises(ValueError):
            run(perform, node, [np.ones((3, 4)), np.ones((1, 4))])


# ------------------------------------------------------------------ the maps

def test_maps_are_the_values_of_a_fused_vectorised_kernel():
    """vecmath's functions inlined in a fused loop (vectorised by LLVM) and the maps:
    the same values, special values and huge arguments included."""
    node, kernel, _ = compiled("vecmath64")   # one loop computing all seven
    rng = np.random.default_rng(7)
    specials = np.array(SPECIALS, dtype=np.float64)
    ramps = [specials,
             rng.normal(size=4099) * 10.0 ** rng.uniform(-300, 300, size=4099),
             rng.uniform(-800, 800, size=4099),
             np.nextafter(np.pi / 2 * rng.integers(-10 ** 6, 10 ** 6, size=1001), np.inf),
             rng.uniform(0, 2.0 ** 1023, size=1001) * rng.choice([-1, 1], size=1001)]
    x = np.concatenate(ramps)
    for arg in (x, x[::3], np.flip(x)):
        outs = run(kernel, node, [arg.reshape(1, -1)])
        for fn, o in zip(["exp", "expm1", "log", "log1p", "sin", "cos", "tanh"], outs):
            assert_same_bits([maps.apply("vecmath", fn, arg).reshape(1, -1)], [o])


def test_maps_keep_shape_and_dtype_of_any_layout():
    a = np.broadcast_to(np.arange(3.0), (4, 3))          # read-only, stride 0
    for fam, fn, dt in (("vecmath", "tanh", np.float64), ("libm", "exp", np.float32)):
        x = a.astype(dt)[:, ::-1]
        r = maps.apply(fam, fn, x)
        assert r.dtype == dt and r.shape == x.shape and r.flags.c_contiguous
        assert_same_bits([r[1]], [maps.apply(fam, fn, np.ascontiguousarray(x[1]))])
    z = maps.apply("vecmath", "exp", np.float64(0.0))
    assert z.shape == () and z == 1.0
    assert maps.apply("libm", "log", np.empty((0, 3))).shape == (0, 3)


def test_numpy_itself_differs_where_the_twin_does_not():
    # the reason for the twin: NumPy's SIMD functions round otherwise somewhere
    node, kernel, twin = compiled("vecmath64")
    x = np.random.default_rng(3).uniform(-30, 30, size=(1, 20000))
    want = run(kernel, node, [x])
    assert_same_bits(run(twin, node, [x]), want)
    assert any(not np.array_equal(w, r) for w, r in zip(want, run(node.op.perform, node, [x])))
