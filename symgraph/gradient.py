"""Symbolic differentiation: grad, Lop, Rop, jacobian, hessian and gradient modifiers.

Reverse mode walks the graph from the cost back to ``wrt`` and asks every Apply
node's ``Op.L_op(inputs, outputs, output_grads)`` for the gradients of its
inputs; contributions to a variable are summed. The result is an ordinary graph.

Complex numbers: for a real cost C and a complex variable z, the gradient is
dC/dRe(z) + i dC/dIm(z) (PyTorch's convention), so ``z - lr * g`` descends. For a
holomorphic elementwise f, an op's L_op therefore returns ``gout * conj(f'(z))``.
"""

from __future__ import annotations

import warnings

import numpy as np

from symgraph.graph.basic import Apply, Variable, ancestors, io_toposort, graph_inputs
from symgraph.graph.op import Op
from symgraph.graph.type import Type
from symgraph.graph.utils import MethodNotDefined, SymgraphError, format_trace

__all__ = [
    "grad", "Lop", "Rop", "jacobian", "hessian", "hessian_vector_product",
    "disconnected_grad", "stop_gradient", "zero_grad", "consider_constant", "grad_clip",
    "grad_scale", "grad_undefined", "grad_not_implemented", "disconnected_type",
    "DisconnectedType", "NullType", "DisconnectedInputError", "NullTypeGradError",
    "GradientError", "verify_grad", "numeric_grad",
]


# --------------------------------------------------------------------------- special types

class DisconnectedType(Type):
    """The "gradient" of a variable that does not influence the output at all."""

    def filter(self, data, strict=False, allow_downcast=None):
        raise TypeError("a DisconnectedType variable has no value; it marks a missing dependency")

    def __eq__(self, other):
        return type(other) is DisconnectedType

    def __hash__(self):
        return hash(DisconnectedType)

    def __str__(self):
        return "DisconnectedType"

    @property
    def variable_type(self):
        return Variable


def disconnected_type():
    """A variable saying "this input does not influence this output"."""
    return DisconnectedType()()


class NullType(Type):
    """The gradient of something that has no gradient; ``why`` says what and where."""

    def __init__(self, why="the gradient is undefined"):
        self.why = why

    def filter(self, data, strict=False, allow_downcast=None):
        raise TypeError(f"a NullType variable has no value: {self.why}")

    def __eq__(self, other):
        return type(other) is NullType and other.why == self.why

    def __hash__(self):
        return hash((NullType, self.why))

    def __str__(self):
        return "NullType"

    @property
    def variable_type(self):
        return Variable


def _is_disconnected(v):
    return v is None or isinstance(v.type, DisconnectedType)


def _is_null(v):
    return v is not None and isinstance(v.type, NullType)


class DisconnectedInputError(SymgraphError, ValueError):
    """grad() was asked for an input that the cost does not depend on."""


class NullTypeGradError(SymgraphError, TypeError):
    """A gradient that does not exist was needed (argmax, comparisons, integer outputs...)."""


def grad_undefined(op, x_pos, x, comment=""):
    """The gradient of ``op``'s input ``x_pos`` is mathematically undefined."""
    why = f"the gradient of {op} with respect to its input {x_pos} ({x}) is undefined"
    if comment:
        why += f": {comment}"
    return NullType(why)()


def grad_not_implemented(op, x_pos, x, comment=""):
    """The gradient exists but symgraph does not compute it (yet)."""
    why = f"the gradient of {op} with respect to its input {x_pos} ({x}) is not implemented"
    if comment:
        why += f": {comment}"
    return NullType(why)()


# --------------------------------------------------------------------------- helpers

def _tensor():
    import symgraph.tensor as T
    return T


def _zeros_like_for(wrt):
    T = _tensor()
    dtype = wrt.dtype if wrt.dtype not in _DISCRETE else _float_x()
    return T.zeros_like(wrt, dtype=dtype)


