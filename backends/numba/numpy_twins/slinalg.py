"""NumPy twin of the general linear solve (dispatch/slinalg.py's Solve kernel).

The kernel's ``linalglib.solve_into`` calls numba's ``np.linalg.solve``: LAPACK
gesv on Fortran-ordered copies of ``a`` and ``b``, through the same LAPACK that
SciPy wraps, so ``scipy.linalg.lapack.?gesv`` on the same values gives the same
bits. Covered: ``assume_a='gen'``, one matrix (no batch axes), float64 or
complex128 throughout. A singular ``a``, or non-finite values, make the kernel raise; the
twin then runs ``perform``, whose error is the interpreter's (the native code's
failure is re-run there too).
"""

from __future__ import annotations

import numpy as np

from backends.numba.numpy_twins import register
from symgraph.tensor.slinalg import Solve

_GESV = {"float64": "dgesv", "complex128": "zgesv"}


@register(Solve)
def _solve_twin(node):
    """Solve with assume_a 'gen' of a single (n, n) matrix; else None."""
    a, b = node.inputs
    out = node.outputs[0]
    dtype = out.type.dtype
    if node.op.assume_a != "gen" or a.ndim != 2 or b.ndim != node.op.b_ndim or \
            dtype not in _GESV or a.type.dtype != dtype or b.type.dtype != dtype:
        return None
    from scipy.linalg import lapack

    gesv = getattr(lapack, _GESV[dtype])

    def perform(node, inputs, output_storage):
        av, bv = inputs
        n = av.shape[0]
        finite = np.isfinite(av).all() and np.isfinite(bv).all()
        if av.shape != (n, n) or bv.shape[0] != n or not finite:
            node.op.perform(node, inputs, output_storage)  # the interpreter's error
            return
        if n == 0:
            output_storage[0][0] = np.empty(bv.shape, dtype=dtype)
            return
        _, _, x, info = gesv(np.asfortranarray(av), np.asfortranarray(bv))
        if info != 0:
            node.op.perform(node, inputs, output_storage)
            return
        output_storage[0][0] = np.ascontiguousarray(x, dtype=dtype)
    return perform
