"""Interpreter steps that give the native code's values to the bit (tiered mode).

With ``config.numba_tiered`` the first calls of a graph run on the interpreter while
numba compiles it, and from then on the native code answers. Switching must not
change a single bit: a training loop would otherwise take a different path
depending on how fast the machine compiled. NumPy and the numba kernels do not
compute everything alike (NumPy's SIMD exp/tanh/sin against vecmath.py, its choice
of BLAS call for a matrix-vector product, the order of a softmax's sums), so the
tier runs each node as follows:

- a node whose interpreter result is the same to the bit by construction runs its
  ``perform``: indexing, shapes, joins, comparisons, and elementwise IEEE arithmetic
  (+ - * / sqrt, min/max, casts... each rounded once in the same dtype on both sides:
  scalar.py writes the kernels so);
- a node whose numba kernel calls ``perform`` anyway (object mode) runs it too;
- a Scan runs its loop on the interpreter, with its body's nodes chosen by these
  rules;
- every other node runs its own numba kernel, compiled alone (a "twin"): the same
  source that the graph function pastes, so the same arithmetic. Twins are keyed and
  cached on disk like kernels, shared by equal nodes of every graph, and compiled
  for arrays of any layout (one compile per dtype and rank).

``tier_thunk(fgraph)`` builds the interpreter thunk from these steps, or returns
None when some node cannot have a twin (its kernel holds a Python object): such a
graph is not tiered, it waits for the native code.
"""

from __future__ import annotations

import numpy as np

from symgraph.graph.basic import Constant

# Scalar ops whose numba expression is one correctly rounded IEEE operation (or none)
# for real dtypes, as NumPy's per-op loop computes it.
_EXACT_REAL = frozenset((
    "add", "sub", "mul", "true_div", "neg", "abs", "sign", "sqr", "reciprocal",
    "identity", "sqrt", "floor", "ceil", "trunc",
    "round_half_to_even", "lt", "gt", "le", "ge", "eq", "neq", "isnan", "isinf",
    "logical_and", "logical_or", "logical_xor", "logical_not", "switch", "second",
    "bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift", "right_shift",
))
# integer-only ones (their float versions involve fmod/floor sequences)
_EXACT_INT = frozenset(("int_div", "mod", "minimum", "maximum"))
# exact for complex values too (no rounding, or one rounding per part)
_EXACT_COMPLEX = frozenset(("add", "sub", "neg", "identity", "real", "imag", "conj",
                            "eq", "neq", "second"))


def _scalar_exact(sop, in_dtypes, out_dtypes) -> bool:
    from symgraph.scalar.basic import Cast
    from symgraph.scalar.composite import Composite

    if isinstance(sop, Composite):
        return all(_scalar_exact(n.op, [i.type.dtype for i in n.inputs],
                                 [o.type.dtype for o in n.outputs]) for n in sop.nodes)
    if isinstance(sop, Cast):
        return True
    dtypes = list(in_dtypes) + list(out_dtypes)
    name = sop.name
    if any(d.startswith("complex") for d in dtypes):
        return name in _EXACT_COMPLEX
    if name in _EXACT_INT:
        return not any(d.startswith("float") for d in dtypes)
    return name in _EXACT_REAL


def _exact_on_interpreter(node) -> bool:
    """Whether ``node.op.perform`` gives the native kernel's values to the bit."""
    from importlib import import_module  # symgraph.tensor.shape is also a function

    creation, elemwise, join, reduction, shape, sort, subtensor = (
        import_module(f"symgraph.tensor.{m}") for m in
        ("creation", "elemwise", "join", "reduction", "shape", "sort", "subtensor"))
    from symgraph.gradient import GradientModifier

    op = node.op
    if isinstance(op, elemwise.Elemwise):
        return _scalar_exact(op.scalar_op, [i.type.dtype for i in node.inputs],
                             [o.type.dtype for o in node.outputs])
    if isinstance(op, reduction.CAReduce):
        # all/any/bitwise folds do not round, integer sums wrap alike; max/min do
        # not round either, but NumPy may give max(0.0, -0.0) either sign
        return op.scalar_op.name in ("and", "or", "xor",
                                     "logical_and", "logical_or", "bitwise_and",
                                     "bitwise_or", "bitwise_xor") or \
            all(not o.type.dtype.startswith(("float", "complex")) for o in node.outputs)
    if isinstance(op, reduction._ArgReduce):
        return True
    if isinstance(op, creation.ARange):
        return not node.outputs[0].type.dtype.startswith(("float", "complex"))
    exact = (elemwise.DimShuffle, shape.Shape, shape.Shape_i, shape.SpecifyShape,
             shape.Reshape, shape.Unbroadcast, creation.Alloc, creation.AllocDiag,
             creation.ExtractDiag, join.Join, join.Split, join.Tile, join.Repeat,
             subtensor.Subtensor, subtensor.AdvancedSubtensor, subtensor.IncSubtensor,
             subtensor.AdvancedIncSubtensor, sort.Nonzero,
             GradientModifier)
    # (not sorts: NumPy's quicksort may order ties otherwise)
    return isinstance(op, exact)


