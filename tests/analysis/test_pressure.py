"""Selection pressure against planted truth, null coverage, exact decomposition and speed."""

from __future__ import annotations

import numpy as np
import pytest

from rootcause.analysis.pressure import (
    counterfactual_pressure,
    pressure_data,
    selection_pressure,
)

GROUP = 8


def synth(seed: int, n_groups: int, beta: float = 0.0, flat_frac: float = 0.0):
    """Groups of 8; component a = beta * b + noise, component b2 = noise, c applies to half."""
    rng = np.random.default_rng(seed)
    n = n_groups * GROUP
    groups = np.repeat(np.arange(n_groups), GROUP)
    b = (rng.random(n) < 0.3).astype(float)
    R = rng.normal(size=(n, 3))
    R[:, 0] += beta * b
    R[rng.random(n) < 0.5, 2] = np.nan
    if flat_frac:
        flat = np.repeat(rng.random(n_groups) < flat_frac, GROUP)
        R[flat] = 1.0
    return groups, b, R


def brute_force(groups, b, R, w):
    """Reference: explicit loop over groups of the documented formula."""
    U = np.nan_to_num(R * w)
    r = U.sum(axis=1)
    out = np.zeros(U.shape[1] + 1)
    ids = np.unique(groups)
    for g in ids:
        m = groups == g
        sd = r[m].std()
        if sd <= 1e-8:
            continue
        db = b[m] - b[m].mean()
        out[0] += np.sum((r[m] - r[m].mean()) * db) / (m.sum() * sd)
        out[1:] += ((U[m] - U[m].mean(axis=0)) * db[:, None]).sum(axis=0) / (m.sum() * sd)
    return out / ids.size


def test_matches_brute_force_and_components_sum_to_total():
    groups, b, R = synth(0, 300, beta=0.8, flat_frac=0.1)
    w = np.array([1.0, 0.5, 2.0])
    res = selection_pressure(pressure_data(groups, b, R, w, components=["a", "b", "c"]), n_boot=50)
    got = [res.overall.values[c].value for c in ("total", "a", "b", "c")]
    np.testing.assert_allclose(got, brute_force(groups, b, R, w), rtol=1e-10, atol=1e-12)
    assert sum(got[1:]) == pytest.approx(got[0], abs=1e-12)
    assert res.n_zero_variance_groups > 0


def test_residual_column_when_total_given():
    groups, b, R = synth(1, 200, beta=0.5)
    rng = np.random.default_rng(1)
    total = np.nan_to_num(R).sum(axis=1) + rng.normal(size=b.size)  # unlogged extra reward
    data = pressure_data(groups, b, R, np.ones(3), components=["a", "b", "c"], reward_total=total)
    vals = selection_pressure(data, n_boot=20).overall.values
    assert set(vals) == {"total", "a", "b", "c", "residual"}
    parts = sum(vals[c].value for c in ("a", "b", "c", "residual"))
    assert parts == pytest.approx(vals["total"].value, abs=1e-12)


def test_planted_pressure_recovered_within_interval():
    truth = (
        selection_pressure(
            pressure_data(*synth(99, 40_000, beta=0.6), np.ones(3), components=["a", "b", "c"]),
            n_boot=10,
        )
        .overall.values["a"]
        .value
    )
    assert truth > 0.05
    hits = 0
    for seed in range(40):
        data = pressure_data(*synth(seed, 400, beta=0.6), np.ones(3), components=["a", "b", "c"])
        est = selection_pressure(data, n_boot=400, seed=seed).overall.values["a"]
        hits += est.lo <= truth <= est.hi
        assert est.lo > 0
    assert hits >= 34  # nominal 95% of 40 = 38


