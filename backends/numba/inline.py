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
import re

_FORBIDDEN = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
              ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Global, ast.Nonlocal,
              ast.Try, ast.With, ast.AsyncWith, ast.Yield, ast.YieldFrom, ast.Await,
              ast.Return, ast.JoinedStr)
if hasattr(ast, "TryStar"):
    _FORBIDDEN = _FORBIDDEN + (ast.TryStar,)


class _Template:
    """A kernel ready for pasting: the body's lines (as bytes, since ast positions
    count bytes), where each local name occurs, and where ``return`` stands."""

    __slots__ = ("args", "stored_args", "lines", "first", "names", "ret", "statements",
                 "zero_d_args", "scalar_rets")

    def __init__(self, args, stored_args, lines, first, names, ret, statements,
                 zero_d_args=frozenset(), scalar_rets=()):
        self.args, self.stored_args = args, stored_args
        self.lines, self.first, self.names, self.ret = lines, first, names, ret
        self.statements = statements
        # arguments read only as ``a[()]`` (a 0-d value: a scalar may come instead),
        # and per returned value None or (name, dtype text, line of its
        # ``np.empty((), ...)``, line of its one ``name[()] = ...``): a 0-d result
        # that can be computed as a scalar instead (see scalars below)
        self.zero_d_args, self.scalar_rets = zero_d_args, scalar_rets


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
    reads = _zero_d_reads(body, lines)
    counts = {}
    for n in names:
        counts[n.id] = counts.get(n.id, 0) + 1
    zero_d_args = frozenset(a_ for a_ in args if a_ not in stored and counts.get(a_)
                            and reads.get(a_, 0) == counts[a_])
    return _Template(args, frozenset(stored) & frozenset(args), tuple(lines), first,
                     occurrences, (ret.lineno - 1, ret.col_offset), statements,
                     zero_d_args, _scalar_returns(body, ret, lines, counts, reads, set(args)))


def _is_unit_index(sub) -> bool:
    """``x[()]``: a Subscript whose index is the empty tuple."""
    sl = sub.slice
    return isinstance(sl, ast.Tuple) and not sl.elts


def _zero_d_reads(body, lines):
    """name -> how often it is read as ``name[()]`` (written exactly so)."""
    reads = {}
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
                    and isinstance(node.ctx, ast.Load) and _is_unit_index(node) \
                    and node.lineno == node.end_lineno:
                v = node.value
                if lines[v.lineno - 1][v.end_col_offset:v.end_col_offset + 4] == b"[()]":
                    reads[v.id] = reads.get(v.id, 0) + 1
    return reads


def _scalar_returns(body, ret, lines, counts, reads, args):
    """For each returned name: how it can be computed as a scalar, or None.

    A result ``r`` qualifies when the body allocates it with one top-level
    ``r = np.empty((), dtype=np.T)``, stores it with one top-level one-line
    ``r[()] = <expr>`` (nothing after the expression on that line), and otherwise
    only reads it as ``r[()]``: then ``r = np.T(<expr>)`` computes the same value
    without the 0-d array (see ``inline_lines``).
    """
    value = ret.value
    elts = value.elts if isinstance(value, ast.Tuple) else [value]
    if not all(isinstance(e, ast.Name) for e in elts):
        return ()
    returned = [e.id for e in elts]
    out = []
    for r in returned:
        if r in args or returned.count(r) != 1:
            out.append(None)
            continue
        empties, writes = [], []
        for stmt in body[:-1]:
            if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
                continue
            t, v = stmt.targets[0], stmt.value
            if isinstance(t, ast.Name) and t.id == r:
                empties.append(stmt)
            elif isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) \
                    and t.value.id == r and _is_unit_index(t):
                writes.append(stmt)
        dtype = _empty_0d_dtype(empties[0]) if len(empties) == 1 else None
        ok = dtype is not None and len(writes) == 1
        if ok:
            w = writes[0]
            line = lines[w.lineno - 1]
            ok = (w.lineno == w.end_lineno and empties[0].lineno < w.lineno
                  and not line[w.value.end_col_offset:].strip()
                  and line[w.targets[0].value.end_col_offset:].startswith(b"[()] = ")
                  # uses: the allocation, the store, the return, and reads r[()]
                  # after the store
                  and counts.get(r, 0) == 3 + reads.get(r, 0)
                  and _zero_d_reads([st for st in body if st.lineno > w.lineno],
                                    lines).get(r, 0) == reads.get(r, 0))
        out.append((r, dtype, empties[0].lineno - 1, writes[0].lineno - 1) if ok else None)
    return tuple(out) if any(out) else ()


