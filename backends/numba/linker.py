"""The numba linker: one compiled function per graph.

For a FunctionGraph it asks dispatch for a kernel per node (shared by key),
writes the source of one function that runs them in topological order, and
jits that function, so a call crosses into native code once. Most kernels are
written into that function (inline.py: numba then compiles one function instead
of one per kernel, about half the compile time); the others are called::

    def graph(i0, s1, c0):
        i1 = np.asarray(s1)          # a 0-d input comes in as a scalar
        # exp(x)
        n0_o0 = np.empty(...)
        ...
        v0 = n0_o0
        v1 = k_9b1c...(v0, i1)  # a kernel that stays a function of its own
        return (v1, v2[()])          # and a 0-d output goes out as one

A reduction that keeps the last axis of an Elemwise's output is computed in that
Elemwise's loop nest (``FOLD_REDUCTIONS``: one kernel for the two nodes).

Constants come in as extra arguments (bound once), so generated modules hold no
data and can be cached on disk. ``thunk.source`` keeps the generated text; the
Python thunk around it (thunk.py) is ``thunk.python_source``.

A runtime error inside native code cannot say which node failed, so the call is
repeated on the Python interpreter (inputs are never modified in place, so this
is safe); its error names the node, the input shapes and the user's line.
"""

from __future__ import annotations

import threading
import warnings

from backends.numba.cache import digest, load_module
from backends.numba.dispatch import kernel_for
from backends.numba.inline import (arity, import_aliases, inline_scalar_lines,
                                   statement_count, zero_d_args, params as inline_params)
from backends.numba.dispatch.scalar import np_type
from backends.numba.thunk import NumbaBackendError, explain as _explain  # noqa: F401
from backends.numba.thunk import make_thunk as make_native_thunk, make_tiered_thunk
from backends.numba.dispatch.objmode import _user_stacklevel
from backends.numba.memory import tune_malloc
from backends.numba import blas_tables
from symgraph import config
from symgraph.graph.basic import Constant, io_toposort
from symgraph.tensor.type import TensorType

JIT_OPTIONS = "nogil=True, error_model='numpy'"
# Functions only ever called from other jitted code (scan bodies, kernels that stay
# functions of their own) need no wrapper that converts Python objects: numba then
# generates, optimises and caches less (the wrapper unboxes every argument).
INNER_JIT_OPTIONS = JIT_OPTIONS + ", no_cpython_wrapper=True, no_cfunc_wrapper=True"
_PREAMBLE = "import math\nimport cmath\nimport numpy as np\nimport numba\n"
_lock = threading.RLock()
# Kernels are written into the graph function (inline.py) unless switched off here.
# A kernel used by one node is always pasted. One used by n > 1 nodes is pasted n
# times only while (n - 1) * its statements stay within INLINE_SHARED_BUDGET; else
# it is compiled once as a function of its own, which costs numba tens of
# milliseconds more but types and optimises the body once. A kernel that calls a
# helper of the backend (dotlib.mm, reduction.pairwise_sum: it has imports) is
# always pasted: it is a thin wrapper, and compiled on its own each of its versions
# would link in, optimise and emit the helper's code once more. (Measured on the MLP
# step and RNN steps: pasting every kernel, or none, compiled 10-40% slower.)
INLINE_KERNELS = True
INLINE_SHARED_BUDGET = 40
# 0-d results of pasted kernels are numba scalars where the kernel allows it
# (inline.inline_scalar_lines): fewer statements for numba to compile.
SCALAR_ZERO_D = True


class UncacheableGraphWarning(UserWarning):
    """A graph could not be cached on disk (it holds a Python object); it is compiled in memory."""


class InterpretedGraphWarning(UserWarning):
    """A graph holds values numba cannot represent (a user's own non-tensor Type): the
    numba mode runs it on the Python interpreter instead, with the same results."""


def _kernel_module(kernel, cacheable):
    name = f"symgraph_{kernel.name}"
    imports = "\n".join(kernel.imports)
    cache = "True" if cacheable else "False"
    src = (f"{_PREAMBLE}{imports}\n\n\n"
           f"@numba.njit(cache={cache}, {INNER_JIT_OPTIONS})\n{kernel.named_source()}")
    return load_module(name, src, cacheable=cacheable, runtime_globals=kernel.runtime_globals)


