"""TensorType: static shapes, identity, filtering values, and the variable constructors."""

import pickle

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.tensor.shape import SpecifyShape
from symgraph.tensor.type import TensorType
from tests.utils import assert_allclose


# ----------------------------------------------------------------------- the type itself

def test_shape_broadcastable_and_ndim():
    t = TensorType("float32", shape=(None, 1, 3))
    assert t.shape == (None, 1, 3)
    assert t.broadcastable == (False, True, False)
    assert t.ndim == 3
    assert t.dtype == "float32" and t.numpy_dtype == np.dtype("float32")
    assert t.dtype_kind == "f"
    assert TensorType("int8", broadcastable=(True, False)).shape == (1, None)
    # Theano's positional broadcastable pattern
    assert TensorType("int8", (True, False)).shape == (1, None)
    assert TensorType("float64", shape=[np.int64(2), None]).shape == (2, None)
    assert TensorType("float64", shape=()).ndim == 0
    assert TensorType(np.float32, shape=(None,)).dtype == "float32"
    assert TensorType(np.dtype("complex64"), shape=()).dtype == "complex64"


def test_str_shows_dtype_and_shape():
    assert str(TensorType("float32", shape=(None, 3))) == "TensorType(float32, shape=(?, 3))"
    assert str(TensorType("int8", shape=(None,))) == "TensorType(int8, shape=(?,))"
    assert str(TensorType("bool", shape=())) == "TensorType(bool, shape=())"


@pytest.mark.parametrize("bad, exc, pattern", [
    (dict(dtype="float16", shape=()), TypeError, "float16 is not supported.*float32"),
    (dict(dtype="foo", shape=()), TypeError, "'foo' is not a dtype"),
    (dict(dtype=object, shape=()), TypeError, "object is not supported"),
    (dict(dtype="float64", shape=(None,), broadcastable=(False,)), TypeError, "not both"),
    (dict(dtype="float64", shape=(-1,)), ValueError, ">= 0, got -1"),
    (dict(dtype="float64", shape=("a",)), TypeError, "int or None, got 'a'"),
    (dict(dtype="float64"), TypeError, "needs a shape"),
])
def test_bad_types_are_refused(bad, exc, pattern):
    with pytest.raises(exc, match=pattern):
        TensorType(**bad)


def test_equality_and_hash():
    a = TensorType("float64", shape=(None, 3))
    b = TensorType("float64", shape=(None, 3))
    assert a == b and hash(a) == hash(b)
    assert a != TensorType("float32", shape=(None, 3))
    assert a != TensorType("float64", shape=(None, None))
    assert a != TensorType("float64", shape=(1, 3))
    assert a != TensorType("float64", shape=(None, 3, 1))
    assert TensorType("float64", broadcastable=(True,)) == TensorType("float64", shape=(1,))
    # the name is only a label
    assert TensorType("float64", shape=(), name="x") == TensorType("float64", shape=())
    assert len({a, b, TensorType("float64", shape=(None, None))}) == 2
    assert a != "float64"
    assert pickle.loads(pickle.dumps(a)) == a
    assert a.clone(dtype="int8") == TensorType("int8", shape=(None, 3))
    assert a.clone(shape=(2, 3)) == TensorType("float64", shape=(2, 3))
    assert a.clone(broadcastable=(True, False)) == TensorType("float64", shape=(1, None))


# ----------------------------------------------------------------------- filter

def test_filter_passes_exact_arrays_unchanged():
    t = TensorType("float32", shape=(None, 2))
    v = np.ones((3, 2), "float32")
    assert t.filter(v) is v
    assert t.filter(v, strict=True) is v


def test_filter_strict_wants_an_ndarray_of_the_exact_dtype():
    t = TensorType("float64", shape=(None,))
    with pytest.raises(TypeError, match=r"ndarray of dtype float64 \(strict\), got list"):
        t.filter([1.0, 2.0], strict=True)
    with pytest.raises(TypeError, match=r"expected dtype float64 \(strict\), got float32"):
        t.filter(np.ones(2, "float32"), strict=True)
    with pytest.raises(TypeError, match=r"expected dtype int64 \(strict\), got int32"):
        TensorType("int64", shape=(None,)).filter(np.ones(2, "int32"), strict=True)


