"""Random ops: functional draws ``(rng, size, *params) -> (new_rng, draw)``.

A random op never changes its input generator: ``perform`` copies it, draws from
the copy and returns the copy as ``new_rng``. So a graph may read one generator in
several places (each read sees the same state), a call that fails leaves every
shared generator as it was, and each update reads the state from the start of
the call, as DESIGN.md requires of all updates.

Numbers: each op draws with the ``numpy.random.Generator`` method of the same name
(``uniform``, ``normal``, ``binomial``, ``integers``, ``multinomial``, ``choice``,
``permutation``), so a draw equals NumPy's from a generator in the same state. The
draw is made in NumPy's dtype (float64, int64) and then cast to the op's
``dtype``; float32 results are float64 draws rounded.

``size``: None (or ``()``) means the broadcast shape of the parameters; otherwise
an int, a tuple of ints and symbolic integer scalars, or an integer vector of
static length, and every parameter must broadcast to it (NumPy's rule).
"""

from __future__ import annotations

import numpy as np

from symgraph.gradient import disconnected_type, grad_undefined
from symgraph.graph.basic import Apply, Constant, Variable
from symgraph.graph.op import Op
from symgraph.graph.utils import ShapeError
from symgraph.tensor.basic import as_tensor_variable, constant
from symgraph.tensor.random_type import (
    RandomGeneratorType, copy_generator, random_generator_type,
)
from symgraph.tensor.shape import as_shape_vector, static_vector_entries, vector_elements
from symgraph.tensor.type import (
    ALL_DTYPES, FLOAT_DTYPES, INTEGER_DTYPES, TensorType, normalize_dtype,
)

__all__ = [
    "RandomVariable", "UniformRV", "NormalRV", "BinomialRV", "IntegersRV", "MultinomialRV",
    "ChoiceRV", "PermutationRV", "as_generator_variable",
]

_REAL = tuple(d for d in ALL_DTYPES if not d.startswith("complex"))
_NOT_DIFFERENTIABLE = ("a random draw is not a differentiable function of its parameters; "
                       "for a reparameterised gradient write e.g. loc + scale * normal(0, 1)")


# ----------------------------------------------------------------------- helpers

def as_generator_variable(rng, who):
    """``rng`` as a generator variable: a Generator value becomes a constant."""
    if isinstance(rng, Variable):
        if not isinstance(rng.type, RandomGeneratorType):
            raise TypeError(f"{who}: rng must be a random generator variable "
                            f"(e.g. sg.shared(numpy.random.default_rng(seed))), got {rng} of "
                            f"type {rng.type}")
        return rng
    if isinstance(rng, np.random.Generator):
        # a copy: the caller may go on drawing from (and so changing) their generator
        return random_generator_type.make_constant(copy_generator(rng))
    raise TypeError(f"{who}: rng must be a random generator variable or a "
                    f"numpy.random.Generator, got {type(rng).__name__}")


def _as_size(size, who):
    """``size`` as an int64 vector of static length ``n`` (n == 0: no size)."""
    if size is None:
        return constant(np.zeros(0, dtype="int64")), 0
    try:
        vec, n = as_shape_vector(size, f"{who}: size")
    except TypeError as e:
        raise TypeError(f"{e}; size must be None, an int, a tuple of ints and integer "
                        f"scalars, or an integer vector of static length") from None
    if n is None:
        raise TypeError(f"{who}: the length of the symbolic size {vec} ({vec.type}) is not "
                        "known statically, so the rank of the draw is unknown; give a tuple "
                        "of scalars or a vector of static length")
    entries = static_vector_entries(vec, n)
    if any(e is not None and e < 0 for e in entries):
        raise ValueError(f"{who}: size must not be negative, got {_fmt(entries)}")
    return vec, n


def _cast(v, dtype):
    if v.dtype == dtype:
        return v
    if isinstance(v, Constant):
        return constant(np.asarray(v.data).astype(dtype))
    from symgraph.tensor.math import cast
    return cast(v, dtype)


def _as_param(p, kind, who, name):
    """A parameter as a float64 ('float') or int64 ('int') tensor, refusing other kinds."""
    if not isinstance(p, Variable):
        # values convert straight to float64 / int64, so 0.1 stays NumPy's 0.1 (not floatX's)
        arr = np.asarray(p)
        if kind == "float" and arr.dtype.kind in "biuf":
            return constant(arr.astype("float64"))
        if kind == "int" and arr.dtype.kind in "biu":
            return constant(arr.astype("int64"))
    v = as_tensor_variable(p)
    if kind == "float":
        if v.dtype not in _REAL:
            raise TypeError(f"{who}: {name} must be a real tensor, got {v} of type {v.type}")
        return _cast(v, "float64")
    if v.dtype not in INTEGER_DTYPES + ("bool",):
        raise TypeError(f"{who}: {name} must be an integer tensor, got {v} of type {v.type}; "
                        f"cast it, e.g. {name}.astype('int64')")
    return _cast(v, "int64")


