"""Compiling graphs: function(), In/Out specs, shared variables and modes."""

from symgraph.compile.function import Function, In, Out, Param, function  # noqa: F401
from symgraph.compile.mode import Mode, get_mode, register_linker  # noqa: F401
from symgraph.compile.sharedvalue import SharedVariable, shared  # noqa: F401
