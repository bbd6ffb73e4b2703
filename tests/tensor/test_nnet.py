import numpy as np
import pytest
import scipy.special

import symgraph as sg
from symgraph.compile.mode import Mode
import symgraph.tensor as T
from symgraph.graph.utils import ShapeError
from symgraph.tensor import nnet
from symgraph.tensor.nnet import CrossentropyCategorical1Hot, LogSoftmax, Softmax
from tests.utils import assert_allclose, check_infer_shape


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_log_softmax(dtype, mode, rng):
    x = T.tensor(dtype, shape=(None, None, None), name="x")
    v = (rng.normal(size=(2, 3, 4)) * 3).astype(dtype)
    cases = [
        (nnet.softmax(x), scipy.special.softmax(v, axis=-1)),
        (nnet.softmax(x, axis=1), scipy.special.softmax(v, axis=1)),
        (T.softmax(x, axis=-3), scipy.special.softmax(v, axis=0)),
        (nnet.log_softmax(x), scipy.special.log_softmax(v, axis=-1)),
        (nnet.log_softmax(x, axis=0), scipy.special.log_softmax(v, axis=0)),
    ]
    f = sg.function([x], [c[0] for c in cases], mode=mode)
    for (out, want), got in zip(cases, f(v)):
        assert out.dtype == dtype and out.type.shape == (None, None, None)
        assert_allclose(got, want.astype(dtype))


def test_softmax_stable_and_vector(mode):
    x = T.dvector("x")
    f = sg.function([x], [nnet.softmax(x), nnet.log_softmax(x)], mode=mode)
    v = np.array([1000.0, 1001.0, -1000.0])
    sm, lsm = f(v)
    assert_allclose(sm, scipy.special.softmax(v))
    assert_allclose(lsm, scipy.special.log_softmax(v))
    assert np.isfinite(lsm).all()  # log(softmax) would give -inf for the last entry
    # +inf in a row, or a row that is all -inf, gives nan (as SciPy)
    w = np.array([np.inf, 0.0, 1.0])
    with np.errstate(all="ignore"):
        want = scipy.special.softmax(w), scipy.special.log_softmax(w)
    for g, e in zip(f(w), want):
        assert_allclose(g, e)
    sm, lsm = f(np.full(2, -np.inf))
    assert np.isnan(sm).all() and np.isnan(lsm).all()
    for g in f(np.zeros(0)):
        assert_allclose(g, np.zeros(0))


def test_softmax_int_input_and_static_shape(mode):
    i = T.tensor("int64", shape=(2, 3), name="i")
    b = T.tensor("int8", shape=(None, 3), name="b")
    out_i, out_b = nnet.softmax(i), nnet.log_softmax(b, axis=0)
    assert out_i.dtype == "float64" and out_i.type.shape == (2, 3)
    assert out_b.dtype == "float32" and out_b.type.shape == (None, 3)
    iv = np.arange(6).reshape(2, 3)
    got = sg.function([i, b], [out_i, out_b], mode=mode)(iv, iv.astype("int8"))
    assert_allclose(got[0], scipy.special.softmax(iv.astype(float), axis=-1))
    assert_allclose(got[1], scipy.special.log_softmax(iv.astype("float32"), axis=0))


def test_softmax_errors():
    with pytest.raises(TypeError, match="at least 1 dimension.*shape=\\(\\)"):
        nnet.softmax(T.dscalar("s"))
    with pytest.raises(TypeError, match="at least 1 dimension"):
        LogSoftmax(0)(T.dscalar("s"))
    with pytest.raises(TypeError, match="real input.*complex128"):
        nnet.softmax(T.zvector("z"))
    with pytest.raises(np.exceptions.AxisError, match="axis 2 is out of bounds"):
        nnet.log_softmax(T.dmatrix("m"), axis=2)
    with pytest.raises(np.exceptions.AxisError, match="axis -3 is out of bounds"):
        Softmax(-3)(T.dmatrix("m"))
    with pytest.raises(TypeError, match="axis must be an int"):
        Softmax(None)
    assert Softmax(1) == Softmax(1) and Softmax(1) != Softmax(0) and Softmax(1) != LogSoftmax(1)
    m = T.dmatrix()
    assert nnet.softmax(m).owner.op == nnet.softmax(m, axis=1).owner.op


def test_crossentropy(mode, rng):
    p = T.dmatrix("p")
    y = T.ivector("y")
    t = T.dmatrix("t")
    f32 = T.fmatrix("f")
    y8 = T.tensor("uint8", shape=(None,), name="y8")
    pv = scipy.special.softmax(rng.normal(size=(4, 3)), axis=1)
    yv = np.array([0, 2, 1, 2], dtype="int32")
    onehot = np.eye(3)[yv]
    soft = scipy.special.softmax(rng.normal(size=(4, 3)), axis=1)
    hard = nnet.categorical_crossentropy(p, y)
    assert isinstance(hard.owner.op, CrossentropyCategorical1Hot)
    outs = [hard, nnet.categorical_crossentropy(p, t),
            nnet.categorical_crossentropy(f32, y8)]
    got = sg.function([p, y, t, f32, y8], outs, mode=mode)(
        pv, yv, onehot, pv.astype("float32"), yv.astype("uint8"))
    want = -np.log(pv[np.arange(4), yv])
    assert_allclose(got[0], want)
    assert_allclose(got[1], want)
    assert_allclose(got[2], want.astype("float32"))
    g = sg.function([p, t], nnet.categorical_crossentropy(p, t), mode=mode)
    assert_allclose(g(pv, soft), -np.sum(soft * np.log(pv), axis=-1))


