"""map, reduce, foldl and foldr: the common loops, written with scan (Theano's API)."""

from __future__ import annotations

from symgraph.scan.basic import scan


def map(fn, sequences, non_sequences=None, truncate_gradient=-1, go_backwards=False,
        mode=None, name=None):
    """Apply ``fn`` to every step of ``sequences``: ``scan`` with no output fed back.

    Returns (outputs, updates) like scan.
    """
    return scan(fn, sequences=sequences, outputs_info=None, non_sequences=non_sequences,
                truncate_gradient=truncate_gradient, go_backwards=go_backwards, mode=mode,
                name=name)


def reduce(fn, sequences, outputs_info, non_sequences=None, go_backwards=False, mode=None,
           name=None):
    """Fold ``fn`` over ``sequences``, keeping only the last value of each output.

    ``fn`` gets the sequence slices, then the running values (as in scan), then the
    non-sequences. Returns (result, updates); only the final step is kept, as in
    Theano.
    """
    outs, updates = scan(fn, sequences=sequences, outputs_info=outputs_info,
                         non_sequences=non_sequences, go_backwards=go_backwards, mode=mode,
                         name=name, return_list=True)
    last = [o[-1] for o in outs]
    if len(last) == 1:
        return last[0], updates
    return last, updates


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """reduce from the first step to the last."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=False, mode=mode,
                  name=name)


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """reduce from the last step to the first (go_backwards)."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True, mode=mode,
                  name=name)


__all__ = ["map", "reduce", "foldl", "foldr"]