def _graph_source(fgraph, kernels, const_vars, scalar_io=False, inlined=frozenset()):
    """The source of ``graph(inputs..., constants..., kernel constants...)``; the
    kernels' own constants (Kernel.constants) follow the graph's, in node order.

    Kernels named in ``inlined`` have their body written in place of the call
    (backends/numba/inline.py). With ``scalar_io`` a 0-d input comes in as a scalar
    (or a 0-d array: ``np.asarray`` takes both) and a 0-d output goes out as a
    scalar, which costs less at the border than a 0-d array each way.
    """
    names = {}
    args = []
    scalar_in, scalar_out = _scalar_io(fgraph) if scalar_io else ((), ())
    prologue = []
    for k, v in enumerate(fgraph.inputs):
        names[v] = f"i{k}"
        if k < len(scalar_in) and scalar_in[k]:
            args.append(f"s{k}")
            prologue.append(f"    i{k} = np.asarray(s{k})")
        else:
            args.append(f"i{k}")
    for k, c in enumerate(const_vars):
        names[c] = f"c{k}"
        args.append(f"c{k}")
    extra = len(const_vars)
    kernel_args = []
    for _, kernel in kernels:
        kernel_args.append([f"c{extra + j}" for j in range(len(kernel.constants))])
        extra += len(kernel.constants)
        args.extend(kernel_args[-1])
    lines = [f"def graph({', '.join(args)}):"] + prologue
    # 0-d values computed as numba scalars rather than 0-d arrays (inline.py,
    # inline_scalar_lines); a consumer that needs the array gets a twin made once
    held, twins = {}, {}

    def array_of(v):
        name = names[v]
        if name not in held:
            return name
        if name not in twins:
            twins[name] = f"{name}_a"
            lines.append(f"    {name}_a = np.empty((), dtype={np_type(held[name])})")
            lines.append(f"    {name}_a[()] = {name}")
        return twins[name]

    counter = 0
    for n, ((node, kernel), kargs) in enumerate(zip(kernels, kernel_args)):
        outs = []
        for o in node.outputs:
            names[o] = f"v{counter}"
            outs.append(f"v{counter}")
            counter += 1
        target = outs[0] if len(outs) == 1 else ", ".join(outs)
        body = None
        if kernel.name in inlined:
            unit = zero_d_args(kernel.source)
            params = inline_params(kernel.source)
            call_args, scalar_args = [], set()
            for param, i in zip(params, node.inputs):
                if names[i] in held and param in unit:
                    call_args.append(names[i])
                    scalar_args.add(names[i])
                else:
                    call_args.append(array_of(i))
            call_args += kargs
            res = inline_scalar_lines(kernel.source, f"n{n}_", call_args, target,
                                      frozenset(scalar_args), scalar_results=SCALAR_ZERO_D)
            if res is None:  # _inline_choice checked that it can be pasted
                raise AssertionError(f"kernel {kernel.name} of {node} could not be pasted")
            body, flags = res
            for o, name, flag in zip(node.outputs, outs, flags):
                if flag and _zero_d(o):
                    held[name] = o.type.dtype
                elif flag:  # cannot happen: a kernel's 0-d store is a 0-d output
                    raise AssertionError(f"kernel {kernel.name} of {node}: scalar result "
                                         f"{name} for a {o.type}")
        if body is None:
            call_args = [array_of(i) for i in node.inputs] + kargs
            lines.append(f"    {target} = {kernel.name}({', '.join(call_args)})  "
                         f"# {_short(node)}")
        else:
            lines.append(f"    # {_short(node)}")
            lines.extend(body)
    rets = []
    for k, o in enumerate(fgraph.outputs):
        if k < len(scalar_out) and scalar_out[k]:
            rets.append(names[o] if names[o] in held else names[o] + "[()]")
        else:
            rets.append(array_of(o))
    lines.append(f"    return ({', '.join(rets)}{',' if rets else ''})")
    return "\n".join(lines) + "\n"


def _zero_d(v):
    t = v.type
    return isinstance(t, TensorType) and t.ndim == 0


def _scalar_io(fgraph):
    """Which inputs and outputs cross the border as scalars: the 0-d tensors."""
    return tuple(_zero_d(v) for v in fgraph.inputs), tuple(_zero_d(v) for v in fgraph.outputs)


