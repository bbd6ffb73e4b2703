"""Rewrites of Scan nodes: the inner graph gets the standard pipeline too.

When an outer function is compiled, each Scan's inner graph is rewritten with the
default ("fast_run") pipeline -- merge, canonicalize, stabilize, specialize,
fusion -- so the loop body runs as fast as straight-line code would. Nested
scans are reached by the same rewrite running on the inner graph. The rewritten
op is cached on the original, so compiling the same loop again costs nothing.
(The outer mode's include/exclude tags are not passed down; a mode without
rewrites, optimizer=None, leaves the inner graph alone too.)

Before that, a non-sequence whose outer value is a small constant (a reshape's
target shape, a length, a coefficient) is written into the body as that constant
and dropped from the node's inputs, as Theano's scan optimisations did: the body's
rewrites and static shapes then see the value (scan() hoists loop-invariant
expressions, constants included, out of the body into non-sequences). A
non-sequence that is a length of another one becomes that length inside the body.

On the outer graph, earlier (canonicalize): outputs of a loop that nothing reads
go, with the body's nodes and the inputs only they needed
(scan_remove_unused_outputs; the gradient of a loop computes the gradient of every
sequence, wanted or not); and loops of the same length that do not depend on each
other become one (scan_merge), which is how the gradient gets the forward step's
products stored rather than recomputed (see symgraph/scan/grad.py). Later (fusion),
a recurrence whose buffer the outer graph does not read beyond its last rows is
carried as loop states instead (scan_recurrence_as_state: BPTT's carried adjoint
writes no buffer of n_steps rows).
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Constant, ancestors, clone_replace
from symgraph.graph.rewriting.basic import node_rewriter
from symgraph.graph.rewriting.db import register
from symgraph.scan.op import Scan
from symgraph.scan.utils import graph_signature
from symgraph.tensor.shape import Shape_i
from symgraph.tensor.type import TensorType

# constants up to this many elements go into the body (larger ones stay inputs:
# the body's kernels would carry a copy each)
INLINE_CONSTANT_SIZE = 1024


def rewritten_op(op):
    """A copy of ``op`` whose inner graph went through the fast_run pipeline."""
    cached = op.__dict__.get("_rewritten")
    if cached is not None:
        return cached
    from symgraph.graph.fg import FunctionGraph
    from symgraph.graph.rewriting.db import optimize_graph

    fg = FunctionGraph(op.inner_inputs, op.inner_outputs, clone=True)
    optimize_graph(fg, "fast_run")
    new = _with_body(op, fg.inputs, fg.outputs, inner_rewritten=True)
    op._rewritten = new
    return new


def _with_body(op, inner_inputs, inner_outputs, inner_rewritten=False):
    """A Scan with ``op``'s settings around another body."""
    return Scan(inner_inputs, inner_outputs, n_seqs=op.n_seqs, rec_taps=op.rec_taps,
                n_nit=op.n_nit, n_states=op.n_states, as_while=op.as_while,
                truncate_gradient=op.truncate_gradient, truncate_style=op.truncate_style,
                name=op.name, mode=op.mode, go_backwards=op.go_backwards,
                inner_rewritten=inner_rewritten)


def _small_constant(v):
    return (isinstance(v, Constant) and isinstance(v.type, TensorType)
            and np.size(v.data) <= INLINE_CONSTANT_SIZE)


