"""The specialize rewrites: constant powers become cheap ufuncs or repeated squaring,
with the values of np.power (NaN and inf included) and the dtype kept."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.compile.mode import Mode
from symgraph.scalar.composite import Composite
from symgraph.tensor.elemwise import Elemwise

# a rewrite that keeps firing on its own output would only show as this warning
pytestmark = pytest.mark.filterwarnings("error:.*no equilibrium")

EDGES = np.array([-np.inf, -1e200, -4.0, -1.5, -1.0, -0.0, 0.0, 1e-300, 1e-160, 0.25, 1.0,
                  3.0, 1e160, 1e300, np.inf, np.nan])


def _compile(mode, inputs, outputs, **kw):
    f = sg.function(inputs, outputs, mode=Mode(mode), **kw)
    return f, sg.function(inputs, outputs, mode=Mode(mode, optimizer=None), **kw)


def _scalar_names(f):
    names = []

    def add(sop):
        if isinstance(sop, Composite):
            for n in sop.nodes:
                add(n.op)
        else:
            names.append(sop.name)

    for node in f.maker.fgraph.toposort():
        if isinstance(node.op, Elemwise):
            add(node.op.scalar_op)
    return names


def _run(f, *args):
    with np.errstate(all="ignore"):
        return f(*args)


def _same(a, b, rtol=0.0):
    assert a.dtype == b.dtype
    np.testing.assert_allclose(a, b, rtol=rtol, atol=0, equal_nan=True)


@pytest.mark.parametrize("p,ops", [(2, ["sqr"]), (0.5, ["sqrt"]), (-1, ["reciprocal"]),
                                   (-0.5, ["sqrt", "reciprocal"]), (1, []), (0, [])])
def test_pow_specialize(mode, p, ops):
    x = T.dvector("x")
    f, ref = _compile(mode, [x], x ** p)
    assert f.rewrite_report().get("local_pow_specialize", 0) >= 1
    names = _scalar_names(f)
    assert "pow" not in names and sorted(names) == sorted(ops)
    got, want = _run(f, EDGES), _run(ref, EDGES)
    if mode != "py":
        # the Python backend (np.power) is the reference; numba's pow follows C at
        # x = -inf and -0.0 ((-inf)**0.5 is inf there, nan in NumPy)
        want = _run(sg.function([x], x ** p, mode=Mode("py", optimizer=None)), EDGES)
    if p == -0.5:
        # where the real square root is undefined (-inf, -0.0) np.power picks 0 and inf
        keep = ~np.isin(EDGES, [-np.inf]) & ~((EDGES == 0) & np.signbit(EDGES))
        got, want = got[keep], want[keep]
    _same(got, want, rtol=1e-15 if p == -0.5 else 0.0)  # 1/sqrt rounds twice
    if p == 1:
        out = f(EDGES)
        assert not np.shares_memory(out, EDGES)  # the function still returns a copy


def test_pow_specialize_dtypes(mode):
    f32 = T.fvector("f")
    i = T.lvector("i")
    b = T.bvector("b")
    outs = [f32 ** 2, f32 ** -0.5, i ** 2, i ** 0, i ** 1.0, b ** 2]
    f, ref = _compile(mode, [f32, i, b], outs)
    assert f.rewrite_report().get("local_pow_specialize", 0) >= 5
    assert "pow" not in _scalar_names(f)
    args = (np.array([-2.0, 0.5, np.inf], dtype="float32")[[1, 1, 2]],
            np.array([-3, 0, 2**40]), np.array([-128, 3, 127], dtype="int8"))
    for got, want, o in zip(_run(f, *args), _run(ref, *args), outs):
        assert got.dtype == o.dtype
        _same(got, want)


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 8, -2, -3, -8])
def test_pow_int_expand(mode, n):
    x = T.dvector("x")
    f, ref = _compile(mode, [x], x ** n)
    assert f.rewrite_report().get("local_pow_int_expand", 0) >= 1
    names = _scalar_names(f)
    assert "pow" not in names
    assert names.count("sqr") == abs(n).bit_length() - 1
    assert ("reciprocal" in names) == (n < 0)
    got, want = _run(f, EDGES), _run(ref, EDGES)
    if n < 0:
        # 1e160**-2 is a subnormal (1e-320) that np.power keeps; 1 / inf gives 0
        keep = np.abs(EDGES) != 1e160
        got, want = got[keep], want[keep]
    _same(got, want, rtol=1e-15)


def test_pow_int_expand_integers_wrap_as_power(mode):
    i = T.lvector("i")
    b = T.bvector("b")
    f, ref = _compile(mode, [i, b], [i ** 3, i ** 8, b ** 5])
    assert f.rewrite_report().get("local_pow_int_expand", 0) == 3
    assert "pow" not in _scalar_names(f)
    args = (np.array([-3, 0, 7, 2**40, -(2**62)]), np.array([-128, -3, 0, 5, 127], "int8"))
    for got, want in zip(f(*args), ref(*args)):
        _same(got, want)  # the same modular arithmetic, overflow included


def test_pow_rewrites_do_not_fire(mode):
    x = T.dvector("x")
    z = T.zvector("z")
    i = T.lvector("i")
    y = T.dvector("y")
    outs = [x ** 9, x ** 2.5, x ** y, z ** 0.5, z ** 3, z ** -1]
    f = sg.function([x, z, y], outs, mode=Mode(mode))
    rep = f.rewrite_report()
    assert "local_pow_specialize" not in rep and "local_pow_int_expand" not in rep
    assert _scalar_names(f).count("pow") == len(outs)
    # integers to negative powers keep raising, as np.power's rule in symgraph
    g = sg.function([i], i ** -2, mode=Mode(mode))
    assert "pow" in _scalar_names(g)
    with pytest.raises(ValueError, match="negative integer powers"):
        g(np.array([2]))
    # excluded by name
    h = sg.function([x], x ** 2, mode=Mode(mode).excluding("local_pow_specialize"))
    assert "pow" in _scalar_names(h)