def _empty_0d_dtype(stmt):
    """``np.float64`` for ``x = np.empty((), dtype=np.float64)``, else None."""
    v = stmt.value
    if not (isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute)
            and v.func.attr == "empty" and isinstance(v.func.value, ast.Name)
            and v.func.value.id == "np" and len(v.args) == 1
            and isinstance(v.args[0], ast.Tuple) and not v.args[0].elts
            and len(v.keywords) == 1 and v.keywords[0].arg == "dtype"):
        return None
    d = v.keywords[0].value
    if isinstance(d, ast.Attribute) and isinstance(d.value, ast.Name) and d.value.id == "np":
        return f"np.{d.attr}"
    return None


def can_inline(source: str) -> bool:
    return _template(source) is not None


def arity(source: str) -> int:
    t = _template(source)
    return len(t.args) if t is not None else -1


def params(source: str) -> tuple:
    """The kernel's parameter names (empty when it cannot be pasted)."""
    t = _template(source)
    return t.args if t is not None else ()


def statement_count(source: str) -> int:
    t = _template(source)
    return t.statements if t is not None else 0


def zero_d_args(source: str) -> frozenset:
    """The kernel's parameters that it reads only as ``p[()]``."""
    t = _template(source)
    return t.zero_d_args if t is not None else frozenset()


def inline_lines(source: str, prefix: str, arg_names, target: str):
    """Lines computing ``target = KERNEL(*arg_names)`` with the kernel's body pasted in
    (at the kernel's own indentation, the graph function's too).

    ``prefix`` makes the kernel's local names unique in the graph function; the
    arguments (plain names) are used as they are unless the kernel assigns to them.
    Returns None when the kernel cannot be pasted.
    """
    res = inline_scalar_lines(source, prefix, arg_names, target)
    return None if res is None else res[0]


def inline_scalar_lines(source: str, prefix: str, arg_names, target: str,
                        scalar_args=frozenset(), scalar_results=False):
    """``inline_lines`` where 0-d values may be numba scalars instead of 0-d arrays.

    A 0-d array costs numba an allocation, and several statements to type and lower
    for every ``np.empty(())`` and ``x[()]`` (numba's compile time grows with the
    statements of the function: measured ~10% of the Elman RNN step's). Arguments
    in ``scalar_args`` (names from ``arg_names``, for parameters in
    ``zero_d_args``) are scalars: their ``x[()]`` reads become ``x``. With
    ``scalar_results`` the results that ``_scalar_returns`` allows are computed as
    scalars. Returns (lines, flags: per result, whether it is a scalar; empty when
    none is), or None.
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
    flags = [False] * len(t.scalar_rets)
    drop = set()
    unit_reads = [a for a in scalar_args if a in arg_names]
    if scalar_results:
        for k, spec in enumerate(t.scalar_rets):
            if spec is None:
                continue
            r, dtype, empty_line, write_line = spec
            name = f"{prefix}{r}".encode()
            drop.add(empty_line)
            text = lines[write_line]
            head_, _, expr = text.partition(name + b"[()] = ")
            lines[write_line] = head_ + name + b" = " + dtype.encode() + b"(" + expr + b")"
            unit_reads.append(name.decode())
            flags[k] = True
    if unit_reads:
        pattern = re.compile(rb"\b(" + b"|".join(re.escape(n.encode()) for n in unit_reads)
                             + rb")\[\(\)\]")
        for k in range(t.first, len(lines)):
            if k not in drop:
                lines[k] = pattern.sub(rb"\1", lines[k])
    body = [ln.decode() for k, ln in enumerate(lines) if k >= t.first and k not in drop]
    return head + body, tuple(flags)


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
