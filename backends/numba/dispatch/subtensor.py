"""Indexing: Subtensor (a view), AdvancedSubtensor (a gather loop), IncSubtensor and
AdvancedIncSubtensor (a copy of x, then a scatter loop), SumToShape (a reduction loop).

Every kernel is generated from the node's static index pattern (``idx_list``, the
rank and dtype of each index input); lengths and index values are read at run time.

* ``Subtensor``: numba's own basic indexing (ints and slices, any step), so the
  result is a view of ``x`` (the op declares ``view_map``); ints are bounds-checked
  first, a full integer key gives a 0-d copy.
* The other three share one plan (``_Plan``): the slices of the key are applied as a
  numba view ``v`` (the other axes keep ``:``); then one loop nest runs over the
  indexed shape, in NumPy's order (the broadcast dimensions of the advanced indices
  in place when those are adjacent in the key, else first), reading or writing
  ``v`` at the source index of every axis: a loop variable (slices, Ellipsis,
  trailing axes), a checked integer (ints and 0-d integer arrays), an element of an
  integer index array read at its broadcast position (negative values wrap), or a
  coordinate of ``np.nonzero(mask)`` for a boolean mask.
  Index arrays are checked in a first pass, only when the broadcast is not empty,
  as NumPy does; masks must match the axes they cover.
* set/inc write into a copy of ``x`` (inputs are never written); the writes run in
  C order over the indexed shape, so repeated indices accumulate for increments
  (``np.add.at``) and the last write wins for sets and ``ignore_duplicates``
  (which adds ``y`` to the original ``x`` values). ``y`` broadcasts by NumPy's rules
  (a run-time length 1 stretches); it is cast to x's dtype before the arithmetic, so
  integers wrap and floats round as NumPy's in-place add does.

Every index pattern NumPy accepts compiles natively; nothing here falls back to
object mode.
"""

from __future__ import annotations

from backends.numba.dispatch import Kernel, register
from backends.numba.dispatch.objmode import NotSupported
from backends.numba.dispatch.scalar import cast, np_type
from symgraph.tensor.indexing import ARRAY, SCALAR, SliceIdx, _is_int
from symgraph.tensor.subtensor import (
    AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor, Subtensor, SumToShape,
)

_IMAX = "np.int64(9223372036854775807)"
_OOB = "        raise IndexError('index out of bounds')"


def _ix(items):
    return ", ".join(items) if items else "()"


def _read_int(lines, name, arg, dtype):
    """``name = int64(arg[()])``; uint64 values beyond int64 saturate (out of bounds anyway)."""
    if dtype == "uint64":
        lines.append(f"    {name} = np.int64({arg}[()]) if {arg}[()] <= "
                     f"np.uint64(9223372036854775807) else {_IMAX}")
    else:
        lines.append(f"    {name} = np.int64({arg}[()])")


def _check_int(lines, name, n):
    """Wrap a negative index ``name`` and check it against the length ``n``."""
    lines += [f"    if {name} < 0:",
              f"        {name} += {n}",
              f"    if {name} < 0 or {name} >= {n}:",
              _OOB]


def _records(idx_list, node, first, lines):
    """The key's entries with their inputs read: ("int", expr) | ("slice", text) |
    ("new",) | ("ell",) | ("arr", arg, var) | ("mask", arg, var)."""
    pos = first
    recs = []

    def scalar(p):
        nonlocal pos
        if p is None:
            return ""
        if p is SCALAR:
            name = f"s{pos}"
            _read_int(lines, name, f"a{pos}", node.inputs[pos].type.dtype)
            pos += 1
            return name
        return str(int(p))

    for e in idx_list:
        if e is SCALAR:
            recs.append(("int", scalar(e)))
        elif _is_int(e):
            recs.append(("int", str(int(e))))
        elif isinstance(e, SliceIdx):
            start, stop, step = (scalar(p) for p in e)
            recs.append(("slice", f"{start}:{stop}" + (f":{step}" if step else "")))
        elif e is None:
            recs.append(("new",))
        elif e is Ellipsis:
            recs.append(("ell",))
        elif e is ARRAY:
            v = node.inputs[pos]
            arg = f"a{pos}"
            pos += 1
            if v.type.dtype == "bool":
                recs.append(("mask", arg, v))
            elif v.ndim == 0:  # a 0-d integer array indexes like an int
                name = f"s{pos - 1}"
                _read_int(lines, name, arg, v.type.dtype)
                recs.append(("int", name))
            else:
                recs.append(("arr", arg, v))
        else:
            raise NotSupported(f"index entry {e!r}")
    return recs