def test_filter_safe_upcasts_pass():
    t = TensorType("float64", shape=(None,))
    r = t.filter(np.array([1, 2], "int32"))
    assert r.dtype == "float64"
    assert_allclose(r, np.array([1.0, 2.0]))
    assert TensorType("int64", shape=()).filter(np.array(3, "int16")).dtype == "int64"
    assert TensorType("float32", shape=()).filter(np.array(3, "int16")).dtype == "float32"
    assert TensorType("complex64", shape=()).filter(np.float32(1.5)).dtype == "complex64"
    assert TensorType("int8", shape=()).filter(True).dtype == "int8"


@pytest.mark.parametrize("dtype, value", [
    ("float32", np.array([1.5])),          # float64 array into float32
    ("float32", np.array([1, 2])),          # int64 array into float32
    ("int32", np.array([1, 2])),            # int64 array into int32
    ("int8", 1000),                         # Python int that does not fit
    ("uint8", -1),
    ("bool", 2),
    ("int8", 1.5),                          # Python float with a fraction
    ("float64", 1 + 2j),                    # complex into real
    ("float32", 1e300),                     # would become inf
    ("float32", 2 ** 24 + 1),               # not representable in float32
    ("int64", 2 ** 63),                     # uint64 value into int64
])
def test_filter_refuses_lossy_conversions_and_tells_how_to_fix(dtype, value):
    t = TensorType(dtype, shape=np.shape(value) and (None,))
    with pytest.raises(TypeError, match=rf"expected dtype {dtype}.*lose precision") as info:
        t.filter(value)
    msg = str(info.value)
    assert f"astype('{dtype}')" in msg and "allow_input_downcast=True" in msg


def test_filter_python_numbers_that_fit_pass():
    assert TensorType("int8", shape=()).filter(100).dtype == "int8"
    assert TensorType("uint8", shape=(None,)).filter([0, 255]).dtype == "uint8"
    assert TensorType("int8", shape=()).filter(3.0) == 3  # integral float
    assert TensorType("bool", shape=()).filter(1).dtype == "bool"
    assert TensorType("float32", shape=()).filter(2 ** 24).dtype == "float32"
    assert TensorType("float32", shape=(None,)).filter([0.5, 0.25]).dtype == "float32"
    assert TensorType("uint64", shape=()).filter(2 ** 64 - 1) == 2 ** 64 - 1
    assert TensorType("complex64", shape=()).filter(1 + 2j).dtype == "complex64"
    # NaN and infinities convert without loss
    r = TensorType("float32", shape=(None,)).filter([1.0, float("nan"), float("inf")])
    assert r.dtype == "float32" and np.isnan(r[1]) and np.isinf(r[2])


def test_filter_allow_downcast():
    t = TensorType("float32", shape=(None,))
    v = np.array([1.1, 2.2])
    with pytest.raises(TypeError, match="lose precision"):
        t.filter(v)                              # None: arrays are not downcast
    with pytest.raises(TypeError, match="lose precision"):
        t.filter(v, allow_downcast=False)
    r = t.filter(v, allow_downcast=True)
    assert r.dtype == "float32"
    assert_allclose(r, v.astype("float32"))
    assert TensorType("int8", shape=()).filter(1.7, allow_downcast=True) == 1
    # with floatX=float64, a Python float that float32 cannot hold is refused
    with pytest.raises(TypeError, match="lose precision"):
        TensorType("float32", shape=()).filter(1.1)


