"""Live weights as the pressure tools take them: one row of weights when a single deployment
window holds every kept sample (no (n, C) matrix at 10M samples), a matrix of each sample's
window otherwise; the pressure figures are the same either way, to the bit."""

from __future__ import annotations

import numpy as np

from rootcause.analysis.pressure import counterfactual_pressure, pressure_data, selection_pressure
from rootcause.tools.weights import LiveWeights, WindowWeights

COMPONENTS = ("a", "b", "c")


def live(window_of: list[int]) -> LiveWeights:
    windows = (
        WindowWeights(0, 10, None, {"a": 1.0, "b": 0.5, "c": 2.0}, "config"),
        WindowWeights(10, None, "c2", {"a": 1.0, "b": 1.5, "c": 2.0}, "regression", 0.99),
    )
    return LiveWeights(COMPONENTS, np.array(window_of, dtype=np.intp), windows)


def test_one_window_gives_one_row_and_two_give_each_samples_row() -> None:
    weights = live([0, 0, 1, 1, 0])
    np.testing.assert_array_equal(weights.rows(np.array([1, 1, 0, 0, 1], dtype=bool)), [1, 0.5, 2])
    np.testing.assert_array_equal(weights.rows(np.array([0, 0, 1, 1, 0], dtype=bool)), [1, 1.5, 2])
    both = weights.rows(np.array([0, 1, 1, 0, 0], dtype=bool))
    np.testing.assert_array_equal(both, [[1, 0.5, 2], [1, 1.5, 2]])


def test_pressure_with_one_row_of_weights_equals_the_per_sample_matrix() -> None:
    rng = np.random.default_rng(2)
    n = 4000
    groups = np.repeat(np.arange(n // 8), 8)
    b = (rng.random(n) < 0.3).astype(float)
    R = rng.normal(size=(n, 3))
    R[:, 1] += 0.7 * b
    R[rng.random(n) < 0.3, 2] = np.nan
    row = live([0] * n).rows(np.ones(n, dtype=bool))
    assert row.shape == (3,)
    steps = np.repeat(np.arange(n // 8) // 10, 8)
    common = {"components": COMPONENTS, "steps": steps, "window_edges": [0, 20, 40, 50]}
    by_row = pressure_data(groups, b, R, row, **common)
    by_matrix = pressure_data(groups, b, R, np.tile(row, (n, 1)), **common)
    np.testing.assert_array_equal(by_row.contributions, by_matrix.contributions)
    for one, other in (
        (selection_pressure(by_row, n_boot=100), selection_pressure(by_matrix, n_boot=100)),
        (
            counterfactual_pressure(by_row, "b", n_boot=100).table,
            counterfactual_pressure(by_matrix, "b", n_boot=100).table,
        ),
    ):
        cells = zip((one.overall, *one.by_window), (other.overall, *other.by_window), strict=True)
        for a, c in cells:
            got = [(e.value, e.lo, e.hi) for e in a.values.values()]
            np.testing.assert_array_equal(got, [(e.value, e.lo, e.hi) for e in c.values.values()])
