"""NumPy twins of the reduction kernels (backends/numba/numpy_twins/reduction.py) give
the kernel's values to the bit: each node runs as its numba kernel compiled alone
(exact._twin) and as the twin on the same input, for shapes with 0/1 lengths, lengths
around pairwise_sum's leaf (128) and block_sum's chunk (8192), inputs of every layout
(C, F, permuted, strided, reversed, broadcast, odd strides on unit dimensions), and
values whose sums depend on the order, with NaN, inf and zeros of both signs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import as_strided

import symgraph.tensor as T
from backends.numba.exact import _twin
from backends.numba.numpy_twins import numpy_twin
from backends.numba.numpy_twins import reduction as twins
from symgraph.scalar import math as sm
from symgraph.tensor.reduction import CAReduce, CumOp

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0]
LAYOUTS = ["C", "F", "perm", "strided", "reversed", "broadcast", "unit"]


# ------------------------------------------------------------------ helpers

def _parts(a):
    return [a.real, a.imag] if a.dtype.kind == "c" else [a]


def assert_same_bits(got, want):
    """Same dtype and shape, NaNs (part by part) in the same places, every other value
    with the same bytes (so zeros with the same sign)."""
    want = np.asarray(want)
    assert isinstance(got, np.ndarray) and got.flags.c_contiguous
    assert got.dtype == want.dtype and got.shape == want.shape, \
        (got.dtype, got.shape, want.dtype, want.shape)
    for g, w in zip(_parts(got), _parts(want)):
        if g.dtype.kind != "f":
            assert np.array_equal(g, w), (g, w)
            continue
        nan = np.isnan(g)
        assert np.array_equal(nan, np.isnan(w)), ("NaN places", g, w)
        gb, wb = np.ascontiguousarray(g[~nan]), np.ascontiguousarray(w[~nan])
        assert np.array_equal(gb.view(np.uint8), wb.view(np.uint8)), (g, w)


_NATIVE = {}


def native(node):
    """The kernel compiled alone, one per node signature (numba compiles once per
    input type; the disk cache keeps them between runs)."""
    key = (node.op, node.inputs[0].type)
    if key not in _NATIVE:
        _NATIVE[key] = _twin(node)
    return _NATIVE[key]


def run(perform, node, value):
    store = [[None]]
    perform(node, [value], store)
    return store[0][0]


def check(node, value):
    """Both ways on ``value``: the same bits, or both raise ValueError."""
    mine = numpy_twin(node)
    assert mine is not None, node
    try:
        want = run(native(node), node, value)
    except ValueError:
        with pytest.raises(ValueError):
            run(mine, node, value)
        return
    before = np.array(value, copy=True)
    got = run(mine, node, value)
    assert_same_bits(got, want)
    assert np.array_equal(np.asarray(value), before, equal_nan=before.dtype.kind in "fc")
    assert not np.shares_memory(got, value)


def make_values(rng, shape, dtype, kind, p_special):
    """Values of ``kind``: "wide" (magnitudes over 12 decades: sums depend on the
    order), "ties" (few distinct values, zeros of both signs: max/min ties), "near1"
    (products that neither vanish nor overflow soon); a fraction ``p_special`` of
    NaN/inf/0.0/-0.0 on top."""
    dt = np.dtype(dtype)
    if dt.kind in "biu":
        if dt.kind == "b":
            return rng.integers(0, 2, size=shape).astype(bool)
        info = np.iinfo(dt)
        return rng.integers(max(info.min, -100), min(info.max, 100), size=shape,
                            endpoint=True).astype(dt)

    def real():
        if kind == "ties":
            return rng.choice([0.0, -0.0, 1.0, -1.0, 2.0], size=shape)
        if kind == "near1":
            return (1.0 + rng.normal(size=shape) * 1e-2) * rng.choice([1.0, -1.0], size=shape)
        return rng.normal(size=shape) * 10.0 ** rng.integers(-6, 7, size=shape)

    def with_specials(v):
        v = np.array(v, dtype=float)
        mask = rng.random(size=shape) < p_special
        v[mask] = rng.choice(SPECIALS, size=int(mask.sum()))
        return v

    v = with_specials(real())
    if dt.kind == "c":   # part by part (1j * inf would put a NaN in the real part)
        z = np.empty(shape, dtype=dt)
        z.real, z.imag = v, with_specials(real())
        return z
    return v.astype(dt)


def arrange(data, v, layout):
    """An array of ``v``'s shape and dtype laid out as ``layout`` says (values taken
    from ``v``, except broadcast axes, which repeat their first slice)."""
    nd = v.ndim
    if nd == 0 or v.size == 0 and layout not in ("C", "F"):
        return v
    if layout == "F":
        return np.asfortranarray(v)
    if layout == "perm":
        perm = data.draw(st.permutations(range(nd)), label="perm")
        return np.ascontiguousarray(v.transpose(perm)).transpose(np.argsort(perm))
    if layout == "strided":
        axes = data.draw(st.sets(st.sampled_from(range(nd)), min_size=1), label="strided")
        step = data.draw(st.sampled_from([2, 3]), label="step")
        big = np.zeros(tuple(s * step if d in axes else s for d, s in enumerate(v.shape)),
                       dtype=v.dtype)
        view = big[tuple(slice(None, None, step) if d in axes else slice(None)
                         for d in range(nd))]
        view[...] = v
        return view
    if layout == "reversed":
        axes = data.draw(st.sets(st.sampled_from(range(nd)), min_size=1), label="reversed")
        flip = tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(nd))
        return np.ascontiguousarray(v[flip])[flip]
    if layout == "broadcast":
        axes = data.draw(st.sets(st.sampled_from(range(nd)), min_size=1), label="broadcast")
        base = np.ascontiguousarray(v[tuple(slice(0, 1) if d in axes else slice(None)
                                            for d in range(nd))])
        strides = tuple(0 if d in axes else s for d, s in enumerate(base.strides))
        return as_strided(base, v.shape, strides)
    if layout == "unit":  # arbitrary strides on the unit dimensions (NumPy ignores them)
        odd = data.draw(st.sampled_from([0, 8, 24, -16]), label="unit stride")
        base = np.ascontiguousarray(v)
        out = as_strided(base, v.shape, tuple(odd if s == 1 else b
                                              for s, b in zip(v.shape, base.strides)))
        if data.draw(st.booleans(), label="reversed too"):
            out = out[::-1]
        return out
    return v


SMALL = st.sampled_from([0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17])
LENGTHS = st.one_of(st.integers(0, 300),
                    st.sampled_from([127, 128, 129, 135, 136, 255, 256, 257, 1000, 1029,
                                     8191, 8192, 8193, 16383, 16384, 16385, 20000]),
                    st.integers(0, 20000))
# last two dimensions with blocks around the leaf and chunk sizes (9191 > 8192)
BIG_TAILS = st.sampled_from([(1, 8193), (2, 4097), (91, 101), (130, 70), (3, 300),
                             (17, 129), (64, 129), (8200, 1), (1, 1)])


def shapes(ndim, static=None):
    if ndim == 0:
        return st.just(())
    if ndim == 1:
        shape = st.tuples(LENGTHS)
    else:
        shape = st.one_of(
            st.tuples(*[SMALL] * ndim),
            st.tuples(*[st.sampled_from([1, 2, 3])] * (ndim - 2), BIG_TAILS).map(
                lambda s: s[:-1] + s[-1]))
    if static is not None:
        shape = shape.map(lambda s: s[:-1] + (static,))
    return shape


def draw_input(data, x, kind=None):
    shape = data.draw(shapes(x.ndim, x.type.shape[-1] if x.ndim else None), label="shape")
    kind = kind or data.draw(st.sampled_from(["wide", "ties", "near1"]), label="kind")
    p = data.draw(st.sampled_from([0.0, 0.001, 0.05, 0.5]), label="specials")
    seed = data.draw(st.integers(0, 2 ** 32 - 1), label="seed")
    v = make_values(np.random.default_rng(seed), shape, x.type.dtype, kind, p)
    layout = data.draw(st.sampled_from(LAYOUTS), label="layout")
    return arrange(data, v, layout)


def reduce_node(name, x_dtype, ndim, axis, static=None, **kw):
    shape = (None,) * ndim if static is None else (None,) * (ndim - 1) + (static,)
    x = T.tensor(x_dtype, shape=shape, name="x")
    return CAReduce(getattr(sm, name), axis, **kw)(x).owner


# ------------------------------------------------------------------ CAReduce

SUMS = [("float64", 0, None), ("float64", 1, None), ("float64", 2, None),
        ("float64", 2, (0,)), ("float64", 2, (1,)), ("float64", 2, ()),
        ("float64", 3, None), ("float64", 3, (0, 1)), ("float64", 3, (0, 2)),
        ("float64", 3, (1, 2)), ("float64", 4, (0, 2, 3)),
        ("float32", 1, None), ("float32", 2, (1,)), ("float32", 3, (1, 2)),
        ("complex128", 1, None), ("complex128", 2, (0,)), ("complex128", 3, (1, 2)),
        ("complex64", 2, (1,))]


@pytest.mark.parametrize("dtype, ndim, axis", SUMS)
@SETTINGS
@given(data=st.data())
def test_sums_are_the_kernels(dtype, ndim, axis, data):
    node = reduce_node("add", dtype, ndim, axis)
    check(node, draw_input(data, node.inputs[0], "wide"))


@pytest.mark.parametrize("static, axis", [(5, (1,)), (100, (1,)), (128, None), (129, (1,))])
@SETTINGS
@given(data=st.data())
def test_sums_of_a_static_short_last_axis_are_the_kernels(static, axis, data):
    # the kernel writes pairwise_sum's block inline for a static length <= 128
    node = reduce_node("add", "float64", 2, axis, static=static)
    check(node, draw_input(data, node.inputs[0], "wide"))


PRODS = [("float64", 1, None), ("float64", 2, (0,)), ("float64", 3, (0, 2)),
         ("float64", 3, (1, 2)), ("float32", 2, (1,)), ("complex128", 0, None),
         ("complex128", 1, None), ("complex128", 2, ()), ("complex128", 2, (1,)),
         ("complex128", 3, (0, 2)), ("complex64", 3, (0, 1))]


@pytest.mark.parametrize("dtype, ndim, axis", PRODS)
@SETTINGS
@given(data=st.data())
def test_products_are_the_kernels(dtype, ndim, axis, data):
    node = reduce_node("mul", dtype, ndim, axis)
    check(node, draw_input(data, node.inputs[0]))


EXTREMES = [("maximum", "float64", 0, None), ("maximum", "float64", 1, None),
            ("maximum", "float64", 2, (0,)), ("maximum", "float64", 2, (1,)),
            ("maximum", "float64", 2, ()), ("maximum", "float64", 3, (0, 2)),
            ("maximum", "float64", 3, (1, 2)), ("minimum", "float64", 2, (1,)),
            ("minimum", "float64", 3, (0, 1)), ("minimum", "float32", 2, None),
            ("maximum", "float32", 3, (0,))]


@pytest.mark.parametrize("name, dtype, ndim, axis", EXTREMES)
@SETTINGS
@given(data=st.data())
def test_max_and_min_are_the_kernels(name, dtype, ndim, axis, data):
    node = reduce_node(name, dtype, ndim, axis)
    check(node, draw_input(data, node.inputs[0], data.draw(st.sampled_from(["ties", "wide"]))))


# (name, input dtype, ndim, axis, dtype, acc_dtype)
CASTS = [("add", "float32", 2, (1,), None, "float64"),     # not pairwise: in != acc
         ("add", "float32", 3, (1, 2), "float64", None),
         ("add", "float64", 2, (0, 1), "float32", None),    # each element rounded first
         ("add", "int32", 2, None, "float64", None),
         ("add", "complex64", 2, (1,), None, "complex128"),
         ("add", "float32", 2, (0,), "float32", "float64"),  # rounded at the end
         ("mul", "float32", 2, (1,), "float32", "float64"),
         ("mul", "int16", 2, (0,), "complex128", None),
         ("add", "int32", 2, (1,), "float64", "int64"),     # integer accumulator
         ("maximum", "int16", 2, (1,), "float32", None),
         ("add", "bool", 2, (0,), "float32", None)]


@pytest.mark.parametrize("name, in_dtype, ndim, axis, dtype, acc_dtype", CASTS)
@SETTINGS
@given(data=st.data())
def test_accumulator_and_output_dtypes_are_the_kernels(name, in_dtype, ndim, axis, dtype,
                                                       acc_dtype, data):
    node = reduce_node(name, in_dtype, ndim, axis, dtype=dtype, acc_dtype=acc_dtype)
    check(node, draw_input(data, node.inputs[0]))


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 136, 137, 1000, 8191, 8192,
                               8193, 16384, 16385, 19999])
def test_long_sums_follow_the_pairwise_tree(n):
    node = reduce_node("add", "float64", 1, None)
    v = make_values(np.random.default_rng(n), (n,), "float64", "wide", 0.0)
    check(node, v)
    check(node, v[::-1])
    if n:  # one leaf's value off by an ulp would show: a sum of exact powers of two
        w = np.zeros(n)
        w[np.random.default_rng(n).integers(0, n)] = -0.0
        check(node, w)


def test_large_blocks_chunk_by_their_layout_not_unit_strides():
    # blocks of 2 x 1 x 4200 = 8400 > 8192 elements over the 3 trailing axes; x is
    # strided (numba types it A), so block_sum checks the block's layout at run
    # time: a unit axis's stride (0 after a DimShuffle in numba, anything in NumPy)
    # does not count, so both views are one block, as their C copy is
    node = reduce_node("add", "float64", 4, (1, 2, 3))
    rng = np.random.default_rng(5)
    base = make_values(rng, (6, 2, 1, 4200), "float64", "wide", 0.0)[::2]
    odd = as_strided(base, base.shape, (base.strides[0], base.strides[1], 0, 8))
    assert twins._numba_c_contiguous(odd.shape[1:], odd.strides[1:], 8)
    twin = numpy_twin(node)
    for v in (base, odd, np.ascontiguousarray(odd)):
        check(node, v)
        assert run(twin, node, v).tobytes() == run(twin, node, base).tobytes()
    # a block with gaps is summed in 8192-element chunks: the order shows
    wide = make_values(rng, (3, 2, 1, 8400), "float64", "wide", 0.0)[..., ::2]
    assert not twins._numba_c_contiguous(wide.shape[1:], wide.strides[1:], 8)
    check(node, wide)
    assert not np.array_equal(run(twin, node, wide),
                              run(twin, node, np.ascontiguousarray(wide)))


def test_contiguity_rule_is_c_order_without_gaps():
    # by definition: every element sits at itemsize * (its C-order position)
    rng = np.random.default_rng(0)
    for _ in range(2000):
        nd = int(rng.integers(0, 5))
        shape = tuple(int(s) for s in rng.choice([0, 1, 2, 3], size=nd))
        strides = tuple(int(s) for s in rng.choice([0, 8, 16, 24, 48, 72, -8], size=nd))
        idx = np.indices(shape).reshape(nd, -1) if nd else np.zeros((0, 1), int)
        offsets = (np.array(strides, dtype=np.int64)[:, None] * idx).sum(axis=0)
        want = bool(np.all(offsets == 8 * np.arange(offsets.size)))
        assert twins._numba_c_contiguous(shape, strides, 8) == want, (shape, strides)


def test_max_min_zeros_and_nans_follow_the_kernels_rule():
    # the first of equal zeros wins (C order), any NaN wins; and NumPy differs
    node = reduce_node("maximum", "float64", 2, (1,))
    v = np.array([[-0.0, 0.0, -1.0], [0.0, -0.0, -2.0], [1.0, np.nan, 3.0]])
    got = run(numpy_twin(node), node, v)
    assert np.signbit(got[:2]).tolist() == [True, False] and np.isnan(got[2])
    check(node, v)
    check(node, v[:, ::-1])
    node = reduce_node("minimum", "float64", 2, (0,))
    check(node, v)
    check(node, v.T)


def test_empty_max_raises_and_empty_sum_is_zero():
    for name in ("maximum", "minimum"):
        node = reduce_node(name, "float64", 2, (1,))
        with pytest.raises(ValueError, match="zero-size"):
            run(numpy_twin(node), node, np.zeros((3, 0)))
        check(node, np.zeros((0, 3)))   # nothing reduced is empty: an empty result
    node = reduce_node("add", "float64", 2, (0,))
    got = run(numpy_twin(node), node, np.zeros((0, 3)))
    assert got.tolist() == [0.0] * 3 and not np.signbit(got).any()


def test_which_reductions_have_a_twin():
    covered = [reduce_node("add", "float64", 2, None), reduce_node("mul", "complex64", 1, None),
               reduce_node("maximum", "float32", 1, None),
               reduce_node("add", "int8", 2, (0,), dtype="float64", acc_dtype="int64")]
    for node in covered:
        assert numpy_twin(node) is not None, node
    not_covered = [reduce_node("logical_or", "bool", 1, None),
                   reduce_node("bitwise_xor", "int32", 2, (0,)),
                   reduce_node("add", "int32", 1, None, dtype="int64", acc_dtype="float64")]
    for node in not_covered:
        assert numpy_twin(node) is None, node


# ------------------------------------------------------------------ CumOp

CUMS = [("add", "float64", 2, None), ("add", "float64", 2, 0), ("add", "float64", 2, 1),
        ("add", "float32", 3, -1), ("add", "complex128", 2, 0), ("mul", "float64", 2, 1),
        ("mul", "float32", 1, None), ("mul", "complex128", 2, None),
        ("mul", "complex128", 2, 0), ("mul", "complex128", 3, 1), ("mul", "complex64", 2, 0),
        ("mul", "complex128", 0, None), ("add", "int32", 2, None), ("add", "bool", 2, 0),
        ("mul", "uint8", 2, 1)]


@pytest.mark.parametrize("mode, dtype, ndim, axis", CUMS)
@SETTINGS
@given(data=st.data())
def test_cumulative_ops_are_the_kernels(mode, dtype, ndim, axis, data):
    node = CumOp(axis, mode)(T.tensor(dtype, shape=(None,) * ndim, name="x")).owner
    check(node, draw_input(data, node.inputs[0]))
