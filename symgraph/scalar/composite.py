"""Composite: several scalar ops fused into one scalar op.

The fusion rewrite replaces a chain of Elemwise nodes by one Elemwise over a
Composite, whose inner graph (scalar variables, scalar ops, scalar constants)
says what to compute per element. The Python interpreter evaluates the inner
graph with NumPy on whole arrays; a compiling backend emits one loop with the
inner graph as its body, so no temporary arrays are made.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Constant, clone_get_equiv, io_toposort
from symgraph.scalar.basic import ScalarOp, ScalarType


class Composite(ScalarOp):
    """A scalar op defined by an inner graph from ``inputs`` to ``outputs``.

    inputs: ownerless ScalarVariables; outputs: ScalarVariables computed from them
    by scalar ops (scalar constants may appear inside). The graph is copied.
    """

    def __init__(self, inputs, outputs):
        for i in inputs:
            if i.owner is not None or not isinstance(i.type, ScalarType):
                raise TypeError(f"Composite inputs must be free scalar variables, got {i}")
        memo = clone_get_equiv(inputs, outputs, copy_inputs=True)
        self.inputs = [memo[i] for i in inputs]
        self.outputs = [memo.get(o, o) for o in outputs]
        self.nodes = io_toposort(self.inputs, self.outputs)
        for node in self.nodes:
            if not isinstance(node.op, ScalarOp):
                raise TypeError(f"Composite can only hold scalar ops, got {node.op}")
        self.input_dtypes = tuple(i.type.dtype for i in self.inputs)
        self.output_dtypes = tuple(o.type.dtype for o in self.outputs)
        self._key = self._structure()
        name = f"Composite{{{', '.join(self._describe(o) for o in self.outputs)}}}"
        super().__init__(name, None, len(self.inputs), None, nout=len(self.outputs),
                         compute_in_output_dtype=False)

    # ------------------------------------------------------------------ identity
    def _structure(self):
        """A hashable description of the inner graph: ops, edges, constants, dtypes."""
        index = {v: ("in", k) for k, v in enumerate(self.inputs)}
        key = [self.input_dtypes]
        for n, node in enumerate(self.nodes):
            args = []
            for i in node.inputs:
                if i in index:
                    args.append(index[i])
                elif isinstance(i, Constant):
                    args.append(("const", i.type.dtype, repr(np.asarray(i.data).item())))
                else:
                    raise ValueError(f"Composite: {i} is neither an input nor computed inside")
            key.append((node.op, tuple(args)))
            for k, o in enumerate(node.outputs):
                index[o] = ("node", n, k)
        key.append(tuple(index.get(o, ("const", repr(getattr(o, "data", o)))) for o in self.outputs))
        return tuple(key)

    def _describe(self, v, depth=0):
        if v in self.inputs:
            return f"i{self.inputs.index(v)}"
        if isinstance(v, Constant):
            return str(np.asarray(v.data).item())
        if depth > 6:
            return "..."
        node = v.owner
        return f"{node.op}({', '.join(self._describe(i, depth + 1) for i in node.inputs)})"

    def __eq__(self, other):
        return self is other or (type(other) is Composite and other._key == self._key)

    def __hash__(self):
        return hash(self._key)

    def __reduce__(self):
        return (Composite, (self.inputs, self.outputs))

    # ------------------------------------------------------------------ typing
    def output_types(self, dtypes):
        if tuple(dtypes) != self.input_dtypes:
            raise TypeError(f"{self.name} was built for inputs of dtype "
                            f"{', '.join(self.input_dtypes)}, got {', '.join(dtypes)}")
        return self.output_dtypes

    # ------------------------------------------------------------------ computing
    def compute(self, inputs, out_dtypes):
        env = dict(zip(self.inputs, inputs))
        for node in self.nodes:
            args = [env[i] if i in env else np.asarray(i.data, dtype=i.type.dtype)
                    for i in node.inputs]
            outs = node.op.compute(args, [o.type.dtype for o in node.outputs])
            env.update(zip(node.outputs, outs))
        res = []
        for o, dt in zip(self.outputs, out_dtypes):
            v = env[o] if o in env else np.asarray(o.data)
            res.append(v if isinstance(v, np.ndarray) and v.dtype == dt else np.asarray(v, dtype=dt))
        return res
