"""Gradient modifiers (disconnected_grad, zero_grad, grad_clip, grad_scale, ...): the
identity forward. Rewrites normally remove them; without rewrites each is a view of
its first input (the op declares view_map {0: [0]}), the other inputs unused."""

from __future__ import annotations

from backends.numba.dispatch import Kernel, register
from symgraph.gradient import GradientModifier


@register(GradientModifier)
def build_gradient_modifier(op, node):
    args = ", ".join(f"a{i}" for i in range(len(node.inputs)))
    return Kernel(f"def KERNEL_NAME({args}):\n    return a0\n")
