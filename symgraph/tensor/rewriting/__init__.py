"""Tensor graph rewrites; importing this package registers them in the database."""

from symgraph.tensor.rewriting import (  # noqa: F401
    basic, shape, math, stabilize, specialize, blas, fusion,
)
