"""Random generator type, random ops and RandomStream (symgraph/tensor/random*.py).

The contract tested here: a draw equals the NumPy Generator method of the same
name called on a generator in the same state (float32 draws are float64 draws
rounded); the k-th generator of ``RandomStream(seed)`` is
``default_rng(SeedSequence(seed).spawn(k + 1)[k])``; ops never change their input
generator. Graphs are small and shared, so the numba run compiles little.
"""

import pickle

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import NullTypeGradError
from symgraph.graph.utils import ShapeError
from symgraph.tensor import random as R
from symgraph.tensor.random_type import (
    RandomGeneratorSharedVariable, copy_generator, random_generator_type,
)
from tests.utils import assert_allclose, check_infer_shape


def ref(seed=7):
    return np.random.default_rng(seed)


def child(seed, k):
    """The documented seeding of a stream's k-th generator."""
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(k + 1)[k])


def same_state(a, b):
    return random_generator_type.values_eq(a, b)


# --------------------------------------------------------------------------- the type

def test_type_filter_accepts_generators_and_refuses_the_rest():
    t = random_generator_type
    g = np.random.Generator(np.random.MT19937(3))
    assert t.filter(g) is g
    for bad, hint in [(np.random.RandomState(0), "default_rng"), (np.random.PCG64(1), "wrap"),
                      (3, "seed"), ("rng", "str"), (np.zeros(2), "ndarray")]:
        with pytest.raises(TypeError, match="numpy.random.Generator") as e:
            t.filter(bad)
        assert hint in str(e.value)
    with pytest.raises(TypeError, match="symbolic"):
        t.filter(T.dscalar())
    assert t == R.RandomGeneratorType() and hash(t) == hash(R.RandomGeneratorType())
    assert t != T.dscalar().type and str(t) == "RandomGeneratorType"


def test_values_eq_compares_states_of_any_bit_generator():
    t = random_generator_type
    for make in (np.random.PCG64, np.random.MT19937, np.random.Philox, np.random.SFC64):
        a, b = np.random.Generator(make(5)), np.random.Generator(make(5))
        assert t.values_eq(a, b)
        c = copy_generator(a)
        assert c.bit_generator is not a.bit_generator and t.values_eq(a, c)
        assert_allclose(c.normal(size=4), a.normal(size=4))
        b.random()
        assert not t.values_eq(a, b)
    assert not t.values_eq(np.random.Generator(np.random.PCG64(5)),
                           np.random.Generator(np.random.SFC64(5)))
    assert not t.values_eq(ref(), 3)


def test_shared_generator_copies_unless_borrowed():
    g = ref(3)
    s = sg.shared(g, name="r")
    assert isinstance(s, RandomGeneratorSharedVariable) and s.type == random_generator_type
    assert s.get_value(borrow=True) is not g and same_state(s.get_value(), g)
    assert sg.shared(g, borrow=True).get_value(borrow=True) is g
    v = s.get_value()
    v.random()  # changing the copy does not change the shared state
    assert same_state(s.get_value(borrow=True), g)
    h = ref(9)
    s.set_value(h)
    assert s.get_value(borrow=True) is not h and same_state(s.get_value(borrow=True), h)
    s.set_value(h, borrow=True)
    assert s.get_value(borrow=True) is h
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        s.set_value(np.random.RandomState(0))
    with pytest.raises(TypeError, match="no shape"):
        sg.shared(g, shape=(1,))
    with pytest.raises(TypeError, match="has no zero"):
        s.zero()
    s2 = pickle.loads(pickle.dumps(s))
    assert same_state(s2.get_value(borrow=True), h)


# --------------------------------------------------------------------------- values

