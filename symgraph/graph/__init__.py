"""The backend-free graph IR."""

from symgraph.graph.basic import (  # noqa: F401
    Apply, Constant, Variable, ancestors, clone, clone_get_equiv, clone_replace, graph_inputs,
    io_toposort,
)
from symgraph.graph.fg import FunctionGraph  # noqa: F401
from symgraph.graph.op import Op  # noqa: F401
from symgraph.graph.type import Type  # noqa: F401
