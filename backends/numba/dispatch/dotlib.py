"""Compiled helpers of the dot-family kernels (dispatch/dot.py).

``mm(a, b, out)`` writes the matrix product of the 2-d arrays ``a`` (m, k) and
``b`` (k, n) into the C-contiguous ``out`` (m, n); every dot-family kernel
reduces its op to calls of it. Float and complex products go through BLAS, with
the routine and arguments numba's ``np.dot(a, b, out)`` uses (gemm; gemv or dot
when m or n is 1): a transposed operand is passed transposed, only operands that
are neither C- nor F-contiguous are copied. Small products (batches of small
matrices) are a plain loop instead, cheaper than the call. Integers accumulate in
int64 (uint64 for unsigned types) and wrap on storing, which gives NumPy's values
(its integer dot accumulates in a wider type and casts back: the same result modulo
2**bits); bools are an OR of ANDs.

``mm`` is one compiled function per argument types, cached on disk, so kernels
that call it only link it. It calls no numba overload (np.dot, np.empty,
np.ascontiguousarray): each would be compiled as a function of its own, and its
machine code emitted once more in every caller; the BLAS call and the dtype-specific
steps are intrinsics, written straight into ``mm`` (0.3 s to compile cold instead
of 2 s). The BLAS routines are reached through numba's own wrappers
(``numba_xxgemm`` ...) by name, so the compiled code holds no address and caches.

``gemm(z, alpha, x, y, beta, out)`` writes ``beta * z + alpha * (x @ y)`` into the
C-contiguous ``out`` (the Gemm op, symgraph/tensor/blas.py): it copies ``z`` into
``out`` and calls BLAS gemm with the given alpha and beta on it (numba's own
wrapper call fixes them at 1 and 0, so the call is written here), with the same
operand handling as ``mm``; small products and alpha = 0 are a loop.
"""

from __future__ import annotations

import numba
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic
from numba.np import linalg as _la
from numba.np.arrayobj import _array_copy, make_array

_OPTS = dict(cache=True, nogil=True, error_model="numpy")
_SMALL = 4096  # up to this many multiply-adds, a float product is a plain loop
_BLAS_DTYPES = (types.float32, types.float64, types.complex64, types.complex128)


# --------------------------------------------------------------------- BLAS

def _contiguity(context, builder, aty, value):
    """(C-contiguous, F-contiguous) of a 2-d array at run time, as i1 values: numba's
    is_contiguous and is_fortran written out for two dimensions (a dimension of
    length 0 or 1 places no condition on its stride). Numba compiles those as
    functions of their own when asked; this is a few instructions."""
    ary = make_array(aty)(context, builder, value)
    d0, d1 = cgutils.unpack_tuple(builder, ary.shape)
    s0, s1 = cgutils.unpack_tuple(builder, ary.strides)
    size = context.get_constant(types.intp, context.get_abi_sizeof(
        context.get_data_type(aty.dtype)))
    one = context.get_constant(types.intp, 1)
    long0 = builder.icmp_signed(">", d0, one)
    long1 = builder.icmp_signed(">", d1, one)
    unit0 = builder.icmp_signed("==", s0, size)
    unit1 = builder.icmp_signed("==", s1, size)
    c_rows = builder.icmp_signed("==", builder.mul(s1, d1), s0)
    f_cols = builder.icmp_signed("==", builder.mul(s0, d0), s1)
    c = builder.select(long1, builder.and_(unit1, builder.or_(builder.not_(long0), c_rows)),
                       builder.select(long0, unit0, cgutils.true_bit))
    f = builder.select(long0, builder.and_(unit0, builder.or_(builder.not_(long1), f_cols)),
                       builder.select(long1, unit1, cgutils.true_bit))
    return c, f


