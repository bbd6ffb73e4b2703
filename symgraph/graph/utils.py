"""Small helpers shared by the IR: user stack traces, tags, and the errors they feed."""

from __future__ import annotations

import functools
import linecache
import os
import sys

import symgraph
import backends

# Frames from these directories are ours; the first frame outside them is the user's.
_INTERNAL_DIRS = tuple(
    os.path.dirname(os.path.abspath(m.__file__)) + os.sep for m in (symgraph, backends)
)


class Scratchpad:
    """A free-form attribute bag (``var.tag``, ``node.tag``)."""

    def __repr__(self):
        return f"Scratchpad({self.__dict__!r})"

    def __eq__(self, other):
        return isinstance(other, Scratchpad) and self.__dict__ == other.__dict__

    __hash__ = object.__hash__


@functools.lru_cache(maxsize=4096)
def _is_internal(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_INTERNAL_DIRS)


def user_trace(limit: int = 1):
    """The innermost ``limit`` frames outside symgraph, as (file, line, function, text).

    Walking frames by hand is far cheaper than ``traceback.extract_stack`` and
    this runs for every Apply node that is built.
    """
    frame = sys._getframe(1)
    out = []
    while frame is not None and len(out) < limit:
        code = frame.f_code
        if not _is_internal(code.co_filename) and not _is_user_op_frame(frame):
            lineno = frame.f_lineno
            out.append((code.co_filename, lineno, code.co_name,
                        linecache.getline(code.co_filename, lineno).strip()))
        frame = frame.f_back
    return tuple(out)


def _is_user_op_frame(frame) -> bool:
    """A user-defined Op's own make_node/__call__: not the line that built the graph."""
    if frame.f_code.co_name not in ("make_node", "__call__"):
        return False
    owner = frame.f_locals.get("self")
    return hasattr(owner, "make_node") and hasattr(owner, "perform")


def format_trace(trace) -> str:
    if not trace:
        return "  (no user line recorded)"
    return "\n".join(f'  File "{f}", line {ln}, in {fn}\n    {txt}' for f, ln, fn, txt in trace)


class SymgraphError(Exception):
    """Base class of errors raised by symgraph itself."""


class ShapeError(SymgraphError, ValueError):
    """Shapes that cannot work together (static or at run time)."""


class MethodNotDefined(SymgraphError, NotImplementedError):
    """An Op does not provide an optional method (infer_shape, R_op, ...)."""
