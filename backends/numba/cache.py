"""Where compiled code lives on disk, and how generated modules are written and loaded.

Every kernel and every graph function is a small generated Python module in a
per-user directory (created with mode 0700; a directory that someone else owns,
or that others may write, is refused: nothing is ever loaded from it). Numba's
own ``cache=True`` then keeps the machine code next to each module, so a kernel
compiled once is reused by every graph and every later process.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import stat
import sys
import tempfile
import warnings

import symgraph
from symgraph import config

_checked_dirs: dict = {}


class UnsafeCacheDirError(PermissionError):
    """The cache directory could be written by another user."""


@functools.lru_cache(maxsize=None)
def _backend_fingerprint() -> str:
    """A hash of this backend's own source: cached kernels call helper functions whose
    compiled copies numba keeps, so any change to the backend starts a fresh cache."""
    here = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha256()
    for root, _, files in sorted(os.walk(here)):
        for name in sorted(files):
            if name.endswith(".py"):
                with open(os.path.join(root, name), "rb") as fh:
                    h.update(name.encode())
                    h.update(fh.read())
    return h.hexdigest()[:12]


def cache_dir() -> str:
    """The directory for generated modules, created 0700 and checked once per process."""
    import numba  # here, not at import: `import backends.numba` stays free of numba

    base = os.path.join(config.cache_dir, f"numba-{numba.__version__}-symgraph-"
                        f"{symgraph.__version__}-{_backend_fingerprint()}")
    if base in _checked_dirs:
        return base
    os.makedirs(config.cache_dir, mode=0o700, exist_ok=True)  # else made with umask's mode
    os.makedirs(base, mode=0o700, exist_ok=True)
    # every directory we create or use must be ours and closed to others
    for d in (config.cache_dir, base):
        st = os.stat(d)
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            raise UnsafeCacheDirError(
                f"the symgraph cache directory {d} belongs to another user; set "
                "config.cache_dir (SYMGRAPH_FLAGS=cache_dir=...) to a directory of your own")
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise UnsafeCacheDirError(
                f"the symgraph cache directory {d} can be written by other users "
                f"(mode {oct(st.st_mode & 0o777)}); run `chmod 700 {d}` or choose another "
                "config.cache_dir")
    _checked_dirs[base] = True
    return base


def digest(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def load_module(name: str, source: str, cacheable: bool = True, runtime_globals=None):
    """The module ``name`` with ``source``: from sys.modules, from its file, or written now.

    Uncacheable modules (they hold Python objects that cannot be written out, such
    as a custom Op's perform) are executed in memory instead.
    """
    mod = sys.modules.get(name)
    if mod is not None:
        return mod
    if not cacheable:
        spec = importlib.util.spec_from_loader(name, loader=None)
        mod = importlib.util.module_from_spec(spec)
        mod.__dict__.update(runtime_globals or {})
        exec(compile(source, f"<symgraph generated {name}>", "exec"), mod.__dict__)
        sys.modules[name] = mod
        return mod
    path = os.path.join(cache_dir(), f"{name}.py")
    if not os.path.exists(path):
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            fh.write(source)
        os.replace(tmp, path)  # atomic: a concurrent process sees all or nothing
    else:
        with open(path) as fh:
            if fh.read() != source:  # a hash collision or a corrupted file: rewrite
                warnings.warn(f"symgraph: regenerating the damaged cached module {path}")
                with open(path, "w") as out:
                    out.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules[name]
        raise
    return mod
