"""scan(): loops with Theano's semantics (taps, outputs_info, updates, until, truncation)."""

from __future__ import annotations

import numbers

import numpy as np

from symgraph.compile.sharedvalue import SharedVariable
from symgraph.graph.basic import Constant, Variable, ancestors, clone_replace, io_toposort
from symgraph.scan.op import Scan
from symgraph.scan.utils import (
    OrderedUpdates, current_serial, ordered_unique, parse_step_return, var_serial,
)
from symgraph.tensor.type import TensorType


def _T():
    import symgraph.tensor as T
    return T


def _static_int(v):
    """The value of a constant integer expression, else None."""
    from symgraph.tensor.basic import NotScalarConstantError, get_scalar_constant_value
    if isinstance(v, (numbers.Integral, np.integer)):
        return int(v)
    try:
        return int(get_scalar_constant_value(v))
    except (NotScalarConstantError, TypeError, ValueError):
        return None


def _as_list(x):
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _tap_name(base, k):
    if base is None:
        return None
    return f"{base}[t]" if k == 0 else (f"{base}[t+{k}]" if k > 0 else f"{base}[t{k}]")


def _normalize_sequences(sequences):
    T = _T()
    out = []
    for j, s in enumerate(_as_list(sequences)):
        if isinstance(s, dict):
            unknown = set(s) - {"input", "taps"}
            if unknown:
                raise ValueError(f"scan: sequence {j} has unexpected keys {sorted(unknown)}; "
                                 "a sequence dict has 'input' and optionally 'taps'")
            if "input" not in s:
                raise ValueError(f"scan: sequence {j} is a dict without 'input'")
            x, taps = s["input"], s.get("taps")
            taps = [0] if taps is None else _as_list(taps)
        else:
            x, taps = s, [0]
        x = T.as_tensor_variable(x)
        if x.ndim < 1:
            raise TypeError(f"scan: sequence {j} ({x}, {x.type}) is 0-d; a sequence is iterated "
                            "over its first dimension")
        if not taps:
            raise ValueError(f"scan: sequence {j} has an empty list of taps")
        taps = [int(t) for t in taps]
        out.append((x, taps))
    return out


def _normalize_outputs_info(outputs_info):
    T = _T()
    out = []
    for i, o in enumerate(_as_list(outputs_info)):
        if o is None:
            out.append(None)
            continue
        if isinstance(o, dict):
            unknown = set(o) - {"initial", "taps", "inplace", "return_steps"}
            if unknown:
                raise ValueError(f"scan: outputs_info[{i}] has unexpected keys {sorted(unknown)}")
            init, taps = o.get("initial"), o.get("taps")
            if init is None:
                if taps:
                    raise ValueError(f"scan: outputs_info[{i}] gives taps {taps} but no initial "
                                     "state; an output read at past steps needs 'initial'")
                out.append(None)
                continue
            taps = [-1] if taps is None else [int(t) for t in _as_list(taps)]
        else:
            init, taps = o, [-1]
        if not taps:
            out.append(None)
            continue
        if any(t >= 0 for t in taps):
            raise ValueError(f"scan: the taps of outputs_info[{i}] must be negative (past "
                             f"steps), got {taps}")
        if len(set(taps)) != len(taps):
            raise ValueError(f"scan: the taps of outputs_info[{i}] must be distinct, got {taps}")
        init = init if isinstance(init, Variable) else T.as_tensor_variable(init)
        if not isinstance(init.type, TensorType):
            raise TypeError(f"scan: outputs_info[{i}] must be a tensor, got {init.type}")
        k = -min(taps)
        if taps != [-1]:
            if init.ndim < 1:
                raise TypeError(
                    f"scan: outputs_info[{i}] with taps {taps} needs an initial value whose "
                    f"first axis holds the {k} past steps, got the 0-d {init}")
            n0 = init.type.shape[0]
            if n0 is not None and n0 < k:
                raise ValueError(f"scan: outputs_info[{i}] with taps {taps} needs {k} initial "
                                 f"steps, but its initial value has only {n0} (shape "
                                 f"{init.type.shape})")
        out.append((init, taps))
    return out