def _inline_choice(kernels):
    """The kernels whose body goes into the graph function, and the import lines that
    the graph module then needs (a kernel whose imports would clash stays separate)."""
    inlined, import_lines, bound = set(), [], {}
    uses = {}
    for _, k in kernels:
        uses[k.name] = uses.get(k.name, 0) + 1
    for node, k in kernels:
        if k.name in inlined or k.runtime_globals or k.uncacheable or not INLINE_KERNELS:
            continue
        if arity(k.source) != len(node.inputs) + len(k.constants):
            continue  # cannot be pasted
        if (uses[k.name] - 1) * statement_count(k.source) > INLINE_SHARED_BUDGET \
                and not k.imports:
            continue
        ok = True
        new = {}
        for line in k.imports:
            aliases = import_aliases(line)
            if aliases is None:
                ok = False
                break
            for a in aliases:
                if bound.get(a, line) != line or new.get(a, line) != line:
                    ok = False
                new[a] = line
        if not ok:
            continue
        bound.update(new)
        for line in k.imports:
            if line not in import_lines:
                import_lines.append(line)
        inlined.add(k.name)
    return inlined, import_lines


def _short(node):
    text = str(node)
    return text if len(text) < 90 else text[:87] + "..."


class GraphCode:
    """A FunctionGraph compiled by ``compile_graph``: ``jitted(*inputs, *consts)``
    returns the tuple of its outputs. ``module`` is the name of the generated module
    that defines it as ``graph`` (already in sys.modules, so other generated code may
    import it); ``uncacheable`` says why it lives in memory only (else None).
    ``scalar_inputs``/``scalar_outputs`` flag the 0-d values that cross the border
    as scalars (only with ``compile_graph(..., scalar_io=True)``)."""

    __slots__ = ("jitted", "consts", "source", "module", "cacheable", "uncacheable",
                 "scalar_inputs", "scalar_outputs")

    def __init__(self, jitted, consts, source, module, uncacheable, scalar_inputs=(),
                 scalar_outputs=()):
        self.jitted, self.consts, self.source, self.module = jitted, consts, source, module
        self.uncacheable = uncacheable
        self.cacheable = uncacheable is None
        self.scalar_inputs = tuple(scalar_inputs)
        self.scalar_outputs = tuple(scalar_outputs)


def compile_graph(fgraph, order=None, scalar_io=False) -> GraphCode:
    """Kernels for every node (shared by key), and the generated ``graph`` function
    that runs them in topological order (most kernels written inline), jitted. The
    linker uses it for whole graphs (``scalar_io=True``: 0-d inputs and outputs as
    scalars) and the Scan kernel for its inner graph; it warns about nothing.
    Nothing is compiled here: numba compiles on the first call (or ``jitted.compile``)."""
    order = fgraph.toposort() if order is None else order
    with _lock:
        kernels = _kernels(fgraph, order)
        uncacheable = [k.uncacheable for _, k in kernels if k.uncacheable]
        cacheable = not uncacheable
        inlined, import_lines = _inline_choice(kernels)
        seen = {}
        for _, k in kernels:
            if k.name not in seen and k.name not in inlined:
                seen[k.name] = _kernel_module(k, cacheable and not k.uncacheable)
        const_vars = [v for v in _constants(fgraph, order)]
        body = _graph_source(fgraph, kernels, const_vars, scalar_io, inlined)
        imports = "\n".join(import_lines +
                            [f"from symgraph_{name} import {name}" for name in seen])
        cache = "True" if cacheable else "False"
        options = JIT_OPTIONS if scalar_io else INNER_JIT_OPTIONS
        source = (f"{_PREAMBLE}{imports}\n\n\n"
                  f"@numba.njit(cache={cache}, {options})\n{body}")
        gname = f"symgraph_g_{digest(source)}"
        mod = load_module(gname, source, cacheable=cacheable)
    consts = tuple(c.data for c in const_vars) + \
        tuple(v for _, k in kernels for v in k.constants)
    sin, sout = _scalar_io(fgraph) if scalar_io else ((), ())
    return GraphCode(mod.graph, consts, source, gname,
                     uncacheable[0] if uncacheable else None, sin, sout)


# A reduction of an Elemwise's output that keeps the last axis is computed in the
# Elemwise's loop nest (reduction.fold_in_loop), and the output is not stored at all
# where the reduction is its only reader: one pass over the elements instead of a
# write and a read (B5's Hessian: the sum over the 64 points of a (49, 64, 8) product,
# 8% of its step). Same additions in the same order as the two kernels, so the same
# values to the bit (the tiered mode's interpreter runs the two nodes apart).
FOLD_REDUCTIONS = True


class _Folded:
    """An Elemwise node and the reductions folded into its loop: what the graph
    function computes in one kernel. Its outputs are those the kernel returns."""

    __slots__ = ("node", "op", "inputs", "outputs", "reductions")

    def __init__(self, node, folds, dropped):
        self.node, self.op, self.inputs = node, node.op, node.inputs
        self.reductions = [r for _, r in folds]
        self.outputs = [o for j, o in enumerate(node.outputs) if j not in dropped] + \
            [r.outputs[0] for r in self.reductions]

    def __str__(self):
        return f"{'+'.join(str(r.op) for r in self.reductions)} in {self.node}"