@pytest.fixture(scope="module")
def draws():
    """Every op once on the same shared generator (ops never advance it, so each draw
    starts from the same state), symbolic parameters broadcasting against each other."""
    rng = sg.shared(ref(7), name="rng")
    low, n, m = T.dvector("low"), T.lscalar("n"), T.dmatrix("m")
    high, k, hi = T.dmatrix("high"), T.lvector("k"), T.lvector("hi")
    cases = {
        "uniform": R.uniform(rng, low, high),
        "uniform_size": R.uniform(rng, 0.5, 2.0, size=(n, 3)),
        "normal": R.normal(rng, low, 2.0, size=(2, 3)),
        "normal32": R.normal(rng, 1.0, 0.5, size=4, dtype="float32"),
        "binomial": R.binomial(rng, k, 0.3),
        "binomial_f": R.binomial(rng, 1, 0.5, size=(5,), dtype="float64"),
        "integers": R.integers(rng, -5, hi, size=(2, 3)),
        "integers_incl": R.integers(rng, -2, 2, size=(6,), endpoint=True),
        "multinomial": R.multinomial(rng, 10, m),
        "multinomial_size": R.multinomial(rng, k, [0.2, 0.3, 0.5], size=(2, 2)),
        "choice": R.choice(rng, 6, size=(2, 2), replace=False),
        "choice_p": R.choice(rng, low, size=(n,), p=[0.1, 0.6, 0.3]),
        "choice_one": R.choice(rng, 4),
        "permutation": R.permutation(rng, n),
        "permutation_rows": R.permutation(rng, m),
    }
    return rng, [low, n, m, high, k, hi], cases


VALUES = dict(low=np.array([0.0, 1.0, 5.0]), n=4,
              m=np.array([[0.2, 0.8], [0.5, 0.5], [1.0, 0.0]]),
              high=np.array([[10.0], [20.0]]), k=np.array([3, 30]), hi=np.array([1, 2, 100]))


def expected(name):
    v = VALUES
    return {
        "uniform": lambda g: g.uniform(v["low"], v["high"]),
        "uniform_size": lambda g: g.uniform(0.5, 2.0, (4, 3)),
        "normal": lambda g: g.normal(v["low"], 2.0, (2, 3)),
        "normal32": lambda g: g.normal(1.0, 0.5, 4).astype("float32"),
        "binomial": lambda g: g.binomial(v["k"], 0.3),
        "binomial_f": lambda g: g.binomial(1, 0.5, 5).astype("float64"),
        "integers": lambda g: g.integers(-5, v["hi"], (2, 3)),
        "integers_incl": lambda g: g.integers(-2, 2, 6, endpoint=True),
        "multinomial": lambda g: g.multinomial(10, v["m"]),
        "multinomial_size": lambda g: g.multinomial(v["k"], [0.2, 0.3, 0.5], (2, 2)),
        "choice": lambda g: g.choice(6, (2, 2), replace=False),
        "choice_p": lambda g: g.choice(v["low"], 4, p=[0.1, 0.6, 0.3]),
        "choice_one": lambda g: np.asarray(g.choice(4)),
        "permutation": lambda g: g.permutation(4),
        "permutation_rows": lambda g: g.permutation(v["m"]),
    }[name]


def test_draws_equal_numpy_generator_and_new_states(mode, draws):
    rng, inputs, cases = draws
    names = list(cases)
    outs = [cases[k][1] for k in names] + [cases[k][0] for k in names]
    f = sg.function(inputs, outs, mode=mode)
    v = VALUES
    args = [v["low"], v["n"], v["m"], v["high"], v["k"], v["hi"]]
    before = rng.get_value()
    for _ in range(2):  # functional: no update, so the same numbers again
        res = f(*args)
        for k, name in enumerate(names):
            g = copy_generator(before)
            want = np.asarray(expected(name)(g))
            got, out = res[k], cases[name][1]
            assert got.dtype == out.dtype == want.dtype, name
            assert got.shape == want.shape, (name, got.shape, want.shape)
            assert all(s is None or s == d for s, d in zip(out.type.shape, got.shape)), name
            assert_allclose(got, want, rtol=0, atol=0)
            assert same_state(res[len(names) + k], g), name  # new_rng: the state after
        assert same_state(rng.get_value(borrow=True), before)


