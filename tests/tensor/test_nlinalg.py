"""numpy.linalg ops (symgraph/tensor/nlinalg*.py): values against NumPy for real and
complex dtypes and stacked inputs, dtypes and static shapes, infer_shape, errors
(with the hint for a matrix stacked from a Python list), NaN handling, empty
matrices, norms and the composed functions. Gradients: test_nlinalg_grad.py."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph.utils import ShapeError
from symgraph.tensor import nlinalg as N
from symgraph.tensor.linalg_utils import SingularMatrixError, stacked_list_hint
from tests.utils import assert_allclose, check_cases, check_infer_shape

DTYPES = ["float32", "float64", "complex64", "complex128"]


def rand(rng, shape, dtype="float64", shift=0.0):
    """Random values; ``shift`` adds shift * I to each (square) matrix, to keep it
    well conditioned for float32."""
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    if shift:
        x = x + shift * np.eye(shape[-1])
    return np.asarray(x, dtype=dtype)


def free(dtype, ndim, name=None):
    return T.TensorType(dtype, shape=(None,) * ndim)(name)


def assert_columns_up_to_phase(got, want, rtol):
    """Columns (last axis indexes them) equal up to one unit factor each (a sign for
    real, a phase for complex): eigen- and singular vectors are defined up to it."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    c = np.einsum("...ij,...ij->...j", want.conj(), got)        # <want_j, got_j>
    np.testing.assert_allclose(np.abs(c), 1, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(got, want * (c / np.abs(c))[..., None, :], rtol=rtol, atol=rtol)


def _tol(dtype):
    return 2e-3 if dtype in ("float32", "complex64") else 1e-9


@pytest.mark.parametrize("dtype", DTYPES)
def test_values_against_numpy(dtype, mode, rng):
    """Stacked square inputs (2, 3, 3) and one tall (4, 3) matrix, every op in one function."""
    x, y = free(dtype, 3, "x"), free(dtype, 2, "y")
    xv, yv = rand(rng, (2, 3, 3), dtype, shift=3), rand(rng, (4, 3), dtype)
    la = np.linalg
    cases = [
        (N.matrix_inverse(x), la.inv(xv)),
        (N.det(x), la.det(xv)),
        (N.slogdet(x)[0], la.slogdet(xv)[0]),
        (N.slogdet(x)[1], la.slogdet(xv)[1]),
        (N.pinv(y), la.pinv(yv)),
        (N.pinv(x, rcond=0.1), la.pinv(xv, rcond=0.1)),
        (N.matrix_power(x, 0), la.matrix_power(xv, 0)),
        (N.matrix_power(x, 3), la.matrix_power(xv, 3)),
        (N.matrix_power(x, 6), la.matrix_power(xv, 6)),
        (N.matrix_power(x, -2), la.matrix_power(xv, -2)),
        (N.eigvalsh(x), la.eigvalsh(xv)),
        (N.eigvalsh(x, "U"), la.eigvalsh(xv, "U")),
        (N.eigh(x)[0], la.eigh(xv)[0]),
        (N.svd(y, compute_uv=False), la.svd(yv, compute_uv=False)),
        (N.svd(x)[1], la.svd(xv)[1]),
        (N.qr(y, "r"), la.qr(yv, "r")),
        (N.trace(y), np.trace(yv)),
    ]
    tol = _tol(dtype)
    f = sg.function([x, y], [c[0] for c in cases], mode=mode)
    for (out, want), got in zip(cases, f(xv, yv)):
        assert out.dtype == np.asarray(want).dtype, (out, out.dtype)
        assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_decompositions(dtype, mode, rng):
    """Eigen- and singular vectors are compared up to a unit factor per vector, and
    every factorisation must rebuild its input."""
    x, y = free(dtype, 3, "x"), free(dtype, 2, "y")
    xv = rand(rng, (2, 3, 3), dtype, shift=1)
    yv = rand(rng, (4, 3), dtype)
    outs = [*N.eig(x), *N.eigh(x), *N.eigh(x, "U"), *N.svd(y), *N.svd(x, full_matrices=False),
            *N.qr(y), *N.qr(y, "complete"), *N.qr(y.T)]
    got = sg.function([x, y], outs, mode=mode)(xv, yv)
    tol = _tol(dtype)
    cdt = np.result_type(dtype, np.complex64)
    w, v = got[0], got[1]
    assert w.dtype == cdt and v.dtype == cdt
    ww, wv = np.linalg.eig(xv)
    assert_allclose(w, ww.astype(cdt), rtol=tol, atol=tol)
    assert_columns_up_to_phase(v, wv.astype(cdt), tol)
    for (w, v), uplo in ((got[2:4], "L"), (got[4:6], "U")):
        ww, wv = np.linalg.eigh(xv, uplo)
        assert_allclose(w, ww, rtol=tol, atol=tol)
        assert_columns_up_to_phase(v, wv, tol)
    for (u, s, vh), a, full in ((got[6:9], yv, True), (got[9:12], xv, False)):
        uw, sw, vw = np.linalg.svd(a, full_matrices=full)
        assert_allclose(s, sw, rtol=tol, atol=tol)
        k = s.shape[-1]
        assert_columns_up_to_phase(u[..., :k], uw[..., :k], tol)
        assert u.shape == uw.shape and vh.shape == vw.shape
        assert_allclose((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], a, rtol=tol, atol=tol)
    for (q, r), a, mode_ in ((got[12:14], yv, "reduced"), (got[14:16], yv, "complete"),
                             (got[16:18], yv.T, "reduced")):
        qw, rw = np.linalg.qr(a, mode_)
        assert_allclose(q, qw, rtol=tol, atol=tol)
        assert_allclose(r, rw, rtol=tol, atol=tol)
        assert_allclose(q @ r, a, rtol=tol, atol=tol)


def test_real_matrix_with_complex_eigenvalues(mode):
    """NumPy returns complex eigenvalues in conjugate pairs for real input; eig is
    always complex-typed."""
    x = T.dmatrix("x")
    theta = 0.7
    rot = np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0],
                    [0, 0, 2.0]])
    w, v = sg.function([x], N.eig(x), mode=mode)(rot)
    ww, wv = np.linalg.eig(rot)
    assert w.dtype == np.complex128 and np.iscomplexobj(ww)
    assert_allclose(w, ww, rtol=1e-12, atol=1e-12)
    assert_columns_up_to_phase(v, wv, 1e-12)
    assert_allclose(N.eigvals(x).eval({x: np.diag([1.0, 2.0])}), np.array([1, 2], complex))


