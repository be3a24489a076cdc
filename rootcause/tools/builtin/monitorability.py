"""`monitorability`: does a monitor on the reasoning still catch the outcome it should?"""

from __future__ import annotations

import re

import numpy as np
from pydantic import BaseModel, Field, model_validator

from rootcause.analysis.bins import make_step_bins
from rootcause.analysis.monitorability import (
    METRICS,
    READING_TEXT,
    BeforeAfter,
    Metric,
    Reading,
    before_after,
    window_metrics,
)
from rootcause.behaviour.frame import run_frame
from rootcause.behaviour.matching import BoolArray, behavior_hits, evaluated_rows
from rootcause.core.errors import BadInputError
from rootcause.core.evidence import Figure
from rootcause.core.untrusted import inline
from rootcause.tools.base import ToolOutput, tool
from rootcause.tools.context import ToolContext
from rootcause.tools.plotting import Marker, PlotSpec, Series
from rootcause.tools.stats_common import BEHAVIOR_HELP, SliceField, finite_or_none
from rootcause.tools.steps import StepRangeInput

_FLAG_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_REWARD = re.compile(r"^reward:(?P<name>[^<>]+?)\s*(?:>\s*(?P<bound>-?[0-9.]+))?$")

METRIC_TEXT: dict[Metric, str] = {
    "outcome_rate": "outcome rate",
    "recall": "monitor recall",
    "specificity": "monitor specificity",
    "gmean2": "g-mean^2",
}


class MonitorabilityInput(StepRangeInput):
    outcome: str = Field(
        description="What the monitor should catch: a behaviour spec on the completion ("
        + BEHAVIOR_HELP
        + "), or flag:KEY (a true or nonzero key of the sample's meta or extra fields, e.g. a "
        "test-hack label), or reward:COMPONENT[>X] (the component scored above X, default 0)."
    )
    monitor: str = Field(
        description="The chain-of-thought monitor: a behaviour spec, usually ending in "
        "@reasoning (e.g. regex:(?i)fake the tests@reasoning)."
    )
    event: str | None = Field(
        None,
        description="Split before/after at this step (a number) or at the step a deployed "
        "config commit went live (a sha or prefix). Default: first third vs last third of steps.",
    )
    by: SliceField | None = Field(None, description="Restrict to one slice of this field...")
    level: str | None = Field(None, description="...with this value (e.g. by=env, level=code).")
    bins: int = Field(20, ge=2, le=200, description="Number of step windows.")
    replicates: int = Field(1000, ge=100, le=20_000, description="Bootstrap replicates.")

    @model_validator(mode="after")
    def _by_with_level(self) -> MonitorabilityInput:
        if (self.by is None) != (self.level is None):
            raise ValueError("give by and level together (e.g. by=env level=code)")
        return self


class WindowPoint(BaseModel):
    step: int = Field(description="First step of the window.")
    samples: int
    outcome_positive: int
    outcome_rate: float | None
    recall: float | None
    specificity: float | None
    gmean2: float | None


class MetricChangeView(BaseModel):
    metric: Metric
    before: float | None
    before_low: float | None
    before_high: float | None
    after: float | None
    after_low: float | None
    after_high: float | None
    change: float | None
    change_low: float | None
    change_high: float | None
    clear_of_zero: bool


