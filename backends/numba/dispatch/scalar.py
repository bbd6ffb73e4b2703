"""Scalar ops as numba expressions: the body of every elementwise loop.

``scalar_lines(op, args, in_dtypes, out_dtypes, fresh)`` returns source lines and
the expressions of the op's outputs. Every result is cast to its declared dtype
(np.float32(...) etc.), so each intermediate rounds exactly as NumPy's per-op
computation does and the interpreter's values are reproduced.
"""

from __future__ import annotations

import numpy as np

from backends.numba.dispatch.objmode import NotSupported
from symgraph.scalar.composite import Composite

SPECIAL = "from backends.numba.dispatch import special as sp_"

COMPLEX = ("complex64", "complex128")
INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def np_type(dtype: str) -> str:
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"


def cast(expr: str, src: str, dst: str) -> str:
    """``expr`` of dtype ``src`` as ``dst`` with NumPy's astype semantics."""
    if src == dst:
        return expr
    if src in COMPLEX and dst not in COMPLEX:
        if dst == "bool":
            return f"({expr} != 0)"
        expr = f"({expr}).real"
    if dst == "bool":
        return f"({expr} != 0)"
    return f"{np_type(dst)}({expr})"


def literal(value, dtype: str) -> str:
    v = np.asarray(value).item()
    if dtype == "bool":
        return "True" if v else "False"
    if dtype in COMPLEX:
        return f"{np_type(dtype)}(complex({v.real!r}, {v.imag!r}))"
    if isinstance(v, float) and not np.isfinite(v):
        text = "math.nan" if np.isnan(v) else ("math.inf" if v > 0 else "-math.inf")
        return f"{np_type(dtype)}({text})"
    return f"{np_type(dtype)}({v!r})"


def _unary(fn):
    return lambda a, i, o: f"{fn}({a[0]})"


def _binop(sym):
    return lambda a, i, o: f"({a[0]} {sym} {a[1]})"


def _real_only(fn):
    def t(a, i, o):
        if i[0] in COMPLEX:
            raise NotSupported(f"{fn} of complex values")
        return f"{fn}({a[0]})"
    return t


def _abs(a, i, o):
    return f"abs({a[0]})" if i[0] in COMPLEX else f"np.abs({a[0]})"


def _sign(a, i, o):
    if i[0] in COMPLEX:
        return f"sp_.complex_sign({a[0]})"
    return f"np.sign({a[0]})"


def _pow(a, i, o):
    if i[0] in INTS and i[1] in INTS:
        return f"sp_.int_power({a[0]}, {a[1]})"
    return f"({a[0]} ** {a[1]})"


def _real(a, i, o):
    return f"({a[0]}).real" if i[0] in COMPLEX else a[0]


def _imag(a, i, o):
    return f"({a[0]}).imag" if i[0] in COMPLEX else f"{np_type(o[0])}(0)"


def _conj(a, i, o):
    return f"({a[0]}).conjugate()" if i[0] in COMPLEX else a[0]


def _angle(a, i, o):
    if i[0] in COMPLEX:
        return f"math.atan2(({a[0]}).imag, ({a[0]}).real)"
    return f"math.atan2(0.0, {a[0]})"


def _rint(a, i, o):
    if i[0] in COMPLEX:
        return f"sp_.complex_rint({a[0]})"
    if i[0] in INTS or i[0] == "bool":
        return a[0]
    return f"np.rint({a[0]})"


def _keep_int(fn):
    def t(a, i, o):
        return a[0] if i[0] in INTS else f"{fn}({a[0]})"
    return t


def _isnan(fn):
    def t(a, i, o):
        return "False" if i[0] in INTS or i[0] == "bool" else f"{fn}({a[0]})"
    return t


def _invert(a, i, o):
    return f"(not {a[0]})" if i[0] == "bool" else f"(~{a[0]})"


def _truth(x, dtype):
    return x if dtype == "bool" else f"({x} != 0)"


