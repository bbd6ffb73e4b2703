"""SciPy's linear algebra (scipy.linalg) as ops: factorizations, solvers, expm.

Every op takes stacks of matrices (leading batch axes broadcast, see
slinalg_base.py), real or complex, float32 or float64 (integers are computed
in floating point, as SciPy does). Like LAPACK, the ops for symmetric,
Hermitian or triangular matrices read only the triangle they are told to, and
their gradients are those of the function actually computed: nothing flows to
the triangle that is never read. For a matrix built symmetric (``a = x @ x.T``)
the chain rule gives the same result as a symmetrized gradient would.

Gradients of a real cost C with respect to complex inputs follow symgraph's
convention dC/dRe(z) + i dC/dIm(z), so ``z - lr * g`` descends.

This module holds Cholesky, the solvers (Solve, SolveTriangular, CholeskySolve,
SolveContinuousLyapunov) and BlockDiagonal; the LU family lives in slinalg_lu.py
and the matrix exponential in expm.py. All of them are importable from here.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Apply
from symgraph.graph.op import Op
from symgraph.graph.utils import ShapeError
from symgraph.tensor.basic import as_tensor_variable, constant
from symgraph.tensor.slinalg_base import (
    as_float, batch_dims, batch_loop, broadcast_core, check_ndim, check_square, col,
    common_dtype, conj, describe, diag_part, dim, mH, mm, mT, out_type, runtime_batch,
    runtime_match, runtime_square, square_matrix, static_batch, static_match, sum_to_batch,
    sym_from_triangle, sym_from_triangle_adjoint, tril, triu, uncol, where,
)
from symgraph.lazy import lazy_module

sla = lazy_module("scipy.linalg")  # imported on first use: see symgraph/lazy.py

LinAlgError = np.linalg.LinAlgError


def _hinted(op, a):
    """``op`` carrying the stacked-list hint for ``a`` (see linalg_utils), computed when
    the node is built, for its run-time errors."""
    from symgraph.tensor.linalg_utils import stacked_list_hint, with_hint
    return with_hint(op, stacked_list_hint(a))


def _hint_text(op):
    hint = getattr(op, "hint", "")
    return f"; {hint}" if hint else ""


def _b_ndim(b, b_ndim, who):
    """PyTensor's rule: b is a (stack of) vector(s) only when 1-d, unless told."""
    if b_ndim is None:
        return 1 if as_tensor_variable(b).ndim == 1 else 2
    if b_ndim not in (1, 2):
        raise ValueError(f"{who}: b_ndim must be 1 (b holds vectors) or 2 (matrices), "
                         f"got {b_ndim!r}")
    return b_ndim


def _solver_inputs(who, a, b, b_ndim):
    """Type checks shared by the solvers: a (..., n, n), b (..., n) or (..., n, k)."""
    a = as_float(a, who, "a")
    b = as_float(b, who, "b")
    a, b = common_dtype(who, a, b)
    check_ndim(who, a, "a", 2)
    if b.ndim < b_ndim:
        raise TypeError(f"{who}: expected b with at least {b_ndim} dimension"
                        f"{'s' if b_ndim > 1 else ''} (b_ndim={b_ndim}), got {describe(b)}")
    check_square(who, a)
    static_match(who, a, -1, b, b.ndim - b_ndim)
    batch = static_batch(who, [(a, 2), (b, b_ndim)])
    n = a.type.shape[-1] if a.type.shape[-1] is not None else b.type.shape[b.ndim - b_ndim]
    if n is None:
        n = a.type.shape[-2]
    core = (n,) + ((b.type.shape[-1],) if b_ndim == 2 else ())
    return a, b, batch + core


