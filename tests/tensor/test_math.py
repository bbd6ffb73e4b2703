"""The elementwise functions of symgraph.tensor.math against NumPy/SciPy.

Each test compiles one function per dtype (or dtype pair) holding every applicable
op, then compares each output with NumPy for values *and* dtype. Where symgraph
deliberately differs from NumPy the table says so with the "float" rule: a float
function of a discrete dtype computes in float32 for bool/int8/uint8/int16/uint16
(NumPy would pick float16, SciPy float64) and in float64 for wider integers.
"""

import operator
import warnings

import numpy as np
import pytest
import scipy.special as sp

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph.utils import ShapeError
from tests.utils import assert_allclose

SMALL_DISCRETE = ("bool", "int8", "uint8", "int16", "uint16")


def float_of(dtype):
    """The dtype a float function of ``dtype`` computes in, in symgraph."""
    dtype = np.dtype(dtype).name
    if dtype in SMALL_DISCRETE:
        return "float32"
    if np.dtype(dtype).kind in "biu":
        return "float64"
    return dtype


T_, F_ = True, False
# Five values per dtype kind (b: bool, i: signed, u: unsigned, f: float, c: complex),
# chosen so every function in the table stays finite on its domain.
_C_ANY = [0.5 + 0.3j, -1.2 + 0.8j, 2.0 - 1.1j, -0.4 - 0.6j, 0.7j]
DOMAINS = {
    "any": dict(b=[T_, F_, T_, T_, F_], i=[-3, -1, 0, 2, 4], u=[0, 1, 2, 3, 5],
                f=[-2.5, -0.75, 0.0, 1.25, 2.9], c=_C_ANY),
    "any2": dict(b=[F_, F_, T_, T_, T_], i=[2, -1, 1, 2, -4], u=[1, 1, 3, 3, 2],
                 f=[1.0, -2.0, 0.0, 1.25, -3.0], c=[0.5 + 0.3j, 1.0, -2.0 - 1.0j, 0.25j, 1.5 - 0.5j]),
    "pos": dict(b=[T_] * 5, i=[1, 2, 3, 4, 6], u=[1, 2, 3, 4, 6],
                f=[0.2, 0.7, 1.3, 2.6, 3.1], c=_C_ANY),
    "nonzero": dict(b=[T_] * 5, i=[-3, -1, 1, 2, 4], u=[1, 2, 3, 4, 5],
                    f=[-2.5, -0.75, 0.5, 1.25, 2.9], c=_C_ANY),
    "gtm1": dict(b=[T_, F_, T_, F_, F_], i=[0, 1, 2, 3, 5], u=[0, 1, 2, 3, 5],
                 f=[-0.5, 0.0, 0.7, 1.9, 3.3], c=_C_ANY),
    "unit": dict(b=[T_, F_, T_, T_, F_], i=[-1, 0, 1, 0, -1], u=[0, 1, 0, 1, 1],
                 f=[-0.9, -0.45, 0.0, 0.3, 0.85],
                 c=[0.3 + 0.2j, -0.5 - 0.1j, 0.1j, 0.6, -0.2 + 0.4j]),
    "open_unit": dict(b=[F_] * 5, i=[0] * 5, u=[0] * 5, f=[-0.9, -0.45, 0.0, 0.3, 0.85],
                      c=[0.3 + 0.2j, -0.5 - 0.1j, 0.1j, 0.6, -0.2 + 0.4j]),
    "ge1": dict(b=[T_] * 5, i=[1, 2, 3, 4, 6], u=[1, 2, 3, 4, 6], f=[1.0, 1.4, 2.5, 3.3, 5.0],
                c=_C_ANY),
    "gamma": dict(b=[T_] * 5, i=[1, 2, 3, 4, 6], u=[1, 2, 3, 4, 6], f=[0.3, 1.5, 2.5, 4.2, -0.5]),
    "halves": dict(b=[T_, F_, T_, T_, F_], i=[-3, -1, 0, 2, 4], u=[0, 1, 2, 3, 5],
                   f=[-2.5, -0.5, 0.5, 1.5, 2.7],
                   c=[0.5 + 1.5j, -2.5 - 0.5j, 1.7 + 0.2j, -0.4j, 2.5 + 3.5j]),
    "special": dict(b=[T_, F_, T_, T_, F_], i=[-3, -1, 0, 2, 4], u=[0, 1, 2, 3, 5],
                    f=[np.nan, np.inf, -np.inf, 0.0, 1.5],
                    c=[complex(np.nan, 0), complex(np.inf, 0), 1j, complex(0, np.nan),
                       complex(1, -np.inf)]),
    "expo": dict(b=[F_, T_, T_, F_, T_], i=[0, 1, 2, 3, 2], u=[0, 1, 2, 3, 2],
                 f=[0.0, 0.5, 2.0, -1.5, 3.0], c=[0.5 + 0.1j, 1.0, 2.0 - 0.5j, -0.3j, 1.5]),
    "shift": dict(b=[F_, T_, T_, F_, T_], i=[0, 1, 2, 3, 1], u=[0, 1, 2, 3, 1]),
}