TEMPLATES = {
    "add": _binop("+"), "sub": _binop("-"), "mul": _binop("*"), "true_div": _binop("/"),
    "int_div": lambda a, i, o: f"np.floor_divide({a[0]}, {a[1]})",
    "mod": lambda a, i, o: f"np.mod({a[0]}, {a[1]})",
    "pow": _pow,
    "neg": lambda a, i, o: f"(-{a[0]})",
    "abs": _abs, "sign": _sign,
    "sqr": lambda a, i, o: f"({a[0]} * {a[0]})",
    "reciprocal": lambda a, i, o: f"({np_type(o[0])}(1) / {a[0]})",
    "maximum": lambda a, i, o: f"np.maximum({a[0]}, {a[1]})",
    "minimum": lambda a, i, o: f"np.minimum({a[0]}, {a[1]})",
    "clip": lambda a, i, o: f"np.minimum(np.maximum({a[0]}, {a[1]}), {a[2]})",
    "identity": lambda a, i, o: a[0],
    "exp": _unary("np.exp"), "exp2": _unary("np.exp2"), "expm1": _unary("np.expm1"),
    "log": _unary("np.log"), "log1p": _unary("np.log1p"), "log2": _unary("np.log2"),
    "log10": _unary("np.log10"), "sqrt": _unary("np.sqrt"),
    "sin": _unary("np.sin"), "cos": _unary("np.cos"), "tan": _unary("np.tan"),
    "arcsin": _unary("np.arcsin"), "arccos": _unary("np.arccos"), "arctan": _unary("np.arctan"),
    "arctan2": lambda a, i, o: f"np.arctan2({a[0]}, {a[1]})",
    "sinh": _unary("np.sinh"), "cosh": _unary("np.cosh"), "tanh": _unary("np.tanh"),
    "arcsinh": _unary("np.arcsinh"), "arccosh": _unary("np.arccosh"),
    "arctanh": _unary("np.arctanh"),
    "sigmoid": lambda a, i, o: f"(1.0 / (1.0 + np.exp(-{a[0]})))",
    "softplus": lambda a, i, o: f"np.logaddexp(0.0, {a[0]})",
    "erf": _real_only("math.erf"), "erfc": _real_only("math.erfc"),
    "erfinv": _real_only("sp_.erfinv"), "gamma": _real_only("sp_.gamma"),
    "gammaln": _real_only("sp_.gammaln"), "psi": _real_only("sp_.digamma"),
    "tri_gamma": _real_only("sp_.trigamma"),
    "floor": _keep_int("np.floor"), "ceil": _keep_int("np.ceil"), "trunc": _keep_int("np.trunc"),
    "round_half_to_even": _rint,
    "lt": _binop("<"), "gt": _binop(">"), "le": _binop("<="), "ge": _binop(">="),
    "eq": _binop("=="), "neq": _binop("!="),
    "isnan": _isnan("np.isnan"), "isinf": _isnan("np.isinf"),
    "logical_and": lambda a, i, o: f"({_truth(a[0], i[0])} and {_truth(a[1], i[1])})",
    "logical_or": lambda a, i, o: f"({_truth(a[0], i[0])} or {_truth(a[1], i[1])})",
    "logical_xor": lambda a, i, o: f"({_truth(a[0], i[0])} != {_truth(a[1], i[1])})",
    "logical_not": lambda a, i, o: f"(not {_truth(a[0], i[0])})",
    "bitwise_and": _binop("&"), "bitwise_or": _binop("|"), "bitwise_xor": _binop("^"),
    "invert": _invert,
    "left_shift": _binop("<<"), "right_shift": _binop(">>"),
    "switch": lambda a, i, o: f"({a[1]} if {_truth(a[0], i[0])} else {a[2]})",
    "real": _real, "imag": _imag, "conj": _conj, "angle": _angle,
    "complex": lambda a, i, o: f"complex({a[0]}, {a[1]})",
}


def scalar_lines(op, args, in_dtypes, out_dtypes, fresh):
    """Source lines and output expressions computing scalar ``op`` on ``args``.

    fresh(): a new temporary name. Inputs are cast as the interpreter casts them.
    """
    if isinstance(op, Composite):
        return _composite_lines(op, args, fresh)
    name = op.name
    if name.startswith("cast_"):
        return [], [cast(args[0], in_dtypes[0], out_dtypes[0])]
    tmpl = TEMPLATES.get(name)
    if tmpl is None:
        raise NotSupported(f"no numba template for the scalar op {name}")
    if op.compute_in_output_dtype:
        args = [cast(a, d, out_dtypes[0]) if d != out_dtypes[0] and not (
            d in COMPLEX and out_dtypes[0] not in COMPLEX) else a
            for a, d in zip(args, in_dtypes)]
        in_dtypes = [out_dtypes[0] if not (d in COMPLEX and out_dtypes[0] not in COMPLEX) else d
                     for d in in_dtypes]
    if name == "switch":
        args = [args[0], cast(args[1], in_dtypes[1], out_dtypes[0]),
                cast(args[2], in_dtypes[2], out_dtypes[0])]
        in_dtypes = [in_dtypes[0], out_dtypes[0], out_dtypes[0]]
    expr = tmpl(args, list(in_dtypes), list(out_dtypes))
    t = fresh()
    return [f"{t} = {_result_cast(expr, out_dtypes[0], name, in_dtypes)}"], [t]


def _result_cast(expr, dtype, name, in_dtypes):
    if dtype == "bool":
        return expr if name in _BOOL_RESULTS else f"({expr} != 0)"
    return f"{np_type(dtype)}({expr})"


_BOOL_RESULTS = {"lt", "gt", "le", "ge", "eq", "neq", "isnan", "isinf", "logical_and",
                 "logical_or", "logical_xor", "logical_not"}


def _composite_lines(op, args, fresh):
    env = dict(zip(op.inputs, args))
    lines = []
    for node in op.nodes:
        ins = []
        for i in node.inputs:
            if i in env:
                ins.append(env[i])
            else:
                ins.append(literal(i.data, i.type.dtype))
        sub, outs = scalar_lines(node.op, ins, [i.type.dtype for i in node.inputs],
                                 [o.type.dtype for o in node.outputs], fresh)
        lines.extend(sub)
        env.update(zip(node.outputs, outs))
    results = [env[o] if o in env else literal(o.data, o.type.dtype) for o in op.outputs]
    return lines, results