def test_integer_and_bool_inputs(mode):
    """Integers and bools are computed in float64, except matrix_power with n >= 0,
    which keeps the dtype as NumPy does."""
    i = T.lmatrix("i")
    b = T.tensor("bool", shape=(None, None), name="b")
    iv = np.array([[2, 1], [1, 3]], dtype="int64")
    bv = np.array([[True, False], [True, True]])
    cases = [(N.matrix_inverse(i), np.linalg.inv(iv)), (N.det(i), np.linalg.det(iv)),
             (N.matrix_power(i, 5), np.linalg.matrix_power(iv, 5)),
             (N.matrix_power(i, 0), np.linalg.matrix_power(iv, 0)),
             (N.matrix_power(i, -1), np.linalg.matrix_power(iv, -1)),
             (N.matrix_power(b, 4), np.linalg.matrix_power(bv, 4)),
             (N.eigvalsh(i), np.linalg.eigvalsh(iv)), (N.norm(i), np.linalg.norm(iv)),
             (N.norm(i, 1), np.linalg.norm(iv, 1)), (N.det(b), np.linalg.det(bv))]
    check_cases(mode, [i, b], [iv, bv], cases)


def test_static_types_and_props():
    x = T.tensor("float32", shape=(5, 3, 3))
    y = T.tensor("complex128", shape=(4, 2))
    assert N.matrix_inverse(x).type == x.type
    assert N.det(x).type == T.TensorType("float32", shape=(5,))
    assert [o.type for o in N.slogdet(T.zmatrix())] == [T.TensorType("complex128", ()),
                                                       T.TensorType("float64", ())]
    assert [o.type.shape for o in N.eig(x)] == [(5, 3), (5, 3, 3)]
    assert [o.dtype for o in N.eig(x)] == ["complex64", "complex64"]
    assert [o.dtype for o in N.eigh(T.zmatrix())] == ["float64", "complex128"]
    assert [o.type.shape for o in N.svd(y)] == [(4, 4), (2,), (2, 2)]
    assert [o.type.shape for o in N.svd(y, False)] == [(4, 2), (2,), (2, 2)]
    assert N.svd(y, compute_uv=False).type == T.TensorType("float64", (2,))
    assert [o.type.shape for o in N.qr(y)] == [(4, 2), (2, 2)]
    assert [o.type.shape for o in N.qr(y, "complete")] == [(4, 4), (4, 2)]
    assert N.qr(y, "r").type.shape == (2, 2)
    assert N.pinv(y).type.shape == (2, 4)
    assert N.matrix_power(T.imatrix(), 2).dtype == "int32"
    assert N.matrix_power(T.imatrix(), -2).dtype == "float64"
    assert N.eigh(x, "U")[0].owner.op == N.Eigh("U") != N.Eigh("L")
    assert N.MatrixPower(2) == N.MatrixPower(2) != N.MatrixPower(3)
    assert N.SVD(True, False) != N.SVD(True, True) and N.QR("r") != N.QR("reduced")
    assert T.det is N.det and T.nlinalg is N and N.inv is N.matrix_inverse
    assert T.inv is not N.inv  # T.inv stays Theano's elementwise reciprocal