def test_static_shapes_and_dtypes():
    rng = sg.shared(ref())
    n = T.lscalar()
    cases = [
        (R.normal(rng, 0, 1)[1], "float64", ()),
        (R.normal(rng, T.dvector(), T.dcol())[1], "float64", (None, None)),
        (R.normal(rng, T.tensor("float64", shape=(3,)), T.dcol())[1], "float64", (None, 3)),
        (R.uniform(rng, size=(2, n))[1], "float64", (2, None)),
        (R.uniform(rng, T.tensor("float64", shape=(5,)), 2.0, size=(2, n))[1], "float64", (2, 5)),
        (R.binomial(rng, 5, 0.2, size=3)[1], "int64", (3,)),
        (R.integers(rng, 5, dtype="int32")[1], "int32", ()),
        (R.multinomial(rng, 3, T.tensor("float64", shape=(None, 4)))[1], "int64", (None, 4)),
        (R.multinomial(rng, 3, [0.5, 0.5], size=(2, 3))[1], "int64", (2, 3, 2)),
        (R.choice(rng, T.fvector(), size=(n, 2))[1], "float32", (None, 2)),
        (R.permutation(rng, 5)[1], "int64", (5,)),
        (R.permutation(rng, T.tensor("int8", shape=(4, None)))[1], "int8", (4, None)),
    ]
    for out, dt, shp in cases:
        assert out.dtype == dt and out.type.shape == shp, (out, out.type)
    with sg.change_flags(floatX="float32"):
        x = R.normal(rng, 0.1, 1.0)[1]
        assert x.dtype == "float32"
        # parameters given as values stay float64 (NumPy's 0.1, not float32's)
        assert x.owner.inputs[2].data == 0.1


def test_infer_shape():
    rng = sg.shared(ref())
    lo, hi, n, p = T.dvector(), T.dmatrix(), T.lscalar(), T.dmatrix()
    k = T.lvector()
    check_infer_shape(R.uniform(rng, lo, hi)[1], [lo, hi], [np.zeros(1), np.ones((2, 4))])
    check_infer_shape(R.uniform(rng, lo, hi)[1], [lo, hi], [np.zeros(3), np.ones((2, 1))])
    check_infer_shape(R.normal(rng, lo, 1.0, size=(n, 3))[1], [lo, n], [np.zeros(3), 4])
    check_infer_shape(R.binomial(rng, k, 0.5)[1], [k], [np.array([1, 2])])
    check_infer_shape(R.multinomial(rng, k, p)[1], [k, p],
                      [np.array([3]), np.full((2, 3), 1 / 3)])
    check_infer_shape(R.multinomial(rng, 4, lo, size=(n,))[1], [lo, n], [np.ones(1), 3])
    check_infer_shape(R.choice(rng, 5, size=(n, 2))[1], [n], [3])
    check_infer_shape(R.permutation(rng, n)[1], [n], [6])
    check_infer_shape(R.permutation(rng, hi)[1], [hi], [np.ones((3, 2))])


def test_moments_and_ranges():
    rng = sg.shared(ref(11))
    outs = [R.uniform(rng, -1.0, 3.0, size=4000)[1], R.normal(rng, 2.0, 0.5, size=4000)[1],
            R.binomial(rng, 10, 0.3, size=4000)[1], R.integers(rng, 3, 7, size=4000)[1],
            R.integers(rng, 3, 7, size=4000, endpoint=True)[1],
            R.multinomial(rng, 20, [0.1, 0.2, 0.7], size=3000)[1],
            R.choice(rng, 50, size=40, replace=False)[1], R.permutation(rng, 30)[1]]
    u, z, b, i, ie, mn, c, pm = sg.function([], outs, mode="py")()
    assert -1 <= u.min() and u.max() < 3 and abs(u.mean() - 1) < 0.1
    assert abs(z.mean() - 2) < 0.05 and abs(z.std() - 0.5) < 0.05
    assert abs(b.mean() - 3) < 0.15 and b.min() >= 0 and b.max() <= 10
    assert set(np.unique(i)) == {3, 4, 5, 6} and set(np.unique(ie)) == {3, 4, 5, 6, 7}
    assert (mn.sum(axis=1) == 20).all()
    assert_allclose(mn.mean(axis=0) / 20, np.array([0.1, 0.2, 0.7]), atol=0.02)
    assert len(set(c)) == 40 and c.max() < 50
    assert sorted(pm) == list(range(30))


