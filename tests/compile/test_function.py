"""function(): calling conventions, outputs, updates, givens and their semantics."""

import pickle
import warnings

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph import In, Out, function, shared
from symgraph.compile.function import UnusedInputError
from symgraph.graph.fg import MissingInputError


# ----------------------------------------------------------------------- calling

def test_positional_keyword_and_defaults(mode):
    x, y = T.dscalars("x", "y")
    f = function([x, In(y, value=10.0)], x - y, mode=mode)
    assert f(3.0) == -7.0
    assert f(3.0, 1.0) == 2.0
    assert f(y=1.0, x=3.0) == 2.0
    assert f(3.0, y=2.0) == 1.0


def test_in_name_overrides_variable_name():
    x = T.dscalar("x")
    f = function([In(x, name="alpha", value=1.0)], x * 2)
    assert f(alpha=4.0) == 8.0
    assert f() == 2.0


def test_calling_errors_are_clear():
    x, y = T.dscalars("x", "y")
    f = function([x, y], x + y, name="adder")
    with pytest.raises(TypeError, match="missing argument 'y'"):
        f(1.0)
    with pytest.raises(TypeError, match="takes 2 argument"):
        f(1.0, 2.0, 3.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        f(1.0, z=2.0)
    with pytest.raises(TypeError, match="several values for argument 'x'"):
        f(1.0, 2.0, x=3.0)


def test_input_type_checks_name_the_input_and_both_types():
    x = T.dvector("x")
    f = function([x], x * 2, name="double")
    with pytest.raises(TypeError, match=r"bad argument 'x'.*expected TensorType\(float64, shape=\(\?,\)\)"):
        f(np.ones((2, 2)))
    with pytest.raises(TypeError, match="number of dimensions"):
        f(np.ones((2, 2)))


def test_downcast_rules():
    x = T.fvector("x")
    f = function([x], x * 2)
    with pytest.raises(TypeError, match="allow_input_downcast=True"):
        f(np.ones(3))  # float64 array into float32
    with pytest.raises(TypeError, match="lose precision"):
        f([0.1])  # a Python float that float32 cannot hold exactly
    assert f([0.5]).dtype == np.float32  # exact: accepted
    g = function([x], x * 2, allow_input_downcast=True)
    assert g(np.ones(3)).dtype == np.float32
    i = T.ivector("i")
    h = function([i], i + 1)
    np.testing.assert_array_equal(h([1, 2]), [2, 3])  # Python ints that fit
    with pytest.raises(TypeError):
        h(np.array([1.5]))
    with sg.change_flags(floatX="float32"):
        k = function([x], x * 2)
        assert k([0.1]).dtype == np.float32  # Python floats go to floatX


def test_strict_input():
    x = T.dvector("x")
    f = function([In(x, strict=True)], x)
    with pytest.raises(TypeError, match="strict"):
        f([1.0, 2.0])
    f(np.array([1.0, 2.0]))


def test_inputs_must_be_free_variables():
    s = shared(np.ones(2), name="s")
    x = T.dvector("x")
    with pytest.raises(TypeError, match="shared variable s cannot be an explicit input"):
        function([s], s * 2)
    with pytest.raises(TypeError, match="constant"):
        function([T.constant(1.0)], x)
    with pytest.raises(TypeError, match="not a free variable"):
        function([x * 2], x)
    with pytest.raises(TypeError, match="must be a list"):
        function(x, x)
    with pytest.raises(ValueError, match="given twice"):
        function([x, x], x)


def test_missing_and_unused_inputs():
    x, y = T.dvectors("x", "y")
    with pytest.raises(MissingInputError, match=r"(?s)depend on y.*test_function.py"):
        function([x], x + y)
    with pytest.raises(UnusedInputError, match="on_unused_input"):
        function([x, y], x * 2)
    with pytest.warns(UserWarning, match="not used"):
        function([x, y], x * 2, on_unused_input="warn")
    f = function([x, y], x * 2, on_unused_input="ignore")
    np.testing.assert_allclose(f([1.0], [5.0]), [2.0])


# ----------------------------------------------------------------------- outputs

def test_output_forms(mode):
    x = T.dvector("x")
    f1 = function([x], x + 1, mode=mode)
    assert isinstance(f1([1.0]), np.ndarray)
    f2 = function([x], [x + 1, x * 2], mode=mode)
    a, b = f2([1.0])
    np.testing.assert_allclose(a, [2.0])
    np.testing.assert_allclose(b, [2.0])
    f3 = function([x], [x + 1], mode=mode)
    assert isinstance(f3([1.0]), list) and len(f3([1.0])) == 1
    f4 = function([x], Out(x * 3, borrow=True), mode=mode)
    np.testing.assert_allclose(f4([1.0]), [3.0])
    s = shared(0.0)
    f5 = function([], None, updates=[(s, s + 1)], mode=mode)
    assert f5() == []
    f6 = function([], [], updates=[(s, s + 1)], mode=mode)
    assert f6() == [] and s.get_value() == 2.0


def test_outputs_never_alias_inputs_shared_or_each_other():
    s = shared(np.arange(3.0), name="s")
    x = T.dvector("x")
    f = function([x], [s, s.T, x, x.T, x.T])
    out_s, out_sT, out_x, out_xT, out_xT2 = f(np.zeros(3))
    out_s[0] = 100.0
    out_sT[1] = 100.0
    assert s.get_value()[0] == 0.0 and s.get_value()[1] == 1.0
    out_xT[0] = 5.0
    assert out_xT2[0] == 0.0
    xin = np.zeros(3)
    r = f(xin)[2]
    r[0] = 7.0
    assert xin[0] == 0.0


def test_output_that_is_also_an_update_is_copied():
    acc = shared(np.zeros(2), name="acc")
    new = acc + 1
    f = function([], new, updates=[(acc, new)])
    out = f()
    out[0] = 99.0
    np.testing.assert_allclose(acc.get_value(), [1.0, 1.0])


# ----------------------------------------------------------------------- updates

def test_updates_read_values_from_the_start_of_the_call(mode):
    a = shared(1.0, name="a")
    b = shared(2.0, name="b")
    swap = function([], [], updates=[(a, b), (b, a)], mode=mode)
    swap()
    assert (a.get_value(), b.get_value()) == (2.0, 1.0)
    swap()
    assert (a.get_value(), b.get_value()) == (1.0, 2.0)
    c = shared(0.0, name="c")
    d = shared(0.0, name="d")
    f = function([], [], updates=[(c, c + 1), (d, c)], mode=mode)
    f()
    f()
    assert c.get_value() == 2.0 and d.get_value() == 1.0  # d saw c before its update


def test_swapped_arrays_do_not_alias_after_update():
    a = shared(np.zeros(2), name="a")
    b = shared(np.ones(2), name="b")
    function([], [], updates=[(a, b), (b, a)])()
    a.get_value(borrow=True)[0] = 5.0
    assert b.get_value()[0] == 0.0


def test_rmsprop_style_updates(mode):
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=3)
    p = shared(p0.copy(), name="p")
    acc = shared(np.zeros(3), name="acc")
    g = T.dvector("g")
    rho, lr, eps = 0.9, 0.1, 1e-6
    acc_new = rho * acc + (1 - rho) * g ** 2
    step = function([g], [], updates=[(acc, acc_new), (p, p - lr * g / T.sqrt(acc_new + eps))],
                    mode=mode)
    acc_ref, p_ref = np.zeros(3), p0.copy()
    for _ in range(3):
        gv = rng.normal(size=3)
        step(gv)
        acc_ref = rho * acc_ref + (1 - rho) * gv ** 2
        p_ref = p_ref - lr * gv / np.sqrt(acc_ref + eps)
    np.testing.assert_allclose(acc.get_value(), acc_ref)
    np.testing.assert_allclose(p.get_value(), p_ref)


