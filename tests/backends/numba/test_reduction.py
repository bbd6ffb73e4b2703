"""The numba kernels of the reductions (backends/numba/dispatch/reduction.py): CAReduce,
Argmax/Argmin, CumOp. Always compiled with mode="numba", whatever
SYMGRAPH_TEST_BACKENDS says; the op tests (tests/tensor/test_reduction.py) cover the
values on both backends, these the backend's own cases: no object mode, layouts,
empty and 0-d inputs, NumPy's summation order, and errors raised in native code."""

from functools import partial

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from backends.numba.dispatch import kernel_for
from symgraph.compile.mode import Mode
from symgraph.scalar import math as sm
from symgraph.tensor.reduction import Argmax, Argmin, CAReduce, CumOp
from tests.backends.numba import utils as nb

compile_both = partial(nb.compile_both, mode="numba", ref_mode="py")
check_same = nb.check_same


def test_kernels_native_and_shared():
    x = T.fmatrix("x")
    nodes = [o.owner for o in (x.sum(axis=0), x.argmax(axis=1), x.cumsum(axis=0),
                               CAReduce(sm.bitwise_xor, (1,))(T.bmatrix()))]
    for node in nodes:
        k = kernel_for(node)
        assert not k.runtime_globals and k.uncacheable is None, node
    # equal nodes in different graphs share one kernel: the source names no variable
    assert kernel_for(T.fmatrix("a").sum(axis=0).owner).key == kernel_for(nodes[0]).key


def test_layouts_and_read_only(rng):
    x = T.tensor("float64", shape=(None, None, None), name="x")
    outs = [x.sum(), T.sum(x, axis=(0, 2)), T.prod(x, axis=(1, 2)), x.max(axis=1),
            T.any(x, axis=0), x.argmax(axis=(0, 2)), x.argmin(), x.cumsum(axis=1)]
    f, ref = compile_both([x], outs)
    v = rng.normal(size=(3, 4, 5))
    v[1, 2, 3] = np.nan
    check_same(f, ref, v)
    # read-only views, not C-contiguous (one more compiled specialisation)
    ro = rng.normal(size=(5, 3, 8))
    ro.setflags(write=False)
    check_same(f, ref, ro.transpose(1, 2, 0)[:, ::2])
    check_same(f, ref, ro.transpose(1, 2, 0)[:, 1::2])
    assert not ro.flags.writeable


def test_empty_inputs(rng):
    x = T.tensor("float64", shape=(None, None), name="x")
    b = T.tensor("uint8", shape=(None,), name="b")
    outs = [x.sum(), x.sum(axis=0), x.prod(axis=1), T.all(x), T.any(x, axis=1),
            x.cumsum(), x.cumprod(axis=0), x.max(axis=0),
            CAReduce(sm.bitwise_and)(b), CAReduce(sm.bitwise_or)(b)]
    f, ref = compile_both([x, b], outs)
    e = np.zeros(0, dtype="uint8")
    # max over the 3 rows of a (3, 0) input is empty, not an error
    check_same(f, ref, np.zeros((3, 0)), e)
    got = f(np.zeros((3, 0)), e)
    assert got[0] == 0.0 and got[3] and got[8] == 255 and got[9] == 0


def test_zero_d_input():
    x = T.dscalar("x")
    outs = [x.sum(), x.prod(), x.max(), T.all(x), x.argmax(), x.argmin(), x.cumsum(),
            CAReduce(sm.add, dtype="float32")(x)]
    f, ref = compile_both([x], outs)
    for v in (2.5, 0.0, np.nan):
        check_same(f, ref, v)
    assert f(3.0)[6].shape == (1,) and f(3.0)[0].shape == ()


def test_nan_propagation_and_first_occurrence():
    x = T.dmatrix("x")
    outs = [x.max(axis=1), x.min(axis=0), x.argmax(axis=1), x.argmin(axis=0), x.argmax()]
    f, ref = compile_both([x], outs)
    v = np.array([[1.0, np.nan, 3.0, np.nan], [-np.inf, -np.inf, 2.0, 2.0],
                  [5.0, 5.0, -1.0, np.inf]])
    check_same(f, ref, v)
    got = f(v)
    assert np.isnan(got[0][0]) and got[2].tolist() == [1, 2, 3]
    assert got[4] == 1  # the first nan


