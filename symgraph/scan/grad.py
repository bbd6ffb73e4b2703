"""The gradient of Scan: back-propagation through time as another (reverse) Scan.

For the forward step ``t`` (recurrent buffers Y_i with taps d, k_i = -min(taps)):
row ``k_i + t`` of Y_i is written by step t and read by steps ``t - d``. Going
backwards over the steps, the backward loop carries, for each recurrent output, a
window of ``k_i`` pending adjoints: those of rows ``t+1 .. t+k_i``. At step t
the top of the window, plus the cost's own gradient of row ``k_i + t``, is the
complete adjoint of step t's output; the vector-Jacobian product of the step
function (the inner graph recomputed from the stored values and differentiated
with ``grad``) gives the gradients of the step's inputs: sequence slices (stacked,
one row per step), non-sequences (summed in accumulators), and taps (added to the
window, which then shifts down by one row). After the last (first) step the
window holds the gradient of the initial rows.

The backward loop is itself a Scan whose accumulators are states of the form
``acc + g``; its own gradient (second derivatives) needs no stored trajectory for
them, so ``grad(grad(...))`` works.

Truncation: ``truncate_gradient=k`` with style "theano" runs the backward loop over
the last k steps only. Style "classic" runs all steps but splits each window entry
by *age* (how many steps back from the cost term that produced it); a step
processes only ages below k, so each cost term passes through at most k steps.
What those steps give their inputs is kept: entries of age k or more are never
processed, except in the rows of the initial state, which collect every age (so
k >= n_steps is the exact gradient). The window keeps ages up to k + k_i - 1.

Random draws and other values computed from non-tensor loop states cannot be
recomputed backwards: scan() stores them as extra (hidden) outputs, and the
backward step reads those. The step's recurrent outputs, which the forward loop keeps
anyway, are read back the same way instead of being recomputed.

So are the step's products and factorisations (Dot, solves, decompositions: see
_costly) that the backward step needs and that change from step to step: the
gradient asks for a copy of the forward loop with those values as extra stacked
outputs, over the same inputs, and the rewrite scan_merge
(symgraph/scan/rewriting.py) folds that copy into the forward loop, so each such
value is computed once, forwards, and only read backwards (softmax(h W_y + b)
costs the backward step its elementwise part, not the product). Cheaper values
stay recomputed: storing them costs about what computing them does, and the
rewrites of the backward step (softmax-crossentropy's gradient, say) need to see
the expressions they come from. Not under classic truncation: there a stored value
would move where second derivatives enter the forward loop's aged windows (a step
later than the recurrent row it is computed from), changing what they keep.
"""

from __future__ import annotations

from symgraph.graph.basic import (
    Variable, ancestors, clone_get_equiv, clone_replace, io_toposort,
)
from symgraph.scan.op import Scan
from symgraph.tensor.type import TensorType

# read the forward step's products and factorisations back rather than recompute them
# (see the module docstring); False recomputes every intermediate backwards
STORE_COSTLY = True


def _T():
    import symgraph.tensor as T
    return T


def _g():
    import symgraph.gradient as G
    return G


def _diff(v):
    """A variable gradients flow through: a float or complex tensor."""
    return isinstance(v.type, TensorType) and v.type.dtype_kind in "fc"


def _connected(g):
    G = _g()
    return g is not None and not G._is_disconnected(g) and not G._is_null(g)


def _rev(x, n):
    """x[:n][::-1]: the first n rows, last first."""
    return x[:n][::-1]


def _depends_map(inputs, outputs):
    """For each output, the set of inputs it depends on."""
    res = []
    inset = set(inputs)
    for o in outputs:
        res.append({a for a in ancestors([o]) if a in inset})
    return res


