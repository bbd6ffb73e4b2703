"""Kernels of the scipy.linalg family (symgraph/tensor/slinalg*.py).

Every kernel is a loop nest over the broadcast batch dimensions (only static
length-1 or missing dimensions stretch, as in the interpreter) that hands one
matrix at a time to a compiled helper in linalglib.py. Vector right-hand sides
become (n, 1) views. SolveContinuousLyapunov needs a Schur decomposition, which
numba lacks: its kernel calls SciPy in object mode, deliberately and without the
fallback's warning (the graph stays cacheable: nothing but module functions is
called).
"""

from __future__ import annotations

from pathlib import Path

from backends.numba.cache import digest
from backends.numba.dispatch import Kernel, linalglib, register
from backends.numba.dispatch.scalar import np_type
from symgraph.tensor.slinalg import (
    LU, BlockDiagonal, Cholesky, CholeskySolve, Expm, ExpmFrechet, LUFactor, LUSolve,
    PivotToPermutation, Solve, SolveContinuousLyapunov, SolveTriangular,
)

# the helper's source is part of every kernel's key (see dot.py)
LINALGLIB = ("from backends.numba.dispatch import linalglib as ll_  "
             f"# {digest(Path(linalglib.__file__).read_text())}")

_ASSUME = {"gen": 0, "sym": 1, "her": 2, "pos": 3}


def _tuple(items):
    return "(" + "".join(f"{i}, " for i in items) + ")"


class _Nest:
    """The source of a kernel looping over the broadcast batch of its inputs.

    cores: the core ndim of each input (the trailing axes one call works on).
    """

    def __init__(self, node, cores, who):
        self.node, self.cores, self.who = node, cores, who
        self.nb = max(v.ndim - c for v, c in zip(node.inputs, cores))
        args = ", ".join(f"a{k}" for k in range(len(node.inputs)))
        self.lines = [f"def KERNEL_NAME({args}):"]
        self.idx = [[] for _ in node.inputs]
        for d in range(self.nb):
            src = None
            for k, (v, c) in enumerate(zip(node.inputs, cores)):
                dd = d - (self.nb - (v.ndim - c))
                if dd < 0:
                    continue
                if v.type.shape[dd] == 1:
                    self.idx[k].append("0")
                    continue
                self.idx[k].append(f"j{d}")
                if src is None:
                    self.lines.append(f"    n{d} = a{k}.shape[{dd}]")
                    src = k
                else:
                    self.lines += [f"    if a{k}.shape[{dd}] != n{d}:",
                                   f"        raise ValueError('{who}: the batch dimensions of "
                                   "the inputs differ')"]
            if src is None:
                self.lines.append(f"    n{d} = 1")
        self.batch = [f"n{d}" for d in range(self.nb)]
        self.body = []

    def add(self, *lines):
        self.lines += [f"    {ln}" for ln in lines]

    def check(self, cond, msg):
        self.add(f"if {cond}:", f"    raise ValueError('{self.who}: {msg}')")

    def view(self, k, core_vec=False):
        """Input k's core at the current batch index; a vector core as (n, 1)."""
        c = self.cores[k]
        sub = ", ".join(self.idx[k] + ["::1"] * c)
        return f"a{k}[{sub}]" + ("[:, None]" if core_vec else "")

    def out(self, name, ndim_core, core_vec=False):
        sub = ", ".join([f"j{d}" for d in range(self.nb)] + ["::1"] * ndim_core)
        return f"{name}[{sub}]" + ("[:, None]" if core_vec else "")

    def alloc(self, name, core_dims, dtype, zeros=False):
        fn = "zeros" if zeros else "empty"
        self.add(f"{name} = np.{fn}({_tuple(self.batch + list(core_dims))}, dtype={dtype})")

    def loop(self, *calls):
        indent = "    "
        for d in range(self.nb):
            self.lines.append(f"{indent}for j{d} in range(n{d}):")
            indent += "    "
        self.lines += [f"{indent}{c}" for c in calls]

    def kernel(self, ret):
        self.add(f"return {ret}")
        return Kernel("\n".join(self.lines) + "\n", imports=(LINALGLIB,))


def _f(v):
    """A flag for a linalglib helper: never a literal (see linalglib)."""
    return f"np.int64({int(v)})"


def _dt(var):
    return np_type(var.type.dtype)