def test_argmax_of_several_axes_is_c_order_flat_index(rng):
    x = T.tensor("int16", shape=(None, None, None), name="x")
    outs = [Argmax((0, 2))(x), Argmin((1, 2))(x), Argmax((0, 1))(x)]
    f, ref = compile_both([x], outs)
    v = rng.integers(-3, 3, size=(3, 4, 5)).astype("int16")
    check_same(f, ref, v)
    want = np.argmax(v.transpose(1, 0, 2).reshape(4, 15), axis=-1)
    np.testing.assert_array_equal(f(v)[0], want)


def test_integer_dtypes_wrap_and_accumulate_as_numpy():
    b = T.bvector("b")
    u = T.tensor("uint64", shape=(None,), name="u")
    flag = T.tensor("bool", shape=(None, None), name="flag")
    outs = [T.sum(b, dtype="int8"), T.prod(b), CAReduce(sm.add, acc_dtype="float64",
                                                        dtype="float32")(T.cast(b, "float32")),
            u.sum(), u.cumprod(), u.max(), Argmin()(u),
            flag.sum(axis=0), T.any(flag, axis=1), CAReduce(sm.bitwise_xor, (0,))(flag),
            CAReduce(sm.add, (1,), dtype="bool")(flag), CAReduce(sm.mul, (0,), dtype="bool")(flag)]
    f, ref = compile_both([b, u, flag], outs)
    bv = np.array([100, 100, 7, -3], dtype="int8")
    uv = np.array([2**63 + 5, 2**62, 3], dtype="uint64")
    fv = np.array([[True, False, True], [True, True, False]])
    check_same(f, ref, bv, uv, fv)
    assert f(bv, uv, fv)[0] == np.sum(bv, dtype="int8")


def test_float_sums_follow_numpys_pairwise_order(rng):
    x = T.fvector("x")
    m = T.fmatrix("m")
    t = T.tensor("float32", shape=(None, None, None), name="t")
    f = sg.function([x, m, t], [x.sum(), m.sum(axis=1), t.sum(axis=(1, 2)), t.sum()],
                    mode="numba")
    xv = rng.normal(size=100_003).astype("float32")
    mv = rng.normal(size=(3, 1000)).astype("float32")
    tv = rng.normal(size=(2, 30, 70)).astype("float32")
    got = f(xv, mv, tv)
    # bit-for-bit on contiguous input, where naive float32 accumulation would drift
    assert got[0] == np.sum(xv)
    np.testing.assert_array_equal(got[1], np.sum(mv, axis=1))
    np.testing.assert_array_equal(got[2], np.sum(tv, axis=(1, 2)))
    assert got[3] == np.sum(tv)
    ones = np.ones(2**24 + 4, dtype="float32")  # beyond float32's exact integers
    assert f(ones, mv, tv)[0] == np.float32(2**24 + 4)


def test_cumop_axes_and_dtypes(rng):
    x = T.tensor("int8", shape=(None, None, None), name="x")
    z = T.zmatrix("z")
    outs = [CumOp(-1, "add")(x), CumOp(0, "mul")(x), CumOp(None, "add")(x),
            z.cumsum(axis=0), z.cumprod()]
    f, ref = compile_both([x, z], outs)
    xv = rng.integers(-4, 4, size=(2, 3, 4)).astype("int8")
    zv = rng.normal(size=(3, 2)) + 1j * rng.normal(size=(3, 2))
    check_same(f, ref, xv, zv)
    check_same(f, ref, xv[:, ::-1], zv.T.copy().T)
    neg = np.array([[-0.0, 1.0], [-0.0, 2.0]], dtype=complex)
    assert np.signbit(f(xv, neg)[3][0, 0].real)  # cumsum keeps -0.0 as NumPy


