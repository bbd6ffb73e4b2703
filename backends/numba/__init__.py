"""The numba JIT backend: one compiled function per graph (see linker.py)."""

from backends.numba.linker import NumbaLinker

__all__ = ["NumbaLinker"]
