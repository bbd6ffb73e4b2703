"""The backend-free IR: Variable, Constant, Apply, and graph traversal and cloning."""

from __future__ import annotations

from collections import deque
from itertools import count
from typing import Iterable, Sequence

from symgraph import config
from symgraph.graph.utils import Scratchpad, user_trace

_ids = count()


class Variable:
    """A symbolic value: the output ``index`` of ``owner`` (an Apply), or a graph input.

    Identity matters: two Variables are the same value only if they are the same object.
    """

    __slots__ = ("type", "owner", "index", "name", "tag", "auto_name", "__weakref__")

    def __init__(self, type, owner=None, index=None, name=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = Scratchpad()
        self.auto_name = f"{type.__class__.__name__[:1].lower()}{next(_ids)}"

    def __getstate__(self):
        return {k: getattr(self, k) for k in _all_slots(type(self)) if hasattr(self, k)}

    def __setstate__(self, state):
        for k, v in state.items():
            object.__setattr__(self, k, v)

    def __str__(self):
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = self.owner.op
            if len(self.owner.outputs) == 1:
                return f"{op}.out"
            return f"{op}.{self.index}"
        return f"<{self.type}>"

    def __repr__(self):
        return str(self)

    def clone(self, name=None):
        """A fresh ownerless Variable of the same type (and name, tag)."""
        cp = self.__class__(self.type, None, None, self.name if name is None else name)
        cp.tag = _copy_tag(self.tag)
        return cp

    def get_parents(self):
        return [self.owner] if self.owner is not None else []

    def eval(self, inputs_to_values=None, **kwargs):
        """Compile (and cache) a function of this variable's free inputs and run it."""
        from symgraph.compile.function import function

        inputs_to_values = dict(inputs_to_values or {})
        keys = tuple(inputs_to_values)
        cache = self.tag.__dict__.setdefault("_eval_cache", {})
        fn = cache.get(keys)
        if fn is None:
            fn = function(list(keys), self, on_unused_input="ignore", **kwargs)
            cache[keys] = fn
        return fn(*[inputs_to_values[k] for k in keys])


def _all_slots(cls):
    names = []
    for c in cls.__mro__:
        for k in c.__dict__.get("__slots__", ()):
            if k != "__weakref__" and k not in names:
                names.append(k)
    return names


def _copy_tag(tag):
    new = Scratchpad()
    new.__dict__.update({k: v for k, v in tag.__dict__.items() if not k.startswith("_")})
    return new


class Constant(Variable):
    """A Variable with a fixed value, ``data``, filtered through its type."""

    __slots__ = ("data",)

    def __init__(self, type, data, name=None):
        super().__init__(type, None, None, name)
        self.data = type.filter(data)

    def signature(self):
        """What merging compares: the type and the value."""
        return (self.type, self.type.signature_of(self.data))

    def equals(self, other):
        return isinstance(other, Constant) and self.type == other.type and \
            self.type.values_eq(self.data, other.data)

    def clone(self, name=None):
        cp = self.__class__(self.type, self.data, self.name if name is None else name)
        cp.tag = _copy_tag(self.tag)
        return cp

    def __str__(self):
        if self.name is not None:
            return self.name
        return self.type.constant_str(self.data)

    @property
    def value(self):
        return self.data


class Apply:
    """One application of ``op`` to ``inputs``, producing ``outputs``.

    ``tag.trace`` keeps the user's source line(s) that built the node, so errors
    can point at the user's code rather than ours.
    """

    __slots__ = ("op", "inputs", "outputs", "tag", "__weakref__")

    def __init__(self, op, inputs: Sequence[Variable], outputs: Sequence[Variable]):
        self.op = op
        self.inputs = list(inputs)
        self.tag = Scratchpad()
        self.tag.trace = user_trace(config.trace_depth)
        for i, v in enumerate(self.inputs):
            if not isinstance(v, Variable):
                raise TypeError(f"input {i} of {op} must be a Variable, got {type(v).__name__}")
        self.outputs = list(outputs)
        for i, out in enumerate(self.outputs):
            if not isinstance(out, Variable):
                raise TypeError(f"output {i} of {op} must be a Variable")
            if out.owner is not None and out.owner is not self:
                raise ValueError(f"output {i} of {op} already belongs to another Apply")
            out.owner = self
            out.index = i

    def __getstate__(self):
        return {k: getattr(self, k) for k in ("op", "inputs", "outputs", "tag")}

    def __setstate__(self, state):
        for k, v in state.items():
            object.__setattr__(self, k, v)

    @property
    def out(self):
        """The single (or default) output."""
        do = getattr(self.op, "default_output", None)
        if do is not None:
            return self.outputs[do]
        if len(self.outputs) != 1:
            raise ValueError(f"{self.op} has {len(self.outputs)} outputs; pick one from .outputs")
        return self.outputs[0]

    default_output = out

    @property
    def nin(self):
        return len(self.inputs)

    @property
    def nout(self):
        return len(self.outputs)

    def get_parents(self):
        return list(self.inputs)

    def clone(self):
        """A new Apply with the same inputs and fresh outputs."""
        cp = Apply.__new__(Apply)
        cp.op = self.op
        cp.inputs = list(self.inputs)
        cp.tag = _copy_tag(self.tag)
        cp.tag.trace = self.tag.trace
        cp.outputs = []
        for i, o in enumerate(self.outputs):
            no = o.clone()
            no.owner, no.index = cp, i
            cp.outputs.append(no)
        return cp

    def clone_with_new_inputs(self, inputs, strict=True):
        """Rebuild this node on ``inputs``; with strict, types must match exactly."""
        if len(inputs) != len(self.inputs):
            raise ValueError(f"{self.op} takes {len(self.inputs)} inputs, got {len(inputs)}")
        if strict and all(a.type == b.type for a, b in zip(inputs, self.inputs)):
            cp = self.clone()
            cp.inputs = list(inputs)
            return cp
        node = self.op.make_node(*inputs)
        node.tag.trace = self.tag.trace
        return node

    def __str__(self):
        return f"{self.op}({', '.join(map(str, self.inputs))})"

    __repr__ = __str__


# --------------------------------------------------------------------------- traversal

def walk(starts: Iterable, expand, bfs=False):
    """Yield nodes reachable from ``starts`` through ``expand`` once each."""
    todo = deque(starts)
    seen = set()
    pop = todo.popleft if bfs else todo.pop
    while todo:
        n = pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        yield n
        nxt = expand(n)
        if nxt:
            todo.extend(nxt)


def ancestors(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """All variables that ``outputs`` depend on (stopping at ``blockers``)."""
    blocked = {id(b) for b in blockers}

    def expand(v):
        if id(v) in blocked or v.owner is None:
            return None
        return reversed(v.owner.inputs)

    return list(walk(reversed(list(outputs)), expand))


def graph_inputs(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """The ownerless variables (inputs, constants, shared) under ``outputs``."""
    blocked = {id(b) for b in blockers}
    return [v for v in ancestors(outputs, blockers) if v.owner is None or id(v) in blocked]


def io_toposort(inputs: Iterable[Variable], outputs: Iterable[Variable]) -> list[Apply]:
    """The Apply nodes between ``inputs`` and ``outputs``, each after its inputs' owners."""
    stop = {id(v) for v in inputs}
    order: list[Apply] = []
    done: set[int] = set()
    for out in outputs:
        stack = [(out, False)]
        while stack:
            v, ready = stack.pop()
            node = v.owner
            if node is None or id(v) in stop:
                continue
            if ready:
                if id(node) not in done:
                    done.add(id(node))
                    order.append(node)
                continue
            if id(node) in done:
                continue
            stack.append((v, True))
            for inp in reversed(node.inputs):
                if inp.owner is not None and id(inp.owner) not in done and id(inp) not in stop:
                    stack.append((inp, False))
    return order


def applys_between(inputs, outputs):
    return io_toposort(inputs, outputs)


def clone_get_equiv(inputs, outputs, copy_inputs=True, memo=None):
    """Clone the graph between inputs and outputs; returns {old: new} for vars and nodes.

    Variables with no owner that are not in ``inputs`` (constants, shared variables,
    free variables) are kept as they are.
    """
    memo = {} if memo is None else memo
    for v in inputs:
        if v not in memo:
            memo[v] = v.clone() if copy_inputs else v
    for node in io_toposort(inputs, outputs):
        new_inputs = [memo.get(i, i) for i in node.inputs]
        cp = node.clone()
        cp.inputs = new_inputs
        memo[node] = cp
        for o, no in zip(node.outputs, cp.outputs):
            memo[o] = no
    return memo


def clone(inputs, outputs, copy_inputs=True):
    memo = clone_get_equiv(inputs, outputs, copy_inputs)
    return [memo[v] for v in inputs], [memo.get(v, v) for v in outputs]


def clone_replace(outputs, replace=None, rebuild_strict=True):
    """Copies of ``outputs`` with the variables in ``replace`` ({old: new}) substituted.

    Types of each pair must match (or be convertible) when ``rebuild_strict``.
    A single variable in gives a single variable out.
    """
    single = isinstance(outputs, Variable)
    outs = [outputs] if single else list(outputs)
    replace = dict(replace or {})
    for old, new in list(replace.items()):
        if not isinstance(old, Variable):
            raise TypeError(f"replacement key must be a Variable, got {type(old).__name__}")
        if not isinstance(new, Variable):
            from symgraph.tensor.basic import as_tensor_variable
            new = replace[old] = as_tensor_variable(new)
        if rebuild_strict and new.type != old.type:
            conv = old.type.convert_variable(new)
            if conv is None:
                raise TypeError(
                    f"cannot replace {old} of type {old.type} by {new} of type {new.type}: "
                    "the types differ")
            replace[old] = conv
    memo: dict = {}
    done_nodes: dict = {}

    def rebuild(v):
        if v in replace:
            return replace[v]
        if v in memo:
            return memo[v]
        if v.owner is None:
            return v
        return None

    for node in io_toposort(list(replace), outs):
        new_inputs = []
        changed = False
        for i in node.inputs:
            r = rebuild(i)
            if r is None:
                r = i
            new_inputs.append(r)
            changed |= r is not i
        if changed:
            new_node = node.clone_with_new_inputs(new_inputs, strict=rebuild_strict)
            done_nodes[node] = new_node
            for o, no in zip(node.outputs, new_node.outputs):
                memo[o] = no
    result = [replace.get(v, memo.get(v, v)) for v in outs]
    return result[0] if single else result


def is_in_ancestors(node: Apply, candidate: Apply) -> bool:
    return any(v.owner is candidate for v in ancestors(node.inputs))

