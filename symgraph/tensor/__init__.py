"""Symbolic tensors: types, constructors and every tensor operation.

``import symgraph.tensor as T`` gives the Theano-style namespace.
"""

from symgraph.tensor.type import *  # noqa: F401,F403
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorConstant, TensorVariable
from symgraph.tensor.basic import (
    NotScalarConstantError, as_tensor, as_tensor_variable, constant, get_scalar_constant_value,
)
from symgraph.tensor.elemwise import DimShuffle, Elemwise, dimshuffle, transpose
from symgraph.tensor.math import *  # noqa: F401,F403
from symgraph.tensor.shape import *  # noqa: F401,F403
from symgraph.tensor.reduction import *  # noqa: F401,F403
from symgraph.tensor.dot import *  # noqa: F401,F403
from symgraph.tensor.creation import *  # noqa: F401,F403
from symgraph.tensor.join import *  # noqa: F401,F403
from symgraph.tensor.sort import *  # noqa: F401,F403
from symgraph.tensor.subtensor import *  # noqa: F401,F403
from symgraph.tensor import nnet  # noqa: F401
from symgraph.tensor.nnet import *  # noqa: F401,F403
from symgraph.tensor import slinalg  # noqa: F401
from symgraph.tensor.slinalg import (  # noqa: F401  (PyTensor's names at T level)
    block_diag, cho_solve, cholesky, expm, lu, lu_factor, lu_solve, solve,
    solve_continuous_lyapunov, solve_triangular,
)
from symgraph.tensor import nlinalg  # noqa: F401,E402
from symgraph.tensor.nlinalg import (  # noqa: F401,E402  (T.inv stays Theano's reciprocal)
    det, eig, eigh, eigvalsh, kron, matrix_dot, matrix_inverse, matrix_power, norm, pinv, qr,
    slogdet, svd, tensorinv, tensorsolve, trace,
)
from symgraph.tensor import random  # noqa: F401,E402  (RandomStream, generator type)
from symgraph.tensor import blas  # noqa: F401,E402  (Gemm, gemm_no_inplace)
from symgraph.gradient import (  # noqa: F401,E402  (Theano spelled them T.grad, ...)
    Lop, Rop, consider_constant, disconnected_grad, grad, grad_clip, grad_scale, hessian,
    jacobian, zero_grad,
)
