"""Specialize: cheaper forms of general ops (phase 'specialize').

* ``local_pow_specialize``: x**2 -> sqr(x), x**0.5 -> sqrt(x), x**-1 -> reciprocal(x),
  x**-0.5 -> reciprocal(sqrt(x)), x**1 -> x, x**0 -> ones.
* ``local_pow_int_expand``: x**n for another constant integer 2 <= |n| <= 8 ->
  multiplications by repeated squaring (and a reciprocal for negative n, floats only).

``np.power`` is general and slow (x**3 takes about six times as long as x*x*x on
float64); each special case is one or a few cheap ufuncs.

A dot followed by the add of a broadcast bias in one op (np.dot, then the add in
place into its fresh result) is not done; a sum whose other term has the product's
full shape (``acc + dot(x, y)``) becomes a Gemm (rewriting/blas.py). Measured on
the Python backend (float64; 64x784 @ 784x256, 64x256 @ 256x10, 16x32 @ 32x16,
1000x100 @ 100x100, plus a bias): once fusion has merged the add into the
elementwise op that follows it (relu, tanh), the fused op saves no node and the
timings differ by less than their noise; alone, or before a softmax, it saves one
node (a few microseconds a call) and one allocation, which pays only where the
output is large. A general in-place elementwise pass would get that allocation back
for every op, not only after a dot.
"""

from __future__ import annotations

from symgraph.graph.rewriting.basic import node_rewriter
from symgraph.graph.rewriting.db import register
from symgraph.tensor import math as tm
from symgraph.tensor.basic import constant
from symgraph.tensor.creation import alloc
from symgraph.tensor.elemwise import Elemwise
from symgraph.tensor.rewriting.stabilize import _as_dtype, _const, _replace, _scalar_name
from symgraph.tensor.shape import shape_i


def _pow_parts(node):
    """(x cast to the output dtype, the exponent as a real number, the output) for
    pow(x, c) with c a constant of one element, else None."""
    if _scalar_name(node) != "pow":
        return None
    x, p = node.inputs
    c = _const(p)
    if c is None:
        return None
    c = complex(c)
    if c.imag != 0:
        return None
    out = node.outputs[0]
    return _as_dtype(x, out.dtype), c.real, out


@register("fast_run", "specialize", phase="specialize")
@node_rewriter([Elemwise])
def local_pow_specialize(fgraph, node):
    """x**2, x**0.5, x**-1, x**-0.5, x**1, x**0 -> sqr, sqrt, reciprocal, 1/sqrt, x, ones (speed).

    One cheap ufunc instead of the general power. Real floats only for the fractional
    and negative powers; x**-0.5 differs from np.power at x = -0.0 (-inf, not inf)
    and x = -inf (nan, not 0), where the real square root is undefined.
    """
    parts = _pow_parts(node)
    if parts is None:
        return None
    x, p, out = parts
    kind = out.type.dtype_kind
    if p == 1:
        new = x
    elif p == 0:
        new = alloc(constant(1, dtype=out.dtype), *[shape_i(x, d) for d in range(x.ndim)])
    elif p == 2:
        new = tm.sqr(x)
    elif kind != "f":
        return None
    elif p == 0.5:
        new = tm.sqrt(x)
    elif p == -1:
        new = tm.reciprocal(x)
    elif p == -0.5:
        new = tm.reciprocal(tm.sqrt(x))
    else:
        return None
    return _replace(node, new)


def _positive_power(x, n):
    """x**n (n >= 1) by repeated squaring: about log2(n) sqr and popcount(n) - 1 mul."""
    result, base = None, x
    while n:
        if n & 1:
            result = base if result is None else tm.mul(result, base)
        n >>= 1
        if n:
            base = tm.sqr(base)
    return result


#: the largest |n| that local_pow_int_expand expands
MAX_EXPANDED_POWER = 8


@register("fast_run", "specialize", phase="specialize")
@node_rewriter([Elemwise])
def local_pow_int_expand(fgraph, node):
    """x**n, n a constant integer with 3 <= |n| <= 8 or n = -2 -> repeated squaring (speed).

    x**6 = sqr(x) * sqr(sqr(x)): two or three multiplications are several times faster
    than np.power; a reciprocal for negative n (real floats only). The result may
    differ from np.power in the last bit, and 1 / x**n is 0 where x**n overflows but
    x**-n is a subnormal number.
    """
    parts = _pow_parts(node)
    if parts is None:
        return None
    x, p, out = parts
    kind = out.type.dtype_kind
    if not p.is_integer() or not 2 <= abs(p) <= MAX_EXPANDED_POWER or p == 2 \
            or kind not in "iuf":
        return None
    n = int(p)
    if n < 0:
        if kind != "f":
            return None  # integers to negative powers raise; leave that to pow
        return _replace(node, tm.reciprocal(_positive_power(x, -n)))
    return _replace(node, _positive_power(x, n))
