"""blas_tables.preload: numba gets SciPy's BLAS/LAPACK without scipy.linalg, and a
later import of scipy.linalg still looks as usual. Runs in a fresh interpreter:
the test session has imported scipy.linalg long ago."""

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from backends.numba import blas_tables
    assert blas_tables.preload() is True
    assert "scipy.linalg" not in sys.modules
    import numba

    @numba.njit
    def f(a, b):
        return np.dot(a, b), np.linalg.inv(a)

    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    p, inv = f(a, a)
    assert np.array_equal(p, a @ a) and np.allclose(inv @ a, np.eye(2))
    assert "scipy.linalg" not in sys.modules
    import scipy.linalg.cython_blas as cb
    import scipy.linalg
    assert scipy.linalg.cython_blas is cb
    assert scipy.linalg.cython_lapack is sys.modules["scipy.linalg.cython_lapack"]
    assert np.allclose(scipy.linalg.inv(a), inv)
    assert blas_tables.preload() is True  # once per process: the first answer stays
    print("ok")
""")


def test_preload_in_fresh_interpreter():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_preload_is_a_no_op_once_scipy_linalg_is_imported():
    pytest.importorskip("scipy.linalg")
    script = ("import scipy.linalg, sys\nfrom backends.numba import blas_tables\n"
              "n = len(sys.meta_path)\nassert blas_tables.preload() is False\n"
              "assert len(sys.meta_path) == n\nprint('ok')\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