@pytest.mark.parametrize("level", [0.9, 0.95])
def test_null_intervals_cover_zero_at_nominal_rate(level):
    covered = np.zeros(4)
    seeds = 200
    for seed in range(seeds):
        data = pressure_data(*synth(seed, 150), np.ones(3), components=["a", "b", "c"])
        vals = selection_pressure(data, n_boot=300, level=level, seed=seed).overall.values
        covered += [vals[c].lo <= 0 <= vals[c].hi for c in ("total", "a", "b", "c")]
    rate = covered / seeds
    se = np.sqrt(level * (1 - level) / seeds)
    assert np.all(np.abs(rate - level) < 3.5 * se + 0.01), rate


def test_slices_windows_and_traces():
    groups, b, R = synth(3, 2000, beta=0.0)
    n_groups = 2000
    steps = np.repeat(np.arange(n_groups) // 20, GROUP)  # 100 steps, 20 groups each
    persona = np.repeat(np.where(np.arange(n_groups) % 4 == 0, "nerdy", "plain"), GROUP)
    hot = (persona == "nerdy") & (steps >= 50)
    R[hot, 0] += 1.5 * b[hot]  # pressure only for nerdy, only from step 50
    data = pressure_data(
        groups, b, R, np.ones(3), components=["a", "b", "c"], slices=persona, steps=steps,
        window_edges=[0, 25, 50, 75, 100],
    )  # fmt: skip
    res = selection_pressure(data, n_boot=300)
    assert res.cell("nerdy").values["a"].lo > 0
    assert res.cell("plain").values["a"].excludes_zero is False
    trace = res.trace("a", slice="nerdy")
    assert list(trace.window_start) == [0, 25, 50, 75]
    assert np.all(trace.hi[:2] > 0) and np.all(trace.lo[:2] < 0.05)
    assert np.all(trace.lo[2:] > 0)
    # marginals are group-weighted averages of their cells
    cells = [res.cell("nerdy", w) for w in [(0, 25), (25, 50), (50, 75), (75, 100)]]
    avg = sum(c.values["a"].value * c.n_groups for c in cells) / sum(c.n_groups for c in cells)
    assert avg == pytest.approx(res.cell("nerdy").values["a"].value)


def test_per_sample_weights_and_counterfactual():
    groups, b, R = synth(4, 1500, beta=0.0)
    R[:, 1] += 1.0 * b  # component b pushes the behaviour
    W = np.tile([1.0, 0.0, 1.0], (b.size, 1))
    W[b.size // 2 :, 1] = 1.0  # b only switched on in the second half
    data = pressure_data(groups, b, R, W, components=["a", "b", "c"])
    assert selection_pressure(data, n_boot=200).overall.values["b"].lo > 0
    cf = counterfactual_pressure(data, "b", n_boot=300).table.overall.values
    assert cf["baseline"].lo > 0
    assert cf["remaining"].lo <= 0 <= cf["remaining"].hi
    assert cf["change"].lo > 0
    assert "b" not in cf


def test_rejects_bad_inputs():
    groups, b, R = synth(5, 10)
    with pytest.raises(ValueError):
        pressure_data(groups, b * 2, R, np.ones(3))
    with pytest.raises(ValueError):
        pressure_data(groups, b, R, np.ones(2))
    with pytest.raises(ValueError):
        counterfactual_pressure(pressure_data(groups, b, R, np.ones(3)), "zzz")


def test_large_inputs_use_the_poisson_bootstrap():
    """Past 10k groups the bootstrap switches to Poisson weights and still finds the effect.
    (Speed is measured by tools/bench_tools.py, not here.)"""
    n_groups = 20_000
    groups, b, R = synth(6, n_groups, beta=0.3)
    steps = np.repeat(np.arange(n_groups) // 100, GROUP)
    persona = np.repeat(np.arange(n_groups) % 4, GROUP)
    data = pressure_data(
        groups, b, R, np.ones(3), slices=persona, steps=steps, window_edges=np.arange(0, 201, 20)
    )
    res = selection_pressure(data, n_boot=1000)
    assert res.bootstrap.startswith("poisson over 20,000 groups, 1000 replicates")
    assert res.overall.values["c0"].lo > 0