def _operand(context, builder, aty, value):
    """(value, is_f, copied) for the operand ``value`` of type ``aty``, decided as
    numba's np.dot after ``np.ascontiguousarray`` decides: a C- or F-typed array as
    it is (F when F-typed); an 'A' array F when F- but not C-contiguous at run time,
    C when C-contiguous, else a C-contiguous copy (``copied``, an i1, set then: the
    caller releases it). ``is_f`` is a Python bool when known at compile time."""
    if aty.layout in "CF":
        return value, aty.layout == "F", None
    c, f = _contiguity(context, builder, aty, value)
    is_f = builder.and_(f, builder.not_(c))
    copied = builder.not_(builder.or_(c, f))
    slot = cgutils.alloca_once_value(builder, value)
    with builder.if_then(copied, likely=False):
        cty = aty.copy(layout="C", readonly=False)
        # an array's LLVM struct does not depend on its layout: the slot takes either
        builder.store(_array_copy(context, builder, cty(aty), (value,)), slot)
    return builder.load(slot), is_f, copied


def _branch(builder, flag, emit):
    """emit(True) and emit(False) under an if/else on the i1 ``flag``, or only the one
    that a Python bool ``flag`` selects."""
    if isinstance(flag, bool):
        emit(flag)
        return
    with builder.if_else(flag) as (then, otherwise):
        with then:
            emit(True)
        with otherwise:
            emit(False)


@intrinsic
def _blas_mm(typingctx, a, b, out):
    """out[...] = a @ b through BLAS when the dtype is a BLAS one (True), else nothing
    (False, a constant). m, n and k must be positive (mm calls it for large products
    only); the routine and its arguments are those of numba's np.dot(a, b, out) on
    the operands' layouts."""
    arrays = (a, b, out)
    if not all(isinstance(x, types.Array) and x.ndim == 2 for x in arrays):
        return None
    blas = a.dtype in _BLAS_DTYPES
    if blas and (b.dtype != a.dtype or out.dtype != a.dtype or out.layout != "C"):
        raise TypingError(f"mm: BLAS needs operands of one dtype and a C-contiguous "
                          f"output, got {a}, {b}, {out}")
    sig = types.boolean(a, b, out)

    def codegen(context, builder, sig, args):
        if not blas:
            return cgutils.false_bit
        _la.ensure_blas()
        dtype = a.dtype
        c_ty, f_ty = types.Array(dtype, 2, "C"), types.Array(dtype, 2, "F")
        m, k = cgutils.unpack_tuple(builder, make_array(a)(context, builder, args[0]).shape)
        k_b, n = cgutils.unpack_tuple(builder, make_array(b)(context, builder, args[1]).shape)
        o = make_array(out)(context, builder, args[2])
        o_shapes = cgutils.unpack_tuple(builder, o.shape)
        # np.dot's checks, before any copy is made (in mm's loops the callers' own
        # checks suffice: a check there makes LLVM compile the bool loop 40% slower)
        bad = builder.or_(builder.icmp_signed("!=", k, k_b),
                          builder.or_(builder.icmp_signed("!=", m, o_shapes[0]),
                                      builder.icmp_signed("!=", n, o_shapes[1])))
        with builder.if_then(bad, likely=False):
            context.call_conv.return_user_exc(
                builder, ValueError, ("mm: the shapes of a, b and out do not agree",))
        # numba's check_c_int, without compiling it as a function of its own
        int_max = context.get_constant(types.intp, 2**31 - 1)
        for dim in (m, k, n):
            with builder.if_then(builder.icmp_signed(">", dim, int_max), likely=False):
                context.call_conv.return_user_exc(
                    builder, OverflowError, ("array size too large to fit in C int",))
        xv, x_f, x_copied = _operand(context, builder, a, args[0])
        yv, y_f, y_copied = _operand(context, builder, b, args[1])
        x = make_array(c_ty)(context, builder, xv)
        y = make_array(c_ty)(context, builder, yv)
        x_shapes = cgutils.unpack_tuple(builder, x.shape)
        y_shapes = cgutils.unpack_tuple(builder, y.shape)
        one = context.get_constant(types.intp, 1)

        def gemv_left(f):  # M * V: the matrix is a
            _la.call_xxgemv(context, builder, not f, f_ty if f else c_ty, x_shapes,
                            x.data, y.data, o.data)

        def gemv_right(f):  # V * M: the matrix is b
            _la.call_xxgemv(context, builder, f, f_ty if f else c_ty, y_shapes,
                            y.data, x.data, o.data)

        def gemm(fx):
            def inner(fy):
                _la.call_xxgemm(context, builder, f_ty if fx else c_ty, x_shapes, x.data,
                                f_ty if fy else c_ty, y_shapes, y.data,
                                out, o_shapes, o.data)
            _branch(builder, y_f, inner)

        with builder.if_else(builder.icmp_signed("==", n, one)) as (right_vec, right_mat):
            with right_vec:
                with builder.if_else(builder.icmp_signed("==", m, one)) as (vv, mv):
                    with vv:
                        _la.call_xxdot(context, builder, False, dtype, k, x.data, y.data,
                                       o.data)
                    with mv:
                        _branch(builder, x_f, gemv_left)
            with right_mat:
                with builder.if_else(builder.icmp_signed("==", m, one)) as (vm, mm_):
                    with vm:
                        _branch(builder, y_f, gemv_right)
                    with mm_:
                        _branch(builder, x_f, gemm)
        _release(context, builder, c_ty, ((x_copied, xv), (y_copied, yv)))
        return cgutils.true_bit
    return sig, codegen


