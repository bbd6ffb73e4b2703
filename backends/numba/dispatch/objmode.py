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


class NotRepresentable(NotSupported):
    """A node's input or output has a type whose values native code cannot hold (a
    user's Type other than a tensor or a random generator): not even object mode can
    run it, so the graph has to run on the Python interpreter."""


class ObjectModeWarning(UserWarning):
    """An op runs through object mode in the numba backend."""


_warned: set = set()


def numba_array_type(var):
    """The numba type of a variable's values (a C-contiguous array of its dtype and rank)."""
    return numba.types.Array(numba.from_dtype(np.dtype(var.type.dtype)), var.type.ndim, "C")


def _value_type(var):
    """The numba type of ``var``'s values: an array for a tensor, numba's Generator for a
    random generator; None for any other Type (native code cannot hold its values)."""
    from symgraph.tensor.random_type import RandomGeneratorType
    from symgraph.tensor.type import TensorType

    if isinstance(var.type, TensorType):
        return numba_array_type(var)
    if isinstance(var.type, RandomGeneratorType):
        return numba.typeof(np.random.default_rng(0))
    return None


def _check_representable(node):
    for kind, vs in (("input", node.inputs), ("output", node.outputs)):
        for k, v in enumerate(vs):
            if _value_type(v) is None:
                raise NotRepresentable(
                    f"{kind} {k} of {node} has type {v.type}, whose values native code cannot "
                    "hold (only tensors and random generators can pass through numba)")


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
    """A kernel calling ``node.op.perform`` in object mode; raises NotRepresentable when
    a value of the node is neither a tensor nor a random generator."""
    op = node.op
    _check_representable(node)
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
    from symgraph.tensor.type import TensorType

    n_out = len(node.outputs)
    # tensors go to perform as arrays; random generators as they are
    tensor_in = [isinstance(v.type, TensorType) for v in node.inputs]
    tensor_out = [isinstance(v.type, TensorType) for v in node.outputs]

    def call(*args):
        storage = [[None] for _ in range(n_out)]
        op.perform(node, [np.asarray(a) if t else a for a, t in zip(args, tensor_in)], storage)
        # C order, as the declared types say; np.ascontiguousarray would make 0-d 1-d
        return tuple(np.asarray(check_output(node, i, s[0]), order="C") if tensor_out[i]
                     else check_output(node, i, s[0]) for i, s in enumerate(storage))

    args = ", ".join(f"a{i}" for i in range(len(node.inputs)))
    outs = ", ".join(f"o{i}" for i in range(n_out))
    types = ", ".join(f"o{i}=T{i}" for i in range(n_out))
    g = {"CB": call}
    g.update({f"T{i}": _value_type(o) for i, o in enumerate(node.outputs)})
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


__all__ = ["NotRepresentable", "NotSupported", "ObjectModeWarning", "objmode_kernel", "numba_array_type"]
