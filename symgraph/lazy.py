"""Modules imported on first use.

SciPy's linalg and special take longer to import than the rest of symgraph, and
most programs never call them; a module-level ``sla = lazy_module("scipy.linalg")``
keeps ``import symgraph`` fast while the code reads as if the module were imported.
"""

from __future__ import annotations

import importlib


class lazy_module:  # noqa: N801 (reads like the module it stands for)
    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self):
        return f"<lazy module {self._name}>"
