import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph.utils import ShapeError
from symgraph.tensor.dot import BatchedDot, Dot, MatMul, TensorDot
from symgraph.tensor.type import TensorType
from tests.utils import assert_allclose, check_infer_shape

DTYPES = ["bool", "int8", "int32", "uint16", "float32", "float64", "complex64", "complex128"]


def rand(rng, shape, dtype):
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if np.dtype(dtype).kind in "iu":
        return rng.integers(0, 5, size=shape).astype(dtype)
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def var(dtype, shape, name=None):
    return TensorType(dtype, shape=shape)(name)


def compile_check(inputs, outputs, values, expected, mode):
    f = sg.function(inputs, outputs, mode=mode)
    for got, want in zip(f(*values), expected):
        assert_allclose(got, want)


# ----------------------------------------------------------------------- dot

@pytest.mark.parametrize("dtype", DTYPES)
def test_dot_every_rank_combination(dtype, mode, rng):
    shapes = {"s": (), "u": (3,), "w": (2,), "a": (2, 3), "b": (3, 4),
              "t": (5, 4, 3), "t2": (6, 3, 7)}
    v = {k: var(dtype, (None,) * len(s), k) for k, s in shapes.items()}
    x = {k: rand(rng, s, dtype) for k, s in shapes.items()}
    pairs = [("s", "a"), ("a", "s"), ("s", "s"), ("u", "u"), ("a", "u"), ("w", "a"),
             ("a", "b"), ("t", "u"), ("a", "t2"), ("t", "b"), ("u", "t2"), ("t", "t2")]
    outs = [T.dot(v[p], v[q]) for p, q in pairs]
    for (p, q), o in zip(pairs, outs):
        assert o.dtype == dtype
        assert o.ndim == np.dot(x[p], x[q]).ndim
    names = list(shapes)
    compile_check([v[k] for k in names], outs, [x[k] for k in names],
                  [np.dot(x[p], x[q]) for p, q in pairs], mode)


def test_dot_uses_ops():
    a, b, t = T.matrix(), T.vector(), T.tensor3()
    assert isinstance(T.dot(a, b).owner.op, Dot)
    assert isinstance(a.dot(b).owner.op, Dot)
    assert isinstance(T.dot(t, a).owner.op, TensorDot)
    assert T.dot(t, a).owner.op.axes == ((2,), (0,))
    assert T.dot(a, t).owner.op.axes == ((1,), (1,))
    assert T.dot(t, b).owner.op.axes == ((2,), (0,))
    assert Dot() == Dot() and hash(Dot()) == hash(Dot())


@pytest.mark.parametrize("da, db", [("int32", "float32"), ("int8", "uint8"), ("bool", "int16"),
                                    ("float32", "complex128"), ("float64", "complex64"),
                                    ("int64", "uint64")])
def test_dot_mixed_dtypes_cast_first(da, db, mode, rng):
    a, b = var(da, (None, None)), var(db, (None,))
    out = T.dot(a, b)
    want_dt = np.result_type(da, db).name
    assert out.dtype == want_dt
    # the kernel sees a single dtype
    assert [i.dtype for i in out.owner.inputs] == [want_dt, want_dt]
    xa, xb = rand(rng, (2, 3), da), rand(rng, (3,), db)
    compile_check([a, b], [out, a @ b], [xa, xb], [np.dot(xa, xb), np.matmul(xa, xb)], mode)


def test_dot_python_scalars_are_weak(mode, rng):
    x = var("float32", (None,))
    i = var("int8", (None,))
    assert T.dot(x, 2.0).dtype == "float32"
    assert T.dot(3, i).dtype == "int8"
    assert T.dot(x, np.float64(2.0)).dtype == "float64"  # NumPy scalars are strong
    assert T.inner(i, 2).dtype == "int8"
    xv, iv = rand(rng, (3,), "float32"), rand(rng, (3,), "int8")
    compile_check([x, i], [T.dot(x, 2.0), T.dot(3, i)], [xv, iv],
                  [xv * np.float32(2), np.int8(3) * iv], mode)


def test_dot_static_shapes():
    assert T.dot(var("float64", (2, None)), var("float64", (None, 4))).type.shape == (2, 4)
    assert T.dot(var("float64", (2, 3)), var("float64", (None,))).type.shape == (2,)
    assert T.dot(var("float64", (None,)), var("float64", (3, 5))).type.shape == (5,)
    assert T.dot(var("float64", (3,)), var("float64", (3,))).type.shape == ()
    assert T.dot(var("float64", (5, 2, 3)), var("float64", (6, 3, 7))).type.shape == (5, 2, 6, 7)
    assert T.dot(var("float64", ()), var("float64", (2, None))).type.shape == (2, None)