# --------------------------------------------------------------------------- streams

def test_stream_seeding_is_documented_and_reproducible(mode):
    s = R.RandomStream(42)
    x, y = s.normal(0, 1, size=(3,)), s.uniform(size=(2,))
    f = sg.function([], [x, y], mode=mode)
    a1, b1 = f()
    assert_allclose(a1, child(42, 0).normal(0, 1, 3), rtol=0, atol=0)
    assert_allclose(b1, child(42, 1).uniform(0, 1, 2), rtol=0, atol=0)
    a2, b2 = f()  # default updates advance each generator
    g0 = child(42, 0)
    g0.normal(0, 1, 3)
    assert_allclose(a2, g0.normal(0, 1, 3), rtol=0, atol=0)
    assert not np.array_equal(a1, a2) and not np.array_equal(b1, b2)
    # a fresh stream with the same seed draws the same numbers
    s2 = R.RandomStream(42)
    f2 = sg.function([], [s2.normal(0, 1, size=(3,)), s2.uniform(size=(2,))], mode=mode)
    assert_allclose(f2()[0], a1, rtol=0, atol=0)
    # seed() restarts every generator of the stream
    s.seed(42)
    assert_allclose(f()[0], a1, rtol=0, atol=0)
    s.seed(3)
    assert_allclose(f()[1], child(3, 1).uniform(0, 1, 2), rtol=0, atol=0)
    assert [k for k, _ in s.updates()] == [k for k, _ in s.state_updates]
    assert len(s.state_updates) == 2
    assert s.state_updates[0][0].default_update is s.state_updates[0][1]


def test_draws_of_one_stream_differ_and_default_updates_switch_off():
    s = R.RandomStream(1)
    x, y = s.normal(size=(4,)), s.normal(size=(4,))
    a, b = sg.function([], [x, y], mode="py")()
    assert not np.array_equal(a, b)
    f = sg.function([], x, no_default_updates=True, mode="py")
    assert_allclose(f(), f(), rtol=0, atol=0)
    rx = x.tag.rng
    g = sg.function([], [x, y], no_default_updates=[rx], mode="py")
    x1, y1 = g()
    x2, y2 = g()
    assert_allclose(x1, x2, rtol=0, atol=0) and not np.array_equal(y1, y2)
    # explicit updates override nothing silently: the user's pair is used
    h = sg.function([], x, updates=[(rx, x.tag.update[1])], no_default_updates=True, mode="py")
    assert not np.array_equal(h(), h())


def test_theano_names_and_argument_order():
    s = R.RandomStreams(5)
    u = s.uniform((2, 3), -1.0, 1.0)
    z = s.normal((4,), 1.0, 2.0)
    b = s.binomial(size=(3,), n=1, prob=0.25, dtype="float32")
    r = s.random_integers((5,), 0, 3)
    m = s.multinomial(size=(2,), n=4, pvals=[0.5, 0.5])
    c = s.choice(size=(3,), a=5)
    p = s.permutation(n=4)
    assert u.type.shape == (2, 3) and z.type.shape == (4,) and b.dtype == "float32"
    vals = sg.function([], [u, z, b, r, m, c, p], mode="py")()
    assert_allclose(vals[1], child(5, 1).normal(1.0, 2.0, 4), rtol=0, atol=0)
    assert_allclose(vals[3], child(5, 3).integers(0, 3, 5, endpoint=True), rtol=0, atol=0)
    assert vals[4].shape == (2, 2) and sorted(vals[6]) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="ndim=1"):
        s.uniform((2, 2), ndim=1)
    with pytest.raises(NotImplementedError, match="one permutation"):
        s.permutation(size=(2,), n=3)
    q = R.RandomStream(0)
    assert q.normal(avg=1.0, std=0.0, size=(2,)).eval().tolist() == [1.0, 1.0]
    assert q.integers(4, size=(50,)).eval().max() < 4
    with pytest.raises(TypeError, match="seed"):
        R.RandomStream("abc")


