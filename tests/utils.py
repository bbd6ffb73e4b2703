"""Test helpers shared across the suite: random test data, compile-and-compare and
infer_shape checks."""

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


def random_value(dtype, shape, rng, low=-2.0, high=2.0, int_low=0, int_high=9):
    """Random data of ``dtype`` and ``shape``: bool 0/1, integers uniform in
    ``[int_low, int_high)`` (never negative for unsigned dtypes), floats uniform in
    ``[low, high)``, complex numbers with real and imaginary parts uniform there."""
    kind = np.dtype(dtype).kind
    if kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    if kind in "iu":
        return rng.integers(max(int_low, 0) if kind == "u" else int_low, int_high,
                            shape).astype(dtype)
    v = rng.uniform(low, high, shape)
    if kind == "c":
        v = v + 1j * rng.uniform(low, high, shape)
    return v.astype(dtype)


def check_cases(mode, inputs, values, cases):
    """Compile the outputs of every ``(output, expected)`` case in one function of
    ``inputs``, call it on ``values``, and check each output's dtype and static shape
    against the expected value, then the value itself."""
    f = sg.function(inputs, [c[0] for c in cases], mode=mode, on_unused_input="ignore")
    for (out, want), got in zip(cases, f(*values)):
        assert out.dtype == np.asarray(want).dtype, (out, out.dtype, np.asarray(want).dtype)
        for s, n in zip(out.type.shape, np.shape(want)):
            assert s is None or s == n, (out, out.type.shape, np.shape(want))
        assert_allclose(got, want)


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
            if not isinstance(out.type, TensorType):
                counts.append(None)  # a random generator state has no shape
                continue
            assert len(shp) == out.ndim, f"{node.op}: infer_shape rank {len(shp)} != {out.ndim}"
            flat.extend(as_tensor_variable(s) for s in shp)
            counts.append(len(shp))
        f = sg.function(inputs, list(node.outputs) + flat, mode=mode, on_unused_input="ignore")
        res = f(*values)
        vals, dims = res[:len(node.outputs)], res[len(node.outputs):]
        k = 0
        for v, c, out in zip(vals, counts, node.outputs):
            if c is None:
                continue
            inferred = tuple(int(d) for d in dims[k:k + c])
            k += c
            assert inferred == np.shape(v), \
                f"{node.op}: infer_shape says {inferred}, the output has shape {np.shape(v)}"
            for s, n in zip(out.type.shape, np.shape(v)):
                assert s is None or s == n, f"{node.op}: static shape {out.type.shape} vs {np.shape(v)}"
