"""Small pieces of scan: ``until``, parsing what the step function returns, the
structural signature of an inner graph, and the helpers that build one.
"""

from __future__ import annotations

from collections import OrderedDict

from symgraph.graph.basic import Constant, Variable, io_toposort


class until:
    """Wraps the stopping condition a step function returns: ``return h, until(h > 10)``.

    The loop stops after the first step whose condition is true; the outputs then
    hold the steps actually run (their length is known only at run time).
    """

    def __init__(self, condition):
        from symgraph.tensor.basic import as_tensor_variable

        cond = as_tensor_variable(condition)
        if cond.ndim != 0:
            raise TypeError(f"until() needs a scalar (0-d) condition, got {cond} of type "
                            f"{cond.type}; reduce it first, e.g. with .all() or .any()")
        if cond.type.dtype_kind not in "biuf":
            raise TypeError(f"until() needs a boolean or numeric condition, got {cond} of "
                            f"dtype {cond.dtype}")
        self.condition = cond

    def __repr__(self):
        return f"until({self.condition})"


def _is_outputs(elem):
    if isinstance(elem, Variable):
        return True
    return isinstance(elem, (list, tuple)) and all(isinstance(x, Variable) for x in elem)


def _is_updates(elem):
    if isinstance(elem, dict):
        return True
    return isinstance(elem, (list, tuple)) and len(elem) > 0 and all(
        isinstance(x, (list, tuple)) and len(x) == 2 and not isinstance(x[0], (list, tuple))
        for x in elem)


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def parse_step_return(ret):
    """Split what ``fn`` returned into (outputs, update pairs, condition or None).

    Accepted (Theano's forms): outputs; updates; (outputs, updates);
    (updates, outputs); (outputs, until); (updates, until); (outputs, updates,
    until); (updates, outputs, until). Outputs are a variable or a list of them;
    updates a dict or a list of (shared, value) pairs.
    """
    if ret is None:
        raise ValueError("scan: the step function returned None; it must return its outputs "
                         "(and optionally updates and an until() condition)")
    if isinstance(ret, until):
        return [], [], ret.condition
    if _is_outputs(ret):
        return _as_list(ret), [], None
    if _is_updates(ret) and not (isinstance(ret, (list, tuple)) and len(ret) == 2
                                 and isinstance(ret[1], until)):
        return [], _update_pairs(ret), None
    if not isinstance(ret, (list, tuple)):
        return _as_list(_as_output(ret)), [], None
    parts = list(ret)
    cond = None
    if parts and isinstance(parts[-1], until):
        cond = parts.pop().condition
    if any(isinstance(p, until) for p in parts):
        raise ValueError("scan: until() must come last in what the step function returns, "
                         f"got {ret!r}")
    outputs, updates = [], []
    if len(parts) == 1:
        if _is_updates(parts[0]) and not _is_outputs(parts[0]):
            updates = _update_pairs(parts[0])
        else:
            outputs = _outputs_list(parts[0])
    elif len(parts) == 2:
        a, b = parts
        if _is_updates(b) and not _is_outputs(b):
            outputs, updates = _outputs_list(a), _update_pairs(b)
        elif _is_updates(a) and not _is_outputs(a):
            outputs, updates = _outputs_list(b), _update_pairs(a)
        elif cond is None and all(_is_scalarish(p) for p in parts):
            outputs = [_as_output(p) for p in parts]
        else:
            raise ValueError(_parse_error(ret))
    elif len(parts) == 0:
        pass
    else:
        if cond is None and all(_is_scalarish(p) for p in parts):
            outputs = [_as_output(p) for p in parts]
        else:
            raise ValueError(_parse_error(ret))
    return outputs, updates, cond


def _is_scalarish(p):
    import numbers

    import numpy as np
    return isinstance(p, (Variable, numbers.Number, np.ndarray, np.generic))


def _as_output(x):
    from symgraph.tensor.basic import as_tensor_variable
    if isinstance(x, Variable):
        return x
    try:
        return as_tensor_variable(x)
    except TypeError:
        raise ValueError(_parse_error(x)) from None


def _outputs_list(x):
    return [_as_output(o) for o in _as_list(x)]


def _update_pairs(u):
    items = list(u.items()) if isinstance(u, dict) else list(u)
    out = []
    for pair in items:
        try:
            k, v = pair
        except (TypeError, ValueError):
            raise ValueError(f"scan: updates must be (shared_variable, new_value) pairs, got "
                             f"{pair!r}") from None
        out.append((k, v))
    return out


def _parse_error(ret):
    return (f"scan: cannot understand what the step function returned: {ret!r}. It must "
            "return its outputs (a variable or a list), optionally followed by the updates "
            "(a dict or (shared, value) pairs) and an until(condition), in that order")


# --------------------------------------------------------------------------- graphs

def var_serial(v) -> int:
    """The creation number of a variable (every Variable draws one from a counter)."""
    name = v.auto_name
    k = len(name)
    while k > 0 and name[k - 1].isdigit():
        k -= 1
    return int(name[k:])


def current_serial() -> int:
    """The number the next variable created will get, give or take one."""
    return var_serial(Variable(None)) + 1


def constant_key(c):
    """A hashable stand-in for a constant in a graph signature."""
    try:
        key = c.signature()
        hash(key)
        return key
    except TypeError:
        return ("id", id(c))


def graph_signature(inputs, outputs):
    """A hashable description of the graph between ``inputs`` and ``outputs`` that is
    equal for two graphs exactly when they compute the same thing the same way: the
    input types, each node's op and where its inputs come from, and the outputs.

    Raises ValueError naming the variable when the graph is not closed (depends on
    an ownerless variable that is neither an input nor a constant).
    """
    ids = {}
    for k, v in enumerate(inputs):
        ids.setdefault(v, ("i", k))
    items = [tuple(v.type for v in inputs)]

    def ref(v):
        r = ids.get(v)
        if r is not None:
            return r
        if isinstance(v, Constant):
            return ("c", v.type, constant_key(v))
        raise ValueError(f"the inner graph of scan depends on {v} ({v.type}), which is "
                         "neither one of its inputs nor a constant")

    for j, node in enumerate(io_toposort(inputs, outputs)):
        items.append((node.op, tuple(ref(i) for i in node.inputs),
                      tuple(o.type for o in node.outputs)))
        for k, o in enumerate(node.outputs):
            ids[o] = ("n", j, k)
    items.append(tuple(ref(o) for o in outputs))
    return tuple(items)


def ordered_unique(seq):
    seen, out = set(), []
    for v in seq:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


class OrderedUpdates(OrderedDict):
    """The ``updates`` scan returns: {shared variable: new value}, in a fixed order."""


__all__ = ["until", "parse_step_return", "graph_signature", "OrderedUpdates"]
