"""Compile a generated graph in another process, for tiered execution.

With ``config.numba_tiered`` the first calls run on the Python interpreter while the
graph compiles. Compiling in a thread of the same process would share the GIL with
those calls: both then run at a fraction of their speed (the RNN step of benchmarks/
took 2-3 times longer on each side). So when the graph is not yet in the disk cache,
a worker process compiles it, which fills the cache, and the calling process then
only loads the machine code from there (a fraction of a second, in its thread).

The worker gets the generated module's name and the argument types; it imports the
modules from the per-user cache directory (cache.py checks that directory as always),
compiles, and exits. Only cacheable graphs go to a worker: a graph that holds Python
objects compiles in the thread.
"""

from __future__ import annotations

import atexit
import os
import pickle
import re
import subprocess
import sys
import threading

_BOOT = ("import pickle, sys; job = pickle.load(sys.stdin.buffer); "
         "sys.path[:0] = job['path']; "
         "from backends.numba.compile_worker import run; run(job)")
_running: set = set()
_running_lock = threading.Lock()


def _worker_slots() -> int:
    """How many workers compile at once: one per CPU this process may use, less the
    one its own calls run on (at least one). Every tiered function starts a worker;
    a program that makes fifty would otherwise start fifty numba processes at once,
    each slower than the one before, and all of them late."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


_slots = threading.BoundedSemaphore(_worker_slots())


def compile_in_worker(module: str, sig, cache_dir: str) -> None:
    """Compile ``module.graph`` for ``sig`` in a new process (filling the disk cache
    under ``cache_dir``, config.cache_dir when the graph was made); raises
    RuntimeError with the worker's error output if it fails."""
    job = {"path": [p for p in sys.path if isinstance(p, str)], "cache_dir": cache_dir,
           "module": module, "sig": sig}
    with _slots:  # queue behind the workers already compiling
        proc = subprocess.Popen([sys.executable, "-c", _BOOT], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with _running_lock:
            _running.add(proc)
        try:
            _, err = proc.communicate(pickle.dumps(job))
        finally:
            with _running_lock:
                _running.discard(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"the compile worker for {module} failed (exit {proc.returncode}): "
                           f"{err.decode(errors='replace')[-2000:]}")


@atexit.register
def _stop_workers():
    # a worker still compiling when the program ends is of no more use to it
    with _running_lock:
        procs = list(_running)
    for p in procs:
        try:
            p.kill()
        except OSError:
            pass


def run(job) -> None:
    """In the worker: load the generated module (and those it imports) and compile."""
    from symgraph import config

    config.cache_dir = job["cache_dir"]
    from backends.numba import cache

    base = cache.cache_dir()  # the usual checks: ours, 0700
    mod = _load(cache, base, job["module"], set())
    mod.graph.compile(job["sig"])


def _load(cache, base, name, seen):
    if name in seen:
        return sys.modules[name]
    seen.add(name)
    path = os.path.join(base, f"{name}.py")
    with open(path) as fh:
        source = fh.read()
    for dep in re.findall(r"^from (symgraph_\w+) import", source, re.M):
        _load(cache, base, dep, seen)
    return cache.load_module(name, source)