def test_filter_python_floats_to_floatX_float32():
    t = TensorType("float32", shape=())
    with sg.config.change_flags(floatX="float32"):
        r = t.filter(1.1)
        assert r.dtype == "float32" and r == np.float32(1.1)
        assert TensorType("float32", shape=(None,)).filter([0.1, 0.2]).dtype == "float32"
        assert TensorType("complex64", shape=()).filter(0.1 + 0.2j).dtype == "complex64"
        # refusing downcasts still refuses
        with pytest.raises(TypeError, match="lose precision"):
            t.filter(1.1, allow_downcast=False)
        # arrays are never downcast implicitly
        with pytest.raises(TypeError, match="lose precision"):
            t.filter(np.float64(1.1))
    with pytest.raises(TypeError, match="lose precision"):
        TensorType("complex64", shape=()).filter(0.1 + 0.2j)


def test_filter_shape_and_ndim_errors():
    t = TensorType("float64", shape=(2, None))
    with pytest.raises(TypeError, match=r"wrong number of dimensions: expected 2.*got 1 with shape \(3,\)"):
        t.filter(np.ones(3))
    with pytest.raises(TypeError, match=r"expected static shape \(2, \?\), got \(3, 4\)"):
        t.filter(np.ones((3, 4)))
    assert t.filter(np.ones((2, 5))).shape == (2, 5)


def test_filter_refuses_non_numbers():
    t = TensorType("float64", shape=())
    with pytest.raises(TypeError, match="cannot convert str"):
        t.filter("abc")
    with pytest.raises(TypeError, match="cannot convert NoneType"):
        t.filter(None)
    with pytest.raises(TypeError, match="symbolic variable.*givens"):
        t.filter(T.dscalar("x"))
    with pytest.raises(TypeError, match="does not fit in any integer dtype"):
        TensorType("int64", shape=()).filter(2 ** 70)


def test_is_valid_value_and_values_eq():
    t = TensorType("float64", shape=(None,))
    assert t.is_valid_value(np.ones(2))
    assert not t.is_valid_value(np.ones(2, "float32"))  # strict
    assert not t.is_valid_value(np.ones((2, 2)))
    assert t.values_eq(np.array([1.0, np.nan]), np.array([1.0, np.nan]))
    assert not t.values_eq(np.array([1.0]), np.array([1.0 + 1e-9]))
    assert t.values_eq_approx(np.array([1.0]), np.array([1.0 + 1e-9]))
    assert not t.values_eq_approx(np.array([1.0]), np.array([1.0, 1.0]))


# ----------------------------------------------------------------------- variables

def test_is_super():
    free = TensorType("float64", shape=(None, None))
    part = TensorType("float64", shape=(None, 3))
    full = TensorType("float64", shape=(2, 3))
    assert free.is_super(part) and free.is_super(full) and part.is_super(full)
    assert not full.is_super(part) and not part.is_super(free)
    assert not free.is_super(TensorType("float32", shape=(None, None)))
    assert not free.is_super(TensorType("float64", shape=(None,)))
    assert not part.is_super(TensorType("float64", shape=(2, 4)))
    assert free.is_super(free)


def test_convert_variable(mode):
    part = TensorType("float64", shape=(None, 3))
    x = T.dmatrix("x")                      # (?, ?)
    y = T.tensor("float64", shape=(2, 3), name="y")
    # a more specific variable is kept as it is
    assert part.convert_variable(y) is y
    # a less specific one gets the static shape through specify_shape
    cx = part.convert_variable(x)
    assert isinstance(cx.owner.op, SpecifyShape)
    assert cx.type == part
    f = sg.function([x], cx, mode=mode)
    assert_allclose(f(np.ones((4, 3))), np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"\(4, 2\)"):
        f(np.ones((4, 2)))
    # incompatible: another dtype, rank or static length
    assert part.convert_variable(T.fmatrix()) is None
    assert part.convert_variable(T.dvector()) is None
    assert part.convert_variable(T.tensor("float64", shape=(None, 4))) is None
    with pytest.raises(TypeError,
                       match=r"expected a variable of type TensorType\(float64, shape=\(\?, 3\)\)"):
        part.filter_variable(T.fmatrix())


# ----------------------------------------------------------------------- constructors

