"""The effects of a found cause, measured through registry tools so every number is evidence.

- **Spread**: where the cause acts on one slice (a persona, source or env), `compare_traces`
  of the behaviour inside that slice against everything else: is the trace outside a lagged,
  rescaled copy of the one inside (the behaviour generalised beyond where it was rewarded)?
- **Monitorability**: where the cause's grader reads the chain of thought (`cot_exposure`: its
  config lists the reasoning, or reasoning text is found in its logged inputs) and the
  behaviour is matched on the reasoning, that behaviour is a CoT monitor; `monitorability`
  measures it across the cause's commit against each pass/fail grader of the run (components
  with exactly two score levels) as the outcome. The outcome kept is the one the monitor caught
  best before the commit, and only if it caught it better than any uninformative monitor can
  (g-mean^2 above 0.25 with its whole interval: a monitor that fires at random with rate q has
  recall q and specificity 1-q, so g-mean^2 = q(1-q) <= 0.25).

What could not be measured is said in the effects' notes, never filled in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from rootcause.analysis.monitorability import READING_TEXT
from rootcause.core.effects import Effects, MonitorabilityEffect, SpreadEffect
from rootcause.core.errors import RootcauseError
from rootcause.core.report import BehaviorSummary, Finding
from rootcause.investigate.cancel import JobCancelled
from rootcause.investigate.toolbox import Toolbox
from rootcause.tools.builtin.cot import CotExposureInput, cot_exposure
from rootcause.tools.builtin.monitorability import (
    MetricChangeView,
    MonitorabilityInput,
    MonitorabilityOutput,
    monitorability,
)
from rootcause.tools.builtin.prevalence import CompareInput, compare_traces
from rootcause.tools.builtin.run import SqlInput, sql
from rootcause.tools.stats_common import SliceField

logger = logging.getLogger(__name__)

T = TypeVar("T")

SPREAD_SLICES: tuple[SliceField, ...] = ("persona", "data_source", "env")
#: The most g-mean^2 a monitor that carries no information about the outcome can reach.
UNINFORMATIVE_GMEAN2 = 0.25
#: Samples `cot_exposure` examines here: the static check is what matters, the scan confirms.
EXPOSURE_SAMPLES = 2000
BINARY_GRADERS_SQL = (
    "SELECT component, min(value)::DOUBLE AS low, max(value)::DOUBLE AS high FROM rewards "
    "WHERE value IS NOT NULL GROUP BY 1 HAVING count(DISTINCT value) = 2 ORDER BY 1"
)


def _num(value: float | int | None, fmt: str = ".2f") -> str:
    return "n/a" if value is None else format(value, fmt)


def measure_effects(box: Toolbox, behavior: BehaviorSummary, finding: Finding) -> Effects:
    """The spread and (for a cause on the chain of thought) the monitorability change."""
    effects = Effects()
    spread = _attempt(effects, "spread", lambda: _spread(box, behavior, finding, effects))
    effects.spread = spread
    effects.monitorability = _attempt(
        effects, "monitorability", lambda: _monitorability(box, behavior, finding, effects)
    )
    return effects


def _attempt(effects: Effects, what: str, measure: Callable[[], T | None]) -> T | None:
    """Run one measurement; a tool that refuses or fails becomes a note, not a failed report."""
    try:
        return measure()
    except JobCancelled:
        raise
    except RootcauseError as exc:
        effects.notes.append(f"{what} not measured: {str(exc).splitlines()[0]}")
        return None


def _spread(
    box: Toolbox, behavior: BehaviorSummary, finding: Finding, effects: Effects
) -> SpreadEffect | None:
    where = [(by, v) for k, v in (finding.slice or {}).items() for by in SPREAD_SLICES if k == by]
    if not where:
        effects.notes.append(
            f"spread not measured: {finding.kind} {finding.id} acts on no single persona, "
            "source or env"
        )
        return None
    by, level = where[0]
    out, eid = box.run(compare_traces, CompareInput(behavior=behavior.spec, by=by, a=level))
    verdict = "is" if out.is_copy else "is not"
    text = (
        f"Spread: the trace of {behavior.spec} outside {by}={level} {verdict} a lagged, "
        f"rescaled copy of the trace inside it (fit R2 {_num(out.fit_r2)}, scale "
        f"{_num(out.scale)}, lag {_num(out.lag_steps, '.0f')} steps; onset inside at step "
        f"{_num(out.onset_a, 'd')}, outside at step {_num(out.onset_b, 'd')}; {eid})"
    )
    return SpreadEffect(
        by=by,
        source=level,
        is_copy=out.is_copy,
        fit_r2=out.fit_r2,
        scale=out.scale,
        lag_steps=out.lag_steps,
        onset_source=out.onset_a,
        onset_others=out.onset_b,
        text=text,
        evidence=[eid],
    )


def _reads_reasoning(box: Toolbox, component: str) -> tuple[bool, str]:
    out, eid = box.run(
        cot_exposure, CotExposureInput(component=component, max_samples=EXPOSURE_SAMPLES)
    )
    grader = next((g for g in out.graders if g.component == component), None)
    return grader is not None and (grader.static or grader.leaked > 0), eid


def _monitorability(
    box: Toolbox, behavior: BehaviorSummary, finding: Finding, effects: Effects
) -> MonitorabilityEffect | None:
    if finding.kind not in ("reward_component", "config_change") or not finding.commit:
        return None
    on_cot, e_cot = _reads_reasoning(box, finding.id)
    if not on_cot:
        return None
    if not behavior.spec.endswith("@reasoning"):
        effects.notes.append(
            f"monitorability not measured: {finding.id} reads the reasoning ({e_cot}) but the "
            f"detector {behavior.spec} is not matched on the reasoning, so it is no CoT monitor"
        )
        return None
    graders, e_sql = box.run(sql, SqlInput(query=BINARY_GRADERS_SQL))
    tried: list[tuple[MonitorabilityOutput, str]] = []
    for component, low, high in graders.rows:
        if component == finding.id:
            continue
        outcome = f"reward:{component}>{(float(low) + float(high)) / 2:g}"
        tried.append(
            box.run(
                monitorability,
                MonitorabilityInput(outcome=outcome, monitor=behavior.spec, event=finding.commit),
            )
        )
    informative = [
        (out, eid)
        for out, eid in tried
        if (out.change("gmean2").before_low or 0.0) > UNINFORMATIVE_GMEAN2
    ]
    if not informative:
        effects.notes.append(
            f"monitorability not measured: {finding.id} reads the reasoning ({e_cot}), but no "
            f"pass/fail grader of the run ({e_sql}) is an outcome that {behavior.spec} caught "
            "before the commit better than chance"
            + (f" (tried: {', '.join(e for _, e in tried)})" if tried else "")
        )
        return None
    out, eid = max(informative, key=lambda pair: pair[0].change("gmean2").before_low or 0.0)
    return _monitorability_effect(out, eid, [e_cot, e_sql], finding)


def _monitorability_effect(
    out: MonitorabilityOutput, eid: str, context: list[str], finding: Finding
) -> MonitorabilityEffect:
    recall, gmean, rate = (out.change(m) for m in ("recall", "gmean2", "outcome_rate"))

    def moved(view: MetricChangeView) -> str:
        return (
            f"{_num(view.before)} -> {_num(view.after)} (change {_num(view.change, '+.2f')} "
            f"[{_num(view.change_low, '+.2f')}, {_num(view.change_high, '+.2f')}])"
        )

    commit = str(finding.commit)[:10]
    text = (
        f"Monitorability across {commit} (step {out.split_step}): {out.monitor} as a monitor of "
        f"{out.outcome} ({', '.join(context)}): recall {moved(recall)}, g-mean2 {moved(gmean)}, "
        f"outcome rate {moved(rate)}; {READING_TEXT[out.reading]} ({eid})"
    )
    return MonitorabilityEffect(
        outcome=out.outcome,
        monitor=out.monitor,
        event=str(finding.commit),
        split_step=out.split_step,
        reading=out.reading,
        recall_change=recall.change,
        gmean2_change=gmean.change,
        outcome_rate_change=rate.change,
        text=text,
        evidence=[*context, eid],
    )
