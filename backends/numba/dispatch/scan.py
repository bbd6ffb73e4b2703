"""Scan (symgraph/scan/op.py): a native loop over the jitted inner graph.

The inner graph is compiled by the linker's own machinery (``compile_graph``: one
kernel per node, one generated ``graph`` function calling them), and the Scan
kernel imports that function from its generated module and calls it once per step,
so the whole loop runs in nopython mode; a Scan inside the inner graph goes through
this builder again. The inner graph's constants come in as extra arguments of the
kernel (``Kernel.constants``), so the generated source holds no data and is cached
on disk like every other kernel.

The kernel follows ``Scan.perform`` step for step (the layout is in op.py):

* n_steps is read, checked (>= 0) and compared with every sequence's length;
* each recurrent buffer gets ``k + n_steps`` rows (with a stopping condition: a
  capacity that doubles as steps run) and its k initial rows copied in; step t
  passes row ``t + k + tap`` for each tap and writes row ``t + k``, after checking
  that the step kept the row's shape;
* a nit_sot stack is allocated at the first step, when the step's shape is known,
  and each later step must keep that shape; a loop of zero steps gives the stack
  the step shape the interpreter infers (Scan._inner_step_shapes: most often
  lengths of the inputs, read directly, else a small compiled shape function);
* states are fed from one step to the next: tensors, and random generators, which
  are numba Generators in native code (the random kernels copy and return them),
  so a loop drawing random numbers runs natively too; an accumulator state whose
  next value is a Gemm on it that nothing else reads gets a buffer of its own,
  which that Gemm adds into in place (_accumulate_in_place: BPTT's parameter
  gradients are no longer copied into a new array every step);
* with ``as_while`` the loop stops after the first step whose condition is true,
  and the buffers are cut (copied) to the steps run.

A 0-d slice (a row of a 1-d sequence or buffer) is passed as a 0-d view, as the
inner kernels take arrays. Results are copied into the buffers element by element:
numba's array assignment would compile its formatted shape error (string
building) into every kernel, seconds of compile time. The per-step call of the
inner function costs about 10 ns (measured against the body written into the
loop), so the inner graph stays a function of its own. Error messages are the
interpreter's without the run-time numbers (native code cannot format them); the
linker re-runs a failed call on the interpreter, whose error names the node and
the numbers.
"""

from __future__ import annotations

import re

import numpy as np

from backends.numba.dispatch import Kernel, register
from backends.numba.dispatch.scalar import np_type
from symgraph.graph.fg import FunctionGraph
from symgraph.scan.op import Scan


def _who(op):
    if not op.name:
        return "scan"
    return "scan " + re.sub(r"[^A-Za-z0-9_ .-]", "_", str(op.name))[:40]


def _tuple(items):
    return "(" + "".join(f"{i}, " for i in items) + ")"


def _zero_d(array, row):
    """A 0-d view of ``array[row]`` (the inner kernels take arrays, not scalars)."""
    return f"np.lib.stride_tricks.as_strided({array}[{row}:], shape=(), strides=())"


def _row(array, row, ndim):
    """What step t passes for ``array[row]`` whose rows have ``ndim`` dimensions."""
    return _zero_d(array, row) if ndim == 0 else f"{array}[{row}]"


def _copy(dst, lead, src, rank, indent):
    """Lines copying the ``rank``-d array ``src`` into ``dst[lead]`` (all of ``dst`` when
    ``lead`` is None) element by element, the shapes being checked already: numba's
    array assignment would compile its formatted shape error into every kernel, which
    costs seconds of compile time."""
    lines = []
    for d in range(rank):
        lines.append(f"{indent}for c{d} in range({src}.shape[{d}]):")
        indent += "    "
    idx = [f"c{d}" for d in range(rank)]
    dst_idx = ([lead] if lead is not None else []) + idx
    lines.append(f"{indent}{dst}[{', '.join(dst_idx)}] = {src}[{', '.join(idx) or '()'}]")
    return lines


def _static_checks(lines, arg, inner_type, outer_type, first, what):
    """Check the run-time lengths the inner graph was compiled for (its kernels read a
    static length-1 dimension at index 0), where the outer type does not promise them."""
    for d, s in enumerate(inner_type.shape):
        if s is None:
            continue
        od = first + d
        if od < outer_type.ndim and outer_type.shape[od] == s:
            continue
        lines += [f"    if {arg}.shape[{od}] != {s}:",
                  f"        raise ValueError('{what} does not have the static shape the step "
                  "function was built for')"]