# --------------------------------------------------------------------------- semantics

def test_failed_call_leaves_state_and_update_reads_start_state(mode):
    s = R.RandomStream(8)
    scale = T.dscalar("scale")
    x = s.normal(0.0, scale, size=(3,))
    rng = x.tag.rng
    f = sg.function([scale], [x, rng.default_update], mode=mode)
    start = rng.get_value()
    v1, st = f(1.0)
    assert same_state(st, rng.get_value(borrow=True))
    after = rng.get_value()
    with pytest.raises(ValueError, match="scale must be >= 0"):
        f(-1.0)
    assert same_state(rng.get_value(borrow=True), after)
    g = copy_generator(start)
    assert_allclose(v1, g.normal(0.0, 1.0, 3), rtol=0, atol=0)
    # an update that reads the generator sees the state from the start of the call
    other = sg.shared(ref(0))
    h = sg.function([scale], x, updates=[(other, rng)], mode=mode)
    before = rng.get_value()
    h(1.0)
    assert same_state(other.get_value(borrow=True), before)


def test_explicit_generator_inputs_are_not_changed(mode):
    g = random_generator_type("g")
    new, x = R.integers(g, 0, 100, size=(5,))
    f = sg.function([g], [new, x], mode=mode)
    gen = ref(4)
    n1, x1 = f(gen)
    n2, x2 = f(gen)
    assert same_state(gen, ref(4)) and not same_state(n1, gen)
    assert_allclose(x1, x2, rtol=0, atol=0)
    assert_allclose(x1, ref(4).integers(0, 100, 5), rtol=0, atol=0)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        f(np.random.RandomState(0))
    # a Generator given as a value becomes a constant holding a copy
    gen2 = ref(4)
    c = R.normal(gen2, size=2)[1]
    gen2.random()
    assert_allclose(c.eval(), ref(4).normal(size=2), rtol=0, atol=0)
    # givens may substitute a generator value
    h = sg.function([], x, givens={g: ref(4)}, mode="py")
    assert_allclose(h(), x1, rtol=0, atol=0)


def test_updates_of_generators_are_type_checked():
    rng = sg.shared(ref())
    new, x = R.normal(rng)
    with pytest.raises(TypeError, match="RandomGeneratorType"):
        sg.function([], x, updates=[(rng, x)])
    f = sg.function([], x, updates=[(rng, ref(2))])  # a value: a constant generator
    f()
    assert same_state(rng.get_value(borrow=True), ref(2))


def test_gradients_undefined_for_parameters_disconnected_for_rng():
    rng = sg.shared(ref())
    mu, w = T.dscalar("mu"), T.dvector("w")
    new, z = R.normal(rng, mu, 1.0, size=(3,))
    with pytest.raises(NullTypeGradError, match=r"normal_rv\{float64\}.*undefined.*loc \+ scale"):
        sg.grad(z.sum(), mu)
    # other paths through the draw's value still differentiate
    gw = sg.grad((w * z).sum(), w)
    f = sg.function([mu, w], [gw, z], mode="py", on_unused_input="ignore")
    a, b = f(0.0, np.ones(3))
    assert_allclose(a, b)
    node = z.owner
    assert node.op.connection_pattern(node)[0] == [False, False]


