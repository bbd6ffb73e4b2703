"""The matrix exponential and its Fréchet derivative, real and complex.

expm(A) = Σ Aᵏ/k!; its derivative in the direction E is the Fréchet derivative
L(A, E) = ∫₀¹ e^{sA} E e^{(1-s)A} ds. For a real cost C with G = dC/d expm(A)
(symgraph's convention, dC/dRe + i dC/dIm), the gradient is the adjoint of
E ↦ L(A, E) under Re⟨·,·⟩, which is L(Aᴴ, G): the gradient of expm is the
Fréchet derivative at the conjugate transpose.

That is what unitary RNNs need: with U unitary and S skew-Hermitian,
U expm(S) stays unitary, and the gradient through expm(S) is one ExpmFrechet.
Imported by (and exported from) slinalg.py.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Apply
from symgraph.graph.op import Op
from symgraph.tensor.slinalg_base import (
    batch_dims, batch_loop, broadcast_core, common_dtype, dim, mH, out_type, runtime_batch,
    runtime_match, runtime_square, square_matrix, static_batch, static_match, sum_to_batch,
)
from symgraph.lazy import lazy_module

sla = lazy_module("scipy.linalg")  # imported on first use: see symgraph/lazy.py


class Expm(Op):
    """``Expm()(a)``: scipy.linalg.expm of a square matrix (or a stack of them),
    by scaling and squaring with Padé approximants (Al-Mohy & Higham)."""

    __props__ = ()

    def make_node(self, a):
        a = square_matrix(a, "expm")
        return Apply(self, [a], [out_type(a.dtype, a.type.shape)])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        runtime_square("expm", a)
        dt = node.outputs[0].type.numpy_dtype
        if a.size == 0:
            output_storage[0][0] = np.zeros(a.shape, dtype=dt)
            return
        output_storage[0][0] = np.asarray(sla.expm(a), dtype=dt)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]

    def L_op(self, inputs, outputs, output_grads):
        """ḡ_A = L(Aᴴ, ḡ): the Fréchet derivative at the conjugate transpose."""
        (a,), (g,) = inputs, output_grads
        return [ExpmFrechet()(mH(a), g)]

    def R_op(self, inputs, eval_points):
        """d expm(A) = L(A, dA)."""
        (a,), (da,) = inputs, eval_points
        return [None if da is None else ExpmFrechet()(a, da)]


def expm(a):
    """The matrix exponential (scipy.linalg.expm), real or complex, stacks allowed."""
    return Expm()(a)


class ExpmFrechet(Op):
    """``ExpmFrechet()(a, e)``: the Fréchet derivative L(a, e) of expm at ``a`` in the
    direction ``e`` (scipy.linalg.expm_frechet, without expm itself); stacks
    broadcast."""

    __props__ = ()

    def make_node(self, a, e):
        who = "expm_frechet"
        a = square_matrix(a, who, "a")
        e = square_matrix(e, who, "e")
        a, e = common_dtype(who, a, e)
        static_match(who, a, -1, e, -1, "a", "e")
        batch = static_batch(who, [(a, 2), (e, 2)])
        n = next((s for s in (a.type.shape[-1], e.type.shape[-1]) if s is not None), None)
        return Apply(self, [a, e], [out_type(a.dtype, batch + (n, n))])

    def perform(self, node, inputs, output_storage):
        who = "expm_frechet"
        a, e = inputs
        runtime_square(who, a, "a")
        runtime_square(who, e, "e")
        runtime_match(who, a, -1, e, -1, "a", "e")
        batch = runtime_batch(who, node, inputs, [2, 2])
        A, E = broadcast_core(a, batch, 2), broadcast_core(e, batch, 2)
        dt = node.outputs[0].type.numpy_dtype
        res = np.zeros(batch + a.shape[-2:], dtype=dt)
        if a.shape[-1]:
            # expm_frechet computes in float64/complex128; float32 results are cast back
            for idx in batch_loop(batch):
                res[idx] = sla.expm_frechet(A[idx], E[idx], compute_expm=False)
        output_storage[0][0] = res

    def infer_shape(self, fgraph, node, input_shapes):
        nb = node.outputs[0].ndim - 2
        a = node.inputs[0]
        n = dim(a, input_shapes[0], a.ndim - 1)
        return [tuple(batch_dims(node, input_shapes, [2, 2], nb) + [n, n])]

    @staticmethod
    def _block(a, e):
        """[[a, e], [0, a]], whose exponential holds L(a, e) in its upper-right block."""
        from symgraph.tensor.creation import zeros_like
        from symgraph.tensor.join import concatenate
        from symgraph.tensor.math import add
        z = zeros_like(add(a, e))     # a's and e's broadcast batch shape
        a_b, e_b = add(a, zeros_like(z)), add(e, zeros_like(z))
        top = concatenate([a_b, e_b], axis=-1)
        bottom = concatenate([z, a_b], axis=-1)
        return concatenate([top, bottom], axis=-2)

    def L_op(self, inputs, outputs, output_grads):
        """Second-order terms through the block identity L(a, e) = expm(B)[:n, n:] with
        B = [[a, e], [0, a]]: the gradient of expm at B, L(Bᴴ, [[0, ḡ], [0, 0]]),
        read back blockwise (ḡ_a = its two diagonal blocks, ḡ_e = its upper right)."""
        from symgraph.tensor.creation import zeros_like
        from symgraph.tensor.join import concatenate
        a, e = inputs
        (g,) = output_grads
        n = a.shape[-1]
        z = zeros_like(g)
        G = concatenate([concatenate([z, g], axis=-1), concatenate([z, z], axis=-1)], axis=-2)
        H = ExpmFrechet()(mH(self._block(a, e)), G)
        ga = H[..., :n, :n] + H[..., n:, n:]
        ge = H[..., :n, n:]
        return [sum_to_batch(ga, a), sum_to_batch(ge, e)]

    def R_op(self, inputs, eval_points):
        """The upper-right block of L(B, dB), B = [[a, e], [0, a]]."""
        from symgraph.tensor.creation import zeros_like
        a, e = inputs
        da, de = eval_points
        if da is None and de is None:
            return [None]
        da = zeros_like(a) if da is None else da
        de = zeros_like(e) if de is None else de
        n = a.shape[-1]
        res = ExpmFrechet()(self._block(a, e), self._block(da, de))
        return [res[..., :n, n:]]


def expm_frechet(a, e, compute_expm=True):
    """As scipy.linalg.expm_frechet: (expm(a), L(a, e)), or L(a, e) alone when
    ``compute_expm`` is False."""
    frechet = ExpmFrechet()(a, e)
    return (Expm()(a), frechet) if compute_expm else frechet


__all__ = ["Expm", "ExpmFrechet", "expm", "expm_frechet"]
