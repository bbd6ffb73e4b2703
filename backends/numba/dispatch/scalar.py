"""Scalar ops as numba expressions: the body of every elementwise loop.

``scalar_lines(op, args, in_dtypes, out_dtypes, fresh)`` returns source lines and
the expressions of the op's outputs. Inputs are first cast to the dtype NumPy's
loop computes in (usually the output dtype), and every result is cast to its
declared dtype (np.float32(...) etc.), so each intermediate rounds and wraps as
NumPy's per-op computation does and the interpreter's values are reproduced.
What numba lacks or does differently (integer division by zero, shifts past the
width, NaN/inf rules of complex functions, special functions) is in special.py.
exp, expm1, log, log1p, sin, cos and tanh of real floats come from vecmath.py:
arithmetic that LLVM inlines, so that a fused loop vectorizes (libm calls stop it).
A kernel's import lines are ``kernel_imports(source)``.
"""

from __future__ import annotations

import functools

import numpy as np

from backends.numba.dispatch.objmode import NotSupported
from symgraph.scalar.composite import Composite


SPECIAL = "from backends.numba.dispatch import special as sp_"
VECMATH = "from backends.numba.dispatch import vecmath as vm_"


def kernel_imports(src: str) -> tuple:
    """The import lines a kernel's source needs: special.py (``sp_.``) and
    vecmath.py (``vm_.``)."""
    return tuple(line for line, alias in ((SPECIAL, "sp_."), (VECMATH, "vm_."))
                 if alias in src)


COMPLEX = ("complex64", "complex128")
FLOATS = ("float32", "float64")
SIGNED = ("int8", "int16", "int32", "int64")
UNSIGNED = ("uint8", "uint16", "uint32", "uint64")
INTS = SIGNED + UNSIGNED
_REAL_OF = {"complex64": "float32", "complex128": "float64"}


def np_type(dtype: str) -> str:
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"


# How NumPy's cast loops turn a float into an integer on x86: through a 32-bit signed
# conversion for the narrow types; uint32 and uint64 through the signed type of their
# width, offset by 2^(bits-1) above it. Out of range (NaN, inf, too large) the result
# is the C compiler's choice, not a rule; these reproduce it (numba's own conversion
# would be undefined there). No helper calls: other kernel families use cast() too.
_FLOAT_TO_INT_VIA = {"int8": "np.int32", "int16": "np.int32", "uint8": "np.int32",
                     "uint16": "np.int32"}
_FLOAT_TO_UNSIGNED = {"uint32": ("np.int32", 2147483648), "uint64": ("np.int64", 2 ** 63)}


def cast(expr: str, src: str, dst: str) -> str:
    """``expr`` of dtype ``src`` as ``dst`` with NumPy's astype semantics."""
    if src == dst:
        return expr
    if src in COMPLEX and dst not in COMPLEX:
        if dst == "bool":
            return f"({expr} != 0)"
        expr = f"({expr}).real"
        if dst == "uint32":  # NumPy's complex loop converts through int64 here
            return f"np.uint32(np.int64({expr}))"
        src = _REAL_OF[src]
        if src == dst:
            return expr
    if dst == "bool":
        return f"({expr} != 0)"
    if src in FLOATS and dst in INTS:
        if dst in _FLOAT_TO_UNSIGNED:
            signed, half = _FLOAT_TO_UNSIGNED[dst]
            t = np_type(dst)
            return (f"({t}({signed}({expr} - {float(half)!r})) ^ {t}({half}) "
                    f"if {expr} >= {float(half)!r} else {t}({signed}({expr})))")
        via = _FLOAT_TO_INT_VIA.get(dst)
        if via:
            return f"{np_type(dst)}({via}({expr}))"
    return f"{np_type(dst)}({expr})"


def literal(value, dtype: str) -> str:
    v = np.asarray(value).item()
    if dtype == "bool":
        return "True" if v else "False"
    if dtype in COMPLEX:
        v = complex(v)
        return f"{np_type(dtype)}(complex({_float_text(v.real)}, {_float_text(v.imag)}))"
    if dtype in FLOATS:
        return f"{np_type(dtype)}({_float_text(float(v))})"
    return f"{np_type(dtype)}({int(v)!r})"


