"""Where numba caches the backend's own jitted helpers: the per-user directory.

The helpers in backends/numba/dispatch/ (dotlib.mm, the reductions, vecmath ...)
are ``numba.njit(cache=True)``. Left to numba, their compiled code would go to the
``__pycache__`` beside the package's files (or, where that is not writable, to a
user-wide numba directory), not to symgraph's per-user cache directory, which is
created 0700 and refused when others can write to it (cache.cache_dir). The
locator installed here sends them there, under ``helpers/``; the directory is
keyed by the numba and symgraph versions and a hash of the backend's source, so
helpers compiled by another version are never loaded.

A ``NUMBA_CACHE_DIR`` set by the user still wins (numba's own locator for it comes
first), and so does numba's ``NUMBA_CACHE_LOCATOR_CLASSES``. The directory is
chosen when a helper module is imported: changing ``config.cache_dir`` later moves
the generated graphs, not the helpers already imported.
"""

from __future__ import annotations

import functools
import os

_BACKEND_DIR = os.path.dirname(os.path.abspath(__file__))


@functools.cache
def install() -> bool:
    """Put the helpers' locator first in numba's list (once); False when this numba
    has no such list (then numba's own locators decide, as before)."""
    try:
        from numba.core import caching
        base = (caching._SourceFileBackedLocatorMixin, caching._CacheLocator)
        classes = caching.CacheImpl._locator_classes
    except (ImportError, AttributeError):
        return False

    class HelperLocator(*base):
        """numba's cache locator for files of this backend: the per-user directory."""

        def __init__(self, py_func, py_file):
            from backends.numba.cache import cache_dir

            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            self._cache_path = os.path.join(cache_dir(), "helpers",
                                            self.get_suitable_cache_subpath(py_file))

        def get_cache_path(self):
            return self._cache_path

        def ensure_cache_path(self):
            # makedirs gives its mode to the last directory only
            os.makedirs(os.path.dirname(self._cache_path), mode=0o700, exist_ok=True)
            os.makedirs(self._cache_path, mode=0o700, exist_ok=True)
            super().ensure_cache_path()

        @classmethod
        def from_function(cls, py_func, py_file):
            from numba.core import config as numba_config
            from backends.numba.cache import UnsafeCacheDirError

            if numba_config.CACHE_DIR:
                return None  # the user's NUMBA_CACHE_DIR: numba's own locator
            if not os.path.abspath(py_file).startswith(_BACKEND_DIR + os.sep):
                return None
            try:
                return super().from_function(py_func, py_file)
            except (OSError, UnsafeCacheDirError):
                return None  # numba's locators then, as without this one

    classes.insert(0, HelperLocator)
    return True