def without_known_nonseqs(op, inputs):
    """(op, inputs) with the non-sequences the body can know by itself written into
    it: small constants, and lengths ``Shape_i(w)`` of another non-sequence w (the
    body then computes ``Shape_i`` of its own copy of w, so its shape inference
    sees that the length and w's rows agree; scan() hoists such lengths out of the
    body). The same pair when there are none (or a value does not fit its input)."""
    nonseq = op.outer_slices()[3]
    start = nonseq.start
    outer = list(inputs[nonseq])
    position = {v: j for j, v in enumerate(outer)}
    picks = {}
    for j, v in enumerate(outer):
        if _small_constant(v):
            picks[j] = ("constant", v.signature())
    for j, v in enumerate(outer):
        node = v.owner
        if j in picks or node is None or type(node.op) is not Shape_i:
            continue
        w = position.get(node.inputs[0])
        if w is not None and w not in picks:
            picks[j] = ("length", node.op.i, w)
    if not picks:
        return op, inputs
    key = tuple(sorted(picks.items()))
    cache = op.__dict__.setdefault("_inlined_nonseqs", {})
    new = cache.get(key)
    if new is None:
        inner = op.inner_nonseqs()
        replace = {}
        for j, how in picks.items():
            if how[0] == "constant":
                replace[inner[j]] = outer[j].clone()
            else:
                replace[inner[j]] = Shape_i(how[1])(inner[how[2]])
        try:
            outs = clone_replace(op.inner_outputs, replace)
        except TypeError:
            return op, inputs
        dropped = {inner[j] for j in picks}
        new = _with_body(op, [v for v in op.inner_inputs if v not in dropped], outs)
        cache[key] = new
    keep = [v for j, v in enumerate(outer) if j not in picks]
    return new, list(inputs[:start]) + keep


def _inner_dependencies(op):
    """For each inner output, the positions of the inner inputs it depends on
    (cached on the op: the analysis walks the whole body)."""
    deps = op.__dict__.get("_inner_deps")
    if deps is None:
        position = {v: k for k, v in enumerate(op.inner_inputs)}
        deps = op._inner_deps = tuple(
            frozenset(position[a] for a in ancestors([o]) if a in position)
            for o in op.inner_outputs)
    return deps


def _layout(op):
    """Positions in ``op.inner_inputs``: (sequences, taps per recurrent output,
    states, non-sequences) as lists of ints."""
    seqs = list(range(op.n_seqs))
    taps, k = [], op.n_seqs
    for t in op.rec_taps:
        taps.append(list(range(k, k + len(t))))
        k += len(t)
    states = list(range(k, k + op.n_states))
    nonseqs = list(range(k + op.n_states, len(op.inner_inputs)))
    return seqs, taps, states, nonseqs


def without_unused_outputs(op, used):
    """The parts of ``op`` that the outputs marked in ``used`` (one bool per outer
    output) need: (new op, outer input positions kept, outer output positions kept),
    or None when everything is needed.

    A recurrent output or state nobody reads outside stays when a kept inner output
    reads its previous values (its taps or state input), found by closing over the
    inner graph's dependencies; a nit_sot output goes as soon as it is unused. The
    stopping condition always stays. Inner inputs that no kept output reads go with
    their outer inputs (sequences, non-sequences), so the loop neither computes nor
    reads what no one asked for (the x-gradient of BPTT, say, when x is data)."""
    n_rec, n_nit, n_st = op.n_rec, op.n_nit, op.n_states
    key = tuple(bool(u) for u in used)
    cache = op.__dict__.setdefault("_pruned", {})
    if key in cache:
        return cache[key]
    deps = _inner_dependencies(op)
    seqs, taps, states, nonseqs = _layout(op)
    tap_owner = {p: i for i, ps in enumerate(taps) for p in ps}
    state_owner = {p: j for j, p in enumerate(states)}
    keep_out = [bool(u) for u in used] + [True] * int(op.as_while)
    todo = [k for k, u in enumerate(keep_out) if u]
    needed = set()
    while todo:
        k = todo.pop()
        for p in deps[k] - needed:
            needed.add(p)
            if p in tap_owner:
                out = tap_owner[p]
            elif p in state_owner:
                out = n_rec + n_nit + state_owner[p]
            else:
                continue
            if not keep_out[out]:
                keep_out[out] = True
                todo.append(out)
    if all(keep_out) and needed.issuperset(seqs + nonseqs):
        cache[key] = None
        return None
    rec_kept = [i for i in range(n_rec) if keep_out[i]]
    nit_kept = [l for l in range(n_nit) if keep_out[n_rec + l]]
    st_kept = [j for j in range(n_st) if keep_out[n_rec + n_nit + j]]
    seq_kept = [j for j, p in enumerate(seqs) if p in needed]
    ns_kept = [j for j, p in enumerate(nonseqs) if p in needed]
    ins = op.inner_inputs
    new_inputs = [ins[seqs[j]] for j in seq_kept] + \
        [ins[p] for i in rec_kept for p in taps[i]] + \
        [ins[states[j]] for j in st_kept] + [ins[nonseqs[j]] for j in ns_kept]
    outs = op.inner_outputs
    new_outputs = [outs[i] for i in rec_kept] + [outs[n_rec + l] for l in nit_kept] + \
        [outs[n_rec + n_nit + j] for j in st_kept] + ([outs[-1]] if op.as_while else [])
    new = Scan(new_inputs, new_outputs, n_seqs=len(seq_kept),
               rec_taps=[op.rec_taps[i] for i in rec_kept], n_nit=len(nit_kept),
               n_states=len(st_kept), as_while=op.as_while,
               truncate_gradient=op.truncate_gradient, truncate_style=op.truncate_style,
               name=op.name, mode=op.mode, go_backwards=op.go_backwards,
               inner_rewritten=op.inner_rewritten)
    s_seq, s_rec, s_st, s_ns = op.outer_slices()
    in_kept = [0] + [s_seq.start + j for j in seq_kept] + [s_rec.start + i for i in rec_kept] \
        + [s_st.start + j for j in st_kept] + [s_ns.start + j for j in ns_kept]
    out_kept = rec_kept + [n_rec + l for l in nit_kept] + [n_rec + n_nit + j for j in st_kept]
    cache[key] = (new, in_kept, out_kept)
    return cache[key]