class _Plan:
    """Where each axis of ``x`` reads from, and the indexed shape, for one key.

    After construction: ``lines`` (reading and checking the indices, computing the
    broadcast lengths ``b<d>``), ``key`` (the slice text of every axis of x),
    ``out_dims`` (("axis", k) | ("new",) | ("b", d) per dimension of x[key]),
    and ``axis_src`` (per axis of x: ("loop", k) | ("fixed", name) | ("adv", name)); the
    reads of the advanced indices go in ``loops`` just inside the broadcast loops.
    """

    def __init__(self, idx_list, node, first):
        x = node.inputs[0]
        nd = x.ndim
        self.lines = lines = []
        recs = _records(idx_list, node, first, lines)
        consumed = 0
        for r in recs:
            if r[0] in ("int", "slice", "arr"):
                consumed += 1
            elif r[0] == "mask":
                consumed += r[2].ndim
        if consumed > nd:
            raise NotSupported("too many indices")
        advanced = any(r[0] in ("arr", "mask") for r in recs)
        self.key = key = []
        self.axis_src = axis_src = [None] * nd
        before, after, adv_pos = [], [], []
        contrib = []   # advanced indices: (shape exprs, static shape, reader(index) -> lines)
        checks = []    # index arrays to bounds-check: (arg, var, axis)
        k = 0
        for p, r in enumerate(recs):
            dst = after if adv_pos else before
            kind = r[0]
            if kind == "int":
                name = f"i{k}"
                lines.append(f"    {name} = {r[1]}")
                _check_int(lines, name, f"a0.shape[{k}]")
                axis_src[k] = ("fixed", name)
                key.append(":")
                if advanced:
                    adv_pos.append(p)
                k += 1
            elif kind == "slice":
                key.append(r[1])
                axis_src[k] = ("loop", k)
                dst.append(("axis", k))
                k += 1
            elif kind == "new":
                dst.append(("new",))
            elif kind == "ell":
                for _ in range(nd - consumed):
                    key.append(":")
                    axis_src[k] = ("loop", k)
                    dst.append(("axis", k))
                    k += 1
            elif kind == "arr":
                arg, v = r[1], r[2]
                adv_pos.append(p)
                key.append(":")
                axis_src[k] = ("adv", f"x{k}")
                checks.append((arg, v, k))
                contrib.append(([f"{arg}.shape[{q}]" for q in range(v.ndim)], v.type.shape,
                                self._array_reader(arg, v, k)))
                k += 1
            else:  # mask
                arg, v = r[1], r[2]
                adv_pos.append(p)
                m = v.ndim
                if m == 0:
                    cnt = f"c{p}"
                    lines.append(f"    {cnt} = 1 if {arg}[()] else 0")
                    contrib.append(([cnt], (None,), lambda jb: []))
                    continue
                nz = f"nz{k}"
                for t in range(m):
                    lines += [f"    if {arg}.shape[{t}] != a0.shape[{k + t}]:",
                              "        raise IndexError('boolean index did not match the "
                              "indexed array')"]
                    axis_src[k + t] = ("adv", f"x{k + t}")
                    key.append(":")
                lines.append(f"    {nz} = np.nonzero({arg})")
                contrib.append(([f"{nz}[0].shape[0]"], (None,), self._mask_reader(nz, m, k)))
                k += m
        while k < nd:
            key.append(":")
            axis_src[k] = ("loop", k)
            (after if adv_pos else before).append(("axis", k))
            k += 1
        rank = max((len(c[0]) for c in contrib), default=0)
        bdims = [("b", d) for d in range(rank)]
        if adv_pos and adv_pos != list(range(adv_pos[0], adv_pos[-1] + 1)):
            self.out_dims = bdims + before + after
        else:
            self.out_dims = before + bdims + after
        self.rank = rank
        # Index arrays are checked as they are read when the broadcast loops are the
        # outermost (every element is then read once the broadcast is not empty, as
        # NumPy checks); else in a first pass, as a slice before them may be empty.
        lead = [d[0] for d in self.out_dims if d[0] != "new"]
        self.inline_checks = bool(lead) and lead[0] == "b"
        self._broadcast(contrib, rank)
        if rank and not self.inline_checks:
            total = " * ".join(f"b{d}" for d in range(rank))
            for arg, v, axis in checks:
                self._bounds_check(arg, v, axis, total)
        self._contrib = contrib

    # -- index arrays

    def _array_reader(self, arg, v, axis):
        dtype = v.type.dtype
        n = f"a0.shape[{axis}]"

        def read(idx):
            x = f"x{axis}"
            val = f"{arg}[{_ix(idx)}]"
            out = [f"{x} = {val}" if dtype == "int64" else f"{x} = np.int64({val})"]
            if dtype[0] != "u":
                out += [f"if {x} < 0:", f"    {x} += {n}"]
            if self.inline_checks:
                if dtype[0] == "u":
                    # uint64 values beyond int64 became negative
                    out += [f"if {x} < 0 or {x} >= {n}:" if dtype == "uint64" else
                            f"if {x} >= {n}:"]
                else:
                    out += [f"if {x} < 0 or {x} >= {n}:"]
                out += ["    raise IndexError('index out of bounds')"]
            return out
        return read

    @staticmethod
    def _mask_reader(nz, m, axis):
        def read(idx):
            return [f"x{axis + t} = {nz}[{t}][{idx[0]}]" for t in range(m)]
        return read

    def _broadcast(self, contrib, rank):
        """``b<d>``: the broadcast lengths; each contributor's element index per dim."""
        lines = self.lines
        self._idx_exprs = []
        single = [c for c in contrib if len(c[0])]
        if len(single) == 1 and len(single[0][0]) == rank:
            shp = single[0][0]
            for d in range(rank):
                lines.append(f"    b{d} = {shp[d]}")
            for c in contrib:
                r = len(c[0])
                self._idx_exprs.append([f"J{d}" for d in range(rank - r, rank)])
            return
        for d in range(rank):
            lines.append(f"    b{d} = 1")
        for ci, (shp, static, _) in enumerate(contrib):
            r = len(shp)
            exprs = []
            for q in range(r):
                d = rank - r + q
                if static[q] == 1:
                    exprs.append("0")
                    continue
                lines += [f"    if {shp[q]} != 1:",
                          f"        if b{d} != 1 and b{d} != {shp[q]}:",
                          "            raise IndexError('shape mismatch: indexing arrays could "
                          "not be broadcast together')",
                          f"        b{d} = {shp[q]}"]
                exprs.append(f"J{d} * m{ci}_{q}")
            self._idx_exprs.append(exprs)
        for ci, (shp, static, _) in enumerate(contrib):
            for q in range(len(shp)):
                if static[q] != 1:
                    lines.append(f"    m{ci}_{q} = 1 if {shp[q]} != 1 else 0")

    def _bounds_check(self, arg, v, axis, total):
        lines = self.lines
        n = f"a0.shape[{axis}]"
        lines.append(f"    if {total} > 0:")
        ind = "        "
        for q in range(v.ndim):
            lines.append(f"{ind}for q{q} in range({arg}.shape[{q}]):")
            ind += "    "
        lines.append(f"{ind}t = {arg}[{_ix([f'q{q}' for q in range(v.ndim)])}]")
        if v.type.dtype == "uint64":
            lines.append(f"{ind}if t >= np.uint64({n}):")
        elif v.type.dtype[0] == "u":
            lines.append(f"{ind}if t >= {n}:")
        else:
            lines.append(f"{ind}if t < -{n} or t >= {n}:")
        lines.append(f"{ind}    raise IndexError('index out of bounds')")

    # -- the loop nest

    def view_line(self, name, src):
        if any(s != ":" for s in self.key):
            return f"    {name} = {src}[{', '.join(self.key)}]"
        return f"    {name} = {src}"

    def length(self, dim):
        if dim[0] == "axis":
            return f"v.shape[{dim[1]}]"
        if dim[0] == "b":
            return f"b{dim[1]}"
        return "1"

    def loops(self, body):
        """Source lines of the loop nest over ``out_dims`` around ``body(out_idx, src_idx)``
        (lists of index expressions into the output and into ``v``)."""
        lines = []
        ind = "    "
        jvar = {}
        out_idx = []
        bvars = {}
        last_b = max((i for i, d in enumerate(self.out_dims) if d[0] == "b"), default=-1)
        for i, dim in enumerate(self.out_dims):
            if dim[0] == "new":
                out_idx.append("0")
            else:
                lines.append(f"{ind}for j{i} in range({self.length(dim)}):")
                ind += "    "
                out_idx.append(f"j{i}")
                if dim[0] == "axis":
                    jvar[dim[1]] = f"j{i}"
                else:
                    bvars[f"J{dim[1]}"] = f"j{i}"
            if i == last_b:
                for (_, _, read), exprs in zip(self._contrib, self._idx_exprs):
                    idx = [_subst(e, bvars) for e in exprs]
                    lines += [ind + s for s in read(idx)]
        src = []
        for s in self.axis_src:
            if s[0] == "loop":
                src.append(jvar[s[1]])
            else:
                src.append(s[1])
        lines += [ind + s for s in body(out_idx, src)]
        return lines