def _float_x():
    from symgraph import config
    return config.floatX


_DISCRETE = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _is_discrete(v):
    return getattr(v.type, "dtype", None) in _DISCRETE


def _fit_to(g, var, op=None):
    """Make gradient ``g`` fit ``var``'s type: its dtype (real part for real inputs) and
    its static broadcastable dimensions."""
    T = _tensor()
    if not isinstance(g, Variable):
        g = T.as_tensor_variable(g)
    if not hasattr(var.type, "dtype") or not hasattr(g.type, "dtype"):
        return g
    if g.ndim != var.ndim:
        raise TypeError(
            f"{op}.L_op returned a gradient with {g.ndim} dimensions ({g.type}) for the input "
            f"{var} of type {var.type}; gradients must have the input's shape")
    if g.dtype != var.dtype:
        if g.dtype.startswith("complex") and not var.dtype.startswith("complex"):
            g = T.real(g)
        if g.dtype != var.dtype:
            g = T.cast(g, var.dtype)
    shape = var.type.shape
    if any(s == 1 and gs != 1 for s, gs in zip(shape, g.type.shape)):
        g = T.specify_shape(g, tuple(1 if s == 1 else gs for s, gs in zip(shape, g.type.shape)))
    return g


def _sum_terms(terms):
    T = _tensor()
    terms = [t for t in terms if not _is_disconnected(t)]
    if not terms:
        return None
    nulls = [t for t in terms if _is_null(t)]
    if nulls:
        return nulls[0]
    total = terms[0]
    for t in terms[1:]:
        total = T.add(total, t)
    return total


# --------------------------------------------------------------------------- grad

def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", add_names=True,
         known_grads=None, return_disconnected="zero", null_gradients="raise"):
    """Symbolic gradient of the scalar ``cost`` with respect to ``wrt``.

    wrt: a variable or a list of them (a list in gives a list out).
    consider_constant: variables through which no gradient flows.
    disconnected_inputs: 'raise', 'warn' or 'ignore' when some wrt does not
      influence the cost; return_disconnected: 'zero', 'None' or 'Disconnected'
      says what is returned for it.
    known_grads: {variable: gradient} to start back-propagation from (cost may
      then be None).
    null_gradients: 'raise' (an undefined gradient is an error naming the op and
      the line that built it) or 'return'.
    """
    T = _tensor()
    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise ValueError(f"disconnected_inputs must be 'raise', 'warn' or 'ignore', got {disconnected_inputs!r}")
    if return_disconnected not in ("zero", "None", "Disconnected"):
        raise ValueError(f"return_disconnected must be 'zero', 'None' or 'Disconnected', got {return_disconnected!r}")
    if null_gradients not in ("raise", "return"):
        raise ValueError(f"null_gradients must be 'raise' or 'return', got {null_gradients!r}")
    if cost is None and not known_grads:
        raise ValueError("grad() needs a cost, or known_grads to start from")
    if cost is not None:
        cost = T.as_tensor_variable(cost)
        if cost.ndim != 0:
            raise TypeError(
                f"grad() needs a scalar (0-d) cost, got {cost} of type {cost.type}; for the "
                "derivatives of every element of a vector use jacobian(), or sum the cost first")
        if cost.dtype.startswith("complex"):
            raise TypeError(f"grad() needs a real cost, got {cost} of dtype {cost.dtype}; "
                            "take abs(), real() or a squared modulus first")
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    for w in wrt_list:
        if not isinstance(w, Variable):
            raise TypeError(f"grad() can only differentiate with respect to Variables, got "
                            f"{type(w).__name__}")

    start = {}
    if cost is not None:
        start[cost] = T.constant(1, dtype=cost.dtype) if cost.dtype not in _DISCRETE \
            else T.constant(1.0, dtype=_float_x())
    for var, g in (known_grads or {}).items():
        if not isinstance(var, Variable):
            raise TypeError(f"known_grads keys must be Variables, got {type(var).__name__}")
        g = T.as_tensor_variable(g) if not isinstance(g, Variable) else g
        if var in start and cost is not None and var is cost:
            raise ValueError("the cost also appears in known_grads")
        start[var] = g if _is_disconnected(g) or _is_null(g) else _fit_to(g, var)

    cuts: list = []
    grads = _backprop(start, wrt_list, consider_constant or [], cuts)

    out = []
    for w in wrt_list:
        g = grads.get(w)
        if _is_disconnected(g):
            if _is_discrete(w):
                # integers have no gradient; Theano returns zeros for them
                g = None
            else:
                msg = (f"grad(): the cost does not depend on {w} ({w.type}); pass "
                       "disconnected_inputs='ignore' (or 'warn') to get a zero gradient")
                if cuts:
                    msg += "\nThe cost depends on it only through ops without a gradient:\n" + \
                        "\n".join(f"  {n.op} ({n}), built at:\n{format_trace(n.tag.trace)}"
                                  for n in cuts[:3])
                if disconnected_inputs == "raise":
                    raise DisconnectedInputError(msg)
                if disconnected_inputs == "warn":
                    warnings.warn(msg, stacklevel=2)
            if return_disconnected == "zero":
                g = _zeros_like_for(w)
            elif return_disconnected == "None":
                g = None
            else:
                g = disconnected_type()
        elif _is_null(g):
            if null_gradients == "raise":
                raise NullTypeGradError(f"grad() of {cost} with respect to {w}: {g.type.why}")
        if g is not None and add_names and getattr(cost, "name", None) and w.name \
                and isinstance(g, Variable) and g.name is None and hasattr(g.type, "dtype"):
            g.name = f"(d{cost.name}/d{w.name})"
        out.append(g)
    return out[0] if single else out


