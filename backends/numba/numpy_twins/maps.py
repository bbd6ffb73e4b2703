"""Small compiled maps: one scalar function of a numba kernel applied to a whole array.

NumPy cannot give some kernel values itself: vecmath.py's exp/expm1/log/log1p/sin/
cos/tanh (the kernels' own polynomials) and the C library's exp, log, log1p and pow
that numba calls for ``np.exp`` etc. of a scalar (NumPy's SIMD loops compute other
bits). A map is a loop calling that one function, compiled by numba from the very
expression the kernels use, so each element gets the kernel's value:

- vecmath's functions are straight-line arithmetic with correctly rounded fma, so
  their value does not depend on being inlined into a vectorised loop or not;
- ``np.exp(x)`` of a float64 (float32) scalar is the C library's exp (expf) in
  every numba loop, ``np.power(x, y)`` its pow (powf) where LLVM does not see y as
  one of the constants it rewrites (elemwise.py): no vector variant exists without
  SVML (``libm_is_scalar``; twins that need these maps fall back with SVML).

Each map has one signature (1-d C-contiguous arrays of its dtype) and is compiled
on first use only, then cached on disk like the kernels (a cold compile takes
0.1-0.6 s): a tier builds only the maps its graph needs, and every twin shares them.
"""

from __future__ import annotations

import threading

import numba
import numpy as np

from backends.numba.dispatch import vecmath as vm

_OPTS = dict(cache=True, nogil=True, error_model="numpy")


# vecmath, float64 (float32 values are computed in float64 and rounded by the caller)

def _vm_exp(x, out):
    for i in range(x.shape[0]):
        out[i] = vm.exp(x[i])


def _vm_expm1(x, out):
    for i in range(x.shape[0]):
        out[i] = vm.expm1(x[i])


def _vm_log(x, out):
    for i in range(x.shape[0]):
        out[i] = vm.log(x[i])


def _vm_log1p(x, out):
    for i in range(x.shape[0]):
        out[i] = vm.log1p(x[i])


def _vm_sin(x, out):
    for i in range(x.shape[0]):
        out[i] = vm.sin(x[i])


def _vm_cos(x, out):
    for i in range(x.shape[0]):
        out[i] = vm.cos(x[i])


def _vm_tanh(x, out):
    for i in range(x.shape[0]):
        out[i] = vm.tanh(x[i])


# the C library's functions, as numba calls them for np.exp etc. of a scalar; the
# float32 maps call the float32 functions (expf...), as numba does for float32 values

def _libm_exp(x, out):
    for i in range(x.shape[0]):
        out[i] = np.exp(x[i])


def _libm_log(x, out):
    for i in range(x.shape[0]):
        out[i] = np.log(x[i])


def _libm_log1p(x, out):
    for i in range(x.shape[0]):
        out[i] = np.log1p(x[i])


def _libm_pow(x, y, out):
    for i in range(x.shape[0]):
        out[i] = np.power(x[i], y[i])


def _libm_pow32(x, y, out):
    for i in range(x.shape[0]):
        out[i] = np.power(x[i], y[i])


def _libm_exp32(x, out):
    for i in range(x.shape[0]):
        out[i] = np.exp(x[i])


def _libm_log32(x, out):
    for i in range(x.shape[0]):
        out[i] = np.log(x[i])


def _libm_log1p32(x, out):
    for i in range(x.shape[0]):
        out[i] = np.log1p(x[i])


_F64 = "void(float64[::1], float64[::1])"
_F32 = "void(float32[::1], float32[::1])"
_F64_2 = "void(float64[::1], float64[::1], float64[::1])"
_F32_2 = "void(float32[::1], float32[::1], float32[::1])"

#: (family, function, dtype) -> (Python function, signature)
_SOURCES = {
    **{("vecmath", fn, "float64"): (globals()[f"_vm_{fn}"], _F64)
       for fn in ("exp", "expm1", "log", "log1p", "sin", "cos", "tanh")},
    **{("libm", fn, "float64"): (globals()[f"_libm_{fn}"], _F64)
       for fn in ("exp", "log", "log1p")},
    **{("libm", fn, "float32"): (globals()[f"_libm_{fn}32"], _F32)
       for fn in ("exp", "log", "log1p")},
    ("libm", "pow", "float64"): (_libm_pow, _F64_2),
    ("libm", "pow", "float32"): (_libm_pow32, _F32_2),
}

VECMATH = frozenset(fn for fam, fn, _ in _SOURCES if fam == "vecmath")

_compiled: dict = {}
_lock = threading.Lock()


def libm_is_scalar() -> bool:
    """Whether numba's loops call the C library's exp/log/log1p/pow once per element.
    With SVML (Intel's vector math library) LLVM vectorises such loops with SVML's
    functions, whose values differ: the libm maps are then no kernel's values."""
    return not numba.config.USING_SVML


def get(family, fn, dtype="float64"):
    """The compiled map ``(x, out)`` (``(x, y, out)`` for pow) of ``fn`` of ``family``
    ("vecmath" or "libm") for 1-d C-contiguous arrays of ``dtype``, compiled (or
    loaded from the disk cache) on first use."""
    key = (family, fn, np.dtype(dtype).name)
    m = _compiled.get(key)
    if m is None:
        with _lock:
            m = _compiled.get(key)
            if m is None:
                py, sig = _SOURCES[key]
                m = _compiled[key] = numba.njit(sig, **_OPTS)(py)
    return m


def apply(family, fn, *xs):
    """``fn`` of each element of ``xs`` (one array, two for pow; float64, or float32 for
    "libm"), broadcast together, as a new C-contiguous array of their dtype and
    shape (0-d for 0-d arguments)."""
    xs = [np.asarray(x) for x in xs]
    if len(xs) > 1:  # read-only views (np.broadcast_arrays' would warn on the flag)
        shape = np.broadcast_shapes(*[x.shape for x in xs])
        xs = [np.broadcast_to(x, shape) for x in xs]
    out = np.empty(xs[0].shape, dtype=xs[0].dtype)
    if out.size:
        args = []
        for x in xs:
            x = np.ascontiguousarray(x)
            if not x.flags.writeable:  # the signature's arrays are mutable ones
                x = x.copy()
            args.append(x.reshape(-1))
        get(family, fn, out.dtype)(*args, out.reshape(-1))
    return out
