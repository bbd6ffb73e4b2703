"""Runtime errors that name the node that failed, its inputs and the user's line."""

from __future__ import annotations

import numpy as np

from symgraph.graph.utils import SymgraphError, format_trace


class NodeRuntimeError(SymgraphError, RuntimeError):
    """Raised when an exception cannot be re-raised as its own type with context."""


def describe_inputs(values) -> str:
    parts = []
    for v in values:
        if isinstance(v, np.ndarray):
            parts.append(f"{v.dtype}{list(v.shape)}")
        else:
            parts.append(type(v).__name__)
    return ", ".join(parts)


def node_context(node, values, index=None) -> str:
    """The text that every runtime error gets: node, inputs, where the user built it."""
    from symgraph.printing import debugprint

    lines = [f"Apply node that failed: {node}"]
    if index is not None:
        lines[0] += f" (step {index} of the compiled graph)"
    lines.append(f"Input types: {', '.join(str(i.type) for i in node.inputs)}")
    if values is not None:
        lines.append(f"Input values: {describe_inputs(values)}")
    try:
        lines.append("The node, as debugprint shows it:\n" +
                     debugprint(node.outputs[0], file="str", depth=2, print_type=True))
    except Exception:  # printing must never hide the real error
        pass
    lines.append("The node was built at:\n" + format_trace(getattr(node.tag, "trace", ())))
    return "\n".join(lines)


def reraise_with_node(exc, node, values, index=None):
    """Raise ``exc`` again, same type where possible, with the node's context appended."""
    if getattr(exc, "_symgraph_context", False):
        raise exc
    msg = f"{exc}\n{node_context(node, values, index)}"
    try:
        new = type(exc)(msg)
    except Exception:
        new = NodeRuntimeError(f"{type(exc).__name__}: {msg}")
    new._symgraph_context = True
    new.node = node
    raise new.with_traceback(exc.__traceback__) from exc
