"""`import symgraph` stays fast: SciPy's linalg and special load on first use."""

import subprocess
import sys

import numpy as np


def test_import_does_not_load_scipy_linalg_or_special():
    code = ("import sys, symgraph, symgraph.tensor; "
            "print('scipy.linalg' in sys.modules, 'scipy.special' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]


def test_lazy_module_resolves_on_first_attribute():
    from symgraph.lazy import lazy_module

    sla = lazy_module("scipy.linalg")
    np.testing.assert_allclose(sla.expm(np.zeros((2, 2))), np.eye(2))
    assert "scipy.linalg" in repr(sla)
