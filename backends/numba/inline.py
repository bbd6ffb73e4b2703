"""Kernel bodies written into the graph function instead of called.

Numba compiles every jitted function on its own: type inference, lowering, LLVM
optimisation and a cache entry each, with a fixed cost of tens of milliseconds, and
the graph function then links and optimises all of them once more. So a kernel
whose body can simply be pasted in is written into the graph function, its local
names prefixed, and the graph compiles as one function: measured cold, the MLP
train step of benchmarks/ (20 distinct kernels) compiled in a third less CPU time,
the Elman RNN step (scan) in a quarter less.

A kernel can be pasted in when its only ``return`` is its last statement and it
opens no scope of its own (no nested function, lambda, comprehension, ``global``,
``try`` or ``with``). Kernels that hold Python objects (the object-mode fallback)
stay separate functions; the linker decides (linker._inline_choice).

The kernel's text is kept as written (comments included): each kernel is parsed
once, and pasting renames its local names by their positions in the text.
"""

from __future__ import annotations

import ast
import functools

_FORBIDDEN = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
              ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Global, ast.Nonlocal,
              ast.Try, ast.With, ast.AsyncWith, ast.Yield, ast.YieldFrom, ast.Await,
              ast.Return, ast.JoinedStr)
if hasattr(ast, "TryStar"):
    _FORBIDDEN = _FORBIDDEN + (ast.TryStar,)


class _Template:
    """A kernel ready for pasting: the body's lines (as bytes, since ast positions
    count bytes), where each local name occurs, and where ``return`` stands."""

    __slots__ = ("args", "stored_args", "lines", "first", "names", "ret", "statements")

    def __init__(self, args, stored_args, lines, first, names, ret, statements):
        self.args, self.stored_args = args, stored_args
        self.lines, self.first, self.names, self.ret = lines, first, names, ret
        self.statements = statements


@functools.lru_cache(maxsize=4096)
def _template(source: str):
    """The kernel ``source`` parsed for pasting, or None when it cannot be pasted."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return None
    fn = tree.body[0]
    a = fn.args
    if a.vararg or a.kwarg or a.kwonlyargs or a.defaults or a.kw_defaults or fn.decorator_list:
        return None
    body = fn.body
    if fn.col_offset != 0 or any(stmt.col_offset != 4 for stmt in body):
        return None  # pasted as they are: the body must be indented as the graph's
    ret = body[-1] if body else None
    if not isinstance(ret, ast.Return) or ret.value is None:
        return None
    for stmt in body[:-1]:
        for node in ast.walk(stmt):
            if isinstance(node, _FORBIDDEN):
                return None
    for node in ast.walk(ret.value):
        if isinstance(node, _FORBIDDEN):
            return None
    args = tuple(x.arg for x in a.posonlyargs + a.args)
    stored = set()
    names = []
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name):
                names.append(node)
                if isinstance(node.ctx, (ast.Store, ast.Del)):
                    stored.add(node.id)
    local_names = stored | set(args)
    lines = source.encode().splitlines()
    first = body[0].lineno - 1
    if any(n.lineno != n.end_lineno for n in names):
        return None
    occurrences = tuple(sorted(((n.lineno - 1, n.col_offset, n.end_col_offset, n.id)
                                for n in names if n.id in local_names), reverse=True))
    statements = sum(1 for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.stmt))
    return _Template(args, frozenset(stored) & frozenset(args), tuple(lines), first,
                     occurrences, (ret.lineno - 1, ret.col_offset), statements)


def can_inline(source: str) -> bool:
    return _template(source) is not None


def arity(source: str) -> int:
    t = _template(source)
    return len(t.args) if t is not None else -1


def statement_count(source: str) -> int:
    t = _template(source)
    return t.statements if t is not None else 0


def inline_lines(source: str, prefix: str, arg_names, target: str):
    """Lines computing ``target = KERNEL(*arg_names)`` with the kernel's body pasted in
    (at the kernel's own indentation, the graph function's too).

    ``prefix`` makes the kernel's local names unique in the graph function; the
    arguments (plain names) are used as they are unless the kernel assigns to them.
    Returns None when the kernel cannot be pasted.
    """
    t = _template(source)
    if t is None or len(arg_names) != len(t.args):
        return None
    mapping = {}
    head = []
    for param, actual in zip(t.args, arg_names):
        if param in t.stored_args:
            head.append(f"    {prefix}{param} = {actual}")
        else:
            mapping[param] = actual
    lines = list(t.lines)
    # right to left on each line, so earlier positions stay valid
    for line, start, end, name in t.names:
        new = mapping.get(name) or f"{prefix}{name}"
        text = lines[line]
        lines[line] = text[:start] + new.encode() + text[end:]
    rl, rc = t.ret
    text = lines[rl]
    if not text[rc:].startswith(b"return"):
        return None
    lines[rl] = text[:rc] + f"{target} =".encode() + text[rc + len("return"):]
    return head + [ln.decode() for ln in lines[t.first:]]


def import_aliases(line: str):
    """The names an import line binds (``from m import x as y`` binds y), or None."""
    try:
        tree = ast.parse(line)
    except SyntaxError:
        return None
    names = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            names += [a.asname or a.name.split(".")[0] for a in stmt.names]
        elif isinstance(stmt, ast.ImportFrom):
            names += [a.asname or a.name for a in stmt.names]
        else:
            return None
    return names
