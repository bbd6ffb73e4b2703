"""Tensor graph rewrites; importing this package registers them in the database."""

from symgraph.tensor.rewriting import basic, shape, math, stabilize, specialize, fusion  # noqa: F401