def _fmt(shape):
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _static_draw_shape(who, size, n, named_shapes):
    """The static shape of a draw from ``size`` (static length ``n``) and the parameters'
    static (batch) shapes ``[(name, shape)]``; refuses what cannot broadcast."""
    if n:
        out = list(static_vector_entries(size, n))
        for name, shp in named_shapes:
            if len(shp) > n:
                raise ShapeError(f"{who}: {name} of shape {_fmt(shp)} has more dimensions "
                                 f"than size {_fmt(out)}, so it cannot broadcast to it")
            for k, ps in enumerate(shp):
                d = n - len(shp) + k
                if ps is None or ps == 1:
                    continue
                if out[d] is None:
                    out[d] = ps
                elif out[d] != ps:
                    raise ShapeError(f"{who}: {name} of shape {_fmt(shp)} does not broadcast "
                                     f"to size {_fmt(out)}")
        return tuple(out)
    nd = max((len(s) for _, s in named_shapes), default=0)
    out = []
    for d in range(nd):
        known, unknown = 1, False
        for name, shp in named_shapes:
            k = d - (nd - len(shp))
            if k < 0:
                continue
            ps = shp[k]
            if ps is None:
                unknown = True
            elif ps != 1:
                if known != 1 and known != ps:
                    raise ShapeError(f"{who}: the parameters' shapes do not broadcast: " +
                                     ", ".join(f"{nm} {_fmt(s)}" for nm, s in named_shapes))
                known = ps
        out.append(None if known == 1 and unknown else known)
    return tuple(out)


def _symbolic_broadcast(named):
    """Symbolic broadcast shape of ``[(static shape, symbolic shape)]`` (right-aligned);
    exact also where a dimension of unknown length is 1 at run time."""
    from symgraph.tensor.math import eq, switch

    nd = max((len(s) for s, _ in named), default=0)
    out = []
    for d in range(nd):
        static, cands = None, []
        for shp, sym in named:
            k = d - (nd - len(shp))
            if k < 0 or shp[k] == 1:
                continue
            if shp[k] is not None:
                static = shp[k]
            else:
                cands.append(sym[k])
        if static is not None:
            out.append(constant(static, dtype="int64"))
        elif not cands:
            out.append(constant(1, dtype="int64"))
        else:
            r = cands[0]
            for c in cands[1:]:
                r = switch(eq(r, 1), c, r)
            out.append(r)
    return tuple(out)


def _runtime_shape(who, size, named_values):
    """The shape of a draw at run time (``size`` an int64 vector, ``named_values`` the
    parameters' ``[(name, batch shape)]``), or a ValueError naming the shapes."""
    if len(size):
        shape = tuple(int(s) for s in size)
        if any(s < 0 for s in shape):
            raise ValueError(f"{who}: size must not be negative, got {shape}")
        for name, shp in named_values:
            if len(shp) > len(shape) or any(
                    p != 1 and p != s for p, s in zip(shp[::-1], shape[::-1])):
                raise ValueError(f"{who}: {name} of shape {shp} does not broadcast to size "
                                 f"{shape}")
        return shape
    try:
        return np.broadcast_shapes(*[s for _, s in named_values])
    except ValueError:
        raise ValueError(f"{who}: the parameters' shapes do not broadcast: " +
                         ", ".join(f"{n} {s}" for n, s in named_values)) from None


def _first(mask, *arrays):
    """The entries of ``arrays`` at the first place ``mask`` holds (for error messages)."""
    shape = np.broadcast_shapes(np.shape(mask), *[np.shape(a) for a in arrays])
    pos = tuple(np.argwhere(np.broadcast_to(mask, shape))[0])
    return [np.broadcast_to(a, shape)[pos] for a in arrays]


# ----------------------------------------------------------------------- the base op

