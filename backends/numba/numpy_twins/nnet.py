"""Twins of the nnet kernels (dispatch/nnet.py): Softmax, LogSoftmax,
CrossentropyCategorical1Hot and CrossentropySoftmax1Hot.

The kernels compute, per slice along the axis (the last one for the crossentropies),
in the output dtype:

- the maximum: the first element greater than all before it (``v > m``), a NaN
  taking over; ``argmax`` finds the same element (the first of the largest value),
  and in a slice holding a NaN every output is NaN whichever NaN the kernel kept;
- ``exp(x - max)`` by the C library (``np.exp`` of a scalar in numba: exp, or expf
  for float32; maps.py's libm maps), summed in order from 0 (``add.accumulate``
  adds one element after the other; a reduction would sum pairwise);
- the division by the sum, or the subtraction of its log (the C library's log).

Labels: the shape of the logits minus their last axis (ValueError otherwise), each
in [0, n_classes) once converted to int64 (IndexError otherwise). Outputs are new
C-contiguous arrays.

Before accepting a node the twin checks that the kernel dispatch/nnet.py writes for
it has the lines replayed here, and that numba calls the C library once per element
(no SVML), so a change there makes the twin fall back rather than be wrong.
"""

from __future__ import annotations

import numpy as np

from backends.numba.numpy_twins import maps, register
from symgraph.tensor.nnet import (
    CrossentropyCategorical1Hot, CrossentropySoftmax1Hot, LogSoftmax, Softmax,
)

FLOATS = ("float32", "float64")


def _kernel_has(node, *fragments):
    """Whether the kernel source of ``node`` holds every fragment (whitespace ignored)."""
    from backends.numba.dispatch import builder_for

    builder = builder_for(node.op)
    if builder is None:
        return False
    try:
        src = builder(node.op, node).source
    except Exception:
        return False
    flat = "".join(src.split())
    return "vm_." not in src and all("".join(f.split()) in flat for f in fragments)


def _covered(node, *fragments):
    return (node.outputs[0].type.dtype in FLOATS and maps.libm_is_scalar()
            and _kernel_has(node, *fragments))


def _c_array(a, dtype):
    """``a`` (a new array) as a C-contiguous array of ``dtype``, 0-d kept 0-d."""
    a = np.asarray(a, dtype=dtype)
    return a if a.flags.c_contiguous else a.copy(order="C")


def _first_max(x, axis):
    """The kernel's running maximum along ``axis`` (kept as a length-1 axis)."""
    return np.take_along_axis(x, np.argmax(x, axis=axis, keepdims=True), axis=axis)


def _sum_in_order(e, axis):
    """((0 + e[0]) + e[1]) + ... along ``axis``, kept as a length-1 axis; e >= +0 or
    NaN (exp's values), so 0 + e[0] is e[0]."""
    acc = np.add.accumulate(e, axis=axis)
    return np.take(acc, [e.shape[axis] - 1], axis=axis)


@register(Softmax, LogSoftmax)
def softmax_twin(node):
    """Softmax and LogSoftmax of real outputs (float32 or float64, any input dtype,
    any axis); None where numba uses SVML or the kernel's source is not the one
    replayed."""
    log = isinstance(node.op, LogSoftmax)
    frags = ["if v > m", "or v != v:", "z = v - mk", "e = np.exp(z)", "+= e",
             "= z" if log else "= e", "- np.log(s" if log else "/ s"]
    if log:
        frags.append("if not np.isfinite(mk):")
    if not _covered(node, *frags):
        return None
    dt = node.outputs[0].type.numpy_dtype
    ndim = node.inputs[0].ndim
    axis = node.op.axis % ndim

    def perform(node, inputs, output_storage):
        x = np.asarray(inputs[0]).astype(dt)     # a new array, as the kernel's loads
        if x.size == 0:
            output_storage[0][0] = np.empty(x.shape, dtype=dt)
            return
        with np.errstate(all="ignore"):
            m = _first_max(x, axis)
            if log:
                m = np.where(np.isfinite(m), m, dt.type(0))
            z = x - m
            e = maps.apply("libm", "exp", z)
            s = _sum_in_order(e, axis)
            out = z - maps.apply("libm", "log", s) if log else e / s
        output_storage[0][0] = _c_array(out, dt)
    return perform


def _labels(what, x, y):
    """y as int64, checked as the kernels check it."""
    y = np.asarray(y)
    if y.shape != x.shape[:-1]:
        raise ValueError(f"{what}: the labels do not have the shape of the other input "
                         "without its last axis")
    lab = y.astype(np.int64)
    if ((lab < 0) | (lab >= x.shape[-1])).any():
        raise IndexError(f"{what}: a label is out of range for the number of classes")
    return lab


@register(CrossentropySoftmax1Hot)
def crossentropy_softmax_1hot_twin(node):
    """log(sum(exp(x - max))) - (x[..., y] - max) per row, real outputs; None where
    numba uses SVML or the kernel's source is not the one replayed."""
    if not _covered(node, "if v > mx or v != v:", "s +=", "np.exp(",
                    "np.log(s) - ("):
        return None
    dt = node.outputs[0].type.numpy_dtype

    def perform(node, inputs, output_storage):
        x, y = inputs
        x = np.asarray(x)
        lab = _labels("crossentropy_softmax_1hot", x, y)
        if lab.size == 0:
            output_storage[0][0] = np.empty(lab.shape, dtype=dt)
            return
        x = x.astype(dt)
        with np.errstate(all="ignore"):
            mx = _first_max(x, -1)
            e = maps.apply("libm", "exp", x - mx)
            s = _sum_in_order(e, -1)[..., 0]
            picked = np.take_along_axis(x, lab[..., None], axis=-1)[..., 0]
            out = maps.apply("libm", "log", s) - (picked - mx[..., 0])
        output_storage[0][0] = _c_array(out, dt)
    return perform


@register(CrossentropyCategorical1Hot)
def crossentropy_categorical_1hot_twin(node):
    """-log(p[..., y]) in p's dtype (float32 or float64); None where numba uses SVML
    or the kernel's source is not the one replayed."""
    if node.inputs[0].type.dtype != node.outputs[0].type.dtype or \
            not _covered(node, "= -np.log(a0["):
        return None
    dt = node.outputs[0].type.numpy_dtype

    def perform(node, inputs, output_storage):
        p, y = inputs
        p = np.asarray(p)
        lab = _labels("crossentropy_categorical_1hot", p, y)
        if lab.size == 0:
            output_storage[0][0] = np.empty(lab.shape, dtype=dt)
            return
        picked = np.take_along_axis(p, lab[..., None], axis=-1)[..., 0]
        with np.errstate(all="ignore"):
            out = -maps.apply("libm", "log", picked)
        output_storage[0][0] = _c_array(out, dt)
    return perform