def _float_text(v: float) -> str:
    if np.isnan(v):
        return "math.nan"
    if np.isinf(v):
        return "math.inf" if v > 0 else "-math.inf"
    return repr(v)


# ----------------------------------------------------------------------- templates
# A template maps (args, in_dtypes, out_dtypes) to an expression; the arguments have
# already been cast to the output dtype, except for the ops in ``_AS_GIVEN``.

def _binop(sym):
    return lambda a, i, o: f"({a[0]} {sym} {a[1]})"


def _complex_helper(fn, helper):
    """``fn`` for real dtypes, ``sp_.helper`` (NumPy's complex semantics) for complex ones."""
    def t(a, i, o):
        return f"sp_.{helper}({a[0]})" if i[0] in COMPLEX else f"{fn}({a[0]})"
    return t


@functools.lru_cache(maxsize=None)
def _use_vecmath() -> bool:
    from backends.numba.dispatch.vecmath import fma_is_native
    return fma_is_native()


def _vecmath(fn, helper):
    """``vm_.fn`` (vecmath.py: inlined arithmetic, so the loop vectorizes) for real
    floats where the CPU has FMA, float32 computed in float64 and rounded by the
    result cast; ``sp_.helper`` for complex dtypes; else ``np.fn``."""
    def t(a, i, o):
        if i[0] in COMPLEX:
            return f"sp_.{helper}({a[0]})"
        if i[0] in FLOATS and _use_vecmath():
            x = a[0] if i[0] == "float64" else f"np.float64({a[0]})"
            return f"vm_.{fn}({x})"
        return f"np.{fn}({a[0]})"
    return t


def _special(fn):
    """A real special function (of special.py: ``sp_.``), evaluated in float64 as
    SciPy does."""
    def t(a, i, o):
        if i[0] in COMPLEX:  # pragma: no cover - the dtype rule refuses complex inputs
            raise NotSupported(f"{fn} of complex values")
        x = a[0] if i[0] == "float64" else f"np.float64({a[0]})"
        return f"{fn}({x})"
    return t


def _log_base(fn, helper):
    def t(a, i, o):
        if i[0] in COMPLEX:
            return f"sp_.{helper}({a[0]}, {i[0] == 'complex64'})"
        return f"{fn}({a[0]})"
    return t


def _exp2(a, i, o):
    if i[0] in COMPLEX:
        return f"sp_.complex_exp2({a[0]}, {literal(np.log(2.0), _REAL_OF[i[0]])})"
    return f"np.exp2({a[0]})"


def _abs(a, i, o):
    if i[0] in COMPLEX:
        return f"sp_.complex_abs({a[0]})"
    if i[0] == "bool" or i[0] in UNSIGNED:
        return a[0]
    return f"np.abs({a[0]})"


def _sign(a, i, o):
    if i[0] in COMPLEX:
        return f"sp_.complex_sign({a[0]})"
    if i[0] in UNSIGNED:
        return f"({a[0]} != 0)"
    if i[0] in FLOATS:
        return f"sp_.float_sign({a[0]})"
    return f"np.sign({a[0]})"


def _pow(a, i, o):
    if i[0] in INTS and i[1] in INTS:
        return f"sp_.int_power({a[0]}, {a[1]}, {literal(1, o[0])})"
    if i[0] in COMPLEX:
        return f"sp_.complex_power({a[0]}, {a[1]}, {i[0] == 'complex64'})"
    if i[0] == "bool":  # True ** x is True, False ** x is x == 0 (bool ** bool is int8 here)
        return f"({a[0]} or not {a[1]})"
    return f"np.power({a[0]}, {a[1]})"


def _int_div(a, i, o):
    if i[0] in SIGNED:
        return f"sp_.int_floor_divide({a[0]}, {a[1]})"
    if i[0] in UNSIGNED:
        return f"sp_.uint_floor_divide({a[0]}, {a[1]})"
    return f"sp_.float_floor_divide({a[0]}, {a[1]})"