def _remove_unused_outputs(fgraph, node):
    used = [bool(fgraph.clients.get(o)) for o in node.outputs]
    if not any(used):
        return None  # the node itself is about to go
    pruned = without_unused_outputs(node.op, used)
    if pruned is None:
        return None
    op, in_kept, out_kept = pruned
    outs = op.make_node(*[node.inputs[k] for k in in_kept]).outputs
    return {node.outputs[k]: o for k, o in zip(out_kept, outs)}


@register("fast_run", "scan", "scan_prune", phase="canonicalize")
@node_rewriter([Scan])
def scan_remove_unused_outputs(fgraph, node):
    """Drop the outputs of a loop that nothing reads, with the inner nodes that only
    fed them and the inputs they alone read (see without_unused_outputs)."""
    return _remove_unused_outputs(fgraph, node)


@register("fast_run", "scan", "scan_prune", phase="fusion")
@node_rewriter([Scan])
def scan_remove_unused_outputs_late(fgraph, node):
    """scan_remove_unused_outputs again, for reads the phases after canonicalize
    removed (a shape taken from an output, say, replaced by its inferred length)."""
    return _remove_unused_outputs(fgraph, node)


def _carried(op):
    """The inner outputs that feed the next step (recurrent values, states) and the
    stopping condition: what makes two loops over the same inputs take the same
    path."""
    outs = op.inner_outputs
    k = op.n_rec + op.n_nit
    return outs[:op.n_rec] + outs[k:]


def _settings(op):
    return (op.truncate_gradient, op.truncate_style, op.go_backwards)


def _same_path(op1, op2):
    return (_settings(op1) == _settings(op2) and op1.n_seqs == op2.n_seqs
            and op1.rec_taps == op2.rec_taps and op1.n_states == op2.n_states
            and op1.as_while == op2.as_while
            and [v.type for v in op1.inner_inputs] == [v.type for v in op2.inner_inputs]
            and graph_signature(op1.inner_inputs, _carried(op1))
            == graph_signature(op2.inner_inputs, _carried(op2)))


def _scan_like(op1, inner_inputs, inner_outputs, **layout):
    return Scan(inner_inputs, inner_outputs, truncate_gradient=op1.truncate_gradient,
                truncate_style=op1.truncate_style, name=op1.name, mode=op1.mode,
                go_backwards=op1.go_backwards, **layout)


