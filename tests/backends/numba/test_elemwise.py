"""The numba kernels of the elementwise layer (backends/numba/dispatch/elemwise.py,
scalar.py, special.py, shape.py). Always compiled with mode="numba", whatever
SYMGRAPH_TEST_BACKENDS says; the op tests (tests/tensor/test_math.py, ...) cover the
values of every op on both backends, these the backend's own cases: the shape of the
generated code, fused loops, broadcasting and its errors, memory layouts, read-only,
0-d and empty arrays, NumPy's integer and special-value rules, and the object-mode
fallback."""

import re
import warnings
from functools import partial

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from backends.numba.dispatch import kernel_for
from backends.numba.dispatch.objmode import ObjectModeWarning
from backends.numba.linker import UncacheableGraphWarning, _short
from symgraph.compile.mode import Mode
from symgraph.graph.basic import Apply
from symgraph.graph.op import Op
from symgraph.scalar import math as sm
from symgraph.scalar.basic import ScalarType
from symgraph.scalar.composite import Composite
from symgraph.tensor.elemwise import DimShuffle, Elemwise
from symgraph.tensor.type import TensorType
from tests.backends.numba import utils as nb
from tests.utils import assert_allclose

NUMBA = Mode("numba", optimizer=None)  # the graph as built: one node per op
PY = Mode("py", optimizer=None)

compile_both = partial(nb.compile_both, mode=NUMBA, ref_mode=PY)
check_same = nb.check_same


# ----------------------------------------------------------------------- generated code

def test_generated_source_is_one_function_calling_kernels():
    x, y = T.dmatrix("x"), T.dvector("y")
    f = sg.function([x, y], [T.exp(x) * y, (x + 1).T], mode=NUMBA)
    src = f._thunk.source
    assert src.count("def ") == 1 and src.count("@numba.njit") == 1
    body = src[src.index("def graph("):].splitlines()[1:]
    # every step is a kernel, written in place (backends/numba/inline.py) under a
    # comment naming its node, in topological order
    steps = [line for line in body if re.match(r"^    # ", line)]
    assert len(steps) == len(f._thunk.order)
    for line, node in zip(steps, f._thunk.order):
        assert line == f"    # {_short(node)}"
    assert all(f"v{k} = " in src for k in range(len(f._thunk.order)))
    check_same(f, sg.function([x, y], [T.exp(x) * y, (x + 1).T], mode=PY),
               np.arange(6.0).reshape(2, 3), np.array([1.0, -2.0, 0.5]))


def _fused():
    """exp(a) * b + sqr(a) - c and tanh(a): one Composite of three inputs (c int32)."""
    a, b, c = ScalarType("float64")(), ScalarType("float64")(), ScalarType("int32")()
    out = sm.sub(sm.add(sm.mul(sm.exp(a), b), sm.sqr(a)), c)
    return Composite([a, b, c], [out, sm.tanh(a)])


def test_fused_composite_is_one_loop_nest():
    comp = _fused()
    x = T.dmatrix("x")
    y = T.tensor("float64", shape=(1, None), name="y")
    n = T.ivector("n")
    outs = Elemwise(comp)(x, y, n)
    node = outs[0].owner
    src = kernel_for(node).source
    # one nest of two loops, every inner op inside it, no temporaries
    assert src.count("for ") == 2 and src.count("np.empty(") == 2
    assert src.count(".exp(") == 1 and src.count(".tanh(") == 1
    f, ref = compile_both([x, y, n], list(outs))
    kinds = [type(nd.op).__name__ for nd in f._thunk.order]
    assert kinds == ["DimShuffle", "Elemwise"], kinds  # n is padded to a row first
    rng = np.random.default_rng(0)
    check_same(f, ref, rng.normal(size=(3, 4)), rng.normal(size=(1, 4)),
               np.array([1, -2, 3, 0], dtype="int32"))