def _mod(a, i, o):
    if i[0] in SIGNED:
        return f"sp_.int_mod({a[0]}, {a[1]})"
    if i[0] in UNSIGNED:
        return f"sp_.uint_mod({a[0]}, {a[1]})"
    return f"sp_.float_mod({a[0]}, {a[1]})"


def _true_div(a, i, o):
    if i[0] in COMPLEX:
        return f"sp_.complex_divide({a[0]}, {a[1]})"
    return f"({a[0]} / {a[1]})"


def _reciprocal(a, i, o):
    if i[0] in COMPLEX:
        return f"sp_.complex_reciprocal({a[0]})"
    return f"({literal(1, i[0])} / {a[0]})"


def _minmax(fn):
    def t(a, i, o):
        if i[0] == "bool":
            return f"({a[0]} {'or' if fn == 'maximum' else 'and'} {a[1]})"
        return f"np.{fn}({a[0]}, {a[1]})"
    return t


def _clip(a, i, o):
    if i[0] == "bool":
        return f"(({a[0]} or {a[1]}) and {a[2]})"
    return f"np.minimum(np.maximum({a[0]}, {a[1]}), {a[2]})"


def _real(a, i, o):
    return f"({a[0]}).real" if i[0] in COMPLEX else a[0]


def _imag(a, i, o):
    return f"({a[0]}).imag" if i[0] in COMPLEX else literal(0, o[0])


def _conj(a, i, o):
    return f"({a[0]}).conjugate()" if i[0] in COMPLEX else a[0]


def _angle(a, i, o):
    if i[0] in COMPLEX:
        return f"np.arctan2(({a[0]}).imag, ({a[0]}).real)"
    return f"np.arctan2({literal(0, i[0])}, {a[0]})"


def _rint(a, i, o):
    if i[0] in COMPLEX:
        return f"sp_.complex_rint({a[0]})"
    if i[0] in INTS or i[0] == "bool":
        return a[0]
    return f"np.rint({a[0]})"


def _keep_int(fn):
    def t(a, i, o):
        return a[0] if i[0] in INTS or i[0] == "bool" else f"{fn}({a[0]})"
    return t


def _isnan(fn):
    def t(a, i, o):
        if i[0] in INTS or i[0] == "bool":
            return "False"
        if i[0] in COMPLEX:
            return f"({fn}(({a[0]}).real) or {fn}(({a[0]}).imag))"
        return f"{fn}({a[0]})"
    return t


def _invert(a, i, o):
    return f"(not {a[0]})" if i[0] == "bool" else f"(~{a[0]})"


def _shift(helper):
    def t(a, i, o):
        return f"sp_.{helper}({a[0]}, {a[1]}, {np.dtype(o[0]).itemsize * 8})"
    return t


def _truth(x, dtype):
    return x if dtype == "bool" else f"({x} != 0)"


def _compare(sym):
    """A comparison; signed integers against uint64 are compared exactly, as NumPy does
    (numba would compare them as float64)."""
    flip = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}

    def exact(s, u, op):  # s signed, u uint64: "s op u"
        if op in ("<", "<=", "!="):
            return f"({s} < 0 or np.uint64({s}) {op} {u})"
        return f"({s} >= 0 and np.uint64({s}) {op} {u})"

    def t(a, i, o):
        if i[0] in SIGNED and i[1] == "uint64":
            return exact(a[0], a[1], sym)
        if i[0] == "uint64" and i[1] in SIGNED:
            return exact(a[1], a[0], flip[sym])
        return f"({a[0]} {sym} {a[1]})"
    return t


def _polygamma(a, i, o):
    x = a[1] if i[1] == "float64" else f"np.float64({a[1]})"
    n1 = f"(np.int64({a[0]}) + 1)" if i[0] == "bool" else \
        f"{np_type(i[0])}({a[0]} + {literal(1, i[0])})"
    # SciPy evaluates zeta(n + 1, x) in float32 when both fit in it (x float32 or a small
    # integer, n + 1 of a small integer dtype): its result rounds (and underflows) there
    single = i[1] in ("bool", "int8", "uint8", "int16", "uint16", "float32") and \
        i[0] in ("int8", "uint8", "int16", "uint16")
    return f"sp_.polygamma({a[0]}, {n1}, {x}, {single})"