def _square(nest, k, what="a"):
    v = nest.node.inputs[k]
    nest.check(f"a{k}.shape[{v.ndim - 1}] != a{k}.shape[{v.ndim - 2}]",
               f"{what} must be square")


# ----------------------------------------------------------------------- Cholesky

@register(Cholesky)
def build_cholesky(op, node):
    nest = _Nest(node, [2], "cholesky")
    _square(nest, 0)
    nd = node.inputs[0].ndim
    nest.add(f"n = a0.shape[{nd - 1}]")
    nest.alloc("out", ["n", "n"], _dt(node.outputs[0]))
    nest.loop(f"ll_.cholesky_into({nest.view(0)}, {_f(op.lower)}, {nest.out('out', 2)})")
    return nest.kernel("out")


# ----------------------------------------------------------------------- solvers

def _solver_nest(op, node, who, n_mat=1):
    """Header of a solver kernel: inputs (matrix, [pivots,] b); out allocated."""
    cores = [2] + [1] * (n_mat - 1) + [op.b_ndim]
    nest = _Nest(node, cores, who)
    _square(nest, 0)
    a, b = node.inputs[0], node.inputs[-1]
    kb = len(node.inputs) - 1
    nest.add(f"n = a0.shape[{a.ndim - 1}]")
    nest.check(f"a{kb}.shape[{b.ndim - op.b_ndim}] != n", "a and b do not fit")
    core = ["n"] if op.b_ndim == 1 else ["n", f"a{kb}.shape[{b.ndim - 1}]"]
    nest.alloc("out", core, _dt(node.outputs[0]))
    vec = op.b_ndim == 1
    return nest, nest.view(kb, vec), nest.out("out", op.b_ndim, vec)


@register(Solve)
def build_solve(op, node):
    nest, b, out = _solver_nest(op, node, "solve")
    nest.loop(f"ll_.solve_into({nest.view(0)}, {b}, {_f(_ASSUME[op.assume_a])}, "
              f"{_f(op.lower)}, {out})")
    return nest.kernel("out")


@register(SolveTriangular)
def build_solve_triangular(op, node):
    nest, b, out = _solver_nest(op, node, "solve_triangular")
    nest.loop(f"ll_.solve_triangular_into({nest.view(0)}, {b}, {_f(op.lower)}, "
              f"{_f(op.trans)}, {_f(op.unit_diagonal)}, {out})")
    return nest.kernel("out")


@register(CholeskySolve)
def build_cho_solve(op, node):
    nest, b, out = _solver_nest(op, node, "cho_solve")
    nest.loop(f"ll_.cho_solve_into({nest.view(0)}, {b}, {_f(op.lower)}, {out})")
    return nest.kernel("out")


@register(LUSolve)
def build_lu_solve(op, node):
    nest, b, out = _solver_nest(op, node, "lu_solve", n_mat=2)
    nest.check(f"a1.shape[{node.inputs[1].ndim - 1}] != n", "lu and piv do not fit")
    nest.loop(f"ll_.lu_solve_into({nest.view(0)}, {nest.view(1)}, {b}, {_f(op.trans)}, {out})")
    return nest.kernel("out")


# ----------------------------------------------------------------------- LU family

@register(LUFactor)
def build_lu_factor(op, node):
    nest = _Nest(node, [2], "lu_factor")
    nd = node.inputs[0].ndim
    nest.add(f"m = a0.shape[{nd - 2}]", f"n = a0.shape[{nd - 1}]", "k = min(m, n)")
    nest.alloc("lu", ["m", "n"], _dt(node.outputs[0]))
    nest.alloc("piv", ["k"], "np.int32")
    nest.loop(f"ll_.lu_factor_into({nest.view(0)}, {nest.out('lu', 2)}, "
              f"{nest.out('piv', 1)})")
    return nest.kernel("(lu, piv)")