def test_rewritten_chain_is_fused_and_agrees():
    x, y = T.dvector("x"), T.dvector("y")
    expr = T.tanh(x * 2 + T.exp(-y)) / (1 + x ** 2) - T.sqrt(T.abs(y))
    f, ref = compile_both([x, y], expr, mode="numba")
    kinds = [type(n.op).__name__ for n in f._thunk.order]
    assert kinds == ["Elemwise"], kinds  # the fusion rewrite left one loop
    rng = np.random.default_rng(1)
    check_same(f, ref, rng.normal(size=7), rng.normal(size=7))


def test_equal_nodes_share_one_kernel():
    x, y = T.dvector("x"), T.dvector("y")
    a = T.exp(x)
    b = T.exp(y)
    assert kernel_for(a.owner).name == kernel_for(b.owner).name
    assert kernel_for(a.owner).name != kernel_for(T.exp(T.fvector()).owner).name


# ----------------------------------------------------------------------- broadcasting

def test_broadcasting_along_static_length_1_dims():
    col = T.tensor("float64", shape=(None, 1), name="col")
    row = T.tensor("float32", shape=(1, None), name="row")
    s = T.dscalar("s")
    f, ref = compile_both([col, row, s], [col * row + s, T.maximum(row, col)])
    check_same(f, ref, np.arange(3.0).reshape(3, 1),
               np.arange(4, dtype="float32").reshape(1, 4), np.array(0.5))
    assert f(np.ones((2, 1)), np.ones((1, 5), "float32"), np.array(1.0))[0].shape == (2, 5)


def test_runtime_shape_mismatch_names_node_and_both_shapes():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = sg.function([x, y], T.exp(x) * y, mode=NUMBA)
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones((2, 4)))
    msg = str(info.value)
    assert "mul" in msg and "(2, 3)" in msg and "(2, 4)" in msg
    assert "Apply node that failed" in msg
    # a length-1 dimension that is not declared broadcastable does not broadcast
    with pytest.raises(ValueError, match=r"\(2, 1\)"):
        f(np.ones((2, 3)), np.ones((2, 1)))


# ----------------------------------------------------------------------- layouts and shapes

@pytest.fixture(scope="module")
def binary_fn():
    x, y = T.dmatrix("x"), T.lmatrix("y")
    outs = [x * y + 1, T.int_div(y, 3) - x.T.T]
    return compile_both([x, y], outs)


def test_strided_transposed_and_fortran_inputs(binary_fn):
    f, ref = binary_fn
    base = np.arange(48.0).reshape(6, 8)
    ints = np.arange(48).reshape(6, 8)
    # each layout is a new specialisation of every kernel: few cases, each telling
    check_same(f, ref, base[::2, 1::3], ints[::-2, ::-3])  # strided, negative strides
    check_same(f, ref, base[:3, :3].T, np.ascontiguousarray(ints[:3, :3]))  # Fortran, C


def test_read_only_inputs_and_constants(binary_fn):
    f, ref = binary_fn
    xv, yv = np.arange(6.0).reshape(2, 3), np.arange(6).reshape(2, 3)
    xv.flags.writeable = False
    yv.flags.writeable = False
    check_same(f, ref, xv, yv)
    x = T.dvector("x")
    c = np.array([1.0, -2.0, 3.0])
    c.flags.writeable = False
    g, gref = compile_both([x], [x * T.constant(c) + T.constant(np.float32(2)),
                                 T.constant(c).dimshuffle("x", 0) + x])
    check_same(g, gref, np.ones(3))
    out = g(np.ones(3))[0]
    out[0] = 42.0  # results are fresh, writable arrays
    assert c[0] == 1.0


def test_zero_d_and_empty_arrays(binary_fn):
    f, ref = binary_fn
    check_same(f, ref, np.zeros((0, 3)), np.zeros((0, 3), dtype="int64"))
    check_same(f, ref, np.zeros((4, 0)), np.zeros((4, 0), dtype="int64"))
    s, t = T.dscalar("s"), T.bscalar("t")
    g, gref = compile_both([s, t], [T.exp(s) * t, s > t, T.switch(s > 0, s, t)])
    check_same(g, gref, np.array(1.5), np.array(-3, dtype="int8"))
    got = g(np.array(-1.0), np.array(2, dtype="int8"))
    assert all(np.asarray(v).shape == () for v in got)


