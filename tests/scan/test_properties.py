"""Property tests: scan against a Python loop for random tap sets, numbers of sequences
and outputs, n_steps and direction; and its gradient against finite differences."""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import verify_grad
from symgraph.scan import scan
from tests.scan.reference import ref_scan
from tests.utils import assert_allclose

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def _taps(pool):
    return st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True)


@st.composite
def loops(draw):
    seqs = []
    for _ in range(draw(st.integers(0, 2))):
        taps = draw(_taps([-2, -1, 0, 1, 2]))
        span = max(max(taps), 0) - min(min(taps), 0)
        seqs.append((span + draw(st.integers(0, 4)), taps))
    outs = [draw(st.one_of(st.none(), _taps([-3, -2, -1])))
            for _ in range(draw(st.integers(1, 2)))]
    allowed = [L - (max(max(t), 0) - min(min(t), 0)) for L, t in seqs]
    if not seqs:
        n_steps = draw(st.integers(0, 4))
    else:
        n_steps = draw(st.one_of(st.none(), st.integers(0, min(allowed))))
    back = draw(st.booleans())
    seed = draw(st.integers(0, 2 ** 16))
    return seqs, outs, n_steps, back, seed


def _step(lib, n_args, n_outs, coef):
    def step(*args):
        *xs, w = args
        res = []
        for j in range(n_outs):
            acc = w * (j + 1)
            for i, a in enumerate(xs):
                acc = acc + coef[j, i] * a
            res.append(lib.sin(acc))
        return res
    return step


@given(loops())
@SETTINGS
def test_scan_matches_a_python_loop(case):
    seqs, outs, n_steps, back, seed = case
    rng = np.random.default_rng(seed)
    seq_vals = [rng.standard_normal((L, 2)) for L, _ in seqs]
    init_vals = [None if t is None else (rng.standard_normal(2) if t == [-1]
                                         else rng.standard_normal((-min(t), 2)))
                 for t in outs]
    n_args = sum(len(t) for _, t in seqs) + sum(len(t) for t in outs if t is not None)
    coef = rng.uniform(-1, 1, (len(outs), n_args))
    wv = rng.standard_normal(2)

    seq_vars = [T.dmatrix(f"s{j}") for j in range(len(seqs))]
    init_vars = [None if v is None else T.TensorType("float64", shape=(None,) * v.ndim)()
                 for v in init_vals]
    w = T.dvector("w")
    outputs_info = [None if t is None else
                    (iv if t == [-1] else dict(initial=iv, taps=t))
                    for iv, t in zip(init_vars, outs)]
    res, _ = scan(_step(T, n_args, len(outs), coef),
                  sequences=[dict(input=s, taps=t) for s, (_, t) in zip(seq_vars, seqs)],
                  outputs_info=outputs_info, non_sequences=w, n_steps=n_steps,
                  go_backwards=back, return_list=True)
    inputs = seq_vars + [v for v in init_vars if v is not None] + [w]
    values = seq_vals + [v for v in init_vals if v is not None] + [wv]
    got = sg.function(inputs, res, on_unused_input="ignore")(*values)
    want = ref_scan(_step(np, n_args, len(outs), coef),
                    seqs=list(zip(seq_vals, [t for _, t in seqs])),
                    outs=list(zip(init_vals, outs)), non_seqs=[wv], n_steps=n_steps,
                    go_backwards=back)
    for g, r in zip(got, want):
        assert_allclose(g, np.asarray(r).reshape(g.shape) if r.size == 0 else r)


@given(loops())
@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
def test_scan_gradient_matches_finite_differences(case):
    seqs, outs, n_steps, back, seed = case
    rng = np.random.default_rng(seed)
    n_args = sum(len(t) for _, t in seqs) + sum(len(t) for t in outs if t is not None)
    coef = rng.uniform(-1, 1, (len(outs), n_args))
    pts = [rng.standard_normal((L, 2)) for L, _ in seqs]
    pts += [rng.standard_normal(2) if t == [-1] else rng.standard_normal((-min(t), 2))
            for t in outs if t is not None]
    pts.append(rng.standard_normal(2))

    def f(*xs):
        xs = list(xs)
        sv = xs[:len(seqs)]
        iv = iter(xs[len(seqs):-1])
        info = [None if t is None else (next(iv) if t == [-1] else
                                        dict(initial=next(iv), taps=t)) for t in outs]
        res, _ = scan(_step(T, n_args, len(outs), coef),
                      sequences=[dict(input=s, taps=t) for s, (_, t) in zip(sv, seqs)],
                      outputs_info=info, non_sequences=xs[-1], n_steps=n_steps,
                      go_backwards=back, return_list=True)
        return T.concatenate([r.flatten() for r in res])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        verify_grad(f, pts, n_tests=1)
