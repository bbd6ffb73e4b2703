"""Scalar ops: the per-element meaning of elementwise operations."""

from symgraph.scalar.basic import ScalarOp, ScalarType, all_scalar_ops, cast_op, get_scalar_op  # noqa: F401
from symgraph.scalar import math  # noqa: F401