def _check_n_steps(n_steps):
    T = _T()
    if n_steps is None:
        return None, None
    if isinstance(n_steps, (float, np.floating)) and not float(n_steps).is_integer():
        raise TypeError(f"scan: n_steps must be an integer, got {n_steps}")
    if not isinstance(n_steps, Variable):
        if isinstance(n_steps, (float, np.floating)):
            n_steps = int(n_steps)
        n_steps = T.as_tensor_variable(np.asarray(n_steps, dtype="int64"))
    if n_steps.ndim != 0 or n_steps.type.dtype_kind not in "iu":
        raise TypeError(f"scan: n_steps must be an integer scalar, got {n_steps} of type "
                        f"{n_steps.type}")
    static = _static_int(n_steps)
    if static is not None and static < 0:
        raise ValueError(f"scan: n_steps must be >= 0, got {static}; symgraph's scan does not "
                         "read a negative n_steps as going backwards: use go_backwards=True")
    return n_steps, static


def _sequence_windows(seqs, go_backwards):
    """Cut each (sequence, tap) into the window step t reads (Theano's rule: tap 0 is
    counted in the span, so taps all below or all above 0 shorten it too)."""
    T = _T()
    windows, placeholders, lengths = [], [], []
    for j, (x, taps) in enumerate(seqs):
        lo, hi = min(min(taps), 0), max(max(taps), 0)
        span = hi - lo
        L = x.type.shape[0]
        if L is not None and L - span < 0:
            raise ValueError(f"scan: sequence {j} ({x}) has length {L}, shorter than the span "
                             f"{span} of its taps {taps}")
        for k in taps:
            start = k - lo
            w = x[start:] if k == hi else x[start:k - hi]
            if go_backwards:
                w = w[::-1]
            ph = TensorType(x.dtype, shape=x.type.shape[1:])(_tap_name(x.name or f"seq{j}", k))
            windows.append(w)
            placeholders.append(ph)
        lengths.append((x, taps, None if L is None else L - span,
                        T.shape_i(windows[-1], 0)))
    return windows, placeholders, lengths


def _n_steps_from(n_steps, n_static, lengths):
    T = _T()
    if n_steps is not None:
        for x, taps, L, _ in lengths:
            if n_static is not None and L is not None and L < n_static:
                raise ValueError(
                    f"scan: n_steps is {n_static} but sequence {x} allows only {L} steps "
                    f"(its length minus the span of its taps {taps})")
        return n_steps, n_static
    if not lengths:
        raise ValueError("scan: give n_steps or at least one sequence; there is no way to "
                         "know how many steps to run")
    statics = [L for _, _, L, _ in lengths]
    if all(L is not None for L in statics):
        n = min(statics)
        return T.constant(n, dtype="int64"), n
    n = None
    for _, _, L, sym in lengths:
        term = T.constant(L, dtype="int64") if L is not None else sym
        n = term if n is None else T.minimum(n, term)
    return n, None


def _collect_updates(explicit, roots, serial0):
    """Explicit updates, then the default updates built inside fn (those are per step)."""
    pairs, seen = [], set()
    for k, v in explicit:
        if not isinstance(k, SharedVariable):
            raise TypeError(f"scan: the update key {k!r} is not a shared variable; the step "
                            "function may only update variables made by shared()")
        if k in seen:
            raise ValueError(f"scan: the shared variable {k} is updated twice")
        seen.add(k)
        pairs.append((k, v))
    pending = list(roots) + [v for _, v in pairs if isinstance(v, Variable)]
    visited = set()
    while pending:
        new = []
        for v in ancestors(pending):
            if isinstance(v, SharedVariable) and v not in visited:
                visited.add(v)
                du = v.default_update
                if du is None or v in seen or not isinstance(du, Variable):
                    continue
                if var_serial(du) >= serial0 or var_serial(v) >= serial0:
                    pairs.append((v, du))
                    seen.add(v)
                    v.default_update = None  # it refers to the loop body: meaningless outside
                    new.append(du)
        pending = new
    out = []
    for k, v in pairs:
        if isinstance(k.type, TensorType):
            v = v if isinstance(v, Variable) else _T().as_tensor_variable(v)
            if not isinstance(v.type, TensorType) or v.dtype != k.dtype or v.ndim != k.ndim:
                raise TypeError(f"scan: the update of {k} ({k.type}) is {v} of type {v.type}; "
                                "it must have the shared variable's dtype and number of "
                                f"dimensions (cast it, e.g. .astype('{k.dtype}'))")
            v = k.type.filter_variable(v)
        elif not isinstance(v, Variable) or not k.type.is_super(v.type):
            raise TypeError(f"scan: the update of {k} ({k.type}) must be a variable of the "
                            f"same type, got {v!r}")
        out.append((k, v))
    return out