class MonitorabilityOutput(ToolOutput):
    outcome: str
    monitor: str
    scope: str
    event: str | None
    split_step: int = Field(description="First step counted as 'after'.")
    before_steps: tuple[int, int]
    after_steps: tuple[int, int]
    samples_before: int
    samples_after: int
    windows: list[WindowPoint]
    changes: list[MetricChangeView]
    reading: Reading
    replicates: int
    method: str

    def change(self, metric: Metric) -> MetricChangeView:
        return next(c for c in self.changes if c.metric == metric)

    def render(self) -> str:
        def num(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.3f}"

        where = f"event {inline(self.event)} at step {self.split_step}" if self.event else (
            f"steps {self.before_steps[0]}..{self.before_steps[1]} vs "
            f"{self.after_steps[0]}..{self.after_steps[1]}"
        )  # fmt: skip
        lines = [
            f"monitorability of {inline(self.monitor)} for outcome {inline(self.outcome)} "
            f"({inline(self.scope)}), before/after {where}: {READING_TEXT[self.reading]}"
        ]
        for c in self.changes:
            clear = "clear of zero" if c.clear_of_zero else "not clear of zero"
            lines.append(
                f"  {METRIC_TEXT[c.metric]}: {num(c.before)} -> {num(c.after)}, change "
                f"{num(c.change)} [{num(c.change_low)}, {num(c.change_high)}] ({clear})"
            )
        lines.append(
            f"samples: {self.samples_before:,} before, {self.samples_after:,} after; "
            f"{len(self.windows)} windows"
        )
        for w in self.windows:
            lines.append(
                f"  step {w.step}: n={w.samples:,} outcome {num(w.outcome_rate)} recall "
                f"{num(w.recall)} specificity {num(w.specificity)} g-mean^2 {num(w.gmean2)}"
            )
        lines.append(f"method: {self.method}")
        return "\n".join(lines)

    def figures(self) -> dict[str, Figure]:
        out: dict[str, Figure] = {"reading": self.reading, "split_step": self.split_step}
        for c in self.changes:
            out[f"{c.metric}.before"] = c.before
            out[f"{c.metric}.after"] = c.after
            out[f"{c.metric}.change"] = c.change
            out[f"{c.metric}.change_low"] = c.change_low
            out[f"{c.metric}.change_high"] = c.change_high
            out[f"{c.metric}.clear_of_zero"] = c.clear_of_zero
        return out

    def plot_spec(self) -> PlotSpec:
        series = []
        for metric in ("recall", "specificity", "gmean2", "outcome_rate"):
            pts = [(w.step, getattr(w, metric)) for w in self.windows]
            pts = [(x, y) for x, y in pts if y is not None]
            series.append(
                Series(name=METRIC_TEXT[metric], x=[p[0] for p in pts], y=[p[1] for p in pts])
            )
        return PlotSpec(
            title=f"monitorability of {self.monitor}",
            x_label="step",
            y_label="share",
            series=series,
            markers=[
                Marker(x=float(self.split_step), label=self.event or "split", role="reference")
            ],
        )


def outcome_hits(ctx: ToolContext, spec: str) -> tuple[BoolArray, BoolArray]:
    """The outcome per sample, and where it was evaluated."""
    text = spec.strip()
    if text.startswith("flag:"):
        return _flag(ctx, text.removeprefix("flag:").strip()), np.ones(run_frame(ctx).n, bool)
    match = _REWARD.match(text)
    if match:
        frame = run_frame(ctx)
        scores = frame.rewards[:, frame.component_index(match.group("name").strip())]
        bound = float(match.group("bound") or 0.0)
        return np.nan_to_num(scores, nan=-np.inf) > bound, np.isfinite(scores)
    return _behavior(ctx, text)


def _behavior(ctx: ToolContext, spec: str) -> tuple[BoolArray, BoolArray]:
    if spec.startswith("judge:"):
        raise BadInputError(
            f"{spec!r}: an LLM judge is not available to this tool call; give a regex, terms, "
            "semantic or words detector"
        )
    return behavior_hits(ctx, spec), evaluated_rows(ctx, spec)


def _flag(ctx: ToolContext, key: str) -> BoolArray:
    if not _FLAG_KEY.match(key):
        raise BadInputError(f"flag:{key}: a key is letters, digits, '_', '-' and '.' for nesting")
    path = "$." + ".".join(f'"{part}"' for part in key.split("."))
    table = ctx.con.sql(
        "WITH j AS (SELECT row_idx, coalesce(json_extract(meta, $p), json_extract(extras, $p)) "
        "AS v FROM samples) SELECT CASE WHEN v IS NULL THEN NULL "
        "WHEN json_type(v) = 'BOOLEAN' THEN v::BOOLEAN "
        "WHEN json_type(v) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN v::DOUBLE != 0 "
        "ELSE lower(trim(v::VARCHAR, '\"')) IN ('true', 'yes', '1') END AS hit "
        "FROM j ORDER BY row_idx",
        params={"p": path},
    ).to_arrow_table()
    column = table.column("hit")
    if column.null_count == len(column):
        raise BadInputError(f"flag:{key}: no sample has this key in its meta or extra fields")
    return np.asarray(column.fill_null(False).to_numpy(), dtype=bool)


def event_step(ctx: ToolContext, event: str) -> int:
    """The step an event names: a number, or the first step a deployed commit went live."""
    text = event.strip()
    if text.isdigit():
        return int(text)
    rows = ctx.con.execute(
        "SELECT commit, min(step) FROM deployments GROUP BY 1 ORDER BY 2"
    ).fetchall()
    found = [int(step) for sha, step in rows if text and str(sha).startswith(text.lower())]
    if not found:
        known = ", ".join(str(sha)[:10] for sha, _ in rows) or "none"
        raise BadInputError(f"event {event!r}: not a step or a deployed commit; deployed: {known}")
    return found[0]