def _merge_same_path(node1, node2):
    """Loops over the very same inputs carrying the same recurrences: one loop, op1's
    recurrences and states, both sets of stacked outputs (those op1 has already,
    structurally, are shared)."""
    op1, op2 = node1.op, node2.op
    k1 = op1.n_rec + op1.n_nit
    sig1 = {}
    for l, o in enumerate(op1.inner_outputs[op1.n_rec:k1]):
        sig1.setdefault(graph_signature(op1.inner_inputs, [o]), l)
    where, added = [], []
    for o in op2.inner_outputs[op2.n_rec:op2.n_rec + op2.n_nit]:
        l = sig1.get(graph_signature(op2.inner_inputs, [o]))
        if l is None:
            l = op1.n_nit + len(added)
            added.append(o)
        where.append(l)
    if added:
        added = clone_replace(added, dict(zip(op2.inner_inputs, op1.inner_inputs)))
    outs = op1.inner_outputs
    new = _scan_like(op1, op1.inner_inputs, outs[:k1] + list(added) + outs[k1:],
                     n_seqs=op1.n_seqs, rec_taps=op1.rec_taps, n_nit=op1.n_nit + len(added),
                     n_states=op1.n_states, as_while=op1.as_while)
    r, n_nit = new.n_rec, new.n_nit
    map1 = list(range(k1)) + [r + n_nit + j for j in range(op1.n_states)]
    map2 = list(range(op2.n_rec)) + [r + l for l in where] + \
        [r + n_nit + j for j in range(op2.n_states)]
    return new, list(node1.inputs), map1, map2


def _fuse(node1, node2):
    """Independent loops of the same length (no stopping condition): one loop whose
    body holds both bodies side by side; an outer sequence or non-sequence both
    read becomes one inner input, so the body's rewrites share what both compute
    from it."""
    op1, op2 = node1.op, node2.op
    sq1, rc1, st1, ns1 = op1.outer_slices()
    sq2, rc2, st2, ns2 = op2.outer_slices()
    in1, in2 = node1.inputs, node2.inputs
    share = {}  # op2's inner input -> op1's, for shared outer sequences / non-sequences
    for outer2, inner2, outer1, inner1 in (
            (in2[sq2], op2.inner_seqs(), in1[sq1], op1.inner_seqs()),
            (in2[ns2], op2.inner_nonseqs(), in1[ns1], op1.inner_nonseqs())):
        first = {}
        for v, p in zip(outer1, inner1):
            first.setdefault(v, p)
        for v, p in zip(outer2, inner2):
            if v in first and first[v].type == p.type:
                share[p] = first[v]
    seqs2 = [(v, p) for v, p in zip(in2[sq2], op2.inner_seqs()) if p not in share]
    nons2 = [(v, p) for v, p in zip(in2[ns2], op2.inner_nonseqs()) if p not in share]
    outs2 = clone_replace(op2.inner_outputs, share) if share else op2.inner_outputs
    taps1 = [p for i in range(op1.n_rec) for p in op1.inner_taps(i)]
    taps2 = [p for i in range(op2.n_rec) for p in op2.inner_taps(i)]
    inner_in = (op1.inner_seqs() + [p for _, p in seqs2] + taps1 + taps2
                + op1.inner_states() + op2.inner_states()
                + op1.inner_nonseqs() + [p for _, p in nons2])
    o1 = op1.inner_outputs
    r1, r2 = op1.n_rec, op2.n_rec
    n1, n2 = op1.n_nit, op2.n_nit
    inner_out = (o1[:r1] + outs2[:r2] + o1[r1:r1 + n1] + outs2[r2:r2 + n2]
                 + o1[r1 + n1:] + outs2[r2 + n2:])
    new = _scan_like(op1, inner_in, inner_out, n_seqs=op1.n_seqs + len(seqs2),
                     rec_taps=op1.rec_taps + op2.rec_taps, n_nit=n1 + n2,
                     n_states=op1.n_states + op2.n_states)
    outer = ([in1[0]] + list(in1[sq1]) + [v for v, _ in seqs2] + list(in1[rc1])
             + list(in2[rc2]) + list(in1[st1]) + list(in2[st2]) + list(in1[ns1])
             + [v for v, _ in nons2])
    r, n = r1 + r2, n1 + n2
    map1 = list(range(r1)) + [r + l for l in range(n1)] + \
        [r + n + j for j in range(op1.n_states)]
    map2 = [r1 + i for i in range(r2)] + [r + n1 + l for l in range(n2)] + \
        [r + n + op1.n_states + j for j in range(op2.n_states)]
    return new, outer, map1, map2