def _fit_recurrent(i, out, ph):
    """The step function's recurrent output, checked against its initial state."""
    T = _T()
    if not isinstance(out.type, TensorType):
        raise TypeError(f"scan: output {i} of the step function is {out.type}, not a tensor")
    t = ph.type
    if out.dtype != t.dtype:
        raise TypeError(
            f"scan: the initial state (outputs_info[{i}]) has dtype {t.dtype}, but output {i} "
            f"of the step function has dtype {out.dtype}. They must agree: give the initial "
            f"state the output's dtype (e.g. T.zeros(..., dtype='{out.dtype}') or "
            f"np.{out.dtype}(0)), or cast the output to {t.dtype}")
    if out.ndim != t.ndim:
        raise TypeError(
            f"scan: the initial state (outputs_info[{i}]) has {t.ndim} dimensions ({t}), but "
            f"output {i} of the step function has {out.ndim} ({out.type}); a recurrent output "
            "keeps the shape of its initial state")
    for d, (a, b) in enumerate(zip(t.shape, out.type.shape)):
        if a is not None and b is not None and a != b:
            raise ValueError(
                f"scan: the initial state (outputs_info[{i}]) has static shape {t.shape}, but "
                f"output {i} of the step function has static shape {out.type.shape}")
    if not t.is_super(out.type):
        out = T.specify_shape(out, tuple(a if a is not None else b
                                         for a, b in zip(t.shape, out.type.shape)))
    return out


def _hoist(outs, variant_roots, first):
    """Split the loop body: what depends on the per-step inputs stays inside; each
    maximal sub-expression that does not (non-sequences, captured shared variables,
    loop-invariant work) becomes an input computed once, outside the loop."""
    variant = set(variant_roots)
    boundary = []
    for node in io_toposort([], outs):
        if any(i in variant for i in node.inputs):
            variant.update(node.outputs)
            for i in node.inputs:
                if i not in variant and not isinstance(i, Constant):
                    boundary.append(i)
    for o in outs:
        if o not in variant and not isinstance(o, Constant):
            boundary.append(o)
    boundary = ordered_unique(boundary)
    firsts = [v for v in first if v in set(boundary)]
    rest = [v for v in boundary if v not in set(firsts)]
    return ordered_unique(firsts + rest)