def sample(domain, dtype):
    kind = np.dtype(dtype).kind
    return np.array(DOMAINS[domain][kind], dtype=dtype)


def _np(fn, *args):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(fn(*args))


def _round_away(x):
    if x.dtype.kind in "biu":
        return x.copy()
    if x.dtype.kind == "c":
        return _round_away(x.real) + 1j * _round_away(x.imag)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


class Case:
    """One table row: symgraph function, NumPy reference, domains, kinds, dtype rule."""

    def __init__(self, name, fn, ref, domains, kinds, rule="np"):
        self.name, self.fn, self.ref = name, fn, ref
        self.domains = domains if isinstance(domains, tuple) else (domains,)
        self.kinds, self.rule = kinds, rule

    def applies(self, dtypes):
        return all(np.dtype(d).kind in self.kinds for d in dtypes)

    def expected(self, values):
        if self.rule == "float":
            values = [v.astype(float_of(v.dtype)) for v in values]
        out = _np(self.ref, *values)
        assert out.dtype != np.float16, f"test table: {self.name} gives float16"
        return out

    def __repr__(self):
        return self.name


def _clip_ref(x):
    return np.clip(x, 1, 3) if x.dtype.kind == "u" else np.clip(x, -1, 2)


def _clip_sg(x):
    return T.clip(x, 1, 3) if x.dtype[0] == "u" else T.clip(x, -1, 2)


