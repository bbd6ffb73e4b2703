"""NumPy twins of the nnet kernels (backends/numba/numpy_twins/nnet.py) give their
values to the bit: the C library's exp and log, the sums in the kernel's order, the
same errors for bad labels."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symgraph.tensor as T
from backends.numba.numpy_twins import numpy_twin
from symgraph.tensor.nnet import (
    CrossentropyCategorical1Hot, CrossentropySoftmax1Hot, LogSoftmax, Softmax,
)
from tests.backends.numba.numpy_twins.test_elemwise import (
    SETTINGS, assert_new_c_arrays, assert_same_bits, kernel_and_twin, laid_out, run, values,
)

# name -> (op, input dtype, static shape of the input, label dtype or None)
CASES = {
    "softmax_rnn": (Softmax(1), "float64", (None, None), None),
    "softmax_axis0": (Softmax(0), "float64", (None, None), None),
    "softmax_1d": (Softmax(-1), "float64", (None,), None),
    "softmax_3d_f32": (Softmax(1), "float32", (None, None, None), None),
    "softmax_int16": (Softmax(-1), "int16", (None, None), None),
    "softmax_f32_row": (Softmax(1), "float32", (1, None), None),
    "log_softmax": (LogSoftmax(-1), "float64", (None, None), None),
    "log_softmax_3d_axis0": (LogSoftmax(0), "float64", (None, None, None), None),
    "log_softmax_f32_1d": (LogSoftmax(0), "float32", (None,), None),
    "xent_softmax_rnn": (CrossentropySoftmax1Hot(), "float64", (None, None), "int64"),
    "xent_softmax_f32_3d": (CrossentropySoftmax1Hot(), "float32", (None, None, None), "int32"),
    "xent_softmax_1d": (CrossentropySoftmax1Hot(), "float64", (None,), "uint8"),
    "xent_softmax_int8": (CrossentropySoftmax1Hot(), "int8", (None, None), "int64"),
    "xent_categorical": (CrossentropyCategorical1Hot(), "float64", (None, None), "int64"),
    "xent_categorical_f32": (CrossentropyCategorical1Hot(), "float32", (None, None), "int16"),
}


def nnet_node(op, dtype, shape, label_dtype):
    x = T.tensor(dtype, shape=shape)
    if label_dtype is None:
        return op(x).owner
    return op(x, T.tensor(label_dtype, shape=(None,) * (len(shape) - 1))).owner


@functools.lru_cache(maxsize=None)
def compiled(name):
    return kernel_and_twin(nnet_node(*CASES[name]))


@st.composite
def nnet_inputs(draw, node):
    x_var = node.inputs[0]
    ndim = x_var.ndim
    cap = int(3000 ** (1 / ndim)) if draw(st.booleans()) else 5
    shape = tuple(1 if b else draw(st.integers(0, cap)) for b in x_var.type.broadcastable)
    x = values(x_var.type.dtype, shape)
    if isinstance(node.op, CrossentropyCategorical1Hot):  # probabilities, zeros too
        x = x.map(lambda a: np.where(np.isnan(a) | (a > 0), np.abs(np.tanh(a)), 0.0)
                  .astype(a.dtype))
    inputs = [draw(laid_out(draw(x)))]
    if len(node.inputs) == 2:
        k = shape[-1]
        ldt = np.dtype(node.inputs[1].type.dtype)
        rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
        lab = rng.integers(0, max(k, 1), size=shape[:-1])
        if lab.size and draw(st.integers(0, 9)) == 0:  # now and then one out of range
            lab.flat[draw(st.integers(0, lab.size - 1))] = draw(
                st.sampled_from([k, k + 3, -1] if ldt.kind == "i" else [k, k + 3]))
        inputs.append(draw(laid_out(lab.astype(ldt))))
    return inputs


def outcome(perform, node, inputs):
    try:
        return run(perform, node, inputs), None
    except (IndexError, ValueError) as e:
        return None, type(e)


@pytest.mark.parametrize("name", sorted(CASES))
@SETTINGS
@given(data=st.data())
def test_twin_gives_the_kernels_bits(name, data):
    node, kernel, twin = compiled(name)
    inputs = data.draw(nnet_inputs(node))
    want, want_err = outcome(kernel, node, inputs)
    got, got_err = outcome(twin, node, inputs)
    assert got_err is want_err
    if want is not None:
        assert_same_bits(got, want)
        assert_new_c_arrays(got, inputs)


def test_label_shape_mismatch_raises_as_the_kernel():
    node, kernel, twin = compiled("xent_softmax_rnn")
    for perform in (kernel, twin):
        with pytest.raises(ValueError):
            run(perform, node, [np.zeros((3, 4)), np.zeros(2, dtype=np.int64)])


def test_softmax_sums_in_the_kernels_order():
    # long float32 rows: NumPy's pairwise sum rounds otherwise, the twin does not
    node, kernel, twin = compiled("softmax_3d_f32")
    x = np.random.default_rng(5).normal(size=(2, 3000, 3)).astype(np.float32)
    want = run(kernel, node, [x])
    assert_same_bits(run(twin, node, [x]), want)
    assert not np.array_equal(run(node.op.perform, node, [x])[0], want[0])


def test_rnn_nodes_get_a_twin():
    x, y = T.dmatrix("x"), T.lvector("y")
    assert str(Softmax(1)(x).owner.op) == "Softmax{1}"
    for out in (Softmax(1)(x), CrossentropySoftmax1Hot()(x, y), LogSoftmax(-1)(x),
                CrossentropyCategorical1Hot()(x, y), Softmax(0)(T.ivector("i"))):
        assert numpy_twin(out.owner) is not None, out.owner.op
