"""Which reward signal pushes the behaviour: `selection_pressure` and `counterfactual`."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from rootcause.analysis.pressure import (
    PressureCell,
    PressureData,
    counterfactual_pressure,
    pressure_data,
)
from rootcause.analysis.pressure import (
    selection_pressure as price_pressure,
)
from rootcause.behaviour.frame import run_frame
from rootcause.behaviour.matching import behavior_hits, evaluated_rows
from rootcause.core.errors import BadInputError
from rootcause.core.evidence import Figure, Subject
from rootcause.core.untrusted import inline, label, labels
from rootcause.tools.base import SLICE_SUBJECTS, ToolOutput, points_of, tool
from rootcause.tools.context import ToolContext
from rootcause.tools.plotting import PlotSpec, Series
from rootcause.tools.stats_common import BehaviorInput, Interval, SliceField
from rootcause.tools.steps import StepRangeInput
from rootcause.tools.weights import live_weights

T = TypeVar("T", bound=np.generic)

#: Bootstrap replicates: the ends of a 95% percentile interval are then stable to about 2% of
#: its width (Monte Carlo sd of a 2.5% quantile: sqrt(0.025 * 0.975 / 1000) / phi(1.96) =
#: 0.085 bootstrap sds, against a width of 3.92). Said in every output (`bootstrap`).
N_BOOT = 1000


class PressureInput(StepRangeInput, BehaviorInput):
    by: SliceField = Field("persona", description="Also report pressure per slice of this field.")
    windows: int = Field(8, ge=1, le=50, description="Step windows for the 'since when' trace.")


class ComponentPressure(BaseModel):
    component: str
    pressure: float
    ci_low: float
    ci_high: float


class SlicePressure(BaseModel):
    slice: str
    samples: int
    total: Interval
    components: list[ComponentPressure]


class WindowPressure(BaseModel):
    start: int = Field(description="First step of the window.")
    end: int = Field(description="First step after the window (exclusive).")
    total: Interval
    components: dict[str, Interval]


class PressureOutput(ToolOutput):
    behavior: str
    by: str
    total: Interval
    components: list[ComponentPressure]
    by_slice: list[SlicePressure]
    by_window: list[WindowPressure]
    weights_source: str
    groups: int
    zero_variance_groups: int
    bootstrap: str = Field("", description="How the group bootstrap was drawn.")

    def render(self) -> str:
        lines = [
            f"selection pressure on {inline(self.behavior)} (Price covariance of behaviour with "
            f"the group-standardised advantage; >0 pushes it up): total {self.total.text()}",
            f"weights: {self.weights_source}; {self.groups:,} groups "
            f"({self.zero_variance_groups:,} with zero reward variance)",
            f"by component (95% bootstrap intervals over groups: {self.bootstrap}):",
        ]
        lines += [
            f"  {label(c.component)}: {c.pressure:.3g} [{c.ci_low:.3g}, {c.ci_high:.3g}]"
            for c in self.components
        ]
        lines.append(f"by {self.by} (top component):")
        for s in self.by_slice:
            top = s.components[0] if s.components else None
            lead = f"{label(top.component)} {top.pressure:.3g}" if top else "-"
            lines.append(f"  {label(s.slice)}: total {s.total.text()}; lead {lead}")
        if self.by_window and self.components:
            lead = self.components[0].component
            lines.append(f"{label(lead)} by step window:")
            lines += [
                f"  steps {w.start}-{w.end - 1}: {w.components[lead].text()}"
                for w in self.by_window
                if lead in w.components
            ]
        return "\n".join(lines)

    def figures(self) -> dict[str, Figure]:
        figures: dict[str, Figure] = {
            "total": self.total.value,
            "total_low": self.total.low,
            "total_high": self.total.high,
        }
        for c in self.components:
            figures[f"pressure[{c.component}]"] = c.pressure
            figures[f"ci_low[{c.component}]"] = c.ci_low
            figures[f"ci_high[{c.component}]"] = c.ci_high
        for s in self.by_slice:
            for c in s.components:
                figures[f"pressure[{c.component}|{self.by}={s.slice}]"] = c.pressure
        return figures

    def subjects(self) -> list[Subject]:
        """Each component, up or down when its interval is clear of zero; each slice, by the
        interval of its total pressure."""
        about = [
            Subject(
                kind="reward_component",
                name=c.component,
                points=points_of(c.ci_low, c.ci_high),
                figures=f"pressure {c.pressure:.3g} [{c.ci_low:.3g}, {c.ci_high:.3g}]",
            )
            for c in self.components
            if c.component != "residual"
        ]
        if self.by in SLICE_SUBJECTS:
            about += [
                Subject(
                    kind=SLICE_SUBJECTS[self.by],
                    name=s.slice,
                    points=points_of(s.total.low, s.total.high),
                    figures=f"total pressure {s.total.text()}",
                )
                for s in self.by_slice
            ]
        return about

    def plot_spec(self) -> PlotSpec:
        series = []
        for c in self.components[:4]:
            pts = [(w.start, w.components[c.component]) for w in self.by_window]
            series.append(
                Series(
                    name=c.component,
                    x=[p[0] for p in pts],
                    y=[p[1].value for p in pts],
                    low=[p[1].low for p in pts],
                    high=[p[1].high for p in pts],
                )
            )
        return PlotSpec(
            title=f"selection pressure on {self.behavior}",
            x_label="window start step",
            y_label="pressure",
            series=series,
        )


def _components(cell: PressureCell, skip: tuple[str, ...]) -> list[ComponentPressure]:
    out = [
        ComponentPressure(component=name, pressure=e.value, ci_low=e.lo, ci_high=e.hi)
        for name, e in cell.values.items()
        if name not in skip and np.isfinite(e.value)
    ]
    return sorted(out, key=lambda c: -c.pressure)


def _pressure_inputs(
    ctx: ToolContext, behavior: str, by: str, windows: int, limit: StepRangeInput | None = None
) -> PressureData:
    frame = run_frame(ctx)
    keep = evaluated_rows(ctx, behavior).copy()
    if limit is not None and limit.limits_steps:
        keep &= limit.step_mask(frame.step)
    if not keep.any():
        where = f" in steps {limit.range_text()}" if limit is not None else ""
        raise BadInputError(f"no samples{where} where the behaviour could be evaluated")
    every = bool(keep.all())  # then the columns are used as they are, not copied

    def rows(values: npt.NDArray[T]) -> npt.NDArray[T]:
        return values if every else values[keep]

    hits = rows(behavior_hits(ctx, behavior))
    weights = live_weights(ctx).rows(keep)  # (C,) when one window holds every kept row
    rewards, steps = rows(frame.rewards), rows(frame.step)
    total = rows(frame.reward_total).copy()
    unlogged = ~np.isfinite(total)  # the weighted sum of the components stands in
    if unlogged.any():
        live = weights if weights.ndim == 1 else weights[unlogged]
        total[unlogged] = np.nansum(rewards[unlogged] * live, axis=1)
    lo, hi = int(steps.min()), int(steps.max()) + 1
    edges = np.unique(np.linspace(lo, hi, windows + 1).round().astype(np.int64))
    return pressure_data(
        rows(frame.group.codes),
        hits.astype(np.float64),
        rewards,
        weights,
        components=frame.components,
        reward_total=total,
        slices=frame.slice(by).encoded(None if every else keep),
        steps=steps,
        window_edges=edges,
    )


@tool("selection_pressure")
def selection_pressure(ctx: ToolContext, args: PressureInput) -> PressureOutput:
    """Which reward component pushes the behaviour up, where, and since when. In
    policy-gradient RL a behaviour's rate changes with its covariance with the advantage (Price
    equation); this splits that covariance by reward component (using the weights live at each
    step), per slice and per step window, with bootstrap intervals over groups. Components sum to
    the total; 'residual' is reward not explained by the logged components. A component whose
    interval is clearly above zero is selecting for the behaviour."""
    data = _pressure_inputs(ctx, args.behavior, args.by, args.windows, args)
    table = price_pressure(data, n_boot=N_BOOT)
    overall = table.overall
    return PressureOutput(
        behavior=args.behavior,
        by=args.by,
        total=Interval.of(overall.values["total"]),
        components=_components(overall, ("total",)),
        by_slice=[
            SlicePressure(
                slice=str(cell.slice),
                samples=cell.n_samples,
                total=Interval.of(cell.values["total"]),
                components=_components(cell, ("total",)),
            )
            for cell in table.by_slice
        ],
        by_window=[
            WindowPressure(
                start=cell.window[0],
                end=cell.window[1],
                total=Interval.of(cell.values["total"]),
                components={k: Interval.of(v) for k, v in cell.values.items() if k != "total"},
            )
            for cell in table.by_window
            if cell.window is not None
        ],
        weights_source=live_weights(ctx).source,
        groups=table.n_groups,
        zero_variance_groups=table.n_zero_variance_groups,
        bootstrap=table.bootstrap,
    )


class CounterfactualInput(BehaviorInput):
    remove: list[str] = Field(description="Reward components to remove from the reward.")
    by: SliceField = Field("persona", description="Also report per slice of this field.")


class CounterfactualOutput(ToolOutput):
    behavior: str
    removed: list[str]
    baseline: Interval
    remaining: Interval
    change: Interval
    share_removed: float | None
    remaining_components: list[ComponentPressure]
    bootstrap: str = Field("", description="How the paired group bootstrap was drawn.")

    def render(self) -> str:
        share = (
            "no clear push to begin with"
            if self.share_removed is None
            else f"{self.share_removed:.0%} of the push removed"
        )
        return (
            f"pressure on {inline(self.behavior)} without {labels(self.removed)} (advantages "
            f"recomputed within groups): baseline {self.baseline.text()}, remaining "
            f"{self.remaining.text()}, change {self.change.text()} ({share}; 95% paired "
            f"bootstrap intervals: {self.bootstrap})\n"
            "remaining by component: "
            + ", ".join(f"{label(c.component)} {c.pressure:.3g}" for c in self.remaining_components)
        )

    def figures(self) -> dict[str, Figure]:
        return {
            "baseline": self.baseline.value,
            "remaining": self.remaining.value,
            "remaining_low": self.remaining.low,
            "remaining_high": self.remaining.high,
            "change": self.change.value,
            "share_removed": self.share_removed,
        }

    def subjects(self) -> list[Subject]:
        """The removed components, jointly: up when removing them takes pressure away (the
        change is clear above zero), down when it adds pressure."""
        share = "n/a" if self.share_removed is None else f"{self.share_removed:.0%}"
        return [
            Subject(
                kind="reward_component",
                name=name,
                points=points_of(self.change.low, self.change.high),
                figures=f"removing it changes the pressure by {self.change.text()} "
                f"({share} of the push)",
            )
            for name in self.removed
        ]


@tool("counterfactual")
def counterfactual(ctx: ToolContext, args: CounterfactualInput) -> CounterfactualOutput:
    """Recompute advantages without the given reward components and report the selection
    pressure on the behaviour that remains. If removing a component takes the pressure to about
    zero, that component explains the push; if pressure remains, something else pushes too."""
    frame = run_frame(ctx)
    for name in args.remove:
        frame.component_index(name)
    data = _pressure_inputs(ctx, args.behavior, args.by, 1)
    result = counterfactual_pressure(data, args.remove, n_boot=N_BOOT)
    values = result.table.overall.values
    # A share of the push is only meaningful when there is a push: baseline clear of zero.
    baseline = values["baseline"]
    share = values["change"].value / baseline.value if baseline.lo > 0 else None
    return CounterfactualOutput(
        behavior=args.behavior,
        removed=list(args.remove),
        baseline=Interval.of(values["baseline"]),
        remaining=Interval.of(values["remaining"]),
        change=Interval.of(values["change"]),
        share_removed=share,
        remaining_components=_components(result.table.overall, ("baseline", "remaining", "change")),
        bootstrap=result.table.bootstrap,
    )