UNARY = [
    Case("neg", T.neg, np.negative, "any", "iufc"),
    Case("-x", operator.neg, operator.neg, "any", "iufc"),
    Case("abs", T.abs, np.abs, "any", "biufc"),
    Case("abs(x)", abs, np.abs, "any", "biufc"),
    Case("sign", T.sign, np.sign, "any", "iufc"),
    Case("sqr", T.sqr, np.square, "any", "biufc"),
    Case("square", T.square, np.square, "any", "biufc"),
    # NumPy's reciprocal of integers is integer division (1 // x); symgraph's is 1 / x
    Case("reciprocal", T.reciprocal, np.reciprocal, "nonzero", "biufc", "float"),
    Case("exp", T.exp, np.exp, "any", "biufc", "float"),
    Case("exp2", T.exp2, np.exp2, "any", "biufc", "float"),
    Case("expm1", T.expm1, np.expm1, "any", "biufc", "float"),
    Case("log", T.log, np.log, "pos", "biufc", "float"),
    Case("log1p", T.log1p, np.log1p, "gtm1", "biufc", "float"),
    Case("log2", T.log2, np.log2, "pos", "biufc", "float"),
    Case("log10", T.log10, np.log10, "pos", "biufc", "float"),
    Case("sqrt", T.sqrt, np.sqrt, "pos", "biufc", "float"),
    Case("sin", T.sin, np.sin, "any", "biufc", "float"),
    Case("cos", T.cos, np.cos, "any", "biufc", "float"),
    Case("tan", T.tan, np.tan, "any", "biufc", "float"),
    Case("arcsin", T.arcsin, np.arcsin, "unit", "biufc", "float"),
    Case("arccos", T.arccos, np.arccos, "unit", "biufc", "float"),
    Case("arctan", T.arctan, np.arctan, "any", "biufc", "float"),
    Case("sinh", T.sinh, np.sinh, "any", "biufc", "float"),
    Case("cosh", T.cosh, np.cosh, "any", "biufc", "float"),
    Case("tanh", T.tanh, np.tanh, "any", "biufc", "float"),
    Case("arcsinh", T.arcsinh, np.arcsinh, "any", "biufc", "float"),
    Case("arccosh", T.arccosh, np.arccosh, "ge1", "biufc", "float"),
    Case("arctanh", T.arctanh, np.arctanh, "open_unit", "biufc", "float"),
    Case("sigmoid", T.sigmoid, lambda x: 1 / (1 + np.exp(-x)), "any", "biuf", "float"),
    Case("softplus", T.softplus, lambda x: np.log1p(np.exp(x)), "any", "biuf", "float"),
    Case("erf", T.erf, sp.erf, "any", "biuf", "float"),
    Case("erfc", T.erfc, sp.erfc, "any", "biuf", "float"),
    Case("erfinv", T.erfinv, sp.erfinv, "open_unit", "biuf", "float"),
    Case("gamma", T.gamma, sp.gamma, "gamma", "biuf", "float"),
    Case("gammaln", T.gammaln, sp.gammaln, "gamma", "biuf", "float"),
    Case("psi", T.psi, sp.psi, "gamma", "biuf", "float"),
    # NumPy 2 keeps integer (and bool) dtypes through floor/ceil/trunc
    Case("floor", T.floor, np.floor, "halves", "biuf"),
    Case("ceil", T.ceil, np.ceil, "halves", "biuf"),
    Case("trunc", T.trunc, np.trunc, "halves", "biuf"),
    Case("round", T.round, np.round, "halves", "iufc"),
    Case("x.round()", lambda x: x.round(), np.round, "halves", "iufc"),
    Case("round_away", lambda x: T.round(x, "half_away_from_zero"), _round_away, "halves", "biufc"),
    Case("isnan", T.isnan, np.isnan, "special", "biufc"),
    Case("isinf", T.isinf, np.isinf, "special", "biufc"),
    Case("logical_not", T.logical_not, np.logical_not, "any", "biufc"),
    Case("invert", T.invert, np.invert, "any", "biu"),
    Case("~x", operator.invert, operator.invert, "any", "biu"),
    Case("real", T.real, np.real, "any", "biufc"),
    Case("x.real", lambda x: x.real, lambda x: x.real, "any", "biufc"),
    Case("imag", T.imag, np.imag, "any", "biufc"),
    Case("x.imag", lambda x: x.imag, lambda x: x.imag, "any", "biufc"),
    Case("conj", T.conj, np.conj, "any", "iufc"),
    Case("x.conj()", lambda x: x.conj(), np.conj, "any", "iufc"),
    Case("angle", T.angle, np.angle, "any", "biufc", "float"),
    Case("identity", T.identity, np.copy, "any", "biufc"),
    Case("x.copy()", lambda x: x.copy(), np.copy, "any", "biufc"),
    Case("relu", T.relu, lambda x: np.maximum(x, 0), "any", "iuf"),
    Case("relu(alpha)", lambda x: T.relu(x, 0.1), lambda x: np.where(x > 0, x, x * 0.1), "any", "f"),
    Case("clip", _clip_sg, _clip_ref, "any", "iuf"),
    Case("clip(out of range)", lambda x: T.clip(x, -1000, 1000), lambda x: np.clip(x, -1000, 1000),
         "any", "i"),
    Case("xlogx", T.xlogx, lambda x: np.where(x == 0, 0, x * np.log(np.where(x == 0, 1, x))),
         "gtm1", "f"),
    Case("deg2rad", T.deg2rad, np.deg2rad, "any", "f"),
    Case("rad2deg", T.rad2deg, np.rad2deg, "any", "f"),
    Case("x.clip", lambda x: x.clip(-1, 2), lambda x: x.clip(-1, 2), "any", "if"),
    Case("astype(float32)", lambda x: x.astype("float32"), lambda x: x.astype("float32"), "any", "biuf"),
    Case("cast(int16)", lambda x: T.cast(x, "int16"), lambda x: x.astype("int16"), "any", "biuf"),
    Case("cast(complex128)", lambda x: T.cast(x, "complex128"), lambda x: x.astype("complex128"),
         "any", "biufc"),
    Case("cast(bool)", lambda x: T.cast(x, "bool"), lambda x: x.astype("bool"), "any", "biufc"),
    Case("cast(float64) of complex", lambda x: T.cast(x, "float64"), lambda x: x.real.astype("float64"),
         "any", "c"),
]

DTYPES = ["bool", "int8", "uint8", "int16", "int32", "int64", "uint64",
          "float32", "float64", "complex64", "complex128"]


def _check_all(cases, outs, results, expected, label):
    failures = []
    for case, out, res, exp in zip(cases, outs, results, expected):
        try:
            assert out.dtype == exp.dtype, f"declared dtype {out.dtype} != NumPy's {exp.dtype}"
            assert_allclose(res, exp)
        except AssertionError as e:
            failures.append(f"{case.name}{label}: {e}")
    assert not failures, "\n".join(failures)


