"""The twin of Elemwise nodes (fused Composites included) whose scalar ops NumPy does
not compute as the kernel does: exp, expm1, log, log1p, sin, cos and tanh of real
floats (vecmath.py in the kernel), sigmoid and softplus (special.py, around the C
library's exp/log1p), pow of floats (the C library's, or LLVM's rewrites of it),
maximum, minimum and clip of floats (numba's NaN-first select, where NumPy gives
max(0.0, -0.0) = -0.0).

The kernel (dispatch/elemwise.py) runs the scalar graph once per element: each op's
arguments cast to its compute dtype, the op, the result cast to its dtype
(dispatch/scalar.py). The twin runs the same graph one op at a time on whole arrays
(elements are independent, so the order of the loop does not matter):

- ops that exact.py finds exact (IEEE arithmetic, comparisons, casts...) by their
  own NumPy ``compute``, as the interpreter does;
- vecmath's functions by the maps of maps.py, in float64 (float32 computed in
  float64 and rounded, as the kernel's source does);
- sigmoid and softplus by their formula in special.py, step by step in the dtypes
  numba types it in (``1.0 + expf(x)`` is float64 in numba), the C library's
  functions by maps.py;
- maximum/minimum as numba's ``np.maximum``: ``a if a >= b or a is nan else b``;
- pow of floats as LLVM compiles ``np.power``: the C library's pow (maps.py), except
  for the exponents +-0, 1, 2, -1 and 0.5 written as constants in the Composite,
  which LLVM replaces by exact expressions (1, x, x * x, 1 / x, a sqrt).

Before accepting an op the twin compares the kernel source that scalar.py writes for
it with the one it replays, so a change there makes the twin fall back rather than
be wrong. Broadcasting is the kernel's: a dimension of static length 1 is read at
index 0, the others must agree (ValueError otherwise). Outputs are new C-contiguous
arrays (the kernel does not write in place either); 0-d outputs are 0-d arrays.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from backends.numba.numpy_twins import maps, register
from symgraph.tensor.elemwise import Elemwise

FLOATS = ("float32", "float64")
_COMPLEX = ("complex64", "complex128")


# ------------------------------------------------------------- the kernel's source

def _kernel_expr(sop, in_dtypes, out_dtypes):
    """The expression scalar.py writes for one scalar op on arguments a0, a1..., or None."""
    from backends.numba.dispatch.objmode import NotSupported
    from backends.numba.dispatch.scalar import scalar_lines

    names = [f"a{k}" for k in range(len(in_dtypes))]
    try:
        lines, outs = scalar_lines(sop, names, in_dtypes, out_dtypes, lambda: "t")
    except NotSupported:
        return None
    if len(lines) != 1 or outs != ["t"] or not lines[0].startswith("t = "):
        return None
    return lines[0][4:]


def _expected_expr(form, in_dtypes, out_dtype):
    """``form`` ("np.maximum({0}, {1})"...) on the arguments cast as scalar.py casts
    them, wrapped in the result cast."""
    from backends.numba.dispatch.scalar import cast, np_type

    args = [cast(f"a{k}", d, out_dtype) for k, d in enumerate(in_dtypes)]
    return f"{np_type(out_dtype)}({form.format(*args)})"


_SPECIAL_SOURCE = {
    # special.py's functions as this module replays them (whitespace ignored)
    "sigmoid": """def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))""",
    "softplus": '''def softplus(x):
    """log(1 + exp(x)) as NumPy's logaddexp(0, x)."""
    if x == 0.0:
        return x + _LN2
    if x > 0:
        return x + np.log1p(np.exp(-x))
    if x <= 0:
        return np.log1p(np.exp(x))
    return x  # NaN''',
}


@functools.lru_cache(maxsize=None)
def _special_is_replayed(name) -> bool:
    """Whether special.py's ``name`` still reads as this module replays it."""
    from backends.numba.dispatch import special

    fn = getattr(special, name, None)
    try:
        src = inspect.getsource(fn.py_func)
    except (AttributeError, OSError, TypeError):
        return False
    body = src[src.index("def "):] if "def " in src else ""
    return "".join(body.split()) == "".join(_SPECIAL_SOURCE[name].split())


# ----------------------------------------------------------------- replayed ops

def _as(x, dtype):
    return x if x.dtype == dtype else x.astype(dtype)


def _vecmath_step(name, out):
    def run(args):
        x = _as(args[0], out)
        r = maps.apply("vecmath", name, _as(x, np.float64))
        return [_as(r, out)]
    return run


def _sigmoid_step(out):
    def run(args):
        x = _as(args[0], out)
        # numba: -x and exp in x's dtype (expf for float32), then 1.0 + e and the
        # division in float64 (1.0 is a float64), rounded by the result cast
        e = maps.apply("libm", "exp", -x).astype(np.float64)
        return [_as(1.0 / (1.0 + e), out)]
    return run