METHOD = (
    "recall = monitor hits among outcome-positive samples, specificity = monitor silent among "
    "outcome-negative ones, g-mean^2 = recall x specificity, per step window and before/after "
    "the split; changes are after - before with 95% percentile intervals from a bootstrap "
    "over training steps (each side resampled on its own)"
)


def _split(
    ctx: ToolContext, args: MonitorabilityInput, steps: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """(before mask, after mask, first 'after' step)."""
    lo, hi = int(steps.min()), int(steps.max())
    if args.event is not None:
        split = event_step(ctx, args.event)
        if not lo < split <= hi:
            raise BadInputError(f"event {args.event!r} (step {split}) leaves no steps on one side")
        return steps < split, steps >= split, split
    third = (hi - lo + 1) / 3
    before, after = steps < lo + third, steps >= hi + 1 - third
    if not before.any() or not after.any():
        raise BadInputError(f"steps {lo}..{hi}: too few steps to compare a first and last third")
    return before, after, int(steps[after].min())


@tool("monitorability")
def monitorability(ctx: ToolContext, args: MonitorabilityInput) -> MonitorabilityOutput:
    """How well a chain-of-thought monitor (a detector on the reasoning) catches an outcome
    (a detector on the completion, a label, or a reward component): per step window the
    monitor's recall on outcome-positive samples, its specificity, g-mean^2 (recall x
    specificity) and the outcome's rate; and before vs after an event (a step or a deployed
    commit) with bootstrap intervals and whether each change is clear of zero. It separates
    'the behaviour stopped' (outcome rate fell) from 'the behaviour stayed and the reasoning
    stopped saying it' (outcome flat, recall fell). Use it after a grader started to see or
    penalise the reasoning."""
    outcome, outcome_ok = outcome_hits(ctx, args.outcome)
    monitor, monitor_ok = _behavior(ctx, args.monitor.strip())
    frame = run_frame(ctx)
    keep = outcome_ok & monitor_ok
    scope = "all samples"
    if args.by is not None and args.level is not None:
        keep &= frame.level_mask(args.by, args.level)
        scope = f"{args.by}={args.level}"
    if args.limits_steps:
        keep &= args.step_mask(frame.step)
        scope += f", steps {args.range_text()}"
    if not keep.any():
        raise BadInputError("no samples left to measure (check the slice and detectors)")
    steps, outcome, monitor = frame.step[keep], outcome[keep], monitor[keep]
    before, after, split = _split(ctx, args, steps)
    used = before | after
    result: BeforeAfter = before_after(
        outcome[used], monitor[used], steps[used], after[used], replicates=args.replicates
    )
    bins = make_step_bins(steps, n_bins=args.bins)
    windows = []
    for j, start in enumerate(bins.starts):
        inside = bins.index == j
        if not inside.any():
            continue
        m = window_metrics(outcome[inside], monitor[inside])
        windows.append(
            WindowPoint(
                step=int(start),
                samples=m.samples,
                outcome_positive=m.outcome_positive,
                **{k: finite_or_none(m.values[k]) for k in METRICS},
            )
        )
    return MonitorabilityOutput(
        outcome=args.outcome,
        monitor=args.monitor,
        scope=scope,
        event=args.event,
        split_step=split,
        before_steps=(int(steps[before].min()), int(steps[before].max())),
        after_steps=(int(steps[after].min()), int(steps[after].max())),
        samples_before=int(before.sum()),
        samples_after=int(after.sum()),
        windows=windows,
        changes=[_view(metric, result) for metric in METRICS],
        reading=result.reading,
        replicates=args.replicates,
        method=METHOD,
    )


def _view(metric: Metric, result: BeforeAfter) -> MetricChangeView:
    c = result.changes[metric]
    return MetricChangeView(
        metric=metric,
        before=finite_or_none(c.before.value),
        before_low=finite_or_none(c.before.lo),
        before_high=finite_or_none(c.before.hi),
        after=finite_or_none(c.after.value),
        after_low=finite_or_none(c.after.lo),
        after_high=finite_or_none(c.after.hi),
        change=finite_or_none(c.change.value),
        change_low=finite_or_none(c.change.lo),
        change_high=finite_or_none(c.change.hi),
        clear_of_zero=c.clear_of_zero,
    )
