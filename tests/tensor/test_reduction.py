import numpy as np
import pytest
import scipy.special

import symgraph as sg
import symgraph.tensor as T
from symgraph.scalar import math as sm
from symgraph.tensor.reduction import Argmax, Argmin, CAReduce, CumOp
from tests.utils import assert_allclose, check_infer_shape, random_value

ALL = ["bool", "int8", "int32", "int64", "uint8", "uint32", "float32", "float64",
       "complex64", "complex128"]
REAL = [d for d in ALL if not d.startswith("complex")]


@pytest.mark.parametrize("dtype", ALL)
def test_sum_prod_mean_cum(dtype, mode, rng):
    x = T.tensor(dtype, shape=(None, None, None), name="x")
    v = random_value(dtype, (2, 3, 4), rng, int_high=4)  # small ints: prod of 24 fits int64
    cases = [
        (x.sum(), np.sum(v)),
        (x.sum(axis=-1), np.sum(v, axis=-1)),
        (T.sum(x, axis=(0, 2), keepdims=True), np.sum(v, axis=(0, 2), keepdims=True)),
        (x.prod(axis=1), np.prod(v, axis=1)),
        (T.prod(x, axis=(-1, 0)), np.prod(v, axis=(-1, 0))),
        (x.mean(axis=(-2,)), np.mean(v, axis=(-2,))),
        (x.mean(keepdims=True), np.mean(v, keepdims=True)),
        (x.cumsum(), np.cumsum(v)),
        (x.cumsum(axis=-2), np.cumsum(v, axis=-2)),
        (T.cumprod(x, axis=0), np.cumprod(v, axis=0)),
        (x.any(axis=1), np.any(v, axis=1)),
        (x.all(), np.all(v)),
        (T.all(x, axis=-1, keepdims=True), np.all(v, axis=-1, keepdims=True)),
    ]
    f = sg.function([x], [c[0] for c in cases], mode=mode)
    for (out, want), got in zip(cases, f(v)):
        assert out.dtype == np.asarray(want).dtype
        assert_allclose(got, want)


@pytest.mark.parametrize("dtype", REAL)
def test_max_min_argmax_argmin(dtype, mode, rng):
    x = T.tensor(dtype, shape=(None, None, None), name="x")
    v = random_value(dtype, (3, 2, 4), rng, int_high=4)
    cases = [
        (x.max(), np.max(v)),
        (x.max(axis=-1), np.max(v, axis=-1)),
        (T.min(x, axis=(0, 2), keepdims=True), np.min(v, axis=(0, 2), keepdims=True)),
        (x.argmax(), np.argmax(v)),
        (x.argmax(axis=-2), np.argmax(v, axis=-2)),
        (T.argmin(x, axis=0, keepdims=True), np.argmin(v, axis=0, keepdims=True)),
        (x.argmin(keepdims=True), np.argmin(v, keepdims=True)),
    ]
    f = sg.function([x], [c[0] for c in cases], mode=mode)
    for (out, want), got in zip(cases, f(v)):
        assert_allclose(got, np.asarray(want))
    assert x.max().dtype == dtype and x.argmax().dtype == "int64"


@pytest.mark.parametrize("dtype", ["int32", "float32", "float64", "complex64", "complex128"])
def test_var_std(dtype, mode, rng):
    x = T.tensor(dtype, shape=(None, None), name="x")
    v = random_value(dtype, (3, 4), rng, int_high=4)
    cases = [
        (x.var(), np.var(v)),
        (x.var(axis=0, ddof=1), np.var(v, axis=0, ddof=1)),
        (T.var(x, axis=-1, keepdims=True), np.var(v, axis=-1, keepdims=True)),
        (x.std(axis=1, ddof=1), np.std(v, axis=1, ddof=1)),
        (T.std(x, keepdims=True), np.std(v, keepdims=True)),
    ]
    f = sg.function([x], [c[0] for c in cases], mode=mode)
    for (out, want), got in zip(cases, f(v)):
        assert_allclose(got, want)
    real = {"complex64": "float32", "complex128": "float64", "int32": "float64"}
    assert x.var().dtype == real.get(dtype, dtype)


def test_var_ddof_beyond_count(mode):
    # n - ddof <= 0 divides by zero, as NumPy does (inf or nan; no exception)
    x = T.dvector("x")
    f = sg.function([x], [x.var(ddof=3), T.var(T.specify_shape(x, (2,)), ddof=3)], mode=mode)
    v = np.array([1.0, 2.0])
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = np.var(v, ddof=3)
    for got in f(v):
        assert_allclose(got, want)


