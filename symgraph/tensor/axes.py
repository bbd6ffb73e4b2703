"""Axis arguments: the one place where an ``axis=`` is checked and made non-negative.

``normalize_axis`` takes a single axis (an int, negative allowed), ``normalize_axes``
an int, a sequence of ints or None. Both accept NumPy integers and symbolic
constants, and both raise the same errors:

- ``TypeError`` for a value that is not an integer, and for a symbolic axis whose
  value is not known when the graph is built;
- ``numpy.exceptions.AxisError`` (a ValueError and an IndexError) for an axis out
  of range, naming the function, the axis and the number of dimensions;
- ``ValueError`` for an axis given twice (``normalize_axes``).
"""

from __future__ import annotations

import operator

import numpy as np

from symgraph.graph.basic import Constant, Variable


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def _axis_int(axis, what, expected):
    """``axis`` as a Python int; TypeError saying ``expected`` when it is not an integer."""
    if isinstance(axis, Variable):
        from symgraph.tensor.basic import NotScalarConstantError, get_scalar_constant_value
        try:
            axis = get_scalar_constant_value(axis)
        except NotScalarConstantError:
            raise TypeError(f"{what}: the axis must be known when the graph is built (an int, "
                            f"not a symbolic variable), got the symbolic {axis}") from None
    if not isinstance(axis, (bool, np.bool_)):
        try:
            return operator.index(axis)
        except TypeError:
            pass
    raise TypeError(f"{what}: {expected}, got {axis!r} ({type(axis).__name__})")


def _check_range(a, ndim, what, of, negative=True):
    """``a`` in ``range(ndim)`` (negatives counted from the end unless not
    ``negative``), or AxisError."""
    low = -ndim if negative else 0
    if low <= a < ndim:
        return a % ndim
    if of is None:
        where = f"a tensor of {_plural(ndim, 'dimension')}"
    elif isinstance(of, Variable):
        where = f"{of} with {_plural(ndim, 'dimension')} (type {of.type})"
    else:
        where = f"{of}, which has {_plural(ndim, 'dimension')}"
    valid = f"valid axes are {low} to {ndim - 1}" if ndim else "a 0-d tensor has no axes"
    raise np.exceptions.AxisError(f"{what}: axis {a} is out of bounds for {where}; {valid}")


def normalize_axis(axis, ndim, what="axis", allow_none=False, *, of=None, negative=True):
    """One ``axis`` (negative allowed) as an index in ``range(ndim)``.

    ``what`` names the caller in error messages, ``of`` (a variable or a phrase such
    as "the first input") the tensor the axis belongs to. With ``allow_none``,
    None passes through as None (for functions where it means "flattened").
    ``negative=False`` refuses negative axes (for ops, which store them
    non-negative).
    """
    if axis is None and allow_none:
        return None
    expected = "axis must be an int or None" if allow_none else "axis must be an int"
    return _check_range(_axis_int(axis, what, expected), ndim, what, of, negative)


def axis_entries(axis):
    """The raw entries of an axis argument: a list for a sequence (a tuple or list, a
    1-d array or a 1-d constant), else ``[axis]``."""
    if isinstance(axis, Constant) and np.ndim(axis.data) == 1:
        axis = axis.data
    if isinstance(axis, np.ndarray) and axis.ndim == 1:
        return list(axis)
    if isinstance(axis, (tuple, list)):
        return list(axis)
    return [axis]


def normalize_axes(axis, ndim, what="axis", allow_none=True, *, of=None, sort=True,
                   negative=True):
    """``axis`` (an int, a sequence of ints or, with ``allow_none``, None for every
    axis) as a sorted tuple of distinct indices in ``range(ndim)``.

    With ``sort=False`` the order given is kept (as tensordot needs). A repeated
    axis is a ValueError; range and type errors (and ``of``, ``negative``) are
    those of ``normalize_axis``.
    """
    if axis is None and allow_none:
        return tuple(range(ndim))
    expected = ("axis must be an int, a sequence of ints or None" if allow_none else
                "axis must be an int or a sequence of ints") + "; axis entries must be ints"
    raw = [_axis_int(a, what, expected) for a in axis_entries(axis)]
    out = []
    for a in raw:
        a = _check_range(a, ndim, what, of, negative)
        if a in out:
            where = "" if of is None or isinstance(of, Variable) else f" for {of}"
            raise ValueError(f"{what}: repeated axis {a} in axis={axis!r}{where}")
        out.append(a)
    return tuple(sorted(out)) if sort else tuple(out)


__all__ = ["normalize_axis", "normalize_axes", "axis_entries"]
