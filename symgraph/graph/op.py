"""Op: what an Apply node computes; equality and hashing come from ``__props__``."""

from __future__ import annotations

from symgraph.graph.basic import Apply
from symgraph.graph.utils import MethodNotDefined


class Op:
    """Base class of every operation.

    Subclasses define ``make_node(*inputs) -> Apply`` (checking types) and
    ``perform(node, inputs, output_storage)``, which stores each result into
    ``output_storage[i][0]`` (Theano's signature, so old custom Ops port as they are).
    ``__props__`` names the attributes that make two instances equal; merging,
    caching and pickling depend on it.
    """

    __props__: tuple = ()
    default_output: int | None = None
    #: {output index: [input indices]} when an output is a view of an input
    view_map: dict = {}
    #: {output index: [input indices]} when an output overwrites an input
    destroy_map: dict = {}

    # ------------------------------------------------------------ identity
    _compare_props = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Ops that declare __props__ (even empty) compare by them; others by identity.
        cls._compare_props = cls._compare_props or "__props__" in cls.__dict__

    def _props(self):
        return tuple(getattr(self, p) for p in self.__props__)

    def _props_dict(self):
        return {p: getattr(self, p) for p in self.__props__}

    def __eq__(self, other):
        if self is other:
            return True
        if not self._compare_props or type(self) is not type(other):
            return False
        return self._props() == other._props()

    def __hash__(self):
        if not self._compare_props:
            return id(self)
        return hash((type(self), self._props()))

    def __str__(self):
        if self.__props__:
            inner = ", ".join(f"{getattr(self, p)}" for p in self.__props__)
            return f"{type(self).__name__}{{{inner}}}"
        return type(self).__name__

    def __repr__(self):
        return str(self)

    # ------------------------------------------------------------ building
    def make_node(self, *inputs) -> Apply:
        raise MethodNotDefined(f"{type(self).__name__}.make_node")

    def __call__(self, *inputs, return_list=False, name=None, **kwargs):
        """Build the node and return its output(s)."""
        node = self.make_node(*inputs, **kwargs)
        outs = node.outputs
        if return_list:
            return list(outs)
        if self.default_output is not None:
            out = outs[self.default_output]
            if name is not None:
                out.name = name
            return out
        if len(outs) == 1:
            if name is not None:
                outs[0].name = name
            return outs[0]
        return list(outs)

    # ------------------------------------------------------------ running
    def perform(self, node, inputs, output_storage):
        raise MethodNotDefined(f"{type(self).__name__}.perform")

    # ------------------------------------------------------------ analysis
    def infer_shape(self, fgraph, node, input_shapes):
        """Symbolic output shapes (a list of tuples of scalar variables) from input shapes."""
        raise MethodNotDefined(f"{type(self).__name__}.infer_shape")

    def L_op(self, inputs, outputs, output_grads):
        """Reverse-mode gradient: one gradient per input. Defaults to the old ``grad``."""
        if type(self).grad is Op.grad:
            raise MethodNotDefined(f"{type(self).__name__} defines neither L_op nor grad")
        return self.grad(inputs, output_grads)

    def grad(self, inputs, output_grads):
        raise MethodNotDefined(f"{type(self).__name__} defines neither L_op nor grad")

    def R_op(self, inputs, eval_points):
        raise MethodNotDefined(f"{type(self).__name__}.R_op")

    def connection_pattern(self, node):
        """[input][output] booleans: does output depend on input differentiably?"""
        return [[True] * len(node.outputs) for _ in node.inputs]

    def do_constant_folding(self, fgraph, node) -> bool:
        return True