def test_dtype_rules():
    for src, want in [("bool", "int64"), ("int8", "int64"), ("int32", "int64"),
                      ("int64", "int64"), ("uint8", "uint64"), ("uint64", "uint64"),
                      ("float32", "float32"), ("complex64", "complex64")]:
        x = T.tensor(src, shape=(None,))
        assert x.sum().dtype == want == np.sum(np.zeros(1, src)).dtype
        assert x.prod().dtype == want
        assert x.cumsum().dtype == want == np.cumsum(np.zeros(1, src)).dtype
        assert x.any().dtype == "bool" and x.all().dtype == "bool"
        assert x.mean().dtype == np.mean(np.zeros(1, src)).dtype
    x = T.bvector("x")
    assert T.sum(x, dtype="int8").dtype == "int8"
    assert T.sum(x, dtype="float32").dtype == "float32"
    assert T.mean(x, dtype="float32").dtype == "float32"
    assert T.fvector().sum(acc_dtype="float64").dtype == "float32"


def test_explicit_dtype_values(mode):
    x = T.bvector("x")
    y = T.fvector("y")
    outs = [T.sum(x, dtype="int8"), T.prod(x, dtype="float64"),
            T.sum(y, acc_dtype="float64"), T.mean(y, dtype="float64"), T.mean(x, dtype="int64")]
    f = sg.function([x, y], outs, mode=mode)
    xv = np.array([100, 100, 7], dtype="int8")
    yv = np.array([1e8, 1.0, -1e8], dtype="float32")
    got = f(xv, yv)
    assert_allclose(got[0], np.sum(xv, dtype="int8"))  # wraps around, as NumPy
    assert_allclose(got[1], np.prod(xv, dtype="float64"))
    assert_allclose(got[2], np.float32(1.0))  # accumulated in float64
    assert_allclose(got[3], np.mean(yv, dtype="float64"))
    assert_allclose(got[4], np.mean(xv, dtype="int64"))


def test_bitwise_dtypes():
    x = T.tensor("uint8", shape=(None, None), name="x")
    b = T.tensor("bool", shape=(None,), name="b")
    assert T.bitwise_and_reduce(x, axis=1).dtype == "uint8"
    assert T.bitwise_xor_reduce(b).dtype == "bool"
    with pytest.raises(TypeError, match="bool or integer input.*float64"):
        T.bitwise_and_reduce(T.dvector("d"))


@pytest.fixture
def bitwise_values():
    return np.array([[12, 10, 7], [3, 255, 1]], dtype="uint8")


def test_bitwise_values(mode, bitwise_values):
    x = T.tensor("uint8", shape=(None, None), name="x")
    v = bitwise_values
    outs = [T.bitwise_and_reduce(x, axis=1), T.bitwise_or_reduce(x, axis=-2),
            T.bitwise_xor_reduce(x, keepdims=True)]
    want = [np.bitwise_and.reduce(v, axis=1), np.bitwise_or.reduce(v, axis=0),
            np.bitwise_xor.reduce(v, axis=None, keepdims=True)]
    for got, w in zip(sg.function([x], outs, mode=mode)(v), want):
        assert_allclose(got, w)


def test_complex_any_all_prod(mode):
    z = T.zvector("z")
    v = np.array([1 + 1j, 0, 2j])
    f = sg.function([z], [z.any(), z.all(), z.prod(), z.cumprod()], mode=mode)
    for got, want in zip(f(v), [np.any(v), np.all(v), np.prod(v), np.cumprod(v)]):
        assert_allclose(got, want)


def test_argmax_several_axes(mode, rng):
    x = T.dtensor3("x")
    v = rng.normal(size=(2, 3, 4))
    out = T.argmax(x, axis=(0, -1))
    out2 = T.argmin(x, axis=(1, 2), keepdims=True)
    got, got2 = sg.function([x], [out, out2], mode=mode)(v)
    want = np.argmax(v.transpose(1, 0, 2).reshape(3, 8), axis=-1)
    assert_allclose(got, want)
    assert_allclose(got2, np.argmin(v.reshape(2, 12), axis=-1).reshape(2, 1, 1))
    assert out.type.shape == (None,) and out2.type.shape == (None, 1, 1)


