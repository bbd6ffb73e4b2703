"""NumPy steps that give a numba kernel's values to the bit, with nothing to compile.

The tiered mode's interpreter (backends/numba/exact.py) must answer with the native
code's values. Where NumPy computes an op otherwise (another BLAS call, another
order of a sum, its own exp), exact.py could only run the node's numba kernel
compiled alone: a compile of 0.5-2 s per node, which is most of a tiered graph's
time to first result. A twin here replays the kernel's arithmetic with NumPy (and
SciPy's BLAS, and small cached numba maps for vecmath's functions, compiled once
per process and shared by every graph): the same operations on the same values in
the same order, so the same bits.

A module registers a factory per op class: ``factory(node)`` returns a
``perform(node, inputs, output_storage)`` or None when it cannot replay this node
(a dtype or case it does not cover); exact.py then compiles the kernel as before.
New arrays are returned C-contiguous, as the kernels return them.
"""

from __future__ import annotations

from importlib import import_module

_FACTORIES: dict = {}
_MODULES = ("dot", "elemwise", "nnet", "reduction", "slinalg")
_loaded = False


def register(*op_classes):
    """Decorator: ``factory`` builds the twin of nodes of these op classes."""
    def deco(factory):
        for cls in op_classes:
            _FACTORIES[cls] = factory
        return factory
    return deco


def _load():
    global _loaded
    if not _loaded:
        _loaded = True
        for name in _MODULES:
            try:
                import_module(f"{__name__}.{name}")
            except ModuleNotFoundError as e:
                if e.name != f"{__name__}.{name}":
                    raise


def numpy_twin(node):
    """The NumPy perform replaying ``node``'s numba kernel bit for bit, or None."""
    _load()
    for cls in type(node.op).__mro__:
        factory = _FACTORIES.get(cls)
        if factory is not None:
            return factory(node)
    return None