class _Solver(Op):
    """Common part of the ops computing x from (matrix input, b)."""

    _who = ""
    b_ndim = 2

    def _check_run(self, node, a, b):
        who = self._who
        runtime_square(who, a, "a")
        runtime_match(who, a, -1, b, b.ndim - self.b_ndim)
        batch = runtime_batch(who, node, [a, b], [2, self.b_ndim])
        return batch, broadcast_core(a, batch, 2), broadcast_core(b, batch, self.b_ndim)

    def _solve_all(self, node, inputs, output_storage, solve_one):
        a, b = inputs
        batch, A, B = self._check_run(node, a, b)
        res = np.empty(batch + B.shape[len(batch):], dtype=node.outputs[0].type.numpy_dtype)
        for idx in batch_loop(batch):
            res[idx] = solve_one(A[idx], B[idx], idx)
        output_storage[0][0] = res

    def infer_shape(self, fgraph, node, input_shapes):
        a, b = node.inputs
        sa, sb = input_shapes
        nb = node.outputs[0].ndim - self.b_ndim
        dims = batch_dims(node, input_shapes, [2, self.b_ndim], nb)
        core = [dim(a, sa, a.ndim - 1)]
        if self.b_ndim == 2:
            core.append(dim(b, sb, b.ndim - 1))
        return [tuple(dims + core)]

    # gradient plumbing: work on matrices (vectors as one-column matrices)
    def _as_mat(self, v):
        return col(v) if self.b_ndim == 1 else v

    def _from_mat(self, v):
        return uncol(v) if self.b_ndim == 1 else v


# ----------------------------------------------------------------------- Cholesky

class Cholesky(Op):
    """``Cholesky(lower)(a)``: L with a = L Lᴴ (lower) or U with a = Uᴴ U (upper).

    Only the triangle named by ``lower`` is read, and only the real part of the
    diagonal (LAPACK's potrf). A matrix that is not positive definite raises
    LinAlgError naming the failing leading minor.
    """

    __props__ = ("lower",)

    def __init__(self, lower=True):
        self.lower = bool(lower)

    def make_node(self, a):
        a = as_tensor_variable(a)
        op = _hinted(self, a)
        try:
            a = square_matrix(a, "cholesky")
        except ShapeError as e:
            raise ShapeError(f"{e}{_hint_text(op)}") from None
        return Apply(op, [a], [out_type(a.dtype, a.type.shape)])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        runtime_square("cholesky", a)
        res = np.empty(a.shape, dtype=node.outputs[0].type.numpy_dtype)
        for idx in batch_loop(a.shape[:-2]):
            try:
                res[idx] = sla.cholesky(a[idx], lower=self.lower)
            except LinAlgError as e:
                raise LinAlgError(
                    f"cholesky: the matrix{where(idx)} of shape {a.shape[-2:]} is not "
                    f"positive definite ({e}); only its "
                    f"{'lower' if self.lower else 'upper'} triangle is read"
                    f"{_hint_text(self)}") from None
        output_storage[0][0] = res

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]

    def _as_lower(self, x):
        return x if self.lower else mH(x)

    def L_op(self, inputs, outputs, output_grads):
        """With L = chol(a), M = Lᴴ Ḡ and Φ(M) = tril(M) - diag(M)/2,
        S = L⁻ᴴ Φ(M) L⁻¹; the gradient is S mapped back to the triangle read:
        tril(S + Sᴴ, -1) + Re diag(S) (Murray 2016, with conjugate transposes)."""
        L = self._as_lower(outputs[0])
        G = self._as_lower(output_grads[0])
        M = mm(mH(L), G)
        phi = tril(M) - 0.5 * diag_part(M)
        lower_solve_h = SolveTriangular(lower=True, trans=2, b_ndim=2)
        Y = lower_solve_h(L, phi)                # L⁻ᴴ Φ
        S = mH(lower_solve_h(L, mH(Y)))          # (L⁻ᴴ Yᴴ)ᴴ = Y L⁻¹
        g = sym_from_triangle_adjoint(S, lower=True, hermitian=True)
        return [self._as_lower(g)]

    def R_op(self, inputs, eval_points):
        """dL = L Φ(L⁻¹ dA L⁻ᴴ), with dA the Hermitian matrix of the triangle read."""
        (ev,) = eval_points
        if ev is None:
            return [None]
        L = self._as_lower(self(inputs[0]))
        dA = sym_from_triangle(ev, self.lower, hermitian=True)
        lower_solve = SolveTriangular(lower=True, b_ndim=2)
        P = mH(lower_solve(L, mH(lower_solve(L, dA))))     # L⁻¹ dA L⁻ᴴ
        dL = mm(L, tril(P) - 0.5 * diag_part(P))
        return [self._as_lower(dL)]