def _makes_new_arrays(node) -> bool:
    """Whether ``node`` makes new arrays (no ``view_map``): its numba kernel returns
    them C-ordered, while NumPy may order them otherwise (an elementwise result of
    transposed inputs, some advanced indexing), and a later kernel that calls BLAS
    or sums may take another path for another layout. Views keep NumPy's strides on
    both sides."""
    return not getattr(node.op, "view_map", None)


def _c_order(perform):
    def run(node, inputs, output_storage):
        perform(node, inputs, output_storage)
        for store in output_storage:
            v = store[0]
            if isinstance(v, np.ndarray) and not v.flags.c_contiguous:
                store[0] = np.ascontiguousarray(v)
    return run


def _kernel(node):
    """``node``'s numba kernel, or None when it runs ``perform`` in object mode."""
    from backends.numba.dispatch import builder_for
    from backends.numba.dispatch.objmode import NotSupported

    builder = builder_for(node.op)
    try:
        return builder(node.op, node) if builder is not None else None
    except NotSupported:
        return None


def _twin(node):
    """A perform(node, inputs, storage) running ``node``'s numba kernel compiled alone;
    "perform" when the kernel runs ``perform`` in object mode anyway; None when the
    kernel holds a Python object (it cannot be cached, nor shared)."""
    from backends.numba.linker import compile_graph
    from symgraph.graph.fg import FunctionGraph

    kernel = _kernel(node)
    if kernel is None:
        return "perform"
    if kernel.runtime_globals or kernel.uncacheable:
        return None
    var, seen = [], set()   # the first position of each distinct variable input
    for k, i in enumerate(node.inputs):
        if not isinstance(i, Constant) and i not in seen:
            seen.add(i)
            var.append(k)
    # the one-node graph: its source depends on the kernel only, so equal nodes of
    # every graph share one module (and its disk cache); constants come as arguments,
    # 0-d values cross as scalars, as in the graph function
    code = compile_graph(FunctionGraph([node.inputs[k] for k in var], list(node.outputs),
                                       clone=True), scalar_io=True)
    jitted, consts = code.jitted, code.consts
    zero_in = [k for k, s in zip(var, code.scalar_inputs) if s]
    zero_out = [(j, o.type.numpy_dtype) for j, (o, s)
                in enumerate(zip(node.outputs, code.scalar_outputs)) if s]

    def perform(node, inputs, output_storage):
        args = list(inputs)
        for k in zero_in:
            args[k] = args[k][()]
        res = jitted(*[args[k] for k in var], *consts)
        for store, r in zip(output_storage, res):
            store[0] = r
        for j, dt in zero_out:
            output_storage[j][0] = np.asarray(output_storage[j][0], dtype=dt)
    return perform



def step_for(node, compile_twins=True):
    """The perform that runs ``node`` in the tier, or None if none is exact (or if
    the only exact one is a kernel compiled alone, unless ``compile_twins``)."""
    from symgraph.scan.op import Scan

    if isinstance(node.op, Scan):
        inner = _scan_body(node.op, compile_twins)
        if inner is None:
            return None

        def perform(node, inputs, output_storage):
            node.op.perform(node, inputs, output_storage, fn=inner)
        return perform
    if _exact_on_interpreter(node):
        if _makes_new_arrays(node):
            return _c_order(node.op.perform)
        return node.op.perform
    from backends.numba.numpy_twins import numpy_twin
    t = numpy_twin(node)
    if t is not None:
        return t
    if not compile_twins:
        # a kernel that runs ``perform`` (object mode) anyway needs no compile either
        return node.op.perform if _kernel(node) is None else None
    t = _twin(node)
    if t == "perform":
        return node.op.perform
    return t


def _scan_body(op, compile_twins=True):
    from symgraph.graph.fg import FunctionGraph

    fg = FunctionGraph(op.inner_inputs, op.inner_outputs, clone=True)
    return tier_thunk(fg, compile_twins)


def tier_thunk(fgraph, compile_twins=True):
    """The interpreter thunk of ``fgraph`` with every node run by ``step_for``, or
    None when a node has no exact step. Without ``compile_twins`` (the tiered mode's
    choice) a node that would need its kernel compiled alone has none: such
    compiles (0.5-10 s each, an expm's the longest) in the calling process, while
    the worker compiles the graph, made the first result come later than compiling
    the graph at once (B4: 25-34 s against 16 s)."""
    from backends.python.linker import PythonLinker

    steps = {}
    for node in fgraph.toposort():
        s = step_for(node, compile_twins)
        if s is None:
            return None
        steps[node] = s
    return PythonLinker().make_thunk(fgraph, perform_for=steps.__getitem__)