def test_zero_d_input(mode):
    x = T.dscalar("x")
    outs = [x.sum(), x.max(), x.argmax(), x.mean(keepdims=True), x.cumsum(), x.var()]
    got = sg.function([x], outs, mode=mode)(3.0)
    want = [np.sum(3.0), np.max(3.0), np.argmax(3.0),
            np.mean(np.float64(3.0), keepdims=True), np.cumsum(np.float64(3.0)), np.var(3.0)]
    for g, w in zip(got, want):
        assert_allclose(g, np.asarray(w))


def test_partly_static_shapes(mode, rng):
    # the element count of mean/var mixes static lengths and run-time ones
    x = T.tensor("float32", shape=(2, None, 4), name="x")
    v = rng.normal(size=(2, 3, 4)).astype("float32")
    outs = [x.mean(axis=(0, 1)), x.mean(axis=(0, 2)), x.var(ddof=1), x.std(axis=(0, 2), ddof=2)]
    want = [v.mean(axis=(0, 1)), v.mean(axis=(0, 2)), v.var(ddof=1), v.std(axis=(0, 2), ddof=2)]
    for g, w in zip(sg.function([x], outs, mode=mode)(v), want):
        assert_allclose(g, w)
    assert T.allclose(x, x).dtype == "bool"


def test_static_shapes():
    x = T.tensor("float64", shape=(2, None, 4))
    assert x.sum(axis=1).type.shape == (2, 4)
    assert x.sum(axis=1, keepdims=True).type.shape == (2, 1, 4)
    assert x.sum(keepdims=True).type.shape == (1, 1, 1)
    assert x.max(axis=(0, 2)).type.shape == (None,)
    assert x.argmax(axis=-1).type.shape == (2, None)
    assert x.argmax(keepdims=True).type.shape == (1, 1, 1)
    assert x.mean(axis=0).type.shape == (None, 4)
    assert x.var(axis=2, keepdims=True).type.shape == (2, None, 1)
    assert x.cumsum().type.shape == (None,)
    assert x.cumsum(axis=1).type.shape == (2, None, 4)
    y = T.tensor("int8", shape=(2, 3))
    assert y.cumprod().type.shape == (6,)
    assert T.logsumexp(y, axis=0).type.shape == (3,)
    assert T.logsumexp(y, axis=0, keepdims=True).type.shape == (1, 3)
    assert T.logsumexp(y).type.shape == ()


def test_op_identity():
    x = T.dmatrix()
    a, b = x.sum(axis=(0, 1)), T.sum(x)
    assert a.owner.op == b.owner.op and hash(a.owner.op) == hash(b.owner.op)
    assert CAReduce(sm.add, (0,)) == CAReduce(sm.add, 0)
    assert CAReduce(sm.add, (0,)) != CAReduce(sm.mul, (0,))
    assert CAReduce(sm.add, (0,)) != CAReduce(sm.add, (0,), dtype="float32")
    assert Argmax((1,)) != Argmin((1,))
    assert CumOp(0, "add") != CumOp(0, "mul") and CumOp(None, "add") == CumOp(None, "add")
    with pytest.raises(ValueError, match="sorted tuple"):
        CAReduce(sm.add, (1, 0))
    with pytest.raises(ValueError, match="sorted tuple"):
        CAReduce(sm.add, (-1,))
    with pytest.raises(TypeError, match="cannot reduce with sub"):
        CAReduce(sm.sub)
    with pytest.raises(ValueError, match="mode"):
        CumOp(0, "max")


def test_bad_axis():
    x = T.dmatrix("x")
    with pytest.raises(np.exceptions.AxisError, match="axis 2 is out of bounds.*2 dimensions"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match="axis -3 is out of bounds"):
        T.max(x, axis=(0, -3))
    with pytest.raises(ValueError, match="repeated"):
        T.sum(x, axis=(1, -1))
    with pytest.raises(TypeError, match="axis entries must be ints"):
        x.mean(axis=1.0)
    with pytest.raises(TypeError, match="known when the graph is built"):
        x.sum(axis=T.lscalar("a"))
    with pytest.raises(np.exceptions.AxisError, match="cumsum: axis 2"):
        x.cumsum(axis=2)
    with pytest.raises(np.exceptions.AxisError, match="argmax: axis -3"):
        x.argmax(axis=-3)
    with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
        CAReduce(sm.add, (2,))(x)
    with pytest.raises(TypeError, match="ddof must be an int"):
        x.var(ddof=0.5)
    # a constant axis is fine
    assert x.sum(axis=T.constant(1)).type.shape == (None,)


