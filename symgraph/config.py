"""Global settings: floatX, the default mode, and flags read from SYMGRAPH_FLAGS.

SYMGRAPH_FLAGS takes comma-separated ``name=value`` pairs, as THEANO_FLAGS did,
e.g. ``SYMGRAPH_FLAGS="floatX=float32,mode=py"``. The default mode is ``numba``
(the JIT); ``mode=py`` is the reference interpreter.
"""

from __future__ import annotations

import contextlib
import os

_FLOATX_CHOICES = ("float64", "float32")


class Config:
    """A flat bag of settings with validated assignment."""

    _validators = {
        "floatX": lambda v: v in _FLOATX_CHOICES,
        "mode": lambda v: isinstance(v, str) and bool(v),
        "on_opt_error": lambda v: v in ("warn", "raise", "ignore"),
        "compute_test_value": lambda v: v in ("off", "ignore", "warn", "raise"),
        "cache_dir": lambda v: isinstance(v, str),
        "trace_depth": lambda v: int(v) >= 0,
        "optimizer": lambda v: v in ("fast_run", "fast_compile", "None"),
        "numba_tiered": lambda v: isinstance(v, bool),
        "tune_malloc": lambda v: isinstance(v, bool),
    }

    def __init__(self):
        object.__setattr__(self, "_values", {
            "floatX": "float64",
            "mode": "numba",
            "on_opt_error": "warn",
            "compute_test_value": "off",
            "cache_dir": os.path.join(
                os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                "symgraph"),
            "trace_depth": 1,
            # which rewrites function() runs: fast_run (all), fast_compile (few), None (none)
            "optimizer": "fast_run",
            # numba mode: a graph not in the disk cache answers its first calls on the
            # exact interpreter tier (backends/numba/exact.py: the native code's values
            # to the bit) while a worker process compiles it; False compiles first
            "numba_tiered": True,
            # numba mode on glibc: keep freed large buffers for reuse (backends/numba/memory.py)
            "tune_malloc": True,
        })

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"symgraph.config has no setting {name!r}; "
                                 f"known: {sorted(self._values)}") from None

    def __setattr__(self, name, value):
        if name not in self._values:
            raise AttributeError(f"symgraph.config has no setting {name!r}; "
                                 f"known: {sorted(self._values)}")
        current = self._values[name]
        if isinstance(current, bool) and isinstance(value, str):
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValueError(f"config.{name} takes True or False, got {value!r}")
            value = value.lower() in ("true", "1")
        elif isinstance(current, int) and not isinstance(current, bool):
            value = int(value)
        if not self._validators[name](value):
            raise ValueError(f"invalid value {value!r} for config.{name}")
        self._values[name] = value

    @contextlib.contextmanager
    def change_flags(self, **kwargs):
        """Temporarily set flags: ``with config.change_flags(floatX='float32'):``."""
        old = {k: getattr(self, k) for k in kwargs}
        try:
            for k, v in kwargs.items():
                setattr(self, k, v)
            yield self
        finally:
            for k, v in old.items():
                self._values[k] = v

    def load_env(self, text: str | None):
        if not text:
            return
        for item in text.split(","):
            item = item.strip()
            if not item:
                continue
            if "=" not in item:
                raise ValueError(f"SYMGRAPH_FLAGS entry {item!r} is not name=value")
            k, v = item.split("=", 1)
            setattr(self, k.strip(), v.strip())


config = Config()
config.load_env(os.environ.get("SYMGRAPH_FLAGS"))
change_flags = config.change_flags