def merged(node1, node2):
    """One Scan doing the work of the Scan nodes ``node1`` and ``node2``, which run the
    same number of steps (the same n_steps variable) and do not depend on each
    other: (op, outer inputs, new output position of each output of node1, same of
    node2), or None when they cannot be one loop (different truncation settings, or
    stopping conditions that are not the same)."""
    op1, op2 = node1.op, node2.op
    same_inputs = len(node1.inputs) == len(node2.inputs) and \
        all(a is b for a, b in zip(node1.inputs, node2.inputs))
    if same_inputs and _same_path(op1, op2):
        return _merge_same_path(node1, node2)
    if op1.as_while or op2.as_while or _settings(op1) != _settings(op2):
        return None
    return _fuse(node1, node2)


def _depends_on(node, other):
    """Whether ``node`` reads, through any path, an output of ``other``."""
    return any(v.owner is other for v in ancestors(node.inputs))


@register("fast_run", "scan", phase="canonicalize")
@node_rewriter([Scan])
def scan_merge(fgraph, node):
    """Loops of the same length that do not depend on each other become one loop
    (merged): one pass over the steps, and one body whose rewrites share what both
    compute from the same inputs. Over the very same inputs with the same
    recurrences, the recurrences are computed once. The gradient of a loop asks for
    such a twin of the forward loop, with the products its backward step needs as
    extra outputs (symgraph/scan/grad.py): merged, the forward loop computes them
    once and stores them, and the backward loop only reads them."""
    for client, _ in list(fgraph.clients.get(node.inputs[0], ())):
        if client is node or not isinstance(getattr(client, "op", None), Scan) or \
                client.inputs[0] is not node.inputs[0]:
            continue
        if _depends_on(client, node) or _depends_on(node, client):
            continue
        res = merged(node, client)
        if res is None:
            continue
        op, outer, map1, map2 = res
        outs = op.make_node(*outer).outputs
        repl = {o: outs[k] for o, k in zip(node.outputs, map1)}
        repl.update({o: outs[k] for o, k in zip(client.outputs, map2)})
        return repl
    return None


def _last_rows_read(fgraph, node, i):
    """How the outer graph reads recurrent buffer ``i`` of the Scan ``node``: a list
    of (variable, d) where ``variable`` is the buffer's row -d (1 <= d <= k, the
    rows a step's taps reach), or None when something reads more of it (the whole
    buffer, its shape, another row). Rows are read as ``buffer[-d]``, or as
    ``buffer[k:][-d]`` (what scan() returns, indexed) when the loop runs a known
    number of steps, at least d (with none, that index is an error, not a row)."""
    from symgraph.tensor.indexing import SliceIdx, _is_int
    from symgraph.tensor.subtensor import Subtensor

    op = node.op
    k = op.ks[i]

    def row(client):
        idx = client.op.idx_list if type(client.op) is Subtensor else None
        if idx is None or len(idx) != 1 or len(client.inputs) != 1 or not _is_int(idx[0]) \
                or not -k <= idx[0] <= -1:
            return None
        return -int(idx[0])

    n_steps = None
    if not op.as_while and isinstance(node.inputs[0], Constant):
        n_steps = int(node.inputs[0].data)
    reads = []
    for client, _ in fgraph.clients.get(node.outputs[i], ()):
        if client == "output":
            return None
        d = row(client)
        if d is not None:
            reads.append((client.outputs[0], d))
            continue
        idx = client.op.idx_list if type(client.op) is Subtensor else None
        if n_steps is None or idx != (SliceIdx(k, None, None),) or len(client.inputs) != 1:
            return None
        for c2, _ in fgraph.clients.get(client.outputs[0], ()):
            d = None if c2 == "output" else row(c2)
            if d is None or d > n_steps:
                return None
            reads.append((c2.outputs[0], d))
    return reads