class RandomVariable(Op):
    """``(rng, size, *params) -> (new_rng, draw)``, one draw per output element.

    Subclasses name the parameters and their kinds ('float' -> float64, 'int' ->
    int64), check parameter values (``check``) and draw with NumPy (``draw``).
    Gradients: disconnected for the rng and size, undefined for the parameters.
    """

    __props__ = ("dtype",)
    default_output = 1
    handles_disconnected_outputs = True
    name = "random"
    param_names: tuple = ()
    param_kinds: tuple = ()
    kind = "float"  # the kind of the draws: 'float' (default floatX) or 'int' (int64)

    def __init__(self, dtype=None):
        self.dtype = self._dtype(dtype)

    def _dtype(self, dtype):
        if self.kind == "float":
            dt = normalize_dtype(dtype)
            if dt not in FLOAT_DTYPES:
                raise TypeError(f"{self.name}: dtype must be float32 or float64, got {dt}")
            return dt
        dt = "int64" if dtype is None else normalize_dtype(dtype)
        if dt not in _REAL:
            raise TypeError(f"{self.name}: dtype must be a real dtype (default int64), got {dt}")
        return dt

    def __str__(self):
        return f"{self.name}_rv{{{self.dtype}}}"

    # ------------------------------------------------------------ building
    def _params(self, params):
        if len(params) != len(self.param_names):
            raise TypeError(f"{self.name} takes the parameters {self.param_names}, got "
                            f"{len(params)} value(s)")
        return [_as_param(p, k, self.name, n)
                for p, k, n in zip(params, self.param_kinds, self.param_names)]

    def _batch_shapes(self, params):
        """``[(name, static shape)]`` of the parameters' parts that broadcast with size."""
        return [(n, p.type.shape) for n, p in zip(self.param_names, params)]

    def _core_shape(self, params):
        """Static trailing dimensions every draw adds (multinomial: (k,))."""
        return ()

    def make_node(self, rng, size, *params):
        rng = as_generator_variable(rng, self.name)
        size, n = _as_size(size, self.name)
        params = self._params(params)
        shape = _static_draw_shape(self.name, size, n, self._batch_shapes(params)) + \
            self._core_shape(params)
        return Apply(self, [rng, size, *params],
                     [random_generator_type(), TensorType(self.dtype, shape)()])

    # ------------------------------------------------------------ running
    def check(self, *params):
        """Raise ValueError for parameter values the distribution does not allow."""

    def draw(self, g, size, *params):
        raise NotImplementedError

    def _runtime_batch(self, params):
        return [(n, np.shape(p)) for n, p in zip(self.param_names, params)]

    def perform(self, node, inputs, output_storage):
        rng, size, *params = inputs
        shape = _runtime_shape(self.name, size, self._runtime_batch(params))
        self.check(*params)
        g = copy_generator(rng)
        out = self.draw(g, shape if len(size) else None, *params)
        output_storage[0][0] = g
        output_storage[1][0] = np.asarray(out).astype(self.dtype, copy=False)

    # ------------------------------------------------------------ analysis
    def infer_shape(self, fgraph, node, input_shapes):
        size = node.inputs[1]
        n = size.type.shape[0]
        if n:
            batch = tuple(vector_elements(size, n))
        else:
            batch = _symbolic_broadcast(self._symbolic_batch(node, input_shapes))
        return [None, batch + self._symbolic_core(node, input_shapes)]

    def _symbolic_batch(self, node, input_shapes):
        return [(p.type.shape, s) for p, s in zip(node.inputs[2:], input_shapes[2:])]

    def _symbolic_core(self, node, input_shapes):
        return ()

    def connection_pattern(self, node):
        return [[False, False], [False, False]] + [[False, True] for _ in node.inputs[2:]]

    def L_op(self, inputs, outputs, output_grads):
        return [disconnected_type(), disconnected_type()] + [
            grad_undefined(self, k + 2, p, _NOT_DIFFERENTIABLE)
            for k, p in enumerate(inputs[2:])]

    def do_constant_folding(self, fgraph, node):
        return False


# ----------------------------------------------------------------------- elementwise draws

class UniformRV(RandomVariable):
    """Uniform on [low, high) (NumPy: low + (high - low) * U[0, 1))."""

    name = "uniform"
    param_names = ("low", "high")
    param_kinds = ("float", "float")

    def check(self, low, high):
        with np.errstate(invalid="ignore", over="ignore"):
            rng = np.subtract(high, low)
        bad = ~np.isfinite(rng) | (rng < 0)
        if np.any(bad):
            lo, hi = _first(bad, low, high)
            raise ValueError(f"uniform: needs finite low <= high, got low={lo}, high={hi}")

    def draw(self, g, size, low, high):
        return g.uniform(low, high, size)


class NormalRV(RandomVariable):
    name = "normal"
    param_names = ("loc", "scale")
    param_kinds = ("float", "float")

    def check(self, loc, scale):
        bad = scale < 0
        if np.any(bad):
            raise ValueError(f"normal: scale must be >= 0, got {_first(bad, scale)[0]}")

    def draw(self, g, size, loc, scale):
        return g.normal(loc, scale, size)