def test_dot_static_mismatch():
    with pytest.raises(ShapeError, match=r"\(2, 3\) and \(4, 5\).*dimension 1 of the first \(3\)"):
        T.dot(var("float64", (2, 3)), var("float64", (4, 5)))
    with pytest.raises(ShapeError, match=r"\(3,\) and \(4,\)"):
        T.dot(var("float64", (3,)), var("float64", (4,)))
    with pytest.raises(ShapeError, match=r"\(5, 2, 3\) and \(6, 4, 7\)"):
        T.dot(var("float64", (5, 2, 3)), var("float64", (6, 4, 7)))


def test_dot_runtime_mismatch(mode):
    a, b, t = T.matrix("a"), T.vector("b"), T.tensor3("t")
    f = sg.function([a, b], T.dot(a, b), mode=mode)
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\) are not aligned"):
        f(np.ones((2, 3)), np.ones(4))
    g = sg.function([t, a], T.dot(t, a), mode=mode)
    with pytest.raises(ValueError, match=r"\(2, 2, 3\) and \(2, 2\) are not aligned"):
        g(np.ones((2, 2, 3)), np.ones((2, 2)))


def test_dot_bad_input():
    with pytest.raises(TypeError, match=r"1-d or 2-d.*first.*0 dimensions"):
        Dot()(T.scalar(), T.vector())
    with pytest.raises(TypeError, match=r"1-d or 2-d.*second.*3 dimensions"):
        Dot()(T.matrix(), T.tensor3())
    with pytest.raises(TypeError):
        T.dot(T.vector(), "abc")


def test_dot_infer_shape(rng):
    a, b, u = T.matrix("a"), T.matrix("b"), T.vector("u")
    va, vb, vu = rand(rng, (2, 3), "float64"), rand(rng, (3, 4), "float64"), rand(rng, (3,), "float64")
    check_infer_shape([T.dot(a, b), T.dot(a, u), T.dot(u, b), T.dot(u, u)], [a, b, u], [va, vb, vu])
    s = var("float64", (2, None))
    check_infer_shape(T.dot(s, b), [s, b], [va, vb])


# ----------------------------------------------------------------------- matmul

@pytest.mark.parametrize("dtype", ["int16", "bool", "float32", "complex128"])
def test_matmul_values(dtype, mode, rng):
    specs = {"u": (3,), "a": (2, 3), "b": (3, 4), "t": (5, 2, 3), "q": (5, 3, 4),
             "r": (1, 3, 4), "f": (6, 1, 3, 4), "v4": (4,)}
    v = {k: var(dtype, (1 if n == 1 else None for n in s), k) for k, s in specs.items()}
    x = {k: rand(rng, s, dtype) for k, s in specs.items()}
    pairs = [("u", "u"), ("a", "u"), ("u", "b"), ("a", "b"), ("t", "q"), ("t", "b"),
             ("a", "q"), ("u", "q"), ("t", "u"), ("q", "v4"), ("t", "r"), ("t", "f"),
             ("f", "v4"), ("u", "f")]
    outs = [v[p] @ v[q] for p, q in pairs]
    for (p, q), o in zip(pairs, outs):
        want = np.matmul(x[p], x[q])
        assert o.dtype == want.dtype.name and o.ndim == want.ndim
    names = list(specs)
    compile_check([v[k] for k in names], outs + [T.matmul(v["a"], v["b"])],
                  [x[k] for k in names],
                  [np.matmul(x[p], x[q]) for p, q in pairs] + [x["a"] @ x["b"]], mode)


def test_matmul_rmatmul_with_arrays(mode, rng):
    a = T.matrix("a")
    m = rand(rng, (2, 3), "float64")
    va = rand(rng, (3, 2), "float64")
    out1, out2 = m @ a, a @ m
    assert isinstance(out1.owner.op, MatMul)
    assert out1.type.shape == (2, None) and out2.type.shape == (None, 3)
    compile_check([a], [out1, out2], [va], [m @ va, va @ m], mode)


