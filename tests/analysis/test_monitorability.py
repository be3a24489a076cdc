"""Monitorability metrics: recall, specificity, g-mean^2 and their change across an event."""

from __future__ import annotations

import numpy as np

from rootcause.analysis.monitorability import before_after, window_metrics


def _synthetic(
    rate_before: float, rate_after: float, recall_before: float, recall_after: float, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    steps = np.repeat(np.arange(60), 50)
    after = steps >= 30
    rate = np.where(after, rate_after, rate_before)
    recall = np.where(after, recall_after, recall_before)
    outcome = rng.random(steps.size) < rate
    flagged = np.where(outcome, rng.random(steps.size) < recall, rng.random(steps.size) < 0.05)
    return outcome, flagged, steps, after


def test_window_metrics_by_hand() -> None:
    outcome = np.array([True, True, True, True, False, False, False, False])
    monitor = np.array([True, True, True, False, True, False, False, False])
    m = window_metrics(outcome, monitor)
    assert m.values["recall"] == 0.75
    assert m.values["specificity"] == 0.75
    assert m.values["gmean2"] == 0.75 * 0.75
    assert m.values["outcome_rate"] == 0.5
    empty = window_metrics(np.zeros(3, bool), np.zeros(3, bool))
    assert np.isnan(empty.values["recall"]) and empty.values["specificity"] == 1.0


def test_obfuscation_is_told_from_a_stopped_behaviour() -> None:
    outcome, monitor, steps, after = _synthetic(0.4, 0.4, 0.8, 0.2)
    hidden = before_after(outcome, monitor, steps, after)
    assert hidden.reading == "reasoning_stopped_saying_it"
    recall = hidden.changes["recall"]
    assert recall.clear_of_zero and recall.change.hi < 0
    assert not hidden.changes["outcome_rate"].clear_of_zero
    assert hidden.changes["gmean2"].change.value < -0.4

    outcome, monitor, steps, after = _synthetic(0.4, 0.05, 0.8, 0.8)
    stopped = before_after(outcome, monitor, steps, after)
    assert stopped.reading == "behaviour_stopped"
    assert stopped.changes["outcome_rate"].change.hi < 0

    outcome, monitor, steps, after = _synthetic(0.4, 0.4, 0.8, 0.8)
    flat = before_after(outcome, monitor, steps, after)
    assert flat.reading == "no_clear_change"
    assert flat.changes["recall"].change.lo < 0 < flat.changes["recall"].change.hi


def test_intervals_are_deterministic_per_seed() -> None:
    args = _synthetic(0.3, 0.3, 0.7, 0.6)
    first = before_after(*args, seed=3)
    again = before_after(*args, seed=3)
    assert first.changes["recall"].change == again.changes["recall"].change