class BinomialRV(RandomVariable):
    name = "binomial"
    param_names = ("n", "p")
    param_kinds = ("int", "float")
    kind = "int"

    def check(self, n, p):
        if np.any(n < 0):
            raise ValueError(f"binomial: n must be >= 0, got {_first(n < 0, n)[0]}")
        bad = ~((p >= 0) & (p <= 1))
        if np.any(bad):
            raise ValueError(f"binomial: p must be in [0, 1], got {_first(bad, p)[0]}")

    def draw(self, g, size, n, p):
        return g.binomial(n, p, size)


class IntegersRV(RandomVariable):
    """Integers in [low, high), or [low, high] with ``endpoint`` (Theano's random_integers)."""

    __props__ = ("dtype", "endpoint")
    name = "integers"
    param_names = ("low", "high")
    param_kinds = ("int", "int")
    kind = "int"

    def __init__(self, dtype=None, endpoint=False):
        super().__init__(dtype)
        self.endpoint = bool(endpoint)

    def __str__(self):
        return f"integers_rv{{{self.dtype}{', endpoint' if self.endpoint else ''}}}"

    def check(self, low, high):
        bad = low > high if self.endpoint else low >= high
        if np.any(bad):
            lo, hi = _first(bad, low, high)
            rel = "<=" if self.endpoint else "<"
            raise ValueError(f"integers: needs low {rel} high, got low={lo}, high={hi}")

    def draw(self, g, size, low, high):
        return g.integers(low, high, size, dtype=np.int64, endpoint=self.endpoint)


# ----------------------------------------------------------------------- vector draws

class MultinomialRV(RandomVariable):
    """Counts of ``n`` trials over the k outcomes on ``pvals``' last axis.

    pvals of shape (k,) gives (k,), or size + (k,); a matrix (batch, k) gives one
    draw per row, (batch, k) (Theano's rule); n broadcasts with pvals[..., 0].
    """

    name = "multinomial"
    param_names = ("n", "pvals")
    param_kinds = ("int", "float")
    kind = "int"

    def _params(self, params):
        n, pvals = super()._params(params)
        if pvals.ndim < 1:
            raise TypeError(f"multinomial: pvals must have at least 1 dimension (the k "
                            f"probabilities on its last axis), got {pvals} of type {pvals.type}")
        return [n, pvals]

    def _batch_shapes(self, params):
        n, pvals = params
        return [("n", n.type.shape), ("pvals[..., 0]", pvals.type.shape[:-1])]

    def _core_shape(self, params):
        return (params[1].type.shape[-1],)

    def _runtime_batch(self, params):
        n, pvals = params
        return [("n", np.shape(n)), ("pvals[..., 0]", np.shape(pvals)[:-1])]

    def _symbolic_batch(self, node, input_shapes):
        n, pvals = node.inputs[2:]
        return [(n.type.shape, input_shapes[2]), (pvals.type.shape[:-1], input_shapes[3][:-1])]

    def _symbolic_core(self, node, input_shapes):
        return (input_shapes[3][-1],)

    def check(self, n, pvals):
        if np.any(n < 0):
            raise ValueError(f"multinomial: n must be >= 0, got {_first(n < 0, n)[0]}")
        if pvals.shape[-1] == 0:
            raise ValueError("multinomial: pvals has no outcomes (its last axis has length 0)")
        bad = ~((pvals >= 0) & (pvals <= 1))
        if np.any(bad):
            raise ValueError(f"multinomial: pvals must be in [0, 1], got "
                             f"{_first(bad, pvals)[0]}")
        total = pvals[..., :-1].sum(axis=-1)
        if np.any(total > 1.0 + 1e-12):
            raise ValueError(
                f"multinomial: the probabilities but the last must sum to at most 1 (the last "
                f"outcome takes what remains), got sum(pvals[..., :-1]) = {np.max(total)!r}; "
                "normalise pvals in float64")

    def draw(self, g, size, n, pvals):
        return g.multinomial(n, pvals, size)


