"""The Scan Op: a loop whose body is an inner graph.

Layout (what ``scan()`` builds; the gradient builds the same kind of node)::

    outer inputs : n_steps, sequences, recurrent buffers, states, non-sequences
    inner inputs : one slice per sequence, one value per (recurrent output, tap),
                   one value per state, one per non-sequence
    inner outputs: recurrent values, nit_sot values, new states, [condition]
    outer outputs: recurrent buffers, nit_sot stacks, final states

* A *sequence* is read one row per step: step ``t`` sees ``seq[t]`` (scan() has
  already cut and reversed the user's sequences for taps and go_backwards).
* A *recurrent output* ``i`` with taps ``rec_taps[i]`` (negative ints, k = -min)
  lives in a buffer of ``k + n_steps`` rows whose first k rows are the initial
  values (an outer input of shape ``(k, *step)``); step ``t`` reads row
  ``t + k + tap`` for each tap and writes row ``t + k``. The op returns the whole
  buffer; scan() shows the user ``buffer[k:]`` (Theano's convention).
* A *nit_sot* output is computed at each step and not fed back: ``(n_steps, *step)``.
* A *state* is a value of any type (a random generator, say) fed from one step to
  the next; only its final value is returned. scan() uses states for shared
  variables that are not tensors; tensor shared variables with updates become
  recurrent outputs, so their gradient can be taken.
* With a condition (``as_while``), the loop stops after the first step where it
  is true, and the outputs hold the steps actually run.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Apply, Variable, clone_get_equiv, io_toposort
from symgraph.graph.op import Op
from symgraph.graph.utils import ShapeError
from symgraph.scan.utils import graph_signature
from symgraph.tensor.type import TensorType


def _fmt_shape(shape):
    inner = ", ".join("?" if s is None else str(s) for s in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


def _merge_static(a, b):
    """Per dimension, the static length either shape knows (they must agree)."""
    return tuple(x if x is not None else y for x, y in zip(a, b))


class Scan(Op):
    """A loop over an inner graph (see the module docstring for the layout).

    Parameters: the inner graph (``inner_inputs``, ``inner_outputs``), how many
    sequences (``n_seqs``), the taps of each recurrent output (``rec_taps``, a
    tuple of tuples of negative ints), how many nit_sot outputs (``n_nit``) and
    states (``n_states``), whether the last inner output is a stopping condition
    (``as_while``). ``truncate_gradient``/``truncate_style`` say how the gradient
    is truncated (see scan()); ``name`` and ``mode`` are for display only.

    Two Scans are equal when their inner graphs have the same structure (same ops
    on the same inputs) and the same settings, so identical loops merge.
    """

    handles_disconnected_outputs = True

    def __init__(self, inner_inputs, inner_outputs, n_seqs=0, rec_taps=(), n_nit=0,
                 n_states=0, as_while=False, truncate_gradient=-1, truncate_style="theano",
                 name=None, mode=None, go_backwards=False, inner_rewritten=False):
        rec_taps = tuple(tuple(int(t) for t in taps) for taps in rec_taps)
        for i, taps in enumerate(rec_taps):
            if not taps or any(t >= 0 for t in taps) or len(set(taps)) != len(taps):
                raise ValueError(f"Scan: the taps of recurrent output {i} must be distinct "
                                 f"negative integers, got {taps}")
        if truncate_style not in ("theano", "classic"):
            raise ValueError(f"truncate_style must be 'theano' or 'classic', got "
                             f"{truncate_style!r}")
        truncate_gradient = int(truncate_gradient)
        if truncate_gradient == 0 or truncate_gradient < -1:
            raise ValueError(f"truncate_gradient must be -1 (no truncation) or a positive "
                             f"number of steps, got {truncate_gradient}")
        self.n_seqs = int(n_seqs)
        self.rec_taps = rec_taps
        self.n_rec = len(rec_taps)
        self.n_nit = int(n_nit)
        self.n_states = int(n_states)
        self.as_while = bool(as_while)
        self.truncate_gradient = truncate_gradient
        self.truncate_style = truncate_style
        self.name = name
        self.mode = mode
        self.go_backwards = bool(go_backwards)
        self.inner_rewritten = bool(inner_rewritten)
        self.ks = tuple(-min(t) for t in rec_taps)
        n_taps = sum(len(t) for t in rec_taps)
        self.n_tap_inputs = n_taps
        self.n_nonseqs = len(inner_inputs) - self.n_seqs - n_taps - self.n_states
        if self.n_nonseqs < 0:
            raise ValueError(f"Scan: {len(inner_inputs)} inner inputs are too few for "
                             f"{self.n_seqs} sequences, {n_taps} taps and {self.n_states} states")
        n_out = self.n_rec + self.n_nit + self.n_states + int(self.as_while)
        if len(inner_outputs) != n_out:
            raise ValueError(f"Scan: expected {n_out} inner outputs ({self.n_rec} recurrent, "
                             f"{self.n_nit} nit_sot, {self.n_states} states"
                             f"{', 1 condition' if self.as_while else ''}), got "
                             f"{len(inner_outputs)}")
        # own a private copy of the inner graph
        memo = clone_get_equiv(list(inner_inputs), list(inner_outputs), copy_inputs=True)
        self.inner_inputs = [memo[v] for v in inner_inputs]
        self.inner_outputs = [memo.get(v, v) for v in inner_outputs]
        self._check_inner_types()
        self._key = (self.n_seqs, self.rec_taps, self.n_nit, self.n_states, self.as_while,
                     self.truncate_gradient, self.truncate_style, self.name, self.go_backwards,
                     graph_signature(self.inner_inputs, self.inner_outputs))
        self._fn = None

    __props__ = ("_key",)

    # ------------------------------------------------------------------ layout
    def inner_seqs(self, xs=None):
        xs = self.inner_inputs if xs is None else xs
        return xs[:self.n_seqs]

    def inner_taps(self, i, xs=None):
        """The inner inputs of recurrent output ``i``, one per tap, in tap order."""
        xs = self.inner_inputs if xs is None else xs
        start = self.n_seqs + sum(len(t) for t in self.rec_taps[:i])
        return xs[start:start + len(self.rec_taps[i])]

    def inner_states(self, xs=None):
        xs = self.inner_inputs if xs is None else xs
        s = self.n_seqs + self.n_tap_inputs
        return xs[s:s + self.n_states]

    def inner_nonseqs(self, xs=None):
        xs = self.inner_inputs if xs is None else xs
        return xs[self.n_seqs + self.n_tap_inputs + self.n_states:]

    def outer_slices(self):
        """(seqs, recs, states, nonseqs) as index ranges into the node's inputs."""
        a = 1
        b = a + self.n_seqs
        c = b + self.n_rec
        d = c + self.n_states
        return slice(a, b), slice(b, c), slice(c, d), slice(d, None)

    # ------------------------------------------------------------------ checks
    def _check_inner_types(self):
        outs = self.inner_outputs
        for i in range(self.n_rec):
            taps = self.inner_taps(i)
            t0 = taps[0].type
            for tv in taps[1:]:
                if tv.type != t0:
                    raise TypeError(f"Scan: the tap inputs of recurrent output {i} have "
                                    f"different types ({t0} and {tv.type})")
            o = outs[i]
            if not isinstance(t0, TensorType) or not isinstance(o.type, TensorType):
                raise TypeError(f"Scan: recurrent output {i} must be a tensor, got {o.type}")
            if o.type.dtype != t0.dtype or o.type.ndim != t0.ndim:
                raise TypeError(
                    f"Scan: recurrent output {i} of the step function is {o.type} but its "
                    f"initial state (outputs_info) is {t0}; they must have the same dtype "
                    "and number of dimensions")
        for l in range(self.n_nit):
            o = outs[self.n_rec + l]
            if not isinstance(o.type, TensorType):
                raise TypeError(f"Scan: output {self.n_rec + l} of the step function must be "
                                f"a tensor, got {o} of type {o.type}")
        base = self.n_rec + self.n_nit
        for j, sv in enumerate(self.inner_states()):
            o = outs[base + j]
            if not sv.type.is_super(o.type):
                raise TypeError(f"Scan: state {j} is {sv.type} but the step function returns "
                                f"{o.type} for its next value")
        if self.as_while:
            c = outs[-1]
            if not isinstance(c.type, TensorType) or c.ndim != 0:
                raise TypeError(f"Scan: the stopping condition must be a scalar, got {c.type}")

    # ------------------------------------------------------------------ building
    def make_node(self, n_steps, *inputs):
        from symgraph.tensor.basic import as_tensor_variable
        from symgraph.tensor.math import cast

        n_steps = as_tensor_variable(n_steps)
        if n_steps.ndim != 0 or n_steps.type.dtype_kind not in "iu":
            raise TypeError(f"{self}: n_steps must be an integer scalar, got {n_steps} of type "
                            f"{n_steps.type}")
        if n_steps.dtype != "int64":
            n_steps = cast(n_steps, "int64")
        n_in = self.n_seqs + self.n_rec + self.n_states + self.n_nonseqs
        if len(inputs) != n_in:
            raise TypeError(f"{self} takes n_steps and {n_in} inputs ({self.n_seqs} sequences, "
                            f"{self.n_rec} initial buffers, {self.n_states} states, "
                            f"{self.n_nonseqs} non-sequences), got {len(inputs)}")
        inputs = list(inputs)
        s_seq, s_rec, s_st, s_ns = self.outer_slices()
        for j, (inner, k) in enumerate(zip(self.inner_seqs(), range(s_seq.start, s_seq.stop))):
            x = inputs[k - 1] = as_tensor_variable(inputs[k - 1])
            it = inner.type
            if x.ndim != it.ndim + 1 or x.dtype != it.dtype:
                raise TypeError(f"{self}: sequence {j} must be {it.dtype} with {it.ndim + 1} "
                                f"dimensions (a {it} per step), got {x} of type {x.type}")
            if not all(a is None or b is None or a == b
                       for a, b in zip(it.shape, x.type.shape[1:])):
                raise TypeError(f"{self}: sequence {j} has static shape "
                                f"{_fmt_shape(x.type.shape)}, but the step function was built "
                                f"for slices of shape {_fmt_shape(it.shape)}")
        for i in range(self.n_rec):
            k = s_rec.start + i
            x = inputs[k - 1] = as_tensor_variable(inputs[k - 1])
            it = self.inner_taps(i)[0].type
            if x.ndim != it.ndim + 1 or x.dtype != it.dtype:
                raise TypeError(f"{self}: the initial buffer of recurrent output {i} must be "
                                f"{it.dtype} with {it.ndim + 1} dimensions ({self.ks[i]} rows of "
                                f"{it}), got {x} of type {x.type}")
            if x.type.shape[0] is not None and x.type.shape[0] != self.ks[i]:
                raise ShapeError(f"{self}: the initial buffer of recurrent output {i} must have "
                                 f"{self.ks[i]} rows (one per past step its taps "
                                 f"{self.rec_taps[i]} reach), got static shape "
                                 f"{_fmt_shape(x.type.shape)}")
        for j, inner in enumerate(self.inner_states()):
            k = s_st.start + j
            x = inputs[k - 1]
            if not isinstance(x, Variable):
                x = as_tensor_variable(x)
            inputs[k - 1] = inner.type.filter_variable(x)
        for j, inner in enumerate(self.inner_nonseqs()):
            k = s_ns.start + j
            x = inputs[k - 1]
            if not isinstance(x, Variable):
                x = as_tensor_variable(x)
            if isinstance(inner.type, TensorType) and isinstance(x.type, TensorType) and (
                    x.dtype != inner.type.dtype or x.ndim != inner.type.ndim):
                raise TypeError(f"{self}: non-sequence {j} must be {inner.type}, got {x} of "
                                f"type {x.type}")
            inputs[k - 1] = inner.type.filter_variable(x)
        return Apply(self, [n_steps] + inputs, self._output_types(n_steps, inputs))

    def _output_types(self, n_steps, inputs):
        from symgraph.tensor.basic import NotScalarConstantError, get_scalar_constant_value

        n = None
        if not self.as_while:
            try:
                n = int(get_scalar_constant_value(n_steps))
            except (NotScalarConstantError, TypeError, ValueError):
                n = None
        s_seq, s_rec, s_st, s_ns = self.outer_slices()
        outs = []
        for i in range(self.n_rec):
            init = inputs[s_rec.start - 1 + i]
            o = self.inner_outputs[i]
            step = _merge_static(init.type.shape[1:], o.type.shape)
            lead = None if n is None else self.ks[i] + n
            outs.append(TensorType(o.type.dtype, shape=(lead,) + step)())
        for l in range(self.n_nit):
            o = self.inner_outputs[self.n_rec + l]
            outs.append(TensorType(o.type.dtype, shape=(n,) + o.type.shape)())
        for j, sv in enumerate(self.inner_states()):
            outs.append(sv.type())
        return outs

    def __str__(self):
        parts = []
        if self.n_seqs:
            parts.append(f"seqs={self.n_seqs}")
        if self.n_rec:
            parts.append("taps=" + ",".join("[" + ",".join(map(str, t)) + "]"
                                            for t in self.rec_taps))
        if self.n_nit:
            parts.append(f"nit_sot={self.n_nit}")
        if self.n_states:
            parts.append(f"states={self.n_states}")
        if self.n_nonseqs:
            parts.append(f"non_seqs={self.n_nonseqs}")
        if self.as_while:
            parts.append("while")
        if self.truncate_gradient != -1:
            parts.append(f"truncate={self.truncate_gradient}"
                         + ("(classic)" if self.truncate_style == "classic" else ""))
        label = f"Scan{{{self.name}}}" if self.name else "Scan"
        return f"{label}{{{', '.join(parts)}}}" if parts else label

    def inner_debugprint(self, file="str"):
        """The inner graph as debugprint text (inputs named by their role)."""
        from symgraph.printing import debugprint
        return debugprint(self.inner_outputs, file=file)

    # ------------------------------------------------------------------ pickling
    def __getstate__(self):
        d = dict(self.__dict__)
        d["_fn"] = None
        d.pop("_shape_fn", None)
        d.pop("_rewritten", None)
        d.pop("_pruned", None)
        d.pop("_as_states", None)
        d.pop("_inner_deps", None)
        return d

    # ------------------------------------------------------------------ running
    def fn(self):
        """The inner graph compiled with the Python linker (once per op)."""
        if self._fn is None:
            from backends.python.linker import PythonLinker
            from symgraph.graph.fg import FunctionGraph

            fg = FunctionGraph(self.inner_inputs, self.inner_outputs, clone=True)
            self._fn = PythonLinker().make_thunk(fg)
        return self._fn

    def perform(self, node, inputs, output_storage, fn=None):
        """The loop, calling ``fn`` (default: ``self.fn()``, the body on the
        interpreter) once per step."""
        n = int(inputs[0])
        who = f"scan {self.name!r}" if self.name else "scan"
        if n < 0:
            raise ValueError(f"{who}: n_steps must be >= 0, got {n} (symgraph's scan does not "
                             "read a negative n_steps as going backwards; use go_backwards=True)")
        s_seq, s_rec, s_st, s_ns = self.outer_slices()
        seqs = inputs[s_seq]
        for j, s in enumerate(seqs):
            if s.shape[0] < n:
                raise ValueError(
                    f"{who}: n_steps is {n} but sequence {j} provides only {s.shape[0]} steps "
                    f"(shape {s.shape}; with taps, a sequence of length L gives L minus the "
                    "span of its taps); give a shorter n_steps or a longer sequence")
        bufs, taps = [], []
        if self.as_while:
            cap = min(n, 16)
        else:
            cap = n
        for i, init in enumerate(inputs[s_rec]):
            k = self.ks[i]
            if init.shape[0] != k:
                raise ValueError(f"{who}: the initial buffer of recurrent output {i} has "
                                 f"{init.shape[0]} rows, expected {k} (taps {self.rec_taps[i]})")
            buf = np.empty((k + cap,) + init.shape[1:], dtype=init.dtype)
            buf[:k] = init
            bufs.append(buf)
            for d in self.rec_taps[i]:
                taps.append((i, k + d))
        states = list(inputs[s_st])
        nonseqs = list(inputs[s_ns])
        nits = [None] * self.n_nit
        fn = self.fn() if fn is None else fn
        n_rec, n_nit, n_st = self.n_rec, self.n_nit, self.n_states
        ks = self.ks
        n_run = n
        for t in range(n):
            args = [s[t, ...] for s in seqs]
            args += [bufs[i][t + off, ...] for i, off in taps]
            args += states
            args += nonseqs
            outs = fn(*args)
            if self.as_while and t >= cap:
                cap = min(n, 2 * cap)
                bufs = [_grow(b, ks[i] + cap) for i, b in enumerate(bufs)]
                nits = [None if z is None else _grow(z, cap) for z in nits]
            for i in range(n_rec):
                v = outs[i]
                b = bufs[i]
                if np.shape(v) != b.shape[1:]:
                    raise ValueError(
                        f"{who}: at step {t}, recurrent output {i} of the step function has "
                        f"shape {np.shape(v)}, but its initial state (outputs_info) has shape "
                        f"{b.shape[1:]}; a recurrent output must keep the shape of its initial "
                        "state")
                b[ks[i] + t] = v
            for l in range(n_nit):
                v = outs[n_rec + l]
                z = nits[l]
                if z is None:
                    dt = node.outputs[n_rec + l].type.numpy_dtype
                    z = nits[l] = np.empty((cap,) + np.shape(v), dtype=dt)
                elif np.shape(v) != z.shape[1:]:
                    raise ValueError(
                        f"{who}: output {n_rec + l} of the step function has shape "
                        f"{np.shape(v)} at step {t} but {z.shape[1:]} at step 0; outputs "
                        "stacked over the steps must keep one shape")
                z[t] = v
            if n_st:
                states = list(outs[n_rec + n_nit:n_rec + n_nit + n_st])
            if self.as_while and outs[-1]:
                n_run = t + 1
                break
        for i, b in enumerate(bufs):
            if b.shape[0] != ks[i] + n_run:
                b = b[:ks[i] + n_run].copy()
            output_storage[i][0] = b
        empty_shapes = None
        for l, z in enumerate(nits):
            out = node.outputs[n_rec + l]
            if z is None:
                if empty_shapes is None:
                    empty_shapes = self._zero_step_shapes(node, inputs)
                z = np.empty((0,) + empty_shapes[l], dtype=out.type.numpy_dtype)
            elif z.shape[0] != n_run:
                z = z[:n_run].copy()
            output_storage[n_rec + l][0] = z
        for j, s in enumerate(states):
            output_storage[n_rec + n_nit + j][0] = s

    def _zero_step_shapes(self, node, inputs):
        """The step shapes of the nit_sot outputs when no step ran: inferred from the
        input shapes where possible (0 for a length only a step could tell)."""
        static = [tuple(s for s in node.outputs[self.n_rec + l].type.shape[1:])
                  for l in range(self.n_nit)]
        if all(None not in s for s in static):
            return static
        try:
            fn = self.__dict__.get("_shape_fn")
            if fn is None:
                fn = self._shape_fn = self._build_shape_fn(node)
            dims = iter(int(d) for d in fn(*inputs))
            return [tuple(next(dims) for _ in s) for s in static]
        except Exception:  # data-dependent: no step ran to tell
            return [tuple(0 if d is None else d for d in s) for s in static]

    def _build_shape_fn(self, node):
        from backends.python.linker import PythonLinker
        from symgraph.graph.fg import FunctionGraph
        from symgraph.tensor.shape import shape_i

        ins = [i.type() for i in node.inputs]
        shapes = [tuple(shape_i(v, d) for d in range(v.ndim))
                  if isinstance(v.type, TensorType) else None for v in ins]
        fake = Apply(self, ins, [o.type() for o in node.outputs])
        flat = [d for s in self._inner_step_shapes(fake, shapes) for d in s]
        fg = FunctionGraph(ins, flat, clone=True)
        return PythonLinker().make_thunk(fg)

    # ------------------------------------------------------------------ analysis
    def infer_shape(self, fgraph, node, input_shapes):
        """Recurrent buffers have ``k + n_steps`` rows and nit_sot outputs ``n_steps``, with
        the step shapes inferred through the inner graph. In a loop with a stopping
        condition the number of steps is known only after running it, so the leading
        length is then the output's own run-time length."""
        from symgraph.tensor.shape import Shape_i

        n = node.inputs[0]
        s_seq, s_rec, s_st, s_ns = self.outer_slices()
        out = []
        for i in range(self.n_rec):
            init_shape = input_shapes[s_rec.start + i]
            lead = Shape_i(0)(node.outputs[i]) if self.as_while else n + self.ks[i]
            out.append((lead,) + tuple(init_shape[1:]))
        if self.n_nit:
            step_shapes = self._inner_step_shapes(node, input_shapes)
            for l in range(self.n_nit):
                o = node.outputs[self.n_rec + l]
                lead = Shape_i(0)(o) if self.as_while else n
                out.append((lead,) + step_shapes[l])
        for j in range(self.n_states):
            o = node.outputs[self.n_rec + self.n_nit + j]
            out.append(tuple(Shape_i(d)(o) for d in range(o.ndim))
                       if isinstance(o.type, TensorType) else None)
        return out

    def _inner_step_shapes(self, node, input_shapes):
        """Shapes of the nit_sot inner outputs as expressions of the outer input shapes."""
        from symgraph.graph.basic import clone_replace
        from symgraph.tensor.basic import constant
        from symgraph.tensor.rewriting.shape import ShapeFeature
        from symgraph.tensor.shape import Shape_i

        fe = ShapeFeature()
        s_seq, s_rec, s_st, s_ns = self.outer_slices()
        # the outer expression of dimension d of each inner input
        outer_dim = {}
        for j, v in enumerate(self.inner_seqs()):
            sh = input_shapes[s_seq.start + j]
            outer_dim[v] = lambda d, sh=sh: sh[d + 1]
        for i in range(self.n_rec):
            sh = input_shapes[s_rec.start + i]
            for v in self.inner_taps(i):
                outer_dim[v] = lambda d, sh=sh: sh[d + 1]
        for j, v in enumerate(self.inner_states()):
            sh = input_shapes[s_st.start + j]
            if sh is not None:
                outer_dim[v] = lambda d, sh=sh: sh[d]
        for j, v in enumerate(self.inner_nonseqs()):
            sh = input_shapes[s_ns.start + j]
            if sh is not None:
                outer_dim[v] = lambda d, sh=sh: sh[d]
        inner_set = set(self.inner_inputs)
        res = []
        for l in range(self.n_nit):
            o = self.inner_outputs[self.n_rec + l]
            dims = []
            for d, s in enumerate(o.type.shape):
                if s is not None:
                    dims.append(constant(s, dtype="int64"))
                    continue
                expr = fe.get_shape(o, d)
                repl = {}
                for node_ in io_toposort(self.inner_inputs, [expr]):
                    if isinstance(node_.op, Shape_i) and node_.inputs[0] in outer_dim:
                        repl[node_.outputs[0]] = outer_dim[node_.inputs[0]](node_.op.i)
                if repl:
                    expr = clone_replace(expr, repl)
                from symgraph.graph.basic import ancestors
                if any(a in inner_set for a in ancestors([expr])):
                    raise ShapeError(f"{self}: the shape of output {self.n_rec + l} depends on "
                                     "values computed inside the loop")
                dims.append(expr)
            res.append(tuple(dims))
        return res

    def L_op(self, inputs, outputs, output_grads):
        """Back-propagation through time: a reverse scan (see symgraph.scan.grad)."""
        from symgraph.scan.grad import scan_L_op
        return scan_L_op(self, inputs, outputs, output_grads)

    def connection_pattern(self, node):
        return [[False] * len(node.outputs)] + \
            [[True] * len(node.outputs) for _ in node.inputs[1:]]


def _grow(a, rows):
    out = np.empty((rows,) + a.shape[1:], dtype=a.dtype)
    out[:a.shape[0]] = a
    return out


__all__ = ["Scan"]