def test_bad_arguments_are_refused_when_built():
    rng = sg.shared(ref())
    bad = [
        (lambda: R.normal(rng, np.zeros(3), 1.0, size=(2,)), ShapeError, "does not broadcast"),
        (lambda: R.normal(rng, np.zeros((2, 3)), 1.0, size=(3,)), ShapeError, "more dimensions"),
        (lambda: R.uniform(rng, np.zeros(3), np.ones(2)), ShapeError, "do not broadcast"),
        (lambda: R.multinomial(rng, 5, 0.5), TypeError, "pvals must have at least 1"),
        (lambda: R.multinomial(rng, np.ones(3, int), np.ones((2, 2)) / 2), ShapeError, "pvals"),
        (lambda: R.normal(rng, 0, 1, size=(-1,)), ValueError, "negative"),
        (lambda: R.normal(rng, 0, 1, size=T.lvector()), TypeError, "not known statically"),
        (lambda: R.normal(rng, 0, 1, size=(2.5,)), TypeError, "size"),
        (lambda: R.binomial(rng, 1.5, 0.5), TypeError, "n must be an integer"),
        (lambda: R.normal(rng, 1j, 1.0), TypeError, "loc must be a real"),
        (lambda: R.normal("x", 0, 1), TypeError, "rng must be"),
        (lambda: R.normal(T.dscalar("r"), 0, 1), TypeError, "rng must be a random generator"),
        (lambda: R.normal(rng, 0, 1, dtype="int64"), TypeError, "float32 or float64"),
        (lambda: R.binomial(rng, 1, 0.5, dtype="complex128"), TypeError, "real dtype"),
        (lambda: R.choice(rng, 2.5), TypeError, "integer"),
        (lambda: R.choice(rng, np.ones((2, 2))), TypeError, "vector"),
        (lambda: R.choice(rng, np.ones(3), p=[0.5, 0.5]), ShapeError, "2 entries"),
        (lambda: R.permutation(rng, 2.0), TypeError, "integer"),
        (lambda: R.PermutationRV()(rng, (2,), 3), TypeError, "no size"),
        (lambda: R.NormalRV()(rng, None, 0.0), TypeError, "takes the parameters"),
    ]
    for build, exc, msg in bad:
        with pytest.raises(exc, match=msg):
            build()


def test_bad_values_are_refused_when_run(mode):
    rng = sg.shared(ref())
    lo, hi, n, p = T.lscalar("lo"), T.lscalar("hi"), T.lscalar("n"), T.dscalar("p")
    pv, size = T.dvector("pv"), T.lscalar("size")
    outs = [R.binomial(rng, n, p, size=(size,))[1], R.integers(rng, lo, hi)[1],
            R.multinomial(rng, n, pv, size=(2,))[1],
            R.choice(rng, 3, size=(size,), replace=False, p=pv)[1],
            R.uniform(rng, T.dscalar("a"), T.dscalar("b"))[1]]
    f = sg.function([n, p, lo, hi, pv, size, outs[-1].owner.inputs[2],
                     outs[-1].owner.inputs[3]], outs, mode=mode)
    good = dict(n=2, p=0.5, lo=0, hi=3, pv=np.array([0.2, 0.3, 0.5]), size=2, a=0.0, b=1.0)
    f(*good.values())
    for change, msg in [(dict(n=-1), "n must be >= 0"), (dict(p=1.5), r"p must be in \[0, 1\]"),
                        (dict(p=np.nan), r"p must be in \[0, 1\]"),
                        (dict(lo=3), "needs low < high"),
                        (dict(pv=np.array([0.7, 0.6, 0.0])), "sum to at most 1"),
                        (dict(pv=np.array([0.5, 0.5])), "p has 2 entries but the population"),
                        (dict(size=4), "without replacement"),
                        (dict(size=-1), "size must not be negative"),
                        (dict(a=2.0), "low <= high"), (dict(b=np.inf), "finite")]:
        with pytest.raises(ValueError, match=msg):
            f(*{**good, **change}.values())
    rng2 = sg.shared(ref())
    q = T.dvector("q")
    g = sg.function([q], R.normal(rng2, q, 1.0, size=(2,))[1], mode="py")
    with pytest.raises(ValueError, match=r"loc of shape \(3,\) does not broadcast to size \(2,\)"):
        g(np.zeros(3))
