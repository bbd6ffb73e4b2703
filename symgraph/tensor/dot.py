"""Products that contract dimensions: dot, matmul, tensordot, batched_dot and friends.

Every op here first casts its two inputs to their common NumPy result type, so
the kernel (BLAS for floats and complexes) always sees one dtype; bool and
integer inputs work as in NumPy. Inner dimensions that are statically known and
differ are refused when the graph is built (ShapeError); at run time a mismatch
raises ShapeError (a ValueError) naming both shapes.
"""

from __future__ import annotations

import math as _pymath

import numpy as np

from symgraph.graph.basic import Apply
from symgraph.graph.op import Op
from symgraph.graph.utils import ShapeError
from symgraph.scalar.basic import upcast
from symgraph.tensor.axes import normalize_axes
from symgraph.tensor.basic import as_tensor_variable, constant, is_python_scalar
from symgraph.tensor.elemwise import _fmt_shape, broadcast_static_shape, dimshuffle
from symgraph.tensor.math import as_elemwise_inputs, cast, conj, mul
from symgraph.tensor.type import TensorType

__all__ = ["Dot", "MatMul", "TensorDot", "BatchedDot", "dot", "matmul", "tensordot",
           "outer", "inner", "vdot", "batched_dot"]


# ----------------------------------------------------------------------- helpers