def _release(context, builder, c_ty, operands):
    """Free the operands ``_operand`` copied (``copied`` set at run time)."""
    for copied, value in operands:
        if copied is not None:
            with builder.if_then(copied, likely=False):
                context.nrt.decref(builder, c_ty, value)


def _call_gemm(context, builder, dtype, x, x_f, y, y_f, o, n, alpha, beta):
    """numba_xxgemm: ``o = alpha * (x @ y) + beta * o`` for the C-contiguous (m, n)
    ``o``, with ``x`` and ``y`` C-contiguous arrays or F-contiguous (``x_f``, ``y_f``:
    Python bools) as numba's call_xxgemm passes them, but with the given ``alpha``
    and ``beta`` (pointers to values of ``dtype``; numba's fixes them at 1 and 0).
    BLAS is column-major: the row-major product is computed as o.T = y.T @ x.T."""
    void_p = ir.IntType(8).as_pointer()
    char = ir.IntType(8)
    intp = cgutils.intp_t
    fnty = ir.FunctionType(ir.IntType(32), [char, char, char, intp, intp, intp, void_p,
                                            void_p, intp, void_p, intp, void_p, void_p, intp])
    fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")
    m, k = cgutils.unpack_tuple(builder, x.shape)

    def operand(ary, is_f):
        rows, cols = cgutils.unpack_tuple(builder, ary.shape)
        trans = ir.Constant(char, ord("t" if is_f else "n"))
        return trans, rows if is_f else cols, builder.bitcast(ary.data, void_p)

    trans_a, lda, data_a = operand(y, y_f)
    trans_b, ldb, data_b = operand(x, x_f)
    kind = ir.Constant(char, ord(_la.get_blas_kind(dtype)))
    res = builder.call(fn, (kind, trans_a, trans_b, n, m, k, builder.bitcast(alpha, void_p),
                            data_a, lda, data_b, ldb, builder.bitcast(beta, void_p),
                            builder.bitcast(o.data, void_p), n))
    _la.check_blas_return(context, builder, res)