@register(LU)
def build_lu(op, node):
    nest = _Nest(node, [2], "lu")
    nd = node.inputs[0].ndim
    nest.add(f"m = a0.shape[{nd - 2}]", f"n = a0.shape[{nd - 1}]", "k = min(m, n)")
    dt = _dt(node.inputs[0])
    nest.alloc("l", ["m", "k"], dt)
    nest.alloc("u", ["k", "n"], dt)
    call = f"p = ll_.lu_into({nest.view(0)}, {_f(op.permute_l)}, {nest.out('l', 2)}, " \
           f"{nest.out('u', 2)})"
    if op.permute_l:
        nest.loop(call)
        return nest.kernel("(l, u)")
    if op.p_indices:
        nest.alloc("pp", ["m"], "np.int32")
        nest.loop(call, f"{nest.out('pp', 1)}[:] = p")
    else:
        nest.alloc("pp", ["m", "m"], _dt(node.outputs[0]), zeros=True)
        pm = nest.out("pp", 2)
        nest.loop(call, "for i in range(m):", f"    {pm}[i, p[i]] = 1")
    return nest.kernel("(pp, l, u)")


@register(PivotToPermutation)
def build_pivot_to_permutation(op, node):
    nest = _Nest(node, [1], "pivot_to_permutation")
    nd = node.inputs[0].ndim
    nest.alloc("out", [f"a0.shape[{nd - 1}]"], "np.int64")
    nest.loop(f"ll_.pivots_into({nest.view(0)}, {_f(op.inverse)}, {nest.out('out', 1)})")
    return nest.kernel("out")


# ----------------------------------------------------------------------- expm

def _wide(var, view):
    """A C-contiguous double-precision copy (or view) of a matrix ``view``."""
    dt = var.type.dtype
    if dt in ("float64", "complex128"):
        return f"np.ascontiguousarray({view})"
    return f"{view}.astype({'np.complex128' if dt == 'complex64' else 'np.float64'})"


@register(Expm)
def build_expm(op, node):
    """Scaling and squaring with Padé approximants, compiled (see linalglib)."""
    nest = _Nest(node, [2], "expm")
    _square(nest, 0)
    nd = node.inputs[0].ndim
    nest.add(f"n = a0.shape[{nd - 1}]")
    nest.alloc("out", ["n", "n"], _dt(node.outputs[0]))
    a = node.inputs[0]
    nest.loop(f"ll_.expm_into({_wide(a, nest.view(0))}, {nest.out('out', 2)})")
    return nest.kernel("out")


def _square_pair(nest, node, second):
    """Both inputs square, of one size ``n``; ``second`` names the second in errors."""
    _square(nest, 0)
    _square(nest, 1, second)
    a, b = node.inputs
    nest.add(f"n = a0.shape[{a.ndim - 1}]")
    nest.check(f"a1.shape[{b.ndim - 1}] != n", f"a and {second} do not fit")


@register(ExpmFrechet)
def build_expm_frechet(op, node):
    nest = _Nest(node, [2, 2], "expm_frechet")
    _square_pair(nest, node, "e")
    a, e = node.inputs
    nest.alloc("out", ["n", "n"], _dt(node.outputs[0]))
    nest.loop(f"ll_.expm_frechet_into({_wide(a, nest.view(0))}, {_wide(e, nest.view(1))}, "
              f"{nest.out('out', 2)})")
    return nest.kernel("out")


# ----------------------------------------------------------------------- others

@register(SolveContinuousLyapunov)
def build_lyapunov(op, node):
    nest = _Nest(node, [2, 2], "solve_continuous_lyapunov")
    _square_pair(nest, node, "q")
    nest.alloc("out", ["n", "n"], _dt(node.outputs[0]))
    nest.loop(f"ll_.lyapunov_into(np.ascontiguousarray({nest.view(0)}), "
              f"np.ascontiguousarray({nest.view(1)}), {nest.out('out', 2)})")
    return nest.kernel("out")


@register(BlockDiagonal)
def build_block_diag(op, node):
    k = len(node.inputs)
    args = ", ".join(f"a{i}" for i in range(k))
    rows = " + ".join(f"a{i}.shape[0]" for i in range(k)) or "0"
    cols = " + ".join(f"a{i}.shape[1]" for i in range(k)) or "0"
    lines = [f"def KERNEL_NAME({args}):",
             f"    out = np.zeros(({rows}, {cols}), dtype={_dt(node.outputs[0])})",
             "    r = 0",
             "    c = 0"]
    for i in range(k):
        lines += [f"    out[r:r + a{i}.shape[0], c:c + a{i}.shape[1]] = a{i}",
                  f"    r += a{i}.shape[0]",
                  f"    c += a{i}.shape[1]"]
    lines.append("    return out")
    return Kernel("\n".join(lines) + "\n")
