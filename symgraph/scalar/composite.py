"""Composite: several scalar ops fused into one scalar op.

The fusion rewrite replaces a chain of Elemwise nodes by one Elemwise over a
Composite, whose inner graph (scalar variables, scalar ops, scalar constants)
says what to compute per element. The Python interpreter evaluates the inner
graph with NumPy on whole arrays, one inner node at a time (temporaries are fine
there); a compiling backend emits one loop with the inner graph as its body, so
no temporary arrays are made.

What a backend may rely on: ``inputs`` (free ScalarVariables), ``nodes`` (the
inner Apply nodes in topological order) and ``outputs``. Two Composites built
from the same expression (same ops, same wiring, same constants, same dtypes)
are equal and hash alike, whatever variables they were built from, so merging
and kernel caches can share them. They pickle by structure, not by object.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Constant, clone_get_equiv, io_toposort
from symgraph.scalar.basic import ScalarConstant, ScalarOp, ScalarType

#: longest name (``Composite{...}``) before it is cut short with an ellipsis
MAX_NAME_LENGTH = 240


def _const_key(c):
    """What identifies a scalar constant: dtype and exact value (NaN, -0.0 included)."""
    return ("const", c.type.dtype, repr(np.asarray(c.data).item()))


def _const_str(c):
    v = np.asarray(c.data).item()
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e16:
        return str(v)  # 1.0 stays 1.0 so a float constant reads as one
    return repr(v)


class Composite(ScalarOp):
    """A scalar op defined by an inner graph from ``inputs`` to ``outputs``.

    inputs: distinct ownerless ScalarVariables; outputs: ScalarVariables computed
    from them by scalar ops (scalar constants may appear inside). The graph is
    copied, so later changes to the given variables do not affect the op.
    """

    def __init__(self, inputs, outputs):
        inputs, outputs = list(inputs), list(outputs)
        if not outputs:
            raise ValueError("Composite needs at least one output")
        seen = set()
        for i in inputs:
            if not isinstance(getattr(i, "type", None), ScalarType) or i.owner is not None \
                    or isinstance(i, Constant):
                raise TypeError(f"Composite inputs must be free scalar variables, got {i!r}")
            if id(i) in seen:
                raise ValueError(f"Composite input {i} is given twice")
            seen.add(id(i))
        for o in outputs:
            if not isinstance(getattr(o, "type", None), ScalarType):
                raise TypeError(f"Composite outputs must be scalar variables, got {o!r}")
        for node in io_toposort(inputs, outputs):
            if not isinstance(node.op, ScalarOp):
                raise TypeError(f"Composite can only hold scalar ops, got {node.op} "
                                f"(a {type(node.op).__name__}) in {node}")
        memo = clone_get_equiv(inputs, outputs, copy_inputs=True)
        self.inputs = [memo[i] for i in inputs]
        self.outputs = [memo.get(o, o) for o in outputs]
        self.nodes = io_toposort(self.inputs, self.outputs)
        self.input_dtypes = tuple(i.type.dtype for i in self.inputs)
        self.output_dtypes = tuple(o.type.dtype for o in self.outputs)
        self._key = self._structure()
        self._plan = self._make_plan()
        super().__init__(self._make_name(), None, len(self.inputs), None,
                         nout=len(self.outputs), compute_in_output_dtype=False)

    # ------------------------------------------------------------------ identity
    def _structure(self):
        """A hashable description of the inner graph: ops, edges, constants, dtypes.

        Inputs are referred to by position and inner results by (node, output)
        position, so the description does not depend on which variables were used.
        """
        index = {v: ("in", k) for k, v in enumerate(self.inputs)}
        key = [self.input_dtypes]
        for n, node in enumerate(self.nodes):
            args = []
            for i in node.inputs:
                if i in index:
                    args.append(index[i])
                elif isinstance(i, Constant):
                    args.append(_const_key(i))
                else:
                    raise ValueError(f"Composite: {i} is used by {node} but is neither an "
                                     "input nor computed inside; list it among the inputs")
            key.append((node.op, tuple(args), tuple(o.type.dtype for o in node.outputs)))
            for k, o in enumerate(node.outputs):
                index[o] = ("node", n, k)
        outs = []
        for o in self.outputs:
            if o in index:
                outs.append(index[o])
            elif isinstance(o, Constant):
                outs.append(_const_key(o))
            else:
                raise ValueError(f"Composite: output {o} is neither an input nor computed "
                                 "from the inputs")
        key.append(tuple(outs))
        return tuple(key)

    def __eq__(self, other):
        return self is other or (type(other) is Composite and other._key == self._key)

    def __hash__(self):
        return hash((Composite, self._key))

    def __reduce__(self):
        # rebuilt from the structure: ops and constants, no variables, tags or traces
        values = {}
        for v in [i for node in self.nodes for i in node.inputs] + self.outputs:
            if isinstance(v, Constant):
                values.setdefault(_const_key(v), np.asarray(v.data))
        keys = list(values)

        def ref(a):
            return ("const", keys.index(a)) if a[0] == "const" else a

        spec = tuple((op, tuple(ref(a) for a in args)) for op, args, _ in self._key[1:-1])
        outs = tuple(ref(a) for a in self._key[-1])
        return (_rebuild_composite, (self.input_dtypes, spec, outs,
                                     tuple(values[k] for k in keys)))

    # ------------------------------------------------------------------ naming
    def _make_name(self):
        """``Composite{exp(add(i0, i1))}``; a result used twice inside is named once
        (``t0=mul(i0, i1); add(exp(t0), t0)``) so the name grows with the graph, not
        with the number of paths through it."""
        uses: dict = {}
        for node in self.nodes:
            for i in node.inputs:
                uses[i] = uses.get(i, 0) + 1
        for o in self.outputs:
            uses[o] = uses.get(o, 0) + 1
        cap = MAX_NAME_LENGTH + 1  # longer texts are cut anyway: keeps this linear
        text = {v: f"i{k}" for k, v in enumerate(self.inputs)}
        defs = []

        def show(v):
            t = text.get(v)
            return t if t is not None else _const_str(v)

        for node in self.nodes:  # topological order: no recursion, however deep the graph
            expr = f"{node.op}({', '.join(show(i) for i in node.inputs)})"[:cap]
            if len(node.outputs) > 1 or uses.get(node.outputs[0], 0) > 1:
                t = f"t{len(defs)}"
                defs.append(f"{t}={expr}")
                for o in node.outputs:
                    text[o] = t if len(node.outputs) == 1 else f"{t}.{o.index}"
            else:
                text[node.outputs[0]] = expr
        body = "; ".join(defs[:cap // 4] + [", ".join(show(o) for o in self.outputs)])
        if len(body) > MAX_NAME_LENGTH:
            body = body[:MAX_NAME_LENGTH - 3] + "..."
        return f"Composite{{{body}}}"

    # ------------------------------------------------------------------ typing
    def output_types(self, dtypes):
        dtypes = tuple(np.dtype(d).name for d in dtypes)
        if len(dtypes) != len(self.input_dtypes):
            raise TypeError(f"{self.name} takes {len(self.input_dtypes)} inputs, "
                            f"got {len(dtypes)}")
        if dtypes != self.input_dtypes:
            raise TypeError(f"{self.name} was built for inputs of dtype "
                            f"({', '.join(self.input_dtypes)}), got ({', '.join(dtypes)})")
        return self.output_dtypes

    # ------------------------------------------------------------------ computing
    def _make_plan(self):
        """Per inner node: its op, where each argument comes from (a slot or a
        constant array) and its output dtypes, so compute() does no lookups by name."""
        slot = {v: k for k, v in enumerate(self.inputs)}
        plan = []
        for node in self.nodes:
            args = []
            for i in node.inputs:
                if i in slot:
                    args.append((True, slot[i]))
                else:
                    args.append((False, np.asarray(i.data, dtype=i.type.dtype)))
            outs = []
            for o in node.outputs:
                slot[o] = len(slot)
                outs.append(slot[o])
            plan.append((node.op, tuple(args), tuple(o.type.dtype for o in node.outputs),
                         tuple(outs)))
        # an output that is an input, or the same result as an earlier output, is copied:
        # a result must never alias an argument or another result
        results, taken = [], set()
        for o in self.outputs:
            if o not in slot:
                results.append((False, np.asarray(o.data, dtype=o.type.dtype)))
                continue
            k = slot[o]
            results.append(("copy" if k < len(self.inputs) or k in taken else True, k))
            taken.add(k)
        return plan, tuple(results)

    def compute(self, inputs, out_dtypes):
        """Evaluate the inner graph on NumPy arrays (broadcasting as NumPy does)."""
        plan, results = self._plan
        env = list(inputs)
        for op, args, dts, outs in plan:
            vals = op.compute([env[a] if is_slot else a for is_slot, a in args], list(dts))
            env.extend(vals)
        res = []
        for (is_slot, a), dt in zip(results, out_dtypes):
            if is_slot is True:
                v = env[a]
            else:  # an input or a constant: a fresh array, never the argument itself
                v = np.array(env[a] if is_slot == "copy" else a, dtype=dt, copy=True)
            res.append(v if isinstance(v, np.ndarray) and v.dtype == dt
                       else np.asarray(v, dtype=dt))
        return res


def _rebuild_composite(input_dtypes, spec, outs, values):
    """Inverse of Composite.__reduce__."""
    inputs = [ScalarType(d)() for d in input_dtypes]
    consts = [ScalarConstant(ScalarType(v.dtype), v) for v in values]
    made = []

    def get(a):
        if a[0] == "in":
            return inputs[a[1]]
        if a[0] == "const":
            return consts[a[1]]
        return made[a[1]].outputs[a[2]]

    for op, args in spec:
        made.append(op.make_node(*[get(a) for a in args]))
    return Composite(inputs, [get(a) for a in outs])