@intrinsic
def _blas_gemm(typingctx, alpha, a, b, beta, out):
    """out[...] = alpha * (a @ b) + beta * out through BLAS gemm (True, a constant);
    for dtypes BLAS does not have, nothing (False). m, n and k must be positive and
    the shapes agree (gemm checks them); ``out`` is C-contiguous. The operands are
    passed as ``mm`` passes them (a copy only when neither C- nor F-contiguous)."""
    if not all(isinstance(x, types.Array) and x.ndim == 2 for x in (a, b, out)):
        return None
    blas = a.dtype in _BLAS_DTYPES
    if blas and (b.dtype != a.dtype or out.dtype != a.dtype or out.layout != "C"):
        raise TypingError(f"gemm: BLAS needs operands of one dtype and a C-contiguous "
                          f"output, got {a}, {b}, {out}")
    sig = types.boolean(alpha, a, b, beta, out)

    def codegen(context, builder, sig, args):
        if not blas:
            return cgutils.false_bit
        _la.ensure_blas()
        dtype = a.dtype
        c_ty = types.Array(dtype, 2, "C")
        slots = [cgutils.alloca_once_value(
            builder, context.cast(builder, args[i], sig.args[i], dtype)) for i in (0, 3)]
        o = make_array(out)(context, builder, args[4])
        n = cgutils.unpack_tuple(builder, o.shape)[1]
        xv, x_f, x_copied = _operand(context, builder, a, args[1])
        yv, y_f, y_copied = _operand(context, builder, b, args[2])
        x = make_array(c_ty)(context, builder, xv)
        y = make_array(c_ty)(context, builder, yv)

        def call(fx):
            _branch(builder, y_f, lambda fy: _call_gemm(context, builder, dtype, x, fx, y, fy,
                                                         o, n, *slots))
        _branch(builder, x_f, call)
        _release(context, builder, c_ty, ((x_copied, xv), (y_copied, yv)))
        return cgutils.true_bit
    return sig, codegen


# --------------------------------------------------------------------- loops

def _acc_type(t):
    """The type products of numba type ``t`` accumulate in: int64 for signed integers
    and bools, uint64 for unsigned ones, ``t`` itself for floats and complex; None
    for other types."""
    if isinstance(t, types.Boolean):
        return types.int64
    if isinstance(t, types.Integer):
        return types.int64 if t.signed else types.uint64
    if isinstance(t, (types.Float, types.Complex)):
        return t
    return None


@intrinsic
def _widen(typingctx, x):
    """``x`` in the type a product accumulates in (``_acc_type``)."""
    to = _acc_type(x)
    if to is None:
        return None

    def codegen(context, builder, sig, args):
        return context.cast(builder, args[0], sig.args[0], sig.return_type)
    return to(x), codegen


@intrinsic
def _skips(typingctx, x):
    """True when the widened integer ``x`` is 0: its row of products adds nothing
    (exact for integers; floats never skip: 0 * inf is NaN, and signs of zeros)."""
    def codegen(context, builder, sig, args):
        if isinstance(x, types.Integer):
            return builder.icmp_unsigned("==", args[0], ir.Constant(args[0].type, 0))
        return cgutils.false_bit
    return types.boolean(x), codegen


@intrinsic
def _is_bool(typingctx, x):
    """True (a constant) for a bool array: its product is an OR of ANDs."""
    def codegen(context, builder, sig, args):
        return cgutils.true_bit if x.dtype == types.boolean else cgutils.false_bit
    return types.boolean(x), codegen


@intrinsic
def _is_integer(typingctx, x):
    """True (a constant) for an integer array: its sums do not depend on their order."""
    def codegen(context, builder, sig, args):
        return cgutils.true_bit if isinstance(x.dtype, types.Integer) else cgutils.false_bit
    return types.boolean(x), codegen


@intrinsic
def _is_complex(typingctx, x):
    """True (a constant) for a complex array."""
    def codegen(context, builder, sig, args):
        return cgutils.true_bit if isinstance(x.dtype, types.Complex) else cgutils.false_bit
    return types.boolean(x), codegen


@intrinsic
def _scalar_of(typingctx, v, x):
    """The scalar ``v`` cast to array ``x``'s dtype."""
    def codegen(context, builder, sig, args):
        return context.cast(builder, args[0], v, x.dtype)
    return x.dtype(v, x), codegen


@intrinsic
def _zero(typingctx, x):
    """0 in the type the products of array ``x``'s dtype accumulate in (``_widen``'s):
    a sum started from a plain 0 would be typed int64, or float64 for float32."""
    to = _acc_type(x.dtype)
    if to is None:
        return None

    def codegen(context, builder, sig, args):
        return context.get_constant_null(to)
    return to(x), codegen


