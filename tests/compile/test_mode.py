"""Mode: which backend a Mode built without a linker uses, and how that survives copies."""

import pickle

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph import config
from symgraph.compile.mode import Mode, get_mode


@pytest.mark.parametrize("cfg, linker", [
    ("numba", "numba"), ("py", "py"), ("FAST_RUN", "numba"), ("FAST_COMPILE", "py"),
])
def test_mode_without_linker_follows_config_mode(cfg, linker):
    with config.change_flags(mode=cfg):
        assert Mode().linker_name == linker
        assert Mode(optimizer=None).linker_name == linker
        assert Mode(optimizer=None).optimizer is None
        assert Mode(include=("fusion",)).linker_name == linker


def test_explicit_linker_wins_over_config():
    with config.change_flags(mode="numba"):
        assert Mode("py").linker_name == "py"
        assert Mode(linker="py", optimizer=None).linker_name == "py"
    with config.change_flags(mode="py"):
        assert Mode("numba").linker_name == "numba"


def test_linker_is_fixed_when_the_mode_is_built():
    with config.change_flags(mode="numba"):
        m = Mode(optimizer=None)
    with config.change_flags(mode="py"):
        assert m.linker_name == "numba"
        # copies keep the backend they were built with, not today's config
        assert m.including("fusion").linker_name == "numba"
        assert m.excluding("fusion").linker_name == "numba"
        assert pickle.loads(pickle.dumps(m)).linker_name == "numba"
        assert get_mode(m) is m


def test_mode_without_linker_compiles_on_the_configured_backend():
    x = T.dvector("x")
    with config.change_flags(mode="py"):
        m = Mode(optimizer=None)
        assert type(m.make_linker()).__name__ == "PythonLinker"
        f = sg.function([x], T.exp(x) + 1, mode=m)
    np.testing.assert_allclose(f(np.array([0.0, 1.0])), np.exp([0.0, 1.0]) + 1)


def test_mode_without_linker_refuses_an_unknown_config_mode():
    with config.change_flags(mode="no_such_backend"):
        with pytest.raises(ValueError, match="no_such_backend"):
            Mode()
