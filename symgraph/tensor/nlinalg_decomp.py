"""Matrix decompositions of numpy.linalg: eig, eigh, eigvalsh, svd, qr (stacked inputs
loop over the leading axes; see nlinalg.py for dtypes, NaN handling and the
gradient convention).

Eigenvectors and singular vectors are defined only up to a sign (real) or a phase
(complex) per vector; values follow LAPACK's choice, as NumPy's do. Their
gradients are those of a smooth local choice, so they are exact for costs that do
not depend on that choice (|v|, v v^H, U diag(s) V^H, ...) and, for real
matrices, for any cost (the sign is locally constant). Gradients through vectors
need distinct eigenvalues / singular values: the formulas divide by their
differences.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Apply
from symgraph.tensor.creation import tril, triu, zeros_like
from symgraph.tensor.join import concatenate
from symgraph.tensor.linalg_utils import (
    H, MatrixOp, as_col, as_row, batched_eye, complex_dtype, diag_embed, diag_part, guarded,
    is_complex, mm, real_dtype, store,
)
from symgraph.tensor.math import conj, minimum, real
from symgraph.tensor.shape import shape_i

__all__ = ["Eig", "Eigh", "Eigvalsh", "SVD", "QR", "eig", "eigvals", "eigh", "eigvalsh",
           "svd", "qr"]


def _disconnected(g):
    from symgraph.gradient import _is_disconnected
    return g is None or _is_disconnected(g)


def _sum(terms):
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def _inv_gaps(w):
    """F[..., i, j] = 1 / (w_j - w_i) off the diagonal, 0 on it."""
    n = shape_i(w, w.ndim - 1)
    eye = batched_eye(n, real_dtype(w.dtype))
    return (1 - eye) / (as_row(w) - as_col(w) + eye)


def _check_uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise ValueError(f"UPLO must be 'L' or 'U', got {UPLO!r}")
    return UPLO


def _static_min(m, n):
    return None if m is None or n is None else min(m, n)


def _grad_not_implemented(op, x, why):
    from symgraph.gradient import grad_not_implemented
    return [grad_not_implemented(op, 0, x, why)]


# ----------------------------------------------------------------------- eig

class Eig(MatrixOp):
    """numpy.linalg.eig: eigenvalues w and unit eigenvectors v (columns) of a general
    square matrix, always complex (complex64 for float32/complex64 input)."""

    __props__ = ()
    _who = "eig"
    handles_disconnected_outputs = True

    def make_node(self, x):
        x, op = self._input(x)
        dt = complex_dtype(x.dtype)
        n = x.type.shape[-1]
        return Apply(op, [x], [self._batch_type(x, dt, (n,)), self._batch_type(x, dt, (n, n))])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        self._check(a)
        store(output_storage, node, guarded(a, lambda x: tuple(np.linalg.eig(x))))

    def infer_shape(self, fgraph, node, input_shapes):
        s = tuple(input_shapes[0])
        return [s[:-1], s]

    def L_op(self, inputs, outputs, output_grads):
        """With A = V diag(w) V^-1: dw = diag(V^-1 dA V) and, keeping columns of unit
        norm, dV = V (F o V^-1 dA V) - V Re diag(V^H dV) with F_ij = 1/(w_j - w_i).
        The gradient is V^-H (diag(g_w) + conj(F) o V^H G0) V^H, where
        G0 = g_V - V Re diag(V^H g_V). Needs distinct eigenvalues when g_V is used."""
        from symgraph.tensor.nlinalg import matrix_inverse
        (x,), (w, v), (gw, gv) = inputs, outputs, output_grads
        vh = H(v)
        terms = []
        if not _disconnected(gw):
            terms.append(diag_embed(gw))
        if not _disconnected(gv):
            g0 = gv - v * as_row(real(diag_part(mm(vh, gv))))
            terms.append(conj(_inv_gaps(w)) * mm(vh, g0))
        return [mm(H(matrix_inverse(v)), _sum(terms), vh)]

    def R_op(self, inputs, eval_points):
        from symgraph.tensor.nlinalg import matrix_inverse
        (x,), (ev,) = inputs, eval_points
        if ev is None:
            return [None, None]
        w, v = self(x)
        xm = mm(matrix_inverse(v), ev, v)
        dv0 = mm(v, _inv_gaps(w) * xm)
        return [diag_part(xm), dv0 - v * as_row(real(diag_part(mm(H(v), dv0))))]


eig = Eig()


def eigvals(x):
    """The eigenvalues of a general square matrix (numpy.linalg.eigvals), complex."""
    return eig(x)[0]


# ----------------------------------------------------------------------- eigh / eigvalsh

def _hermitian_grad(gs, x, UPLO):
    """The gradient of the input from ``gs``, that of the Hermitian matrix LAPACK
    builds out of one triangle (the other is never read, nor the diagonal's
    imaginary part)."""
    sym = gs + H(gs)
    off = tril(sym, -1) if UPLO == "L" else triu(sym, 1)
    d = diag_part(gs)
    return off + diag_embed(real(d) if is_complex(x) else d)


def _hermitian_part(ev, UPLO):
    """The Hermitian matrix LAPACK reads from ``ev``'s triangle (real diagonal)."""
    off = tril(ev, -1) if UPLO == "L" else triu(ev, 1)
    d = diag_part(ev)
    return off + H(off) + diag_embed(real(d) if is_complex(ev) else d)