def _subst(expr, names):
    for k in sorted(names, key=len, reverse=True):
        expr = expr.replace(k, names[k])
    return expr


def _idx_list(op, node, first):
    n = len(node.inputs) - first
    return (ARRAY,) * n if op.idx_list is None else op.idx_list


# =========================================================================== getters

@register(Subtensor)
def build_subtensor(op, node):
    """numba's basic indexing: a view of ``x`` (a 0-d copy when every axis takes an int)."""
    x, out = node.inputs[0], node.outputs[0]
    args = ", ".join(f"a{i}" for i in range(len(node.inputs)))
    lines = [f"def KERNEL_NAME({args}):"]
    recs = _records(op.idx_list, node, 1, lines)
    key = []
    for k, r in enumerate(recs):
        if r[0] == "int":
            name = f"i{k}"
            lines.append(f"    {name} = {r[1]}")
            _check_int(lines, name, f"a0.shape[{k}]")
            key.append(name)
        elif r[0] == "slice":
            key.append(r[1])
        else:
            raise NotSupported(f"basic index entry {r[0]}")
    if len(key) > x.ndim:
        raise NotSupported("too many indices")
    if not key:
        lines.append("    return a0")
    elif out.ndim == 0:
        lines += [f"    out = np.empty((), dtype={np_type(out.type.dtype)})",
                  f"    out[()] = a0[{', '.join(key)}]",
                  "    return out"]
    else:
        lines.append(f"    return a0[{', '.join(key)}]")
    return Kernel("\n".join(lines) + "\n")