def _foldable_reductions(fgraph, node):
    """([(k, reduction node)], outputs read by those reductions only) for an Elemwise
    ``node``: the CAReduce readers of its outputs that keep the last axis."""
    from backends.numba.dispatch import builder_for
    from backends.numba.dispatch.elemwise import build_elemwise
    from backends.numba.dispatch.reduction import build_careduce, keeps_last_axis
    from symgraph.tensor.reduction import CAReduce

    if builder_for(node.op) is not build_elemwise or node.outputs[0].ndim == 0:
        return [], set()
    folds, dropped = [], set()
    for k, out in enumerate(node.outputs):
        clients = fgraph.clients.get(out, ())
        mine = [c for c, _ in clients if not isinstance(c, str)
                and isinstance(c.op, CAReduce) and builder_for(c.op) is build_careduce
                and c.inputs[0] is out and keeps_last_axis(c)]
        folds += [(k, c) for c in mine]
        if mine and len(mine) == len(clients):
            dropped.add(k)
    return folds, dropped


def _kernels(fgraph, order):
    """[(node, kernel)] in ``order``: an Elemwise with foldable reductions (and those
    reductions' place) becomes one _Folded unit."""
    from backends.numba.dispatch.elemwise import elemwise_kernel
    from backends.numba.dispatch.objmode import NotSupported

    folded, absorbed = {}, set()
    if FOLD_REDUCTIONS:
        for node in order:
            folds, dropped = _foldable_reductions(fgraph, node)
            if not folds:
                continue
            try:
                kernel = elemwise_kernel(node, folds, dropped)
            except NotSupported:
                continue
            folded[node] = (_Folded(node, folds, dropped), kernel)
            absorbed.update(r for _, r in folds)
    return [folded[node] if node in folded else (node, kernel_for(node))
            for node in order if node not in absorbed]


class NumbaLinker:
    """Builds ``thunk(*input_values) -> outputs`` running one jitted function
    (the thunk itself is generated Python: backends/numba/thunk.py)."""

    def make_thunk(self, fgraph):
        blas_tables.preload()
        if config.tune_malloc:
            tune_malloc()
        order = fgraph.toposort()
        reference = []

        def python_thunk():
            if not reference:
                from backends.python.linker import PythonLinker
                reference.append(PythonLinker().make_thunk(fgraph))
            return reference[0]

        def build(stacklevel):
            code = compile_graph(fgraph, order, scalar_io=True)
            if code.uncacheable:
                warnings.warn(
                    "this graph is compiled in memory, not cached on disk, because "
                    f"{code.uncacheable}", UncacheableGraphWarning, stacklevel=stacklevel)
            return code

        reason = _not_representable(fgraph, order)
        if reason is not None:
            warnings.warn(f"this graph runs on the Python interpreter, not numba: {reason}",
                          InterpretedGraphWarning, stacklevel=_user_stacklevel())
            return python_thunk()
        if config.numba_tiered:
            from backends.numba.exact import tier_thunk
            return make_tiered_thunk(fgraph, order, python_thunk, lambda: build(6),
                                     lambda: tier_thunk(fgraph, compile_twins=False))
        return make_native_thunk(build(5), fgraph, order, python_thunk)


def _not_representable(fgraph, order):
    """Why native code cannot run this graph (a node without a kernel whose values numba
    cannot hold, such as a user's own non-tensor Type, here or in a scan body), or None."""
    from backends.numba.dispatch import builder_for
    from backends.numba.dispatch.objmode import NotRepresentable, _check_representable
    from symgraph.scan.op import Scan

    def walk(nodes):
        for node in nodes:
            if isinstance(node.op, Scan):
                walk(io_toposort(node.op.inner_inputs, node.op.inner_outputs))
            elif builder_for(node.op) is None:  # it would run in object mode
                _check_representable(node)

    try:
        walk(order)
    except NotRepresentable as e:
        return str(e)
    return None


def _constants(fgraph, order):
    seen = []
    ids = set()
    for node in order:
        for i in node.inputs:
            if isinstance(i, Constant) and id(i) not in ids:
                ids.add(id(i))
                seen.append(i)
    for o in fgraph.outputs:
        if isinstance(o, Constant) and id(o) not in ids:
            ids.add(id(o))
            seen.append(o)
    return seen
