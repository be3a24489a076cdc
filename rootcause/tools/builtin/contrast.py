"""Reward-side and traffic-side views: `reward_contrast` and `enrichment`."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from rootcause.analysis.contrast import reward_contrast as contrast
from rootcause.analysis.enrichment import enrichment as enrich
from rootcause.behaviour.matching import behavior_frame
from rootcause.core.errors import BadInputError
from rootcause.core.evidence import Figure, Points, Subject
from rootcause.core.untrusted import inline, label
from rootcause.tools.base import SLICE_SUBJECTS, ToolOutput, points_of, tool
from rootcause.tools.context import ToolContext
from rootcause.tools.plotting import PlotSpec, Series
from rootcause.tools.stats_common import BehaviorInput, Interval, SliceField, finite_or_none
from rootcause.tools.steps import StepRangeInput

#: An enrichment level points a way only with a q-value below this.
ENRICHED_Q = 0.05


class ContrastInput(BehaviorInput):
    by: SliceField = Field("data_source", description="Slices for the share-positive count.")


class ComponentContrast(BaseModel):
    component: str
    groups: int
    diff: Interval
    mean_with: float | None
    mean_without: float | None
    share_positive: float | None
    by_slice: dict[str, float | None]


class ContrastOutput(ToolOutput):
    behavior: str
    by: str
    components: list[ComponentContrast]

    def render(self) -> str:
        lines = [
            f"within-group reward difference, samples with {inline(self.behavior)} minus without "
            f"(groups holding both), and share of {self.by} slices where it is positive:"
        ]
        for c in self.components:
            share = "n/a" if c.share_positive is None else f"{c.share_positive:.0%}"
            lines.append(
                f"  {label(c.component)}: {c.diff.text()} over {c.groups:,} groups; {share}"
            )
        return "\n".join(lines)

    def figures(self) -> dict[str, Figure]:
        figures: dict[str, Figure] = {}
        for c in self.components:
            figures[f"diff[{c.component}]"] = c.diff.value
            figures[f"diff_low[{c.component}]"] = c.diff.low
            figures[f"share_positive[{c.component}]"] = c.share_positive
        return figures

    def subjects(self) -> list[Subject]:
        """Each component: up when it reliably scores the behaviour higher (within groups),
        down when lower."""
        return [
            Subject(
                kind="reward_component",
                name=c.component,
                points=points_of(c.diff.low, c.diff.high),
                figures=f"score difference with vs without {c.diff.text()}",
            )
            for c in self.components
        ]


@tool("reward_contrast")
def reward_contrast(ctx: ToolContext, args: ContrastInput) -> ContrastOutput:
    """For each reward component: the mean score of samples with the behaviour minus those
    without it, within the same prompt group (so prompt difficulty cancels), with a 95% interval,
    and the share of slices (default data sources) where the difference is positive. A component
    that reliably scores the behaviour higher is a candidate for rewarding it."""
    frame, hits = behavior_frame(ctx, args.behavior)
    results = contrast(
        frame.group.codes,
        hits.astype(np.float64),
        frame.rewards,
        list(frame.components),
        slices=frame.slice(args.by).encoded(),
    )
    components = [
        ComponentContrast(
            component=r.component,
            groups=r.n_groups,
            diff=Interval.of(r.diff),
            mean_with=finite_or_none(r.mean_with),
            mean_without=finite_or_none(r.mean_without),
            share_positive=finite_or_none(r.share_positive),
            by_slice={s.label: finite_or_none(s.mean_diff) for s in r.slices},
        )
        for r in results
    ]
    components.sort(key=lambda c: -(c.diff.value if np.isfinite(c.diff.value) else -np.inf))
    return ContrastOutput(behavior=args.behavior, by=args.by, components=components)


class EnrichmentInput(StepRangeInput, BehaviorInput):
    by: SliceField = Field("data_source", description="Field whose levels are tested.")
    alternative: Literal["two-sided", "greater", "less"] = Field(
        "two-sided", description="greater: test over-representation only."
    )
    scored_by: str | None = Field(
        None, description="Only samples this reward component scored (its reward is logged)."
    )


class LevelView(BaseModel):
    level: str
    samples: int
    hits: int
    rate_in: float
    rate_out: float
    lift: float | None
    p_value: float
    q_value: float


class EnrichmentOutput(ToolOutput):
    behavior: str
    by: str
    samples: int
    hits: int
    levels: list[LevelView]

    def render(self) -> str:
        lines = [
            f"{inline(self.behavior)} by {self.by}: {self.hits:,} hits in {self.samples:,} samples "
            "(Fisher exact test per level, Benjamini-Hochberg q-values)"
        ]
        for lv in self.levels:
            lift = "n/a" if lv.lift is None else f"{lv.lift:.2f}"
            lines.append(
                f"  {label(lv.level)}: rate {lv.rate_in:.2%} vs {lv.rate_out:.2%} elsewhere, "
                f"lift {lift}, "
                f"q={lv.q_value:.2g} ({lv.samples:,} samples)"
            )
        return "\n".join(lines)

    def figures(self) -> dict[str, Figure]:
        figures: dict[str, Figure] = {}
        for lv in self.levels:
            figures[f"lift[{lv.level}]"] = lv.lift
            figures[f"q[{lv.level}]"] = lv.q_value
            figures[f"rate[{lv.level}]"] = lv.rate_in
        return figures

    def subjects(self) -> list[Subject]:
        """Each level: up when over-represented (lift above 1, q below `ENRICHED_Q`), down when
        under-represented."""
        kind = SLICE_SUBJECTS.get(self.by)
        if kind is None:
            return []
        about = []
        for lv in self.levels:
            points: Points = "neither"
            if lv.lift is not None and lv.q_value < ENRICHED_Q:
                points = "up" if lv.lift > 1 else "down" if lv.lift < 1 else "neither"
            lift = "n/a" if lv.lift is None else f"{lv.lift:.2f}"
            figures = f"rate {lv.rate_in:.2%} vs {lv.rate_out:.2%}, lift {lift}, q={lv.q_value:.2g}"
            about.append(Subject(kind=kind, name=lv.level, points=points, figures=figures))
        return about

    def plot_spec(self) -> PlotSpec:
        return PlotSpec(
            title=f"{self.behavior}: rate by {self.by}",
            y_label="rate",
            categories=[lv.level for lv in self.levels],
            series=[
                Series(
                    name="rate",
                    kind="bar",
                    x=list(range(len(self.levels))),
                    y=[lv.rate_in for lv in self.levels],
                )
            ],
        )


@tool("enrichment")
def enrichment(ctx: ToolContext, args: EnrichmentInput) -> EnrichmentOutput:
    """Is the behaviour over-represented in one persona / data source / env? Per level: rate
    inside vs outside, lift, Fisher exact test and FDR-controlled q-value, optionally in a step
    range. Over-representation alone is not a cause (a source may only elicit the behaviour);
    combine with selection_pressure."""
    frame, hits = behavior_frame(ctx, args.behavior)
    keep = args.step_mask(frame.step)
    if args.scored_by is not None:
        keep &= np.isfinite(frame.rewards[:, frame.component_index(args.scored_by)])
        if not keep.any():
            scorer = args.scored_by
            raise BadInputError(f"no samples in steps {args.range_text()} scored by {scorer!r}")
    result = enrich(hits[keep], frame.slice(args.by).encoded(keep), alternative=args.alternative)
    levels = [
        LevelView(
            level=str(lv.label),
            samples=lv.n_in,
            hits=lv.hits_in,
            rate_in=lv.rate_in,
            rate_out=lv.rate_out,
            lift=finite_or_none(lv.lift),
            p_value=lv.p_value,
            q_value=lv.q_value,
        )
        for lv in result.levels
    ]
    levels.sort(key=lambda lv: (lv.q_value, -(lv.lift or 0.0)))
    return EnrichmentOutput(
        behavior=args.behavior, by=args.by, samples=result.n, hits=result.hits, levels=levels
    )
