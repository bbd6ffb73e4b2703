import pickle

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph import function, shared


def test_shared_copies_unless_borrowed():
    a = np.arange(3.0)
    s = shared(a)
    a[0] = 100.0
    assert s.get_value()[0] == 0.0
    v = s.get_value()
    v[1] = 100.0
    assert s.get_value()[1] == 1.0
    b = np.arange(3.0)
    sb = shared(b, borrow=True)
    b[0] = 7.0
    assert sb.get_value(borrow=True)[0] == 7.0
    sb.get_value(borrow=True)[1] = 8.0
    assert b[1] == 8.0


def test_set_value_copies_unless_borrowed():
    s = shared(np.zeros(2))
    new = np.ones(2)
    s.set_value(new)
    new[0] = 5.0
    assert s.get_value()[0] == 1.0
    s.set_value(new, borrow=True)
    new[1] = 6.0
    assert s.get_value()[1] == 6.0


def test_shared_type_and_static_shape():
    s = shared(np.zeros((2, 3), dtype="float32"), name="w")
    assert s.type == T.TensorType("float32", shape=(None, None))
    assert s.name == "w" and s.dtype == "float32" and s.ndim == 2
    r = shared(np.zeros((1, 3)), shape=(1, None))
    assert r.broadcastable == (True, False)
    b = shared(np.zeros((1, 3)), broadcastable=(True, False))
    assert b.type == r.type
    with pytest.raises(TypeError, match="static shape"):
        r.set_value(np.zeros((2, 3)))
    assert shared(1.5).dtype == "float64" and shared(3).dtype == "int64"


def test_set_value_type_checks():
    s = shared(np.zeros(2, dtype="float32"))
    with pytest.raises(TypeError, match="float32"):
        s.set_value(np.zeros(2))  # float64 array, would lose precision
    with pytest.raises(TypeError, match="dimensions"):
        s.set_value(np.zeros((2, 2), dtype="float32"))
    t = shared(np.zeros(2, dtype="float32"), allow_downcast=True)
    t.set_value(np.ones(2))
    assert t.get_value().dtype == np.float32
    st = shared(np.zeros(2), strict=True)
    with pytest.raises(TypeError, match="strict"):
        st.set_value([1.0, 2.0])


def test_shared_refuses_symbolic_and_object_values():
    with pytest.raises(TypeError, match="symbolic"):
        shared(T.vector())
    with pytest.raises(TypeError, match="numeric"):
        shared(np.array(["a"]))


def test_functions_share_one_container():
    s = shared(0.0, name="s")
    inc = function([], [], updates=[(s, s + 1)])
    read = function([], s)
    inc()
    inc()
    assert read() == 2.0
    s.set_value(10.0)
    assert read() == 10.0


def test_shared_pickles_with_value():
    s = shared(np.arange(3.0), name="s")
    s2 = pickle.loads(pickle.dumps(s))
    np.testing.assert_allclose(s2.get_value(), np.arange(3.0))
    assert s2.name == "s" and s2.type == s.type
    s2.set_value(np.zeros(3))
    assert s.get_value()[1] == 1.0


def test_complex_shared():
    z = shared(np.array([1 + 2j, 3 - 1j]), name="z")
    assert z.dtype == "complex128"
    f = function([], [], updates=[(z, z * 1j)])
    f()
    np.testing.assert_allclose(z.get_value(), [1j - 2, 3j + 1])


def test_shared_in_expressions_with_floatX():
    with sg.change_flags(floatX="float32"):
        w = shared(np.ones(2, dtype="float32"))
        y = w * 0.5
        assert y.dtype == "float32"