def _build(cases, dtypes):
    """Inputs (one per dtype and domain), outputs and NumPy's expected results."""
    inputs = {}
    outs, expected = [], []
    for case in cases:
        vars_, vals = [], []
        for k, (dom, dt) in enumerate(zip(case.domains, dtypes)):
            key = (k, dom, dt)
            if key not in inputs:
                inputs[key] = (T.tensor(dt, shape=(None,), name=f"{dom}{k}"), sample(dom, dt))
            vars_.append(inputs[key][0])
            vals.append(inputs[key][1])
        outs.append(case.fn(*vars_))
        expected.append(case.expected(vals))
    return list(inputs.values()), outs, expected


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_against_numpy(dtype, mode):
    cases = [c for c in UNARY if c.applies([dtype])]
    inputs, outs, expected = _build(cases, [dtype])
    f = sg.function([v for v, _ in inputs], outs, mode=mode)
    results = f(*[val for _, val in inputs])
    _check_all(cases, outs, results, expected, f"({dtype})")


BINARY = [
    Case("add", T.add, np.add, ("any", "any2"), "biufc"),
    Case("a + b", operator.add, operator.add, ("any", "any2"), "biufc"),
    Case("sub", T.sub, np.subtract, ("any", "any2"), "iufc"),
    Case("a - b", operator.sub, operator.sub, ("any", "any2"), "iufc"),
    Case("mul", T.mul, np.multiply, ("any", "any2"), "biufc"),
    Case("a * b", operator.mul, operator.mul, ("any", "any2"), "biufc"),
    Case("true_div", T.true_div, np.true_divide, ("any", "nonzero"), "biufc"),
    Case("a / b", operator.truediv, operator.truediv, ("any", "nonzero"), "biufc"),
    Case("int_div", T.int_div, np.floor_divide, ("any", "nonzero"), "biuf"),
    Case("a // b", operator.floordiv, operator.floordiv, ("any", "nonzero"), "biuf"),
    Case("mod", T.mod, np.mod, ("any", "nonzero"), "biuf"),
    Case("a % b", operator.mod, operator.mod, ("any", "nonzero"), "biuf"),
    Case("pow", T.pow, np.power, ("pos", "expo"), "biufc"),
    Case("a ** b", operator.pow, operator.pow, ("pos", "expo"), "biufc"),
    Case("maximum", T.maximum, np.maximum, ("any", "any2"), "biuf"),
    Case("minimum", T.minimum, np.minimum, ("any", "any2"), "biuf"),
    Case("lt", T.lt, np.less, ("any", "any2"), "biuf"),
    Case("a < b", operator.lt, operator.lt, ("any", "any2"), "biuf"),
    Case("le", T.le, np.less_equal, ("any", "any2"), "biuf"),
    Case("a <= b", operator.le, operator.le, ("any", "any2"), "biuf"),
    Case("gt", T.gt, np.greater, ("any", "any2"), "biuf"),
    Case("a > b", operator.gt, operator.gt, ("any", "any2"), "biuf"),
    Case("ge", T.ge, np.greater_equal, ("any", "any2"), "biuf"),
    Case("a >= b", operator.ge, operator.ge, ("any", "any2"), "biuf"),
    Case("eq", T.eq, np.equal, ("any", "any2"), "biufc"),
    Case("neq", T.neq, np.not_equal, ("any", "any2"), "biufc"),
    Case("logical_and", T.logical_and, np.logical_and, ("any", "any2"), "biufc"),
    Case("logical_or", T.logical_or, np.logical_or, ("any", "any2"), "biufc"),
    Case("logical_xor", T.logical_xor, np.logical_xor, ("any", "any2"), "biufc"),
    Case("bitwise_and", T.bitwise_and, np.bitwise_and, ("any", "any2"), "biu"),
    Case("a & b", operator.and_, operator.and_, ("any", "any2"), "biu"),
    Case("bitwise_or", T.bitwise_or, np.bitwise_or, ("any", "any2"), "biu"),
    Case("a | b", operator.or_, operator.or_, ("any", "any2"), "biu"),
    Case("bitwise_xor", T.bitwise_xor, np.bitwise_xor, ("any", "any2"), "biu"),
    Case("a ^ b", operator.xor, operator.xor, ("any", "any2"), "biu"),
    Case("left_shift", T.left_shift, np.left_shift, ("any", "shift"), "biu"),
    Case("a << b", operator.lshift, operator.lshift, ("any", "shift"), "biu"),
    Case("right_shift", T.right_shift, np.right_shift, ("any", "shift"), "biu"),
    Case("a >> b", operator.rshift, operator.rshift, ("any", "shift"), "biu"),
    Case("arctan2", T.arctan2, np.arctan2, ("any", "any2"), "biuf", "float"),
    Case("isclose", lambda a, b: T.isclose(a, b + a * 1e-7), lambda a, b: np.isclose(a, b + a * 1e-7),
         ("any", "any2"), "f"),
    Case("complex", T.complex, lambda re, im: re + 1j * im, ("any", "any2"), "biuf", "float"),
]