def _backprop(start, wrt_list, blockers, cuts=None):
    """Reverse-mode accumulation from ``start`` ({var: its gradient}) down to ``wrt_list``.

    Nodes that receive a gradient but pass none to an input that depends on wrt
    (argmax, comparisons, casts to integers) are appended to ``cuts``, so errors
    can name them.
    """
    T = _tensor()
    blocked = set(blockers)
    roots = list(start)
    # variables that depend on some wrt (forward reachability), not through blockers
    depends = set()
    nodes = io_toposort(graph_inputs(roots), roots)
    for v in wrt_list:
        if v not in blocked:
            depends.add(v)
    for node in nodes:
        if any(i in depends and i not in blocked for i in node.inputs):
            for o in node.outputs:
                if o not in blocked:
                    depends.add(o)

    contributions: dict = {v: [g] for v, g in start.items()}
    for node in reversed(nodes):
        if not any(o in contributions for o in node.outputs):
            continue
        if not any(i in depends for i in node.inputs):
            continue
        gouts = []
        null = None
        for o in node.outputs:
            g = _sum_terms(contributions.get(o, []))
            if _is_null(g):
                null = g
            gouts.append(g)
        if all(_is_disconnected(g) for g in gouts):
            continue
        if null is not None:
            igrads = [null if i in depends else disconnected_type() for i in node.inputs]
        else:
            if not getattr(node.op, "handles_disconnected_outputs", False):
                gouts = [T.zeros_like(o) if _is_disconnected(g) else g
                         for o, g in zip(node.outputs, gouts)]
            igrads = _call_l_op(node, gouts)
        for i, (inp, g) in enumerate(zip(node.inputs, igrads)):
            if inp not in depends or inp in blocked:
                continue
            if _is_discrete(inp) and not _is_null(g):
                # an integer value computed from wrt: its producer cut the gradient path
                if cuts is not None and inp.owner is not None and inp.owner not in cuts:
                    cuts.append(inp.owner)
                continue
            if _is_disconnected(g):
                if cuts is not None and node not in cuts \
                        and not isinstance(node.op, DisconnectedGrad):
                    cuts.append(node)
                continue
            if not _is_null(g):
                g = _fit_to(g, inp, node.op)
            contributions.setdefault(inp, []).append(g)
    return {w: _sum_terms(contributions.get(w, [])) for w in wrt_list}


