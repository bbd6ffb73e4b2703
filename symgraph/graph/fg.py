"""FunctionGraph: the owner of a graph while it is rewritten and compiled.

It knows its inputs and outputs, every Apply node between them and, for each
variable, its clients (``(node, input_index)`` pairs, or ``("output", i)``).
Features are told of every change, which is how shape inference and histories
stay current while rewrites replace variables.
"""

from __future__ import annotations

from symgraph.graph.basic import Apply, Constant, Variable, clone_get_equiv, io_toposort


class InconsistencyError(Exception):
    """A change would leave the graph invalid (a type mismatch, a cycle)."""


class MissingInputError(ValueError):
    """The outputs depend on a variable that is neither an input nor a constant/shared value."""


OUTPUT = "output"


class FunctionGraph:
    def __init__(self, inputs=None, outputs=None, features=(), clone=True, update_mapping=None):
        from symgraph.graph.basic import graph_inputs

        outputs = list(outputs or [])
        if inputs is None:
            inputs = [v for v in graph_inputs(outputs) if not isinstance(v, Constant)]
        inputs = list(inputs)
        if clone:
            memo = clone_get_equiv(inputs, outputs, copy_inputs=True)
            inputs = [memo[v] for v in inputs]
            outputs = [memo.get(v, v) for v in outputs]
        self.inputs: list[Variable] = []
        self.outputs: list[Variable] = list(outputs)
        self.apply_nodes: set[Apply] = set()
        self.variables: set[Variable] = set()
        self.clients: dict[Variable, list] = {}
        self._features: list = []
        self.update_mapping = dict(update_mapping or {})
        for v in inputs:
            self.add_input(v)
        for i, out in enumerate(self.outputs):
            self._import_var(out, reason="init")
            self.clients[out].append((OUTPUT, i))
        for f in features:
            self.attach_feature(f)

    # ----------------------------------------------------------------- building
    def add_input(self, var, check=True):
        if check and var in self.variables and var in self.inputs:
            return
        self.inputs.append(var)
        self.variables.add(var)
        self.clients.setdefault(var, [])

    def add_output(self, var, reason=None):
        self.outputs.append(var)
        self._import_var(var, reason)
        self.clients[var].append((OUTPUT, len(self.outputs) - 1))

    def _import_var(self, var, reason=None):
        if var.owner is not None and var.owner not in self.apply_nodes:
            self._import_node(var.owner, reason)
        elif var.owner is None and var not in self.variables:
            if not isinstance(var, Constant) and not getattr(var.tag, "shared", False) \
                    and not _is_shared(var):
                raise MissingInputError(
                    f"the graph needs {var} (type {var.type}) but it is not among the inputs "
                    "of the function; pass it in `inputs` or replace it through `givens`")
        self.variables.add(var)
        self.clients.setdefault(var, [])

    def _new_nodes(self, node):
        """Nodes under ``node`` (itself included) not yet in the graph, inputs first.

        Stops at nodes already imported, so a replacement costs what it adds, not
        the size of the graph.
        """
        order, done = [], set()
        stack = [(node, False)]
        known = self.apply_nodes
        while stack:
            n, ready = stack.pop()
            if ready:
                order.append(n)
                continue
            if n in done or n in known:
                continue
            done.add(n)
            stack.append((n, True))
            for i in reversed(n.inputs):
                o = i.owner
                if o is not None and o not in done and o not in known:
                    stack.append((o, False))
        return order

    def _import_node(self, node, reason=None):
        for n in self._new_nodes(node):
            if n in self.apply_nodes:
                continue
            for inp in n.inputs:
                if inp.owner is None and inp not in self.variables:
                    self._import_var(inp, reason)
            self.apply_nodes.add(n)
            for out in n.outputs:
                self.variables.add(out)
                self.clients.setdefault(out, [])
            for i, inp in enumerate(n.inputs):
                self.clients.setdefault(inp, []).append((n, i))
                self.variables.add(inp)
            self._notify("on_import", n, reason)

    def _remove_client(self, var, client, reason=None):
        """Drop one client of ``var``; prune the producer when nothing else uses it."""
        todo = [(var, client)]
        while todo:
            v, c = todo.pop()
            cl = self.clients[v]
            cl.remove(c)
            if cl or v in self.inputs:
                continue
            node = v.owner
            if node is None:
                self.variables.discard(v)
                del self.clients[v]
                continue
            if any(self.clients.get(o) for o in node.outputs):
                continue
            if node not in self.apply_nodes:
                continue
            self.apply_nodes.discard(node)
            for o in node.outputs:
                self.variables.discard(o)
                self.clients.pop(o, None)
            self._notify("on_prune", node, reason)
            for i, inp in enumerate(node.inputs):
                todo.append((inp, (node, i)))

    # ----------------------------------------------------------------- changing
    def change_node_input(self, node, i, new_var, reason=None):
        """Make input ``i`` of ``node`` (or output i when node is "output") ``new_var``."""
        if node == OUTPUT:
            old = self.outputs[i]
            self._check_type(old, new_var, reason)
            if old is new_var:
                return
            self.outputs[i] = new_var
        else:
            old = node.inputs[i]
            self._check_type(old, new_var, reason)
            if old is new_var:
                return
            node.inputs[i] = new_var
        self._import_var(new_var, reason)
        self.clients[new_var].append((node, i))
        self._remove_client(old, (node, i), reason)
        self._notify("on_change_input", node, i, old, new_var, reason)

    @staticmethod
    def _check_type(old, new, reason):
        if not old.type.is_super(new.type):
            raise TypeError(
                f"rewrite {reason or '(unnamed)'} tried to replace {old} of type {old.type} "
                f"with {new} of type {new.type}; replacements must keep the type")

    def replace(self, var, new_var, reason=None, verbose=False, import_missing=False):
        """Make every client of ``var`` use ``new_var`` (types must match or convert)."""
        if var is new_var:
            return
        if not var.type.is_super(new_var.type):
            conv = var.type.convert_variable(new_var)
            if conv is None:
                self._check_type(var, new_var, reason)
            new_var = conv
        if var not in self.variables:
            return
        if new_var.owner is not None and self._would_cycle(var, new_var):
            raise InconsistencyError(f"replacing {var} by {new_var} would create a cycle")
        for node, i in list(self.clients[var]):
            self.change_node_input(node, i, new_var, reason)

    def _would_cycle(self, var, new_var) -> bool:
        """Whether new_var depends on var (so replacing var by it makes a loop).

        Walks only the nodes new_var brings in, then, if they touch the graph, the
        descendants of var: the cost is what the replacement adds, not the graph size.
        """
        boundary, seen, stack = set(), set(), [new_var]
        while stack:
            v = stack.pop()
            if v is var:
                return True
            if v.owner is None or v in seen:
                continue
            seen.add(v)
            if v.owner in self.apply_nodes:
                boundary.add(v)
                continue
            stack.extend(v.owner.inputs)
        if not boundary:
            return False
        desc, stack = set(), [var]
        while stack:
            v = stack.pop()
            for node, _ in self.clients.get(v, ()):
                if node == OUTPUT:
                    continue
                for o in node.outputs:
                    if o in boundary:
                        return True
                    if o not in desc:
                        desc.add(o)
                        stack.append(o)
        return False

    def replace_all(self, pairs, reason=None):
        for var, new in pairs:
            self.replace(var, new, reason=reason)

    # ----------------------------------------------------------------- features
    def attach_feature(self, feature):
        if feature in self._features:
            return
        attach = getattr(feature, "on_attach", None)
        if attach is not None:
            attach(self)
        self._features.append(feature)

    def remove_feature(self, feature):
        if feature in self._features:
            self._features.remove(feature)
            detach = getattr(feature, "on_detach", None)
            if detach is not None:
                detach(self)

    @property
    def features(self):
        return list(self._features)

    def _notify(self, name, *args):
        for f in self._features:
            fn = getattr(f, name, None)
            if fn is not None:
                fn(self, *args)

    # ----------------------------------------------------------------- queries
    def toposort(self) -> list[Apply]:
        return io_toposort(self.inputs, self.outputs)

    def orphans(self):
        """Ownerless variables the graph uses that are not inputs (constants, shared)."""
        inputs = set(self.inputs)
        return [v for v in self.variables if v.owner is None and v not in inputs]

    def clone(self, check_integrity=True):
        return self.clone_get_equiv()[0]

    def clone_get_equiv(self):
        memo = clone_get_equiv(self.inputs, self.outputs, copy_inputs=True)
        fg = FunctionGraph([memo[v] for v in self.inputs],
                           [memo.get(v, v) for v in self.outputs], clone=False,
                           update_mapping=self.update_mapping)
        for f in self._features:
            fg.attach_feature(f.clone() if hasattr(f, "clone") else f)
        return fg, memo

    def check_integrity(self):
        nodes = set(self.toposort())
        if nodes != self.apply_nodes:
            raise InconsistencyError("the set of nodes does not match the graph between "
                                     "inputs and outputs")
        for node in nodes:
            for i, inp in enumerate(node.inputs):
                if (node, i) not in self.clients.get(inp, []):
                    raise InconsistencyError(f"client list of {inp} misses {node}")

    def __str__(self):
        return f"FunctionGraph({', '.join(map(str, self.outputs))})"

    def __contains__(self, item):
        return item in self.variables or item in self.apply_nodes


def _is_shared(var):
    from symgraph.compile.sharedvalue import SharedVariable

    return isinstance(var, SharedVariable)
