import numpy as np
import pytest

from symgraph.compile.mode import LINKERS

# Every backend that is registered and importable; tests that take `mode` run on each.
BACKENDS = [name for name in ("py", "numba") if name in LINKERS]


@pytest.fixture(params=BACKENDS)
def mode(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(42)
