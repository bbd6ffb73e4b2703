"""function(): compile a graph into a callable that also updates shared state.

The flow (DESIGN.md): apply givens to copies of the outputs and updates, collect
shared variables as implicit inputs, build a FunctionGraph, rewrite it, and hand
it to the mode's linker. ``Function.__call__`` checks the arguments, runs the
compiled graph, and only then writes every update, so each update reads the
values from the start of the call and a call that raises writes nothing. Each
Function also gets a call path written for it alone (callpath.py: positional
arguments, precomputed checks; ``type(f).call_source``); keyword arguments and
defaults take the general path below.
"""

from __future__ import annotations

import warnings

import numpy as np

from symgraph.compile.callpath import PYTHON_EXACT_DTYPES, scalar_flags, specialise
from symgraph.compile.mode import get_mode
from symgraph.compile.sharedvalue import SharedVariable
from symgraph.graph.basic import Constant, Variable, ancestors, clone_replace
from symgraph.graph.fg import FunctionGraph
from symgraph.graph.utils import SymgraphError


class UnusedInputError(SymgraphError, ValueError):
    """An explicit input that no output or update depends on."""


class In:
    """An input spec: ``In(variable, name=None, value=None, ...)``.

    ``value`` is the default used when the argument is not given; ``name`` lets the
    argument be passed by keyword (it defaults to the variable's name). ``borrow``
    lets the function keep the caller's array; ``mutable`` lets it overwrite it.
    """

    def __init__(self, variable, name=None, value=None, update=None, mutable=False,
                 strict=False, allow_downcast=None, autoname=True, implicit=False,
                 borrow=False, required=None):
        if not isinstance(variable, Variable):
            raise TypeError(f"In() needs a Variable, got {type(variable).__name__}")
        if update is not None:
            raise NotImplementedError("In(update=...) is not supported; use a shared variable "
                                      "and function(updates=...) instead")
        self.variable = variable
        self.name = name if name is not None else (variable.name if autoname else None)
        self.value = value
        self.has_default = value is not None
        self.mutable = mutable
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.borrow = borrow or mutable
        self.implicit = implicit

    def __repr__(self):
        return f"In({self.variable}, name={self.name!r})"


Param = In  # Theano's old name


class Out:
    """An output spec: ``Out(variable, borrow=True)`` returns the internal array uncopied."""

    def __init__(self, variable, borrow=False):
        if not isinstance(variable, Variable):
            from symgraph.tensor.basic import as_tensor_variable
            variable = as_tensor_variable(variable)
        self.variable = variable
        self.borrow = borrow

    def __repr__(self):
        return f"Out({self.variable}, borrow={self.borrow})"


def _as_out(o):
    if isinstance(o, Out):
        return o
    if not isinstance(o, Variable):
        from symgraph.tensor.basic import as_tensor_variable
        o = as_tensor_variable(o)
    return Out(o, borrow=False)


def _normalize_updates(updates):
    if updates is None:
        return []
    if isinstance(updates, dict):
        pairs = list(updates.items())
    else:
        pairs = list(updates)
    out = []
    seen = set()
    for pair in pairs:
        try:
            key, val = pair
        except (TypeError, ValueError):
            raise TypeError(f"updates must be (shared_variable, new_value) pairs; got {pair!r}") from None
        if not isinstance(key, SharedVariable):
            raise TypeError(
                f"the update key {key!r} is not a shared variable (it is "
                f"{type(key).__name__}); only variables made by shared() can be updated")
        if key in seen:
            raise ValueError(f"the shared variable {key} is updated twice in `updates`")
        seen.add(key)
        out.append((key, val))
    return out