def recurrence_as_states(op, i):
    """``op`` with recurrent output ``i`` carried as k = -min(taps) states instead of
    a buffer of k + n_steps rows: state d (1..k) holds the row d steps back, so state
    1's next value is the step's output and state d's is state d-1's value (passed
    along, not copied). The loop then stores nothing per step, which it may when the
    outer graph reads at most the buffer's last k rows (_last_rows_read): row -d is
    state d's final value. Returns None when the tap type cannot hold the step's
    output as a state's type must (a static length the output does not promise)."""
    cache = op.__dict__.setdefault("_as_states", {})
    if i in cache:
        return cache[i]
    k = op.ks[i]
    taps = op.inner_taps(i)
    by_tap = dict(zip(op.rec_taps[i], taps))
    out = op.inner_outputs[i]
    if not taps[0].type.is_super(out.type):
        cache[i] = None
        return None
    st_in = [by_tap[-d] if -d in by_tap else taps[0].type() for d in range(1, k + 1)]
    st_out = [out] + st_in[:-1]
    other_taps = [v for r in range(op.n_rec) if r != i for v in op.inner_taps(r)]
    base = op.n_rec + op.n_nit
    outs = op.inner_outputs
    new = Scan(op.inner_seqs() + other_taps + op.inner_states() + st_in + op.inner_nonseqs(),
               outs[:i] + outs[i + 1:base + op.n_states] + st_out + outs[base + op.n_states:],
               n_seqs=op.n_seqs, rec_taps=op.rec_taps[:i] + op.rec_taps[i + 1:],
               n_nit=op.n_nit, n_states=op.n_states + k, as_while=op.as_while,
               truncate_gradient=op.truncate_gradient, truncate_style=op.truncate_style,
               name=op.name, mode=op.mode, go_backwards=op.go_backwards,
               inner_rewritten=op.inner_rewritten)
    cache[i] = new
    return new


@register("fast_run", "scan", "scan_rec_to_state", phase="fusion")
@node_rewriter([Scan])
def scan_recurrence_as_state(fgraph, node):
    """A recurrent output whose buffer the outer graph reads at most the last k rows
    of (BPTT's carried adjoint, read by nobody; a loop of which only the final value
    is used) becomes k loop states (recurrence_as_states): no buffer of n_steps rows
    written step by step, no per-step copy into it. In the fusion phase, after
    scan_merge, which needs the twin loops of a gradient to carry the same
    recurrences."""
    from symgraph.tensor.subtensor import Subtensor

    op = node.op
    for i in range(op.n_rec):
        reads = _last_rows_read(fgraph, node, i)
        if reads is None:
            continue
        new = recurrence_as_states(op, i)
        if new is None:
            continue
        s_seq, s_rec, s_st, s_ns = op.outer_slices()
        ins = node.inputs
        init = ins[s_rec.start + i]
        k = op.ks[i]
        firsts = [Subtensor((k - d,))(init) for d in range(1, k + 1)]
        recs = [v for r, v in enumerate(ins[s_rec]) if r != i]
        try:
            outs = new.make_node(ins[0], *ins[s_seq], *recs, *ins[s_st], *firsts,
                                 *ins[s_ns]).outputs
        except (TypeError, ValueError):  # an initial row the state's type refuses
            continue
        n_old = op.n_rec + op.n_nit + op.n_states
        kept = [o for r, o in enumerate(node.outputs) if r != i]
        repl = dict(zip(kept, outs[:n_old - 1]))
        finals = outs[n_old - 1:]
        if any(not v.type.is_super(finals[d - 1].type) for v, d in reads):
            continue
        repl.update((v, finals[d - 1]) for v, d in reads)
        return repl
    return None


@register("fast_run", "scan", phase="fusion")
@node_rewriter([Scan])
def scan_inner_rewrite(fgraph, node):
    """Rewrite the loop body with the standard pipeline (speed of every step), after
    writing into it the non-sequences it can know by itself (without_known_nonseqs)."""
    if node.op.inner_rewritten:
        return None
    op, inputs = without_known_nonseqs(node.op, node.inputs)
    new = rewritten_op(op)
    outs = new.make_node(*inputs).outputs
    if any(not o.type.is_super(n.type) for o, n in zip(node.outputs, outs)):
        return None
    return outs


__all__ = ["merged", "recurrence_as_states", "rewritten_op", "scan_inner_rewrite",
           "scan_merge", "scan_recurrence_as_state", "scan_remove_unused_outputs",
           "without_known_nonseqs", "without_unused_outputs"]
