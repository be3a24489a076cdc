"""Weights recovered from logged advantages (GRPO: the group-normalised weighted sum)."""

from __future__ import annotations

import numpy as np

from rootcause.store.weight_fit import fit_from_advantages


def _grpo(rewards: np.ndarray, weights: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    total = (np.nan_to_num(rewards) * weights).sum(axis=1).reshape(-1, size)
    adv = (total - total.mean(1, keepdims=True)) / (total.std(1, ddof=1, keepdims=True) + 1e-4)
    return np.repeat(np.arange(len(total)), size), adv.reshape(-1)


def test_relative_weights_from_normalised_advantages() -> None:
    rng = np.random.default_rng(0)
    rewards = rng.random((400, 3))
    groups, adv = _grpo(rewards, np.array([1.0, 0.5, 0.25]), 8)
    fitted = fit_from_advantages(groups, rewards, adv, ["a", "b", "c"])
    assert fitted is not None and fitted.trusted and not fitted.absolute
    assert np.allclose(list(fitted.weights.values()), [1.0, 0.5, 0.25], atol=1e-3)


def test_a_component_that_never_scores_in_the_rows_is_left_out() -> None:
    """Before a commit adds a component its column is NaN throughout: its weight cannot be
    told from the advantages, and it must not take the fit over (R² 0)."""
    rng = np.random.default_rng(1)
    rewards = rng.random((400, 3))
    rewards[:, 1] = np.nan
    groups, adv = _grpo(rewards, np.array([1.0, 0.0, 0.5]), 8)
    fitted = fit_from_advantages(groups, rewards, adv, ["a", "later", "c"])
    assert fitted is not None and fitted.trusted
    assert set(fitted.weights) == {"a", "c"}
    assert np.isclose(fitted.weights["c"], 0.5, atol=1e-3)


def test_rows_in_any_order_give_the_fit_of_rows_in_group_order() -> None:
    """The fit reads a group's rows together: rows logged with groups interleaved are put in
    group order first, and rows already in that order (as the ingest keeps them) are read as
    they are; both give the same numbers, to the last bit."""
    rng = np.random.default_rng(2)
    rewards = rng.random((800, 3))
    rewards[rng.random((800, 3)) < 0.1] = np.nan
    groups, adv = _grpo(rewards, np.array([1.0, 0.5, 0.25]), 8)
    shuffled = rng.permutation(len(groups))
    in_order = np.argsort(groups[shuffled], kind="stable")
    names = ["a", "b", "c"]
    mixed = fit_from_advantages(groups[shuffled], rewards[shuffled], adv[shuffled], names)
    grouped = fit_from_advantages(
        groups[shuffled][in_order], rewards[shuffled][in_order], adv[shuffled][in_order], names
    )
    assert mixed is not None and mixed == grouped
    assert mixed.trusted