def _frontier(inner_inputs, inner_outputs, state_phs):
    """Tensor values computed from non-tensor states (random draws): the gradient cannot
    recompute them, so the loop stores them."""
    nontensor = {p for p in state_phs if not isinstance(p.type, TensorType)}
    if not nontensor:
        return []
    dep = set(nontensor)
    used = set(inner_outputs)
    nodes = io_toposort(inner_inputs, inner_outputs)
    for node in nodes:
        used.update(node.inputs)
    res = []
    for node in nodes:
        hit = any(i in dep and not isinstance(i.type, TensorType) for i in node.inputs)
        if any(i in dep for i in node.inputs):
            dep.update(node.outputs)
        if hit:
            res.extend(o for o in node.outputs if isinstance(o.type, TensorType) and o in used)
    return ordered_unique(res)


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None,
         truncate_gradient=-1, go_backwards=False, mode=None, name=None, strict=False,
         return_list=False, truncate_style="theano"):
    """Loop ``fn`` over sequences and its own past outputs (Theano's scan).

    Returns ``(outputs, updates)``: ``outputs`` is one variable or a list (in the
    order of ``outputs_info``; always a list with ``return_list=True``), and
    ``updates`` an ordered dict {shared variable: value after the loop} to pass to
    ``function(updates=...)``.

    sequences: tensors iterated over their first axis, or ``dict(input=x, taps=[...])``
      (default taps [0]). With taps the loop runs ``len(x) - (max(taps, 0) -
      min(taps, 0))`` steps and step t sees ``x[t - min(taps, 0) + tap]`` for each
      tap. Several sequences: the shortest bounds the loop.
    outputs_info: one entry per output of fn: ``None`` (not fed back), an initial
      value (fn sees the previous step, tap -1), or ``dict(initial=x0, taps=[-k,
      ...])`` where the first axis of x0 holds the k = -min(taps) past steps
      (x0[0] is step -k). A recurrent output returned by scan holds only the
      n_steps new values, not the initial ones.
    non_sequences: values fn receives unchanged at every step. Shared variables and
      other variables fn uses without listing them are captured too (with
      ``strict=True``, unlisted shared variables are an error). Work in fn that
      does not depend on the step is done once, before the loop.
    fn's arguments: the sequence slices (by sequence, then by tap), the past
      outputs (by output, then by tap), the non-sequences. fn returns its outputs,
      optionally followed by updates ({shared: new value}; they apply at each step
      and their final values come back in ``updates``; shared variables that are not
      tensors, like random generators, are carried as loop state) and by
      ``until(condition)``, which stops the loop after the first step where the
      condition is true (the outputs then hold the steps actually run).
    n_steps: the number of steps (an int or integer scalar); with sequences it must
      not exceed what they allow (an error names both lengths). A negative value
      is refused (Theano read it as going backwards).
    go_backwards: iterate the sequences from their end; outputs are in the order
      computed.

    truncate_gradient and truncate_style (how back-propagation through time is cut):

    * ``truncate_gradient=-1`` (default): the exact gradient.
    * ``truncate_gradient=k, truncate_style="theano"`` (Theano's rule, the default
      style, so ported code computes the same numbers): the backward pass runs
      over the last k steps only. Everything earlier steps contribute is dropped:
      gradients of sequences are zero before step n-k, non-sequences (weights)
      collect only the last k steps' contributions -- even the direct,
      non-recurrent ones, such as an input weight's -- and initial states get no
      gradient through the loop unless k >= n_steps. This is why Lasagne's
      ``gradient_steps=1`` gives gradients far from finite differences, even for
      weights that do not touch the recurrence.
    * ``truncate_gradient=k, truncate_style="classic"`` (truncated BPTT as usually
      defined): every step takes part, but the cost's gradient arriving at the
      output of step t is propagated back through at most k steps: the steps
      t, t-1, ..., t-k+1 (with taps reaching further back, steps are counted in
      time: a tap -2 skips one). Whatever those steps give their inputs is kept:
      sequence slices, non-sequences and weights, and the initial state when step
      0 is among them. So with k=1 every step contributes its direct gradient and
      nothing flows through the recurrence. The backward pass costs about k times
      the plain one.

    With k >= n_steps both styles give the exact gradient. ``mode`` is accepted for
    Theano compatibility; the compiled function's backend runs the loop.

    Values the step computes from non-tensor state (random draws) are kept for every
    step as hidden outputs, so that the gradient sees the draws the forward pass made.
    """
    T = _T()
    if not callable(fn):
        raise TypeError(f"scan: fn must be callable, got {type(fn).__name__}")
    if truncate_style not in ("theano", "classic"):
        raise ValueError(f"scan: truncate_style must be 'theano' or 'classic', got "
                         f"{truncate_style!r}")
    seqs = _normalize_sequences(sequences)
    outs_info = _normalize_outputs_info(outputs_info)
    non_seqs = [v if isinstance(v, Variable) else T.as_tensor_variable(v)
                for v in _as_list(non_sequences)]
    n_steps, n_static = _check_n_steps(n_steps)

    windows, seq_phs, lengths = _sequence_windows(seqs, go_backwards)
    n_steps, n_static = _n_steps_from(n_steps, n_static, lengths)

    # recurrent outputs given by the user: placeholders per tap and initial buffers
    rec_user = []  # (output index, taps, buffer, [placeholders])
    for i, info in enumerate(outs_info):
        if info is None:
            continue
        init, taps = info
        if taps == [-1]:
            buf = T.shape_padleft(init)
            step_type = init.type
        else:
            k = -min(taps)
            buf = init[:k]
            step_type = TensorType(init.dtype, shape=init.type.shape[1:])
        phs = [step_type(_tap_name(init.name or f"out{i}", d)) for d in taps]
        rec_user.append((i, taps, buf, phs))

    args = list(seq_phs)
    for _, _, _, phs in rec_user:
        args.extend(phs)
    args.extend(non_seqs)
    serial0 = current_serial()
    outputs, explicit_updates, cond = parse_step_return(fn(*args))
    outputs = [o if isinstance(o, Variable) else T.as_tensor_variable(o) for o in outputs]
    if outs_info and len(outputs) != len(outs_info):
        raise ValueError(
            f"scan: the step function returned {len(outputs)} output(s) but outputs_info has "
            f"{len(outs_info)} entries; give one entry per output, None for those that are "
            "not fed back")
    if not outs_info:
        outs_info = [None] * len(outputs)
    for i, o in enumerate(outputs):
        if not isinstance(o.type, TensorType):
            raise TypeError(f"scan: output {i} of the step function is {o} of type {o.type}; "
                            "outputs must be tensors (return other values through updates)")
    roots = list(outputs) + ([cond] if cond is not None else [])
    updates = _collect_updates(explicit_updates, roots, serial0)

    # shared variables with updates become loop state
    rec_shared, states, replace = [], [], {}
    for s, v in updates:
        ph = s.type(f"{s.name}[t-1]" if s.name else None)
        replace[s] = ph
        if isinstance(s.type, TensorType):
            rec_shared.append((s, v, ph))
        else:
            states.append((s, v, ph))

    rec_outs = [outputs[i] for i, _, _, _ in rec_user] + [v for _, v, _ in rec_shared]
    rec_idx = {i for i, _, _, _ in rec_user}
    nit_outs = [o for i, o in enumerate(outputs) if i not in rec_idx]
    state_outs = [v for _, v, _ in states]
    body = rec_outs + nit_outs + state_outs + ([cond] if cond is not None else [])
    if replace:
        body = clone_replace(body, replace)
    n_rec_user = len(rec_user)
    for r, (i, _, _, phs) in enumerate(rec_user):
        body[r] = _fit_recurrent(i, body[r], phs[0])

    tap_phs = [p for _, _, _, phs in rec_user for p in phs] + [ph for _, _, ph in rec_shared]
    state_phs = [ph for _, _, ph in states]
    boundary = _hoist(body, seq_phs + tap_phs + state_phs, non_seqs)
    _check_strict(strict, boundary, non_seqs, updates)
    ns_phs = [b.type(b.name) for b in boundary]
    if boundary:
        body = clone_replace(body, dict(zip(boundary, ns_phs)))

    inner_inputs = seq_phs + tap_phs + state_phs + ns_phs
    n_rec = len(rec_outs)
    n_nit_user = len(nit_outs)
    hidden = [f for f in _frontier(inner_inputs, body, state_phs)
              if not any(f is b for b in body[n_rec:n_rec + n_nit_user])]
    body = body[:n_rec + n_nit_user] + hidden + body[n_rec + n_nit_user:]
    rec_taps = [tuple(t) for _, t, _, _ in rec_user] + [(-1,)] * len(rec_shared)
    op = Scan(inner_inputs, body, n_seqs=len(seq_phs), rec_taps=rec_taps,
              n_nit=n_nit_user + len(hidden), n_states=len(states), as_while=cond is not None,
              truncate_gradient=truncate_gradient, truncate_style=truncate_style, name=name,
              mode=mode, go_backwards=go_backwards)
    bufs = [b for _, _, b, _ in rec_user] + [T.shape_padleft(s) for s, _, _ in rec_shared]
    outer = [n_steps] + windows + bufs + [s for s, _, _ in states] + boundary
    res = op(*outer, return_list=True)

    # what the user sees
    result = [None] * len(outputs)
    for r, (i, taps, _, _) in enumerate(rec_user):
        result[i] = res[r][-min(taps):]
    nit_iter = iter(res[n_rec:n_rec + n_nit_user])
    for i in range(len(outputs)):
        if i not in rec_idx:
            result[i] = next(nit_iter)
    for i, o in enumerate(result):
        if o.name is None and outputs[i].name:
            o.name = outputs[i].name
    ups = OrderedUpdates()
    by_key = {}
    for r, (s, _, _) in enumerate(rec_shared):
        by_key[s] = res[n_rec_user + r][-1]
    base = n_rec + n_nit_user + len(hidden)
    for j, (s, _, _) in enumerate(states):
        by_key[s] = res[base + j]
    for s, _ in updates:
        ups[s] = by_key[s]
    if return_list or len(result) != 1:
        return result, ups
    return result[0], ups


def _check_strict(strict, boundary, non_seqs, updates):
    if not strict:
        return
    listed = set(non_seqs)
    updated = {k for k, _ in updates}
    missing = []
    for v in ancestors(boundary, blockers=non_seqs):
        if isinstance(v, SharedVariable) and v not in listed and v not in updated:
            missing.append(v)
    missing = ordered_unique(missing)
    if missing:
        names = ", ".join(str(m) for m in missing)
        raise ValueError(f"scan(strict=True): the step function uses the shared variable(s) "
                         f"{names} without their being listed in non_sequences; pass them in "
                         "non_sequences (and take them as arguments of fn)")


__all__ = ["scan"]