class ChoiceRV(RandomVariable):
    """``a``'s entries (or ``arange(a)`` for an integer ``a``) sampled with probabilities
    ``p`` (uniform when absent), with or without replacement."""

    __props__ = ("replace",)
    name = "choice"
    kind = "int"

    def __init__(self, replace=True):
        self.replace = bool(replace)

    def __str__(self):
        return f"choice_rv{{replace={self.replace}}}"

    def make_node(self, rng, size, a, p=None):
        rng = as_generator_variable(rng, "choice")
        size, n = _as_size(size, "choice")
        a = as_tensor_variable(a)
        if a.ndim == 0:
            if a.dtype not in INTEGER_DTYPES:
                raise TypeError(f"choice: a scalar a must be an integer (the population "
                                f"arange(a)), got {a} of type {a.type}")
            a = _cast(a, "int64")
        elif a.ndim != 1:
            raise TypeError(f"choice: a must be an integer or a vector (the population), "
                            f"got {a} of type {a.type}")
        inputs = [rng, size, a]
        if p is not None:
            p = _as_param(p, "float", "choice", "p")
            if p.ndim != 1:
                raise TypeError(f"choice: p must be a vector of probabilities, got {p} of "
                                f"type {p.type}")
            if a.ndim == 1 and None not in (a.type.shape[0], p.type.shape[0]) and \
                    a.type.shape[0] != p.type.shape[0]:
                raise ShapeError(f"choice: p has {p.type.shape[0]} entries but the population "
                                 f"a has {a.type.shape[0]}")
            inputs.append(p)
        shape = tuple(static_vector_entries(size, n)) if n else ()
        dtype = "int64" if a.ndim == 0 else a.dtype
        return Apply(self, inputs, [random_generator_type(), TensorType(dtype, shape)()])

    def perform(self, node, inputs, output_storage):
        rng, size, a = inputs[:3]
        p = inputs[3] if len(inputs) > 3 else None
        shape = tuple(int(s) for s in size)
        if any(s < 0 for s in shape):
            raise ValueError(f"choice: size must not be negative, got {shape}")
        pop = int(a) if a.ndim == 0 else len(a)
        count = int(np.prod(shape)) if len(size) else 1
        if pop < 0:
            raise ValueError(f"choice: the population size a must be >= 0, got {pop}")
        if pop == 0 and count:
            raise ValueError(f"choice: cannot take {count} sample(s) from an empty population")
        if p is not None and len(p) != pop:
            raise ValueError(f"choice: p has {len(p)} entries but the population has {pop}")
        if not self.replace and count > pop:
            raise ValueError(f"choice: cannot take {count} samples (size {shape}) without "
                             f"replacement from a population of {pop}")
        g = copy_generator(rng)
        try:
            # NumPy draws indices and returns a[indices]: the numba kernel does the same
            out = g.choice(pop, shape if len(size) else None, replace=self.replace, p=p)
        except ValueError as e:
            raise ValueError(f"choice: {e} (population {pop}, size {shape}, p={p})") from None
        out = np.asarray(out, dtype=np.int64)
        output_storage[0][0] = g
        output_storage[1][0] = out if a.ndim == 0 else np.asarray(a[out])

    def infer_shape(self, fgraph, node, input_shapes):
        size = node.inputs[1]
        n = size.type.shape[0]
        return [None, tuple(vector_elements(size, n)) if n else ()]


class PermutationRV(RandomVariable):
    """A random permutation of ``arange(x)`` (integer x) or of x's rows (a copy)."""

    __props__ = ()
    name = "permutation"
    kind = "int"

    def __init__(self):
        pass

    def __str__(self):
        return "permutation_rv"

    def make_node(self, rng, size, x):
        rng = as_generator_variable(rng, "permutation")
        size, n = _as_size(size, "permutation")
        if n:
            raise TypeError("permutation takes no size: it permutes x (or arange(x)) once")
        x = as_tensor_variable(x)
        if x.ndim == 0:
            if x.dtype not in INTEGER_DTYPES:
                raise TypeError(f"permutation: x must be an integer (permute arange(x)) or an "
                                f"array of at least 1 dimension, got {x} of type {x.type}")
            x = _cast(x, "int64")
            length = int(x.data) if isinstance(x, Constant) and int(x.data) >= 0 else None
            out = TensorType("int64", (length,))()
        else:
            out = x.type()
        return Apply(self, [rng, size, x], [random_generator_type(), out])

    def perform(self, node, inputs, output_storage):
        rng, _, x = inputs
        if x.ndim == 0 and int(x) < 0:
            raise ValueError(f"permutation: x must be >= 0 (the length of arange(x)), got {int(x)}")
        g = copy_generator(rng)
        out = g.permutation(int(x) if x.ndim == 0 else x)
        output_storage[0][0] = g
        output_storage[1][0] = np.ascontiguousarray(out)

    def infer_shape(self, fgraph, node, input_shapes):
        x = node.inputs[2]
        if x.ndim == 0:
            from symgraph.tensor.math import maximum
            return [None, (maximum(x, 0),)]
        return [None, tuple(input_shapes[2])]
