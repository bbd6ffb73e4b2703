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
can). With ``config.numba_tiered`` it starts compiling in a background thread
instead and answers on the Python interpreter until the native code is ready.

When the native code raises, the call is repeated on the interpreter, whose error
names the failing node (inputs are never modified in place, so this is safe).
"""

from __future__ import annotations

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


def make_thunk(code, fgraph, order, python_thunk, tiered):
    """``thunk(*input_values) -> outputs`` for a GraphCode compiled with scalar_io.

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
    state = {"thread": None, "t0": None}

    def as_arrays(values):
        return [np.asarray(v, in_dtypes[k]) if scalar_in[k] else v
                for k, v in enumerate(values)]

    def fail(exc, values):
        explain(exc, python_thunk(), as_arrays(values), source)

    def compile_native(values):
        """Compile (or load from the disk cache) for these values; install the result."""
        import numba
        sig = tuple(numba.from_dtype(in_dtypes[k]) if scalar_in[k] else numba.typeof(v)
                    for k, v in enumerate(values)) + \
            tuple(numba.typeof(c) for c in consts)
        jitted.compile(sig)
        fn = jitted.overloads[sig].entry_point if use_entry else jitted
        ns["_fn"] = fn
        thunk.native_ready = True
        if state["t0"] is not None:
            thunk.native_since = time.perf_counter() - state["t0"]

    def background(values):
        try:
            compile_native(values)
        except Exception as e:  # stay on the interpreter, but say why when asked
            thunk.failed = e

    def first(*values):
        if not tiered:
            state["t0"] = time.perf_counter()
            try:
                compile_native(values)
            except Exception as exc:
                fail(exc, values)
            return thunk(*values)
        if state["thread"] is None:
            state["t0"] = time.perf_counter()
            t = threading.Thread(target=background, args=(values,), daemon=True,
                                 name="symgraph-numba-compile")
            state["thread"] = t
            t.start()
        return python_thunk()(*as_arrays(values))

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

    def wait(timeout=None):
        """Block until the native code is ready (for benchmarks and tests)."""
        t = state["thread"]
        if t is not None:
            t.join(timeout)
        return thunk.native_ready

    thunk.wait = wait
    thunk.native_ready = False
    thunk.native_since = None
    thunk.failed = None
    thunk.source = source
    thunk.python_source = src
    thunk.order = order
    thunk.jitted = jitted
    thunk.cacheable = code.cacheable
    thunk.scalar_inputs = scalar_in
    thunk.fresh_outputs = scalar_out
    return thunk