def _complex_of(a, i, o):
    return f"complex({a[0]}, {a[1]})"


def _switch(a, i, o):
    return f"({a[1]} if {_truth(a[0], i[0])} else {a[2]})"


def _sigmoid(a, i, o):
    return f"sp_.sigmoid({a[0]})"


def _softplus(a, i, o):
    return f"sp_.softplus({a[0]})"


TEMPLATES = {
    "add": _binop("+"), "sub": _binop("-"), "mul": _binop("*"), "true_div": _true_div,
    "int_div": _int_div, "mod": _mod, "pow": _pow,
    "neg": lambda a, i, o: f"(-{a[0]})",
    "abs": _abs, "sign": _sign,
    "sqr": lambda a, i, o: f"({a[0]} * {a[0]})",
    "reciprocal": _reciprocal,
    "maximum": _minmax("maximum"), "minimum": _minmax("minimum"), "clip": _clip,
    "identity": lambda a, i, o: a[0],
    "exp": _vecmath("exp", "complex_exp"),
    "exp2": _exp2,
    "expm1": _vecmath("expm1", "complex_expm1"),
    "log": _vecmath("log", "complex_log"),
    "log1p": _vecmath("log1p", "complex_log1p"),
    "log2": _log_base("np.log2", "complex_log2"),
    "log10": _log_base("np.log10", "complex_log10"),
    "sqrt": _complex_helper("np.sqrt", "complex_sqrt"),
    "sin": _vecmath("sin", "complex_sin"),
    "cos": _vecmath("cos", "complex_cos"),
    "tan": _complex_helper("np.tan", "complex_tan"),
    "arcsin": _complex_helper("np.arcsin", "complex_arcsin"),
    "arccos": _complex_helper("np.arccos", "complex_arccos"),
    "arctan": _complex_helper("np.arctan", "complex_arctan"),
    "arctan2": lambda a, i, o: f"np.arctan2({a[0]}, {a[1]})",
    "sinh": _complex_helper("np.sinh", "complex_sinh"),
    "cosh": _complex_helper("np.cosh", "complex_cosh"),
    "tanh": _vecmath("tanh", "complex_tanh"),
    "arcsinh": _complex_helper("np.arcsinh", "complex_arcsinh"),
    "arccosh": _complex_helper("np.arccosh", "complex_arccosh"),
    "arctanh": _complex_helper("np.arctanh", "complex_arctanh"),
    "sigmoid": _sigmoid, "softplus": _softplus,
    "erf": _special("math.erf"), "erfc": _special("math.erfc"),
    "erfinv": _special("sp_.erfinv"), "gamma": _special("sp_.gamma"),
    "gammaln": _special("sp_.gammaln"), "psi": _special("sp_.digamma"),
    "tri_gamma": _special("sp_.trigamma"), "polygamma": _polygamma,
    "floor": _keep_int("np.floor"), "ceil": _keep_int("np.ceil"), "trunc": _keep_int("np.trunc"),
    "round_half_to_even": _rint,
    "lt": _compare("<"), "gt": _compare(">"), "le": _compare("<="), "ge": _compare(">="),
    "eq": _compare("=="), "neq": _compare("!="),
    "isnan": _isnan("np.isnan"), "isinf": _isnan("np.isinf"),
    "logical_and": lambda a, i, o: f"({_truth(a[0], i[0])} and {_truth(a[1], i[1])})",
    "logical_or": lambda a, i, o: f"({_truth(a[0], i[0])} or {_truth(a[1], i[1])})",
    "logical_xor": lambda a, i, o: f"({_truth(a[0], i[0])} != {_truth(a[1], i[1])})",
    "logical_not": lambda a, i, o: f"(not {_truth(a[0], i[0])})",
    "bitwise_and": _binop("&"), "bitwise_or": _binop("|"), "bitwise_xor": _binop("^"),
    "invert": _invert,
    "left_shift": _shift("left_shift"), "right_shift": _shift("right_shift"),
    "switch": _switch,
    "real": _real, "imag": _imag, "conj": _conj, "angle": _angle,
    "complex": _complex_of,
}

