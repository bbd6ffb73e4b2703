"""SciPy's BLAS and LAPACK tables for numba, without importing scipy.linalg.

numba calls BLAS and LAPACK through the function tables of the extension modules
``scipy.linalg.cython_blas`` and ``scipy.linalg.cython_lapack``, and imports them
the first time it loads or compiles anything. Importing them the usual way runs
the whole ``scipy.linalg`` package first (its array-API layer among it): measured
0.12-0.2 s of a warm start that is otherwise about half a second, for two modules
that take 3 ms to load from their files. ``preload`` loads them from their files
and registers them under their full names, where numba's imports find them.

The one difference a program could see: ``scipy.linalg`` not yet imported. When
it is imported later (by the program, or by symgraph's own linear algebra), a
finder on ``sys.meta_path`` sets the two modules as its attributes as the normal
import would, so ``scipy.linalg.cython_blas`` reads as usual.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

_PACKAGE = "scipy.linalg"
_MODULES = ("cython_blas", "cython_lapack")


class _Reattach(importlib.abc.MetaPathFinder):
    """Finds ``scipy.linalg`` as the path finder does, and after the package runs
    sets the preloaded extension modules as its attributes (once, then leaves)."""

    def find_spec(self, name, path, target=None):
        if name != _PACKAGE:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            for sub in _MODULES:
                mod = sys.modules.get(f"{_PACKAGE}.{sub}")
                if mod is not None and not hasattr(module, sub):
                    setattr(module, sub, mod)

        spec.loader.exec_module = exec_module
        return spec


def _extension_file(directory: str, sub: str):
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(directory, sub + suffix)
        if os.path.isfile(path):
            return path
    return None


@functools.cache
def preload() -> bool:
    """Load the two table modules unless scipy.linalg is imported already (then
    nothing is needed) or they cannot be found (then numba imports them itself).
    True when both were preloaded; runs once per process."""
    if _PACKAGE in sys.modules or any(f"{_PACKAGE}.{s}" in sys.modules for s in _MODULES):
        return False
    try:
        scipy_spec = importlib.util.find_spec("scipy")
    except (ImportError, ValueError):
        return False
    if scipy_spec is None or not scipy_spec.submodule_search_locations:
        return False
    directory = os.path.join(list(scipy_spec.submodule_search_locations)[0], "linalg")
    paths = [_extension_file(directory, sub) for sub in _MODULES]
    if None in paths:
        return False
    loaded = {}
    try:
        import scipy  # noqa: F401  (the parent of the names registered below)
        for sub, path in zip(_MODULES, paths):
            name = f"{_PACKAGE}.{sub}"
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            loaded[name] = module
    except Exception:  # an unusual SciPy build: let numba import it the usual way
        return False
    if _PACKAGE in sys.modules:  # imported meanwhile (by scipy itself): nothing to do
        return False
    sys.modules.update(loaded)
    sys.meta_path.insert(0, _Reattach())
    return True