def _inner_fgraph(op):
    return FunctionGraph(op.inner_inputs, op.inner_outputs, clone=True)


def _accumulate_in_place(op, fgraph):
    """Rewrite the body ``fgraph`` (a copy of ``op``'s) so that accumulator states
    add into their buffer where it is: a 2-d state whose next value is
    ``Gemm(state, alpha, x, y, beta)`` and which nothing else in the body reads
    (BPTT's ``acc + x_t.T @ delta_t``) gets GemmInPlace. The kernel owns such a
    state's buffer -- a C-contiguous copy of the initial value made before the loop,
    then the op's own output, which no other output shares -- so writing into it
    changes no value anyone else holds. Returns the indices of those states."""
    from backends.numba.dispatch.dot import GemmInPlace
    from symgraph.tensor.blas import Gemm

    start = op.n_seqs + op.n_tap_inputs
    states = fgraph.inputs[start:start + op.n_states]
    base = op.n_rec + op.n_nit
    nexts = fgraph.outputs[base:base + op.n_states]
    owned = []
    for j, (sv, nv) in enumerate(zip(states, nexts)):
        node = nv.owner
        if node is None or type(node.op) is not Gemm or node.inputs[0] is not sv \
                or fgraph.clients.get(sv) != [(node, 0)] \
                or sum(v is nv for v in nexts) != 1:
            continue
        fgraph.replace(nv, GemmInPlace()(*node.inputs), reason="scan accumulator in place")
        owned.append(j)
    return owned


def _zero_step_shape_graph(op, node):
    """For a loop of zero steps, the step shapes of the nit_sot outputs whose static
    shape is incomplete, as a graph of the node's inputs (what Scan.perform evaluates
    then); None when every step shape is static, or when a shape depends on values
    computed in the loop (the interpreter then makes those dimensions 0)."""
    from symgraph.graph.basic import Apply
    from symgraph.tensor.shape import shape_i
    from symgraph.tensor.type import TensorType

    static = [node.outputs[op.n_rec + l].type.shape[1:] for l in range(op.n_nit)]
    if all(None not in s for s in static) or not hasattr(op, "_inner_step_shapes"):
        return None
    try:
        ins = [i.type() for i in node.inputs]
        shapes = [tuple(shape_i(v, d) for d in range(v.ndim))
                  if isinstance(v.type, TensorType) else None for v in ins]
        fake = Apply(op, ins, [o.type() for o in node.outputs])
        flat = [d for s in op._inner_step_shapes(fake, shapes) for d in s]
        fg = FunctionGraph(ins, flat, clone=True)
    except Exception:  # noqa: BLE001 -- as the interpreter: no step ran to tell
        return None
    try:  # simplified, most often to lengths of the inputs (see _direct_dims)
        from symgraph.graph.rewriting.db import optimize_graph
        optimize_graph(fg, "fast_run")
    except Exception:  # noqa: BLE001 -- the graph as it is then
        pass
    return fg


def _direct_dims(fg):
    """The dimensions of a zero-step shape graph as source expressions of the kernel's
    arguments when each is a constant or a length of an input (the usual case), so no
    function needs compiling for them; else None."""
    from symgraph.graph.basic import Constant
    from symgraph.tensor.shape import Shape_i

    pos = {v: k for k, v in enumerate(fg.inputs)}
    dims = []
    for o in fg.outputs:
        if isinstance(o, Constant) and np.ndim(o.data) == 0:
            dims.append(str(int(o.data)))
        elif o.owner is not None and isinstance(o.owner.op, Shape_i) \
                and o.owner.inputs[0] in pos:
            dims.append(f"a{pos[o.owner.inputs[0]]}.shape[{o.owner.op.i}]")
        else:
            return None
    return dims


_built: dict = {}


@register(Scan)
def build_scan(op, node):
    """The kernel of a Scan node (memoized per op and input/output types: building it
    compiles the inner graph's source, which a function using the same loop again
    need not redo)."""
    key = (op, tuple(v.type for v in node.inputs), tuple(v.type for v in node.outputs))
    try:
        kernel = _built.get(key)
    except TypeError:  # an unhashable type: build it every time
        return _build_scan(op, node)
    if kernel is None:
        if len(_built) > 512:
            _built.clear()
        kernel = _built[key] = _build_scan(op, node)
    return kernel