def _update_value(key, val):
    """The update expression converted to the shared variable's type, or a clear error."""
    from symgraph.tensor.basic import as_tensor_variable
    from symgraph.tensor.math import cast
    from symgraph.tensor.type import TensorType

    if not isinstance(key.type, TensorType):
        # other types (random generators): the update must have the variable's own type
        if not isinstance(val, Variable):
            val = key.type.make_constant(key.type.filter(val))
        conv = key.type.convert_variable(val)
        if conv is None:
            raise TypeError(f"the update of {key} ({key.type}) must be a variable of that "
                            f"type, got {val} of type {val.type}")
        return conv

    if not isinstance(val, Variable):
        from symgraph.tensor.basic import constant
        val = constant(key.type.filter(val), dtype=key.type.dtype)
    val = as_tensor_variable(val)
    kt, vt = key.type, val.type
    if vt.ndim != kt.ndim:
        raise TypeError(
            f"the update of {key} ({kt}) has {vt.ndim} dimensions ({val} of type {vt}); "
            f"an update must keep the shared variable's number of dimensions")
    if vt.dtype != kt.dtype:
        if np.can_cast(vt.dtype, kt.dtype, "safe"):
            val = cast(val, kt.dtype)
        else:
            raise TypeError(
                f"the update of {key} ({kt.dtype}) computes {vt.dtype} ({val}); storing it would "
                f"lose precision. Cast the expression, e.g. updates=[({key}, "
                f"expr.astype('{kt.dtype}'))], or build it from {kt.dtype} values "
                f"(set config.floatX='{kt.dtype}' or use {kt.dtype} constants)")
    conv = kt.convert_variable(val)
    if conv is None:
        raise TypeError(f"the update of {key} ({kt}) has an incompatible static shape: "
                        f"{val} of type {val.type}")
    return conv


def _view_root(var):
    """The variable ``var`` may be a view of (following view_map)."""
    seen = 0
    while var.owner is not None and seen < 10_000:
        vm = getattr(var.owner.op, "view_map", {}) or {}
        src = vm.get(var.index)
        if not src:
            return var
        var = var.owner.inputs[src[0]]
        seen += 1
    return var


