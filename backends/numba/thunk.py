"""The Python side of a compiled graph: the thunk that Function calls.

A thunk is generated per graph as Python source, so a call does no more than it
must: for a graph whose inputs are all scalars it calls the compiled overload's
entry point directly (numba's dispatcher would first work out the argument types
again, and for 0-d arrays that costs more than the arithmetic); otherwise it calls
the dispatcher, which also handles arrays of other layouts. 0-d inputs come as
scalars (the linker compiles the graph with ``scalar_io``; Function passes floats
as they are and ``x[()]`` for 0-d arrays, see ``thunk.scalar_inputs``) and 0-d
outputs come back as scalars that the thunk wraps into fresh 0-d arrays.

The first call compiles (numba loads the machine code from the disk cache when it
can). With ``config.numba_tiered`` (make_tiered_thunk) a background thread does all
the numba work instead (importing numba, generating the graph, compiling) and the
calls run on the Python interpreter until the native code is ready: a graph that
is not in the disk cache yet compiles in a worker process (compile_worker.py, so
the interpreter keeps the GIL), then loads from the cache in that thread.
``thunk.compiled_in`` says where it compiled ("worker" or "process").

When the native code raises, the call is repeated on the interpreter, whose error
names the failing node (inputs are never modified in place, so this is safe).
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np

from symgraph.graph.utils import SymgraphError


class NumbaBackendError(SymgraphError, RuntimeError):
    """The compiled graph failed where the Python interpreter did not: a backend bug."""


def explain(exc, reference, values, source):
    """Re-run on the interpreter to name the failing node; else report a backend bug."""
    try:
        # arrays as arrays; other values (random generators) as they are
        reference(*[v if isinstance(v, np.random.Generator) else np.asarray(v)
                    for v in values])
    except Exception as precise:
        raise precise from None
    raise NumbaBackendError(
        f"the numba-compiled graph raised {type(exc).__name__}: {exc}, but the Python "
        "interpreter computes the same call without error. This is a bug of the numba "
        f"backend; run with mode='py' meanwhile. Generated source:\n{source}") from exc


def _in_disk_cache(jitted):
    """Whether numba has an index of machine code for ``jitted`` on disk (then loading
    it takes a fraction of a second; a stale index only costs a compile here)."""
    try:
        return os.path.exists(jitted._cache._cache_file._index_path)
    except AttributeError:  # another numba version: assume not
        return False


def _not_native_yet(thunk, wait):
    """The state both kinds of thunk start in: no native code run yet, nothing failed,
    compiled (when it is) in this process unless a worker says otherwise."""
    thunk.wait = wait
    thunk.native_ready = False
    thunk.native_since = None
    thunk.failed = None
    thunk.worker_error = None
    thunk.compiled_in = "process"


def make_thunk(code, fgraph, order, python_thunk):
    """``thunk(*input_values) -> outputs`` for a GraphCode compiled with scalar_io;
    the first call compiles (or loads from the disk cache).

    ``python_thunk()`` builds (once) the interpreter's thunk for the same graph.
    """
    n = len(fgraph.inputs)
    scalar_in = tuple(code.scalar_inputs) or (False,) * n
    scalar_out = tuple(code.scalar_outputs) or (False,) * len(fgraph.outputs)
    in_dtypes = [np.dtype(v.type.dtype) if s else None
                 for v, s in zip(fgraph.inputs, scalar_in)]
    out_dtypes = [np.dtype(v.type.dtype) if s else None
                  for v, s in zip(fgraph.outputs, scalar_out)]
    consts = code.consts
    use_entry = all(scalar_in)
    jitted, source = code.jitted, code.source
    state = {"t0": None}
    from symgraph import config
    cache_dir = config.cache_dir  # where the generated modules are now

    def as_arrays(values):
        return [np.asarray(v, in_dtypes[k]) if scalar_in[k] else v
                for k, v in enumerate(values)]

    def fail(exc, values):
        explain(exc, python_thunk(), as_arrays(values), source)

    def signature(values):
        import numba
        return tuple(numba.from_dtype(in_dtypes[k]) if scalar_in[k] else numba.typeof(v)
                     for k, v in enumerate(values)) + tuple(numba.typeof(c) for c in consts)

    def compile_native(values):
        """Compile (or load from the disk cache) for these values; install the result."""
        sig = signature(values)
        jitted.compile(sig)
        fn = jitted.overloads[sig].entry_point if use_entry else jitted
        ns["_fn"] = fn
        thunk.native_ready = True
        if state["t0"] is not None:
            thunk.native_since = time.perf_counter() - state["t0"]

    def prepare(values, worker=False):
        """Compile for these values (with ``worker``: in a worker process when the
        graph is not in the disk cache yet) and switch this thunk to native code."""
        worked = False
        if worker and code.cacheable and not _in_disk_cache(jitted):
            # compile in another process, so this one keeps the GIL for the
            # interpreter; then load the result from the disk cache here
            from backends.numba.compile_worker import compile_in_worker
            try:
                compile_in_worker(code.module, signature(values), cache_dir)
                worked = True
            except Exception as e:  # compile here instead, and say why when asked
                thunk.worker_error = e
        compile_native(values)
        if worked and sum(jitted.stats.cache_hits.values()):
            thunk.compiled_in = "worker"

    def first(*values):
        state["t0"] = time.perf_counter()
        try:
            compile_native(values)
        except Exception as exc:
            fail(exc, values)
        return thunk(*values)

    params = ", ".join(f"i{k}" for k in range(n))
    call_args = ", ".join([f"i{k}" for k in range(n)] + [f"c{j}" for j in range(len(consts))])
    if any(scalar_out):
        outs = ", ".join(f"_array(r[{k}], _od{k})" if s else f"r[{k}]"
                         for k, s in enumerate(scalar_out))
        ret = f"return ({outs},)"
    else:
        ret = "return r"
    src = (f"def thunk({params}):\n"
           f"    if _fn is None:\n"
           f"        return _first({params})\n"
           f"    try:\n"
           f"        r = _fn({call_args})\n"
           f"    except Exception as exc:\n"
           f"        _fail(exc, ({params}{',' if n else ''}))\n"
           f"    {ret}\n")
    ns = {"_fn": None, "_first": first, "_fail": fail, "_array": np.array}
    for j, c in enumerate(consts):
        ns[f"c{j}"] = c
    for k, dt in enumerate(out_dtypes):
        if dt is not None:
            ns[f"_od{k}"] = dt
    exec(compile(src, f"<symgraph thunk {code.module}>", "exec"), ns)
    thunk = ns["thunk"]

    _not_native_yet(thunk, wait=lambda timeout=None: thunk.native_ready)
    thunk.prepare = prepare
    thunk.source = source
    thunk.python_source = src
    thunk.order = order
    thunk.jitted = jitted
    thunk.cacheable = code.cacheable
    thunk.scalar_inputs = scalar_in
    thunk.fresh_outputs = scalar_out
    return thunk


# A first call on more input elements than this compiles before it answers: the tier
# computes node by node with NumPy temporaries, so on large arrays it is slow where
# native code is fast (B3's fused chain over 1e7 values, pinned to one CPU: 6 s on
# the tier against 1.7 s to compile and run), and its compile is soon repaid.
TIER_MAX_ELEMENTS = 1 << 20


def _elements(values) -> int:
    return sum(v.size for v in values if isinstance(v, np.ndarray))


def make_tiered_thunk(fgraph, order, python_thunk, build, make_tier):
    """The thunk of ``config.numba_tiered``. On the first call it makes the GraphCode
    (``build()``). When numba has the graph's machine code on disk, loading it takes
    a fraction of a second: it is loaded there and then. Otherwise the calls are
    answered by ``make_tier()`` (the interpreter thunk of exact.py, whose values are
    the native code's to the bit) while a worker process compiles, until the native
    thunk (``make_thunk``) takes over every call. When ``make_tier()`` is None (a
    node without an exact step), or the first call's inputs hold more than
    TIER_MAX_ELEMENTS values, the first call compiles, as without tiering.
    """
    from backends.numba.linker import _scalar_io

    scalar_in = _scalar_io(fgraph)[0]
    in_dtypes = [np.dtype(v.type.dtype) if s else None
                 for v, s in zip(fgraph.inputs, scalar_in)]
    state = {"native": None, "thread": None, "tier": None}

    def install(native, t0):
        for name in ("source", "python_source", "jitted", "cacheable", "compiled_in",
                     "worker_error"):
            setattr(thunk, name, getattr(native, name))
        state["native"] = native
        thunk.native_since = time.perf_counter() - t0
        thunk.native_ready = True

    def background(native, values, t0):
        try:
            native.prepare(values, worker=True)
            install(native, t0)
        except Exception as e:  # stay on the tier, but say why when asked
            thunk.failed = e

    def first(values):
        t0 = time.perf_counter()
        native = make_thunk(build(), fgraph, order, python_thunk)
        tier = None
        if not (native.cacheable and _in_disk_cache(native.jitted)) and \
                _elements(values) <= TIER_MAX_ELEMENTS:
            tier = make_tier()
        if tier is None:  # in the disk cache, or not tierable: native now
            res = native(*values)
            install(native, t0)
            return res
        state["tier"] = tier
        thunk.source, thunk.jitted = native.source, native.jitted
        t = threading.Thread(target=background, args=(native, values, t0),
                             daemon=True, name="symgraph-numba-compile")
        state["thread"] = t
        t.start()
        return None

    def thunk(*values):
        native = state["native"]
        if native is not None:
            return native(*values)
        if state["thread"] is None:
            res = first(values)
            if res is not None:
                return res
        return state["tier"](*[np.asarray(v, in_dtypes[k]) if scalar_in[k] else v
                               for k, v in enumerate(values)])

    def wait(timeout=None):
        """Block until the native code is ready (for benchmarks and tests)."""
        t = state["thread"]
        if t is not None:
            t.join(timeout)
        return thunk.native_ready

    _not_native_yet(thunk, wait=wait)
    thunk.source = thunk.python_source = thunk.jitted = None  # known once built
    thunk.cacheable = None
    thunk.order = order
    thunk.scalar_inputs = scalar_in
    # the interpreter's results may alias one another: Function copies as it must
    thunk.fresh_outputs = ()
    return thunk
