"""Gradients (L_op) and forward derivatives (R_op) of the products in tensor/dot.py."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph.op import Op
from symgraph.gradient import GradientError, verify_grad
from symgraph.tensor.dot import BatchedDot, Dot, MatMul, TensorDot
from symgraph.tensor.type import TensorType
from tests.utils import assert_allclose

DTYPES = ["float64", "complex128"]


def rand(rng, shape, dtype="float64"):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return np.asarray(x, dtype=dtype)


def free(dtype, ndim, name=None):
    return TensorType(dtype, shape=(None,) * ndim)(name)


def check_rop(fun, pts, rng, which=None, op_type=None):
    """sg.Rop of ``fun`` at ``pts`` along random tangents (for the inputs in ``which``,
    all by default) against a central finite difference of ``fun`` along them.

    ``op_type``: the op that ``fun`` builds last, which must define its own R_op.
    """
    which = range(len(pts)) if which is None else which
    xs = [free(p.dtype.name, p.ndim, f"x{k}") for k, p in enumerate(pts)]
    out = fun(*xs)
    if op_type is not None:
        assert isinstance(out.owner.op, op_type)
        assert type(out.owner.op).R_op is not Op.R_op
    ts = [xs[k].type(f"t{k}") for k in which]
    tans = [rand(rng, pts[k].shape, pts[k].dtype.name) for k in which]
    r = sg.Rop(out, [xs[k] for k in which], ts)
    got = sg.function(xs + ts, r, on_unused_input="ignore")(*pts, *tans)
    f = sg.function(xs, out)
    eps = 1e-6
    plus, minus = list(pts), list(pts)
    for k, t in zip(which, tans):
        plus[k] = pts[k] + eps * t
        minus[k] = pts[k] - eps * t
    want = (np.asarray(f(*plus)) - np.asarray(f(*minus))) / (2 * eps)
    assert_allclose(got, want.astype(np.asarray(got).dtype), rtol=1e-6, atol=1e-7)


def known_grad(out, wrt, g):
    """grad of the scalar Re(sum(out * conj(g))) with respect to ``wrt``, from known_grads."""
    gv = free(out.dtype, out.ndim, "g")
    grads = sg.grad(None, wrt, known_grads={out: gv})
    return sg.function(list(wrt) + [gv], grads, on_unused_input="ignore"), gv


# ----------------------------------------------------------------------- Dot

DOT_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 2))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", DOT_SHAPES)
def test_dot_grad(sa, sb, dtype):
    rng = np.random.default_rng(1)
    a, b = rand(rng, sa, dtype), rand(rng, sb, dtype)
    assert isinstance(T.dot(free(dtype, len(sa)), free(dtype, len(sb))).owner.op, Dot)
    verify_grad(T.dot, [a, b], rng=rng, n_tests=1)


def test_dot_grad_formula_complex():
    # the convention: for out = A @ B, gA = G @ conj(B).T and gB = conj(A).T @ G
    rng = np.random.default_rng(2)
    A, B, G = rand(rng, (2, 3), "complex128"), rand(rng, (3, 2), "complex128"), \
        rand(rng, (2, 2), "complex128")
    a, b = free("complex128", 2), free("complex128", 2)
    f, _ = known_grad(T.dot(a, b), [a, b], G)
    ga, gb = f(A, B, G)
    assert_allclose(ga, G @ B.conj().T)
    assert_allclose(gb, A.conj().T @ G)


def test_dot_grad_mixed_dtypes():
    # a real matrix times a complex one: the real input's gradient is the real part
    rng = np.random.default_rng(3)
    verify_grad(T.dot, [rand(rng, (2, 3)), rand(rng, (3, 2), "complex128")], rng=rng,
                n_tests=1)
    a, b = free("float64", 2), free("complex128", 2)
    A, B, G = rand(rng, (2, 3)), rand(rng, (3, 2), "complex128"), rand(rng, (2, 2), "complex128")
    f, _ = known_grad(T.dot(a, b), [a, b], G)
    ga, gb = f(A, B, G)
    assert ga.dtype == np.float64
    assert_allclose(ga, (G @ B.conj().T).real)
    assert_allclose(gb, A.T @ G)


@pytest.mark.parametrize("sa,sb", [((2, 2, 3), (3,)), ((2, 3), (2, 3, 2)), ((2, 1, 3), (2, 3, 2)),
                                   ((), (2, 3)), ((3,), ())])
def test_dot_higher_rank_and_scalar_grad(sa, sb):
    rng = np.random.default_rng(4)
    verify_grad(T.dot, [rand(rng, sa), rand(rng, sb)], rng=rng, n_tests=1)


def test_dot_grad_one_input_constant():
    rng = np.random.default_rng(5)
    B = rand(rng, (3, 2))
    verify_grad(lambda a: T.dot(a, B), [rand(rng, (2, 3))], rng=rng, n_tests=1)
    verify_grad(lambda b: T.dot(B.T, b), [rand(rng, (3,))], rng=rng, n_tests=1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", DOT_SHAPES)
def test_dot_rop(sa, sb, dtype):
    rng = np.random.default_rng(6)
    pts = [rand(rng, sa, dtype), rand(rng, sb, dtype)]
    check_rop(T.dot, pts, rng, op_type=Dot)
    check_rop(T.dot, pts, rng, which=[1])


def test_second_derivative_through_dot():
    # grad of a grad: the L_op graphs are themselves differentiable
    rng = np.random.default_rng(7)

    def fun(a, b):
        c = T.sum(T.dot(a, b) ** 2)
        return sg.grad(c, a)

    verify_grad(fun, [rand(rng, (2, 3)), rand(rng, (3, 2))], rng=rng, n_tests=1)


@pytest.mark.parametrize("which", ["matmul", "tensordot", "batched_dot"])
def test_second_derivative_through_products(which):
    rng = np.random.default_rng(23)
    build = {
        "matmul": (lambda a, b: T.matmul(T.specify_shape(a, (1, None, None)), b),
                   (1, 2, 3), (2, 3, 2)),
        "tensordot": (lambda a, b: T.tensordot(a, b, [[0, 2], [1, 0]]), (2, 2, 3), (3, 2, 2)),
        "batched_dot": (T.batched_dot, (2, 2, 3), (2, 2, 3, 1)),
    }
    f, sa, sb = build[which]

    def fun(a, b):
        return sg.grad(T.sum(T.abs(f(a, b)) ** 2), b)

    verify_grad(fun, [rand(rng, sa, "complex128"), rand(rng, sb, "complex128")], rng=rng,
                n_tests=1)


def test_hessian_vector_product_of_quadratic_form():
    # c = x^T A x has Hessian A + A^T
    rng = np.random.default_rng(24)
    A, X, V = rand(rng, (3, 3)), rand(rng, (3,)), rand(rng, (3,))
    x, v = free("float64", 1), free("float64", 1)
    a = T.constant(A)
    hv = sg.gradient.hessian_vector_product(T.dot(x, T.dot(a, x)), x, v)
    assert_allclose(sg.function([x, v], hv, on_unused_input="ignore")(X, V), (A + A.T) @ V)


# ----------------------------------------------------------------------- MatMul

MATMUL_CASES = [  # (shape of a, shape of b, static shapes declared for a and b, or None)
    ((3,), (3,), None, None), ((2, 3), (3,), None, None), ((3,), (3, 2), None, None),
    ((2, 3), (3, 2), None, None),
    ((2, 2, 3), (3, 2), None, None),                    # b broadcast over a's batch
    ((3,), (2, 3, 2), None, None),                      # a vector against a batch
    ((2, 2, 3), (3,), None, None),
    ((2, 2, 3), (2, 3, 1), None, None),
    ((2, 1, 2, 3), (3, 3, 2), (2, 1, None, None), None),  # static-1 batch dim of a broadcasts
    ((1, 2, 3), (2, 3, 2), (1, None, None), None),
    ((2, 2, 3), (1, 3, 2), None, (1, None, None)),      # ... and of b
    ((2, 1, 2, 3), (1, 2, 3, 2), (None, 1, None, None), (1, None, None, None)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb,static_a,static_b", MATMUL_CASES)
def test_matmul_grad(sa, sb, static_a, static_b, dtype):
    rng = np.random.default_rng(8)

    def fun(a, b):
        if static_a is not None:
            a = T.specify_shape(a, static_a)
        if static_b is not None:
            b = T.specify_shape(b, static_b)
        out = T.matmul(a, b)
        assert isinstance(out.owner.op, MatMul)
        return out

    verify_grad(fun, [rand(rng, sa, dtype), rand(rng, sb, dtype)], rng=rng, n_tests=1)


def test_matmul_grad_sums_broadcast_batches():
    rng = np.random.default_rng(9)
    A, B = rand(rng, (2, 3)), rand(rng, (4, 3, 2))
    G = rand(rng, (4, 2, 2))
    a, b = free("float64", 2), free("float64", 3)
    f, _ = known_grad(a @ b, [a, b], G)
    ga, gb = f(A, B, G)
    assert ga.shape == A.shape
    assert_allclose(ga, np.einsum("bij,bkj->ik", G, B))
    assert_allclose(gb, np.einsum("ik,bij->bkj", A, G))
    # a batch dim of static length 1 on the first operand
    a1 = T.tensor("float64", shape=(1, None, None))
    A1 = rand(rng, (1, 2, 3))
    f, _ = known_grad(a1 @ b, [a1, b], G)
    ga, gb = f(A1, B, G)
    assert ga.shape == (1, 2, 3)
    assert_allclose(ga, np.einsum("bij,bkj->ik", G, B)[None])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb,static_a,static_b", MATMUL_CASES)
def test_matmul_rop(sa, sb, static_a, static_b, dtype):
    rng = np.random.default_rng(10)
    pts = [rand(rng, sa, dtype), rand(rng, sb, dtype)]
    if static_a is None and static_b is None:
        check_rop(T.matmul, pts, rng, op_type=MatMul)
    else:
        check_rop(lambda a, b: T.matmul(T.specify_shape(a, static_a or (None,) * len(sa)),
                                        T.specify_shape(b, static_b or (None,) * len(sb))),
                  pts, rng)


def test_matmul_rop_eval_point_without_static_broadcast():
    # the eval point of an operand with a static-1 batch dim need not declare it
    rng = np.random.default_rng(11)
    a = T.tensor("float64", shape=(1, None, None))
    b = free("float64", 3)
    ta = free("float64", 3)
    r = sg.Rop(a @ b, [a], [ta])
    A, B, TA = rand(rng, (1, 2, 3)), rand(rng, (2, 3, 2)), rand(rng, (1, 2, 3))
    f = sg.function([a, b, ta], r, on_unused_input="ignore")
    assert_allclose(f(A, B, TA), TA @ B)


# ----------------------------------------------------------------------- TensorDot

TENSORDOT_CASES = [
    ((2, 3, 2), (3, 2, 2), [[1, 0], [0, 2]]),
    ((2, 3, 2), (2, 3, 2), [[2, 0], [0, 2]]),
    ((3, 2, 2), (2, 3), [[0, 2], [1, 0]]),
    ((2, 3, 2), (3, 2), 2),                 # an int: the last 2 axes of a, first 2 of b
    ((2, 3), (2, 3), 2),                    # full contraction: a 0-d result
    ((2, 3), (3, 2), 0),                    # no contraction: the outer product
    ((2, 2, 3), (3, 2, 2), [[-1], [0]]),    # negative axes
    ((2, 3, 2), (2, 2, 3), [[-1, -2], [1, 2]]),
    ((2, 3), (3, 2), [[1], [0]]),           # becomes a Dot
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb,axes", TENSORDOT_CASES)
def test_tensordot_grad(sa, sb, axes, dtype):
    rng = np.random.default_rng(12)
    verify_grad(lambda a, b: T.tensordot(a, b, axes), [rand(rng, sa, dtype), rand(rng, sb, dtype)],
                rng=rng, n_tests=1)


def test_tensordot_grad_against_einsum():
    rng = np.random.default_rng(13)
    A, B = rand(rng, (2, 3, 4), "complex128"), rand(rng, (4, 2, 3), "complex128")
    G = rand(rng, (3, 3), "complex128")
    a, b = free("complex128", 3), free("complex128", 3)
    out = T.tensordot(a, b, [[2, 0], [0, 1]])       # out[j, m] = sum_ik a[i,j,k] b[k,i,m]
    assert isinstance(out.owner.op, TensorDot)
    f, _ = known_grad(out, [a, b], G)
    ga, gb = f(A, B, G)
    assert_allclose(ga, np.einsum("jm,kim->ijk", G, B.conj()))
    assert_allclose(gb, np.einsum("jm,ijk->kim", G, A.conj()))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb,axes", TENSORDOT_CASES[:4])
def test_tensordot_rop(sa, sb, axes, dtype):
    rng = np.random.default_rng(14)
    pts = [rand(rng, sa, dtype), rand(rng, sb, dtype)]
    check_rop(lambda a, b: T.tensordot(a, b, axes), pts, rng, op_type=TensorDot)
    check_rop(lambda a, b: T.tensordot(a, b, axes), pts, rng, which=[0])


# ----------------------------------------------------------------------- BatchedDot

def np_batched_dot(a, b):
    return np.stack([np.dot(a[i], b[i]) for i in range(a.shape[0])])


BATCHED_CASES = [((2, 3), (2, 3)), ((2, 2, 3), (2, 3)), ((2, 2, 3), (2, 3, 2)),
                 ((2, 3), (2, 3, 2)), ((2, 2, 1, 3), (2, 2, 3, 2)), ((2, 2, 3), (2, 2, 3, 2))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", BATCHED_CASES)
def test_batched_dot_grad(sa, sb, dtype):
    rng = np.random.default_rng(15)
    a, b = rand(rng, sa, dtype), rand(rng, sb, dtype)
    verify_grad(T.batched_dot, [a, b], rng=rng, n_tests=1)


def test_batched_dot_grad_formula():
    rng = np.random.default_rng(16)
    A, B, G = rand(rng, (2, 2, 3), "complex128"), rand(rng, (2, 3, 2), "complex128"), \
        rand(rng, (2, 2, 2), "complex128")
    a, b = free("complex128", 3), free("complex128", 3)
    out = T.batched_dot(a, b)
    assert isinstance(out.owner.op, BatchedDot)
    f, _ = known_grad(out, [a, b], G)
    ga, gb = f(A, B, G)
    assert_allclose(ga, G @ np.swapaxes(B.conj(), 1, 2))
    assert_allclose(gb, np.swapaxes(A.conj(), 1, 2) @ G)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", BATCHED_CASES)
def test_batched_dot_rop(sa, sb, dtype):
    rng = np.random.default_rng(17)
    check_rop(T.batched_dot, [rand(rng, sa, dtype), rand(rng, sb, dtype)], rng,
              op_type=BatchedDot)


# ----------------------------------------------------------------------- built from ops

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", [((3,), (2,)), ((2, 2), (3,)), ((), (2,))])
def test_outer_grad(sa, sb, dtype):
    rng = np.random.default_rng(18)
    verify_grad(T.outer, [rand(rng, sa, dtype), rand(rng, sb, dtype)], rng=rng, n_tests=1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (2, 3)), ((), (2,))])
def test_inner_grad(sa, sb, dtype):
    rng = np.random.default_rng(19)
    verify_grad(T.inner, [rand(rng, sa, dtype), rand(rng, sb, dtype)], rng=rng, n_tests=1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3, 2)), ((2, 2), (4,))])
def test_vdot_grad(sa, sb, dtype):
    rng = np.random.default_rng(20)
    verify_grad(T.vdot, [rand(rng, sa, dtype), rand(rng, sb, dtype)], rng=rng, n_tests=1)


def test_vdot_grad_conjugates_first():
    # vdot(a, b) = sum(conj(a) * b): with C = Re(vdot(a, b) conj(g)), dC/da = conj(g) * b
    rng = np.random.default_rng(21)
    A, B = rand(rng, (3,), "complex128"), rand(rng, (3,), "complex128")
    G = rand(rng, (), "complex128")
    a, b = free("complex128", 1), free("complex128", 1)
    f, _ = known_grad(T.vdot(a, b), [a, b], G)
    ga, gb = f(A, B, G)
    assert_allclose(ga, np.conj(G) * B)
    assert_allclose(gb, G * A)


def test_verify_grad_catches_a_wrong_product_gradient():
    # the tests above can fail: a product whose L_op forgets the conjugate is caught
    class BadDot(Dot):
        def L_op(self, inputs, outputs, output_grads):
            a, b = inputs
            (g,) = output_grads
            return [T.dot(g, b.T), T.dot(a.T, g)]

    rng = np.random.default_rng(22)
    pts = [rand(rng, (2, 3), "complex128"), rand(rng, (3, 2), "complex128")]
    with pytest.raises(GradientError):
        verify_grad(lambda a, b: BadDot()(a, b), pts, rng=rng, n_tests=1)