def test_matmul_static_shapes():
    def mm(sa, sb):
        return T.matmul(var("float32", sa), var("float32", sb)).type.shape

    assert mm((2, 3), (3, 4)) == (2, 4)
    assert mm((None,), (None,)) == ()
    assert mm((1, 2, 3), (5, 3, 4)) == (5, 2, 4)
    assert mm((None, 2, 3), (1, 3, 4)) == (None, 2, 4)
    assert mm((None, 2, 3), (None, 3, 4)) == (None, 2, 4)
    assert mm((7, 1, None, 3), (4, 3, None)) == (7, 4, None, None)
    assert mm((3,), (6, 3, 4)) == (6, 4)
    assert mm((6, 2, 3), (3,)) == (6, 2)


def test_matmul_static_mismatch():
    with pytest.raises(ShapeError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        T.matmul(var("float64", (2, 3)), var("float64", (4, 5)))
    with pytest.raises(ShapeError, match=r"batch dimensions of matmul.*\(2, 2, 3\) and \(3, 3, 4\)"):
        T.matmul(var("float64", (2, 2, 3)), var("float64", (3, 3, 4)))


def test_matmul_runtime_errors(mode):
    a, b = T.tensor3("a"), T.tensor3("b")
    f = sg.function([a, b], a @ b, mode=mode)
    with pytest.raises(ValueError, match=r"\(2, 2, 3\) and \(2, 4, 4\) are not aligned"):
        f(np.ones((2, 2, 3)), np.ones((2, 4, 4)))
    # a batch dimension not declared broadcastable does not broadcast (as in Elemwise)
    with pytest.raises(ValueError, match=r"batch dimension 0 differs between shapes "
                                         r"\(1, 2, 3\) and \(4, 3, 4\)"):
        f(np.ones((1, 2, 3)), np.ones((4, 3, 4)))


def test_matmul_refuses_scalars():
    with pytest.raises(TypeError, match=r"matmul: expected a tensor of at least 1 dimension "
                                        r"as second input, got the scalar"):
        T.matrix() @ 2.0
    with pytest.raises(TypeError, match="first input"):
        T.matmul(T.scalar(), T.vector())


def test_matmul_infer_shape(rng):
    a, b = var("float64", (None, 2, 3), "a"), var("float64", (1, 3, None), "b")
    u = T.vector("u")
    c = var("float64", (None, None, None, None), "c")
    va, vb, vu, vc = (rand(rng, s, "float64") for s in ((5, 2, 3), (1, 3, 4), (3,), (2, 5, 2, 3)))
    check_infer_shape([a @ b, u @ b, a @ u, u @ u, c @ b], [a, b, u, c], [va, vb, vu, vc])


batch_dims = st.lists(st.integers(1, 3), max_size=3)


@settings(max_examples=25, deadline=None)
@given(ba=batch_dims, bb=batch_dims, m=st.integers(1, 3), k=st.integers(0, 3),
       n=st.integers(1, 3), vec_a=st.booleans(), vec_b=st.booleans(),
       seed=st.integers(0, 2**16))
def test_matmul_broadcasting_property(ba, bb, m, k, n, vec_a, vec_b, seed):
    """Batch dims that NumPy broadcasts, declared with their static lengths, match np.matmul."""
    nb = max(len(ba), len(bb))
    ba2, bb2 = [1] * (nb - len(ba)) + ba, [1] * (nb - len(bb)) + bb
    # make the batch shapes broadcast-compatible: where they differ, one side is 1
    bb = [y if x == y or x == 1 else 1 for x, y in zip(ba2, bb2)][nb - len(bb):]
    sa = (k,) if vec_a else tuple(ba) + (m, k)
    sb = (k,) if vec_b else tuple(bb) + (k, n)
    rng = np.random.default_rng(seed)
    xa, xb = rng.standard_normal(sa), rng.standard_normal(sb)
    a, b = var("float64", sa, "a"), var("float64", sb, "b")
    out = a @ b
    want = np.matmul(xa, xb)
    assert out.type.shape == want.shape
    # and with only the broadcastable dims declared, the result is the same
    a2 = var("float64", tuple(1 if d == 1 else None for d in sa))
    b2 = var("float64", tuple(1 if d == 1 else None for d in sb))
    out2 = a2 @ b2
    assert all(s is None or s == w for s, w in zip(out2.type.shape, want.shape))
    f = sg.function([a, b, a2, b2], [out, out2])
    for got in f(xa, xb, xa, xb):
        assert_allclose(got, want)


# ----------------------------------------------------------------------- tensordot

@pytest.mark.parametrize("dtype", ["int32", "float64", "complex64"])
def test_tensordot_values(dtype, mode, rng):
    specs = {"a": (2, 3, 4), "b": (3, 4, 5), "c": (4, 3, 2), "m": (3, 4), "u": (4,), "s": (), "e": (5, 2)}
    v = {k: var(dtype, (None,) * len(s), k) for k, s in specs.items()}
    x = {k: rand(rng, s, dtype) for k, s in specs.items()}
    cases = [("a", "b", 2), ("b", "e", 1), ("a", "b", 0), ("a", "m", 2),
             ("a", "c", [[1, 2], [1, 0]]), ("a", "c", ([-1, -2], [0, 1])),
             ("a", "c", (2, 0)), ("m", "m", [[0, 1], [0, 1]]), ("m", "m", [[0], [0]]),
             ("m", "u", [[1], [0]]), ("u", "m", [[0], [1]]), ("u", "u", 1), ("s", "m", 0),
             ("a", "b", [[], []])]
    outs = [T.tensordot(v[p], v[q], axes) for p, q, axes in cases]
    names = list(specs)
    compile_check([v[k] for k in names], outs, [x[k] for k in names],
                  [np.tensordot(x[p], x[q], axes) for p, q, axes in cases], mode)


def test_tensordot_ops_and_static_shapes():
    a, m = var("float64", (2, None, 4)), var("float64", (3, 4))
    out = T.tensordot(a, m, [[2, 1], [1, 0]])
    assert isinstance(out.owner.op, TensorDot)
    assert out.owner.op == TensorDot(((2, 1), (1, 0)))
    assert out.type.shape == (2,)
    assert T.tensordot(a, m, 0).type.shape == (2, None, 4, 3, 4)
    assert T.tensordot(a, var("float64", (4, 5)), [[-1], [0]]).type.shape == (2, None, 5)
    # single-axis vector/matrix contractions become Dot (transposed as needed)
    d = T.tensordot(m, var("float64", (3, 5)), [[0], [0]])
    assert isinstance(d.owner.op, Dot) and d.type.shape == (4, 5)


def test_tensordot_bad_axes():
    a, m = T.tensor3(), T.matrix()
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        T.tensordot(a, m, 3)
    with pytest.raises(ValueError, match="axis 3 is out of bounds for the first input"):
        T.tensordot(a, m, [[3], [0]])
    with pytest.raises(ValueError, match="same length"):
        T.tensordot(a, m, [[0, 1], [0]])
    with pytest.raises(ValueError, match="repeated axis"):
        T.tensordot(a, m, [[0, 0], [0, 1]])
    with pytest.raises(TypeError, match="axes must be"):
        T.tensordot(a, m, "x")
    with pytest.raises(TypeError, match="at least 3 dimensions as second input"):
        TensorDot(((0,), (2,)))(a, m)
    with pytest.raises(ShapeError, match=r"\(2, 3\) and \(2, 3\).*dimension 1 of the first \(3\) "
                                         r"!= dimension 0 of the second \(2\)"):
        T.tensordot(var("float64", (2, 3)), var("float64", (2, 3)), [[1, 0], [0, 1]])


def test_tensordot_runtime_mismatch_and_infer_shape(mode, rng):
    a, b = T.tensor3("a"), T.tensor3("b")
    out = T.tensordot(a, b, [[1, 2], [0, 1]])
    va, vb = rand(rng, (2, 3, 4), "float64"), rand(rng, (3, 4, 5), "float64")
    check_infer_shape([out, T.tensordot(a, b, 0)], [a, b], [va, vb])
    f = sg.function([a, b], out, mode=mode)
    with pytest.raises(ValueError, match=r"\(2, 3, 4\) and \(3, 5, 5\).*dimension 2 of the first"):
        f(va, np.ones((3, 5, 5)))


# ----------------------------------------------------------------------- batched_dot

@pytest.mark.parametrize("dtype", ["int64", "float32", "complex128"])
def test_batched_dot_values(dtype, mode, rng):
    specs = {"a": (4, 2, 3), "b": (4, 3, 5), "p": (4, 3), "q": (4, 5), "h": (4, 6, 5, 2), "k": (4, 3, 2, 7)}
    v = {k: var(dtype, (None,) * len(s), k) for k, s in specs.items()}
    x = {k: rand(rng, s, dtype) for k, s in specs.items()}
    pairs = [("a", "b"), ("p", "p"), ("a", "p"), ("p", "b"), ("q", "h"), ("h", "k"), ("b", "q")]
    outs = [T.batched_dot(v[p], v[q]) for p, q in pairs]
    expected = [np.stack([np.dot(x[p][i], x[q][i]) for i in range(4)]) for p, q in pairs]
    for o, e in zip(outs, expected):
        assert o.ndim == e.ndim
    names = list(specs)
    compile_check([v[k] for k in names], outs, [x[k] for k in names], expected, mode)


def test_batched_dot_shapes_and_errors(mode, rng):
    a, b = var("float64", (None, 2, 3), "a"), var("float64", (4, 3, None), "b")
    out = T.batched_dot(a, b)
    assert isinstance(out.owner.op, BatchedDot)
    assert out.type.shape == (4, 2, None)
    assert T.batched_dot(var("float64", (5, 3)), var("float64", (None, 3))).type.shape == (5,)
    va, vb = rand(rng, (4, 2, 3), "float64"), rand(rng, (4, 3, 6), "float64")
    check_infer_shape(out, [a, b], [va, vb])
    with pytest.raises(ShapeError, match=r"batch dimension.*\(5, 3\) and \(4, 3\)"):
        T.batched_dot(var("float64", (5, 3)), var("float64", (4, 3)))
    with pytest.raises(ShapeError, match=r"\(5, 3\) and \(5, 2\)"):
        T.batched_dot(var("float64", (5, 3)), var("float64", (5, 2)))
    with pytest.raises(TypeError, match="at least 2 dimensions"):
        T.batched_dot(T.vector(), T.matrix())
    p, q = T.matrix("p"), T.matrix("q")
    f = sg.function([p, q], T.batched_dot(p, q), mode=mode)
    with pytest.raises(ValueError, match=r"\(3, 2\) and \(4, 2\)"):
        f(np.ones((3, 2)), np.ones((4, 2)))  # the batch dimension does not broadcast
    with pytest.raises(ValueError, match=r"\(1, 2\) and \(3, 2\)"):
        f(np.ones((1, 2)), np.ones((3, 2)))


# ----------------------------------------------------------------------- outer, inner, vdot

@pytest.mark.parametrize("dtype", ["bool", "int32", "float32", "complex128"])
def test_outer_inner_vdot_vectors(dtype, mode, rng):
    s, u, w = var(dtype, ()), var(dtype, (None,)), var(dtype, (None,))
    m, n = var(dtype, (None, None)), var(dtype, (None, None))
    xs, xu, xw = rand(rng, (), dtype), rand(rng, (3,), dtype), rand(rng, (3,), dtype)
    xm, xn = rand(rng, (2, 3), dtype), rand(rng, (4, 3), dtype)
    outs = [T.outer(u, w), T.outer(s, u), T.inner(u, w), T.inner(m, n), T.inner(m, u),
            T.inner(s, m), T.vdot(u, w), T.vdot(s, s)]
    expected = [np.outer(xu, xw), np.outer(xs, xu), np.inner(xu, xw), np.inner(xm, xn),
                np.inner(xm, xu), np.inner(xs, xm), np.vdot(xu, xw), np.vdot(xs, xs)]
    compile_check([s, u, w, m, n], outs, [xs, xu, xw, xm, xn], expected, mode)


def test_outer_vdot_flatten(mode, rng):
    a, b = T.matrix("a"), T.tensor3("b")
    za, zb = T.zmatrix("za"), T.zmatrix("zb")
    xa, xb = rand(rng, (2, 3), "float64"), rand(rng, (2, 1, 3), "float64")
    xza, xzb = rand(rng, (2, 3), "complex128"), rand(rng, (3, 2), "complex128")
    compile_check([a, b, za, zb], [T.outer(a, b), T.vdot(a, b), T.vdot(za, zb)],
                  [xa, xb, xza, xzb],
                  [np.outer(xa, xb), np.vdot(xa, xb), np.vdot(xza, xzb)], mode)


def test_inner_vdot_static_errors():
    with pytest.raises(ShapeError, match=r"\(2, 3\) and \(4,\)"):
        T.inner(var("float64", (2, 3)), var("float64", (4,)))
    with pytest.raises(ShapeError, match=r"vdot.*\(2, 3\) and \(5,\)"):
        T.vdot(var("float64", (2, 3)), var("float64", (5,)))
    assert T.inner(var("float64", (2, 3)), var("float64", (4, 3))).type.shape == (2, 4)
    assert T.outer(var("float64", (2,)), var("float64", (5,))).type.shape == (2, 5)
