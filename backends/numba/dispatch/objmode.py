"""The fallback for ops with no numba implementation: call ``perform`` in object mode.

Everything still works and gives the interpreter's values; it is slower (each call
leaves native code) and the graph cannot be cached on disk, because the call
holds a Python object. A warning names the op once per process.
"""

from __future__ import annotations

import warnings

import numba
import numpy as np

from backends.numba.dispatch import Kernel


class NotSupported(Exception):
    """Raised by a builder for a node it cannot compile; the node falls back to object mode."""


class ObjectModeWarning(UserWarning):
    """An op runs through object mode in the numba backend."""


_warned: set = set()


def numba_array_type(var):
    """The numba type of a variable's values (a C-contiguous array of its dtype and rank)."""
    return numba.types.Array(numba.from_dtype(np.dtype(var.type.dtype)), var.type.ndim, "C")


def _user_stacklevel():
    """The stack level of the first caller outside symgraph and its backends (the user's
    call of function()), so the warning points at the user's line."""
    import os
    import sys

    roots = tuple(os.path.dirname(os.path.abspath(m.__file__)) + os.sep
                  for m in (sys.modules["symgraph"], sys.modules["backends"]))
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(roots):
        frame, level = frame.f_back, level + 1
    return level if frame is not None else 2


def objmode_kernel(node, reason=None) -> Kernel:
    op = node.op
    # once per op class; for Elemwise once per scalar op (a user's ScalarOp has no template)
    scalar = getattr(op, "scalar_op", None)
    label = f"{type(op).__name__}{{{scalar.name}}}" if scalar is not None else type(op).__name__
    if label not in _warned:
        _warned.add(label)
        why = f" ({reason})" if reason else ""
        warnings.warn(
            f"the numba backend has no implementation of {op}{why}; it runs the op's "
            "perform() in object mode: correct, but slower, and graphs containing it are "
            "not cached on disk", ObjectModeWarning, stacklevel=_user_stacklevel())
    from backends.python.linker import check_output

    n_out = len(node.outputs)

    def call(*args):
        storage = [[None] for _ in range(n_out)]
        op.perform(node, [np.asarray(a) for a in args], storage)
        # C order, as the declared types say; np.ascontiguousarray would make 0-d 1-d
        return tuple(np.asarray(check_output(node, i, s[0]), order="C")
                     for i, s in enumerate(storage))

    args = ", ".join(f"a{i}" for i in range(len(node.inputs)))
    outs = ", ".join(f"o{i}" for i in range(n_out))
    types = ", ".join(f"o{i}=T{i}" for i in range(n_out))
    g = {"CB": call}
    g.update({f"T{i}": numba_array_type(o) for i, o in enumerate(node.outputs)})
    ret = outs if n_out == 1 else f"({outs},)"
    # the object-mode block lives in a helper compiled without nogil: in a nogil function
    # numba would add its own warning to ours on every compilation
    src = (f"def KERNEL_NAME({args}):\n"
           f"    return KERNEL_NAME_objmode({args})\n\n\n"
           "@numba.njit\n"
           f"def KERNEL_NAME_objmode({args}):\n"
           f"    with numba.objmode({types}):\n"
           f"        ({outs},) = CB({args})\n"
           f"    return {ret}\n")
    return Kernel(src, runtime_globals=g,
                  uncacheable=f"{op} runs in object mode (node {node})")


__all__ = ["NotSupported", "ObjectModeWarning", "objmode_kernel", "numba_array_type"]