def test_bad_dtype():
    z = T.zmatrix("z")
    for fn in (T.max, T.min, T.argmax, T.argmin):
        with pytest.raises(TypeError, match=r"complex input.*z of type TensorType\(complex128"):
            fn(z)
    with pytest.raises(TypeError, match="complex input"):
        z.max(axis=0)
    with pytest.raises(TypeError, match="dtype=int64"):
        T.sum(T.dvector("d"), dtype="int64")
    with pytest.raises(TypeError, match="dtype=float64"):
        T.sum(z, dtype="float64")
    with pytest.raises(TypeError, match="acc_dtype=float32"):
        T.sum(z, acc_dtype="float32")


def test_empty_axis_runtime(mode):
    x = T.dmatrix("x")
    f = sg.function([x], [x.sum(axis=0), x.prod(axis=0), x.mean(axis=0), x.any(axis=0),
                          x.all(axis=0)], mode=mode)
    v = np.zeros((0, 2))
    with np.errstate(all="ignore"):
        want = [np.sum(v, 0), np.prod(v, 0), np.full(2, np.nan), np.any(v, 0), np.all(v, 0)]
    for g, w in zip(f(v), want):
        assert_allclose(g, w)
    for out, msg in [(x.max(axis=0), "zero-size array"), (x.min(), "zero-size array"),
                     (x.argmax(axis=0), "empty sequence"), (x.argmin(), "empty sequence")]:
        g = sg.function([x], out, mode=mode)
        with pytest.raises(ValueError, match=msg):
            g(v)


def test_logsumexp(mode, rng):
    x = T.dmatrix("x")
    y = T.dvector("y")
    f32 = T.fmatrix("f")
    v = rng.normal(size=(3, 4)) * 5
    v[0] += 1000.0  # would overflow without the shift
    v[1] = -np.inf  # an all -inf row: -inf, not nan
    v[2, 1] = np.inf
    yv = np.array([-1000.0, -1001.0, -np.inf])
    vf = (rng.normal(size=(2, 3)) * 50).astype("float32")
    outs = [T.logsumexp(x, axis=1), T.logsumexp(x, axis=-1, keepdims=True),
            T.logsumexp(y), T.logsumexp(y, keepdims=True),
            T.logsumexp(f32, axis=0)]
    got = sg.function([x, y, f32], outs, mode=mode)(v, yv, vf)
    with np.errstate(all="ignore"):
        want = [scipy.special.logsumexp(v, axis=1),
                scipy.special.logsumexp(v, axis=-1, keepdims=True),
                scipy.special.logsumexp(yv), scipy.special.logsumexp(yv, keepdims=True),
                scipy.special.logsumexp(vf.astype("float64"), axis=0).astype("float32")]
    for g, w in zip(got, want):
        assert_allclose(g, w)
    assert got[0][1] == -np.inf and got[0][2] == np.inf and np.isfinite(got[0][0])
    assert np.isfinite(got[2])
    minus_inf = sg.function([y], T.logsumexp(y), mode=mode)(np.full(3, -np.inf))
    assert_allclose(minus_inf, np.asarray(-np.inf))


def test_logsumexp_int_and_complex(mode):
    i = T.lvector("i")
    z = T.zvector("z")
    f = sg.function([i, z], [T.logsumexp(i), T.logsumexp(z)], mode=mode)
    iv = np.array([1, 2, 3])
    zv = np.array([1 + 1j, 2 - 0.5j])
    got = f(iv, zv)
    assert_allclose(got[0], np.log(np.sum(np.exp(iv.astype(float)))))
    assert_allclose(got[1], np.log(np.sum(np.exp(zv))))


def test_infer_shape(rng):
    x = T.dtensor3("x")
    v = rng.normal(size=(2, 3, 4))
    outs = [CAReduce(sm.add, (0, 2))(x), CAReduce(sm.maximum)(x), Argmax((1,))(x),
            Argmin(None)(x), Argmax((0, 2))(x), CumOp(None, "add")(x), CumOp(1, "mul")(x),
            CAReduce(sm.logical_or, ())(x)]
    for o in outs:
        check_infer_shape(o, [x], [v])
    s = T.dscalar("s")
    check_infer_shape(CumOp(None, "add")(s), [s], [np.float64(2.0)])