def cholesky(a, lower=True):
    """The Cholesky factor of a Hermitian positive definite matrix (or stack).

    ``lower=True`` (PyTensor's default; SciPy's is False) gives L with a = L Lᴴ,
    ``lower=False`` gives U with a = Uᴴ U. Only that triangle of ``a`` is read.
    """
    return Cholesky(lower)(a)


# ----------------------------------------------------------------------- Solve

_ASSUME = {"gen": "gen", "general": "gen", "sym": "sym", "symmetric": "sym",
           "her": "her", "hermitian": "her", "pos": "pos", "positive definite": "pos"}


class Solve(_Solver):
    """``Solve(assume_a, lower, b_ndim)(a, b)``: x with a x = b (scipy.linalg.solve).

    assume_a: 'gen' (LU), 'sym' (complex symmetric: aᵀ = a), 'her' (aᴴ = a) or
    'pos' (Hermitian positive definite); except for 'gen' only the ``lower`` (or
    upper) triangle of ``a`` is read. ``b_ndim`` 1: b holds vectors (..., n);
    2: matrices (..., n, k).
    """

    __props__ = ("assume_a", "lower", "b_ndim")
    _who = "solve"

    def __init__(self, assume_a="gen", lower=False, b_ndim=2):
        if assume_a not in _ASSUME:
            raise ValueError(f"solve: assume_a must be one of 'gen', 'sym', 'her', 'pos', got "
                             f"{assume_a!r}")
        self.assume_a = _ASSUME[assume_a]
        self.lower = bool(lower)
        self.b_ndim = _b_ndim(None, b_ndim, "solve")

    def make_node(self, a, b):
        a = as_tensor_variable(a)
        op = _hinted(self, a)
        try:
            a, b, shape = _solver_inputs("solve", a, b, self.b_ndim)
        except ShapeError as e:
            raise ShapeError(f"{e}{_hint_text(op)}") from None
        return Apply(op, [a, b], [out_type(a.dtype, shape)])

    def perform(self, node, inputs, output_storage):
        def one(a, b, idx):
            try:
                return sla.solve(a, b, assume_a=self.assume_a, lower=self.lower)
            except LinAlgError:
                what = "singular" if self.assume_a != "pos" else \
                    "singular or not positive definite"
                raise LinAlgError(
                    f"solve: the matrix a{where(idx)} of shape {a.shape} is {what} "
                    f"(assume_a={self.assume_a!r}): the system has no unique solution"
                    f"{_hint_text(self)}") from None
        self._solve_all(node, inputs, output_storage, one)

    @property
    def _hermitian(self):
        return self.assume_a in ("her", "pos")

    def _effective(self, a):
        """The matrix the solver sees (one triangle mirrored, except for 'gen')."""
        if self.assume_a == "gen":
            return a
        return sym_from_triangle(a, self.lower, self._hermitian)

    def _adjoint_solve(self, a, g):
        """A⁻ᴴ g for the effective matrix A of ``a``."""
        if self.assume_a == "gen":
            return Solve("gen", b_ndim=2)(mH(a), g)
        if self.assume_a == "sym":                    # Aᴴ = conj(A)
            return Solve("sym", self.lower, 2)(conj(a), g)
        return Solve(self.assume_a, self.lower, 2)(a, g)   # Hermitian: Aᴴ = A

    def L_op(self, inputs, outputs, output_grads):
        """ḡ_b = A⁻ᴴ ḡ_x and ḡ_A = -ḡ_b xᴴ, folded onto the triangle read."""
        a, b = inputs
        x, g = self._as_mat(outputs[0]), self._as_mat(output_grads[0])
        gb = self._adjoint_solve(a, g)
        ga = -mm(gb, mH(x))
        if self.assume_a != "gen":
            ga = sym_from_triangle_adjoint(ga, self.lower, self._hermitian)
        return [sum_to_batch(ga, a), sum_to_batch(self._from_mat(gb), b)]

    def R_op(self, inputs, eval_points):
        """dx = A⁻¹ (db - dA x)."""
        a, b = inputs
        da, db = eval_points
        if da is None and db is None:
            return [None]
        x = self._as_mat(self(a, b))
        rhs = self._as_mat(db) if db is not None else None
        if da is not None:
            t = -mm(self._effective(da), x)
            rhs = t if rhs is None else rhs + t
        return [self._from_mat(Solve(self.assume_a, self.lower, 2)(a, rhs))]