def _same_dtype(a, b):
    """Both inputs as tensors of their common result dtype (casts are graph nodes)."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    dt = upcast(a.dtype, b.dtype)
    return cast(a, dt), cast(b, dt)


def _describe(v):
    return f"{v} of type {v.type}"


def _static_inner_check(what, a, ax, b, bx):
    """ShapeError if dimension ``ax`` of ``a`` and ``bx`` of ``b`` are known and differ."""
    ka, kb = a.type.shape[ax], b.type.shape[bx]
    if ka is not None and kb is not None and ka != kb:
        raise ShapeError(
            f"{what}: shapes {_fmt_shape(a.type.shape)} and {_fmt_shape(b.type.shape)} are not "
            f"aligned: dimension {ax} of the first ({ka}) != dimension {bx} of the second ({kb})")


def _runtime_inner_check(what, a, ax, b, bx):
    if a.shape[ax] != b.shape[bx]:
        raise ShapeError(
            f"{what}: shapes {a.shape} and {b.shape} are not aligned: dimension {ax} of the "
            f"first ({a.shape[ax]}) != dimension {bx} of the second ({b.shape[bx]})")


def _int64(n):
    return constant(n, dtype="int64")


def _dim(static, symbolic):
    """The symbolic length of a dimension: a constant where statically known."""
    return _int64(static) if static is not None else symbolic


def _store(output_storage, node, value):
    output_storage[0][0] = np.asarray(value, dtype=node.outputs[0].type.numpy_dtype)


# ----------------------------------------------------------------------- gradient helpers

def _conj(x):
    """conj(x) for a complex ``x``; ``x`` itself otherwise (no node for real data)."""
    return conj(x) if x.type.numpy_dtype.kind == "c" else x


def _swap_last(x):
    """``x`` with its last two axes exchanged."""
    order = list(range(x.ndim))
    order[-2], order[-1] = order[-1], order[-2]
    return dimshuffle(x, order)


def _like(t, x):
    """The tangent ``t`` declared to have length 1 wherever ``x`` statically has, so
    that it broadcasts as ``x`` does (a user's eval point may not say so)."""
    if t is None or not any(s == 1 and ts != 1 for s, ts in zip(x.type.shape, t.type.shape)):
        return t
    from symgraph.tensor.shape import specify_shape
    return specify_shape(t, tuple(1 if s == 1 else ts for s, ts in zip(x.type.shape,
                                                                        t.type.shape)))


def _product_rule(op, inputs, eval_points):
    """R_op of a bilinear ``op``: op(ta, b) + op(a, tb), skipping missing tangents."""
    a, b = inputs
    ta, tb = (_like(t, x) for t, x in zip(eval_points, inputs))
    terms = []
    if ta is not None:
        terms.append(op(ta, b))
    if tb is not None:
        terms.append(op(a, tb))
    if not terms:
        return [None]
    from symgraph.tensor.math import add
    return [terms[0] if len(terms) == 1 else add(*terms)]


def _perm_back(order):
    """The dimshuffle pattern that puts axes listed in ``order`` (axis ids) back in order."""
    return [order.index(i) for i in range(len(order))]


# ----------------------------------------------------------------------- Dot

class Dot(Op):
    """np.dot of vectors and matrices (each input 1-d or 2-d).

    vector·vector gives a 0-d result, matrix·vector and vector·matrix a vector,
    matrix·matrix a matrix. Scalars and higher ranks go through ``dot()``.
    """

    __props__ = ()

    def make_node(self, a, b):
        a, b = _same_dtype(a, b)
        for which, v in (("first", a), ("second", b)):
            if v.ndim not in (1, 2):
                raise TypeError(
                    f"Dot: expected a 1-d or 2-d tensor as {which} input, got {_describe(v)} "
                    f"with {v.ndim} dimensions; use dot() for scalars and higher ranks")
        _static_inner_check("dot", a, a.ndim - 1, b, 0)
        shape = a.type.shape[:-1] + b.type.shape[1:]
        return Apply(self, [a, b], [TensorType(a.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        a, b = inputs
        _runtime_inner_check("dot", a, a.ndim - 1, b, 0)
        _store(output_storage, node, np.dot(a, b))

    def infer_shape(self, fgraph, node, input_shapes):
        sa, sb = input_shapes
        a, b = node.inputs
        dims = [_dim(s, d) for s, d in zip(a.type.shape[:-1], sa[:-1])]
        dims += [_dim(s, d) for s, d in zip(b.type.shape[1:], sb[1:])]
        return [tuple(dims)]

    def L_op(self, inputs, outputs, output_grads):
        a, b = inputs
        (g,) = output_grads
        ca, cb = _conj(a), _conj(b)
        if a.ndim == 1 and b.ndim == 1:      # out = sum_k a_k b_k
            return [mul(g, cb), mul(g, ca)]
        if a.ndim == 2 and b.ndim == 1:      # out_i = sum_k a_ik b_k
            return [mul(dimshuffle(g, (0, "x")), dimshuffle(cb, ("x", 0))),
                    _dot(_swap_last(ca), g)]
        if a.ndim == 1:                      # out_j = sum_k a_k b_kj
            return [_dot(cb, g),
                    mul(dimshuffle(ca, (0, "x")), dimshuffle(g, ("x", 0)))]
        return [_dot(g, _swap_last(cb)), _dot(_swap_last(ca), g)]

    def R_op(self, inputs, eval_points):
        return _product_rule(self, inputs, eval_points)


_dot = Dot()


def dot(a, b):
    """The dot product with np.dot semantics, for every combination of ranks.

    A scalar operand multiplies elementwise (Python numbers are weak, as in ``a * 2``);
    vectors and matrices use the Dot op; higher ranks sum over the last axis of
    ``a`` and the second-to-last of ``b`` (the last when ``b`` is a vector) through
    tensordot.
    """
    if is_python_scalar(a) or is_python_scalar(b):
        return mul(*as_elemwise_inputs([a, b]))
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return tensordot(a, b, [[a.ndim - 1], [max(b.ndim - 2, 0)]])


# ----------------------------------------------------------------------- MatMul

def _matmul_parts(shape):
    """(batch dims, core dims) of a matmul operand's shape; a vector has no batch."""
    return (shape[:-2], shape[-2:]) if len(shape) >= 2 else ((), shape)


class MatMul(Op):
    """np.matmul: a stack of matrix products over broadcast batch dimensions.

    A 1-d first input is a row vector and a 1-d second input a column vector; the
    dimension added for them is removed from the result. Batch dimensions
    broadcast as in Elemwise: only a dimension of static length 1 broadcasts, and
    the others must match at run time.
    """

    __props__ = ()

    def make_node(self, a, b):
        a, b = _same_dtype(a, b)
        for which, v in (("first", a), ("second", b)):
            if v.ndim == 0:
                raise TypeError(
                    f"matmul: expected a tensor of at least 1 dimension as {which} input, got "
                    f"the scalar {_describe(v)}; use * (mul) to multiply by a scalar")
        _static_inner_check("matmul", a, a.ndim - 1, b, max(b.ndim - 2, 0))
        batch = broadcast_static_shape(
            self._padded_batches(a.type.shape, b.type.shape),
            what=f"the batch dimensions of matmul (shapes {_fmt_shape(a.type.shape)} and "
                 f"{_fmt_shape(b.type.shape)})")
        shape = batch
        if a.ndim >= 2:
            shape += (a.type.shape[-2],)
        if b.ndim >= 2:
            shape += (b.type.shape[-1],)
        return Apply(self, [a, b], [TensorType(a.dtype, shape=shape)()])

    @staticmethod
    def _padded_batches(sa, sb):
        ba, bb = _matmul_parts(sa)[0], _matmul_parts(sb)[0]
        n = max(len(ba), len(bb))
        return [(1,) * (n - len(ba)) + tuple(ba), (1,) * (n - len(bb)) + tuple(bb)]

    def perform(self, node, inputs, output_storage):
        a, b = inputs
        ta, tb = node.inputs
        _runtime_inner_check("matmul", a, a.ndim - 1, b, max(b.ndim - 2, 0))
        (sa, sb) = self._padded_batches(ta.type.shape, tb.type.shape)
        (ra, rb) = self._padded_batches(a.shape, b.shape)
        for d, (x, y, m, n) in enumerate(zip(sa, sb, ra, rb)):
            if x != 1 and y != 1 and m != n:
                raise ShapeError(
                    f"matmul: batch dimension {d} differs between shapes {a.shape} and "
                    f"{b.shape} (static {_fmt_shape(ta.type.shape)} and "
                    f"{_fmt_shape(tb.type.shape)}). Only batch dimensions declared with static "
                    "length 1 broadcast")
        _store(output_storage, node, np.matmul(a, b))

    def infer_shape(self, fgraph, node, input_shapes):
        a, b = node.inputs
        sym_a, sym_b = self._padded_batches(input_shapes[0], input_shapes[1])
        st_a, st_b = self._padded_batches(a.type.shape, b.type.shape)
        out_static = node.outputs[0].type.shape
        dims = []
        for d, st in enumerate(out_static[:len(st_a)]):
            if st is not None:
                dims.append(_int64(st))
            else:  # some input is not statically 1 there: its length is the result's
                dims.append(sym_a[d] if st_a[d] != 1 else sym_b[d])
        if a.ndim >= 2:
            dims.append(_dim(a.type.shape[-2], input_shapes[0][-2]))
        if b.ndim >= 2:
            dims.append(_dim(b.type.shape[-1], input_shapes[1][-1]))
        return [tuple(dims)]

    def L_op(self, inputs, outputs, output_grads):
        a, b = inputs
        (g,) = output_grads
        # promote vectors to matrices (a row for a, a column for b), as matmul does
        a2 = dimshuffle(a, ("x", 0)) if a.ndim == 1 else a
        b2 = dimshuffle(b, (0, "x")) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = dimshuffle(g2, tuple(range(g2.ndim - (b.ndim != 1))) + ("x",) +
                            ((g2.ndim - 1,) if b.ndim != 1 else ()))
        if b.ndim == 1:
            g2 = dimshuffle(g2, tuple(range(g2.ndim)) + ("x",))
        ga = _unbroadcast_batch(_matmul(g2, _swap_last(_conj(b2))), a2, a.ndim == 1)
        gb = _unbroadcast_batch(_matmul(_swap_last(_conj(a2)), g2), b2, b.ndim == 1,
                                vector_axis=-1)
        return [ga, gb]

    def R_op(self, inputs, eval_points):
        return _product_rule(self, inputs, eval_points)


def _unbroadcast_batch(grad, x2, was_vector, vector_axis=-2):
    """Sum ``grad`` (batch dims of the product + x2's core dims) back to the shape of
    the matmul operand ``x2``: over batch dims that ``x2`` lacks, and over those where
    ``x2`` has static length 1 and was broadcast; then drop the axis added to a vector."""
    from symgraph.tensor.reduction import sum as sum_

    extra = grad.ndim - x2.ndim
    if extra:
        grad = sum_(grad, axis=tuple(range(extra)))
    bcast = [d for d in range(x2.ndim - 2)
             if x2.type.shape[d] == 1 and grad.type.shape[d] != 1]
    if bcast:
        grad = sum_(grad, axis=tuple(bcast), keepdims=True)
    if was_vector:
        drop = vector_axis % grad.ndim
        if grad.type.shape[drop] != 1:
            from symgraph.tensor.shape import specify_shape
            grad = specify_shape(grad, tuple(1 if d == drop else s
                                             for d, s in enumerate(grad.type.shape)))
        grad = dimshuffle(grad, [d for d in range(grad.ndim) if d != drop])
    return grad


_matmul = MatMul()


def matmul(a, b):
    """The matrix product with np.matmul semantics (also the ``@`` operator).

    Batch dimensions broadcast statically (a dimension broadcasts only when its
    static length is 1); vector operands are promoted and the added dimension
    removed. Scalars are refused with TypeError, as ``@`` refuses them in NumPy.
    """
    return _matmul(a, b)


# ----------------------------------------------------------------------- TensorDot

def _normalize_axes(axes, nda, ndb):
    """np.tensordot's ``axes`` (an int, or a pair of ints or sequences) as two tuples
    of non-negative axes, with range, repetition and length checked."""
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > nda or n > ndb:
            raise ValueError(f"tensordot: axes={n} needs both inputs to have at least {n} "
                             f"dimensions (they have {nda} and {ndb}), and must be >= 0")
        return tuple(range(nda - n, nda)), tuple(range(n))
    try:
        xa, xb = axes
    except (TypeError, ValueError):
        raise TypeError(f"tensordot: axes must be an int or a pair of axis sequences, "
                        f"got {axes!r}") from None
    out = []
    for name, x, nd in (("first", xa, nda), ("second", xb, ndb)):
        x = [x] if isinstance(x, (int, np.integer)) else list(x)
        out.append(normalize_axes(x, nd, "tensordot", allow_none=False, of=f"the {name} input",
                                  sort=False))
    if len(out[0]) != len(out[1]):
        raise ValueError(f"tensordot: the axes lists {list(out[0])} and {list(out[1])} "
                         "must have the same length")
    return out[0], out[1]


class TensorDot(Op):
    """np.tensordot with fixed (non-negative) ``axes``: sum the products over
    ``axes[0]`` of the first input and ``axes[1]`` of the second.

    The result's dimensions are the free dimensions of the first input followed by
    those of the second, in order.
    """

    __props__ = ("axes",)

    def __init__(self, axes):
        xa, xb = axes
        self.axes = (tuple(int(i) for i in xa), tuple(int(i) for i in xb))
        if len(self.axes[0]) != len(self.axes[1]):
            raise ValueError(f"TensorDot: axes {self.axes} of different lengths")
        for x in self.axes:
            if len(set(x)) != len(x) or any(i < 0 for i in x):
                raise ValueError(f"TensorDot: axes must be distinct and non-negative, "
                                 f"got {self.axes}")

    def make_node(self, a, b):
        a, b = _same_dtype(a, b)
        for which, v, x in (("first", a, self.axes[0]), ("second", b, self.axes[1])):
            if x and max(x) >= v.ndim:
                raise TypeError(
                    f"{self}: expected a tensor of at least {max(x) + 1} dimensions as {which} "
                    f"input, got {_describe(v)}")
        for ia, ib in zip(*self.axes):
            _static_inner_check("tensordot", a, ia, b, ib)
        shape = tuple(s for i, s in enumerate(a.type.shape) if i not in self.axes[0]) + \
            tuple(s for i, s in enumerate(b.type.shape) if i not in self.axes[1])
        return Apply(self, [a, b], [TensorType(a.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        a, b = inputs
        for ia, ib in zip(*self.axes):
            _runtime_inner_check("tensordot", a, ia, b, ib)
        _store(output_storage, node, np.tensordot(a, b, axes=self.axes))

    def infer_shape(self, fgraph, node, input_shapes):
        dims = []
        for v, sym, x in zip(node.inputs, input_shapes, self.axes):
            dims += [_dim(s, d) for i, (s, d) in enumerate(zip(v.type.shape, sym)) if i not in x]
        return [tuple(dims)]

    def L_op(self, inputs, outputs, output_grads):
        a, b = inputs
        (g,) = output_grads
        xa, xb = self.axes
        free_a = [i for i in range(a.ndim) if i not in xa]
        free_b = [i for i in range(b.ndim) if i not in xb]
        g_a = list(range(len(free_a)))                    # g's axes from a
        g_b = list(range(len(free_a), g.ndim))            # g's axes from b
        # ga: contract g with conj(b) over b's free axes; the result holds a's free
        # axes, then a's contracted axes in the order of b's contracted axes
        ga = TensorDot((g_b, free_b))(g, _conj(b))
        ga_order = free_a + [xa[j] for j in sorted(range(len(xb)), key=lambda j: xb[j])]
        gb = TensorDot((free_a, g_a))(_conj(a), g)
        gb_order = [xb[j] for j in sorted(range(len(xa)), key=lambda j: xa[j])] + free_b
        return [_transpose_to(ga, ga_order), _transpose_to(gb, gb_order)]

    def R_op(self, inputs, eval_points):
        return _product_rule(self, inputs, eval_points)


def _transpose_to(x, order):
    """``x``, whose axis k is axis ``order[k]`` of the target, with its axes in order."""
    perm = _perm_back(order)
    return x if perm == list(range(x.ndim)) else dimshuffle(x, perm)


def tensordot(a, b, axes=2):
    """np.tensordot: sum of products over ``axes`` (an int n: the last n axes of ``a``
    with the first n of ``b``; or a pair of axis sequences).

    Built as a TensorDot op rather than from dimshuffle/reshape/dot: NumPy's
    tensordot already does that reshaping at run time, and one node keeps static
    shapes and error messages exact. A single-axis contraction of vectors and
    matrices becomes a Dot (transposing as needed), the form later rewrites expect.
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    xa, xb = _normalize_axes(axes, a.ndim, b.ndim)
    if len(xa) == 1 and a.ndim in (1, 2) and b.ndim in (1, 2):
        for ia, ib in zip(xa, xb):
            _static_inner_check("tensordot", a, ia, b, ib)
        if xa[0] != a.ndim - 1:
            a = dimshuffle(a, (1, 0))
        if xb[0] != 0:
            b = dimshuffle(b, (1, 0))
        return _dot(a, b)
    return TensorDot((xa, xb))(a, b)


# ----------------------------------------------------------------------- BatchedDot

def _bdot_b_axis(ndim):
    """The axis of ``b`` that batched_dot contracts: np.dot's for each ``b[i]``."""
    return 1 if ndim == 2 else ndim - 2


class BatchedDot(Op):
    """``out[i] = np.dot(a[i], b[i])`` for each ``i`` along the shared first dimension.

    For 3-d inputs a batch of matrix products; for 2-d inputs the row-wise dot
    product (a vector). Unlike matmul, the batch lengths must be equal: nothing
    broadcasts.
    """

    __props__ = ()

    def make_node(self, a, b):
        a, b = _same_dtype(a, b)
        for which, v in (("first", a), ("second", b)):
            if v.ndim < 2:
                raise TypeError(
                    f"batched_dot: expected a tensor of at least 2 dimensions (batch first) as "
                    f"{which} input, got {_describe(v)}")
        _static_inner_check("batched_dot (batch dimension)", a, 0, b, 0)
        cb = _bdot_b_axis(b.ndim)
        _static_inner_check("batched_dot", a, a.ndim - 1, b, cb)
        sa, sb = a.type.shape, b.type.shape
        batch = sa[0] if sa[0] is not None else sb[0]
        shape = (batch,) + sa[1:-1] + tuple(s for i, s in enumerate(sb) if i not in (0, cb))
        return Apply(self, [a, b], [TensorType(a.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        a, b = inputs
        _runtime_inner_check("batched_dot (batch dimension)", a, 0, b, 0)
        cb = _bdot_b_axis(b.ndim)
        _runtime_inner_check("batched_dot", a, a.ndim - 1, b, cb)
        n, k = a.shape[0], a.shape[-1]
        free_b = tuple(s for i, s in enumerate(b.shape) if i not in (0, cb))
        a3 = a.reshape(n, _pymath.prod(a.shape[1:-1]), k)
        b3 = np.moveaxis(b, cb, 1).reshape(n, k, _pymath.prod(free_b))
        out = np.matmul(a3, b3).reshape((n,) + a.shape[1:-1] + free_b)
        _store(output_storage, node, out)

    def infer_shape(self, fgraph, node, input_shapes):
        a, b = node.inputs
        sa, sb = input_shapes
        cb = _bdot_b_axis(b.ndim)
        out_static = node.outputs[0].type.shape
        dims = [_dim(out_static[0], sa[0])]
        dims += [_dim(s, d) for s, d in zip(a.type.shape[1:-1], sa[1:-1])]
        dims += [_dim(s, d) for i, (s, d) in enumerate(zip(b.type.shape, sb)) if i not in (0, cb)]
        return [tuple(dims)]

    def L_op(self, inputs, outputs, output_grads):
        from symgraph.tensor.reduction import sum as sum_
        from symgraph.tensor.shape import _mul_all, reshape, shape_i

        a, b = inputs
        (g,) = output_grads
        ca, cb_ = _conj(a), _conj(b)
        if b.ndim == 2:
            # out[i, A...] = sum_k a[i, A..., k] b[i, k]
            mid = a.ndim - 2
            g_k = dimshuffle(g, tuple(range(g.ndim)) + ("x",))
            b_a = dimshuffle(cb_, (0,) + ("x",) * mid + (1,))
            ga = mul(g_k, b_a)
            gb = mul(g_k, ca)
            if mid:
                gb = sum_(gb, axis=tuple(range(1, 1 + mid)))
            return [ga, gb]
        if a.ndim == 3 and b.ndim == 3:
            return [self(g, _swap_last(cb_)), self(_swap_last(ca), g)]
        # general ranks: a as (n, M, k), b as (n, k, P), g as (n, M, P)
        cbx = _bdot_b_axis(b.ndim)
        n = shape_i(a, 0)
        a_mid = [shape_i(a, d) for d in range(1, a.ndim - 1)]
        k = shape_i(a, a.ndim - 1)
        b_free = [d for d in range(1, b.ndim) if d != cbx]
        b_free_dims = [shape_i(b, d) for d in b_free]
        m_len, p_len = _mul_all(a_mid), _mul_all(b_free_dims)
        b_moved = dimshuffle(cb_, [0, cbx] + b_free)              # (n, k, free...)
        a3 = reshape(ca, [n, m_len, k])
        b3 = reshape(b_moved, [n, k, p_len])
        g3 = reshape(g, [n, m_len, p_len])
        ga = reshape(self(g3, _swap_last(b3)), [shape_i(a, d) for d in range(a.ndim)])
        gb = reshape(self(_swap_last(a3), g3), [n, k] + b_free_dims)
        gb = _transpose_to(gb, [0, cbx] + b_free)
        return [ga, gb]

    def R_op(self, inputs, eval_points):
        return _product_rule(self, inputs, eval_points)


_batched_dot = BatchedDot()


def batched_dot(a, b):
    """Theano's batched_dot: ``np.dot(a[i], b[i])`` for each ``i`` of the first dimension.

    3-d inputs give a batch of matrix products, 2-d inputs the row-wise dot product
    (a vector); the first dimensions must agree (no broadcasting).
    """
    return _batched_dot(a, b)


# ----------------------------------------------------------------------- small helpers

def _flat(x):
    """``x`` as a vector, in C order (as np.ravel)."""
    if x.ndim == 0:
        return dimshuffle(x, ("x",))
    if x.ndim == 1:
        return x
    from symgraph.tensor.shape import flatten
    return flatten(x, 1)


def outer(x, y):
    """The outer product of ``x`` and ``y``, flattened first as np.outer does."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    return mul(dimshuffle(_flat(x), (0, "x")), dimshuffle(_flat(y), ("x", 0)))


def inner(a, b):
    """np.inner: sum of products over the last axes of both inputs (a scalar multiplies)."""
    if is_python_scalar(a) or is_python_scalar(b):
        return mul(*as_elemwise_inputs([a, b]))
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    return tensordot(a, b, [[a.ndim - 1], [b.ndim - 1]])


def vdot(a, b):
    """np.vdot: the dot product of the flattened inputs, conjugating the first.

    The inputs must have the same number of elements (not necessarily the same shape).
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.type.numpy_dtype.kind == "c":
        a = conj(a)
    sa, sb = a.type.shape, b.type.shape
    if None not in sa and None not in sb and _pymath.prod(sa) != _pymath.prod(sb):
        raise ShapeError(f"vdot: inputs of shapes {_fmt_shape(sa)} and {_fmt_shape(sb)} do "
                         "not have the same number of elements")
    return _dot(_flat(a), _flat(b))