def test_crossentropy_1hot_nd_and_zero_prob(mode):
    p = T.dtensor3("p")
    y = T.lmatrix("y")
    out = nnet.crossentropy_categorical_1hot(p, y)
    assert out.type.shape == (None, None)
    pv = np.zeros((2, 1, 3))
    pv[..., 1] = 1.0
    yv = np.array([[1], [0]])
    got = sg.function([p, y], out, mode=mode)(pv, yv)
    assert_allclose(got, np.array([[0.0], [np.inf]]))


def test_crossentropy_errors(mode):
    p = T.dmatrix("p")
    y = T.lvector("y")
    f = sg.function([p, y], nnet.categorical_crossentropy(p, y), mode=mode)
    pv = np.full((2, 3), 1 / 3)
    with pytest.raises(IndexError, match="label 3 is out of range for 3 classes"):
        f(pv, np.array([0, 3]))
    with pytest.raises(IndexError, match="label -1 is out of range for 3 classes"):
        f(pv, np.array([-1, 0]))
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*labels of shape \(2,\).*\(3,\)"):
        f(pv, np.array([0, 1, 2]))
    with pytest.raises(ShapeError, match="length 2.*but 3"):
        nnet.categorical_crossentropy(T.dmatrix(shape=(2, 4)), T.lvector(shape=(3,)))
    with pytest.raises(TypeError, match="float probabilities.*int64"):
        nnet.crossentropy_categorical_1hot(T.lmatrix("q"), y)
    with pytest.raises(TypeError, match="integer labels.*float64"):
        nnet.crossentropy_categorical_1hot(p, T.dvector("yf"))
    with pytest.raises(TypeError, match="one dimension fewer"):
        nnet.crossentropy_categorical_1hot(p, T.lmatrix("ym"))
    with pytest.raises(TypeError, match="true_dist must be integer labels.*true_dist yf"):
        nnet.categorical_crossentropy(p, T.dvector("yf"))


def test_binary_crossentropy(mode, rng):
    x = T.dmatrix("x")
    t = T.dmatrix("t")
    xf = T.fvector("xf")
    xv = rng.normal(size=(2, 3)) * 3
    tv = rng.uniform(size=(2, 3))
    o = scipy.special.expit(xv)
    want = -(tv * np.log(o) + (1 - tv) * np.log(1 - o))
    outs = [nnet.binary_crossentropy(nnet.sigmoid(x), t),
            nnet.sigmoid_binary_crossentropy(x, t),
            nnet.sigmoid_binary_crossentropy(xf, 1.0), nnet.binary_crossentropy(nnet.sigmoid(xf), 0)]
    xfv = np.array([-200.0, 0.0, 200.0], dtype="float32")
    got = sg.function([x, t, xf], outs, mode=mode)(xv, tv, xfv)
    raw = sg.function([x, t, xf], outs, mode=Mode(mode, optimizer=None))(xv, tv, xfv)
    for g in (got, raw):
        assert_allclose(g[0], want)
        assert_allclose(g[1], want)
        # from logits: large |x| neither overflows nor rounds to log(0)
        assert_allclose(g[2], np.array([200.0, np.log(2.0), 0.0], dtype="float32"))
    with np.errstate(all="ignore"):
        # as written, the probability form is not stable: sigmoid(-200) rounds to 0 and
        # 0 * log(0) is nan ...
        o32 = scipy.special.expit(xfv)
        assert_allclose(raw[3], -(0 * np.log(o32) + 1 * np.log(1 - o32)))
    assert np.isnan(raw[3][0])
    # ... and the stabilize rewrites turn log(1 - sigmoid(x)) into -softplus(x)
    assert_allclose(got[3], np.array([0.0, np.log(2.0), 200.0], dtype="float32"))
    assert outs[2].dtype == "float32" and outs[3].dtype == "float32"


def test_reexports():
    assert nnet.sigmoid is T.sigmoid and nnet.softplus is T.softplus and nnet.relu is T.relu
    for name in nnet.__all__:
        assert getattr(T.nnet, name) is getattr(nnet, name)


def test_infer_shape(rng):
    x = T.dtensor3("x")
    v = rng.uniform(size=(2, 3, 4))
    check_infer_shape(nnet.softmax(x, axis=1), [x], [v])
    check_infer_shape(nnet.log_softmax(x), [x], [v])
    y = T.lmatrix("y")
    check_infer_shape(nnet.categorical_crossentropy(x, y), [x, y],
                      [v, np.zeros((2, 3), dtype="int64")])