def test_build_time_errors():
    with pytest.raises(TypeError, match=r"matrix_inverse: expected a tensor of at least 2 "
                                        r"dimensions .* got v .* 1 dimension"):
        N.matrix_inverse(T.dvector("v"))
    with pytest.raises(ShapeError, match=r"det: expected square matrices .* static shape "
                                         r"\(2, 3\)"):
        N.det(T.matrix(shape=(2, 3)))
    with pytest.raises(ShapeError, match=r"eigh: expected square .* \(\?, 4, 3\)"):
        N.eigh(T.tensor3(shape=(None, 4, 3)))
    with pytest.raises(ValueError, match="UPLO must be 'L' or 'U', got 'X'"):
        N.eigvalsh(T.dmatrix(), "X")
    with pytest.raises(ValueError, match="qr: mode must be one of .* got 'raw'"):
        N.qr(T.dmatrix(), "raw")
    with pytest.raises(TypeError, match="exponent must be a Python integer, got 1.5"):
        N.matrix_power(T.dmatrix(), 1.5)
    with pytest.raises(ValueError, match="invalid norm order 'fro' for vectors"):
        N.norm(T.dmatrix(), "fro", axis=1)
    with pytest.raises(ValueError, match="invalid norm order 3 for matrices"):
        N.norm(T.dmatrix(), 3)
    with pytest.raises(ValueError, match="improper number of dimensions"):
        N.norm(T.dtensor3(), 1)
    with pytest.raises(ValueError, match="duplicate axes"):
        N.norm(T.dmatrix(), axis=(1, -1))
    with pytest.raises(ShapeError, match="tensorinv: the first 2 axes .* 6 elements .* 4"):
        N.tensorinv(T.dtensor4(shape=(2, 3, 2, 2)))


def test_runtime_errors(mode):
    x = T.dtensor3("x")
    f = sg.function([x], N.matrix_inverse(x), mode=mode)
    with pytest.raises(np.linalg.LinAlgError,
                       match=r"matrix_inverse: expected square matrices .* shape \(2, 3, 4\)"):
        f(np.ones((2, 3, 4)))
    a = np.stack([np.eye(2), [[1.0, 2.0], [2.0, 4.0]]])
    with pytest.raises(SingularMatrixError,
                       match=r"the matrix at batch index \(1,\) is singular .* input of shape "
                             r"\(2, 2, 2\)") as info:
        f(a)
    assert "Python list" not in str(info.value)