def test_dimshuffle_is_a_view_for_every_layout():
    x = T.tensor("float64", shape=(None, 1, None), name="x")
    outs = [DimShuffle(3, o)(x) for o in [(2, 0), (2, "x", 0), ("x", 0, 1, 2), (1, 2, 0)]]
    f, ref = compile_both([x], outs)
    big = np.arange(48.0).reshape(3, 1, 16)
    for v in (big, big[:, :, ::4], np.zeros((0, 1, 2))):
        check_same(f, ref, v)
    node = outs[1].owner
    src = kernel_for(node).source
    assert "np.empty" not in src and "ascontiguousarray" not in src  # no copy
    s = T.tensor("int32", shape=(1, 1), name="s")
    g, gref = compile_both([s], [DimShuffle(2, ())(s), DimShuffle(2, ("x", 1, "x"))(s)])
    check_same(g, gref, np.array([[7]], dtype="int32"))


def test_shape_ops():
    x = T.dtensor3("x")
    v = T.lvector("v")
    outs = [T.shape(x), T.reshape(x, v, ndim=2), T.specify_shape(x, (None, 2, None)) * 2,
            T.flatten(x), x.shape[0] + x.shape[2]]
    f, ref = compile_both([x, v], outs)
    base = np.arange(24.0).reshape(3, 2, 4)
    for xv in (base, base[:, :, ::2].T.T):
        check_same(f, ref, xv, np.array([-1, 4]))
    with pytest.raises(ValueError, match="reshape"):
        f(base, np.array([5, -1]))
    with pytest.raises(ValueError, match="specify_shape"):
        f(np.zeros((3, 3, 4)), np.array([-1, 4]))


# ----------------------------------------------------------------------- NumPy's rules

def test_integer_division_by_zero_overflow_and_shifts():
    a, b = T.bvector("a"), T.bvector("b")
    outs = [a // b, a % b, a * b, a + b, -a, abs(a), a ** T.abs(b),
            T.left_shift(a, b), T.right_shift(a, b)]
    f, ref = compile_both([a, b], outs)
    av = np.array([7, -128, 127, -7, 100, 5, -1, 3], dtype="int8")
    bv = np.array([0, -1, 2, 3, -100, 9, 70, -2], dtype="int8")
    check_same(f, ref, av, bv)
    u, w = T.vector("u", dtype="uint64"), T.lvector("w")
    g, gref = compile_both([u, w], [u < w, u == w, T.maximum(u, w), u // u])
    check_same(g, gref, np.array([2 ** 63, 2 ** 62 + 1, 0, 5], dtype="uint64"),
               np.array([-1, 2 ** 62, 0, 5], dtype="int64"))


def test_negative_integer_power_raises_like_the_interpreter():
    a, b = T.lvector("a"), T.lvector("b")
    f = sg.function([a, b], a ** b, mode=NUMBA)
    with pytest.raises(ValueError, match="negative integer powers"):
        f(np.array([2, 3]), np.array([1, -1]))


def test_float_special_values():
    x, y = T.dvector("x"), T.fvector("y")
    outs = [x // y, x % y, T.sign(x), T.maximum(x, y), T.clip(x, -1, y), T.gamma(x),
            T.psi(x), T.softplus(x), T.sigmoid(y), T.erfinv(x / 10), T.round(x),
            T.cast(y, "uint8"), T.cast(x, "int16")]
    f, ref = compile_both([x, y], outs)
    vals = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 2.5, -3.5, 1e300, -1.0, 7.0])
    f32 = np.array([1.0, np.inf, 0.0, -0.0, np.nan, -2.0, 3.0, -np.inf, 0.5, 2.0], "float32")
    check_same(f, ref, vals, f32)