@numba.njit(**_OPTS)
def mm(a, b, out):
    """out[...] = a @ b for 2-d ``a``, ``b`` of one dtype; ``out`` C-contiguous.

    Kernels pass the operands as 'A' (any-layout) arrays, sliced ``x[::1, ::1]``, so
    this is compiled (and cached) once per dtype rather than once per combination
    of layouts.
    """
    m, k = a.shape
    n = b.shape[1]
    if _is_bool(out):  # stops at the first pair of Trues
        for i in range(m):
            for j in range(n):
                acc = False
                for p in range(k):
                    if a[i, p] and b[p, j]:
                        acc = True
                        break
                out[i, j] = acc
        return
    if m * n * k > _SMALL and _blas_mm(a, b, out):
        return
    # a plain loop: small float products (a BLAS call costs more) and integers. Each
    # out[i, j] is 0 + a[i, 0] * b[0, j] + a[i, 1] * b[1, j] + ..., added in p's order
    # by either loop (the same bits): one sum per element kept in a local (3-7x faster
    # than the other for a matrix-vector product, 1.2-1.5x for small square ones), or
    # whole rows, out[i, :] += a[i, p] * b[p, :], which vectorise along j: as fast
    # once n >= 4k, and for integers (whose widening vectorises too) once n > 4
    if n <= 4 if _is_integer(out) else n < 4 * k:
        for i in range(m):
            for j in range(n):
                acc = _zero(out)
                for p in range(k):
                    acc += _widen(a[i, p]) * _widen(b[p, j])
                out[i, j] = acc
        return
    for i in range(m):
        for j in range(n):
            out[i, j] = 0
        for p in range(k):
            x = _widen(a[i, p])
            if _skips(x):
                continue
            for j in range(n):
                out[i, j] = _widen(out[i, j]) + x * _widen(b[p, j])


@numba.njit(**_OPTS)
def gemm(z, alpha, x, y, beta, out):
    """out[...] = beta * z + alpha * (x @ y) for 2-d ``z``, ``x``, ``y`` of one float or
    complex dtype; ``out`` C-contiguous, of z's shape. ``beta == 0`` does not read
    ``z`` (BLAS's convention); ``alpha == 0`` reads ``x`` and ``y`` (NaN and inf there
    reach the result, as in ``0 * (x @ y)``), so it is a loop, as are small products.
    ``out`` must not overlap ``x`` or ``y``; it may be ``z`` itself.

    Kernels pass ``z``, ``x`` and ``y`` as 'A' arrays (``v[::1, ::1]``), so this is
    compiled once per dtype.
    """
    m, k = x.shape
    n = y.shape[1]
    if y.shape[0] != k or z.shape[0] != m or z.shape[1] != n or \
            out.shape[0] != m or out.shape[1] != n:
        raise ValueError("gemm: the shapes of z, x, y and out do not agree")
    # in out's dtype, as BLAS takes them (the kernel passes them so): the loops'
    # arithmetic then stays in that dtype
    alpha = _scalar_of(alpha, out)
    beta = _scalar_of(beta, out)
    big = alpha != 0 and m * n * k > _SMALL
    # out may be z itself (the Scan kernel's in-place accumulators, dot.py's
    # GemmInPlace): then it holds z already
    same = out.ctypes.data == z.ctypes.data and out.strides == z.strides
    if (beta != 0 and not same) or (beta == 0 and not big):
        for i in range(m):
            for j in range(n):
                out[i, j] = z[i, j] if beta != 0 else 0
    if big and _blas_gemm(alpha, x, y, beta, out):
        return
    # a plain loop: out = beta * z, then out[i, j] += (alpha * x[i, p]) * y[p, j] in
    # p's order, by element with a local sum as in mm, or by rows. By element,
    # alpha * x[i, p] is computed once per j: still faster for real dtypes while
    # n < 4k, for complex ones (4 products each) up to n = 2
    if beta != 0 and beta != 1:
        for i in range(m):
            for j in range(n):
                out[i, j] = beta * out[i, j]
    if n <= 2 if _is_complex(out) else n < 4 * k:
        for i in range(m):
            for j in range(n):
                acc = out[i, j]
                for p in range(k):
                    acc += (alpha * x[i, p]) * y[p, j]
                out[i, j] = acc
        return
    for i in range(m):
        for p in range(k):
            w = alpha * x[i, p]
            for j in range(n):
                out[i, j] += w * y[p, j]