def _call_l_op(node, gouts):
    op = node.op
    try:
        igrads = op.L_op(list(node.inputs), list(node.outputs), gouts)
    except MethodNotDefined:
        why = f"{op} has no gradient (it defines no L_op)"
        return [NullType(f"{why}; node built at:\n{format_trace(node.tag.trace)}")()
                for _ in node.inputs]
    igrads = list(igrads)
    if len(igrads) != len(node.inputs):
        raise ValueError(f"{op}.L_op returned {len(igrads)} gradients for {len(node.inputs)} inputs")
    out = []
    for g in igrads:
        if g is None:
            g = disconnected_type()
        elif not isinstance(g, Variable):
            g = _tensor().as_tensor_variable(g)
        if _is_null(g):
            g = NullType(f"{g.type.why}; node built at:\n{format_trace(node.tag.trace)}")()
        out.append(g)
    return out


# --------------------------------------------------------------------------- Lop / Rop

def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """Vector-Jacobian product: the gradient of sum(f * eval_points) with respect to wrt.

    f and eval_points may be lists (paired); wrt a variable or a list.
    """
    fs = f if isinstance(f, (list, tuple)) else [f]
    eps = eval_points if isinstance(eval_points, (list, tuple)) else [eval_points]
    if len(fs) != len(eps):
        raise ValueError(f"Lop: {len(fs)} expressions but {len(eps)} eval points")
    T = _tensor()
    known = {}
    for fi, ei in zip(fs, eps):
        ei = T.as_tensor_variable(ei)
        if ei.ndim != fi.ndim:
            raise TypeError(f"Lop: eval point {ei} ({ei.type}) does not match {fi} ({fi.type})")
        known[fi] = ei
    return grad(None, wrt, consider_constant=consider_constant,
                disconnected_inputs=disconnected_inputs, known_grads=known)


def Rop(f, wrt, eval_points, disconnected_outputs="raise", return_disconnected="zero"):
    """Jacobian-vector product: the directional derivative of f along eval_points.

    Forward mode through each op's R_op; when some op on the way has none, the
    whole product is built instead from two reverse passes (the "double Lop":
    J v = d/du [ (J^T u) . v ]), which needs no R_op.
    """
    T = _tensor()
    single_f = not isinstance(f, (list, tuple))
    fs = [f] if single_f else list(f)
    ws = wrt if isinstance(wrt, (list, tuple)) else [wrt]
    eps = eval_points if isinstance(eval_points, (list, tuple)) else [eval_points]
    if len(ws) != len(eps):
        raise ValueError(f"Rop: {len(ws)} wrt variables but {len(eps)} eval points")
    eps = [T.as_tensor_variable(e) for e in eps]
    for w, e in zip(ws, eps):
        if w.ndim != e.ndim:
            raise TypeError(f"Rop: eval point {e} ({e.type}) does not match {w} ({w.type})")
    try:
        outs = _forward(fs, ws, eps)
    except MethodNotDefined:
        outs = _double_lop(fs, ws, eps)
    res = []
    for fi, o in zip(fs, outs):
        if o is None:
            if disconnected_outputs == "raise":
                raise DisconnectedInputError(f"Rop: {fi} does not depend on {ws}")
            o = T.zeros_like(fi) if return_disconnected == "zero" else None
        res.append(o)
    return res[0] if single_f else res


def _forward(fs, ws, eps):
    tangents = {w: e for w, e in zip(ws, eps)}
    for node in io_toposort(ws, fs):
        if not any(i in tangents for i in node.inputs):
            continue
        evs = [tangents.get(i) for i in node.inputs]
        outs = node.op.R_op(list(node.inputs), evs)
        for o, t in zip(node.outputs, outs):
            if t is not None and not _is_disconnected(t):
                tangents[o] = _fit_to(t, o, node.op)
    return [tangents.get(fi) for fi in fs]


