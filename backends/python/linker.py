"""The Python interpreter linker: storage cells per variable, perform() per node.

It is the reference every other backend is checked against, so it also checks
each result against the type its node declared.
"""

from __future__ import annotations

import numpy as np

from backends.errors import reraise_with_node
from symgraph.graph.basic import Constant
from symgraph.graph.utils import SymgraphError


class OutputTypeError(SymgraphError, TypeError):
    """An Op's perform produced a value that does not fit its declared output type."""


def check_output(node, i, value):
    """Return ``value`` as a valid value of output ``i`` of ``node``, or raise OutputTypeError."""
    t = node.outputs[i].type
    want = getattr(t, "numpy_dtype", None)
    if want is None:
        return value
    if not isinstance(value, np.ndarray):
        if isinstance(value, np.generic) and value.dtype == want:
            return np.asarray(value)
        raise OutputTypeError(
            f"{node.op}.perform stored a {type(value).__name__} as output {i}; expected an "
            f"ndarray of {t} (node {node})")
    if value.dtype != want or value.ndim != t.ndim:
        raise OutputTypeError(
            f"{node.op}.perform returned output {i} with dtype {value.dtype} and {value.ndim} "
            f"dimensions (shape {value.shape}), but the node declares {t} (node {node}); "
            "fix the Op's make_node or perform so they agree")
    for d, (s, n) in enumerate(zip(t.shape, value.shape)):
        if s is not None and s != n:
            raise OutputTypeError(
                f"{node.op}.perform returned output {i} of shape {value.shape}, but the node "
                f"declares static shape {t.shape} (node {node})")
    return value


class PythonLinker:
    """Builds a thunk: ``thunk(*input_values) -> [output values]`` for a FunctionGraph."""

    def make_thunk(self, fgraph, perform_for=None):
        """``perform_for(node)``, when given, says how to run each node instead of its
        op's ``perform`` (same signature): numba's tiered mode runs some nodes by
        their compiled kernels there (backends/numba/exact.py)."""
        order = fgraph.toposort()
        cells = {}

        def cell(v):
            c = cells.get(v)
            if c is None:
                c = cells[v] = [v.data if isinstance(v, Constant) else None]
            return c

        input_cells = [cell(v) for v in fgraph.inputs]
        steps = []
        for node in order:
            perform = node.op.perform if perform_for is None else perform_for(node)
            steps.append((perform, node, [cell(i) for i in node.inputs],
                          [cell(o) for o in node.outputs]))
        output_cells = [cell(v) for v in fgraph.outputs]
        temp_cells = [c for v, c in cells.items()
                      if not isinstance(v, Constant) and v not in set(fgraph.inputs)]
        n_in = len(input_cells)

        def thunk(*values):
            if len(values) != n_in:
                raise TypeError(f"expected {n_in} input values, got {len(values)}")
            for c, v in zip(input_cells, values):
                c[0] = v
            try:
                for k, (perform, node, ins, outs) in enumerate(steps):
                    args = [c[0] for c in ins]
                    try:
                        perform(node, args, outs)
                        for i, c in enumerate(outs):
                            c[0] = check_output(node, i, c[0])
                    except Exception as e:
                        reraise_with_node(e, node, args, k)
                return [c[0] for c in output_cells]
            finally:
                for c in temp_cells:
                    c[0] = None
                for c in input_cells:
                    c[0] = None

        thunk.order = order
        return thunk