def solve(a, b, assume_a="gen", lower=False, b_ndim=None):
    """x with a x = b, as scipy.linalg.solve (stacks of matrices broadcast).

    b is a (stack of) vector(s) when 1-d or when ``b_ndim=1``, else a (stack of)
    matrices. A singular ``a`` raises LinAlgError naming its shape.
    """
    b_ndim = _b_ndim(b, b_ndim, "solve")
    return Solve(assume_a, lower, b_ndim)(a, b)


# ----------------------------------------------------------------------- SolveTriangular

_TRANS = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2}


class SolveTriangular(_Solver):
    """``SolveTriangular(lower, trans, unit_diagonal, b_ndim)(a, b)``:
    scipy.linalg.solve_triangular. Only the ``lower`` (or upper) triangle of ``a``
    is read, without its diagonal when ``unit_diagonal`` (taken as ones); trans
    0/'N' solves a x = b, 1/'T' aᵀ x = b, 2/'C' aᴴ x = b. A zero on the diagonal
    raises LinAlgError."""

    __props__ = ("lower", "trans", "unit_diagonal", "b_ndim")
    _who = "solve_triangular"

    def __init__(self, lower=False, trans=0, unit_diagonal=False, b_ndim=2):
        if trans not in _TRANS:
            raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got "
                             f"{trans!r}")
        self.lower = bool(lower)
        self.trans = _TRANS[trans]
        self.unit_diagonal = bool(unit_diagonal)
        self.b_ndim = _b_ndim(None, b_ndim, "solve_triangular")

    def make_node(self, a, b):
        a, b, shape = _solver_inputs("solve_triangular", a, b, self.b_ndim)
        return Apply(self, [a, b], [out_type(a.dtype, shape)])

    def perform(self, node, inputs, output_storage):
        def one(a, b, idx):
            try:
                return sla.solve_triangular(a, b, trans=self.trans, lower=self.lower,
                                            unit_diagonal=self.unit_diagonal)
            except LinAlgError as e:
                raise LinAlgError(f"solve_triangular: the matrix a{where(idx)} of shape "
                                  f"{a.shape} is singular ({e})") from None
        self._solve_all(node, inputs, output_storage, one)

    def _mask(self, x):
        k = -1 if self.unit_diagonal else 0
        return tril(x, k) if self.lower else triu(x, -k)

    def _op(self, x):
        return (x, mT(x), mH(x))[self.trans]

    def L_op(self, inputs, outputs, output_grads):
        """ḡ_b = op(A)⁻ᴴ ḡ_x, ḡ_op(A) = -ḡ_b xᴴ, masked to the triangle read."""
        a, b = inputs
        x, g = self._as_mat(outputs[0]), self._as_mat(output_grads[0])
        same = dict(lower=self.lower, unit_diagonal=self.unit_diagonal, b_ndim=2)
        if self.trans == 0:
            gb = SolveTriangular(trans=2, **same)(a, g)
        elif self.trans == 1:                       # (Aᵀ)⁻ᴴ = conj(A)⁻¹
            gb = SolveTriangular(trans=0, **same)(conj(a), g)
        else:                                       # (Aᴴ)⁻ᴴ = A⁻¹
            gb = SolveTriangular(trans=0, **same)(a, g)
        gop = -mm(gb, mH(x))
        ga = self._mask(self._op(gop) if self.trans != 2 else mH(gop))
        return [sum_to_batch(ga, a), sum_to_batch(self._from_mat(gb), b)]

    def R_op(self, inputs, eval_points):
        """dx = op(A)⁻¹ (db - op(dA) x), dA masked to the triangle read."""
        a, b = inputs
        da, db = eval_points
        if da is None and db is None:
            return [None]
        x = self._as_mat(self(a, b))
        rhs = self._as_mat(db) if db is not None else None
        if da is not None:
            t = -mm(self._op(self._mask(da)), x)
            rhs = t if rhs is None else rhs + t
        op2 = SolveTriangular(self.lower, self.trans, self.unit_diagonal, 2)
        return [self._from_mat(op2(a, rhs))]


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, b_ndim=None):
    """x with op(a) x = b for triangular ``a`` (scipy.linalg.solve_triangular; note
    SciPy's default ``lower=False``)."""
    b_ndim = _b_ndim(b, b_ndim, "solve_triangular")
    return SolveTriangular(lower, trans, unit_diagonal, b_ndim)(a, b)


