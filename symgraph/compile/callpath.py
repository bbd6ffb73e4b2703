"""A call path written for one Function: the per-call work of ``Function.__call__``
as straight-line generated Python, specialised to its inputs and outputs.

For ``f = function([a, b], a * b + a)`` with float64 scalars it writes::

    def __call__(self, *args, **kwargs):
        if kwargs or len(args) != 2:
            return _general(self, *args, **kwargs)
        a0, a1 = args
        if type(a0) is not float:
            if type(a0) is _nd and a0.dtype is _dt0 and a0.ndim == 0:
                a0 = a0.item()
            else:
                a0 = self._filter_inputs_at(0, a0).item()
        ...
        r = _thunk(a0, a1)
        return r[0]

and installs it as the ``__call__`` of a subclass made for that Function alone, so
a call costs one Python frame besides the thunk. The common case (an ndarray of the
exact dtype and rank; a Python float for a float64 scalar) costs a few identity
checks; everything else goes through the type's full ``filter``, exactly as the
general path (``Function.__call__``) does, which also handles keyword arguments and
defaults. Updates are written only after the thunk has returned every result.

A thunk may ask for 0-d inputs as scalars (``thunk.scalar_inputs``, a flag per
graph input): instead of a 0-d array it then gets a scalar of exactly the input's
dtype: a Python number for float64, int64, bool and complex128 (numba types and
unboxes those fastest), a NumPy scalar for any other dtype (``to_scalar``). A
thunk may also say which outputs it always allocates afresh (``thunk.fresh_outputs``),
so they need no defensive copy.
"""

from __future__ import annotations

import numpy as np

# dtypes whose values are exactly Python numbers (so numba types a Python number as
# the dtype itself): a 0-d array of these crosses as ``x.item()``, which numba unboxes
# faster than a NumPy scalar; any other dtype crosses as ``x[()]``, a NumPy scalar
PYTHON_EXACT_DTYPES = frozenset(np.dtype(d) for d in ("float64", "int64", "bool", "complex128"))


def to_scalar(dt):
    """The suffix that turns a 0-d array of dtype ``dt`` into the scalar a thunk takes."""
    return ".item()" if np.dtype(dt) in PYTHON_EXACT_DTYPES else "[()]"


def scalar_flags(thunk, n_inputs):
    flags = tuple(getattr(thunk, "scalar_inputs", None) or ())
    return flags if len(flags) == n_inputs else (False,) * n_inputs


def call_source(fn, general):
    """The source of the specialised ``__call__`` of Function ``fn``, and its globals;
    ``general`` is the general ``__call__`` that keyword calls go to."""
    n = fn.n_explicit
    specs = fn.input_specs
    scalar = scalar_flags(fn._thunk, n + len(fn._storages))
    g = {"_nd": np.ndarray, "_thunk": fn._thunk, "_general": general}
    lines = ["def __call__(self, *args, **kwargs):",
             f"    if kwargs or len(args) != {n}:",
             "        return _general(self, *args, **kwargs)"]
    names = [f"a{k}" for k in range(n)]
    if n:
        lines.append(f"    {', '.join(names)}{',' if n == 1 else ''} = args")
    for k, spec in enumerate(specs):
        a = names[k]
        t = spec.variable.type
        filt = f"self._filter_inputs_at({k}, {a})"
        if fn.trust_input:
            if scalar[k]:
                sfx = to_scalar(t.dtype)
                lines += [f"    if type({a}) is _nd:", f"        {a} = {a}{sfx}"]
            continue
        dt = getattr(t, "numpy_dtype", None)
        shape = getattr(t, "shape", None)
        if dt is None or shape is None or spec.strict:
            lines.append(f"    {a} = {filt}{to_scalar(t.dtype) if scalar[k] else ''}")
            continue
        g[f"_dt{k}"] = dt
        exact = [f"type({a}) is _nd", f"{a}.dtype is _dt{k}", f"{a}.ndim == {len(shape)}"]
        exact += [f"{a}.shape[{d}] == {s}" for d, s in enumerate(shape) if s is not None]
        if scalar[k]:
            pad = "    "
            # Python numbers that are exactly this dtype's values pass as they are
            if dt == np.float64:
                lines.append(f"    if type({a}) is not float:")
                pad = "        "
            elif dt == np.complex128:
                lines.append(f"    if type({a}) is not complex:")
                pad = "        "
            elif dt == np.bool_:
                lines.append(f"    if type({a}) is not bool:")
                pad = "        "
            elif dt == np.int64:
                lines.append(f"    if type({a}) is not int or not "
                             f"-0x8000000000000000 <= {a} <= 0x7fffffffffffffff:")
                pad = "        "
            sfx = to_scalar(dt)
            lines += [f"{pad}if {' and '.join(exact)}:", f"{pad}    {a} = {a}{sfx}",
                      f"{pad}else:", f"{pad}    {a} = {filt}{sfx}"]
        else:
            lines += [f"    if not ({' and '.join(exact)}):", f"        {a} = {filt}"]
    call_args = list(names)
    for j, st in enumerate(fn._storages):
        g[f"_st{j}"] = st
        sv = fn.fgraph.inputs[n + j]
        call_args.append(f"_st{j}[0]{to_scalar(sv.type.dtype)}" if scalar[n + j]
                         else f"_st{j}[0]")
    lines.append(f"    r = _thunk({', '.join(call_args)})")
    fresh = tuple(getattr(fn._thunk, "fresh_outputs", None) or ())
    outs = []
    for i in range(len(fn._copy_out)):
        copy = fn._copy_out[i] and not (i < len(fresh) and fresh[i])
        outs.append(f"_copy(r[{i}])" if copy else f"r[{i}]")
    g["_copy"] = _copy
    n_out = fn._n_out
    # every output is computed: now write the updates, all at once
    for j, st in enumerate(fn._update_storages):
        g[f"_up{j}"] = st
        lines.append(f"    _up{j}[0] = {outs[n_out + j]}")
    if fn.single:
        lines.append(f"    return {outs[0]}")
    else:
        lines.append(f"    return [{', '.join(outs[:n_out])}]")
    return "\n".join(lines) + "\n", g


def _copy(r):
    return r.copy() if hasattr(r, "copy") else r


def specialise(fn, base):
    """Give Function ``fn`` a class of its own, a subclass of ``base`` whose
    ``__call__`` is written for it (``base.__call__`` stays the general path)."""
    src, g = call_source(fn, base.__call__)
    exec(compile(src, f"<symgraph call path of {fn!r}>", "exec"), g)
    cls = type(base.__name__, (base,), {"__call__": g["__call__"], "_specialised": True,
                                         "__module__": base.__module__,
                                         "__qualname__": base.__qualname__,
                                         "__slots__": ()})
    cls.call_source = src
    fn.__class__ = cls
    return fn