def test_failed_call_writes_no_update(mode):
    a = shared(np.ones(3), name="a")
    b = shared(np.ones(3), name="b")
    x = T.dvector("x")
    f = function([x], a * x,
                 updates=[(a, a + 1), (b, b * x)], mode=mode)
    with pytest.raises(ValueError, match="shape mismatch"):
        f(np.ones(4))
    np.testing.assert_allclose(a.get_value(), np.ones(3))
    np.testing.assert_allclose(b.get_value(), np.ones(3))
    f(np.full(3, 2.0))
    np.testing.assert_allclose(a.get_value(), np.full(3, 2.0))
    np.testing.assert_allclose(b.get_value(), np.full(3, 2.0))


def test_updates_as_dict_and_bad_keys():
    s = shared(1.0, name="s")
    f = function([], s, updates={s: s * 3})
    assert f() == 1.0 and s.get_value() == 3.0
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="not a shared variable"):
        function([x], x, updates=[(x, x + 1)])
    with pytest.raises(ValueError, match="updated twice"):
        function([], s, updates=[(s, s + 1), (s, s + 2)])
    with pytest.raises(TypeError, match="pairs"):
        function([], s, updates=[s])


def test_update_dtype_rules():
    w = shared(np.ones(2, dtype="float32"), name="w")
    lr = T.dscalar("lr")
    with pytest.raises(TypeError, match=r"astype\('float32'\)"):
        function([lr], [], updates=[(w, w - lr * w)])
    f = function([lr], [], updates=[(w, (w - lr * w).astype("float32"))])
    f(0.5)
    assert w.get_value().dtype == np.float32
    # a weak Python number keeps float32
    function([], [], updates=[(w, w * 2.0)])()
    np.testing.assert_allclose(w.get_value(), [1.0, 1.0])
    # int updates of a float64 variable are cast safely
    d = shared(np.zeros(2), name="d")
    i = T.lvector("i")
    function([i], [], updates=[(d, i)])(np.array([1, 2]))
    np.testing.assert_allclose(d.get_value(), [1.0, 2.0])
    with pytest.raises(TypeError, match="dimensions"):
        function([], [], updates=[(d, d.dimshuffle("x", 0))])
    # a plain value as the update
    function([], [], updates=[(d, np.array([3.0, 4.0]))])()
    np.testing.assert_allclose(d.get_value(), [3.0, 4.0])


