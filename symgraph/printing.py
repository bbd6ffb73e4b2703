"""Looking at graphs: debugprint (text), to_networkx and to_dot."""

from __future__ import annotations

import io
import sys

from symgraph.graph.basic import Constant, Variable, io_toposort


def debugprint(obj, file=None, depth=-1, print_type=True, done=None):
    """Print (or return, with file='str') the graph under ``obj`` as an indented tree.

    ``obj`` may be a Variable, a list of them, an Apply node, a FunctionGraph or a
    compiled Function. Shared subtrees are printed once and then referred to by id.
    """
    from symgraph.graph.fg import FunctionGraph

    if hasattr(obj, "maker") and hasattr(obj.maker, "fgraph"):
        obj = obj.maker.fgraph
    if isinstance(obj, FunctionGraph):
        outs = list(obj.outputs)
    elif isinstance(obj, Variable):
        outs = [obj]
    elif hasattr(obj, "outputs") and hasattr(obj, "op"):
        outs = list(obj.outputs)
    else:
        outs = list(obj)
    counter = {}

    def get_id(x):
        if x not in counter:
            counter[x] = chr(ord("A") + len(counter)) if len(counter) < 26 else str(len(counter))
        return counter[x]

    done = set() if done is None else done
    lines = []

    def visit(v, indent, last, root, d):
        if depth >= 0 and d > depth:
            return
        prefix = indent + ("" if root else ("└─ " if last else "├─ "))
        child_indent = indent + ("" if root else ("   " if last else "│  "))
        typ = f" {{{v.type}}}" if print_type else ""
        node = v.owner
        if node is None:
            if isinstance(v, Constant):
                lines.append(f"{prefix}{v}{typ}")
            else:
                nm = v.name if v.name is not None else "<input>"
                lines.append(f"{prefix}{nm} [id {get_id(v)}]{typ}")
            return
        out_sel = f".{v.index}" if len(node.outputs) > 1 else ""
        nm = f" '{v.name}'" if v.name else ""
        label = f"{prefix}{node.op}{out_sel}{nm} [id {get_id(node)}]{typ}"
        if node in done:
            lines.append(label + " (see above)")
            return
        done.add(node)
        lines.append(label)
        for k, inp in enumerate(node.inputs):
            visit(inp, child_indent, k == len(node.inputs) - 1, False, d + 1)

    for o in outs:
        visit(o, "", True, True, 0)
    inner = [n for n in io_toposort([], outs) if hasattr(n.op, "inner_outputs")
             and n in done]
    if inner:  # loops (Scan) show their body after the outer graph
        lines.append("\nInner graphs:")
        for n in inner:
            lines.append(f"\n{n.op} [id {get_id(n)}]")
            body = debugprint(n.op.inner_outputs, file="str", depth=depth,
                              print_type=print_type)
            lines.extend("  " + ln for ln in body.splitlines())
    text = "\n".join(lines)
    if file == "str":
        return text
    (file or sys.stdout).write(text + "\n")
    return None


def short_node_str(node, depth=1) -> str:
    """A one- or few-line debugprint of a node, for error messages."""
    return debugprint(node.outputs[0] if len(node.outputs) == 1 else node.outputs,
                      file="str", depth=depth)


def to_networkx(obj):
    """The graph as a networkx.DiGraph: nodes are Variables and Apply nodes."""
    import networkx as nx
    from symgraph.graph.fg import FunctionGraph

    if hasattr(obj, "maker"):
        obj = obj.maker.fgraph
    outs = list(obj.outputs) if isinstance(obj, FunctionGraph) else (
        [obj] if isinstance(obj, Variable) else list(obj))
    g = nx.DiGraph()
    for node in io_toposort([], outs):
        g.add_node(node, kind="apply", label=str(node.op))
        for i, inp in enumerate(node.inputs):
            g.add_node(inp, kind="variable", label=str(inp), type=str(inp.type))
            g.add_edge(inp, node, index=i)
        for o in node.outputs:
            g.add_node(o, kind="variable", label=str(o), type=str(o.type))
            g.add_edge(node, o, index=o.index)
    for o in outs:
        g.add_node(o, kind="variable", label=str(o), type=str(o.type))
    return g


def to_dot(obj) -> str:
    """Graphviz source for the graph (ops as boxes, variables as ellipses)."""
    g = to_networkx(obj)
    ids = {n: f"n{k}" for k, n in enumerate(g.nodes)}
    out = io.StringIO()
    out.write("digraph symgraph {\n")
    for n, data in g.nodes(data=True):
        shape = "box" if data["kind"] == "apply" else "ellipse"
        label = data["label"].replace('"', '\\"')
        out.write(f'  {ids[n]} [label="{label}", shape={shape}];\n')
    for a, b in g.edges:
        out.write(f"  {ids[a]} -> {ids[b]};\n")
    out.write("}\n")
    return out.getvalue()
