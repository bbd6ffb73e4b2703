"""numpy.linalg ops (symgraph/tensor/nlinalg*.py): one loop over the stacked matrices,
one LAPACK call per matrix (numba's np.linalg, or nlinalglib where numba's
differs from NumPy's).

As in the interpreter, a matrix holding NaN or infinity gives NaN outputs
instead of reaching LAPACK. Errors (a singular matrix to invert, a non-square
input) are raised plainly; the linker re-runs the call on the interpreter, whose
message names the shapes, the node and the user's line.
"""

from __future__ import annotations

from pathlib import Path

from backends.numba.cache import digest
from backends.numba.dispatch import Kernel, dotlib, register
from backends.numba.dispatch.objmode import NotSupported
from backends.numba.dispatch.scalar import np_type
from symgraph.tensor.nlinalg import Det, MatrixInverse, MatrixPinv, MatrixPower, SLogDet
from symgraph.tensor.nlinalg_decomp import QR, SVD, Eig, Eigh, Eigvalsh

try:  # nlinalglib uses numba's LAPACK bindings (numba.np.linalg internals)
    from backends.numba.dispatch import nlinalglib
except ImportError as e:  # another numba: these ops run their perform in object mode
    nlinalglib, _MISSING = None, f"numba's LAPACK bindings are not available ({e})"
    NLLIB = ""
else:
    # the helpers' sources are part of every kernel's key (see dot.py)
    NLLIB = ("from backends.numba.dispatch import nlinalglib as nl_  # "
             f"{digest(Path(nlinalglib.__file__).read_text(), Path(dotlib.__file__).read_text())}")


def _tuple(items):
    return "(" + "".join(f"{i}, " for i in items) + ")"


def _kernel(op, node, cores, body, guard=True, pre=()):
    """A loop over the stacked matrices of the one input.

    cores: the core shape of each output (expressions in m, n, k = min(m, n));
    body: lines run for the matrix ``xb`` (batch index ``b``) that fill ``o<i>[b]``;
    guard: non-finite matrices give NaN outputs instead of running ``body``.
    """
    if nlinalglib is None:
        raise NotSupported(_MISSING)
    nd = node.inputs[0].ndim
    nbatch = nd - 2
    lines = ["def KERNEL_NAME(a0):",
             f"    m = a0.shape[{nd - 2}]",
             f"    n = a0.shape[{nd - 1}]",
             "    k = min(m, n)"]
    if op._square:
        lines += ["    if m != n:",
                  f"        raise np.linalg.LinAlgError('{op._who}: expected square matrices')"]
    lines.append("    nb = 1" + "".join(f" * a0.shape[{d}]" for d in range(nbatch)))
    lines.append("    x = np.ascontiguousarray(a0).reshape((nb, m, n))")
    dts = [np_type(o.type.dtype) for o in node.outputs]
    for i, (core, dt) in enumerate(zip(cores, dts)):
        lines.append(f"    o{i} = np.empty({_tuple(['nb', *core])}, dtype={dt})")
    lines += list(pre)
    lines += ["    for b in range(nb):",
              "        xb = x[b]"]
    if guard:
        lines.append("        if nl_.all_finite(xb):")
        lines += [f"            {ln}" for ln in body]
        lines.append("        else:")
        lines += [f"            o{i}[b] = np.nan" for i in range(len(cores))]
    else:
        lines += [f"        {ln}" for ln in body]
    batch = [f"a0.shape[{d}]" for d in range(nbatch)]
    rets = []
    for i, (core, dt) in enumerate(zip(cores, dts)):
        if batch or core:
            rets.append(f"o{i}.reshape({_tuple(batch + list(core))})")
        else:
            lines += [f"    r{i} = np.empty((), dtype={dt})",
                      f"    r{i}[()] = o{i}[0]"]
            rets.append(f"r{i}")
    lines.append(f"    return {rets[0]}" if len(rets) == 1 else f"    return {_tuple(rets)}")
    return Kernel("\n".join(lines) + "\n", imports=(NLLIB,))


@register(MatrixInverse)
def build_inverse(op, node):
    return _kernel(op, node, [("n", "n")], ["o0[b] = np.linalg.inv(xb)"])


@register(Det)
def build_det(op, node):
    return _kernel(op, node, [()], ["o0[b] = np.linalg.det(xb)"])


@register(SLogDet)
def build_slogdet(op, node):
    return _kernel(op, node, [(), ()], ["sg, ld = np.linalg.slogdet(xb)",
                                        "o0[b] = sg",
                                        "o1[b] = ld"])


@register(MatrixPinv)
def build_pinv(op, node):
    return _kernel(op, node, [("n", "m")], [f"o0[b] = np.linalg.pinv(xb, {op.rcond!r})"])


@register(MatrixPower)
def build_matrix_power(op, node):
    p = op.n
    if p < 0:
        return _kernel(op, node, [("n", "n")],
                       [f"o0[b] = nl_.matrix_power(np.linalg.inv(xb), {-p})"])
    return _kernel(op, node, [("n", "n")], [f"o0[b] = nl_.matrix_power(xb, {p})"], guard=False)


@register(Eig)
def build_eig(op, node):
    return _kernel(op, node, [("n",), ("n", "n")], ["w, v = nl_.eig(xb)",
                                                    "o0[b] = w",
                                                    "o1[b] = v"])


@register(Eigh)
def build_eigh(op, node):
    lower = op.UPLO == "L"
    return _kernel(op, node, [("n",), ("n", "n")], [f"w, v = nl_.eigh(xb, {lower}, True)",
                                                    "o0[b] = w",
                                                    "o1[b] = v"])


@register(Eigvalsh)
def build_eigvalsh(op, node):
    lower = op.UPLO == "L"
    return _kernel(op, node, [("n",)], [f"w, v = nl_.eigh(xb, {lower}, False)",
                                        "o0[b] = w"])


@register(SVD)
def build_svd(op, node):
    if not op.compute_uv:
        return _kernel(op, node, [("k",)], ["nl_.svdvals_into(xb, o0[b])"])
    cores = [("m", "m"), ("k",), ("n", "n")] if op.full_matrices else \
        [("m", "k"), ("k",), ("k", "n")]
    return _kernel(op, node, cores,
                   [f"nl_.svd_into(xb, {op.full_matrices}, o0[b], o1[b], o2[b])"])


@register(QR)
def build_qr(op, node):
    if op.mode == "r":
        dt = np_type(node.outputs[0].type.dtype)
        return _kernel(op, node, [("k", "n")], ["nl_.qr_into(xb, False, False, q0, o0[b])"],
                       pre=[f"    q0 = np.empty((0, 0), dtype={dt})"])
    complete = op.mode == "complete"
    cores = [("m", "m"), ("m", "n")] if complete else [("m", "k"), ("k", "n")]
    return _kernel(op, node, cores, [f"nl_.qr_into(xb, {complete}, True, o0[b], o1[b])"])