def test_singular_matrix_from_hessian_list(mode):
    """USE_CASES 5: hessian(cost, wrt=[w]) returns a list; matrix_inverse stacks it into
    (1, n, n). The error for a singular Hessian says so and points at the user's line."""
    w = T.TensorType("float64", shape=(3,))("w")
    cost = w.sum() ** 2                       # Hessian: all twos, singular
    h = sg.hessian(cost, wrt=[w])
    assert isinstance(h, list)
    hinv = N.matrix_inverse(h)  # the line the error must show
    assert hinv.type.shape == (1, 3, 3)
    assert "Python list of 1 variable(s)" in stacked_list_hint(T.as_tensor_variable(h))
    f = sg.function([w], hinv, mode=mode)
    with pytest.raises(SingularMatrixError) as info:
        f(np.ones(3))
    msg = str(info.value)
    assert "matrix_inverse: the matrix at batch index (0,) is singular" in msg
    assert "input of shape (1, 3, 3)" in msg
    assert ("the input was built from a Python list of 1 variable(s)" in msg
            and "(e.g. the list that hessian(cost, wrt=[w]) returns)" in msg
            and "if you meant one matrix, use its element, e.g. hessian(...)[0]" in msg)
    assert "hinv = N.matrix_inverse(h)  # the line the error must show" in msg
    # the element itself: same singular matrix, no hint
    f2 = sg.function([w], N.matrix_inverse(h[0]), mode=mode)
    with pytest.raises(SingularMatrixError) as info:
        f2(np.ones(3))
    assert "Python list" not in str(info.value) and "shape (3, 3)" in str(info.value)


def test_hint_at_build_time():
    a, b = T.dmatrix("a"), T.dmatrix("b")
    with pytest.raises(ShapeError, match="Python list of 2 variable"):
        N.det([T.matrix(shape=(2, 3)), T.matrix(shape=(2, 3))])
    assert stacked_list_hint(T.as_tensor_variable([a, b])).startswith(
        "note: the input was built from a Python list of 2 variable(s)")
    assert stacked_list_hint(T.cast(T.as_tensor_variable([T.lmatrix()]), "float64")) != ""
    assert stacked_list_hint(a) == "" and stacked_list_hint(T.stack([a, b])) == ""
    # the hint lives on the op (not a prop): equal ops, same kernels
    op = N.matrix_inverse([a]).owner.op
    assert op.hint and op == N.matrix_inverse and hash(op) == hash(N.matrix_inverse)
    assert not N.matrix_inverse.hint


def test_non_finite_matrices_give_nan(mode):
    x = T.dtensor3("x")
    outs = [N.matrix_inverse(x), N.det(x), *N.slogdet(x), *N.eigh(x), N.pinv(x),
            N.svd(x, compute_uv=False), *N.qr(x), N.eig(x)[0], N.matrix_power(x, -1)]
    xv = np.stack([np.eye(2) * 2, [[np.nan, 1.0], [1.0, 1.0]], [[np.inf, 0], [0, 1.0]]])
    got = sg.function([x], outs, mode=mode)(xv)
    for o, g in zip(outs, got):
        assert np.isnan(g[1:]).all(), o
        assert np.isfinite(g[0]).all(), o
    assert_allclose(got[0][0], np.eye(2) / 2)


def test_empty_matrices(mode):
    x, y = T.dtensor3("x"), T.dmatrix("y")
    outs = [N.matrix_inverse(x), N.det(x), *N.slogdet(x), *N.eigh(x), *N.eig(x),
            N.matrix_power(x, 3), *N.svd(y), *N.svd(y, False), *N.qr(y), *N.qr(y, "complete"),
            N.pinv(y)]
    f = sg.function([x, y], outs, mode=mode)
    la = np.linalg
    for yv in (np.zeros((0, 3)), np.zeros((3, 0))):
        xv = np.zeros((2, 0, 0))
        want = [la.inv(xv), la.det(xv), *la.slogdet(xv), *la.eigh(xv), *la.eig(xv),
                la.matrix_power(xv, 3), *la.svd(yv), *la.svd(yv, False), *la.qr(yv),
                *la.qr(yv, "complete"), la.pinv(yv)]
        for o, g, w in zip(outs, f(xv, yv), want):
            assert_allclose(g, np.asarray(w, dtype=o.dtype))


def test_infer_shape(rng):
    x, y = T.dtensor3("x"), T.zmatrix("y")
    xv, yv = rand(rng, (2, 3, 3), shift=2), rand(rng, (4, 3), "complex128")
    for outs in ([N.matrix_inverse(x)], [N.det(x)], N.slogdet(x), [N.pinv(y)],
                 [N.matrix_power(x, 3)], N.eig(x), N.eigh(x), [N.eigvalsh(x)], N.svd(y),
                 N.svd(y, False), [N.svd(y, compute_uv=False)], N.qr(y), N.qr(y, "complete"),
                 [N.qr(y, "r")]):
        check_infer_shape(list(outs), [x, y], [xv, yv])


