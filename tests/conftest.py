import os

import numpy as np
import pytest

from symgraph.compile.mode import LINKERS

# The backends that tests taking `mode` run on: SYMGRAPH_TEST_BACKENDS="py,numba"
# (default: every registered backend whose op coverage is complete).
_DEFAULT = "py"
BACKENDS = [b.strip() for b in os.environ.get("SYMGRAPH_TEST_BACKENDS", _DEFAULT).split(",")
            if b.strip() in LINKERS]


@pytest.fixture(params=BACKENDS)
def mode(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(42)