def test_complex_functions_match_numpy_at_special_values():
    z = T.zvector("z")
    c = T.cvector("c")
    funcs = [T.exp, T.expm1, T.log, T.sqrt, T.sin, T.cos, T.tan, T.sinh, T.cosh, T.tanh,
             T.arcsin, T.arccos, T.arctan, T.arcsinh, T.arccosh, T.arctanh, T.sign,
             T.reciprocal, T.exp2, T.log10, abs, T.angle]
    single = [T.exp, T.sin, T.tanh, T.arccos, T.log10, T.exp2]  # rounding in float32
    outs = [fn(z) for fn in funcs] + [fn(c) for fn in single] + [z ** c, c ** 3, c ** 7, z / c]
    f, ref = compile_both([z, c], outs)
    parts = [0.0, -0.0, 1.5, -0.7, np.inf, -np.inf, np.nan, 800.0]
    zv = np.array([complex(a, b) for a in parts for b in parts])
    cv = np.roll(zv, 3).astype("complex64")
    check_same(f, ref, zv, cv)


def test_bool_arithmetic():
    p, q = T.vector("p", dtype="bool"), T.vector("q", dtype="bool")
    s = T.bscalar("s")
    outs = [p + q, p * q, T.sqr(p), p // q, p % q, p ** q, T.maximum(p, q), ~p, p ^ q,
            T.switch(p, q, ~q), p > q, T.invert(p) & q, p + s, T.exp(p), T.floor(p)]
    f, ref = compile_both([p, q, s], outs)
    check_same(f, ref, np.array([True, False, True, False]),
               np.array([True, True, False, False]), np.array(-3, dtype="int8"))


def test_polygamma_and_special_functions_are_native():
    n, x = T.bvector("n"), T.dvector("x")
    outs = [T.polygamma(n, x), T.tri_gamma(x), T.gammaln(x), T.erfc(x)]
    f, ref = compile_both([n, x], outs)
    check_same(f, ref, np.array([0, 1, 2, 3, 4, 0, 1, 5], dtype="int8"),
               np.array([2.5, 0.3, -0.5, 10.0, 1e9, -1.0, np.inf, np.nan]))


# ----------------------------------------------------------------------- object mode

class _ShiftByPythonOp(Op):
    """A user's op with no numba implementation: x + 0.5, computed in Python."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [TensorType("float64", shape=x.type.shape)()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0] + 0.5, dtype="float64")


def test_custom_op_runs_in_object_mode_with_one_warning():
    x = T.dvector("x")
    expr = T.exp(_ShiftByPythonOp()(x * 2)) - 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = sg.function([x], expr, mode=NUMBA)
        g = sg.function([x], T.sqr(_ShiftByPythonOp()(x)), mode=NUMBA)  # no second warning
    objmode = [w for w in caught if issubclass(w.category, ObjectModeWarning)]
    assert len(objmode) == 1, [str(w.message) for w in objmode]
    assert "_ShiftByPythonOp" in str(objmode[0].message)
    uncached = [w for w in caught if issubclass(w.category, UncacheableGraphWarning)]
    assert len(uncached) == 2 and "_ShiftByPythonOp" in str(uncached[0].message)
    assert not f._thunk.cacheable
    v = np.array([0.0, 1.0, -2.0])
    assert_allclose(f(v), np.exp(v * 2 + 0.5) - 1)
    assert_allclose(g(v), (v + 0.5) ** 2)


def test_custom_scalar_op_falls_back_and_warns_by_name():
    from symgraph.scalar.basic import ScalarOp, upgrade_to_float

    cube_root = ScalarOp("test_numba_cube_root", np.cbrt, 1, upgrade_to_float)
    x = T.dvector("x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = sg.function([x], Elemwise(cube_root)(x) * 2, mode=NUMBA)
    (w,) = [w for w in caught if issubclass(w.category, ObjectModeWarning)]
    assert "test_numba_cube_root" in str(w.message)
    assert_allclose(f(np.array([8.0, -27.0, 0.0])), np.array([4.0, -6.0, 0.0]))