@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_norm(dtype, mode, rng):
    v, m, t = free(dtype, 1, "v"), free(dtype, 2, "m"), free(dtype, 3, "t")
    vv, mv, tv = rand(rng, (5,), dtype), rand(rng, (3, 4), dtype), rand(rng, (2, 3, 4), dtype)
    vv[1] = 0
    cases = []

    def nrm(*args, **kwargs):
        with np.errstate(divide="ignore"):
            return np.linalg.norm(*args, **kwargs)

    for o in (None, 2, 1, np.inf, -np.inf, 0, 3, -1.5, 0.5):
        cases.append((N.norm(v, o), nrm(vv, o)))
    for o in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        cases.append((N.norm(m, o), nrm(mv, o)))
        cases.append((N.norm(t, o, axis=(2, 0)), nrm(tv, o, axis=(2, 0))))
        cases.append((N.norm(t, o, axis=(-2, -1), keepdims=True),
                      nrm(tv, o, axis=(-2, -1), keepdims=True)))
    cases += [(N.norm(t), nrm(tv)), (N.norm(t, keepdims=True), nrm(tv, keepdims=True)),
              (N.norm(t, axis=1), nrm(tv, axis=1)), (N.norm(t, 1, 0, True), nrm(tv, 1, 0, True)),
              (N.norm(m, np.inf, axis=1), nrm(mv, np.inf, axis=1)),
              (N.norm(v, 2, keepdims=True), nrm(vv, 2, keepdims=True))]
    tol = _tol(dtype)
    f = sg.function([v, m, t], [c[0] for c in cases], mode=mode)
    for (out, want), got in zip(cases, f(vv, mv, tv)):
        assert out.dtype == np.asarray(want).dtype, (out, out.dtype, np.asarray(want).dtype)
        assert_allclose(got, want, rtol=tol, atol=tol)


def test_trace_kron_matrix_dot_tensor_functions(mode, rng):
    m, z, t, v = T.dmatrix("m"), T.zmatrix("z"), T.dtensor3("t"), T.dvector("v")
    i3 = T.ltensor3("i3")
    mv, zv = rand(rng, (2, 3)), rand(rng, (3, 3), "complex128")
    tv, vv = rand(rng, (2, 3, 4)), rand(rng, (4,))
    iv = rng.integers(-3, 4, (2, 2, 3))
    a4 = rand(rng, (6, 6), shift=3).reshape(2, 3, 2, 3)
    a, b = T.dtensor4("a"), T.dvector("b")
    bv = rand(rng, (6,))
    cases = [
        (N.trace(m), np.trace(mv)), (N.trace(z, 1), np.trace(zv, 1)),
        (N.trace(t, -1, 1, 2), np.trace(tv, -1, 1, 2)), (N.trace(i3), np.trace(iv)),
        (N.trace(t, axis1=-2, axis2=-1), np.linalg.trace(tv)),
        (N.kron(m, z), np.kron(mv, zv)), (N.kron(v, m), np.kron(vv, mv)),
        (N.kron(t, v), np.kron(tv, vv)), (N.kron(i3, m), np.kron(iv, mv)),
        (N.kron(m, 2.0), np.kron(mv, 2.0)),
        (N.matrix_dot(m, z, z), mv @ zv @ zv), (N.matrix_dot(v), vv),
        (N.tensorinv(a), np.linalg.tensorinv(a4)),
        (N.tensorinv(a.reshape((6, 2, 3)), 1), np.linalg.tensorinv(a4.reshape(6, 2, 3), 1)),
        (N.tensorsolve(a, b.reshape((2, 3))), np.linalg.tensorsolve(a4, bv.reshape(2, 3))),
        (N.tensorsolve(a, b.reshape((3, 2)), axes=(0,)),
         np.linalg.tensorsolve(a4, bv.reshape(3, 2), axes=(0,))),
    ]
    check_cases(mode, [m, z, t, v, i3, a, b], [mv, zv, tv, vv, iv, a4, bv],
                [(o, np.asarray(w)) for o, w in cases])
