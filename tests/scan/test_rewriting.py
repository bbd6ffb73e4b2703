"""Scan rewrites: small constant non-sequences are written into the loop body."""

import numpy as np

import symgraph as sg
import symgraph.tensor as T
from symgraph.scan import rewriting
from symgraph.scan.op import Scan


def _scan_node(f):
    nodes = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Scan)]
    assert len(nodes) == 1
    return nodes[0]


def _reshaped_row_sums(shape):
    x = T.dmatrix("x")

    def step(row, s):
        return row.reshape(s).sum(axis=0)

    out, _ = sg.scan(step, sequences=[x], non_sequences=[shape])
    return x, out


def _static_shape():
    """A non-sequence that becomes a constant only when the outer graph is rewritten
    (the shape of a variable whose static shape is known)."""
    return sg.shared(np.zeros((3, 2)), name="m", shape=(3, 2)).shape


def test_small_constant_non_sequence_goes_into_the_body(mode):
    x, out = _reshaped_row_sums(_static_shape())
    f = sg.function([x], out, mode=mode)
    node = _scan_node(f)
    assert len(node.inputs) == 2  # n_steps and the sequence: the constant is inside
    # the body now knows the reshape's target, so the static shape of a step's result
    assert node.op.inner_outputs[0].type.shape == (2,)
    xv = np.arange(12.0).reshape(2, 6)
    np.testing.assert_array_equal(f(xv), xv.reshape(2, 3, 2).sum(axis=1))


def test_large_constant_and_variables_stay_inputs(monkeypatch):
    monkeypatch.setattr(rewriting, "INLINE_CONSTANT_SIZE", 1)
    x, out = _reshaped_row_sums(_static_shape())
    f = sg.function([x], out, mode="py")
    assert len(_scan_node(f).inputs) == 3
    xv = np.arange(12.0).reshape(2, 6)
    np.testing.assert_array_equal(f(xv), xv.reshape(2, 3, 2).sum(axis=1))
    s = T.tensor(dtype="int64", shape=(2,), name="s")
    x2, out2 = _reshaped_row_sums(s)
    g = sg.function([x2, s], out2, mode="py")
    assert len(_scan_node(g).inputs) == 3
    np.testing.assert_array_equal(g(xv, [2, 3]), xv.reshape(2, 2, 3).sum(axis=1))


def test_gradient_through_a_scan_with_a_constant_non_sequence(mode):
    w = T.dvector("w")
    c = sg.shared(np.zeros(3), name="m", shape=(3,)).shape * np.array([1.0, -2.0, 0.5]) / 3

    def step(h, c_):
        return T.tanh(h * c_ + w)

    hs, _ = sg.scan(step, outputs_info=[T.zeros_like(w)], non_sequences=[c], n_steps=4)
    g = sg.grad(hs[-1].sum(), w)
    f = sg.function([w], g, mode=mode)
    wv = np.array([0.3, -0.1, 0.2])
    eps = 1e-6
    fd = [(sg.function([w], hs[-1].sum(), mode="py")(wv + eps * e) -
           sg.function([w], hs[-1].sum(), mode="py")(wv - eps * e)) / (2 * eps)
          for e in np.eye(3)]
    np.testing.assert_allclose(f(wv), fd, rtol=1e-6)


def test_length_of_a_non_sequence_is_taken_inside_the_body(mode):
    from symgraph.tensor.creation import Alloc
    xs = T.dvector("xs")
    w = T.dvector("w")

    def step(x_t, w_):
        # the body's alloc has w's length: scan() hoists w.shape[0] out of the body
        return (T.alloc(x_t, w_.shape[0]) * w_).sum()

    out, _ = sg.scan(step, sequences=[xs], non_sequences=[w])
    f = sg.function([xs, w], out, mode=mode)
    node = _scan_node(f)
    inner_ops = [v.owner.op for v in _inner_variables(node.op) if v.owner is not None]
    # the length is Shape_i of the body's own w, so the alloc became broadcasting
    assert not any(isinstance(op, Alloc) for op in inner_ops)
    assert len(node.inputs) == 3  # n_steps, xs, w
    xv, wv = np.array([1.0, -2.0, 0.5]), np.array([3.0, 4.0])
    np.testing.assert_allclose(f(xv, wv), xv * wv.sum())


def _inner_variables(op):
    from symgraph.graph.basic import ancestors
    return ancestors(op.inner_outputs, blockers=op.inner_inputs)