def _build_scan(op, node):
    from backends.numba.linker import compile_graph  # the linker imports dispatch

    body = _inner_fgraph(op)
    owned = _accumulate_in_place(op, body)
    code = compile_graph(body)
    inner_fn = f"{code.module}_fn"
    imports = [f"from {code.module} import graph as {inner_fn}"]
    shape_fg = _zero_step_shape_graph(op, node)
    direct = _direct_dims(shape_fg) if shape_fg is not None else None
    shape_code = compile_graph(shape_fg) if shape_fg is not None and direct is None else None
    who = _who(op)
    s_seq, s_rec, s_st, s_ns = op.outer_slices()
    n_in = len(node.inputs)
    n_const = len(code.consts)
    args = [f"a{k}" for k in range(n_in)]
    consts = [f"k{j}" for j in range(n_const)]
    all_consts = code.consts
    uncacheable = code.uncacheable
    if shape_code is not None:
        shape_fn = f"{shape_code.module}_fn"
        imports.append(f"from {shape_code.module} import graph as {shape_fn}")
        shape_consts = [f"k{n_const + j}" for j in range(len(shape_code.consts))]
        all_consts = all_consts + shape_code.consts
        uncacheable = uncacheable or shape_code.uncacheable
    else:
        shape_consts = []
    lines = [f"def KERNEL_NAME({', '.join(args + consts + shape_consts)}):",
             "    n = np.int64(a0[()])",
             "    if n < 0:",
             f"        raise ValueError('{who}: n_steps must be >= 0 (symgraph\\'s scan does not "
             "read a negative n_steps as going backwards; use go_backwards=True)')"]
    inner_args = []
    # sequences
    for j, inner in enumerate(op.inner_seqs()):
        a = f"a{s_seq.start + j}"
        lines += [f"    if {a}.shape[0] < n:",
                  f"        raise ValueError('{who}: n_steps is larger than the number of steps "
                  f"sequence {j} provides (with taps, a sequence of length L gives L minus the "
                  "span of its taps); give a shorter n_steps or a longer sequence')"]
        _static_checks(lines, a, inner.type, node.inputs[s_seq.start + j].type, 1,
                       f"{who}: sequence {j}")
        inner_args.append(_row(a, "t", inner.ndim))
    # recurrent buffers
    if op.as_while:
        lines.append("    cap = min(n, 16)")
        cap = "cap"
    else:
        cap = "n"
    for i in range(op.n_rec):
        a = f"a{s_rec.start + i}"
        k = op.ks[i]
        tap_type = op.inner_taps(i)[0].type
        dt = np_type(tap_type.dtype)
        lines += [f"    if {a}.shape[0] != {k}:",
                  f"        raise ValueError('{who}: the initial buffer of recurrent output {i} "
                  f"does not have {k} rows (taps {op.rec_taps[i]})')"]
        _static_checks(lines, a, tap_type, node.inputs[s_rec.start + i].type, 1,
                       f"{who}: the initial buffer of recurrent output {i}")
        lines.append(f"    b{i} = np.empty(({k} + {cap},) + {a}.shape[1:], dtype={dt})")
        lines += _copy(f"b{i}", None, a, tap_type.ndim + 1, "    ")
        for d in op.rec_taps[i]:
            inner_args.append(_row(f"b{i}", f"t + {k + d}", tap_type.ndim))
    # states and non-sequences
    for j in range(op.n_states):
        a = f"a{s_st.start + j}"
        if j in owned:  # a buffer of its own, which the body adds into (GemmInPlace)
            dt = np_type(op.inner_states()[j].type.dtype)
            lines.append(f"    s{j} = np.empty({a}.shape, dtype={dt})")
            lines += _copy(f"s{j}", None, a, 2, "    ")
        else:
            lines.append(f"    s{j} = {a}")
        inner_args.append(f"s{j}")
    for j, inner in enumerate(op.inner_nonseqs()):
        a = f"a{s_ns.start + j}"
        if hasattr(inner.type, "shape"):
            _static_checks(lines, a, inner.type, node.inputs[s_ns.start + j].type, 0,
                           f"{who}: non-sequence {j}")
        inner_args.append(a)
    inner_args += consts
    # nit_sot stacks: typed placeholders until the first step gives the step shape; with
    # zero steps (then n == 0) their shape as the interpreter gives it
    dim = 0
    zero = []
    for l in range(op.n_nit):
        out = node.outputs[op.n_rec + l]
        dt = np_type(out.type.dtype)
        dims = []
        for s in out.type.shape[1:]:
            dims.append(str(s) if s is not None else direct[dim] if direct is not None
                        else f"d[{dim}][()]" if shape_code is not None else "0")
            dim += 1
        lines.append(f"    z{l} = np.empty({_tuple(['0'] * (len(dims) + 1))}, dtype={dt})")
        if any(d != "0" for d in dims):
            zero.append(f"        z{l} = np.empty({_tuple(['0'] + dims)}, dtype={dt})")
    if zero:
        lines.append("    if n == 0:")
        if shape_code is not None:
            lines.append(f"        d = {shape_fn}({', '.join(args + shape_consts)})")
        lines += zero
    if op.as_while:
        lines.append("    n_run = n")
    # the loop
    lines += ["    for t in range(n):",
              f"        r = {inner_fn}({', '.join(inner_args)})"]
    if op.as_while:
        grow = ["        if t >= cap:",
                "            cap = min(n, 2 * cap)"]
        for i in range(op.n_rec):
            k = op.ks[i]
            grow.append(f"            gb{i} = np.empty(({k} + cap,) + b{i}.shape[1:], "
                        f"dtype=b{i}.dtype)")
            grow += _copy(f"gb{i}", None, f"b{i}", op.inner_taps(i)[0].ndim + 1, " " * 12)
            grow.append(f"            b{i} = gb{i}")
        for l in range(op.n_nit):
            grow.append(f"            gz{l} = np.empty((cap,) + z{l}.shape[1:], dtype=z{l}.dtype)")
            grow += _copy(f"gz{l}", None, f"z{l}", node.outputs[op.n_rec + l].ndim, " " * 12)
            grow.append(f"            z{l} = gz{l}")
        if len(grow) > 2:
            lines += grow
    for i in range(op.n_rec):
        k = op.ks[i]
        nd = op.inner_taps(i)[0].ndim
        lines.append(f"        v = r[{i}]")
        if nd:
            lines += [f"        if v.shape != b{i}.shape[1:]:",
                      f"            raise ValueError('{who}: recurrent output {i} of the step "
                      "function does not have the shape of its initial state (outputs_info); a "
                      "recurrent output must keep the shape of its initial state')"]
        lines += _copy(f"b{i}", f"t + {k}", "v", nd, " " * 8)
    for l in range(op.n_nit):
        o = op.n_rec + l
        out = node.outputs[o]
        nd = out.ndim - 1
        dt = np_type(out.type.dtype)
        lines.append(f"        v = r[{o}]")
        if nd:
            lines += ["        if t == 0:",
                      f"            z{l} = np.empty(({cap},) + v.shape, dtype={dt})",
                      f"        elif v.shape != z{l}.shape[1:]:",
                      f"            raise ValueError('{who}: output {o} of the step function "
                      "changed shape between steps; outputs stacked over the steps must keep "
                      "one shape')"]
        else:
            lines += ["        if t == 0:",
                      f"            z{l} = np.empty(({cap},), dtype={dt})"]
        lines += _copy(f"z{l}", "t", "v", nd, " " * 8)
    base = op.n_rec + op.n_nit
    for j in range(op.n_states):
        lines.append(f"        s{j} = r[{base + j}]")
    if op.as_while:
        lines += [f"        if r[{base + op.n_states}][()]:",
                  "            n_run = t + 1",
                  "            break"]
        for i in range(op.n_rec):
            k = op.ks[i]
            lines += [f"    if b{i}.shape[0] != {k} + n_run:",
                      f"        b{i} = b{i}[:{k} + n_run].copy()"]
        for l in range(op.n_nit):
            lines += [f"    if z{l}.shape[0] > n_run:",
                      f"        z{l} = z{l}[:n_run].copy()"]
    outs = [f"b{i}" for i in range(op.n_rec)] + [f"z{l}" for l in range(op.n_nit)] + \
        [f"s{j}" for j in range(op.n_states)]
    lines.append(f"    return {outs[0]}" if len(outs) == 1 else f"    return {_tuple(outs)}")
    return Kernel("\n".join(lines) + "\n", imports=imports, uncacheable=uncacheable,
                  constants=all_consts)
