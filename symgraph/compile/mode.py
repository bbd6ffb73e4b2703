"""Modes: a linker (backend) plus a choice of graph rewrites.

Backends register by name here and are imported lazily, so nothing in symgraph
depends on how a backend works.
"""

from __future__ import annotations

import importlib

from symgraph import config

# mode/linker name -> "module:Class" of the linker
LINKERS = {
    "py": "backends.python.linker:PythonLinker",
    "python": "backends.python.linker:PythonLinker",
    "numba": "backends.numba.linker:NumbaLinker",
}

# Theano mode names, and what they mean here: FAST_RUN is compiled code with every
# rewrite, FAST_COMPILE the interpreter with few rewrites
MODE_ALIASES = {
    "FAST_RUN": ("numba", "fast_run"),
    "FAST_COMPILE": ("py", "fast_compile"),
    "py": ("py", "fast_run"),
    "python": ("py", "fast_run"),
    "NUMBA": ("numba", "fast_run"),
    "numba": ("numba", "fast_run"),
}


def register_linker(name: str, target: str):
    """Register a backend linker as ``"module:Class"`` under ``name``."""
    LINKERS[name] = target


def _config_linker() -> str:
    """The linker (backend) name that ``config.mode`` stands for."""
    mode = config.mode
    if mode in MODE_ALIASES:
        return MODE_ALIASES[mode][0]
    if mode in LINKERS:
        return mode
    raise ValueError(f"config.mode is {mode!r}, which names no backend; known: "
                     f"{', '.join(sorted(set(MODE_ALIASES) | set(LINKERS)))}")


class Mode:
    """How to compile: ``linker`` (backend name) and a rewrite query.

    Without ``linker`` a Mode uses the backend of ``config.mode`` as it stands when
    the Mode is built (numba by default, the interpreter under ``mode=py`` or
    ``FAST_COMPILE``), as Theano's Mode took ``config.linker``; say ``linker="py"``
    to pin the interpreter. ``include``/``exclude`` are tag lists over the rewrite
    database; with ``optimizer=None`` no rewrite runs at all (useful when
    debugging), on the configured backend unless ``linker`` says otherwise.
    """

    def __init__(self, linker=None, optimizer="fast_run", include=(), exclude=()):
        self.linker_name = _config_linker() if linker is None else linker
        self.optimizer = None if optimizer in (None, "None") else optimizer
        self.include = tuple(include)
        self.exclude = tuple(exclude)

    def including(self, *tags):
        return Mode(self.linker_name, self.optimizer, self.include + tags, self.exclude)

    def excluding(self, *tags):
        return Mode(self.linker_name, self.optimizer, self.include, self.exclude + tags)

    def make_linker(self):
        target = LINKERS.get(self.linker_name)
        if target is None:
            raise ValueError(f"no backend called {self.linker_name!r}; available: "
                             f"{', '.join(sorted(LINKERS))}")
        module, cls = target.split(":")
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            raise ImportError(f"the {self.linker_name!r} backend could not be loaded: {e}") from e
        return getattr(mod, cls)()

    def rewrite(self, fgraph):
        """Run this mode's rewrites on ``fgraph`` in place; returns a report (dict)."""
        if self.optimizer is None:
            return {}
        try:
            from symgraph.graph.rewriting.db import optimize_graph
        except ImportError:
            return {}
        return optimize_graph(fgraph, self.optimizer, self.include, self.exclude)

    def __repr__(self):
        return (f"Mode(linker={self.linker_name!r}, optimizer={self.optimizer!r}, "
                f"include={self.include}, exclude={self.exclude})")

    def __reduce__(self):
        return (Mode, (self.linker_name, self.optimizer, self.include, self.exclude))


def get_mode(mode=None) -> Mode:
    """A Mode from None (config.mode), a name, or a Mode."""
    if isinstance(mode, Mode):
        return mode
    if mode is None:
        mode = config.mode
    if isinstance(mode, str):
        if mode in MODE_ALIASES:
            linker, opt = MODE_ALIASES[mode]
            if opt == "fast_run":
                opt = config.optimizer  # SYMGRAPH_FLAGS=optimizer=None switches rewrites off
            return Mode(linker, opt)
        if mode in LINKERS:
            return Mode(mode, config.optimizer)
        raise ValueError(f"unknown mode {mode!r}; known: {', '.join(sorted(MODE_ALIASES))}")
    raise TypeError(f"mode must be None, a name or a Mode, got {type(mode).__name__}")
