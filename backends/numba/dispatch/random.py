"""Random ops (symgraph/tensor/random_ops.py).

uniform, normal, binomial, integers and permutation draw natively with numba's
Generator methods, one scalar draw per output element in C order. Those methods
reproduce NumPy's streams bit for bit (numba 0.68, NumPy 2.x; checked by
tests/backends/numba/test_random.py), and so does the element-by-element loop
over broadcast parameters, which is how NumPy walks them too. numba has no
multinomial or choice: they run NumPy in object mode (randomlib.py).

The generator is copied first (randomlib.copy_generator, one object-mode
section), so the input state is never changed: a failed call leaves the shared
generator as it was, and a state read twice gives the same numbers twice.
Parameters are checked as the interpreter checks them, all of them before any
draw, so both backends refuse the same calls.
"""

from __future__ import annotations

from pathlib import Path

from backends.numba.cache import digest
from backends.numba.dispatch import Kernel, randomlib, register
from backends.numba.dispatch.scalar import np_type
from symgraph.tensor.random_ops import (
    BinomialRV, ChoiceRV, IntegersRV, MultinomialRV, NormalRV, PermutationRV, UniformRV,
)

# the helper's source is part of every kernel's key (see dot.py)
RANDOMLIB = ("from backends.numba.dispatch import randomlib as rl_  "
             f"# {digest(Path(randomlib.__file__).read_text())}")


def _tuple(items):
    return "(" + "".join(f"{i}, " for i in items) + ")"


def _kernel(lines):
    return Kernel("\n".join(lines) + "\n", imports=(RANDOMLIB,))


def _loops(lines, dims, body, indent="    "):
    """Nested loops ``j0, j1, ...`` over ``dims`` around ``body`` lines."""
    for d, n in enumerate(dims):
        lines.append(f"{indent}for j{d} in range({n}):")
        indent += "    "
    lines.extend(indent + b for b in body)


def _index(rank):
    return ", ".join(f"j{d}" for d in range(rank)) if rank else "()"


# per op: (the scalar draw, [(a failing condition, its message)]) in the parameters x0, x1
def _uniform(op):
    return "g.uniform(x0, x1)", [("not (np.isfinite(x1 - x0) and x1 - x0 >= 0)",
                                  "uniform: needs finite low <= high")]


def _normal(op):
    return "g.normal(x0, x1)", [("x1 < 0", "normal: scale must be >= 0")]


def _binomial(op):
    return "g.binomial(x0, x1)", [("x0 < 0", "binomial: n must be >= 0"),
                                  ("not (x1 >= 0 and x1 <= 1)", "binomial: p must be in [0, 1]")]


def _integers(op):
    if op.endpoint:
        return "g.integers(x0, x1, None, np.int64, True)", [
            ("x0 > x1", "integers: needs low <= high")]
    return "g.integers(x0, x1)", [("x0 >= x1", "integers: needs low < high")]


_SCALAR_DRAWS = {UniformRV: _uniform, NormalRV: _normal, BinomialRV: _binomial,
                 IntegersRV: _integers}