def test_update_of_broadcastable_shared_keeps_static_shape():
    s = shared(np.zeros((1, 3)), shape=(1, None), name="s")
    x = T.dmatrix("x")
    f = function([x], [], updates=[(s, x)])
    f(np.ones((1, 3)))
    with pytest.raises(Exception, match="shape"):
        f(np.ones((2, 3)))
    np.testing.assert_allclose(s.get_value(), np.ones((1, 3)))


def test_default_updates():
    counter = shared(0, name="counter")
    counter.default_update = counter + 1
    x = T.lscalar("x")
    f = function([x], x + counter)
    assert f(10) == 10 and f(10) == 11 and counter.get_value() == 2
    g = function([x], x + counter, no_default_updates=True)
    g(0)
    assert counter.get_value() == 2
    h = function([x], x + counter, no_default_updates=[counter])
    h(0)
    assert counter.get_value() == 2
    k = function([x], x + counter, updates=[(counter, counter + 10)])
    k(0)
    assert counter.get_value() == 12  # explicit update wins


# ----------------------------------------------------------------------- givens

def test_givens_replace_inputs_by_expressions_of_shared(mode):
    data = shared(np.arange(6.0), name="data")
    x = T.dvector("x")
    scale = T.dscalar("scale")
    f = function([scale], x * scale, givens={x: data * 2}, mode=mode)
    np.testing.assert_allclose(f(0.5), np.arange(6.0))
    g = function([scale], x * scale, givens=[(x, data)], mode=mode)
    np.testing.assert_allclose(g(2.0), np.arange(6.0) * 2)


def test_givens_types_must_match():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="types must match"):
        function([], x * 2, givens={x: T.dmatrix("m")})
    with pytest.raises(TypeError, match="types must match"):
        function([], x * 2, givens={x: T.fvector("f")})