class Function:
    """A compiled function. Call it with positional or keyword arguments."""

    def __init__(self, fgraph, input_specs, n_explicit, shared_vars, output_specs, single,
                 update_keys, mode, name=None, trust_input=False, rewrite_report=None):
        self.maker = _Maker(fgraph, mode, self)
        self.fgraph = fgraph
        self.input_specs = input_specs
        self.n_explicit = n_explicit
        self.shared_vars = shared_vars
        self.output_specs = output_specs
        self.single = single
        self.update_keys = update_keys
        self.mode = mode
        self.name = name
        self.trust_input = trust_input
        self._rewrite_report = rewrite_report or {}
        self._link()

    # ------------------------------------------------------------------ linking
    def _link(self):
        fg = self.fgraph
        self._thunk = self.mode.make_linker().make_thunk(fg)
        self._containers = [s.container for s in self.shared_vars]
        self._input_types = [s.variable.type for s in self.input_specs]
        self._names = {}
        for k, spec in enumerate(self.input_specs):
            if spec.name is not None:
                if spec.name in self._names:
                    self._names[spec.name] = None  # ambiguous
                else:
                    self._names[spec.name] = k
        n_out = len(self.output_specs)
        outs = fg.outputs
        # which results could alias an input, a shared value, a constant or another result
        roots = [_view_root(v) for v in outs]
        inputs = set(fg.inputs)
        self._copy_out = []
        for i, root in enumerate(roots):
            aliased = root in inputs or isinstance(root, Constant) or \
                any(roots[j] is root for j in range(len(roots)) if j != i)
            borrow = self.output_specs[i].borrow if i < n_out else False
            if i >= n_out:
                # updates: never let two shared variables (or an input) share one array
                self._copy_out.append(aliased)
            else:
                self._copy_out.append(aliased and not borrow)
        self._n_out = n_out
        # precomputed for the fast call path
        self._copy_idx = [i for i, c in enumerate(self._copy_out) if c]
        self._storages = [c.storage for c in self._containers]
        self._update_storages = [k.container.storage for k in self.update_keys]
        self._fast = [(getattr(s.variable.type, "numpy_dtype", None), s.variable.type.ndim,
                       all(d is None for d in s.variable.type.shape))
                      if not s.strict and hasattr(s.variable.type, "shape") else (None, -1, False)
                      for s in self.input_specs]
        # 0-d inputs the thunk takes as scalars (see callpath.py)
        flags = scalar_flags(self._thunk, len(fg.inputs))
        self._scalar_in = [k for k, f in enumerate(flags) if f]
        # the call path written for this function (callpath.py); Function.__call__
        # below stays the general path, taken for keyword arguments and defaults
        cls = type(self)
        specialise(self, cls.__base__ if cls.__dict__.get("_specialised") else cls)

    # ------------------------------------------------------------------ calling
    def _bind(self, args, kwargs):
        n = self.n_explicit
        if len(args) > n:
            raise TypeError(f"{self._fname()} takes {n} argument(s), got {len(args)}")
        values = list(args) + [_MISSING] * (n - len(args))
        for key, val in kwargs.items():
            k = self._names.get(key, -1)
            if k == -1:
                raise TypeError(f"{self._fname()} got an unexpected keyword argument {key!r}; "
                                f"its inputs are {[s.name for s in self.input_specs]}")
            if k is None:
                raise TypeError(f"{self._fname()}: the name {key!r} belongs to several inputs")
            if values[k] is not _MISSING:
                raise TypeError(f"{self._fname()} got several values for argument {key!r}")
            values[k] = val
        for k, v in enumerate(values):
            if v is _MISSING:
                spec = self.input_specs[k]
                if not spec.has_default:
                    raise TypeError(f"{self._fname()}: missing argument {spec.name or k!r} "
                                    f"(input {k}, {spec.variable.type})")
                values[k] = spec.value
        return values

    def _filter_inputs(self, values):
        return [self._filter_inputs_at(k, v) for k, v in enumerate(values)]

    def _filter_inputs_at(self, k, v):
        spec = self.input_specs[k]
        t = spec.variable.type
        try:
            return t.filter(v, strict=spec.strict, allow_downcast=spec.allow_downcast)
        except (TypeError, ValueError) as e:
            label = f"{spec.name!r}" if spec.name else f"at index {k}"
            got = t.describe_value(v) if hasattr(t, "describe_value") else type(v).__name__
            raise TypeError(f"bad argument {label} to {self._fname()}: expected {t}, got "
                            f"{got}.\n  {e}") from None

    def __call__(self, *args, **kwargs):
        if kwargs or len(args) != self.n_explicit:
            values = self._filter_inputs(self._bind(args, kwargs))
        elif self.trust_input:
            values = list(args)
        else:
            values = list(args)
            fast = self._fast
            for k, v in enumerate(values):
                # the common case, an ndarray of the right dtype and rank, costs two checks
                dt, nd, free_shape = fast[k]
                if type(v) is not np.ndarray or v.dtype is not dt or v.ndim != nd \
                        or not free_shape:
                    values[k] = self._filter_one(k, v)
        for st in self._storages:
            values.append(st[0])
        for k in self._scalar_in:
            v = values[k]
            if type(v) is np.ndarray:
                values[k] = v.item() if v.dtype in PYTHON_EXACT_DTYPES else v[()]
        results = self._thunk(*values)
        if self._copy_idx:
            results = list(results)
            for i in self._copy_idx:
                r = results[i]
                results[i] = r.copy() if hasattr(r, "copy") else r
        n = self._n_out
        # every output is computed: now write the updates, all at once
        ups = self._update_storages
        for j in range(len(ups)):
            ups[j][0] = results[n + j]
        if self.single:
            return results[0]
        return list(results[:n])

    def _filter_one(self, k, v):
        return self._filter_inputs_at(k, v)

    @property
    def update_containers(self):
        return [k.container for k in self.update_keys]

    def _fname(self):
        return f"function {self.name!r}" if self.name else "the compiled function"

    # ------------------------------------------------------------------ introspection
    @property
    def inputs(self):
        return list(self.input_specs)

    @property
    def outputs(self):
        return list(self.output_specs)

    def rewrite_report(self):
        """Which rewrites fired while compiling, and how often."""
        return dict(self._rewrite_report)

    def get_shared(self):
        """The shared variables this function reads."""
        return list(self.shared_vars)

    def free(self):
        """Kept for Theano compatibility; storage is freed after every call."""

    def __repr__(self):
        return f"<symgraph Function {self.name or ''} ({self.n_explicit} inputs, " \
               f"{len(self.output_specs)} outputs, {len(self.update_keys)} updates)>"

    # ------------------------------------------------------------------ pickling
    def __getstate__(self):
        return {
            "fgraph": self.fgraph, "input_specs": self.input_specs,
            "n_explicit": self.n_explicit, "shared_vars": self.shared_vars,
            "output_specs": self.output_specs, "single": self.single,
            "update_keys": self.update_keys, "mode": self.mode, "name": self.name,
            "trust_input": self.trust_input, "rewrite_report": self._rewrite_report,
        }

    def __setstate__(self, state):
        self.__init__(**state)

    def __reduce__(self):
        # each Function has a class of its own (callpath.py): pickle it as its base
        cls = type(self)
        base = cls.__base__ if cls.__dict__.get("_specialised") else cls
        return (_restore_function, (base, self.__getstate__()))


