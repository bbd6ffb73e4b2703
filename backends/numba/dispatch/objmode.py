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


def objmode_kernel(node, reason=None) -> Kernel:
    op = node.op
    label = type(op).__name__
    if label not in _warned:
        _warned.add(label)
        why = f" ({reason})" if reason else ""
        warnings.warn(
            f"the numba backend has no implementation of {op}{why}; it runs the op's "
            "perform() in object mode: correct, but slower, and graphs containing it are "
            "not cached on disk", ObjectModeWarning, stacklevel=4)
    from backends.python.linker import check_output

    n_out = len(node.outputs)

    def call(*args):
        storage = [[None] for _ in range(n_out)]
        op.perform(node, [np.asarray(a) for a in args], storage)
        return tuple(np.ascontiguousarray(check_output(node, i, s[0]))
                     for i, s in enumerate(storage))

    args = ", ".join(f"a{i}" for i in range(len(node.inputs)))
    outs = ", ".join(f"o{i}" for i in range(n_out))
    types = ", ".join(f"o{i}=T{i}" for i in range(n_out))
    g = {"CB": call}
    g.update({f"T{i}": numba_array_type(o) for i, o in enumerate(node.outputs)})
    ret = outs if n_out == 1 else f"({outs},)"
    src = (f"def KERNEL_NAME({args}):\n"
           f"    with numba.objmode({types}):\n"
           f"        ({outs},) = CB({args})\n"
           f"    return {ret}\n")
    return Kernel(src, runtime_globals=g,
                  uncacheable=f"{op} runs in object mode (node {node})")


__all__ = ["NotSupported", "ObjectModeWarning", "objmode_kernel", "numba_array_type"]