def _double_lop(fs, ws, eps):
    T = _tensor()
    us = [fi.type() for fi in fs]
    gs = Lop(fs, ws, us, disconnected_inputs="ignore")
    gs = gs if isinstance(gs, list) else [gs]
    cost = None
    for g, e in zip(gs, eps):
        prod = T.real(T.conj(g) * e) if g.dtype.startswith("complex") else g * e
        term = T.sum(prod)
        cost = term if cost is None else cost + term
    res = grad(cost, us, disconnected_inputs="ignore", return_disconnected="None")
    # J v does not depend on the dummy u's value, but its graph may use u's shape
    from symgraph.graph.basic import clone_replace
    repl = {u: T.zeros_like(fi) for u, fi in zip(us, fs)}
    return [None if r is None else clone_replace(r, repl) for r in res]


# --------------------------------------------------------------------------- jacobian / hessian

#: Expressions of at most this static length get one backward pass per element
#: (no loop at run time); longer ones are vectorised or a scan over rows.
JACOBIAN_UNROLL_LIMIT = 16

#: Up to this many rows (static), jacobian() computes them all at once by default
#: (vectorize=None): its intermediate values hold every row, so memory grows with it.
JACOBIAN_VECTORIZE_LIMIT = 256


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise",
             vectorize=None):
    """d expression[i] / d wrt for a 0-d or 1-d expression (a list of wrt gives a list).

    The result for each wrt has shape expression.shape + wrt.shape. Row i is the
    gradient of expression[i]: for a short expression of static length (at most
    JACOBIAN_UNROLL_LIMIT) each row is its own backward pass in the graph. Longer
    ones are vectorised where every op on the way has a batching rule
    (symgraph.tensor.vectorize): the backward pass of expression[i] built for all i at
    once, whole-batch ops instead of one small op per row, as JAX's vmap does; the
    intermediate values then hold every row. ``vectorize``: None does so for static
    lengths up to JACOBIAN_VECTORIZE_LIMIT, True for any length, False never.
    Otherwise a scan over the rows computes one backward pass per step, so any
    length works, including one known only at run time.
    """
    T = _tensor()
    expression = T.as_tensor_variable(expression)
    single = not isinstance(wrt, (list, tuple))
    ws = [wrt] if single else list(wrt)
    if expression.ndim == 0:
        res = grad(expression, ws, consider_constant=consider_constant,
                   disconnected_inputs=disconnected_inputs)
        return res[0] if single else res
    if expression.ndim != 1:
        raise TypeError(f"jacobian() needs a 0-d or 1-d expression, got {expression} of type "
                        f"{expression.type}; flatten it first")
    n = expression.type.shape[0]
    if n is None or n > JACOBIAN_UNROLL_LIMIT:
        # disconnected inputs are checked once, on the whole expression, so the error
        # names the user's variables (and not a loop's copies of them)
        grad(expression.sum(), ws, consider_constant=consider_constant,
             disconnected_inputs=disconnected_inputs)
        res = None
        if vectorize or (vectorize is None and n is not None
                         and n <= JACOBIAN_VECTORIZE_LIMIT):
            res = _jacobian_vectorized(expression, ws, consider_constant)
        if res is None:
            res = _jacobian_scan(expression, ws, consider_constant)
        return res[0] if single else res
    rows = [[] for _ in ws]
    for i in range(n):
        gi = grad(expression[i], ws, consider_constant=consider_constant,
                  disconnected_inputs=disconnected_inputs)
        for k, g in enumerate(gi):
            rows[k].append(g)
    res = [T.stack(r) if r else T.zeros((0,) + tuple(w.shape), dtype=w.dtype)
           for r, w in zip(rows, ws)]
    return res[0] if single else res


