"""A plain Python loop with Theano's scan semantics, to check scan against."""

from __future__ import annotations

import numpy as np


def ref_scan(step, seqs=(), outs=(), non_seqs=(), n_steps=None, go_backwards=False):
    """seqs: (array, taps) pairs; outs: (initial or None, taps or None) pairs.

    Returns the list of outputs (each an array of the n_steps new values).
    """
    windows = []
    lengths = []
    for x, taps in seqs:
        lo, hi = min(min(taps), 0), max(max(taps), 0)
        L = len(x) - (hi - lo)
        lengths.append(L)
        for k in taps:
            w = x[k - lo:k - lo + L]
            windows.append(w[::-1] if go_backwards else w)
    if n_steps is None:
        n_steps = min(lengths)
    hist, results = [], []
    for init, taps in outs:
        if taps is None:
            hist.append(None)
        elif list(taps) == [-1]:
            hist.append([np.asarray(init)])
        else:
            hist.append(list(np.asarray(init)[:-min(taps)]))
        results.append([])
    for t in range(n_steps):
        args = [w[t] for w in windows]
        for (init, taps), h in zip(outs, hist):
            if taps is None:
                continue
            k = -min(taps)
            args.extend(h[t + k + d] for d in taps)
        args.extend(non_seqs)
        res = step(*args)
        res = list(res) if isinstance(res, (list, tuple)) else [res]
        while len(results) < len(res):
            results.append([])
            hist.append(None)
        for j, r in enumerate(res):
            results[j].append(np.asarray(r))
            if hist[j] is not None:
                hist[j].append(np.asarray(r))
    return [np.array(r) for r in results]
