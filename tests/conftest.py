import os
import sys

# One BLAS thread: the suite's matrices are tiny, and on a shared 2-core machine a
# multi-threaded OpenBLAS makes each small LAPACK call take milliseconds. This only
# works before NumPy is first imported, which is why it stands here.
if "numpy" not in sys.modules:
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from symgraph import config  # noqa: E402
from symgraph.compile.mode import LINKERS  # noqa: E402

# The backends that tests taking `mode` run on: SYMGRAPH_TEST_BACKENDS="py,numba"
# (default: every registered backend whose op coverage is complete).
_DEFAULT = "py"
BACKENDS = [b.strip() for b in os.environ.get("SYMGRAPH_TEST_BACKENDS", _DEFAULT).split(",")
            if b.strip() in LINKERS]

# Tests that compile without naming a mode run on the first of these backends: the
# library's default is numba, but compiling every small test graph with numba would
# take the suite far past its time budget, so the reference interpreter serves here
# unless SYMGRAPH_TEST_BACKENDS puts numba first. tests/backends/numba and
# tests/test_config.py check the numba default itself.
config.mode = BACKENDS[0] if BACKENDS else "py"
# Tests of the numba backend check its native code: a first call answered by the
# tiered mode's interpreter would hide it. The tier has its own tests
# (tests/backends/numba/test_exact.py, numpy_twins/, SYMGRAPH_CHECK_TIER=1).
config.numba_tiered = os.environ.get("SYMGRAPH_TEST_TIERED") == "1"


@pytest.fixture(params=BACKENDS)
def mode(request):
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(42)