def _jacobian_vectorized(expression, ws, consider_constant):
    """Every row of the jacobian at once: the gradient of expression[i] for a symbolic
    row number i, vectorised over i = 0..n-1; None where some op has no batching rule."""
    from symgraph.tensor.vectorize import NotVectorizable, vectorize_graph

    T = _tensor()
    i = T.scalar(dtype="int64", name="row")
    rows = grad(expression[i], ws, consider_constant=consider_constant,
                disconnected_inputs="ignore")
    try:
        return vectorize_graph(rows, {i: T.arange(expression.shape[0])})
    except NotVectorizable:
        return None


def _jacobian_scan(expression, ws, consider_constant):
    """The rows of the jacobian from a scan over arange(len(expression))."""
    from symgraph.scan import scan

    T = _tensor()

    def row(i, expr, *w):
        return grad(expr[i], list(w), consider_constant=consider_constant,
                    disconnected_inputs="ignore")

    rows, _ = scan(row, sequences=T.arange(expression.shape[0]),
                   non_sequences=[expression] + ws, return_list=True, name="jacobian")
    return rows


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise", vectorize=None):
    """The Hessian of a scalar cost with respect to each (vector) wrt.

    As in Theano, a list in gives a list out; each wrt must be a vector. The rows are
    the jacobian() of the gradient (``vectorize`` as there).
    """
    T = _tensor()
    cost = T.as_tensor_variable(cost)
    if cost.ndim != 0:
        raise TypeError(f"hessian() needs a scalar cost, got {cost} of type {cost.type}")
    single = not isinstance(wrt, (list, tuple))
    ws = [wrt] if single else list(wrt)
    out = []
    for w in ws:
        if w.ndim != 1:
            raise TypeError(f"hessian(): wrt must be vectors, got {w} of type {w.type}; "
                            "flatten your parameters into one vector and reshape it inside "
                            "the graph")
        g = grad(cost, w, consider_constant=consider_constant,
                 disconnected_inputs=disconnected_inputs)
        if g.type.shape[0] is None and w.type.shape[0] is not None:
            g = T.specify_shape(g, w.type.shape)
        out.append(jacobian(g, w, consider_constant=consider_constant,
                            disconnected_inputs="ignore", vectorize=vectorize))
    return out[0] if single else out


def hessian_vector_product(cost, wrt, vectors, consider_constant=None):
    """H v without forming H: the gradient of <grad(cost), v> (a list in, a list out)."""
    T = _tensor()
    single = not isinstance(wrt, (list, tuple))
    ws = [wrt] if single else list(wrt)
    vs = [vectors] if single else list(vectors)
    gs = grad(cost, ws, consider_constant=consider_constant)
    inner = None
    for g, v in zip(gs, vs):
        term = T.sum(g * v)
        inner = term if inner is None else inner + term
    res = grad(inner, ws, consider_constant=consider_constant, disconnected_inputs="ignore")
    return res[0] if single else res


# --------------------------------------------------------------------------- modifiers

class GradientModifier(Op):
    """The identity forward (its output is a view of x); only the gradient changes."""

    view_map = {0: [0]}

    def make_node(self, x, *params):
        T = _tensor()
        x = T.as_tensor_variable(x)
        params = [T.as_tensor_variable(p) for p in params]
        return Apply(self, [x, *params], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0]

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def R_op(self, inputs, eval_points):
        return [eval_points[0]]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * (len(node.inputs) - 1)


class DisconnectedGrad(GradientModifier):
    """No gradient flows through: the input is treated as disconnected."""

    __props__ = ()

    def L_op(self, inputs, outputs, output_grads):
        return [disconnected_type()]


class ZeroGrad(GradientModifier):
    """A gradient of zero flows through (the input stays connected)."""

    __props__ = ()

    def L_op(self, inputs, outputs, output_grads):
        return [_tensor().zeros_like(inputs[0])]