def test_givens_value_becomes_constant():
    x = T.dvector("x")
    f = function([], x * 2, givens={x: [1.0, 2.0]})
    np.testing.assert_allclose(f(), [2.0, 4.0])


# ----------------------------------------------------------------------- errors

def test_runtime_error_names_node_shapes_and_user_line():
    x, y = T.dvectors("x", "y")
    z = x * y  # the line the error must show
    f = function([x, y], T.exp(z))
    with pytest.raises(ValueError) as info:
        f(np.ones(3), np.ones(4))
    msg = str(info.value)
    assert "mul" in msg and "(3,)" in msg and "(4,)" in msg
    assert "test_function.py" in msg and "the line the error must show" in msg


def test_op_returning_wrong_dtype_is_named():
    from symgraph.graph.basic import Apply
    from symgraph.graph.op import Op

    class Sloppy(Op):
        __props__ = ()

        def make_node(self, x):
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs, out):
            out[0][0] = inputs[0].astype("float32")

    x = T.dvector("x")
    f = function([x], Sloppy()(x))
    with pytest.raises(TypeError, match=r"Sloppy.perform returned output 0 with dtype float32"):
        f(np.ones(2))


# ----------------------------------------------------------------------- pickling

def test_function_pickles_with_its_shared_state(mode):
    s = shared(np.ones(2), name="s")
    x = T.dvector("x")
    f = function([x], s * x, updates=[(s, s + 1)], mode=mode)
    f(np.ones(2))
    f2, s2 = pickle.loads(pickle.dumps((f, s)))
    np.testing.assert_allclose(s2.get_value(), [2.0, 2.0])
    np.testing.assert_allclose(f2(np.ones(2)), [2.0, 2.0])
    np.testing.assert_allclose(s2.get_value(), [3.0, 3.0])
    np.testing.assert_allclose(s.get_value(), [2.0, 2.0])  # the original is independent
    # pickled alone, the function carries its own copy of the state
    f3 = pickle.loads(pickle.dumps(f))
    np.testing.assert_allclose(f3(np.ones(2)), [2.0, 2.0])


def test_trust_input_skips_checks():
    x = T.dvector("x")
    f = function([x], x + 1, trust_input=True)
    np.testing.assert_allclose(f(np.zeros(2)), [1.0, 1.0])


def test_repr_and_introspection():
    s = shared(0.0, name="s")
    x = T.dscalar("x")
    f = function([x], x + s, updates=[(s, s + x)], name="acc")
    assert "acc" in repr(f)
    assert f.get_shared() == [s]
    assert f.maker.fgraph is f.fgraph
    assert [i.name for i in f.inputs] == ["x"]


def test_call_path_written_per_function_keeps_the_general_semantics(mode):
    from symgraph.compile.function import Function
    x = T.tensor("float64", shape=(None, 3), name="x")
    n = T.lscalar("n")
    s = shared(np.zeros(3), name="s")
    f = function([x, In(n, value=2)], [x.sum(axis=0) * n, n + 1], updates=[(s, s + x[0])],
                 mode=mode)
    assert isinstance(f, Function) and "def __call__" in type(f).call_source
    xv = np.arange(6.0).reshape(2, 3)
    by_position = f(xv, 3)
    by_keyword = f(x=xv, n=3)
    for a, b in zip(by_position, by_keyword):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(f(xv)[0], xv.sum(axis=0) * 2)  # the default
    np.testing.assert_array_equal(s.get_value(), 3 * xv[0])
    # the static shape is checked on the fast path too, naming the input
    with pytest.raises(TypeError, match="bad argument 'x'.*shape"):
        f(np.zeros((2, 4)), 1)
    # a Python int in int64's range passes as it is; one beyond it is refused
    assert f(xv, 2**62)[1] == 2**62 + 1
    with pytest.raises(TypeError, match="bad argument 'n'"):
        f(xv, 2**63)
    # a failed call writes no update
    before = s.get_value()
    with pytest.raises(TypeError):
        f(xv, "3")
    np.testing.assert_array_equal(s.get_value(), before)
