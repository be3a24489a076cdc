"""Scenario metrics summed up: over the whole eval and per bug id.

Rates are means over the scenarios a metric applies to (see `scorer`); commit accuracy pools
its checks (right commits / findings checked); costs are means per scenario, with totals for
wall time, tokens and dollars.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from rootcause.evaluation.runner import TrialResult


class Summary(BaseModel):
    """Aggregated metrics; None where no scenario had the metric."""

    scenarios: int
    errors: int
    inconclusive: int = 0
    not_found: int = 0
    absent_right: float | None = None
    absent_scenarios: int = 0
    top1: float | None = None
    hit3: float | None = None
    mrr: float | None = None
    null_specificity: float | None = None
    multi_precision: float | None = None
    commit_accuracy: float | None = None
    chance_top1: float | None = None
    chance_hit3: float | None = None
    chance_mrr: float | None = None
    bug_scenarios: int = 0
    null_scenarios: int = 0
    multi_scenarios: int = 0
    wall_s_mean: float | None = None
    wall_s_total: float = 0.0
    tool_calls_mean: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def summarize(results: Sequence[TrialResult]) -> Summary:
    """Aggregate the metrics of `results`."""
    ms = [r.metrics for r in results]
    checked = sum(m.commit_checked for m in ms)
    ran = [r for r in results if r.error is None]
    return Summary(
        scenarios=len(results),
        errors=sum(r.error is not None for r in results),
        inconclusive=sum(r.verdict == "inconclusive" for r in results),
        not_found=sum(r.verdict == "symptom_not_found" for r in results),
        absent_right=_mean(m.absent_right for m in ms),
        absent_scenarios=sum(m.absent_right is not None for m in ms),
        top1=_mean(m.top1 for m in ms),
        hit3=_mean(m.hit3 for m in ms),
        mrr=_mean(m.mrr for m in ms),
        null_specificity=_mean(m.null_specificity for m in ms),
        multi_precision=_mean(m.multi_precision for m in ms),
        commit_accuracy=round(sum(m.commit_right for m in ms) / checked, 4) if checked else None,
        chance_top1=_mean(m.chance_top1 for m in ms),
        chance_hit3=_mean(m.chance_hit3 for m in ms),
        chance_mrr=_mean(m.chance_mrr for m in ms),
        bug_scenarios=sum(m.top1 is not None for m in ms),
        null_scenarios=sum(m.null_specificity is not None for m in ms),
        multi_scenarios=sum(m.multi_precision is not None for m in ms),
        wall_s_mean=_mean(r.stats.wall_s for r in ran),
        wall_s_total=round(sum(r.stats.wall_s for r in results), 3),
        tool_calls_mean=_mean(float(r.stats.tool_calls) for r in ran),
        tokens_in=sum(r.stats.tokens_in for r in results),
        tokens_out=sum(r.stats.tokens_out for r in results),
        cost_usd=round(sum(r.stats.cost_usd for r in results), 6),
    )


def per_bug(results: Sequence[TrialResult]) -> dict[str, Summary]:
    """`summarize` per bug id, in the order bugs first appear."""
    bugs: dict[str, list[TrialResult]] = {}
    for r in results:
        bugs.setdefault(r.bug, []).append(r)
    return {bug: summarize(rs) for bug, rs in bugs.items()}
