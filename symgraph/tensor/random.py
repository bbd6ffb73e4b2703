"""Random numbers in graphs: ``RandomStream`` (PyTensor's name) and ``RandomStreams``
(Theano's, with Theano's argument order), plus functional draws.

    srng = RandomStream(seed=42)
    x = srng.normal(0, 1, size=(3,))
    f = sg.function([], x)      # each call draws new numbers

Every draw made by a stream has its own shared generator, whose ``default_update``
is the generator state after the draw, so ``function()`` advances it on each call
(unless ``no_default_updates=True``, or a list of the shared generators not to
update). Seeding: the k-th generator (k = 0, 1, ... in the order the draws were
made) of ``RandomStream(seed)`` is

    numpy.random.default_rng(numpy.random.SeedSequence(seed).spawn(k + 1)[k])

so the first call of a function drawing ``srng.normal(loc, scale, size)`` as the
stream's k-th draw returns exactly that generator's ``normal(loc, scale, size)``,
on every backend. ``seed(s)`` reseeds all of a stream's generators by that rule.

Functional draws thread the generator state by hand (for scan, or for full
control): ``new_rng, x = normal(rng, 0.0, 1.0, size=3)``.
"""

from __future__ import annotations

import numpy as np

from symgraph.tensor.random_ops import (  # noqa: F401  (re-exported)
    BinomialRV, ChoiceRV, IntegersRV, MultinomialRV, NormalRV, PermutationRV, RandomVariable,
    UniformRV,
)
from symgraph.tensor.random_type import (  # noqa: F401  (re-exported)
    RandomGeneratorSharedVariable, RandomGeneratorType, copy_generator, random_generator_type,
    shared_generator,
)

__all__ = [
    "RandomStream", "RandomStreams", "RandomGeneratorType", "RandomGeneratorSharedVariable",
    "RandomVariable", "UniformRV", "NormalRV", "BinomialRV", "IntegersRV", "MultinomialRV",
    "ChoiceRV", "PermutationRV", "random_generator_type", "copy_generator",
    "uniform", "normal", "binomial", "integers", "multinomial", "choice", "permutation",
]


# ----------------------------------------------------------------------- functional draws

def _pair(node):
    return node.outputs[0], node.outputs[1]


def uniform(rng, low=0.0, high=1.0, size=None, dtype=None):
    """``(new_rng, draw)``: uniform on [low, high), floatX unless ``dtype``."""
    return _pair(UniformRV(dtype).make_node(rng, size, low, high))


def normal(rng, loc=0.0, scale=1.0, size=None, dtype=None):
    """``(new_rng, draw)``: normal with mean ``loc`` and standard deviation ``scale``."""
    return _pair(NormalRV(dtype).make_node(rng, size, loc, scale))


def binomial(rng, n=1, p=0.5, size=None, dtype=None):
    """``(new_rng, draw)``: successes in ``n`` trials of probability ``p`` (int64)."""
    return _pair(BinomialRV(dtype).make_node(rng, size, n, p))


def integers(rng, low, high=None, size=None, dtype=None, endpoint=False):
    """``(new_rng, draw)``: integers in [low, high) ([0, low) when high is None; [low,
    high] with ``endpoint``)."""
    if high is None:
        low, high = 0, low
    return _pair(IntegersRV(dtype, endpoint).make_node(rng, size, low, high))


def multinomial(rng, n=1, pvals=(0.5, 0.5), size=None, dtype=None):
    """``(new_rng, draw)``: counts of ``n`` trials over pvals' last axis; a matrix of
    pvals draws once per row."""
    return _pair(MultinomialRV(dtype).make_node(rng, size, n, pvals))


def choice(rng, a, size=None, replace=True, p=None):
    """``(new_rng, draw)``: samples of ``a``'s entries (``arange(a)`` for an integer)."""
    return _pair(ChoiceRV(replace).make_node(rng, size, a, p))


def permutation(rng, x):
    """``(new_rng, draw)``: a permutation of ``arange(x)`` or of x's rows."""
    return _pair(PermutationRV().make_node(rng, None, x))


# ----------------------------------------------------------------------- streams

def _check_ndim(out, ndim, who):
    if ndim is not None and out.ndim != ndim:
        raise ValueError(f"{who}: ndim={ndim} was given, but the draw has {out.ndim} "
                         f"dimensions ({out.type}); fix size or the parameters' shapes")
    return out


def _entropy(seed, who):
    ints = (int, np.integer)
    if seed is not None and not isinstance(seed, ints) and not (
            isinstance(seed, (list, tuple)) and all(isinstance(s, ints) for s in seed)):
        raise TypeError(f"{who}: seed must be None, a non-negative int or a sequence of them, "
                        f"got {type(seed).__name__} {seed!r}")
    try:
        return np.random.SeedSequence(seed).entropy
    except (TypeError, ValueError) as e:
        raise ValueError(f"{who}: bad seed {seed!r}: {e}") from None