@register(UniformRV, NormalRV, BinomialRV, IntegersRV)
def build_elementwise(op, node):
    """Check every parameter (over their own broadcast shape), then draw element by
    element over the output shape (size, or that broadcast shape)."""
    draw, checks = _SCALAR_DRAWS[type(op)](op)
    params = node.inputs[2:]
    n_size = node.inputs[1].type.shape[0]
    rank = node.outputs[1].ndim
    q = max(p.ndim for p in params)
    draw_dt = "np.float64" if op.kind == "float" else "np.int64"
    args = ", ".join(f"a{k}" for k in range(len(node.inputs)))
    lines = [f"def KERNEL_NAME({args}):", "    g = rl_.copy_generator(a0)"]
    # the parameters' own broadcast shape b0, b1, ... (what the interpreter checks)
    for d in range(q):
        lines.append(f"    b{d} = 1")
        for k, p in enumerate(params):
            j = d - (q - p.ndim)
            if j < 0:
                continue
            lines += [f"    t = a{k + 2}.shape[{j}]",
                      "    if t != 1:",
                      f"        if b{d} != 1 and b{d} != t:",
                      f"            raise ValueError('{op.name}: the parameters do not broadcast')",
                      f"        b{d} = t"]
    bshape = _tuple(f"b{d}" for d in range(q))
    hoisted = [f"x{k} = a{k + 2}[()]" for k, p in enumerate(params) if p.ndim == 0]
    lines += ["    " + h for h in hoisted]
    check_body = []
    for cond, msg in checks:
        check_body += [f"if {cond}:", f"    raise ValueError('{msg}')"]
    if q == 0:
        lines += ["    " + c for c in check_body]
    else:
        for k, p in enumerate(params):
            if p.ndim:
                lines.append(f"    c{k} = np.broadcast_to(a{k + 2}, {bshape})")
        reads = [f"x{k} = c{k}[{_index(q)}]" for k, p in enumerate(params) if p.ndim]
        _loops(lines, [f"b{d}" for d in range(q)], reads + check_body)
    # the output shape, then the draws
    if n_size:
        for d in range(n_size):
            lines += [f"    s{d} = a1[{d}]",
                      f"    if s{d} < 0:",
                      f"        raise ValueError('{op.name}: size must not be negative')"]
        dims = [f"s{d}" for d in range(n_size)]
    else:
        dims = [f"b{d}" for d in range(q)]
    shape = _tuple(dims)
    lines.append(f"    out = np.empty({shape}, dtype={draw_dt})")
    for k, p in enumerate(params):
        if p.ndim:
            lines.append(f"    d{k} = np.broadcast_to(a{k + 2}, {shape})")
    reads = [f"x{k} = d{k}[{_index(rank)}]" for k, p in enumerate(params) if p.ndim]
    _loops(lines, dims, reads + [f"out[{_index(rank)}] = {draw}"])
    want = node.outputs[1].type.dtype
    if want != draw_dt[3:]:
        lines.append(f"    return g, out.astype({np_type(want)})")
    else:
        lines.append("    return g, out")
    return _kernel(lines)


@register(PermutationRV)
def build_permutation(op, node):
    """NumPy shuffles arange(n) in place (Fisher-Yates); for an array it shuffles the
    row indices and gathers, which permutes in the same order."""
    x = node.inputs[2]
    lines = ["def KERNEL_NAME(a0, a1, a2):", "    g = rl_.copy_generator(a0)"]
    if x.ndim == 0:
        lines += ["    n = a2[()]",
                  "    if n < 0:",
                  "        raise ValueError('permutation: x must be >= 0')",
                  "    return g, rl_.shuffled_arange(g, np.int64(n))"]
    else:
        lines += ["    idx = rl_.shuffled_arange(g, np.int64(a2.shape[0]))",
                  "    return g, a2[idx]"]
    return _kernel(lines)


def _reshape(rank, src="flat"):
    return f"{src}.reshape({_tuple(f'sh[{d}]' for d in range(rank))})"


@register(MultinomialRV)
def build_multinomial(op, node):
    rank = node.outputs[1].ndim
    lines = ["def KERNEL_NAME(a0, a1, a2, a3):",
             "    g, flat, sh = rl_.multinomial(a0, a1, a2, a3)",
             f"    out = {_reshape(rank)}"]
    want = node.outputs[1].type.dtype
    lines.append("    return g, out" if want == "int64"
                 else f"    return g, out.astype({np_type(want)})")
    return _kernel(lines)


@register(ChoiceRV)
def build_choice(op, node):
    a = node.inputs[2]
    has_p = len(node.inputs) > 3
    rank = node.outputs[1].ndim
    args = ", ".join(f"a{k}" for k in range(len(node.inputs)))
    pop = "a2[()]" if a.ndim == 0 else "np.int64(a2.shape[0])"
    p = "a3" if has_p else "np.empty(0, dtype=np.float64)"
    lines = [f"def KERNEL_NAME({args}):",
             f"    g, flat, sh = rl_.choice(a0, a1, {pop}, {p}, {has_p}, {op.replace})"]
    if a.ndim:
        lines.append("    flat = a2[flat]")
    if rank == 0:
        lines += [f"    out = np.empty((), dtype={np_type(node.outputs[1].type.dtype)})",
                  "    out[()] = flat[0]"]
    else:
        lines.append(f"    out = {_reshape(rank)}")
    lines.append("    return g, out")
    return _kernel(lines)
