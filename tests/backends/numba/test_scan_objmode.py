"""A Scan node in a numba-compiled function gives the interpreter's values (it runs as
a native loop now: backends/numba/dispatch/scan.py, tested in test_scan.py)."""

import warnings

import numpy as np

import symgraph as sg
import symgraph.tensor as T
from symgraph.scan import scan
from tests.utils import assert_allclose


def test_scan_and_its_gradient_give_the_interpreters_values():
    x = T.dmatrix("x")
    h0 = T.dvector("h0")
    out, _ = scan(lambda row, h: T.tanh(row + h), sequences=x, outputs_info=h0)
    xv = np.arange(6.0).reshape(3, 2) / 10
    hv = np.array([0.1, -0.2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = sg.function([x, h0], out, mode="numba")
    assert_allclose(f(xv, hv), sg.function([x, h0], out, mode="py")(xv, hv))