@pytest.mark.parametrize("op, exc", [(lambda x: x.max(axis=1), ValueError),
                                     (lambda x: x.argmin(axis=(0, 1)), ValueError)])
def test_empty_extremum_raises_in_native_code_and_names_the_node(op, exc):
    x = T.dmatrix("x")
    f = sg.function([x], op(x), mode=Mode("numba", optimizer=None))
    bad = np.zeros((2, 0))
    with pytest.raises(exc):
        f._thunk.jitted(bad)  # the kernel itself refuses (no garbage, no crash)
    with pytest.raises(exc, match="Apply node that failed"):
        f(bad)


# ----------------------------------------------------------- the compiled sum helpers

def _pairwise_reference(x, zero):
    """NumPy's pairwise summation written out in Python (scalars of x's dtype)."""
    n = len(x)
    if n < 8:
        res = zero
        for v in x:
            res = res + v
        return res
    if n <= 128:
        r = list(x[:8])
        stop = n - n % 8
        for i in range(8, stop, 8):
            r = [r[q] + x[i + q] for q in range(8)]
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for i in range(stop, n):
            res = res + x[i]
        return res
    half = n // 2
    half -= half % 8
    return _pairwise_reference(x[:half], zero) + _pairwise_reference(x[half:], zero)


def _same_bits(got, want, dtype):
    return np.asarray(got, dtype=dtype).tobytes() == np.asarray(want, dtype=dtype).tobytes()


def test_pairwise_and_block_sums_bit_for_bit(rng):
    """pairwise_sum and block_sum called directly (the kernels' helpers): float sums
    equal np.sum's bits (a strided 1-d array too: NumPy sums it pairwise along its
    stride); complex ones the pairwise recursion's; a block that is not C-contiguous
    is summed in C order in chunks of 8192, each pairwise, as NumPy buffers it."""
    from backends.numba.dispatch.reduction import block_sum, pairwise_sum

    sizes = [0, 1, 7, 8, 9, 127, 128, 129, 136, 137, 1000, 8193, 100_003]
    for n in sizes:
        x = rng.normal(size=2 * n) * 10.0 ** rng.integers(-8, 8, size=2 * n)
        for v in (x[:n], x[::2]):  # (an empty sum is ``zero``, -0.0)
            want = np.sum(v) if n else -0.0
            assert _same_bits(pairwise_sum(v, -0.0), want, "float64"), (n, v.strides)
        z = (x[:n] + 1j * x[n:]).astype("complex128")
        if n <= 8193:
            zero = np.complex128(complex(-0.0, -0.0))
            assert _same_bits(pairwise_sum(z, zero), _pairwise_reference(z, zero),
                              "complex128"), n
    assert np.signbit(pairwise_sum(np.array([-0.0, -0.0]), -0.0))
    m = rng.normal(size=(150, 130)) * 10.0 ** rng.integers(-8, 8, size=(150, 130))
    assert _same_bits(block_sum(m, -0.0), np.sum(m), "float64")
    assert _same_bits(block_sum(m[:0], -0.0), -0.0, "float64")
    t = m.T  # 19500 elements in C order: chunks of 8192, 8192 and 3116
    flat = t.ravel()
    want = -0.0
    for lo in range(0, flat.size, 8192):
        want = want + np.sum(flat[lo:lo + 8192])
    assert _same_bits(block_sum(t, -0.0), want, "float64")
    assert _same_bits(block_sum(m[:10, ::3].T, -0.0), np.sum(m[:10, ::3].T.copy()), "float64")