PAIRS = [(d, d) for d in DTYPES] + [
    ("bool", "int8"), ("int8", "uint8"), ("int8", "uint16"), ("uint32", "int8"),
    ("int16", "float32"), ("int64", "float32"), ("uint8", "float32"), ("float32", "float64"),
    ("uint64", "int64"), ("float32", "complex128"), ("int32", "complex64"),
    ("float64", "complex64"),
]


@pytest.mark.parametrize("dtypes", PAIRS, ids=lambda p: "-".join(p))
def test_binary_against_numpy(dtypes, mode):
    cases, refused = [], []
    for c in BINARY:
        if not c.applies(dtypes):
            continue
        try:
            c.expected([sample(d, dt) for d, dt in zip(c.domains, dtypes)])
        except TypeError:
            refused.append(c)  # NumPy refuses it (int64 with uint64 bitwise)
        else:
            cases.append(c)
    # what NumPy refuses, symgraph refuses when the graph is built
    a, b = (T.tensor(d, shape=(None,)) for d in dtypes)
    for c in refused:
        with pytest.raises(TypeError, match=f"{dtypes[0]}.*{dtypes[1]}"):
            c.fn(a, b)
    inputs, outs, expected = _build(cases, dtypes)
    f = sg.function([v for v, _ in inputs], outs, mode=mode)
    results = f(*[val for _, val in inputs])
    _check_all(cases, outs, results, expected, f"{dtypes}")