@register(AdvancedSubtensor)
def build_advanced_subtensor(op, node):
    """A gather loop over the indexed shape into a new C-contiguous array."""
    out = node.outputs[0]
    plan = _Plan(_idx_list(op, node, 1), node, 1)
    args = ", ".join(f"a{i}" for i in range(len(node.inputs)))
    lines = [f"def KERNEL_NAME({args}):"] + plan.lines + [plan.view_line("v", "a0")]
    shape = "(" + "".join(f"{plan.length(d)}, " for d in plan.out_dims) + ")"
    lines.append(f"    o = np.empty({shape}, dtype={np_type(out.type.dtype)})")
    lines += plan.loops(lambda o, s: [f"o[{_ix(o)}] = v[{_ix(s)}]"])
    lines.append("    return o")
    return Kernel("\n".join(lines) + "\n")


# =========================================================================== set / inc

@register(IncSubtensor, AdvancedIncSubtensor)
def build_inc_subtensor(op, node):
    """A copy of ``x``, then a loop writing (or adding) the broadcast ``y`` at the key."""
    x, y = node.inputs[0], node.inputs[1]
    xdt, ydt = x.type.dtype, y.type.dtype
    plan = _Plan(_idx_list(op, node, 2), node, 2)
    args = ", ".join(f"a{i}" for i in range(len(node.inputs)))
    lines = [f"def KERNEL_NAME({args}):"] + plan.lines
    # y broadcasts to the indexed shape, aligned on the right
    nout = len(plan.out_dims)
    if y.ndim > nout:
        raise NotSupported("y has more dimensions than x[idx]")
    lines.append("    o = a0.copy()")
    lines.append(plan.view_line("v", "o"))
    dup = getattr(op, "ignore_duplicates", False) and not op.set_instead_of_inc
    if dup:
        lines.append(plan.view_line("w", "a0"))
    yidx = []
    for q in range(y.ndim):
        i = nout - y.ndim + q
        if y.type.shape[q] == 1:
            yidx.append("0")
            continue
        n = plan.length(plan.out_dims[i])
        lines += [f"    if a1.shape[{q}] != {n} and a1.shape[{q}] != 1:",
                  "        raise ValueError('cannot broadcast y to x[idx]')",
                  f"    y{q} = 1 if a1.shape[{q}] != 1 else 0"]
        yidx.append(f"j{i} * y{q}" if plan.out_dims[i][0] != "new" else "0")

    def body(o, s):
        val = cast(f"a1[{_ix(yidx)}]", ydt, xdt)
        tgt = f"v[{_ix(s)}]"
        if op.set_instead_of_inc:
            return [f"{tgt} = {val}"]
        base = f"w[{_ix(s)}]" if dup else tgt
        if xdt == "bool":
            return [f"{tgt} = {base} | {val}"]
        return [f"{tgt} = {base} + {val}"]

    lines += plan.loops(body)
    lines.append("    return o")
    return Kernel("\n".join(lines) + "\n")