# ----------------------------------------------------------------------- CholeskySolve

class CholeskySolve(_Solver):
    """``CholeskySolve(lower, b_ndim)(c, b)``: x with (c cᴴ) x = b for a lower Cholesky
    factor c (cᴴ c for an upper one), as scipy.linalg.cho_solve((c, lower), b).
    Only the triangle of c named by ``lower`` is read."""

    __props__ = ("lower", "b_ndim")
    _who = "cho_solve"

    def __init__(self, lower=False, b_ndim=2):
        self.lower = bool(lower)
        self.b_ndim = _b_ndim(None, b_ndim, "cho_solve")

    def make_node(self, c, b):
        c, b, shape = _solver_inputs("cho_solve", c, b, self.b_ndim)
        return Apply(self, [c, b], [out_type(c.dtype, shape)])

    def perform(self, node, inputs, output_storage):
        def one(c, b, idx):
            return sla.cho_solve((c, self.lower), b)
        self._solve_all(node, inputs, output_storage, one)

    def _factor(self, c):
        return tril(c) if self.lower else triu(c)

    def L_op(self, inputs, outputs, output_grads):
        """A = L Lᴴ is Hermitian: ḡ_b = A⁻¹ ḡ_x, ḡ_A = -ḡ_b xᴴ, and through the
        factor ḡ_L = (ḡ_A + ḡ_Aᴴ) L (ḡ_U = U (ḡ_A + ḡ_Aᴴ) for A = Uᴴ U)."""
        c, b = inputs
        x, g = self._as_mat(outputs[0]), self._as_mat(output_grads[0])
        gb = CholeskySolve(self.lower, 2)(c, g)
        ga = -mm(gb, mH(x))
        sym = ga + mH(ga)
        F = self._factor(c)
        gc = tril(mm(sym, F)) if self.lower else triu(mm(F, sym))
        return [sum_to_batch(gc, c), sum_to_batch(self._from_mat(gb), b)]

    def R_op(self, inputs, eval_points):
        """dx = A⁻¹ (db - dA x) with dA = dL Lᴴ + L dLᴴ."""
        c, b = inputs
        dc, db = eval_points
        if dc is None and db is None:
            return [None]
        x = self._as_mat(self(c, b))
        rhs = self._as_mat(db) if db is not None else None
        if dc is not None:
            F, dF = self._factor(c), self._factor(dc)
            dA = mm(dF, mH(F)) + mm(F, mH(dF)) if self.lower else \
                mm(mH(dF), F) + mm(mH(F), dF)
            t = -mm(dA, x)
            rhs = t if rhs is None else rhs + t
        return [self._from_mat(CholeskySolve(self.lower, 2)(c, rhs))]