def test_short_static_last_axis_is_summed_inline_bit_for_bit(rng):
    """A reduced last axis of static length up to INLINE_PAIRWISE is summed by lines in
    the kernel (no pairwise_sum call per row), with pairwise_sum's additions in its
    order: the bits of np.sum (float) and of the pairwise recursion (complex)."""
    from backends.numba.dispatch.reduction import INLINE_PAIRWISE

    lengths = (1, 7, 8, 13, 24, INLINE_PAIRWISE, INLINE_PAIRWISE + 1)
    xs = [T.tensor("float64", shape=(None, n), name=f"x{n}") for n in lengths]
    t = T.tensor("float32", shape=(2, None, 9), name="t")
    z = T.tensor("complex128", shape=(None, 11), name="z")
    outs = [x.sum(axis=1) for x in xs] + [t.sum(axis=2), t.sum(axis=(0, 2)), z.sum(axis=1)]
    for out, n in zip(outs, lengths):
        inline = "pairwise_sum" not in kernel_for(out.owner).source
        assert inline == (n <= INLINE_PAIRWISE), n
    f = sg.function(xs + [t, z], outs, mode="numba")
    values = [rng.normal(size=(5, n)) * 10.0 ** rng.integers(-8, 8, size=(5, n))
              for n in lengths]
    tv = rng.normal(size=(2, 3, 9)).astype("float32")
    zv = rng.normal(size=(4, 11)) + 1j * rng.normal(size=(4, 11))
    got = f(*values, tv, zv)
    for g, v in zip(got, values):
        assert _same_bits(g, np.sum(v, axis=1), "float64")
    assert _same_bits(got[-3], np.sum(tv, axis=2), "float32")
    assert _same_bits(got[-2], np.sum(tv, axis=(0, 2)), "float32")
    zero = np.complex128(complex(-0.0, -0.0))
    want = [np.complex128(0) + _pairwise_reference(row, zero) for row in zv]
    assert _same_bits(got[-1], want, "complex128")


# ------------------------------------------- reductions folded into an Elemwise's loop

def _folded_reductions(f):
    """The reduction nodes that ``f``'s graph function computes in Elemwise loops."""
    from backends.numba.linker import _Folded, _kernels

    fg = f.maker.fgraph
    return [str(r.op) for unit, _ in _kernels(fg, fg.toposort()) if isinstance(unit, _Folded)
            for r in unit.reductions]


def test_reductions_keeping_the_last_axis_fold_into_the_elemwise_loop(rng, monkeypatch):
    """A reduction of an Elemwise's output that keeps the last axis is computed in the
    Elemwise's loop nest (the output not stored where nothing else reads it), with the
    bits of the two kernels apart: sums, a max with NaN, int8 values summed in int64, a
    reduced output that is also a graph output, two reductions of one output. A sum
    over the last axis (pairwise) stays a kernel of its own."""
    import backends.numba.linker as linker

    x = T.dmatrix("x")
    t = T.tensor("float64", shape=(None, None, None), name="t")
    b = T.bmatrix("b")
    e = T.exp(x) * 2.0 - x
    u = T.tanh(t) * t + 1.0
    w = b * b  # wraps in int8
    outs = [e.sum(axis=0), e.sum(axis=1), u.max(axis=(0, 1)), u.sum(axis=1), u,
            w.sum(axis=0), T.prod(u, axis=0)]
    f, ref = compile_both([x, t, b], outs)
    assert sorted(_folded_reductions(f)) == sorted(
        [str(o.owner.op) for o in (outs[0], outs[2], outs[3], outs[5], outs[6])])
    monkeypatch.setattr(linker, "FOLD_REDUCTIONS", False)
    apart = sg.function([x, t, b], outs, mode="numba")
    assert not _folded_reductions(apart)
    xv = rng.normal(size=(5, 3)) * 10.0 ** rng.integers(-3, 3, size=(5, 3))
    xv[1, 2], xv[3, 0] = np.inf, -0.0
    tv = rng.normal(size=(4, 6, 3))
    tv[2, 1, 0] = np.nan
    bv = rng.integers(-128, 128, size=(7, 2)).astype("int8")
    got = check_same(f, ref, xv, tv, bv)
    for g, a in zip(got, apart(xv, tv, bv)):
        assert g.dtype == a.dtype and g.shape == a.shape
        assert g.tobytes() == a.tobytes()
    assert got[5].dtype == ref(xv, tv, bv)[5].dtype
    # empty inputs: an empty sum, and a max over nothing raises as the kernel would
    check_same(f, ref, xv[:0], tv[:, :, :0], bv[:0])
    with pytest.raises(ValueError, match="Apply node that failed"):
        f(xv, tv[:0], bv)