def _restore_function(cls, state):
    fn = cls.__new__(cls)
    fn.__setstate__(state)
    return fn


class _Maker:
    """Theano's ``f.maker``: holds the compiled FunctionGraph and the mode."""

    def __init__(self, fgraph, mode, function):
        self.fgraph = fgraph
        self.mode = mode


class _Missing:
    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()


def _collect_default_updates(outputs, updates, no_default_updates):
    """Add each used shared variable's ``default_update`` unless told not to."""
    if no_default_updates is True:
        return updates
    excluded = set(no_default_updates or [])
    have = {k for k, _ in updates}
    pending = list(outputs) + [v for _, v in updates if isinstance(v, Variable)]
    seen = set()
    while pending:
        new = []
        for v in ancestors(pending):
            if isinstance(v, SharedVariable) and v not in seen:
                seen.add(v)
                du = v.default_update
                if du is not None and v not in have and v not in excluded:
                    updates.append((v, du))
                    have.add(v)
                    if isinstance(du, Variable):
                        new.append(du)
        pending = new
    return updates


def function(inputs=None, outputs=None, updates=None, givens=None, no_default_updates=False,
             on_unused_input="raise", allow_input_downcast=None, mode=None, name=None,
             rebuild_strict=True, trust_input=False, accept_inplace=False, profile=None):
    """Compile ``outputs`` as a function of ``inputs`` that also applies ``updates``.

    inputs: Variables or In specs (no shared variables or constants).
    outputs: a variable, a list of them, Out specs, or None/[] for a function
      that only updates.
    updates: (shared_variable, expression) pairs or a dict; every expression reads
      the values the shared variables had when the call began, and all are written
      after every output is computed (none if the call raises).
    givens: {variable: replacement} applied before compiling (types must match).
    """
    if on_unused_input not in ("raise", "warn", "ignore"):
        raise ValueError(f"on_unused_input must be 'raise', 'warn' or 'ignore', got {on_unused_input!r}")
    inputs = [] if inputs is None else inputs
    if isinstance(inputs, (Variable, In)):
        raise TypeError("function() inputs must be a list (e.g. [x]), got a single variable")
    specs = []
    for i, inp in enumerate(inputs):
        spec = inp if isinstance(inp, In) else (In(inp) if isinstance(inp, Variable) else None)
        if spec is None:
            raise TypeError(f"input {i} of function() must be a Variable or In, got {type(inp).__name__}")
        v = spec.variable
        if isinstance(v, SharedVariable):
            raise TypeError(
                f"the shared variable {v} cannot be an explicit input: functions read it "
                "implicitly. To feed a value instead, use a symbolic variable and `givens`")
        if isinstance(v, Constant):
            raise TypeError(f"the constant {v} cannot be an input of function()")
        if v.owner is not None:
            raise TypeError(
                f"input {i} ({v}) is computed by {v.owner.op}, not a free variable; inputs must "
                "be variables made by scalar(), matrix(), ...; to substitute a value for an "
                "intermediate result use `givens`")
        if spec.allow_downcast is None and allow_input_downcast is not None:
            spec.allow_downcast = allow_input_downcast
        specs.append(spec)
    seen_in = set()
    for spec in specs:
        if spec.variable in seen_in:
            raise ValueError(f"the variable {spec.variable} is given twice in the inputs")
        seen_in.add(spec.variable)

    # outputs
    single = False
    if outputs is None:
        out_specs = []
    elif isinstance(outputs, (list, tuple)):
        out_specs = [_as_out(o) for o in outputs]
    else:
        out_specs = [_as_out(outputs)]
        single = True
    out_vars = [o.variable for o in out_specs]

    # updates (explicit, then default ones)
    pairs = _normalize_updates(updates)
    pairs = _collect_default_updates(out_vars, pairs, no_default_updates)
    pairs = [(k, _update_value(k, v)) for k, v in pairs]
    upd_keys = [k for k, _ in pairs]
    upd_vals = [v for _, v in pairs]

    # givens
    all_outs = out_vars + upd_vals
    if givens:
        gpairs = list(givens.items()) if isinstance(givens, dict) else list(givens)
        replace = {}
        for pair in gpairs:
            old, new = pair
            if not isinstance(old, Variable):
                raise TypeError(f"givens keys must be Variables, got {type(old).__name__}")
            if not isinstance(new, Variable):
                if hasattr(old.type, "dtype"):
                    from symgraph.tensor.basic import as_tensor_variable
                    new = as_tensor_variable(np.asarray(new, dtype=old.type.dtype))
                else:
                    new = old.type.make_constant(old.type.filter(new))
            if not old.type.is_super(new.type):
                conv = old.type.convert_variable(new)
                if conv is None:
                    raise TypeError(
                        f"givens: {old} has type {old.type} but its replacement {new} has type "
                        f"{new.type}; the types must match (cast the replacement, or fix its "
                        "number of dimensions)")
                new = conv
            replace[old] = new
        if all_outs:
            all_outs = clone_replace(all_outs, replace, rebuild_strict=False)
        out_vars, upd_vals = all_outs[:len(out_vars)], all_outs[len(out_vars):]

    # shared variables are implicit inputs
    explicit = [s.variable for s in specs]
    exp_set = set(explicit)
    shared_vars = []
    for v in ancestors(out_vars + upd_vals, blockers=explicit):
        if isinstance(v, SharedVariable) and v not in shared_vars and v not in exp_set:
            shared_vars.append(v)
    for k in upd_keys:
        if k not in shared_vars:
            shared_vars.append(k)

    for v in ancestors(out_vars + upd_vals, blockers=explicit):
        if v.owner is None and v not in exp_set and not isinstance(v, (Constant, SharedVariable)):
            raise _missing_input_error(v, explicit, out_vars + upd_vals)

    fgraph = FunctionGraph(explicit + shared_vars, out_vars + upd_vals, clone=True)
    fgraph.update_mapping = {len(out_vars) + j: len(explicit) + shared_vars.index(k)
                             for j, k in enumerate(upd_keys)}

    # unused explicit inputs
    for spec, fv in zip(specs, fgraph.inputs[:len(specs)]):
        if not fgraph.clients.get(fv):
            msg = (f"the input {spec.variable} is not used by any output or update of the "
                   "function; pass on_unused_input='ignore' (or 'warn') to allow it")
            if on_unused_input == "raise":
                raise UnusedInputError(msg)
            if on_unused_input == "warn":
                warnings.warn(msg, stacklevel=2)

    m = get_mode(mode)
    report = m.rewrite(fgraph)
    return Function(fgraph, specs, len(specs), shared_vars, out_specs, single, upd_keys, m,
                    name=name, trust_input=trust_input, rewrite_report=report)


def _missing_input_error(v, explicit, outputs):
    from symgraph.graph.fg import MissingInputError

    users = []
    for node in (a.owner for a in ancestors(outputs, explicit) if a.owner is not None):
        if v in node.inputs:
            users.append(node)
    where = ""
    if users:
        from symgraph.graph.utils import format_trace
        where = f"\nIt is used by {users[0].op}, built at:\n{format_trace(users[0].tag.trace)}"
    name = v.name or "an unnamed variable"
    return MissingInputError(
        f"the outputs depend on {name} ({v.type}), which is not among the inputs "
        f"{[str(e) for e in explicit]}; add it to `inputs` or give its value through "
        f"`givens`{where}")

