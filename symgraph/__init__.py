"""symgraph: a static graph compiler and interpreter in the style of Theano.

Build a graph from symbolic variables, compile it with ``function``, and call it::

    import symgraph as sg
    import symgraph.tensor as T
    x = T.vector("x")
    f = sg.function([x], (x ** 2).sum())
"""

__version__ = "0.1.0"

from symgraph.config import config, change_flags  # noqa: E402
from symgraph import graph, scalar  # noqa: E402,F401
from symgraph import tensor  # noqa: E402,F401
from symgraph.compile.function import Function, In, Out, Param, function  # noqa: E402
from symgraph.compile.mode import Mode, get_mode  # noqa: E402
from symgraph.compile.sharedvalue import SharedVariable, shared  # noqa: E402
from symgraph.graph.basic import Apply, Constant, Variable, clone_replace  # noqa: E402
from symgraph.graph.fg import FunctionGraph  # noqa: E402
from symgraph.graph.op import Op  # noqa: E402
from symgraph.printing import debugprint  # noqa: E402
from symgraph.tensor.basic import as_tensor_variable  # noqa: E402
from symgraph import gradient  # noqa: E402,F401
from symgraph.gradient import (  # noqa: E402
    Lop, Rop, grad, hessian, jacobian, verify_grad,
)
from symgraph import scan  # noqa: E402  (the package; callable as the function)
from symgraph.scan import until  # noqa: E402

dprint = debugprint

__all__ = [
    "Apply", "Constant", "Function", "FunctionGraph", "In", "Mode", "Op", "Out", "Param",
    "SharedVariable", "Variable", "as_tensor_variable", "change_flags", "clone_replace",
    "config", "debugprint", "dprint", "function", "get_mode", "shared", "tensor",
    "grad", "Lop", "Rop", "jacobian", "hessian", "verify_grad", "scan", "until",
]