def cho_solve(c_and_lower, b, b_ndim=None):
    """x with a x = b given the Cholesky factor: ``cho_solve((c, lower), b)`` as in SciPy."""
    try:
        c, lower = c_and_lower
    except (TypeError, ValueError):
        raise TypeError("cho_solve: the first argument must be the pair (c, lower), got "
                        f"{c_and_lower!r}") from None
    b_ndim = _b_ndim(b, b_ndim, "cho_solve")
    return CholeskySolve(lower, b_ndim)(c, b)


# ----------------------------------------------------------------------- Lyapunov

class SolveContinuousLyapunov(Op):
    """``SolveContinuousLyapunov()(a, q)``: x with a x + x aᴴ = q
    (scipy.linalg.solve_continuous_lyapunov, Bartels–Stewart)."""

    __props__ = ()

    def make_node(self, a, q):
        who = "solve_continuous_lyapunov"
        a, q = common_dtype(who, as_float(a, who, "a"), as_float(q, who, "q"))
        for v, what in ((a, "a"), (q, "q")):
            check_ndim(who, v, what, 2)
            check_square(who, v, what)
        static_match(who, a, -1, q, -1, "a", "q")
        batch = static_batch(who, [(a, 2), (q, 2)])
        n = next((s for s in (a.type.shape[-1], q.type.shape[-1], a.type.shape[-2],
                              q.type.shape[-2]) if s is not None), None)
        return Apply(self, [a, q], [out_type(a.dtype, batch + (n, n))])

    def perform(self, node, inputs, output_storage):
        who = "solve_continuous_lyapunov"
        a, q = inputs
        runtime_square(who, a, "a")
        runtime_square(who, q, "q")
        runtime_match(who, a, -1, q, -1, "a", "q")
        batch = runtime_batch(who, node, [a, q], [2, 2])
        A, Q = broadcast_core(a, batch, 2), broadcast_core(q, batch, 2)
        res = np.empty(batch + a.shape[-2:], dtype=node.outputs[0].type.numpy_dtype)
        for idx in batch_loop(batch):
            res[idx] = sla.solve_continuous_lyapunov(A[idx], Q[idx])
        output_storage[0][0] = res

    def infer_shape(self, fgraph, node, input_shapes):
        nb = node.outputs[0].ndim - 2
        dims = batch_dims(node, input_shapes, [2, 2], nb)
        a = node.inputs[0]
        n = dim(a, input_shapes[0], a.ndim - 1)
        return [tuple(dims + [n, n])]

    def L_op(self, inputs, outputs, output_grads):
        """With Z solving aᴴ Z + Z a = ḡ (the adjoint equation): ḡ_q = Z and
        ḡ_a = -(Z xᴴ + Zᴴ x)."""
        a, q = inputs
        (x,), (g,) = outputs, output_grads
        z = self(mH(a), g)
        ga = -(mm(z, mH(x)) + mm(mH(z), x))
        return [sum_to_batch(ga, a), sum_to_batch(z, q)]

    def R_op(self, inputs, eval_points):
        """a dx + dx aᴴ = dq - da x - x daᴴ."""
        a, q = inputs
        da, dq = eval_points
        if da is None and dq is None:
            return [None]
        x = self(a, q)
        rhs = dq
        if da is not None:
            t = -(mm(da, x) + mm(x, mH(da)))
            rhs = t if rhs is None else rhs + t
        return [self(a, rhs)]


def solve_continuous_lyapunov(a, q):
    """x with a x + x aᴴ = q (stacks broadcast)."""
    return SolveContinuousLyapunov()(a, q)