@pytest.mark.parametrize("ctor, ndim, shape", [
    (T.scalar, 0, ()), (T.vector, 1, (None,)), (T.matrix, 2, (None, None)),
    (T.row, 2, (1, None)), (T.col, 2, (None, 1)), (T.tensor3, 3, (None,) * 3),
    (T.tensor4, 4, (None,) * 4), (T.tensor5, 5, (None,) * 5),
])
def test_rank_constructors(ctor, ndim, shape):
    v = ctor("v")
    assert v.name == "v" and v.ndim == ndim and v.type.shape == shape
    assert v.dtype == "float64"  # floatX by default
    assert isinstance(v, T.TensorVariable) and v.owner is None
    assert ctor(dtype="int8").dtype == "int8"
    with sg.config.change_flags(floatX="float32"):
        assert ctor().dtype == "float32"
    assert ctor().dtype == "float64"


def test_rank_constructors_take_a_static_shape():
    assert T.matrix(shape=(2, 3)).type.shape == (2, 3)
    assert T.vector(dtype="int32", shape=(4,)).type == TensorType("int32", shape=(4,))
    with pytest.raises(ValueError, match=r"shape \(3,\) does not have 2 dimensions"):
        T.matrix(shape=(3,))


def test_tensor_constructor():
    x = T.tensor(dtype="int16", shape=(None, 2), name="x")
    assert x.type == TensorType("int16", shape=(None, 2)) and x.name == "x"
    assert T.tensor("float32", (True, False)).type.shape == (1, None)  # Theano's form
    assert T.tensor(shape=(3,)).dtype == "float64"
    assert T.tensor("bool").type.shape == ()
    assert T.tensor("uint8", ndim=3).type.shape == (None,) * 3
    assert T.tensor("float32", broadcastable=(False, True)).type.shape == (None, 1)
    with sg.config.change_flags(floatX="float32"):
        assert T.tensor(shape=(None,)).dtype == "float32"
        assert T.tensor("floatX", shape=(None,)).dtype == "float32"


FAMILIES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64",
            "f": "float32", "d": "float64", "c": "complex64", "z": "complex128"}
RANKS = {"scalar": (), "vector": (None,), "matrix": (None, None), "row": (1, None),
         "col": (None, 1), "tensor3": (None,) * 3, "tensor4": (None,) * 4}


@pytest.mark.parametrize("prefix", list(FAMILIES))
def test_theano_families(prefix):
    for rank, shape in RANKS.items():
        v = getattr(T, prefix + rank)("v")
        assert v.type == TensorType(FAMILIES[prefix], shape=shape), prefix + rank
        assert v.name == "v"
    # the families ignore floatX
    with sg.config.change_flags(floatX="float32"):
        assert getattr(T, prefix + "matrix")().dtype == FAMILIES[prefix]


def test_plural_constructors():
    a, b = T.dscalars("a", "b")
    assert (a.name, b.name) == ("a", "b") and a.type == TensorType("float64", shape=())
    assert a is not b
    three = T.fvectors(3)
    assert len(three) == 3 and all(v.type == TensorType("float32", shape=(None,)) for v in three)
    m, n = T.imatrices("m", "n")
    assert m.type == TensorType("int32", shape=(None, None)) and n.name == "n"
    (z,) = T.zmatrices("z")
    assert z.dtype == "complex128"
    x, y = T.matrices("x", "y")
    assert x.ndim == 2 and y.name == "y"
    for name in ["scalars", "vectors", "rows", "cols", "tensor3s", "tensor4s", "lvectors",
                 "bscalars", "wvectors", "cmatrices", "lmatrices", "drows", "fcols",
                 "itensor3s", "dtensor4s"]:
        vs = getattr(T, name)("p", "q")
        assert [v.name for v in vs] == ["p", "q"], name
    with sg.config.change_flags(floatX="float32"):
        assert T.vectors("u")[0].dtype == "float32"


def test_public_namespace_has_all_constructors():
    missing = [p + r for p in FAMILIES for r in RANKS if not hasattr(T, p + r)]
    missing += [p + "matrices" for p in FAMILIES if not hasattr(T, p + "matrices")]
    assert not missing
    import symgraph.tensor.type as tt
    for name in tt.__all__:
        assert hasattr(T, name), name
