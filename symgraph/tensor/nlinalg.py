"""numpy.linalg in the graph: inverse, pseudo-inverse, determinants, matrix powers,
decompositions (eig, eigh, svd, qr: nlinalg_decomp.py), norms, trace, kron.

Every matrix op works on the last two axes and loops over leading (stacked) axes,
as numpy.linalg does; bool and integer inputs are computed in float64 (NumPy
upcasts them). Real and complex dtypes are first class. Gradients follow the
convention of the whole library: for a real cost C of a complex z, the gradient
is dC/dRe(z) + i dC/dIm(z), so ``z - lr * g`` descends; for a holomorphic
Y = f(X) this makes every formula the real one with transposes replaced by
conjugate transposes.

Matrices holding NaN or infinity give NaN for every output computed from them
(LAPACK's answer there depends on the routine, and the numba backend must agree
with the interpreter). A singular matrix to invert raises SingularMatrixError
(a numpy.linalg.LinAlgError) naming the matrix's shape and, when the input was
stacked from a Python list (``matrix_inverse(hessian(c, wrt=[w]))``), saying so.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Apply
from symgraph.tensor.creation import zeros_like
from symgraph.tensor.linalg_utils import (
    H, MatrixOp, SingularMatrixError, batch_where, batch_scale, guarded, is_complex, mm,
    real_dtype, store, trace_of_product,
)
from symgraph.tensor.math import complex as make_complex
from symgraph.tensor.math import conj, imag, neg, real

__all__ = ["MatrixInverse", "Det", "SLogDet", "MatrixPinv", "MatrixPower",
           "matrix_inverse", "inv", "det", "slogdet", "pinv", "matrix_power"]


def _inverse(a, who, op=None):
    """numpy.linalg.inv, NaN for non-finite matrices; a singular one raises with its place."""
    def inv(x):
        try:
            return (np.linalg.inv(x),)
        except np.linalg.LinAlgError:
            flat = x.reshape((-1,) + x.shape[-2:])
            bad = next((k for k in range(flat.shape[0])
                        if _singular(flat[k])), 0)
            idx = np.unravel_index(bad, x.shape[:-2]) if x.ndim > 2 else ()
            hint = getattr(op, "hint", "")
            raise SingularMatrixError(
                f"{who}: the matrix{batch_where(idx, x.ndim)} is singular (its LU factorisation "
                f"has a zero pivot), so it has no inverse; input of shape {x.shape}"
                + (f". {hint}" if hint else "")) from None
    return guarded(a, inv)[0]


def _singular(m):
    try:
        np.linalg.inv(m)
        return False
    except np.linalg.LinAlgError:
        return True


# ----------------------------------------------------------------------- inverse

class MatrixInverse(MatrixOp):
    """numpy.linalg.inv of a (stack of) square matrices."""

    __props__ = ()
    _who = "matrix_inverse"

    def make_node(self, x):
        x, op = self._input(x)
        return Apply(op, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        self._check(a)
        store(output_storage, node, [_inverse(a, self._who, self)])

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]

    def L_op(self, inputs, outputs, output_grads):
        """dY = -Y dA Y, so the gradient is -Y^H G Y^H."""
        (y,), (g,) = outputs, output_grads
        yh = H(y)
        return [neg(mm(yh, g, yh))]

    def R_op(self, inputs, eval_points):
        (x,), (ev,) = inputs, eval_points
        if ev is None:
            return [None]
        y = self(x)
        return [neg(mm(y, ev, y))]


matrix_inverse = MatrixInverse()
inv = matrix_inverse


# ----------------------------------------------------------------------- determinants

class Det(MatrixOp):
    """numpy.linalg.det: one determinant per matrix of the stack."""

    __props__ = ()
    _who = "det"

    def make_node(self, x):
        x, op = self._input(x)
        return Apply(op, [x], [self._batch_type(x, x.dtype)])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        self._check(a)
        store(output_storage, node, guarded(a, lambda x: (np.linalg.det(x),)))

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0][:-2])]

    def L_op(self, inputs, outputs, output_grads):
        """Jacobi's formula d det = det tr(A^-1 dA): the gradient is
        g conj(det) A^-H (needs an invertible A)."""
        (x,), (d,), (g,) = inputs, outputs, output_grads
        scale = g * conj(d) if is_complex(x) else g * d
        return [batch_scale(scale, x.ndim - 2) * H(matrix_inverse(x))]

    def R_op(self, inputs, eval_points):
        (x,), (ev,) = inputs, eval_points
        if ev is None:
            return [None]
        return [self(x) * trace_of_product(matrix_inverse(x), ev)]


det = Det()


class SLogDet(MatrixOp):
    """numpy.linalg.slogdet: (sign, log|det|) per matrix; sign has the input's dtype
    (a unit complex number for complex input, -1/0/1 for real), log|det| is real."""

    __props__ = ()
    _who = "slogdet"
    handles_disconnected_outputs = True

    def make_node(self, x):
        x, op = self._input(x)
        return Apply(op, [x], [self._batch_type(x, x.dtype),
                               self._batch_type(x, real_dtype(x.dtype))])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        self._check(a)
        store(output_storage, node, guarded(a, lambda x: tuple(np.linalg.slogdet(x))))

    def infer_shape(self, fgraph, node, input_shapes):
        b = tuple(input_shapes[0][:-2])
        return [b, b]

    def L_op(self, inputs, outputs, output_grads):
        """d log|det| = Re tr(A^-1 dA); for complex A, d sign = sign i Im tr(A^-1 dA).
        The gradient is (g_log + i c) A^-H with c = -Im(conj(g_sign) sign); the sign of
        a real matrix is locally constant."""
        from symgraph.gradient import _is_disconnected
        (x,), (s, _), (gs, gl) = inputs, outputs, output_grads
        no_log = _is_disconnected(gl)
        if _is_disconnected(gs) or not is_complex(x):
            if no_log:
                return [zeros_like(x)]
            coef = gl
        else:
            c = neg(imag(conj(gs) * s))
            coef = make_complex(zeros_like(c) if no_log else gl, c)
        return [batch_scale(coef, x.ndim - 2) * H(matrix_inverse(x))]

    def R_op(self, inputs, eval_points):
        (x,), (ev,) = inputs, eval_points
        if ev is None:
            return [None, None]
        s, _ = self(x)
        t = trace_of_product(matrix_inverse(x), ev)
        if not is_complex(x):
            return [zeros_like(s), t]
        return [s * make_complex(zeros_like(real(t)), imag(t)), real(t)]


slogdet = SLogDet()


# ----------------------------------------------------------------------- pseudo-inverse

class MatrixPinv(MatrixOp):
    """numpy.linalg.pinv(a, rcond): singular values below rcond * (the largest) count
    as zero. Any (m, n) matrices; the result is (n, m)."""

    __props__ = ("rcond",)
    _who = "pinv"
    _square = False

    def __init__(self, rcond=1e-15):
        self.rcond = float(rcond)

    def make_node(self, x):
        x, op = self._input(x)
        m, n = x.type.shape[-2:]
        return Apply(op, [x], [self._batch_type(x, x.dtype, (n, m))])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        self._check(a)
        store(output_storage, node,
               guarded(a, lambda x: (np.linalg.pinv(x, rcond=self.rcond),)))

    def infer_shape(self, fgraph, node, input_shapes):
        s = input_shapes[0]
        return [tuple(s[:-2]) + (s[-1], s[-2])]

    def L_op(self, inputs, outputs, output_grads):
        """Golub and Pereyra's derivative, valid where the rank is locally constant
        (e.g. full-rank A; at a rank change the pseudo-inverse is not continuous):
        dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P, whose adjoint is
        -P^H G P^H + (I - A P) G^H P P^H + P^H P G^H (I - P A)."""
        (a,), (p,), (g,) = inputs, outputs, output_grads
        ph, gh = H(p), H(g)
        ap, pa = mm(a, p), mm(p, a)
        return [neg(mm(ph, g, ph)) + mm(gh, p, ph) - mm(ap, gh, p, ph)
                + mm(ph, p, gh) - mm(ph, p, gh, pa)]

    def R_op(self, inputs, eval_points):
        (a,), (ev,) = inputs, eval_points
        if ev is None:
            return [None]
        p = self(a)
        eh = H(ev)
        return [neg(mm(p, ev, p)) + mm(p, H(p), eh) - mm(p, H(p), eh, a, p)
                + mm(eh, H(p), p) - mm(p, a, eh, H(p), p)]


def pinv(x, rcond=1e-15):
    """The Moore-Penrose pseudo-inverse (numpy.linalg.pinv with its default rcond)."""
    return MatrixPinv(rcond)(x)


# ----------------------------------------------------------------------- matrix power

def _power_graph(a, n):
    """a ** n (n >= 1) with numpy.linalg.matrix_power's order of products."""
    if n <= 3:
        out = a
        for _ in range(n - 1):
            out = mm(out, a)
        return out
    z = result = None
    while n > 0:
        z = a if z is None else mm(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else mm(result, z)
    return result


class MatrixPower(MatrixOp):
    """numpy.linalg.matrix_power(a, n) for an integer n: repeated products (by binary
    decomposition), the inverse first for negative n, the identity for n = 0.
    Integer and bool matrices keep their dtype for n >= 0, as in NumPy."""

    __props__ = ("n",)
    _who = "matrix_power"

    def __init__(self, n):
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"matrix_power: the exponent must be a Python integer, got {n!r}")
        self.n = int(n)

    def make_node(self, x):
        x, op = self._input(x, cast_float=self.n < 0)
        return Apply(op, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        self._check(a)
        if self.n < 0:
            a = _inverse(a, self._who, self)
        store(output_storage, node, [np.linalg.matrix_power(a, abs(self.n))])

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]

    def _graph(self, x):
        base = matrix_inverse(x) if self.n < 0 else x
        return _power_graph(base, abs(self.n))

    def L_op(self, inputs, outputs, output_grads):
        """The gradient of the same products written out (O(log n) of them)."""
        from symgraph.gradient import Lop
        (x,), (g,) = inputs, output_grads
        if self.n == 0:
            return [zeros_like(x)]
        return [Lop(self._graph(x), x, g)]

    def R_op(self, inputs, eval_points):
        from symgraph.gradient import Rop
        (x,), (ev,) = inputs, eval_points
        if ev is None:
            return [None]
        if self.n == 0:
            return [zeros_like(x)]
        return [Rop(self._graph(x), x, ev)]


def matrix_power(x, n):
    """``x`` raised to the integer power ``n`` (numpy.linalg.matrix_power)."""
    return MatrixPower(n)(x)


# ----------------------------------------------------------------------- the rest of the API

from symgraph.tensor.nlinalg_decomp import *  # noqa: E402,F401,F403
from symgraph.tensor.nlinalg_decomp import __all__ as _decomp_all  # noqa: E402
from symgraph.tensor.nlinalg_funcs import *  # noqa: E402,F401,F403
from symgraph.tensor.nlinalg_funcs import __all__ as _funcs_all  # noqa: E402

__all__ += list(_decomp_all) + list(_funcs_all)