class Eigh(MatrixOp):
    """numpy.linalg.eigh(a, UPLO): ascending real eigenvalues w and orthonormal
    eigenvectors v of the Hermitian matrix built from a's lower ('L') or upper ('U')
    triangle."""

    __props__ = ("UPLO",)
    _who = "eigh"
    handles_disconnected_outputs = True

    def __init__(self, UPLO="L"):
        self.UPLO = _check_uplo(UPLO)

    def make_node(self, x):
        x, op = self._input(x)
        n = x.type.shape[-1]
        return Apply(op, [x], [self._batch_type(x, real_dtype(x.dtype), (n,)),
                               self._batch_type(x, x.dtype, (n, n))])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        self._check(a)
        store(output_storage, node, guarded(a, lambda x: tuple(np.linalg.eigh(x, self.UPLO))))

    def infer_shape(self, fgraph, node, input_shapes):
        s = tuple(input_shapes[0])
        return [s[:-1], s]

    def L_op(self, inputs, outputs, output_grads):
        """For Hermitian A = V diag(w) V^H: dw = diag(V^H dA V), dV = V (F o V^H dA V)
        with F_ij = 1/(w_j - w_i) (0 on the diagonal), so the gradient of the
        Hermitian matrix is V (diag(g_w) + F o V^H g_V) V^H, then folded onto the
        triangle that was read. g_V needs distinct eigenvalues."""
        (x,), (w, v), (gw, gv) = inputs, outputs, output_grads
        vh = H(v)
        terms = []
        if not _disconnected(gw):
            terms.append(diag_embed(gw))
        if not _disconnected(gv):
            terms.append(_inv_gaps(w) * mm(vh, gv))
        return [_hermitian_grad(mm(v, _sum(terms), vh), x, self.UPLO)]

    def R_op(self, inputs, eval_points):
        (x,), (ev,) = inputs, eval_points
        if ev is None:
            return [None, None]
        w, v = self(x)
        xm = mm(H(v), _hermitian_part(ev, self.UPLO), v)
        return [real(diag_part(xm)), mm(v, _inv_gaps(w) * xm)]


