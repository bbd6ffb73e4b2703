"""Numba implementations of ops, one module per op family.

A builder registered for an Op class turns one Apply node into a ``Kernel``: the
source of a Python function that numba compiles in nopython mode. Kernels are
keyed by their source, so equal nodes in different graphs (and processes) share
one compiled kernel. Ops without a builder fall back to calling their ``perform``
in numba's object mode (dispatch/objmode.py), with a warning naming the op once.
"""

from __future__ import annotations

import importlib
import itertools

from backends.numba.cache import digest
from backends.numba.helper_cache import install as _install_helper_cache

# before any helper module below is imported: numba picks a cache place when a
# cache=True function is decorated
_install_helper_cache()

_BUILDERS: dict = {}
_FAMILIES = ("elemwise", "shape", "objmode", "reduction", "dot", "subtensor", "join",
             "creation", "sort", "nnet", "gradient", "nlinalg", "slinalg",
             "random", "scan")
_loaded = False
_unique = itertools.count()


class Kernel:
    """Generated source for one node: ``def KERNEL_NAME(<args>): ...``.

    imports: lines the source needs besides numpy (as np), math and numba;
    runtime_globals: Python objects the code calls that cannot be written to a file
    (they make the graph uncacheable; ``uncacheable`` says why);
    constants: values the linker passes after the node's inputs, as extra arguments
    of the kernel (bound once, like the graph's constants, so the source holds no
    data: a Scan kernel gets the constants of its inner graph this way).
    """

    __slots__ = ("source", "imports", "runtime_globals", "uncacheable", "key", "name",
                 "constants")

    def __init__(self, source, imports=(), runtime_globals=None, uncacheable=None,
                 constants=()):
        if "def KERNEL_NAME(" not in source:
            raise ValueError("a kernel's source must define KERNEL_NAME")
        self.source = source
        self.imports = tuple(imports)
        self.runtime_globals = dict(runtime_globals or {})
        self.uncacheable = uncacheable
        self.constants = tuple(constants)
        # kernels holding Python objects are unique to their node
        unique = (str(next(_unique)),) if self.runtime_globals else ()
        self.key = digest(source, *self.imports, *unique)
        self.name = f"k_{self.key}"

    def named_source(self):
        return self.source.replace("KERNEL_NAME", self.name)


def register(*op_classes):
    """Decorator: ``@register(Elemwise)`` above ``def build(op, node) -> Kernel``."""
    def deco(builder):
        for cls in op_classes:
            _BUILDERS[cls] = builder
        return builder
    return deco


def _load_families():
    global _loaded
    if not _loaded:
        for fam in _FAMILIES:
            importlib.import_module(f"backends.numba.dispatch.{fam}")
        _loaded = True


def builder_for(op):
    _load_families()
    for cls in type(op).__mro__:
        b = _BUILDERS.get(cls)
        if b is not None:
            return b
    return None


def kernel_for(node) -> Kernel:
    """The kernel for ``node``: its op's builder, or the object-mode fallback."""
    from backends.numba.dispatch.objmode import objmode_kernel, NotSupported

    b = builder_for(node.op)
    if b is not None:
        try:
            k = b(node.op, node)
        except NotSupported as e:
            return objmode_kernel(node, reason=str(e))
        if k is not None:
            return k
    return objmode_kernel(node)