class ConsiderConstant(ZeroGrad):
    """Theano's consider_constant: the input's gradient is zero."""

    __props__ = ()


class GradClip(GradientModifier):
    """The gradient is clipped to [lower, upper] elementwise."""

    __props__ = ()

    def L_op(self, inputs, outputs, output_grads):
        T = _tensor()
        _, lo, hi = inputs
        return [T.clip(output_grads[0], lo, hi), disconnected_type(), disconnected_type()]


class GradScale(GradientModifier):
    """The gradient is multiplied by ``multiplier`` (negative reverses it)."""

    __props__ = ()

    def L_op(self, inputs, outputs, output_grads):
        T = _tensor()
        return [T.mul(output_grads[0], inputs[1]), disconnected_type()]


_disconnected_grad = DisconnectedGrad()
_zero_grad = ZeroGrad()
_consider_constant = ConsiderConstant()
_grad_clip = GradClip()
_grad_scale = GradScale()


def disconnected_grad(x):
    """x, but no gradient flows back through it (stop_gradient)."""
    return _disconnected_grad(x)


stop_gradient = disconnected_grad


def zero_grad(x):
    """x, with a gradient of zero (the variable stays connected)."""
    return _zero_grad(x)


def consider_constant(x):
    """x, treated as a constant by grad() (its gradient is zero)."""
    return _consider_constant(x)


def grad_clip(x, lower_bound, upper_bound):
    """x, with its incoming gradient clipped elementwise to [lower_bound, upper_bound]."""
    if not isinstance(lower_bound, Variable) and not isinstance(upper_bound, Variable) \
            and np.any(np.asarray(lower_bound) > np.asarray(upper_bound)):
        raise ValueError(f"grad_clip: lower bound {lower_bound} > upper bound {upper_bound}")
    return _grad_clip(x, lower_bound, upper_bound)


def grad_scale(x, multiplier):
    """x, with its incoming gradient multiplied by ``multiplier``.

    ``grad_scale(x, -1)`` reverses the gradient on one path in a single backward
    pass (PyTorch's ``register_hook(lambda g: -g)``).
    """
    return _grad_scale(x, multiplier)


# --------------------------------------------------------------------------- verify_grad

class GradientError(SymgraphError, AssertionError):
    """The symbolic gradient disagrees with finite differences."""


def numeric_grad(f, pt, eps):
    """Central finite differences of the scalar function ``f`` at the arrays ``pt``.

    For complex inputs both parts are perturbed, giving dC/dRe + i dC/dIm (the
    convention of grad()).
    """
    pt = [np.array(p, copy=True) for p in pt]
    out = []
    for x in pt:
        g = np.zeros(x.shape, dtype=x.dtype)
        flat, gflat = x.reshape(-1), g.reshape(-1)
        steps = (eps, 1j * eps) if x.dtype.kind == "c" else (eps,)
        for j in range(flat.size):
            orig = flat[j]
            for step in steps:
                flat[j] = orig + step
                fp = float(f(*pt))
                flat[j] = orig - step
                fm = float(f(*pt))
                flat[j] = orig
                d = (fp - fm) / (2 * eps)
                gflat[j] += d if step == eps else 1j * d
        out.append(g)
    return out