def _is_accumulator(out, state, others):
    """``out`` is ``state`` or ``state + (something not depending on state)``, and no
    other output depends on ``state``: the state's value is never needed backwards."""
    if any(state in ancestors([o]) for o in others):
        return False
    if out is state:
        return True
    node = out.owner
    sop = getattr(getattr(node, "op", None), "scalar_op", None)
    if sop is None or getattr(sop, "name", None) != "add":
        return False
    rest = [i for i in node.inputs if i is not state]
    return len(rest) == len(node.inputs) - 1 and state not in ancestors(rest)


_COSTLY_OPS = None


def _costly(node):
    """Whether ``node`` costs clearly more than reading its result back: a matrix
    product or a linear-algebra routine (O(n^3) or O(n^2) work for O(n^2) or O(n)
    values). Elementwise ops, reductions and reshapes are not."""
    global _COSTLY_OPS
    if _COSTLY_OPS is None:
        from symgraph.tensor.dot import BatchedDot, Dot, MatMul, TensorDot
        from symgraph.tensor.linalg_utils import MatrixOp
        from symgraph.tensor.slinalg import Cholesky, SolveContinuousLyapunov, _Solver
        from symgraph.tensor.slinalg_expm import Expm, ExpmFrechet
        from symgraph.tensor.slinalg_lu import LU, LUFactor
        _COSTLY_OPS = (Dot, MatMul, TensorDot, BatchedDot, MatrixOp, _Solver, Cholesky,
                       SolveContinuousLyapunov, Expm, ExpmFrechet, LU, LUFactor)
    return isinstance(node.op, _COSTLY_OPS)


def _costly_to_store(b_out, stored, forward_vars, varying):
    """The forward step's costly values (see _costly) the backward outputs ``b_out``
    need, given that the values in ``stored`` are read back already: those that vary
    from step to step (in ``varying``) and are not reached only through another one
    chosen (the product under a stored product is not needed)."""
    block = set(stored)
    cands = [v for v in ancestors(b_out, blockers=block)
             if v not in block and v in varying and v in forward_vars and v.owner is not None
             and isinstance(v.type, TensorType) and _costly(v.owner)]
    if not cands:
        return []
    reached = set(ancestors(b_out, blockers=block | set(cands)))
    return [v for v in cands if v in reached]


def _frontier_vars(inputs, outputs, states):
    nontensor = {s for s in states if not isinstance(s.type, TensorType)}
    if not nontensor:
        return []
    dep = set(nontensor)
    res = []
    for node in io_toposort(inputs, outputs):
        hit = any(i in dep and not isinstance(i.type, TensorType) for i in node.inputs)
        if any(i in dep for i in node.inputs):
            dep.update(node.outputs)
        if hit:
            res.extend(o for o in node.outputs if isinstance(o.type, TensorType))
    return res


