"""Benchmarks: symgraph (py and numba modes) against NumPy by hand and, when installed,
PyTensor and JAX, in one run, as ratios.

    python benchmarks/run.py              # one thread: BLAS, numba, XLA, and the process pinned to one CPU
    python benchmarks/run.py --threads 0  # library defaults
    python benchmarks/run.py --only B3 B6

Each (workload, engine) pair runs in a fresh process twice: the first with an empty
compile cache (cold), the second with the cache the first left (warm). The child
reports the time to the first result and the median of repeated calls; the parent
prints a markdown table. Workloads live in benchmarks/workloads.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ENGINES = ("numpy", "symgraph-py", "symgraph-numba", "symgraph-untiered", "pytensor-numba",
           "pytensor-c", "jax", "numba-alone")


def _available(engine):
    mod = {"pytensor-numba": "pytensor", "pytensor-c": "pytensor", "jax": "jax"}.get(engine)
    if mod is None:
        return True
    try:
        __import__(mod)
        return True
    except ImportError:
        return False


def _pin(threads):
    """For the child: run on ``threads`` CPUs only (None: no limit). The thread-count
    variables are set too, but they do not hold every engine: with them JAX's XLA
    still used 1.7 cores on B2 (CPU time / wall time), so its "one thread" rows were
    two-core rows. Pinning the process holds all engines alike."""
    if not threads or not hasattr(os, "sched_setaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))[:threads]
    return lambda: os.sched_setaffinity(0, cpus)


def _child(workload, engine, cache, threads, repeats):
    env = dict(os.environ)
    if threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS"):
            env[var] = str(threads)
        env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    # bytecode caches as an installed package has them (some shells disable them,
    # which would add the compile of every module to each warm start)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["SYMGRAPH_FLAGS"] = f"cache_dir={cache}"
    # base_compiledir: PyTensor ignores `compiledir` here and would reuse ~/.pytensor
    env["PYTENSOR_FLAGS"] = f"base_compiledir={cache}/pytensor"
    env["NUMBA_CACHE_DIR"] = os.path.join(cache, "numba")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, os.path.join(HERE, "workloads.py"), workload, engine, str(repeats)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800,
                         preexec_fn=_pin(threads))
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1][:120]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="threads (and CPUs the process may use) for BLAS/numba/XLA; 0: library defaults, no pinning")
    ap.add_argument("--only", nargs="*", help="workload names (B1 ... B6)")
    ap.add_argument("--engines", nargs="*", default=list(ENGINES))
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--save", help="also write the raw results to this JSON file")
    ap.add_argument("--load", nargs="*", default=[],
                    help="JSON files of earlier runs (--save) to merge into the table; "
                         "pairs measured now replace theirs")
    args = ap.parse_args(argv)
    sys.path.insert(0, HERE)
    from workloads import WORKLOADS

    names = args.only or list(WORKLOADS)
    engines = [e for e in args.engines if _available(e)]
    loaded = {}
    for path in args.load:
        with open(path) as fh:
            for name, res in json.load(fh).items():
                loaded.setdefault(name, {}).update({e: tuple(v) for e, v in res.items()})
    rows = []
    for name in names:
        res = dict(loaded.get(name, {}))
        for engine in engines:
            if engine not in WORKLOADS[name]["engines"]:
                continue
            cache = tempfile.mkdtemp(prefix="symgraph-bench-")
            try:
                cold = _child(name, engine, cache, args.threads, args.repeats)
                warm = _child(name, engine, cache, args.threads, args.repeats)
            finally:
                shutil.rmtree(cache, ignore_errors=True)
            res[engine] = (cold, warm)
        rows.append((name, {e: res[e] for e in ENGINES if e in res}))
    if args.save:
        with open(args.save, "w") as fh:
            json.dump({name: res for name, res in rows}, fh, indent=1)
    print(_table(rows, args.threads))


def _fmt_t(t):
    if t is None:
        return "—"
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.2f} ms"
    return f"{t * 1e6:.1f} µs"


def _table(rows, threads):
    import numpy
    how = f"{threads}, each process pinned to {threads} CPU(s)" if threads else "library defaults"
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, NumPy {numpy.__version__}; threads: {how}", "",
             "| workload | engine | first result (cold) | native speed (cold) "
             "| first result (warm) | call (median) | vs NumPy | vs best peer |",
             "|---|---|---|---|---|---|---|---|"]
    for name, res in rows:
        base = res.get("numpy", (None, {}))[1].get("call")
        peers = [w.get("call") for e, (c, w) in res.items()
                 if e.startswith(("pytensor", "jax")) and w.get("call")]
        best_peer = min(peers) if peers else None
        for engine, (cold, warm) in res.items():
            if "error" in cold or "error" in warm:
                lines.append(f"| {name} | {engine} | error: {cold.get('error') or warm.get('error')} "
                             "| | | | | |")
                continue
            call = warm.get("call")
            r_np = f"{call / base:.2f}" if base and call else "—"
            r_peer = f"{call / best_peer:.2f}" if best_peer and call else "—"
            lines.append(f"| {name} | {engine} | {_fmt_t(cold.get('first'))} | "
                         f"{_fmt_t(cold.get('native', cold.get('first')))} | "
                         f"{_fmt_t(warm.get('first'))} | {_fmt_t(call)} | {r_np} | {r_peer} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
