"""Loops: ``scan`` with Theano's semantics, and ``map``/``reduce``/``foldl``/``foldr``.

``symgraph.scan`` is this package and also callable as the function: both
``sg.scan(fn, sequences=...)`` and ``sg.scan.map(fn, xs)`` work, as do
``import symgraph.scan as S`` and ``from symgraph.scan import scan``.
"""

import sys
import types

from symgraph.scan.basic import scan
from symgraph.scan.op import Scan
from symgraph.scan.utils import until
from symgraph.scan.views import foldl, foldr, map, reduce  # noqa: A004
from symgraph.scan import rewriting  # noqa: F401,E402  (registers the inner-graph pass)

__all__ = ["scan", "map", "reduce", "foldl", "foldr", "until", "Scan"]


class _CallableModule(types.ModuleType):
    """The package, callable as scan() (sg.scan must be the function and the package)."""

    def __call__(self, *args, **kwargs):
        return scan(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
