"""Gradients of Elemwise (every scalar op) and DimShuffle: verify_grad at random points
in float64 and complex128, broadcasting, disconnected inputs, graph reuse and Rop."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import DisconnectedInputError, verify_grad
from symgraph.tensor.elemwise import DimShuffle, Elemwise
from symgraph.tensor.elemwise_grad import has_grad
from symgraph.scalar import all_scalar_ops
from tests.utils import assert_allclose


def vg(fun, pts, seed=0, **kw):
    verify_grad(fun, pts, n_tests=1, rng=np.random.default_rng(seed), **kw)


def uniform(lo, hi, shape, seed, signed=False):
    rng = np.random.default_rng(seed)
    v = rng.uniform(lo, hi, shape)
    if signed:
        v = v * rng.choice([-1.0, 1.0], shape)
    return v


def off_grid(shape, seed):
    """Values whose fractional part is in (0.1, 0.4): away from integers and halves."""
    rng = np.random.default_rng(seed)
    return rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.4, shape)


def cplx(shape, seed):
    """Complex points away from zero, the real and imaginary axes (every branch cut of
    log, sqrt, the inverse trig and hyperbolic functions lies on one of the axes)."""
    rng = np.random.default_rng(seed)
    re = rng.uniform(0.2, 1.2, shape) * rng.choice([-1.0, 1.0], shape)
    im = rng.uniform(0.2, 0.9, shape) * rng.choice([-1.0, 1.0], shape)
    return re + 1j * im


# ----------------------------------------------------------------------- unary, real

# name: (function, sampler(shape, seed))
def _u(lo, hi, signed=False):
    return lambda shape, seed: uniform(lo, hi, shape, seed, signed)


UNARY_REAL = {
    "neg": (T.neg, _u(-2, 2)),
    "abs": (T.abs, _u(0.2, 2, signed=True)),
    "sqr": (T.sqr, _u(-2, 2)),
    "reciprocal": (T.reciprocal, _u(0.5, 2, signed=True)),
    "identity": (T.identity, _u(-2, 2)),
    "exp": (T.exp, _u(-2, 2)),
    "exp2": (T.exp2, _u(-2, 2)),
    "expm1": (T.expm1, _u(-2, 2)),
    "log": (T.log, _u(0.5, 3)),
    "log1p": (T.log1p, _u(-0.5, 2)),
    "log2": (T.log2, _u(0.5, 3)),
    "log10": (T.log10, _u(0.5, 3)),
    "sqrt": (T.sqrt, _u(0.5, 3)),
    "sin": (T.sin, _u(-3, 3)),
    "cos": (T.cos, _u(-3, 3)),
    "tan": (T.tan, _u(-1.2, 1.2)),
    "arcsin": (T.arcsin, _u(-0.8, 0.8)),
    "arccos": (T.arccos, _u(-0.8, 0.8)),
    "arctan": (T.arctan, _u(-3, 3)),
    "sinh": (T.sinh, _u(-2, 2)),
    "cosh": (T.cosh, _u(-2, 2)),
    "tanh": (T.tanh, _u(-2, 2)),
    "arcsinh": (T.arcsinh, _u(-3, 3)),
    "arccosh": (T.arccosh, _u(1.2, 3)),
    "arctanh": (T.arctanh, _u(-0.8, 0.8)),
    "sigmoid": (T.sigmoid, _u(-3, 3)),
    "softplus": (T.softplus, _u(-3, 3)),
    "erf": (T.erf, _u(-2, 2)),
    "erfc": (T.erfc, _u(-2, 2)),
    "erfinv": (T.erfinv, _u(-0.8, 0.8)),
    "gamma": (T.gamma, _u(0.5, 3)),
    "gammaln": (T.gammaln, _u(0.5, 3)),
    "psi": (T.psi, _u(0.5, 3)),
    "tri_gamma": (T.tri_gamma, _u(0.5, 3)),
    "polygamma": (lambda x: T.polygamma(2, x), _u(0.5, 3)),
    # real input of the complex-part functions
    "real": (T.real, _u(-2, 2)),
    "imag": (lambda x: T.imag(x) + x, _u(-2, 2)),  # imag of a real is 0
    "conj": (T.conj, _u(-2, 2)),
    "angle": (lambda x: T.angle(x) + x, _u(0.2, 2, signed=True)),  # 0 or pi
    # piecewise constant: zero gradient away from the jumps
    "sign": (lambda x: T.sign(x) * x, _u(0.2, 2, signed=True)),
    "floor": (lambda x: T.floor(x) * x, off_grid),
    "ceil": (lambda x: T.ceil(x) * x, off_grid),
    "trunc": (lambda x: T.trunc(x) * x, off_grid),
    "round_half_to_even": (lambda x: T.round_half_to_even(x) * x, off_grid),
}


@pytest.mark.parametrize("name", sorted(UNARY_REAL))
def test_unary_real(name):
    fn, sample = UNARY_REAL[name]
    for k, shape in enumerate([(2, 3), (), (4,)]):
        vg(fn, [sample(shape, k)], seed=k)


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "trunc", "round_half_to_even",
                                  "int_div"])
def test_piecewise_constant_ops_have_zero_gradient(name):
    x = T.dvector("x")
    out = T.int_div(x, 0.7) if name == "int_div" else getattr(T, name)(x)
    g = sg.grad(T.sum(out), x)
    val = sg.function([x], g)(np.array([-1.3, 0.2, 2.6]))
    assert_allclose(val, np.zeros(3))


# ----------------------------------------------------------------------- unary, complex

UNARY_COMPLEX = {
    "neg": T.neg, "sqr": T.sqr, "reciprocal": T.reciprocal, "identity": T.identity,
    "exp": T.exp, "exp2": T.exp2, "expm1": T.expm1, "log": T.log, "log1p": T.log1p,
    "log2": T.log2, "log10": T.log10, "sqrt": T.sqrt,
    "sin": T.sin, "cos": T.cos, "tan": T.tan, "arcsin": T.arcsin, "arccos": T.arccos,
    "arctan": T.arctan, "sinh": T.sinh, "cosh": T.cosh, "tanh": T.tanh,
    "arcsinh": T.arcsinh, "arccosh": T.arccosh, "arctanh": T.arctanh,
    # not holomorphic, or real-valued
    "abs": T.abs, "real": T.real, "imag": T.imag, "conj": T.conj, "angle": T.angle,
    "sign": T.sign, "round_half_to_even": lambda z: T.round_half_to_even(z) * z,
    "cast_complex64": lambda z: T.cast(z, "complex64") * 1.0,
    "cast_float64": lambda z: T.cast(z, "float64"),
}


@pytest.mark.parametrize("name", sorted(UNARY_COMPLEX))
def test_unary_complex(name):
    fn = UNARY_COMPLEX[name]
    if name == "cast_complex64":
        # a round trip through complex64 loses digits: use float32-sized steps
        vg(lambda z: T.cast(fn(z), "complex128"), [cplx((2, 2), 1)], eps=1e-3,
           abs_tol=1e-2, rel_tol=1e-2)
        return
    for k, shape in enumerate([(2, 3), ()]):
        vg(fn, [cplx(shape, k)], seed=k)


def test_complex_gradient_values_follow_the_convention():
    # C = |z|^2 = re^2 + im^2: dC/dre + i dC/dim = 2 z; C = Re(z^2): 2 conj(z)
    z = T.zvector("z")
    gs = [sg.grad(T.sum(T.sqr(T.abs(z))), z), sg.grad(T.sum(T.real(T.sqr(z))), z),
          sg.grad(T.sum(T.imag(z)), z), sg.grad(T.sum(T.real(T.conj(z) * 1j)), z)]
    v = np.array([1.0 + 2.0j, -0.5 + 0.25j])
    a, b, c, d = sg.function([z], gs)(v)
    assert_allclose(a, 2 * v)
    assert_allclose(b, 2 * np.conj(v))
    assert_allclose(c, np.full(2, 1j))
    # Re(i conj(z)) = Im(z)
    assert_allclose(d, np.full(2, 1j))
    # abs and angle at 0: gradient 0, not nan
    g0 = sg.function([z], [sg.grad(T.sum(T.abs(z)), z), sg.grad(T.sum(T.angle(z)), z)])(
        np.array([0j, 1 + 0j]))
    assert_allclose(g0[0], np.array([0j, 1 + 0j]))
    assert_allclose(g0[1], np.array([0j, 1j]))


# ----------------------------------------------------------------------- binary

def _binary_samplers():
    pos = _u(0.5, 2)
    sig = _u(-2, 2)
    away = _u(0.5, 2, signed=True)
    return {
        "add": (T.add, sig, sig), "sub": (T.sub, sig, sig), "mul": (T.mul, sig, sig),
        "true_div": (T.true_div, sig, away), "mod": (T.mod, _u(-3, 3), away),
        "int_div": (lambda a, b: T.int_div(a, b) * a * b, _u(-3, 3), away),
        "pow": (T.pow, pos, sig), "maximum": (T.maximum, sig, sig),
        "minimum": (T.minimum, sig, sig), "arctan2": (T.arctan2, sig, sig),
        "complex": (T.complex, sig, sig),
    }


BINARY = _binary_samplers()

# how the two inputs meet: (shape of the first, of the second, wrap applied to each)
_col = lambda v: v.dimshuffle(0, "x")  # noqa: E731
_row = lambda v: v.dimshuffle("x", 0)  # noqa: E731
BROADCASTS = {
    "same": ((2, 3), (2, 3), None, None),
    "col_row": ((3,), (4,), _col, _row),
    "static_1": ((3, 1), (1, 4), lambda v: T.specify_shape(v, (None, 1)),
                 lambda v: T.specify_shape(v, (1, None))),
    "row_matrix": ((4,), (3, 4), None, None),
    "matrix_row": ((3, 4), (4,), None, None),
    "scalar_vector": ((), (4,), None, None),
    "vector_scalar": ((4,), (), None, None),
}


@pytest.mark.parametrize("bcast", sorted(BROADCASTS))
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_real(name, bcast):
    fn, sa, sb = BINARY[name]
    shape_a, shape_b, wa, wb = BROADCASTS[bcast]
    wa = wa or (lambda v: v)
    wb = wb or (lambda v: v)
    vg(lambda a, b: fn(wa(a), wb(b)), [sa(shape_a, 1), sb(shape_b, 2)], seed=3)


def test_binary_gradients_are_summed_to_the_input_shape():
    x = T.tensor("float64", shape=(None, 1), name="x")
    y = T.tensor("float64", shape=(1, None), name="y")
    gx, gy = sg.grad(T.sum(x * y), [x, y])
    assert gx.type.shape == (None, 1) and gy.type.shape == (1, None)
    xv, yv = np.arange(3.0).reshape(3, 1), np.arange(1.0, 5.0).reshape(1, 4)
    rx, ry = sg.function([x, y], [gx, gy])(xv, yv)
    assert_allclose(rx, np.full((3, 1), yv.sum()))
    assert_allclose(ry, np.full((1, 4), xv.sum()))
    # a scalar (0-d) broadcast against a vector gets the sum
    s, v = T.dscalar("s"), T.dvector("v")
    gs = sg.grad(T.sum(T.exp(s) * v), s)
    assert_allclose(sg.function([s, v], gs)(0.5, np.array([1.0, 2.0, 3.0])),
                    np.float64(6 * np.exp(0.5)))


BINARY_COMPLEX = {
    "add": T.add, "sub": T.sub, "mul": T.mul, "true_div": T.true_div, "pow": T.pow,
}


@pytest.mark.parametrize("name", sorted(BINARY_COMPLEX))
def test_binary_complex(name):
    fn = BINARY_COMPLEX[name]
    vg(fn, [cplx((2, 3), 1), cplx((2, 3), 2)], seed=1)
    # broadcasting
    vg(lambda a, b: fn(a.dimshuffle(0, "x"), b), [cplx((2,), 3), cplx((2, 3), 4)], seed=2)
    # a real input meeting a complex one: its gradient is the real part
    vg(fn, [uniform(0.5, 2, (2, 3), 5, signed=True), cplx((2, 3), 6)], seed=3)
    vg(fn, [cplx((2, 3), 7), uniform(0.5, 2, (3,), 8, signed=True)], seed=4)


def test_pow_exponent_gradient_at_zero_base_is_finite():
    x, y = T.dvectors("x", "y")
    out = T.pow(x, y)
    gx, gy = sg.grad(T.sum(out), [x, y])
    rx, ry = sg.function([x, y], [gx, gy])(np.array([0.0, 0.0, 2.0]), np.array([2.0, 1.0, 3.0]))
    assert_allclose(rx, np.array([0.0, 1.0, 12.0]))
    assert_allclose(ry, np.array([0.0, 0.0, 8 * np.log(2.0)]))


def test_maximum_minimum_ties_split_the_gradient():
    x, y = T.dvectors("x", "y")
    gs = sg.grad(T.sum(T.maximum(x, y)) + 2 * T.sum(T.minimum(x, y)), [x, y])
    rx, ry = sg.function([x, y], gs)(np.array([1.0, 2.0, 3.0]), np.array([1.0, 5.0, 0.0]))
    # x: tie (1.5), smaller (2 from minimum), larger (1 from maximum)
    assert_allclose(rx, np.array([1.5, 2.0, 1.0]))
    assert_allclose(ry, np.array([1.5, 1.0, 2.0]))


# ----------------------------------------------------------------------- clip, switch

def test_clip():
    x = uniform(-2, 2, (2, 3), 0)
    vg(lambda a, lo, hi: T.clip(a, lo, hi), [x, np.array(-0.5), np.array(0.7)])
    # bounds broadcast along rows
    vg(lambda a, lo, hi: T.clip(a, lo, hi),
       [x, np.array([-1.0, -0.2, 0.1]), np.array([0.5, 1.5, 0.3])], seed=1)
    # lo > hi: NumPy gives hi everywhere, so only hi gets a gradient
    vg(lambda a, lo, hi: T.clip(a, lo, hi), [x, np.array(0.5), np.array(-0.5)], seed=2)


def test_clip_ties_go_to_x():
    x, lo, hi = T.dvector("x"), T.dscalar("lo"), T.dscalar("hi")
    gs = sg.grad(T.sum(T.clip(x, lo, hi)), [x, lo, hi])
    rx, rlo, rhi = sg.function([x, lo, hi], gs)(np.array([-1.0, 0.0, 1.0, -3.0, 3.0]), -1.0, 1.0)
    assert_allclose(rx, np.array([1.0, 1.0, 1.0, 0.0, 0.0]))
    assert rlo == 1.0 and rhi == 1.0


def test_switch():
    cond = np.array([[True, False, True], [False, False, True]])
    vg(lambda a, b: T.switch(cond, a, b), [uniform(-2, 2, (2, 3), 0), uniform(-2, 2, (2, 3), 1)])
    # broadcast branches and condition
    vg(lambda a, b: T.switch(cond[:, :1], a, b), [uniform(-2, 2, (3,), 2), uniform(-2, 2, (), 3)])
    # a condition computed from the input: only the chosen branch carries gradient
    vg(lambda a: T.switch(T.gt(a, 0), T.sqr(a), T.exp(a)), [uniform(0.2, 2, (2, 3), 4, True)])
    vg(lambda a, b: T.switch(a, a, b), [uniform(0.2, 2, (4,), 5, True), cplx((4,), 6)])


def test_switch_condition_is_disconnected():
    x = T.dvector("x")
    with pytest.raises(DisconnectedInputError, match="does not depend on x"):
        sg.grad(T.sum(T.switch(T.gt(x, 0), 1.0, 2.0)), x)
    # the op reports the condition as disconnected itself
    c, a, b = T.bvector("c"), T.dvector("a"), T.dvector("b")
    out = T.switch(c, a, b)
    gc, ga, gb = out.owner.op.L_op(out.owner.inputs, [out], [T.dvector("g")])
    assert str(gc.type) == "DisconnectedType"
    assert ga.dtype == gb.dtype == "float64"


# ----------------------------------------------------------------------- casts, integers

def test_cast_gradients():
    # float32 -> float64 (float32 steps and tolerances)
    vg(lambda a: T.cast(a, "float64") * 3.0, [uniform(-2, 2, (2, 3), 0).astype("float32")])
    # real -> complex: the real part of the gradient comes back
    vg(lambda a: T.cast(a, "complex128") * (1 + 2j), [uniform(-2, 2, (2, 3), 1)])
    x = T.dvector("x")
    g = sg.grad(T.sum(T.cast(x, "float32") * 2.0), x)
    assert g.dtype == "float64"
    assert_allclose(sg.function([x], g)(np.zeros(3)), np.full(3, 2.0))
    # complex -> real keeps the real part: the gradient is real g as a complex number
    z = T.zvector("z")
    gz = sg.grad(T.sum(T.cast(z, "float64") * 2.0), z)
    assert gz.dtype == "complex128"
    assert_allclose(sg.function([z], gz)(np.ones(2) * 1j), np.full(2, 2 + 0j))


def test_integer_inputs_are_disconnected_and_floats_differentiated():
    i, y = T.lvector("i"), T.dvector("y")
    cost = T.sum(i * y) + T.sum(T.pow(i, y)) + T.sum(T.cast(i, "float64") * T.exp(y))
    gi, gy = sg.grad(cost, [i, y])
    iv, yv = np.array([1, 2, 3]), np.array([0.5, -1.0, 2.0])
    ri, ry = sg.function([i, y], [gi, gy])(iv, yv)
    assert_allclose(ri, np.zeros(3))
    assert_allclose(ry, iv + iv ** yv * np.log(iv) + iv * np.exp(yv))
    # the op itself says so
    out = T.mul(i, y)
    gi_, gy_ = out.owner.op.L_op(out.owner.inputs, [out], [T.dvector("g")])
    assert str(gi_.type) == "DisconnectedType"
    assert gy_.dtype == "float64"
    # casts from integers are disconnected
    c = T.cast(i, "float64")
    (gc,) = c.owner.op.L_op(c.owner.inputs, [c], [T.dvector("g")])
    assert str(gc.type) == "DisconnectedType"


@pytest.mark.parametrize("build", [
    lambda x: T.gt(x, 0), lambda x: T.le(x, 0.5), lambda x: T.eq(x, 1.0),
    lambda x: T.isnan(x), lambda x: T.isinf(x), lambda x: T.logical_not(x),
    lambda x: T.cast(x, "int64"), lambda x: T.neq(x, x),
])
def test_boolean_and_integer_outputs_are_disconnected(build):
    x = T.dvector("x")
    out = build(x)
    igs = out.owner.op.L_op(out.owner.inputs, [out], [T.zeros_like(out)])
    assert all(str(g.type) == "DisconnectedType" for g in igs)
    with pytest.raises(DisconnectedInputError):
        sg.grad(T.sum(T.cast(out, "float64")), x)


def test_grad_through_a_comparison_is_disconnected():
    x = T.dvector("x")
    for cost in [T.sum(T.gt(x, 0)), T.sum(T.cast(T.le(x, 0), "float64")) * 2.0]:
        with pytest.raises(DisconnectedInputError, match="does not depend on x"):
            sg.grad(cost, x)
        g = sg.grad(cost, x, disconnected_inputs="ignore")
        assert_allclose(sg.function([x], g, on_unused_input="ignore")(np.ones(2)), np.zeros(2))


def test_grad_through_a_comparison_names_it():
    x = T.dvector("x")
    with pytest.raises(DisconnectedInputError, match=r"(?s)does not depend on x.*\bgt\b"):
        sg.grad(T.sum(T.gt(x, 0)), x)


def test_every_scalar_op_has_a_gradient_rule_or_an_integer_output():
    missing = []
    for name, op in all_scalar_ops().items():
        if has_grad(op):
            continue
        # ops whose outputs are never float: the Elemwise answers disconnected for them
        try:
            dts = op.output_types(["float64"] * op.nin)
        except TypeError:
            continue  # integer-only (bitwise)
        if any(d.startswith(("float", "complex")) for d in dts):
            missing.append(name)
    assert not missing, f"scalar ops with float outputs but no gradient: {missing}"


# ----------------------------------------------------------------------- graph size

def test_tanh_gradient_reuses_the_forward_output():
    x = T.dvector("x")
    y = T.tanh(x)
    g = sg.grad(T.sum(y), x)
    # the graph grad() builds, before rewrites (fusion later folds tanh into a Composite)
    from symgraph.compile.mode import Mode
    f = sg.function([x], [y, g], mode=Mode("py", optimizer=None))
    nodes = f.maker.fgraph.apply_nodes
    tanhs = [n for n in nodes if isinstance(n.op, Elemwise) and n.op.scalar_op.name == "tanh"]
    assert len(tanhs) == 1
    assert not any(isinstance(n.op, Elemwise) and n.op.scalar_op.name in ("cosh", "sinh")
                   for n in nodes)
    # tanh, and 1 - tanh^2 times the incoming ones: a handful of nodes, shapes included
    assert len(nodes) <= 9, [str(n.op) for n in nodes]
    v = np.array([-1.0, 0.0, 2.0])
    assert_allclose(f(v)[1], 1 - np.tanh(v) ** 2)
    # the gradient alone holds one tanh too
    f2 = sg.function([x], g, mode=Mode("py", optimizer=None))
    assert sum(isinstance(n.op, Elemwise) and n.op.scalar_op.name == "tanh"
               for n in f2.maker.fgraph.apply_nodes) == 1
    # after rewriting, tanh is still computed once (inside a fused loop or alone)
    f3 = sg.function([x], [y, g])
    assert sum(str(n.op).count("tanh") for n in f3.maker.fgraph.apply_nodes) == 1


def test_second_derivatives():
    # the gradients are themselves differentiable: d2/dx2 of psi is polygamma(2)
    x = T.dscalar("x")
    for fn, d2 in [(T.psi, lambda v: __import__("scipy.special").special.polygamma(2, v)),
                   (T.tanh, lambda v: -2 * np.tanh(v) * (1 - np.tanh(v) ** 2)),
                   (T.sigmoid, lambda v: (s := 1 / (1 + np.exp(-v))) * (1 - s) * (1 - 2 * s))]:
        g2 = sg.grad(sg.grad(fn(x), x), x)
        assert_allclose(sg.function([x], g2)(1.3), np.float64(d2(1.3)), rtol=1e-8)


# ----------------------------------------------------------------------- DimShuffle

def test_dimshuffle_grad():
    a = uniform(-2, 2, (2, 3), 0)
    vg(lambda x: x.dimshuffle(1, "x", 0) * np.arange(6.0).reshape(3, 1, 2), [a])
    vg(lambda x: T.transpose(x, (-1, 0)) ** 2, [a], seed=1)
    vg(lambda x: T.transpose(x, (1, -1, 0)) ** 2, [uniform(-2, 2, (2, 3, 2), 1)], seed=2)
    # a dropped broadcastable dimension comes back
    vg(lambda x: T.specify_shape(x, (None, 1, None)).dimshuffle(2, "x", 0) ** 2,
       [uniform(-2, 2, (2, 1, 3), 2)], seed=3)
    # complex
    vg(lambda x: T.exp(x.dimshuffle("x", 1, 0)), [cplx((2, 3), 4)], seed=4)


def test_dimshuffle_l_op_shapes():
    x = T.tensor("float64", shape=(None, 1, None), name="x")
    out = x.dimshuffle(2, "x", 0)
    g = T.tensor("float64", shape=(None, 1, None), name="g")
    (gx,) = out.owner.op.L_op([x], [out], [g])
    assert gx.type.shape == (None, 1, None)
    gv = np.arange(6.0).reshape(3, 1, 2)
    assert_allclose(sg.function([g], gx)(gv), gv.transpose(2, 1, 0))
    # a gradient not known to be 1 along an 'x' dimension is summed there
    y, h = T.dvector("y"), T.dmatrix("h")
    op = DimShuffle(1, ("x", 0))
    (gy,) = op.L_op([y], [op(y)], [h])
    assert gy.ndim == 1
    hv = np.arange(6.0).reshape(2, 3)
    assert_allclose(sg.function([h], gy)(hv), hv.sum(0))


# ----------------------------------------------------------------------- Rop

def _fd_directional(fun, pts, dirs, eps=1e-6):
    plus = fun(*[p + eps * d for p, d in zip(pts, dirs)])
    minus = fun(*[p - eps * d for p, d in zip(pts, dirs)])
    return (np.asarray(plus) - np.asarray(minus)) / (2 * eps)


ROP_CASES = {
    "tanh_mul": (lambda x, y: T.tanh(x) * y + T.exp(x) / y, (2, 3), (2, 3)),
    "broadcast": (lambda x, y: T.sigmoid(T.specify_shape(x, (None, 1)))
                  * T.specify_shape(y, (1, None)), (3, 1), (1, 4)),
    "pow_max": (lambda x, y: T.maximum(T.pow(T.abs(x) + 0.5, y), T.log1p(T.sqr(y))),
                (4,), (4,)),
    "dimshuffle": (lambda x, y: T.arctan2(x.dimshuffle(1, 0), y.dimshuffle("x", 0)) ** 3,
                   (3, 2), (3,)),
    "clip_switch": (lambda x, y: T.switch(T.gt(x, 0), T.clip(x, -0.5, 0.8), x * y), (6,), (6,)),
}


@pytest.mark.parametrize("name", sorted(ROP_CASES))
def test_rop_against_finite_differences(name):
    fn, sx, sy = ROP_CASES[name]
    x = T.tensor("float64", shape=(None,) * len(sx), name="x")
    y = T.tensor("float64", shape=(None,) * len(sy), name="y")
    vx = T.tensor("float64", shape=(None,) * len(sx), name="vx")
    vy = T.tensor("float64", shape=(None,) * len(sy), name="vy")
    out = fn(x, y)
    jv = sg.Rop(out, [x, y], [vx, vy])
    jx = sg.Rop(out, x, vx)  # a tangent for x only
    f = sg.function([x, y, vx, vy], [out, jv, jx])
    rng = np.random.default_rng(7)
    px, py = uniform(0.3, 2, sx, 1, signed=True), uniform(0.3, 2, sy, 2, signed=True)
    dx, dy = rng.standard_normal(sx), rng.standard_normal(sy)
    o, rjv, rjx = f(px, py, dx, dy)
    value = sg.function([x, y], out)
    np.testing.assert_allclose(rjv, _fd_directional(value, [px, py], [dx, dy]),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(rjx, _fd_directional(value, [px, py], [dx, 0 * dy]),
                               rtol=1e-6, atol=1e-7)
    assert np.shape(rjx) == np.shape(o)


def test_rop_uses_the_forward_rules():
    # Elemwise and DimShuffle give tangents themselves (no double-Lop fallback)
    x = T.tensor("float64", shape=(None, 1), name="x")
    y = T.dmatrix("y")
    out = T.exp(x) + y
    (t,) = out.owner.op.R_op(out.owner.inputs, [T.dmatrix("v"), None])
    assert t.ndim == 2
    # only the broadcast input has a tangent: it is spread to the output's shape
    v = np.array([[1.0], [2.0]])
    val = sg.function([x, y], sg.Rop(out, x, T.constant(v)))(np.zeros((2, 1)), np.zeros((2, 3)))
    assert_allclose(val, np.repeat(v, 3, axis=1))
    ds = x.dimshuffle(1, 0)
    (td,) = ds.owner.op.R_op([x], [T.dmatrix("w")])
    assert td.type.shape == (1, None)
    # integer outputs have no tangent
    cmp = T.gt(y, 0)
    assert cmp.owner.op.R_op(cmp.owner.inputs, [T.dmatrix("v"), None]) == [None]


@pytest.mark.parametrize("name", sorted(set(UNARY_COMPLEX) - {"cast_complex64"}))
def test_rop_complex_unary(name):
    z, v = T.zvector("z"), T.zvector("v")
    out = UNARY_COMPLEX[name](z)
    f = sg.function([z, v], sg.Rop(out, z, v), on_unused_input="ignore")
    pz, dz = cplx((3,), 1), cplx((3,), 2)
    value = sg.function([z], out)
    np.testing.assert_allclose(f(pz, dz), _fd_directional(value, [pz], [dz]),
                               rtol=1e-6, atol=1e-7)


def test_rop_complex_binary_and_mixed():
    z, w, x = T.zvector("z"), T.zvector("w"), T.dvector("x")
    vz, vw, vx = T.zvector("vz"), T.zvector("vw"), T.dvector("vx")
    out = (T.pow(z, w) * T.exp(x) / (z + x) + T.complex(x, T.sqr(x)) * T.abs(w)
           + T.cast(T.angle(z) * x, "complex128"))
    f = sg.function([z, w, x, vz, vw, vx], sg.Rop(out, [z, w, x], [vz, vw, vx]))
    pts = [cplx((3,), 1), cplx((3,), 2), uniform(0.5, 2, (3,), 3)]
    dirs = [cplx((3,), 4), cplx((3,), 5), uniform(-1, 1, (3,), 6)]
    value = sg.function([z, w, x], out)
    np.testing.assert_allclose(f(*pts, *dirs), _fd_directional(value, pts, dirs),
                               rtol=1e-6, atol=1e-7)