# Ops whose arguments are used as they come; the others are cast to the output dtype
# first, which is the loop NumPy picks for them (bool ** bool, computed in int8, too).
_AS_GIVEN = {"lt", "gt", "le", "ge", "eq", "neq", "isnan", "isinf", "logical_and",
             "logical_or", "logical_xor", "logical_not", "real", "imag", "abs", "polygamma",
             "switch"}

_BOOL_RESULTS = {"lt", "gt", "le", "ge", "eq", "neq", "isnan", "isinf", "logical_and",
                 "logical_or", "logical_xor", "logical_not"}


def scalar_lines(op, args, in_dtypes, out_dtypes, fresh):
    """Source lines and output expressions computing scalar ``op`` on ``args``.

    fresh(): a new temporary name. Inputs are cast as the interpreter casts them.
    """
    if isinstance(op, Composite):
        return _composite_lines(op, args, fresh)
    name = op.name
    in_dtypes, out_dtypes = list(in_dtypes), list(out_dtypes)
    if name.startswith("cast_"):
        return [], [cast(args[0], in_dtypes[0], out_dtypes[0])]
    tmpl = TEMPLATES.get(name)
    if tmpl is None:
        raise NotSupported(f"no numba template for the scalar op {name}")
    args = list(args)
    if name == "switch":
        args[1:] = [cast(a, d, out_dtypes[0]) for a, d in zip(args[1:], in_dtypes[1:])]
        in_dtypes[1:] = [out_dtypes[0]] * 2
    elif name == "pow" and in_dtypes[0] in INTS and in_dtypes[1] in INTS \
            and out_dtypes[0] not in INTS:
        # int64 ** uint64 computes in float64, yet the interpreter refuses negative
        # exponents of every pair of integer dtypes; so does this backend
        pre = [f"if {args[1]} < 0:",
               "    raise ValueError('integers to negative integer powers are not allowed')"]
        cast_args = [cast(a, d, out_dtypes[0]) for a, d in zip(args, in_dtypes)]
        lines, outs = scalar_lines(op, cast_args, [out_dtypes[0]] * 2, out_dtypes, fresh)
        return pre + lines, outs
    elif name not in _AS_GIVEN:
        want = out_dtypes[0]
        if name == "complex":  # complex(re, im) takes the real parts in the result's precision
            want = _REAL_OF[want]
        new_args, new_dtypes = [], []
        for a, d in zip(args, in_dtypes):
            # a complex input of a real-valued function (angle) keeps its imaginary part
            w = {"float32": "complex64", "float64": "complex128"}[want] \
                if d in COMPLEX and want not in COMPLEX else want
            new_args.append(cast(a, d, w))
            new_dtypes.append(w)
        args, in_dtypes = new_args, new_dtypes
    expr = tmpl(args, in_dtypes, out_dtypes)
    t = fresh()
    return [f"{t} = {_result_cast(expr, out_dtypes[0], name)}"], [t]


def _result_cast(expr, dtype, name):
    if dtype == "bool":
        return expr if name in _BOOL_RESULTS else f"({expr} != 0)"
    return f"{np_type(dtype)}({expr})"


def _composite_lines(op, args, fresh):
    env = dict(zip(op.inputs, args))
    lines = []
    for node in op.nodes:
        ins = [env[i] if i in env else literal(i.data, i.type.dtype) for i in node.inputs]
        sub, outs = scalar_lines(node.op, ins, [i.type.dtype for i in node.inputs],
                                 [o.type.dtype for o in node.outputs], fresh)
        lines.extend(sub)
        env.update(zip(node.outputs, outs))
    results = [env[o] if o in env else literal(o.data, o.type.dtype) for o in op.outputs]
    return lines, results