class RandomStream:
    """A source of random draws for graphs (PyTensor's RandomStream).

    Each method call creates a new shared generator (listed in ``state_updates``)
    seeded from the stream's seed, and returns a symbolic draw whose generator is
    advanced by every function that computes it.
    """

    def __init__(self, seed=None):
        self.default_seed = seed
        self._entropy = _entropy(seed, "RandomStream")
        #: (shared generator, its state after the draw), one pair per draw, in order
        self.state_updates: list = []

    def _generator(self, k):
        return np.random.default_rng(np.random.SeedSequence(self._entropy, spawn_key=(k,)))

    def gen(self, draw, *args, **kwargs):
        """Apply ``draw(rng, *args, **kwargs) -> (new_rng, value)`` (a functional draw of
        this module, or any function of that form) to a fresh shared generator."""
        k = len(self.state_updates)
        rng = shared_generator(self._generator(k), name=f"rng{k}", borrow=True)
        new_rng, out = draw(rng, *args, **kwargs)
        rng.default_update = new_rng
        self.state_updates.append((rng, new_rng))
        out.tag.rng = rng
        out.tag.update = (rng, new_rng)
        return out

    def updates(self):
        """The (shared generator, new state) pairs, as Theano's RandomStreams gave them."""
        return list(self.state_updates)

    def seed(self, seed=None):
        """Reseed every generator of the stream (None: the stream's own seed again), so
        the stream draws as a fresh ``RandomStream(seed)`` making the same draws would."""
        if seed is None:
            seed = self.default_seed
        self._entropy = _entropy(seed, "RandomStream.seed")
        for k, (rng, _) in enumerate(self.state_updates):
            rng.set_value(self._generator(k), borrow=True)

    # ------------------------------------------------------------ distributions
    def uniform(self, low=0.0, high=1.0, size=None, dtype=None, ndim=None):
        """Uniform on [low, high), floatX unless ``dtype``."""
        return _check_ndim(self.gen(uniform, low, high, size, dtype), ndim, "uniform")

    def normal(self, loc=0.0, scale=1.0, size=None, dtype=None, ndim=None, *, avg=None,
               std=None):
        """Normal with mean ``loc`` (Theano: ``avg``) and deviation ``scale`` (``std``)."""
        loc = loc if avg is None else avg
        scale = scale if std is None else std
        return _check_ndim(self.gen(normal, loc, scale, size, dtype), ndim, "normal")

    def binomial(self, n=1, p=0.5, size=None, dtype="int64", ndim=None, *, prob=None):
        """Successes in ``n`` trials of probability ``p`` (Theano: ``prob``)."""
        p = p if prob is None else prob
        return _check_ndim(self.gen(binomial, n, p, size, dtype), ndim, "binomial")

    def integers(self, low, high=None, size=None, dtype="int64", ndim=None):
        """Integers in [low, high); [0, low) when ``high`` is None."""
        return _check_ndim(self.gen(integers, low, high, size, dtype), ndim, "integers")

    def random_integers(self, low=0, high=1, size=None, dtype="int64", ndim=None):
        """Integers in [low, high], both ends included (Theano's random_integers)."""
        return _check_ndim(self.gen(integers, low, high, size, dtype, endpoint=True), ndim,
                           "random_integers")

    def multinomial(self, n=1, pvals=(0.5, 0.5), size=None, dtype="int64", ndim=None):
        """int64 counts of ``n`` trials: pvals (k,) gives (k,) or size + (k,); pvals
        (batch, k) gives one draw per row, (batch, k)."""
        out = self.gen(multinomial, n, pvals, size, dtype)
        return _check_ndim(out, ndim, "multinomial")

    def choice(self, a=2, size=None, replace=True, p=None, ndim=None, dtype=None):
        """Samples of ``a``'s entries (``arange(a)`` for an integer ``a``)."""
        out = _check_ndim(self.gen(choice, a, size, replace, p), ndim, "choice")
        return out if dtype is None or out.dtype == dtype else out.astype(dtype)

    def permutation(self, x, ndim=None, dtype=None):
        """A random permutation of ``arange(x)`` (integer x) or of x's rows."""
        out = _check_ndim(self.gen(permutation, x), ndim, "permutation")
        return out if dtype is None or out.dtype == dtype else out.astype(dtype)


class RandomStreams(RandomStream):
    """Theano's ``RandomStreams``: a RandomStream whose methods take ``size`` first, as
    Theano's did (``srng.uniform((2, 3))``, ``srng.normal(size, avg, std)``), so old
    scripts run unchanged; keyword calls work the same on both classes."""

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None):
        return super().uniform(low, high, size, dtype, ndim)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None, *, loc=None,
               scale=None):
        return super().normal(avg if loc is None else loc, std if scale is None else scale,
                              size, dtype, ndim)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", prob=None):
        return super().binomial(n, p, size, dtype, ndim, prob=prob)

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64"):
        return super().random_integers(low, high, size, dtype, ndim)

    def multinomial(self, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64"):
        return super().multinomial(n, pvals, size, dtype, ndim)

    def choice(self, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64"):
        return super().choice(a, size, replace, p, ndim, dtype)

    def permutation(self, size=None, n=1, ndim=None, dtype="int64"):
        if size is not None and size != () and size != []:
            raise NotImplementedError("RandomStreams.permutation: only one permutation per "
                                      "draw (size=None or ()); stack several draws instead")
        return super().permutation(n, ndim, dtype)