def scan_L_op(op, inputs, outputs, output_grads):
    T = _T()
    G = _g()
    disc = G.disconnected_type
    s_seq, s_rec, s_st, s_ns = op.outer_slices()
    n_rec, n_nit, n_st = op.n_rec, op.n_nit, op.n_states
    seqs, inits = inputs[s_seq], inputs[s_rec]
    st_inits, nonseqs = inputs[s_st], inputs[s_ns]
    ks = op.ks

    nulls = [g for g in output_grads if g is not None and G._is_null(g)]
    if nulls:
        return [disc()] + [nulls[0] if _diff(i) else disc() for i in inputs[1:]]
    g_rec = [output_grads[i] if _connected(output_grads[i]) and _diff(outputs[i]) else None
             for i in range(n_rec)]
    g_nit = [output_grads[n_rec + l] if _connected(output_grads[n_rec + l])
             and _diff(outputs[n_rec + l]) else None for l in range(n_nit)]
    g_st = [output_grads[n_rec + n_nit + j]
            if _connected(output_grads[n_rec + n_nit + j]) and _diff(outputs[n_rec + n_nit + j])
            else None for j in range(n_st)]
    if not any(g is not None for g in g_rec + g_nit + g_st):
        return [disc() for _ in inputs]

    # the number of steps that ran
    if op.as_while:
        if n_rec:
            n = T.shape_i(outputs[0], 0) - ks[0]
        elif n_nit:
            n = T.shape_i(outputs[n_rec], 0)
        else:
            raise NotImplementedError(f"{op}: the gradient of a loop with a stopping condition "
                                      "needs at least one output stacked over the steps")
    else:
        n = inputs[0]

    # ---------------------------------------------------------------- the step, cloned
    f_in = op.inner_inputs
    new_in = [v.type(v.name) for v in f_in]
    memo = clone_get_equiv(f_in, op.inner_outputs, copy_inputs=False,
                           memo=dict(zip(f_in, new_in)))
    outs = [memo.get(o, o) for o in op.inner_outputs]
    seq_p = op.inner_seqs(new_in)
    tap_p = [op.inner_taps(i, new_in) for i in range(n_rec)]
    st_p = op.inner_states(new_in)
    ns_p = op.inner_nonseqs(new_in)
    rec_o = outs[:n_rec]
    nit_o = outs[n_rec:n_rec + n_nit]
    st_o = outs[n_rec + n_nit:n_rec + n_nit + n_st]

    # which recurrent outputs / tensor states carry an adjoint
    dep = _depends_map(new_in, rec_o + nit_o + st_o)
    active_rec = [g is not None for g in g_rec]
    active_st = [g is not None and isinstance(st_p[j].type, TensorType)
                 for j, g in enumerate(g_st)]
    active_nit = [g is not None for g in g_nit]
    changed = True
    while changed:
        changed = False
        live = [dep[i] for i in range(n_rec) if active_rec[i]] + \
            [dep[n_rec + l] for l in range(n_nit) if active_nit[l]] + \
            [dep[n_rec + n_nit + j] for j in range(n_st) if active_st[j]]
        for i in range(n_rec):
            if not active_rec[i] and _diff(rec_o[i]) and \
                    any(t in d for d in live for t in tap_p[i]):
                active_rec[i] = changed = True
        for j in range(n_st):
            if not active_st[j] and _diff(st_o[j]) and any(st_p[j] in d for d in live):
                active_st[j] = changed = True
    for j in range(n_st):
        if active_st[j]:
            others = [o for k, o in enumerate(rec_o + nit_o + st_o) if k != n_rec + n_nit + j]
            if not _is_accumulator(st_o[j], st_p[j], others):
                raise NotImplementedError(
                    f"{op}: the gradient through loop state {j} ({st_p[j].type}) needs its "
                    "value at every step, which the loop does not keep; only states of the "
                    "form state + f(other inputs) are supported")

    classic = op.truncate_gradient > 0 and op.truncate_style == "classic"
    K = op.truncate_gradient if classic else 1

    # ---------------------------------------------------------------- adjoint inputs
    gy_p = [None if g is None else TensorType(g.dtype, shape=g.type.shape[1:])("g_y")
            for g in g_rec]
    gz_p = [None if g is None else TensorType(g.dtype, shape=g.type.shape[1:])("g_z")
            for g in g_nit]
    carry_p = []
    for i in range(n_rec):
        if not active_rec[i]:
            carry_p.append(None)
            continue
        step = outputs[i].type.shape[1:]
        shape = (ks[i],) + ((K + ks[i],) if classic else ()) + step
        carry_p.append(TensorType(outputs[i].dtype, shape=shape)("carry"))
    stc_p = [TensorType(st_p[j].type.dtype, shape=st_p[j].type.shape)("state_carry")
             if active_st[j] else None for j in range(n_st)]

    def adjoints(age):
        """{inner output: adjoint} for one age (classic) or all of them (age None)."""
        known = {}

        def add(v, g):
            known[v] = known[v] + g if v in known else g

        for i in range(n_rec):
            if carry_p[i] is None:
                continue
            top = carry_p[i][ks[i] - 1]
            if classic:
                top = top[:K].sum(axis=0) if age is None else top[age]
            if gy_p[i] is not None and (age is None or age == 0):
                top = top + gy_p[i]
            add(rec_o[i], top)
        if age is None or age == 0:
            for l in range(n_nit):
                if gz_p[l] is not None:
                    add(nit_o[l], gz_p[l])
            for j in range(n_st):
                if stc_p[j] is not None:
                    add(st_o[j], stc_p[j])
        return known

    def vjp(known, wrt):
        known = {v: g for v, g in known.items() if _diff(v)}
        if not known or not wrt:
            return [None] * len(wrt)
        res = G.grad(None, wrt, known_grads=known, disconnected_inputs="ignore",
                     return_disconnected="Disconnected", null_gradients="return",
                     add_names=False)
        return [None if G._is_disconnected(r) else r for r in res]

    flat_taps = [(i, d, p) for i in range(n_rec) for d, p in zip(op.rec_taps[i], tap_p[i])]
    d_seq = [p for p in seq_p if _diff(p)]
    d_ns = [p for p in ns_p if _diff(p)]
    d_st = [st_p[j] for j in range(n_st) if active_st[j]]
    d_taps = [] if classic else [p for _, _, p in flat_taps if _diff(p)]
    direct = vjp(adjoints(None), d_seq + d_ns + d_st + d_taps)
    gmap = dict(zip(d_seq + d_ns + d_st + d_taps, direct))
    undefined = {}

    def clean(v, g):
        """Null gradients cannot live in the loop: zeros inside, the NullType outside."""
        if g is not None and G._is_null(g):
            undefined[v] = g
            return T.zeros_like(v)
        return g

    gmap = {v: clean(v, g) for v, g in gmap.items()}

    # carries: shift the window down one row, add the taps' gradients
    carry_out = [None] * n_rec
    if classic:
        age_grads = [vjp(adjoints(a), [p for _, _, p in flat_taps]) for a in range(K)]
    for i in range(n_rec):
        if carry_p[i] is None:
            continue
        c, k = carry_p[i], ks[i]
        zero_row = T.zeros_like(c[0])
        rows = []
        for m in range(k):
            terms = [c[m - 1]] if m >= 1 else []
            for idx, (ii, d, p) in enumerate(flat_taps):
                if ii != i or k + d != m:
                    continue
                if classic:
                    zero = T.zeros_like(c[0, 0])
                    ages = []
                    for a_new in range(K + k):
                        a = a_new + d
                        g = age_grads[a][idx] if 0 <= a < K else None
                        g = clean(p, g)
                        ages.append(zero if g is None else g)
                    if any(x is not zero for x in ages):
                        terms.append(T.stack(ages))
                else:
                    g = gmap.get(p)
                    if g is not None:
                        terms.append(g)
            row = terms[0] if terms else zero_row
            for t in terms[1:]:
                row = row + t
            rows.append(row)
        carry_out[i] = T.stack(rows)

    # ---------------------------------------------------------------- the backward scan
    seq_outs = [gmap.get(p) for p in seq_p]
    ns_outs = [gmap.get(p) for p in ns_p]
    st_outs = [gmap.get(st_p[j]) if active_st[j] else None for j in range(n_st)]
    rec_list = [i for i in range(n_rec) if carry_p[i] is not None]
    seq_grad_list = [j for j in range(op.n_seqs) if seq_outs[j] is not None]
    acc_ns_list = [j for j in range(op.n_nonseqs) if ns_outs[j] is not None]
    acc_st_list = [j for j in range(n_st) if active_st[j]]
    acc_ns_p = [TensorType(ns_p[j].type.dtype, shape=ns_p[j].type.shape)("acc")
                for j in acc_ns_list]
    b_rec_out = [carry_out[i] for i in rec_list]
    b_nit_out = [seq_outs[j] for j in seq_grad_list]
    b_st_out = [a + ns_outs[j] for a, j in zip(acc_ns_p, acc_ns_list)] + \
        [st_outs[j] if st_outs[j] is not None else T.zeros_like(stc_p[j])
         for j in acc_st_list]
    b_out = b_rec_out + b_nit_out + b_st_out

    # values computed from non-tensor states come from what the forward loop stored
    stored = {}
    fr = _frontier_vars(new_in, outs, st_p)
    for f in fr:
        pos = next((k for k, o in enumerate(outs) if o is f), None)
        if pos is not None and pos < n_rec:
            stored[f] = outputs[pos][ks[pos]:ks[pos] + n]
        elif pos is not None and pos < n_rec + n_nit:
            stored[f] = outputs[pos][:n]
        else:
            raise NotImplementedError(
                f"{op}: the gradient needs {f}, computed from a non-tensor loop state, at "
                "every step, but the loop does not store it (build the loop with scan())")
    # the recurrent rows the loop kept are read back rather than recomputed: the
    # backward step of h = tanh(x W + h_prev U) needs h, which would otherwise cost
    # the forward products again at every step. (Stacked outputs stay recomputed: a
    # loss read back as a number hides the softmax-crossentropy form from the
    # rewrites that simplify its gradient.)
    needed = set(ancestors(b_out))
    for k, o in enumerate(rec_o):
        if o in stored or o not in needed or o.owner is None or o in new_in or \
                not isinstance(o.type, TensorType):
            continue
        stored[o] = outputs[k][ks[k]:ks[k] + n]
    if STORE_COSTLY and not classic:
        orig_of = {nv: v for v, nv in memo.items() if isinstance(v, Variable)}
        varying = set(seq_p) | {p for ps in tap_p for p in ps} | set(st_p)
        for node in io_toposort(new_in, outs):
            if any(i in varying for i in node.inputs):
                varying.update(node.outputs)
        extra = _costly_to_store(b_out, stored, orig_of, varying)
        if extra:
            stored.update(zip(extra, _forward_with_outputs(
                op, inputs, [orig_of[v] for v in extra], n)))
    fr_p = {f: f.type("stored") for f in stored}
    if fr_p:
        b_out = clone_replace(b_out, fr_p)

    used = set(ancestors(b_out))
    b_seq_in, b_seq_outer = [], []

    def seq_in(p, outer):
        b_seq_in.append(p)
        b_seq_outer.append(_rev(outer, n))

    for p, x in zip(seq_p, seqs):
        if p in used:
            seq_in(p, x)
    for i, d, p in flat_taps:
        if p in used:
            seq_in(p, outputs[i][ks[i] + d:ks[i] + d + n])
    for i in range(n_rec):
        if gy_p[i] is not None and gy_p[i] in used:
            seq_in(gy_p[i], g_rec[i][ks[i]:])
    for l in range(n_nit):
        if gz_p[l] is not None and gz_p[l] in used:
            seq_in(gz_p[l], g_nit[l])
    for f, p in fr_p.items():
        if p in used:
            seq_in(p, stored[f])
    b_ns_in, b_ns_outer = [], []
    for p, x in zip(ns_p, nonseqs):
        if p in used:
            b_ns_in.append(p)
            b_ns_outer.append(x)
    for j, p in enumerate(st_p):
        if p in used:
            if not isinstance(p.type, TensorType):
                raise NotImplementedError(
                    f"{op}: the gradient needs the value of loop state {j} ({p.type}) at "
                    "every step, which the loop does not keep")
            b_ns_in.append(p)  # an accumulator's value: only its shape is used
            b_ns_outer.append(st_inits[j])

    rec_init = []
    for i in rec_list:
        shp = [1, ks[i]] + ([K + ks[i]] if classic else []) + \
            [T.shape_i(outputs[i], d) for d in range(1, outputs[i].ndim)]
        rec_init.append(T.zeros(shp, dtype=outputs[i].dtype))
    st_init = [T.zeros_like(nonseqs[j]) for j in acc_ns_list]
    for j in acc_st_list:
        st_init.append(g_st[j] if g_st[j] is not None else T.zeros_like(st_inits[j]))

    if op.truncate_gradient > 0 and not classic:
        n_b = T.minimum(n, op.truncate_gradient)
    else:
        n_b = n
    b_inputs = b_seq_in + [carry_p[i] for i in rec_list] + acc_ns_p + \
        [stc_p[j] for j in acc_st_list] + b_ns_in
    bop = Scan(b_inputs, b_out, n_seqs=len(b_seq_in), rec_taps=[(-1,)] * len(rec_list),
               n_nit=len(b_nit_out), n_states=len(b_st_out), as_while=False,
               name=f"grad_of_{op.name}" if op.name else "grad_of_scan")
    res = bop(n_b, *b_seq_outer, *rec_init, *st_init, *b_ns_outer, return_list=True)
    r_carry = res[:len(rec_list)]
    r_seq = res[len(rec_list):len(rec_list) + len(seq_grad_list)]
    r_st = res[len(rec_list) + len(seq_grad_list):]

    # ---------------------------------------------------------------- outer gradients
    reached_start = None
    if op.truncate_gradient > 0 and not classic:
        reached_start = T.eq(n_b, n)

    def through_start(g):
        return g if reached_start is None else T.switch(reached_start, g, T.zeros_like(g))

    grads = [disc()]
    seq_res = dict(zip(seq_grad_list, r_seq))
    for j, x in enumerate(seqs):
        if j not in seq_res:
            grads.append(undefined.get(seq_p[j], disc()))
            continue
        gb = seq_res[j][::-1]
        full = T.zeros_like(x)
        start = n - n_b if n_b is not n else 0
        grads.append(undefined.get(seq_p[j]) or T.set_subtensor(full[start:n], gb))
    carry_res = dict(zip(rec_list, r_carry))
    for i, x in enumerate(inits):
        terms = []
        if g_rec[i] is not None:
            terms.append(g_rec[i][:ks[i]])
        if i in carry_res:
            last = carry_res[i][-1]
            if classic:
                last = last.sum(axis=1)
            terms.append(through_start(last))
        if not terms or not _diff(x):
            grads.append(disc())
            continue
        g = terms[0]
        for t in terms[1:]:
            g = g + t
        bad = [undefined[p] for p in tap_p[i] if p in undefined]
        grads.append(bad[0] if bad else g)
    st_res = dict(zip(acc_st_list, r_st[len(acc_ns_list):]))
    for j, x in enumerate(st_inits):
        if j in st_res:
            grads.append(undefined.get(st_p[j]) or through_start(st_res[j]))
        else:
            grads.append(disc())
    ns_res = dict(zip(acc_ns_list, r_st[:len(acc_ns_list)]))
    for j, x in enumerate(nonseqs):
        if j in ns_res:
            grads.append(undefined.get(ns_p[j]) or ns_res[j])
        else:
            grads.append(undefined.get(ns_p[j], disc()))
    return grads


def _forward_with_outputs(op, inputs, inner_vars, n):
    """The values of the forward step's ``inner_vars`` at every step, stacked: from a
    copy of ``op`` with them as extra nit_sot outputs, applied to the same
    ``inputs`` (scan_merge makes the two loops one)."""
    k = op.n_rec + op.n_nit
    outs = list(op.inner_outputs)
    ext = Scan(op.inner_inputs, outs[:k] + list(inner_vars) + outs[k:], n_seqs=op.n_seqs,
               rec_taps=op.rec_taps, n_nit=op.n_nit + len(inner_vars),
               n_states=op.n_states, as_while=op.as_while,
               truncate_gradient=op.truncate_gradient, truncate_style=op.truncate_style,
               name=op.name, mode=op.mode, go_backwards=op.go_backwards,
               inner_rewritten=op.inner_rewritten)
    res = ext(*inputs, return_list=True)
    return [res[k + e][:n] for e in range(len(inner_vars))]


__all__ = ["scan_L_op"]
