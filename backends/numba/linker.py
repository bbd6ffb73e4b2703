"""The numba linker: one compiled function per graph.

For a FunctionGraph it asks dispatch for a kernel per node (shared by key),
writes the source of one function that calls them in topological order, and
jits that function, so a call crosses into native code once::

    def graph(i0, i1, c0):
        v0 = k_3f2a...(i0, c0)
        v1 = k_9b1c...(v0, i1)
        return (v1,)

Constants come in as extra arguments (bound once), so generated modules hold no
data and can be cached on disk. ``thunk.source`` keeps the generated text.

A runtime error inside native code cannot say which node failed, so the call is
repeated on the Python interpreter (inputs are never modified in place, so this
is safe); its error names the node, the input shapes and the user's line.
"""

from __future__ import annotations

import threading
import time
import warnings

import numpy as np

from backends.numba.cache import digest, load_module
from backends.numba.dispatch import kernel_for
from symgraph import config
from symgraph.graph.basic import Constant
from symgraph.graph.utils import SymgraphError

JIT_OPTIONS = "nogil=True, error_model='numpy'"
_PREAMBLE = "import math\nimport cmath\nimport numpy as np\nimport numba\n"
_lock = threading.RLock()


class UncacheableGraphWarning(UserWarning):
    """A graph could not be cached on disk (it holds a Python object); it is compiled in memory."""


class NumbaBackendError(SymgraphError, RuntimeError):
    """The compiled graph failed where the Python interpreter did not: a backend bug."""


def _kernel_module(kernel, cacheable):
    name = f"symgraph_{kernel.name}"
    imports = "\n".join(kernel.imports)
    cache = "True" if cacheable else "False"
    src = (f"{_PREAMBLE}{imports}\n\n\n"
           f"@numba.njit(cache={cache}, {JIT_OPTIONS})\n{kernel.named_source()}")
    return load_module(name, src, cacheable=cacheable, runtime_globals=kernel.runtime_globals)


def _graph_source(fgraph, kernels, const_vars):
    names = {}
    args = []
    for k, v in enumerate(fgraph.inputs):
        names[v] = f"i{k}"
        args.append(f"i{k}")
    for k, c in enumerate(const_vars):
        names[c] = f"c{k}"
        args.append(f"c{k}")
    lines = [f"def graph({', '.join(args)}):"]
    counter = 0
    for node, kernel in kernels:
        outs = []
        for o in node.outputs:
            names[o] = f"v{counter}"
            outs.append(f"v{counter}")
            counter += 1
        call = f"{kernel.name}({', '.join(names[i] for i in node.inputs)})"
        target = outs[0] if len(outs) == 1 else ", ".join(outs)
        lines.append(f"    {target} = {call}  # {_short(node)}")
    rets = [names[o] for o in fgraph.outputs]
    lines.append(f"    return ({', '.join(rets)}{',' if rets else ''})")
    return "\n".join(lines) + "\n"


def _short(node):
    text = str(node)
    return text if len(text) < 90 else text[:87] + "..."


class NumbaLinker:
    """Builds ``thunk(*input_values) -> [output values]`` running one jitted function."""

    def make_thunk(self, fgraph):
        order = fgraph.toposort()
        with _lock:
            kernels = [(node, kernel_for(node)) for node in order]
            uncacheable = [k.uncacheable for _, k in kernels if k.uncacheable]
            cacheable = not uncacheable
            if uncacheable:
                warnings.warn(
                    "this graph is compiled in memory, not cached on disk, because "
                    f"{uncacheable[0]}", UncacheableGraphWarning, stacklevel=4)
            seen = {}
            for _, k in kernels:
                if k.name not in seen:
                    seen[k.name] = _kernel_module(k, cacheable and not k.uncacheable)
            const_vars = [v for v in _constants(fgraph, order)]
            body = _graph_source(fgraph, kernels, const_vars)
            imports = "\n".join(f"from symgraph_{name} import {name}" for name in seen)
            cache = "True" if cacheable else "False"
            source = (f"{_PREAMBLE}{imports}\n\n\n"
                      f"@numba.njit(cache={cache}, {JIT_OPTIONS})\n{body}")
            gname = f"symgraph_g_{digest(source)}"
            mod = load_module(gname, source, cacheable=cacheable)
        jitted = mod.graph
        consts = tuple(c.data for c in const_vars)
        reference = []

        def python_thunk():
            if not reference:
                from backends.python.linker import PythonLinker
                reference.append(PythonLinker().make_thunk(fgraph))
            return reference[0]

        if config.numba_tiered:
            thunk = _TieredThunk(jitted, consts, python_thunk, source)
        elif consts:
            def thunk(*values):
                try:
                    return jitted(*values, *consts)
                except Exception as exc:
                    _explain(exc, python_thunk(), values, source)
        else:
            def thunk(*values):
                try:
                    return jitted(*values)
                except Exception as exc:
                    _explain(exc, python_thunk(), values, source)

        thunk.source = source
        thunk.order = order
        thunk.jitted = jitted
        thunk.cacheable = cacheable
        return thunk


class _TieredThunk:
    """Answer on the interpreter while numba compiles in a background thread, then switch.

    The first call starts compiling for the argument types it sees; every call until
    the native code is ready runs on the Python interpreter. ``native_ready`` and
    ``native_since`` (seconds after the first call) tell when the switch happened.
    """

    def __init__(self, jitted, consts, python_thunk, source):
        self.jitted, self.consts, self.python_thunk = jitted, consts, python_thunk
        self.source = source
        self.native_ready = False
        self.failed = None
        self.thread = None
        self.native_since = None

    def _compile(self, values, t0):
        import numba
        try:
            self.jitted.compile(tuple(numba.typeof(v) for v in values))
            self.native_since = time.perf_counter() - t0
            self.native_ready = True
        except Exception as e:  # stay on the interpreter, but say why when asked
            self.failed = e

    def __call__(self, *values):
        if self.native_ready:
            try:
                return self.jitted(*values, *self.consts)
            except Exception as exc:
                _explain(exc, self.python_thunk(), values, self.source)
        if self.thread is None:
            self.thread = threading.Thread(
                target=self._compile, args=(values + self.consts, time.perf_counter()),
                daemon=True, name="symgraph-numba-compile")
            self.thread.start()
        return self.python_thunk()(*values)

    def wait(self, timeout=None):
        """Block until the native code is ready (for benchmarks and tests)."""
        if self.thread is not None:
            self.thread.join(timeout)
        return self.native_ready


def _constants(fgraph, order):
    seen = []
    ids = set()
    for node in order:
        for i in node.inputs:
            if isinstance(i, Constant) and id(i) not in ids:
                ids.add(id(i))
                seen.append(i)
    for o in fgraph.outputs:
        if isinstance(o, Constant) and id(o) not in ids:
            ids.add(id(o))
            seen.append(o)
    return seen


def _explain(exc, reference, values, source):
    """Re-run on the interpreter to name the failing node; else report a backend bug."""
    try:
        reference(*[np.asarray(v) for v in values])
    except Exception as precise:
        raise precise from None
    raise NumbaBackendError(
        f"the numba-compiled graph raised {type(exc).__name__}: {exc}, but the Python "
        "interpreter computes the same call without error. This is a bug of the numba "
        f"backend; run with mode='py' meanwhile. Generated source:\n{source}") from exc
