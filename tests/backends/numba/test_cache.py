"""The on-disk cache of the numba backend (backends/numba/cache.py): a second process
compiling the same graph loads it instead of compiling it; the directory is created
0700, and a directory that others may write is refused."""

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from backends.numba import cache
from backends.numba.cache import UnsafeCacheDirError
from symgraph import config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))

# Compiles a small graph (a fused elementwise chain, a transpose, a broadcast, a float
# sum, whose helper is a numba function of the backend's own) and prints whether numba
# compiled the graph function or loaded it from the disk cache.
_SCRIPT = """
import json
import numpy as np
import symgraph as sg
import symgraph.tensor as T
x, y = T.dvector("x"), T.dmatrix("y")
expr = T.tanh(y * 2 + T.exp(-x)) / (1 + y ** 2) - T.sqrt(T.abs(x))
f = sg.function([x, y], [expr, y.T * 3, (expr * x).sum()], mode="numba")
out = f(np.linspace(-1, 1, 300), np.arange(600.0).reshape(2, 300))
stats = f._thunk.jitted.stats
print(json.dumps({"hits": sum(stats.cache_hits.values()),
                  "misses": sum(stats.cache_misses.values()),
                  "cacheable": bool(f._thunk.cacheable),
                  "out": [np.asarray(o).tolist() for o in out]}))
"""


def _run(cache_root):
    env = dict(os.environ, SYMGRAPH_FLAGS=f"cache_dir={cache_root},numba_tiered=False")
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_second_process_loads_the_compiled_graph(tmp_path):
    root = tmp_path / "symgraph-cache"
    first = _run(root)
    second = _run(root)
    assert first["cacheable"] and second["cacheable"]
    # the first process compiled the graph function, the second loaded it from disk
    assert (first["hits"], first["misses"]) == (0, 1), first
    assert (second["hits"], second["misses"]) == (1, 0), second
    for a, b in zip(first["out"], second["out"]):
        np.testing.assert_array_equal(np.array(a), np.array(b))
    # the generated modules (and numba's index of their machine code) are on disk
    (base,) = [p for p in root.iterdir() if p.name.startswith("numba-")]
    files = os.listdir(base)
    assert any(f.startswith("symgraph_g_") and f.endswith(".py") for f in files)
    # kernels are written into the graph function (backends/numba/inline.py), so no
    # kernel module is needed: the graph source is all there is
    assert not any(f.startswith("symgraph_k_") for f in files)
    assert os.path.isdir(base / "__pycache__") and os.listdir(base / "__pycache__")
    for d in (root, base):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, (d, oct(os.stat(d).st_mode))


def test_cache_dir_is_created_0700_whatever_the_umask(tmp_path):
    target = tmp_path / "made" / "here"
    old = os.umask(0o002)  # a umask that would leave new directories group-writable
    try:
        with config.change_flags(cache_dir=str(target)):
            base = cache.cache_dir()
    finally:
        os.umask(old)
    for d in (target, base):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, (d, oct(os.stat(d).st_mode))


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_directory_writable_by_others_is_refused(tmp_path, mode):
    shared = tmp_path / f"shared-{mode:o}"
    shared.mkdir()
    os.chmod(shared, mode)
    with config.change_flags(cache_dir=str(shared)):
        with pytest.raises(UnsafeCacheDirError, match="written by other users"):
            cache.cache_dir()
        # and nothing is written to, or loaded from, it
        with pytest.raises(UnsafeCacheDirError):
            cache.load_module(f"symgraph_test_refused_{mode:o}", "X = 1\n")
    assert f"symgraph_test_refused_{mode:o}" not in sys.modules
    assert not any(p.suffix == ".py" for p in shared.rglob("*"))


def test_subdirectory_made_writable_later_is_refused(tmp_path):
    root = tmp_path / "mine"
    with config.change_flags(cache_dir=str(root)):
        base = cache.cache_dir()
    os.chmod(base, 0o777)  # someone opened it up after we created it
    cache._checked_dirs.pop(base, None)  # as a new process would, check again
    with config.change_flags(cache_dir=str(root)):
        with pytest.raises(UnsafeCacheDirError):
            cache.cache_dir()


# ----------------------------------------------------------------------------- helpers' cache

_HELPER_SCRIPT = """
import os, stat, sys
import numpy as np
from backends.numba.cache import cache_dir
from backends.numba.dispatch import dotlib
path = dotlib.mm._cache._cache_path
out = np.empty((2, 2))
dotlib.mm(np.eye(2), np.ones((2, 2)), out)
assert np.array_equal(out, np.ones((2, 2)))
files = os.listdir(path)
print(path)
print(cache_dir())
print(oct(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)))
print(any(f.endswith('.nbi') for f in files))
"""


def _helper_run(tmp_path, numba_cache_dir=None):
    import os
    import subprocess
    import sys
    env = dict(os.environ, SYMGRAPH_FLAGS=f"cache_dir={tmp_path / 'sg'}")
    env.pop("NUMBA_CACHE_DIR", None)
    if numba_cache_dir:
        env["NUMBA_CACHE_DIR"] = str(numba_cache_dir)
    out = subprocess.run([sys.executable, "-c", _HELPER_SCRIPT], env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_backend_helpers_are_cached_in_the_per_user_directory(tmp_path):
    path, base, mode, indexed = _helper_run(tmp_path)
    assert path.startswith(os.path.join(base, "helpers") + os.sep)
    assert mode == "0o700" and indexed == "True"


def test_numba_cache_dir_of_the_user_still_wins_for_helpers(tmp_path):
    path, base, _, indexed = _helper_run(tmp_path, tmp_path / "nb")
    assert path.startswith(str(tmp_path / "nb")) and not path.startswith(base)
    assert indexed == "True"