_TOLERANCES = {  # dtype: (eps, abs_tol, rel_tol)
    "float64": (1e-6, 1e-4, 1e-4), "complex128": (1e-6, 1e-4, 1e-4),
    "float32": (1e-3, 5e-2, 5e-2), "complex64": (1e-3, 5e-2, 5e-2),
}


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, abs_tol=None, rel_tol=None, mode=None,
                cast_to_output_type=False, out_type=None):
    """Check the symbolic gradient of ``fun`` at the point ``pt`` by finite differences.

    fun: a function of symbolic tensors returning one tensor; pt: a list of arrays
    (float or complex). The output is projected on a random direction t, giving the
    scalar C = sum(Re(out) t_re + Im(out) t_im), whose gradient grad() computes and
    central differences estimate. Raises GradientError showing both values where
    they differ most. As in Theano, an input that ``fun`` ignores is allowed: its
    gradient must then be zero, like its finite differences.
    """
    from symgraph.compile.function import function

    T = _tensor()
    if not isinstance(pt, (list, tuple)):
        raise TypeError("verify_grad: pt must be a list of arrays (one per input of fun)")
    pt = [np.array(p) for p in pt]
    for k, p in enumerate(pt):
        if p.dtype.kind not in "fc":
            raise TypeError(f"verify_grad: input {k} has dtype {p.dtype}; gradients need float "
                            "or complex inputs")
    rng = np.random.default_rng(0) if rng is None else rng
    inputs = [T.TensorType(p.dtype, shape=(None,) * p.ndim)(f"input_{k}")
              for k, p in enumerate(pt)]
    out = fun(*inputs)
    if isinstance(out, (list, tuple)):
        raise TypeError("verify_grad: fun must return one tensor")
    out = T.as_tensor_variable(out)
    real_dt = {"complex64": "float32", "complex128": "float64"}.get(out.dtype, out.dtype)
    if real_dt not in ("float32", "float64"):
        raise TypeError(f"verify_grad: fun's output has dtype {out.dtype}; it must be float "
                        "or complex to be differentiable")
    t_re = T.TensorType(real_dt, shape=out.type.shape)("t_re")
    t_im = T.TensorType(real_dt, shape=out.type.shape)("t_im")
    if out.dtype.startswith("complex"):
        cost = T.sum(T.real(out) * t_re) + T.sum(T.imag(out) * t_im)
    else:
        cost = T.sum(out * t_re) + T.sum(T.zeros_like(out) * t_im)
    grads = grad(cost, inputs, disconnected_inputs="ignore")
    f_cost = function(inputs + [t_re, t_im], cost, mode=mode, on_unused_input="ignore")
    f_grad = function(inputs + [t_re, t_im], grads, mode=mode, on_unused_input="ignore")
    f_out = function(inputs, out, mode=mode, on_unused_input="ignore")
    out_shape = np.shape(f_out(*pt))

    low = min((_TOLERANCES.get(p.dtype.name, _TOLERANCES["float64"]) for p in pt),
              key=lambda t: -t[0])
    eps = low[0] if eps is None else eps
    abs_tol = low[1] if abs_tol is None else abs_tol
    rel_tol = low[2] if rel_tol is None else rel_tol
    for _ in range(n_tests):
        tr = rng.standard_normal(out_shape).astype(real_dt)
        ti = rng.standard_normal(out_shape).astype(real_dt)
        analytic = f_grad(*pt, tr, ti)
        numeric = numeric_grad(lambda *xs: f_cost(*xs, tr, ti), pt, eps)
        for k, (a, n) in enumerate(zip(analytic, numeric)):
            a = np.asarray(a)
            err = np.abs(a - n)
            rel = err / np.maximum(np.abs(a) + np.abs(n), 1e-300)
            bad = ~((err <= abs_tol) | (rel <= rel_tol))  # NaN counts as bad
            if np.any(bad):
                idx = np.unravel_index(int(np.argmax(np.where(bad, err, -1))), err.shape) \
                    if err.ndim else ()
                raise GradientError(
                    f"verify_grad: the gradient with respect to input {k} (dtype {pt[k].dtype}, "
                    f"shape {pt[k].shape}) disagrees with finite differences.\n"
                    f"  worst at index {idx}: symbolic {a[idx]!r}, numeric {n[idx]!r} "
                    f"(abs error {err[idx]:.3g}, rel error {rel[idx]:.3g}; "
                    f"tolerances abs {abs_tol}, rel {rel_tol}, eps {eps})\n"
                    f"  symbolic:\n{np.array2string(a, precision=6)}\n"
                    f"  numeric:\n{np.array2string(n, precision=6)}")