# ----------------------------------------------------------------------- block_diag

class BlockDiagonal(Op):
    """``BlockDiagonal(n)(*matrices)``: scipy.linalg.block_diag of n matrices."""

    __props__ = ("n_inputs",)

    def __init__(self, n_inputs):
        self.n_inputs = int(n_inputs)

    def make_node(self, *matrices):
        if len(matrices) != self.n_inputs:
            raise TypeError(f"block_diag: this op takes {self.n_inputs} matrices, got "
                            f"{len(matrices)}")
        ms = [as_tensor_variable(m) for m in matrices]
        for k, m in enumerate(ms):
            if m.ndim != 2:
                raise TypeError(f"block_diag: expected matrices, got {describe(m)} (input {k}) "
                                f"with {m.ndim} dimensions")
        from symgraph.scalar.basic import upcast
        from symgraph.tensor.math import cast
        dt = upcast(*[m.dtype for m in ms]) if ms else "float64"
        ms = [cast(m, dt) for m in ms]

        def total(axis):
            lens = [m.type.shape[axis] for m in ms]
            return None if any(s is None for s in lens) else int(sum(lens))
        return Apply(self, ms, [out_type(dt, (total(0), total(1)))])

    def perform(self, node, inputs, output_storage):
        dt = node.outputs[0].type.numpy_dtype
        if not inputs:
            output_storage[0][0] = np.zeros((0, 0), dtype=dt)
            return
        output_storage[0][0] = np.asarray(sla.block_diag(*inputs), dtype=dt)

    def infer_shape(self, fgraph, node, input_shapes):
        zero = constant(0, dtype="int64")
        rows, cols = zero, zero
        for m, s in zip(node.inputs, input_shapes):
            rows = rows + dim(m, s, 0)
            cols = cols + dim(m, s, 1)
        return [(rows, cols)]

    def L_op(self, inputs, outputs, output_grads):
        """Each input gets its block of the output gradient."""
        (g,) = output_grads
        grads, r, c = [], 0, 0
        for m in inputs:
            nr, nc = m.shape[0], m.shape[1]
            grads.append(g[r:r + nr, c:c + nc])
            r, c = r + nr, c + nc
        return grads

    def R_op(self, inputs, eval_points):
        if all(e is None for e in eval_points):
            return [None]
        from symgraph.tensor.creation import zeros_like
        return [self(*[zeros_like(m) if e is None else e for m, e in zip(inputs, eval_points)])]


def block_diag(*matrices):
    """The block-diagonal matrix of the given matrices (scipy.linalg.block_diag); 0-d and
    1-d inputs count as 1×1 and 1×n matrices, as in SciPy."""
    from symgraph.tensor.shape import shape_padleft
    ms = []
    for m in matrices:
        m = as_tensor_variable(m)
        if m.ndim < 2:
            m = shape_padleft(m, 2 - m.ndim)
        ms.append(m)
    return BlockDiagonal(len(ms))(*ms)


# the LU family and the matrix exponential, from their own modules
from symgraph.tensor.slinalg_lu import (  # noqa: E402
    LU, LUFactor, LUSolve, PivotToPermutation, lu, lu_factor, lu_solve, pivot_to_permutation,
)
from symgraph.tensor.slinalg_expm import Expm, ExpmFrechet, expm, expm_frechet  # noqa: E402

__all__ = [
    "Cholesky", "Solve", "SolveTriangular", "CholeskySolve", "SolveContinuousLyapunov",
    "BlockDiagonal", "LU", "LUFactor", "LUSolve", "PivotToPermutation", "Expm", "ExpmFrechet",
    "cholesky", "solve", "solve_triangular", "cho_solve", "solve_continuous_lyapunov",
    "block_diag", "lu", "lu_factor", "lu_solve", "pivot_to_permutation", "expm",
    "expm_frechet",
]

