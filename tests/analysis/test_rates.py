"""Wilson intervals, BH, prevalence traces, concentration, onset and trace comparison."""

from __future__ import annotations

import numpy as np
import pytest

from rootcause.analysis._common import benjamini_hochberg, two_proportion_z, wilson_interval
from rootcause.analysis.bins import make_step_bins
from rootcause.analysis.onset import detect_onset, detect_onset_rates
from rootcause.analysis.prevalence import concentration, prevalence_trace
from rootcause.analysis.traces import compare_traces


def test_wilson_known_values():
    # Known values (Wilson 1927; e.g. statsmodels proportion_confint method="wilson").
    lo, hi = wilson_interval([0, 5, 10], [10, 10, 10], 0.95)
    np.testing.assert_allclose(lo, [0.0, 0.236593, 0.722467], atol=1e-6)
    np.testing.assert_allclose(hi, [0.277533, 0.763407, 1.0], atol=1e-6)
    lo, hi = wilson_interval(1, 0)
    assert np.isnan(lo) and np.isnan(hi)


def test_benjamini_hochberg_by_hand():
    p = [0.01, 0.04, 0.03, 0.20, np.nan]
    # sorted 0.01, 0.03, 0.04, 0.20 -> p*m/rank = 0.04, 0.06, 0.0533, 0.20 -> step-up min
    np.testing.assert_allclose(benjamini_hochberg(p)[:4], [0.04, 0.05333333, 0.05333333, 0.2])
    assert np.isnan(benjamini_hochberg(p)[4])


def test_two_proportion_z():
    z, p = two_proportion_z(10, 100, 30, 100)
    assert z == pytest.approx(3.5355, abs=1e-3) and p < 0.001


def test_prevalence_trace_and_concentration():
    rng = np.random.default_rng(0)
    n = 20_000
    steps = rng.integers(0, 100, n)
    persona = np.where(rng.random(n) < 0.05, "nerdy", "plain")
    b = (rng.random(n) < np.where(persona == "nerdy", 0.4, 0.01)).astype(int)
    bins = make_step_bins(steps, width=10)
    tr = prevalence_trace(steps, b, slices=persona, bins=bins)
    assert tr.overall.n.sum() == n and bins.n_bins == 10
    nerdy = tr.slice("nerdy")
    assert np.all((nerdy.lo <= nerdy.rate) & (nerdy.rate <= nerdy.hi))
    assert nerdy.k.sum() + tr.slice("plain").k.sum() == b.sum()
    conc = concentration(b, persona)
    top = conc.slices[0]
    assert top.label == "nerdy" and top.ratio_lo > 5
    assert top.ratio == pytest.approx(top.rate / (conc.hits / conc.n))


def test_onset_finds_planted_step_and_not_noise():
    n = np.full(60, 800)
    x = np.arange(60) * 10
    found = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        k = rng.binomial(n, np.where(np.arange(60) < 35, 0.02, 0.05))
        res = detect_onset(k, n, x)
        assert res.onset is not None
        found.append(res.onset.index)
        assert detect_onset_rates(k / n, x).onset is not None
    assert np.all(np.abs(np.array(found) - 35) <= 2)
    false = sum(
        detect_onset(np.random.default_rng(s).binomial(n, 0.03), n).onset is not None
        for s in range(50)
    )
    assert false <= 5


def test_onset_robust_to_overdispersion():
    rng = np.random.default_rng(1)
    n = np.full(80, 20_000)
    p = np.clip(0.03 + rng.normal(0, 0.004, 80), 0, 1)  # between-step noise, no change
    res = detect_onset(rng.binomial(n, p), n)
    assert res.noise > 2 and res.onset is None


def test_compare_traces_recovers_lag_and_scale():
    rng = np.random.default_rng(0)
    t = np.arange(80)
    base = 1 / (1 + np.exp(-(t - 40) / 4))
    lagged = np.concatenate([np.zeros(5), base[:-5]])
    n = np.full(80, 20_000)
    a = rng.binomial(n, 0.01 + 0.2 * base) / n
    b = rng.binomial(n, 0.005 + 0.05 * lagged) / n
    res = compare_traces(a, b, x=t * 10, n_a=n, n_b=n)
    assert abs(res.lag - 5) <= 1 and res.lag_steps == res.lag * 10
    assert res.scale == pytest.approx(0.25, rel=0.1)
    assert res.is_copy and res.fit_r2 > 0.9
    assert res.onset_delay is not None and res.onset_delay > 0
    assert np.nanmin(res.a_rescaled) == 0 and np.nanmax(res.a_rescaled) == 1
    unrelated = compare_traces(a, rng.binomial(n, 0.03) / n, n_a=n, n_b=n)
    assert not unrelated.is_copy
