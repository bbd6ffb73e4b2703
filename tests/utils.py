"""Test helpers shared across the suite: compile-and-compare and infer_shape checks."""

from __future__ import annotations

import numpy as np

import symgraph as sg
from symgraph.tensor.basic import as_tensor_variable
from symgraph.tensor.shape import shape_i
from symgraph.tensor.type import TensorType


def run(inputs, outputs, values, mode="py", **kwargs):
    """Compile ``outputs`` of ``inputs`` in ``mode`` and call it on ``values``."""
    f = sg.function(inputs, outputs, mode=mode, on_unused_input="ignore", **kwargs)
    return f(*values)


def assert_allclose(actual, expected, rtol=None, atol=None, dtype=True):
    """allclose with tolerances fitted to the dtype, and a dtype check."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if dtype:
        assert actual.dtype == expected.dtype, f"dtype {actual.dtype} != expected {expected.dtype}"
    assert actual.shape == expected.shape, f"shape {actual.shape} != expected {expected.shape}"
    if actual.dtype.kind in "fc":
        low = actual.dtype in (np.float32, np.complex64)
        rtol = rtol if rtol is not None else (1e-5 if low else 1e-10)
        atol = atol if atol is not None else (1e-6 if low else 1e-12)
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(actual, expected)


def check_infer_shape(outputs, inputs, values, mode="py"):
    """Check each output node's ``Op.infer_shape`` against the real output shapes.

    The symbolic shapes are computed from symbolic input shapes (Shape_i of each
    input), compiled, and compared with the shapes of the computed outputs.
    """
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    nodes = []
    for o in outputs:
        if o.owner is not None and o.owner not in nodes:
            nodes.append(o.owner)
    assert nodes, "no Apply node to check"
    for node in nodes:
        in_shapes = [tuple(shape_i(i, d) for d in range(i.ndim))
                     if isinstance(i.type, TensorType) else None for i in node.inputs]
        shapes = node.op.infer_shape(None, node, in_shapes)
        assert len(shapes) == len(node.outputs), f"{node.op}: infer_shape gave {len(shapes)} shapes"
        flat, counts = [], []
        for out, shp in zip(node.outputs, shapes):
            assert len(shp) == out.ndim, f"{node.op}: infer_shape rank {len(shp)} != {out.ndim}"
            flat.extend(as_tensor_variable(s) for s in shp)
            counts.append(len(shp))
        f = sg.function(inputs, list(node.outputs) + flat, mode=mode, on_unused_input="ignore")
        res = f(*values)
        vals, dims = res[:len(node.outputs)], res[len(node.outputs):]
        k = 0
        for v, c, out in zip(vals, counts, node.outputs):
            inferred = tuple(int(d) for d in dims[k:k + c])
            k += c
            assert inferred == np.shape(v), \
                f"{node.op}: infer_shape says {inferred}, the output has shape {np.shape(v)}"
            for s, n in zip(out.type.shape, np.shape(v)):
                assert s is None or s == n, f"{node.op}: static shape {out.type.shape} vs {np.shape(v)}"
