"""The LU family of scipy.linalg: lu, lu_factor, lu_solve, and the pivots-to-permutation
conversion their gradients need. Imported by (and exported from) slinalg.py.

A = P L U with partial pivoting (LAPACK getrf): L unit lower triangular, U upper
triangular, P a permutation. The pivot choice is piecewise constant in A, so the
gradient treats P as fixed; gradients exist for square matrices (the rectangular
case is refused when the shapes say so statically).
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Apply
from symgraph.graph.op import Op
from symgraph.tensor.basic import as_tensor_variable
from symgraph.tensor.slinalg_base import (
    as_float, batch_dims, batch_loop, broadcast_core, check_ndim, conj, describe, dim,
    is_disconnected, mH, mm, mT, out_type, real_dtype, runtime_batch, runtime_match,
    runtime_square, static_batch, static_match, sum_to_batch, tril, triu, where,
)
from symgraph.tensor.slinalg import SolveTriangular, _b_ndim, _Solver
from symgraph.lazy import lazy_module

sla = lazy_module("scipy.linalg")  # imported on first use: see symgraph/lazy.py

_INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _perm_matrix(idx, n, dtype):
    """The permutation matrices whose row i is the unit vector e_idx[i] (a stack when
    ``idx`` is one): P @ X gathers the rows X[idx]."""
    from symgraph.tensor.creation import eye
    return eye(n, dtype=dtype)[idx]


def _lu_backward(L, U, gL, gU):
    """L⁻ᴴ (tril(Lᴴ ḡ_L, -1) + triu(ḡ_U Uᴴ)) U⁻ᴴ: the gradient of A = L U (P left out)
    for unit lower L and upper U; None stands for a zero gradient."""
    M = None
    if gL is not None:
        M = tril(mm(mH(L), gL), -1)
    if gU is not None:
        t = triu(mm(gU, mH(U)))
        M = t if M is None else M + t
    Y = SolveTriangular(lower=True, trans=2, unit_diagonal=True, b_ndim=2)(L, M)
    return mH(SolveTriangular(lower=False, trans=0, b_ndim=2)(U, mH(Y)))


def _lu_forward(L, U, X):
    """(tril(F, -1), triu(F)) for F = L⁻¹ X U⁻¹: the tangents dL = L tril(F, -1) and
    dU = triu(F) U of A = L U moved along X (P already applied: X = Pᵀ dA)."""
    Y = SolveTriangular(lower=True, unit_diagonal=True, b_ndim=2)(L, X)
    F = mH(SolveTriangular(lower=False, trans=2, b_ndim=2)(U, mH(Y)))
    return tril(F, -1), triu(F)


def _refuse_rectangular(op, a):
    """A NullType gradient when ``a`` is statically known not to be square."""
    m, n = a.type.shape[-2:]
    if m is not None and n is not None and m != n:
        from symgraph.gradient import grad_not_implemented
        return grad_not_implemented(op, 0, a, "the LU gradient is implemented for square "
                                    f"matrices only, the input has shape {a.type.shape}")
    return None


# ----------------------------------------------------------------------- LU

class LU(Op):
    """``LU(permute_l, p_indices)(a)``: scipy.linalg.lu.

    Outputs (p, l, u) with a = p @ l @ u, or (p, l, u) with a = l[p] @ u when
    ``p_indices`` (p as int32 row indices), or (p @ l, u) when ``permute_l``. For an
    (m, n) matrix, l is (m, k) and u is (k, n) with k = min(m, n); p is a real
    matrix of a's precision.
    """

    __props__ = ("permute_l", "p_indices")
    handles_disconnected_outputs = True

    def __init__(self, permute_l=False, p_indices=False):
        self.permute_l = bool(permute_l)
        self.p_indices = bool(p_indices)

    def make_node(self, a):
        a = as_float(a, "lu", "a")
        check_ndim("lu", a, "a", 2)
        batch = a.type.shape[:-2]
        m, n = a.type.shape[-2:]
        k = None if m is None or n is None else min(m, n)
        l_t = out_type(a.dtype, batch + (m, k))
        u_t = out_type(a.dtype, batch + (k, n))
        if self.permute_l:
            return Apply(self, [a], [l_t, u_t])
        p_t = out_type("int32", batch + (m,)) if self.p_indices else \
            out_type(real_dtype(a.dtype), batch + (m, m))
        return Apply(self, [a], [p_t, l_t, u_t])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        if a.ndim < 2:
            raise ValueError(f"lu: expected a matrix (or a stack), got an array of shape "
                             f"{a.shape}")
        m, n = a.shape[-2:]
        k, b = min(m, n), a.shape[:-2]
        shapes = [b + (m, k), b + (k, n)]
        if not self.permute_l:
            shapes.insert(0, b + ((m,) if self.p_indices else (m, m)))
        outs = [np.empty(s, dtype=o.type.numpy_dtype) for s, o in zip(shapes, node.outputs)]
        for idx in batch_loop(b):
            res = sla.lu(a[idx], permute_l=self.permute_l, p_indices=self.p_indices)
            for o, r in zip(outs, res):
                o[idx] = r
        for s, o in zip(output_storage, outs):
            s[0] = o

    def infer_shape(self, fgraph, node, input_shapes):
        (a,), (s,) = node.inputs, input_shapes
        from symgraph.tensor.math import minimum
        batch = [dim(a, s, d) for d in range(a.ndim - 2)]
        m, n = dim(a, s, a.ndim - 2), dim(a, s, a.ndim - 1)
        k = node.outputs[-1].type.shape[-2]
        k = as_tensor_variable(np.int64(k)) if k is not None else minimum(m, n)
        l_s, u_s = tuple(batch + [m, k]), tuple(batch + [k, n])
        if self.permute_l:
            return [l_s, u_s]
        p_s = tuple(batch + [m]) if self.p_indices else tuple(batch + [m, m])
        return [p_s, l_s, u_s]

    def connection_pattern(self, node):
        if self.permute_l:
            return [[True, True]]
        return [[False, True, True]]

    def L_op(self, inputs, outputs, output_grads):
        """ḡ_A = P L⁻ᴴ (tril(Lᴴ ḡ_L, -1) + triu(ḡ_U Uᴴ)) U⁻ᴴ, with P held fixed; with
        permute_l, (P L)⁻ᴴ replaces P L⁻ᴴ and (P L)ᴴ ḡ_PL replaces Lᴴ ḡ_L."""
        (a,) = inputs
        bad = _refuse_rectangular(self, a)
        if bad is not None:
            return [bad]
        gs = [None if is_disconnected(g) else g for g in output_grads]
        if self.permute_l:
            PL, U = outputs
            gPL, gU = gs
            M = None
            if gPL is not None:
                M = tril(mm(mH(PL), gPL), -1)
            if gU is not None:
                t = triu(mm(gU, mH(U)))
                M = t if M is None else M + t
            from symgraph.tensor.slinalg import Solve
            Y = Solve("gen", b_ndim=2)(mH(PL), M)
            return [mH(SolveTriangular(lower=False, trans=0, b_ndim=2)(U, mH(Y)))]
        p, L, U = outputs
        _, gL, gU = gs
        if gL is None and gU is None:
            from symgraph.tensor.creation import zeros_like
            return [zeros_like(a)]
        Y = _lu_backward(L, U, gL, gU)
        P = _perm_matrix(p, a.shape[-1], real_dtype(a.dtype)) if self.p_indices else p
        return [mm(P, Y)]

    def R_op(self, inputs, eval_points):
        """dL = L tril(F, -1), dU = triu(F) U with F = L⁻¹ Pᵀ dA U⁻¹ (P fixed)."""
        (a,), (da,) = inputs, eval_points
        if da is None:
            return [None] * (2 if self.permute_l else 3)
        outs = self(a)
        if self.permute_l:
            from symgraph.tensor.slinalg import Solve
            PL, U = outs
            Y = Solve("gen", b_ndim=2)(PL, da)               # (P L)⁻¹ dA
            F = mH(SolveTriangular(lower=False, trans=2, b_ndim=2)(U, mH(Y)))
            return [mm(PL, tril(F, -1)), mm(triu(F), U)]
        p, L, U = outs
        P = _perm_matrix(p, a.shape[-1], real_dtype(a.dtype)) if self.p_indices else p
        lo, up = _lu_forward(L, U, mm(mT(P), da))
        return [None, mm(L, lo), mm(up, U)]


def lu(a, permute_l=False, p_indices=False):
    """The LU decomposition with partial pivoting, as scipy.linalg.lu: (p, l, u), or
    (p @ l, u) with ``permute_l``; ``p_indices`` gives p as row indices (a = l[p] @ u)."""
    return LU(permute_l, p_indices)(a)


# ----------------------------------------------------------------------- pivots

class PivotToPermutation(Op):
    """``PivotToPermutation(inverse)(piv)``: LAPACK's row interchanges (row i swapped
    with row piv[i], in order, 0-based as lu_factor gives them) as a permutation:
    perm with a[perm] = l @ u, or with ``inverse`` p with a = (l @ u)[p] (the p of
    ``lu(a, p_indices=True)``)."""

    __props__ = ("inverse",)

    def __init__(self, inverse=False):
        self.inverse = bool(inverse)

    def make_node(self, piv):
        piv = as_tensor_variable(piv)
        if piv.dtype not in _INT_DTYPES or piv.ndim < 1:
            raise TypeError(f"pivot_to_permutation: expected integer pivots (a vector or a "
                            f"stack of them), got {describe(piv)}")
        return Apply(self, [piv], [out_type("int64", piv.type.shape)])

    def perform(self, node, inputs, output_storage):
        (piv,) = inputs
        n = piv.shape[-1]
        out = np.empty(piv.shape, dtype=np.int64)
        for idx in batch_loop(piv.shape[:-1]):
            perm = np.arange(n)
            for i, j in enumerate(piv[idx]):
                if not 0 <= j < n:
                    raise ValueError(f"pivot_to_permutation: pivot {j} at position {i}"
                                     f"{where(idx)} is out of range for {n} rows")
                perm[i], perm[j] = perm[j], perm[i]
            if self.inverse:
                inv = np.empty_like(perm)
                inv[perm] = np.arange(n)
                perm = inv
            out[idx] = perm
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]

    def connection_pattern(self, node):
        return [[False]]

    def L_op(self, inputs, outputs, output_grads):
        from symgraph.gradient import disconnected_type
        return [disconnected_type()]

    def R_op(self, inputs, eval_points):
        return [None]


def pivot_to_permutation(piv, inverse=False):
    """LAPACK pivots (from lu_factor) as a permutation (see PivotToPermutation)."""
    return PivotToPermutation(inverse)(piv)


# ----------------------------------------------------------------------- lu_factor

class LUFactor(Op):
    """``LUFactor()(a)``: scipy.linalg.lu_factor: (lu, piv), L below the diagonal of lu
    (its unit diagonal implied) and U on and above it; piv int32, 0-based."""

    __props__ = ()
    handles_disconnected_outputs = True

    def make_node(self, a):
        a = as_float(a, "lu_factor", "a")
        check_ndim("lu_factor", a, "a", 2)
        m, n = a.type.shape[-2:]
        k = None if m is None or n is None else min(m, n)
        return Apply(self, [a], [out_type(a.dtype, a.type.shape),
                                 out_type("int32", a.type.shape[:-2] + (k,))])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        if a.ndim < 2:
            raise ValueError(f"lu_factor: expected a matrix (or a stack), got an array of "
                             f"shape {a.shape}")
        lu_ = np.empty(a.shape, dtype=node.outputs[0].type.numpy_dtype)
        piv = np.empty(a.shape[:-2] + (min(a.shape[-2:]),), dtype=np.int32)
        for idx in batch_loop(a.shape[:-2]):
            lu_[idx], piv[idx] = sla.lu_factor(a[idx])
        output_storage[0][0] = lu_
        output_storage[1][0] = piv

    def infer_shape(self, fgraph, node, input_shapes):
        (a,), (s,) = node.inputs, input_shapes
        from symgraph.tensor.math import minimum
        k = node.outputs[1].type.shape[-1]
        k = as_tensor_variable(np.int64(k)) if k is not None else \
            minimum(dim(a, s, a.ndim - 2), dim(a, s, a.ndim - 1))
        return [tuple(s), tuple(dim(a, s, d) for d in range(a.ndim - 2)) + (k,)]

    def connection_pattern(self, node):
        return [[True, False]]

    def L_op(self, inputs, outputs, output_grads):
        """The LU gradient with ḡ_L = tril(ḡ_lu, -1) and ḡ_U = triu(ḡ_lu)."""
        (a,) = inputs
        bad = _refuse_rectangular(self, a)
        if bad is not None:
            return [bad]
        lu_, piv = outputs
        g = output_grads[0]
        if is_disconnected(g):
            from symgraph.tensor.creation import zeros_like
            return [zeros_like(a)]
        L, U = _unpack(lu_)
        Y = _lu_backward(L, U, tril(g, -1), triu(g))
        p = PivotToPermutation(inverse=True)(piv)
        return [mm(_perm_matrix(p, a.shape[-1], real_dtype(a.dtype)), Y)]

    def R_op(self, inputs, eval_points):
        """d(lu) = tril(dL, -1) + triu(dU) (see LU.R_op)."""
        (a,), (da,) = inputs, eval_points
        if da is None:
            return [None, None]
        lu_, piv = self(a)
        L, U = _unpack(lu_)
        perm = PivotToPermutation()(piv)
        lo, up = _lu_forward(L, U, mm(_perm_matrix(perm, a.shape[-1], real_dtype(a.dtype)),
                                      da))
        return [tril(mm(L, lo), -1) + triu(mm(up, U)), None]


def _unpack(lu_):
    """(L, U) of a combined LU matrix: L unit lower, U upper."""
    from symgraph.tensor.slinalg_base import eye_of
    return tril(lu_, -1) + eye_of(lu_), triu(lu_)


def lu_factor(a):
    """(lu, piv) as scipy.linalg.lu_factor (for lu_solve)."""
    return LUFactor()(a)


# ----------------------------------------------------------------------- lu_solve

class LUSolve(_Solver):
    """``LUSolve(trans, b_ndim)(lu, piv, b)``: scipy.linalg.lu_solve((lu, piv), b, trans):
    x with a x = b (trans 0), aᵀ x = b (1) or aᴴ x = b (2), a = P L U given by lu_factor."""

    __props__ = ("trans", "b_ndim")
    _who = "lu_solve"

    def __init__(self, trans=0, b_ndim=2):
        from symgraph.tensor.slinalg import _TRANS
        if trans not in _TRANS:
            raise ValueError(f"lu_solve: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
        self.trans = _TRANS[trans]
        self.b_ndim = _b_ndim(None, b_ndim, "lu_solve")

    def make_node(self, lu_, piv, b):
        from symgraph.tensor.slinalg import _solver_inputs
        who = "lu_solve"
        piv = as_tensor_variable(piv)
        if piv.dtype not in _INT_DTYPES or piv.ndim < 1:
            raise TypeError(f"{who}: expected integer pivots (from lu_factor) as piv, got "
                            f"{describe(piv)}")
        lu_, b, shape = _solver_inputs(who, lu_, b, self.b_ndim)
        static_match(who, lu_, -1, piv, -1, "lu", "piv")
        batch = static_batch(who, [(lu_, 2), (piv, 1), (b, self.b_ndim)])
        return Apply(self, [lu_, piv, b], [out_type(lu_.dtype, batch + shape[-self.b_ndim:])])

    def perform(self, node, inputs, output_storage):
        who = "lu_solve"
        lu_, piv, b = inputs
        runtime_square(who, lu_, "lu")
        runtime_match(who, lu_, -1, piv, -1, "lu", "piv")
        runtime_match(who, lu_, -1, b, b.ndim - self.b_ndim, "lu", "b")
        batch = runtime_batch(who, node, inputs, [2, 1, self.b_ndim])
        LU_, PIV = broadcast_core(lu_, batch, 2), broadcast_core(piv, batch, 1)
        B = broadcast_core(b, batch, self.b_ndim)
        res = np.empty(B.shape, dtype=node.outputs[0].type.numpy_dtype)
        n = lu_.shape[-1]
        for idx in batch_loop(batch):
            p = PIV[idx]
            if p.size and (p.min() < 0 or p.max() >= n):
                raise ValueError(f"lu_solve: the pivots{where(idx)} must lie in [0, {n}), got "
                                 f"{p}")
            res[idx] = sla.lu_solve((LU_[idx], p), B[idx], trans=self.trans)
        output_storage[0][0] = res

    def infer_shape(self, fgraph, node, input_shapes):
        lu_, piv, b = node.inputs
        nb = node.outputs[0].ndim - self.b_ndim
        dims = batch_dims(node, input_shapes, [2, 1, self.b_ndim], nb)
        core = [dim(lu_, input_shapes[0], lu_.ndim - 1)]
        if self.b_ndim == 2:
            core.append(dim(b, input_shapes[2], b.ndim - 1))
        return [tuple(dims + core)]

    def connection_pattern(self, node):
        return [[True], [False], [True]]

    def L_op(self, inputs, outputs, output_grads):
        """ḡ_b = op(A)⁻ᴴ ḡ_x and ḡ_A = op-adjoint of -ḡ_b xᴴ; then through A = P L U:
        ḡ_L = Pᵀ ḡ_A Uᴴ, ḡ_U = Lᴴ Pᵀ ḡ_A, ḡ_lu = tril(ḡ_L, -1) + triu(ḡ_U)."""
        from symgraph.gradient import disconnected_type
        lu_, piv, b = inputs
        x, g = self._as_mat(outputs[0]), self._as_mat(output_grads[0])
        if self.trans == 0:
            gb = LUSolve(2, 2)(lu_, piv, g)
        elif self.trans == 1:                      # (Aᵀ)⁻ᴴ = conj(A)⁻¹
            gb = conj(LUSolve(0, 2)(lu_, piv, conj(g)))
        else:
            gb = LUSolve(0, 2)(lu_, piv, g)
        gop = -mm(gb, mH(x))
        gA = (gop, mT(gop), mH(gop))[self.trans]
        perm = PivotToPermutation()(piv)
        PtgA = mm(_perm_matrix(perm, lu_.shape[-1], real_dtype(lu_.dtype)), gA)
        L, U = _unpack(lu_)
        glu = tril(mm(PtgA, mH(U)), -1) + triu(mm(mH(L), PtgA))
        return [sum_to_batch(glu, lu_), disconnected_type(),
                sum_to_batch(self._from_mat(gb), b)]

    def R_op(self, inputs, eval_points):
        """dx = op(A)⁻¹ (db - op(dA) x) with dA = P (dL U + L dU)."""
        lu_, piv, b = inputs
        dlu, _, db = eval_points
        if dlu is None and db is None:
            return [None]
        x = self._as_mat(self(lu_, piv, b))
        rhs = self._as_mat(db) if db is not None else None
        if dlu is not None:
            L, U = _unpack(lu_)
            perm = PivotToPermutation(inverse=True)(piv)
            P = _perm_matrix(perm, lu_.shape[-1], real_dtype(lu_.dtype))
            dA = mm(P, mm(tril(dlu, -1), U) + mm(L, triu(dlu)))
            t = -mm((dA, mT(dA), mH(dA))[self.trans], x)
            rhs = t if rhs is None else rhs + t
        return [self._from_mat(LUSolve(self.trans, 2)(lu_, piv, rhs))]


def lu_solve(lu_and_piv, b, trans=0, b_ndim=None):
    """x from lu_factor's (lu, piv), as scipy.linalg.lu_solve((lu, piv), b, trans)."""
    try:
        lu_, piv = lu_and_piv
    except (TypeError, ValueError):
        raise TypeError("lu_solve: the first argument must be the pair (lu, piv) from "
                        f"lu_factor, got {lu_and_piv!r}") from None
    b_ndim = _b_ndim(b, b_ndim, "lu_solve")
    return LUSolve(trans, b_ndim)(lu_, piv, b)


__all__ = ["LU", "LUFactor", "LUSolve", "PivotToPermutation", "lu", "lu_factor", "lu_solve",
           "pivot_to_permutation"]