def eigh(x, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of a Hermitian / real symmetric matrix."""
    return Eigh(UPLO)(x)


class Eigvalsh(MatrixOp):
    """numpy.linalg.eigvalsh(a, UPLO): the ascending eigenvalues only."""

    __props__ = ("UPLO",)
    _who = "eigvalsh"

    def __init__(self, UPLO="L"):
        self.UPLO = _check_uplo(UPLO)

    def make_node(self, x):
        x, op = self._input(x)
        return Apply(op, [x], [self._batch_type(x, real_dtype(x.dtype), (x.type.shape[-1],))])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        self._check(a)
        store(output_storage, node, guarded(a, lambda x: (np.linalg.eigvalsh(x, self.UPLO),)))

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0][:-1])]

    def L_op(self, inputs, outputs, output_grads):
        """V diag(g_w) V^H folded onto the triangle read (valid for repeated
        eigenvalues too: the projector onto an eigenspace is smooth)."""
        (x,), (gw,) = inputs, output_grads
        _, v = Eigh(self.UPLO)(x)
        return [_hermitian_grad(mm(v, diag_embed(gw), H(v)), x, self.UPLO)]

    def R_op(self, inputs, eval_points):
        (x,), (ev,) = inputs, eval_points
        if ev is None:
            return [None]
        _, v = Eigh(self.UPLO)(x)
        return [real(diag_part(mm(H(v), _hermitian_part(ev, self.UPLO), v)))]


def eigvalsh(x, UPLO="L"):
    """The eigenvalues (ascending) of a Hermitian / real symmetric matrix."""
    return Eigvalsh(UPLO)(x)


# ----------------------------------------------------------------------- svd

class SVD(MatrixOp):
    """numpy.linalg.svd(a, full_matrices, compute_uv): a = U diag(S) Vh with S real,
    descending; with compute_uv=False only S. U is (m, m) and Vh (n, n) with
    full_matrices, else (m, k) and (k, n), k = min(m, n)."""

    __props__ = ("full_matrices", "compute_uv")
    _who = "svd"
    _square = False
    handles_disconnected_outputs = True

    def __init__(self, full_matrices=True, compute_uv=True):
        self.full_matrices = bool(full_matrices)
        self.compute_uv = bool(compute_uv)

    def make_node(self, x):
        x, op = self._input(x)
        m, n = x.type.shape[-2:]
        k = _static_min(m, n)
        s = self._batch_type(x, real_dtype(x.dtype), (k,))
        if not self.compute_uv:
            return Apply(op, [x], [s])
        um, vn = (m, n) if self.full_matrices else (k, k)
        return Apply(op, [x], [self._batch_type(x, x.dtype, (m, um)), s,
                               self._batch_type(x, x.dtype, (vn, n))])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        self._check(a)

        def fn(x):
            r = np.linalg.svd(x, full_matrices=self.full_matrices, compute_uv=self.compute_uv)
            return tuple(r) if self.compute_uv else (r,)
        store(output_storage, node, guarded(a, fn))

    def infer_shape(self, fgraph, node, input_shapes):
        s = tuple(input_shapes[0])
        batch, m, n = s[:-2], s[-2], s[-1]
        k = minimum(m, n)
        if not self.compute_uv:
            return [batch + (k,)]
        um, vn = (m, n) if self.full_matrices else (k, k)
        return [batch + (m, um), batch + (k,), batch + (vn, n)]

    def L_op(self, inputs, outputs, output_grads):
        """With k = min(m, n), A = U S V^H (reduced), J = U^H g_U, K = V^H g_V:
        the gradient is U Y V^H + (I - U U^H) g_U S^-1 V^H + U S^-1 g_V^H (I - V V^H),
        Y = diag(g_S) + (F o (J - J^H)) S + S (F o (K - K^H)) + diag((J - J^H)_ii / 2 s_i)
        with F_ij = 1/(s_j^2 - s_i^2) off the diagonal. Singular values alone need
        nothing more than A's SVD (U diag(g_S) V^H); through U or Vh the singular
        values must be distinct and non-zero, and with full_matrices the matrix must
        be statically square (the extra columns are an arbitrary basis)."""
        (x,) = inputs
        if self.compute_uv:
            gu, gs, gvh = output_grads
        else:
            gu, gvh = None, None
            (gs,) = output_grads
        vectors = not (_disconnected(gu) and _disconnected(gvh))
        m, n = x.type.shape[-2:]
        square = m is not None and m == n
        if self.full_matrices and vectors and not square:
            return _grad_not_implemented(
                self, x, "through U or Vh of svd(full_matrices=True) of a matrix that is not "
                "statically square (the extra columns are an arbitrary basis); use "
                "svd(x, full_matrices=False)")
        if self.compute_uv and (square or not self.full_matrices):
            u, s, vh = outputs
        else:
            u, s, vh = SVD(False, True)(x)
        v = H(vh)
        terms = []
        if not _disconnected(gs):
            terms.append(diag_embed(gs))
        extra = []
        if vectors:
            f = _inv_gaps(s * s)
        if not _disconnected(gu):
            j = mm(H(u), gu)
            jm = j - H(j)
            terms.append(f * jm * as_row(s))
            if is_complex(x):
                terms.append(diag_embed(diag_part(jm) / (2 * s)))
            extra.append(mm((gu - mm(u, j)) / as_row(s), vh))
        if not _disconnected(gvh):
            k = mm(vh, H(gvh))
            km = k - H(k)
            terms.append(as_col(s) * (f * km))
            extra.append(mm(u / as_row(s), gvh - mm(gvh, v, vh)))
        return [_sum([mm(u, _sum(terms), vh)] + extra)]

    def R_op(self, inputs, eval_points):
        """ds = Re diag(U^H dA V) for compute_uv=False; with vectors, Rop falls back
        on two reverse passes."""
        if self.compute_uv:
            from symgraph.graph.utils import MethodNotDefined
            raise MethodNotDefined("SVD.R_op with compute_uv=True")
        (x,), (ev,) = inputs, eval_points
        if ev is None:
            return [None]
        u, _, vh = SVD(False, True)(x)
        return [real(diag_part(mm(H(u), ev, H(vh))))]


def svd(x, full_matrices=True, compute_uv=True):
    """The singular value decomposition (numpy.linalg.svd): [U, S, Vh], or S alone
    with compute_uv=False."""
    return SVD(full_matrices, compute_uv)(x)


# ----------------------------------------------------------------------- qr

_QR_MODES = ("reduced", "complete", "r")


class QR(MatrixOp):
    """numpy.linalg.qr(a, mode): 'reduced' gives Q (m, k), R (k, n); 'complete' Q (m, m),
    R (m, n); 'r' only R (k, n); k = min(m, n). R's diagonal is real (LAPACK's
    Householder convention; not necessarily positive)."""

    __props__ = ("mode",)
    _who = "qr"
    _square = False
    handles_disconnected_outputs = True

    def __init__(self, mode="reduced"):
        if mode not in _QR_MODES:
            raise ValueError(f"qr: mode must be one of {', '.join(map(repr, _QR_MODES))}, got "
                             f"{mode!r}")
        self.mode = mode

    def make_node(self, x):
        x, op = self._input(x)
        m, n = x.type.shape[-2:]
        k = _static_min(m, n)
        rows = m if self.mode == "complete" else k
        r = self._batch_type(x, x.dtype, (rows, n))
        if self.mode == "r":
            return Apply(op, [x], [r])
        return Apply(op, [x], [self._batch_type(x, x.dtype, (m, rows)), r])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        self._check(a)

        def fn(x):
            r = np.linalg.qr(x, mode=self.mode)
            return (r,) if self.mode == "r" else tuple(r)
        store(output_storage, node, guarded(a, fn))

    def infer_shape(self, fgraph, node, input_shapes):
        s = tuple(input_shapes[0])
        batch, m, n = s[:-2], s[-2], s[-1]
        rows = m if self.mode == "complete" else minimum(m, n)
        if self.mode == "r":
            return [batch + (rows, n)]
        return [batch + (m, rows), batch + (rows, n)]

    def L_op(self, inputs, outputs, output_grads):
        """Write A = [A1 A2], R = [R1 R2] with A1 (m, k) = Q R1 and R2 = Q^H A2. With
        gQ' = g_Q + A2 g_R2^H, M = Q^H gQ' - g_R1 R1^H and W = M - M^H, the gradient
        of A1 is Q g_R1 + (Q N + gQ' - Q Q^H gQ') R1^-H, N = tril(W, -1) + diag(W) / 2
        (R's diagonal is real, which fixes Q's phases), and that of A2 is Q g_R2.
        Needs A1 of full rank; for mode='complete' with m > n the extra columns of
        Q are an arbitrary basis, so only R may carry a gradient then."""
        from symgraph.tensor.nlinalg import matrix_inverse
        (x,) = inputs
        if self.mode == "r":
            (gr,), gq = output_grads, None
            q, r = QR("reduced")(x)
        else:
            q, r = outputs
            gq, gr = output_grads
        m, n = x.type.shape[-2:]
        if self.mode == "complete" and not _disconnected(gq) and \
                not (m is not None and n is not None and m <= n):
            return _grad_not_implemented(
                self, x, "through Q of qr(mode='complete') of a matrix that may have more rows "
                "than columns (Q's extra columns are an arbitrary basis); use mode='reduced'")
        k = minimum(shape_i(x, x.ndim - 2), shape_i(x, x.ndim - 1))
        if self.mode == "complete":
            q, r = q[..., :, :k], r[..., :k, :]
            gq = None if _disconnected(gq) else gq[..., :, :k]
            gr = None if _disconnected(gr) else gr[..., :k, :]
        r1 = r[..., :, :k]
        a2 = x[..., :, k:]
        gq_eff = []
        if not _disconnected(gq):
            gq_eff.append(gq)
        if not _disconnected(gr):
            gr1, gr2 = gr[..., :, :k], gr[..., :, k:]
            gq_eff.append(mm(a2, H(gr2)))
        gq_eff = _sum(gq_eff)
        qh = H(q)
        mat = mm(qh, gq_eff)
        if not _disconnected(gr):
            mat = mat - mm(gr1, H(r1))
        w = mat - H(mat)
        nmat = tril(w, -1)
        if is_complex(x):
            nmat = nmat + diag_embed(diag_part(w) / 2)
        b = mm(q, nmat) + gq_eff - mm(q, mm(qh, gq_eff))
        g1 = mm(b, H(matrix_inverse(r1)))
        if _disconnected(gr):
            return [concatenate([g1, zeros_like(a2)], axis=-1)]
        return [concatenate([g1 + mm(q, gr1), mm(q, gr2)], axis=-1)]


def qr(x, mode="reduced"):
    """The QR decomposition (numpy.linalg.qr): [Q, R], or R alone with mode='r'."""
    return QR(mode)(x)