# =========================================================================== SumToShape

@register(SumToShape)
def build_sum_to_shape(op, node):
    """``g`` summed over its extra leading dims and over every dim whose target length
    is 1 at run time; float32/complex64 accumulate in double precision."""
    g, out = node.inputs[0], node.outputs[0]
    gd, od = g.ndim, out.ndim
    extra = gd - od
    dt = out.type.dtype
    acc = {"float32": "float64", "complex64": "complex128"}.get(dt, dt)
    args = ", ".join(f"a{i}" for i in range(len(node.inputs)))
    lines = [f"def KERNEL_NAME({args}):"]
    for d in range(od):
        _read_int(lines, f"t{d}", f"a{d + 1}", node.inputs[d + 1].type.dtype)
        lines += [f"    if t{d} != 1 and t{d} != a0.shape[{extra + d}]:",
                  "        raise ValueError('SumToShape: not a broadcast of the target shape')",
                  f"    m{d} = 0 if t{d} == 1 else 1"]
    shape = "(" + "".join(f"t{d}, " for d in range(od)) + ")"
    lines.append(f"    acc = np.zeros({shape}, dtype={np_type(acc)})")
    ind = "    "
    for d in range(gd):
        lines.append(f"{ind}for j{d} in range(a0.shape[{d}]):")
        ind += "    "
    tgt = f"acc[{_ix([f'j{extra + d} * m{d}' for d in range(od)])}]"
    src = f"a0[{_ix([f'j{d}' for d in range(gd)])}]"
    if dt == "bool":
        lines.append(f"{ind}{tgt} = {tgt} | {src}")
    else:
        lines.append(f"{ind}{tgt} = {tgt} + {src}")
    lines.append("    return acc" if acc == dt else f"    return acc.astype({np_type(dt)})")
    return Kernel("\n".join(lines) + "\n")
