import pytest

import symgraph.tensor as T
from symgraph.config import Config, config


def test_floatX_default_and_change_flags():
    assert config.floatX == "float64"
    with config.change_flags(floatX="float32"):
        assert T.vector().dtype == "float32"
        assert T.constant(1.5).dtype == "float32"
    assert T.vector().dtype == "float64"


def test_invalid_values_and_names():
    with pytest.raises(ValueError, match="floatX"):
        config.floatX = "float16"
    with pytest.raises(AttributeError, match="no setting"):
        config.nonexistent = 1
    with pytest.raises(AttributeError, match="no setting"):
        config.nonexistent


def test_env_flags_parse():
    c = Config()
    c.load_env("floatX=float32, mode=py")
    assert c.floatX == "float32" and c.mode == "py"
    with pytest.raises(ValueError, match="name=value"):
        c.load_env("floatX")


def test_default_mode_is_numba():
    """The library compiles with numba unless told otherwise (the test session
    itself runs on the interpreter: see tests/conftest.py)."""
    from symgraph.compile.mode import get_mode

    assert Config().mode == "numba"
    with config.change_flags(mode=Config().mode):
        assert get_mode(None).linker_name == "numba"
    assert get_mode("FAST_RUN").linker_name == "numba"
    assert get_mode("FAST_COMPILE").linker_name == "py"
    assert get_mode("py").linker_name == "py"


def test_numba_is_tiered_by_default():
    """A graph not in the disk cache answers on the exact tier while it compiles,
    unless ``numba_tiered=False`` (the test session turns it off: tests/conftest.py)."""
    assert Config().numba_tiered is True
    c = Config()
    c.load_env("numba_tiered=False")
    assert c.numba_tiered is False