def test_operators_build_the_same_ops():
    x, y = T.lvectors("x", "y")
    pairs = [
        (x + y, T.add), (x - y, T.sub), (x * y, T.mul), (x / y, T.true_div),
        (x // y, T.int_div), (x % y, T.mod), (x ** y, T.pow), (x < y, T.lt), (x <= y, T.le),
        (x > y, T.gt), (x >= y, T.ge), (x & y, T.bitwise_and), (x | y, T.bitwise_or),
        (x ^ y, T.bitwise_xor), (x << y, T.left_shift), (x >> y, T.right_shift),
        (-x, T.neg), (~x, T.invert), (abs(x), T.abs),
        (T.square(x), T.sqr), (T.where(x > 0, x, y), T.switch), (T.true_divide(x, y), T.true_div),
    ]
    for out, fn in pairs:
        assert out.owner.op == fn.op, (out, fn)
    assert (+x) is x


def test_numpy_and_theano_spellings_are_the_same_functions():
    aliases = {
        "square": "sqr", "negative": "neg", "abs_": "abs", "true_divide": "true_div",
        "divide": "true_div", "floor_divide": "int_div", "intdiv": "int_div", "power": "pow",
        "remainder": "mod", "bitwise_not": "invert", "and_": "bitwise_and",
        "or_": "bitwise_or", "xor": "bitwise_xor", "conjugate": "conj", "inv": "reciprocal",
        "exp1m": "expm1", "digamma": "psi",
    }
    for alias, name in aliases.items():
        assert getattr(T, alias) is getattr(T, name), alias


def test_reflected_operators_and_python_scalars(mode):
    x = T.fvector("x")
    outs = [2 + x, 2 - x, 3 * x, 1 / x, 7 // x, 7 % x, 2 ** x, 1 < x, 1 <= x, 1 > x, 1 >= x]
    i = T.ivector("i")
    outs += [3 & i, 5 | i, 6 ^ i]
    v = np.array([0.5, 1.0, 2.5], "float32")
    iv = np.array([1, 2, 7], "int32")
    res = sg.function([x, i], outs, mode=mode)(v, iv)
    exp = [2 + v, 2 - v, 3 * v, 1 / v, 7 // v, 7 % v, 2 ** v, 1 < v, 1 <= v, 1 > v, 1 >= v,
           3 & iv, 5 | iv, 6 ^ iv]
    for r, e in zip(res, exp):
        assert_allclose(r, e)


# ----------------------------------------------------------------------- special cases

def test_softplus_does_not_overflow(mode):
    for dt in ("float32", "float64"):
        x = T.tensor(dt, shape=(None,))
        f = sg.function([x], T.softplus(x), mode=mode)
        v = np.array([800.0, -800.0, 0.0, 30.0, -30.0], dt)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no overflow warning either
            r = f(v)
        exp = np.array([800.0, 0.0, np.log(2.0), 30.0 + np.log1p(np.exp(-30.0)),
                        np.log1p(np.exp(-30.0))]).astype(dt)
        assert_allclose(r, exp)
        assert np.isfinite(r).all()


def test_round_half_away_from_zero_exact(mode):
    x = T.dvector("x")
    f = sg.function([x], [T.round(x, "half_away_from_zero"), T.round(x), T.iround(x)], mode=mode)
    v = np.array([0.49999999999999994, 0.5, 1.5, 2.5, -0.5, -2.5, -1.4, 4503599627370495.5,
                  np.inf, np.nan])
    with np.errstate(invalid="ignore"):
        away, even, iround = f(v)
    assert_allclose(away, np.array([0.0, 1.0, 2.0, 3.0, -1.0, -3.0, -1.0, 4503599627370496.0,
                                    np.inf, np.nan]))
    assert_allclose(even, np.round(v))
    assert iround.dtype == np.int64
    np.testing.assert_array_equal(iround[:-2], np.round(v[:-2]).astype("int64"))
    with pytest.raises(ValueError, match="half_to_even.*half_away_from_zero.*'up'"):
        T.round(x, "up")


def test_switch_and_where(mode):
    c = T.tensor("bool", shape=(None,), name="c")
    a = T.fvector("a")
    n = T.lvector("n")
    b = T.dvector("b")
    outs = [T.switch(c, a, b), T.where(c, a, 0.0), T.switch(n, a, 1),
            T.switch(T.gt(a, 0), a, -a), T.where(c, 1, 2),
            T.switch(c, n, a), T.where(c, T.zvector("z"), a)]
    # Python numbers are weak against the branches only, not the condition
    assert [o.dtype for o in outs] == ["float64", "float32", "float32", "float32", "int64",
                                       "float64", "complex128"]
    z = outs[-1].owner.inputs[1]
    f = sg.function([c, a, n, b, z], outs, mode=mode)
    cv = np.array([True, False, True])
    av = np.array([1.5, -2.0, 3.0], "float32")
    nv = np.array([0, 3, -1])
    bv = np.array([9.0, 8.0, 7.0])
    zv = np.array([1j, 2, 3 - 1j])
    res = f(cv, av, nv, bv, zv)
    exp = [np.where(cv, av, bv), np.where(cv, av, 0.0), np.where(nv, av, 1),
           np.where(av > 0, av, -av), np.where(cv, 1, 2), np.where(cv, nv, av),
           np.where(cv, zv, av)]
    for r, e in zip(res, exp):
        assert_allclose(r, e)
    with pytest.raises(TypeError, match="one argument.*or three"):
        T.where(c, a)


def test_complex_constructor_and_parts(mode):
    re, im = T.fvector("re"), T.fvector("im")
    z = T.complex(re, im)
    assert z.dtype == "complex64"
    assert T.complex(T.dvector(), T.fvector()).dtype == "complex128"
    assert T.complex(T.bvector(), T.bvector()).dtype == "complex64"
    assert T.complex(T.lvector(), T.fvector()).dtype == "complex128"
    outs = [z, T.real(z), T.imag(z), T.abs(z), T.angle(z), T.conj(z)]
    rv = np.array([3.0, -1.0, 0.0], "float32")
    iv = np.array([4.0, 1.0, -2.0], "float32")
    res = sg.function([re, im], outs, mode=mode)(rv, iv)
    zv = (rv + 1j * iv).astype("complex64")
    for r, e in zip(res, [zv, rv, iv, np.abs(zv), np.angle(zv), np.conj(zv)]):
        assert_allclose(r, e)
    with pytest.raises(TypeError, match="complex.*real parts.*complex64"):
        T.complex(T.cvector(), re)


# ----------------------------------------------------------------------- dtype rules

WEAK = [
    # (dtype of x, expression, NumPy's counterpart on an array of that dtype)
    ("float32", lambda x: x * 2.0),
    ("float32", lambda x: 2.0 * x),
    ("float32", lambda x: x + 1j),
    ("float32", lambda x: x ** 2),
    ("float32", lambda x: x / 3),
    ("float64", lambda x: x - 1),
    ("int8", lambda x: x + 1),
    ("int8", lambda x: 1 - x),
    ("int8", lambda x: x * -2),
    ("int8", lambda x: x // 2),
    ("int8", lambda x: x % 3),
    ("int8", lambda x: x ** 2),
    ("int8", lambda x: x / 2),
    ("int8", lambda x: x + 1.5),
    ("int8", lambda x: x * 1j),
    ("int32", lambda x: x + 1.5),
    ("int64", lambda x: x // 2.0),
    ("uint8", lambda x: x + 200),
    ("uint16", lambda x: x * 3),
    ("bool", lambda x: x + 1),
    ("bool", lambda x: x * 1.5),
    ("bool", lambda x: x & True),
    ("int16", lambda x: x & 3),
    ("int16", lambda x: x << 2),
    ("complex64", lambda x: x * 2.5),
    ("complex64", lambda x: x + 1j),
    ("int8", lambda x: x < 300),
    ("uint8", lambda x: x > -1),
    ("int16", lambda x: T.maximum(x, 2) if isinstance(x, T.TensorVariable) else np.maximum(x, 2)),
]


def test_python_scalars_are_weak(mode):
    outs, inputs, expected = [], [], []
    for dt, expr in WEAK:
        x = T.tensor(dt, shape=(None,))
        v = sample("pos", dt)
        out = expr(x)
        exp = _np(expr, v)
        assert out.dtype == exp.dtype, f"{dt}: symgraph {out.dtype}, NumPy {exp.dtype}"
        inputs.append((x, v))
        outs.append(out)
        expected.append(exp)
    res = sg.function([x for x, _ in inputs], outs, mode=mode)(*[v for _, v in inputs])
    for r, e in zip(res, expected):
        assert_allclose(r, e)


def test_python_int_out_of_range_raises():
    for dt, bad in [("int8", 1000), ("int8", -129), ("uint8", -1), ("uint8", 256),
                    ("int16", 2 ** 20)]:
        x = T.tensor(dt, shape=(None,))
        with pytest.raises(OverflowError, match=f"{bad}.*{dt}"):
            x + bad
        with pytest.raises(OverflowError):
            np.ones(2, dt) + bad  # NumPy 2 agrees
        with pytest.raises(OverflowError):
            T.maximum(x, bad)


def test_dtype_rules_of_float_functions():
    # NumPy would give float16 for the small ones; symgraph has no float16
    for dt, want in [("bool", "float32"), ("int8", "float32"), ("uint8", "float32"),
                     ("int16", "float32"), ("uint16", "float32"), ("int32", "float64"),
                     ("uint32", "float64"), ("int64", "float64"), ("uint64", "float64"),
                     ("float32", "float32"), ("float64", "float64"),
                     ("complex64", "complex64")]:
        x = T.tensor(dt, shape=(None,))
        assert T.sqrt(x).dtype == want, dt
        assert T.exp(x).dtype == want, dt
        assert T.arctanh(x).dtype == want, dt
    # two inputs: each is made float first, as NumPy does (int8 with uint16: float32)
    assert T.arctan2(T.bvector(), T.tensor("uint16", shape=(None,))).dtype == "float32"
    assert T.arctan2(T.bvector(), T.ivector()).dtype == "float64"
    assert T.arctan2(T.fvector(), T.lvector()).dtype == "float64"
    # true division of integers gives float64, whatever their size
    for dt in ("bool", "int8", "uint8", "int32", "int64"):
        x = T.tensor(dt, shape=(None,))
        assert (x / x).dtype == "float64"
        assert T.floor(x).dtype == dt and T.ceil(x).dtype == dt and T.trunc(x).dtype == dt
        assert T.lt(x, x).dtype == "bool" and T.eq(x, 1).dtype == "bool"
    for dt, real in [("complex64", "float32"), ("complex128", "float64")]:
        z = T.tensor(dt, shape=(None,))
        for fn in (T.abs, T.real, T.imag, T.angle):
            assert fn(z).dtype == real


# ----------------------------------------------------------------------- type errors

REFUSED = [
    # (function, input dtypes, words the message must contain)
    (T.bitwise_and, ("float64", "int64"), "bitwise_and.*float64"),
    (T.bitwise_or, ("float32", "float32"), "bitwise_or.*float32"),
    (T.bitwise_xor, ("int8", "complex64"), "bitwise_xor.*complex64"),
    (T.invert, ("float64",), "invert.*float64"),
    (T.left_shift, ("float64", "int64"), "left_shift.*float64"),
    (T.right_shift, ("int64", "float32"), "right_shift.*float32"),
    (T.bitwise_and, ("int64", "uint64"), "bitwise_and.*int64.*uint64"),
    (T.lt, ("complex128", "float64"), "lt.*complex128"),
    (T.gt, ("float64", "complex64"), "gt.*complex64"),
    (T.le, ("complex64", "complex64"), "le.*complex64"),
    (T.ge, ("complex64", "int8"), "ge.*complex64"),
    (T.maximum, ("complex128", "complex128"), "maximum.*complex128"),
    (T.minimum, ("complex64", "float32"), "minimum.*complex64"),
    (T.erf, ("complex128",), "erf.*complex128"),
    (T.erfc, ("complex64",), "erfc.*complex64"),
    (T.sigmoid, ("complex128",), "sigmoid.*complex128"),
    (T.gamma, ("complex128",), "gamma.*complex128"),
    (T.arctan2, ("complex128", "float64"), "arctan2.*complex128"),
    (T.floor, ("complex128",), "floor.*complex128"),
    (T.int_div, ("complex64", "complex64"), "int_div.*complex64"),
    (T.mod, ("complex128", "float64"), "mod.*complex128"),
    (T.neg, ("bool",), "neg.*bool.*logical_not"),
    (T.sub, ("bool", "bool"), "sub.*bool.*logical_xor"),
    (T.sign, ("bool",), "sign.*bool"),
]


@pytest.mark.parametrize("fn, dtypes, pattern", REFUSED,
                         ids=[f"{r[0].__name__}-{'-'.join(r[1])}" for r in REFUSED])
def test_type_errors_at_build_time(fn, dtypes, pattern):
    args = [T.tensor(d, shape=(None,), name=f"in{k}") for k, d in enumerate(dtypes)]
    with pytest.raises(TypeError, match=pattern) as info:
        fn(*args)
    # the message names the inputs and their types
    for a in args:
        assert f"{a.name} of type {a.type}" in str(info.value)


def test_comparison_operators_refuse_complex():
    z = T.zvector("z")
    with pytest.raises(TypeError, match=r"lt.*complex128"):
        z < 1
    with pytest.raises(TypeError, match=r"ge.*complex128"):
        z >= z


def test_wrong_number_of_arguments():
    x = T.dvector()
    with pytest.raises(TypeError, match="add takes 2 arguments, got 3"):
        T.add(x, x, x)
    with pytest.raises(TypeError, match="exp takes 1 arguments, got 2"):
        T.exp(x, x)


# ----------------------------------------------------------------------- broadcasting errors

def test_static_broadcast_conflict_names_both_shapes():
    a = T.tensor("float64", shape=(3,), name="a")
    b = T.tensor("float64", shape=(4,), name="b")
    with pytest.raises(ShapeError, match=r"\(3,\).*\(4,\)"):
        a + b
    m = T.tensor("float64", shape=(2, 3))
    with pytest.raises(ShapeError, match=r"dimension 1.*\(2, 3\).*\(1, 4\)"):
        T.maximum(m, b)
    # static 1 broadcasts against anything; unknown against known is allowed
    assert (T.tensor("float64", shape=(1,)) + b).type.shape == (4,)
    assert (T.dvector() + b).type.shape == (4,)


def test_runtime_broadcast_mismatch_names_both_shapes(mode):
    x, y = T.dvectors("x", "y")
    f = sg.function([x, y], x * y, mode=mode)
    with pytest.raises(ValueError, match=r"\(3,\).*\(1,\)"):
        f(np.ones(3), np.ones(1))
    # a dimension declared broadcastable does broadcast
    r = T.tensor("float64", shape=(1,), name="r")
    g = sg.function([x, r], x * r, mode=mode)
    assert_allclose(g(np.arange(3.0), np.array([2.0])), np.arange(3.0) * 2)
    with pytest.raises(TypeError, match="static shape"):
        g(np.arange(3.0), np.array([2.0, 3.0]))


def test_broadcast_values_and_static_shape(mode):
    col = T.tensor("float32", shape=(None, 1), name="col")
    row = T.tensor("float32", shape=(1, 4), name="row")
    vec = T.fvector("vec")
    outs = [col + row, col * vec, T.switch(col > 0, row, 0.5)]
    assert outs[0].type.shape == (None, 4)
    assert outs[1].type.shape == (None, None)
    f = sg.function([col, row, vec], outs, mode=mode)
    cv = np.array([[1.0], [-2.0]], "float32")
    rv = np.arange(4, dtype="float32")[None]
    vv = np.arange(3, dtype="float32")
    res = f(cv, rv, vv)
    for r, e in zip(res, [cv + rv, cv * vv, np.where(cv > 0, rv, np.float32(0.5))]):
        assert_allclose(r, e)


def test_outputs_are_fresh_writeable_arrays(mode):
    # np.real of a real array is the array itself, of a complex one a view into it, and
    # np.imag of a real array is read-only: none of that may reach the caller
    x = T.dvector("x")
    z = T.zvector("z")
    b = T.tensor("bool", shape=(None,), name="b")
    outs = [T.real(x), T.imag(x), T.real(z), T.imag(z), T.conj(x), T.identity(x), T.identity(b),
            T.round(x), T.floor(T.cast(x, "int64"))]
    f = sg.function([x, z, b], outs, mode=mode)
    xv, zv, bv = np.array([1.0, -2.0]), np.array([1 + 2j, 3 - 4j]), np.array([True, False])
    keep = [xv.copy(), zv.copy(), bv.copy()]
    for r in f(xv, zv, bv):
        assert r.flags.writeable
        r[...] = 0
    for v, k in zip([xv, zv, bv], keep):
        np.testing.assert_array_equal(v, k)