def _softplus_step(out):
    ln2 = float(np.log(2.0))

    def run(args):
        x = _as(args[0], out)
        r = x.copy()                                # NaN: x itself
        pos, neg = x > 0, x <= 0
        xp, xn = x[pos], x[neg]
        # float32 stays float32 in these branches (x + float32), as in numba
        r[pos] = xp + maps.apply("libm", "log1p", maps.apply("libm", "exp", -xp))
        r[neg] = maps.apply("libm", "log1p", maps.apply("libm", "exp", xn))
        # x == 0: x + ln 2 in float64, rounded by the result cast
        r[x == 0] = np.asarray(0.0 + ln2).astype(out)
        return [r]
    return run


def _pow_step(out, c):
    """np.power of floats: llvm.pow, which LLVM replaces for a few exponents it sees
    as constants (exact rewrites only, without fast-math flags); otherwise the C
    library's pow. ``c``: the exponent's value as the kernel's literal (cast to the
    compute dtype), or None when it comes at run time."""
    one, inf = np.asarray(1.0, dtype=out), np.asarray(np.inf, dtype=out)

    def run(args):
        x = _as(args[0], out)
        if c is None:
            return [maps.apply("libm", "pow", x, _as(args[1], out))]
        if c == 0.0:                      # pow(x, +-0.0) -> 1.0
            return [np.full(x.shape, one)]
        if c == 1.0:                      # pow(x, 1.0) -> x
            return [x.copy()]
        if c == 2.0:                      # pow(x, 2.0) -> x * x
            return [x * x]
        if c == -1.0:                     # pow(x, -1.0) -> 1.0 / x
            return [one / x]
        if c == 0.5:                      # x == -inf ? +inf : fabs(sqrt(x))
            return [np.where(x == -inf, inf, np.abs(np.sqrt(x)))]
        return [maps.apply("libm", "pow", x, np.asarray(c, dtype=out))]
    return run


def _select_max(a, b):
    """numba's np.maximum of floats: a where a >= b or a is NaN, else b."""
    return np.where((a >= b) | np.isnan(a), a, b)


def _select_min(a, b):
    return np.where((a <= b) | np.isnan(a), a, b)


def _minmax_step(name, out):
    def run(args):
        a = [_as(x, out) for x in args]
        if name == "maximum":
            r = _select_max(a[0], a[1])
        elif name == "minimum":
            r = _select_min(a[0], a[1])
        else:  # clip
            r = _select_min(_select_max(a[0], a[1]), a[2])
        return [np.asarray(r, dtype=out)]
    return run


_FORMS = {"maximum": "np.maximum({0}, {1})", "minimum": "np.minimum({0}, {1})",
          "clip": "np.minimum(np.maximum({0}, {1}), {2})",
          "sigmoid": "sp_.sigmoid({0})", "softplus": "sp_.softplus({0})"}


def _step(sop, in_dtypes, out_dtypes, known=None):
    """A function of the argument arrays giving the output arrays of scalar op ``sop``
    as the kernel computes them, or None when it is not replayed. known: per argument
    inside a Composite, None when it comes at run time, else what LLVM knows of it
    when it compiles the loop: ("literal", value) or ("constant",) (computed from
    literals only)."""
    from backends.numba.exact import _scalar_exact
    from symgraph.scalar.composite import Composite

    in_dtypes, out_dtypes = list(in_dtypes), list(out_dtypes)
    known = list(known) if known is not None else [None] * len(in_dtypes)
    if isinstance(sop, Composite):
        return _composite_step(sop, known)
    if _scalar_exact(sop, in_dtypes, out_dtypes):
        return functools.partial(_compute, sop, out_dtypes)
    name = sop.name
    if len(out_dtypes) != 1 or out_dtypes[0] not in FLOATS or \
            any(d in _COMPLEX for d in in_dtypes):
        return None
    out = out_dtypes[0]
    got = _kernel_expr(sop, in_dtypes, out_dtypes)
    if got is None:
        return None
    if name in maps.VECMATH:
        arg = "{0}" if out == "float64" else "np.float64({0})"
        if got != _expected_expr(f"vm_.{name}({arg})", in_dtypes, out):
            return None
        return _vecmath_step(name, out)
    if name == "pow":
        if got != _expected_expr("np.power({0}, {1})", in_dtypes, out) or \
                not maps.libm_is_scalar():
            return None
        base, expo = known
        if base is not None or (expo is not None and expo[0] != "literal"):
            return None                   # LLVM rewrites pow(2.0, x) as exp2(x)...
        c = None if expo is None else float(np.asarray(expo[1]).astype(out))
        return _pow_step(out, c)
    if name in _FORMS:
        if got != _expected_expr(_FORMS[name], in_dtypes, out):
            return None
        if name in ("sigmoid", "softplus"):
            # of a constant, LLVM would fold the C library's call (expf of a float32
            # through the double function): other bits
            if known[0] is not None or not (maps.libm_is_scalar() and
                                            _special_is_replayed(name)):
                return None
            return _sigmoid_step(out) if name == "sigmoid" else _softplus_step(out)
        return _minmax_step(name, out)
    return None


def _compute(sop, out_dtypes, args):
    return sop.compute(args, out_dtypes)


def _composite_step(comp, known):
    """The inner graph, node by node; constants as 0-d arrays of their dtype (the
    kernel's literals hold the same values). known: what LLVM knows of each input
    (see _step; a Composite inside another one is inlined in the same loop)."""
    slot = {v: k for k, v in enumerate(comp.inputs)}
    dtypes = [v.type.dtype for v in comp.inputs]
    info = dict(enumerate(known))         # slot -> what LLVM knows of it, or None
    plan = []
    for node in comp.nodes:
        args, known = [], []
        for i in node.inputs:
            if i in slot:
                args.append((True, slot[i]))
                known.append(info.get(slot[i]))
            else:
                value = np.asarray(i.data, dtype=i.type.dtype)
                args.append((False, value))
                known.append(("literal", value))
        step = _step(node.op, [i.type.dtype for i in node.inputs],
                     [o.type.dtype for o in node.outputs], known)
        if step is None:
            return None
        outs = []
        for o in node.outputs:
            slot[o] = len(dtypes)
            dtypes.append(o.type.dtype)
            outs.append(slot[o])
            if all(k is not None for k in known):  # computed from literals only
                info[slot[o]] = ("constant",)
        plan.append((step, tuple(args), tuple(outs)))
    results = [(True, slot[o]) if o in slot else
               (False, np.asarray(o.data, dtype=o.type.dtype)) for o in comp.outputs]

    def run(inputs):
        env = list(inputs) + [None] * (len(dtypes) - len(inputs))
        for step, args, outs in plan:
            vals = step([env[a] if is_slot else a for is_slot, a in args])
            for k, v in zip(outs, vals):
                env[k] = v
        return [env[a] if is_slot else a for is_slot, a in results]
    return run


# ---------------------------------------------------------------------- the node

@register(Elemwise)
def elemwise_twin(node):
    """The twin of an Elemwise node, or None when one of its scalar ops (inside a
    Composite too) is not replayed: complex values, integer powers, pow of a base
    that is a Composite constant (or of an exponent computed from constants), the
    special functions other than sigmoid/softplus, float // and %, exp2/log2/log10
    and the trigonometric functions other than sin/cos/tanh, pow and sigmoid/softplus
    where numba uses SVML; vecmath's functions on CPUs without FMA (the kernel then
    calls the C library, see scalar.py)."""
    op = node.op
    in_dtypes = [i.type.dtype for i in node.inputs]
    out_dtypes = [o.type.dtype for o in node.outputs]
    run = _step(op.scalar_op, in_dtypes, out_dtypes)
    if run is None:
        return None
    ndim = node.outputs[0].ndim
    bcast = [i.type.broadcastable for i in node.inputs]
    # each input as the kernel reads it: index 0 along its statically broadcastable
    # dimensions (kept, of length 1, so that NumPy broadcasts them)
    take = [tuple(slice(0, 1) if b else slice(None) for b in bc) if any(bc) else None
            for bc in bcast]
    sources = [[k for k in range(len(bcast)) if not bcast[k][d]] for d in range(ndim)]
    out_np = [np.dtype(d) for d in out_dtypes]

    def perform(node, inputs, output_storage):
        shape = []
        for d, src in enumerate(sources):
            if not src:
                shape.append(1)
                continue
            n = inputs[src[0]].shape[d]
            for k in src[1:]:
                if inputs[k].shape[d] != n:
                    raise ValueError(f"shape mismatch in {op} along dimension {d}")
            shape.append(n)
        args = [np.asarray(x) if t is None else np.asarray(x)[t]
                for x, t in zip(inputs, take)]
        with np.errstate(all="ignore"):
            outs = run(args)
        for store, o, dt in zip(output_storage, outs, out_np):
            o = np.asarray(o)
            if o.dtype != dt:  # pragma: no cover - every step returns its declared dtype
                raise AssertionError(f"{op}: an output of dtype {o.dtype}, not {dt}")
            res = np.empty(shape, dtype=dt)
            res[...] = o
            store[0] = res
    return perform
