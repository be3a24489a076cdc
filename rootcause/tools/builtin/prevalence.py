"""How often, when and where: `prevalence`, `compare_traces`, `onset`."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field, model_validator

from rootcause.analysis.bins import StepBins
from rootcause.analysis.onset import OnsetResult, detect_onset
from rootcause.analysis.prevalence import RateSeries, concentration, prevalence_trace
from rootcause.analysis.traces import compare_traces as compare
from rootcause.behaviour.matching import behavior_frame
from rootcause.core.evidence import Figure
from rootcause.core.untrusted import MAX_LABEL_CHARS, inline, label
from rootcause.tools.base import ToolOutput, tool
from rootcause.tools.context import ToolContext
from rootcause.tools.plotting import Marker, PlotSpec, Series
from rootcause.tools.stats_common import BehaviorInput, SliceField, finite_or_none, step_bins
from rootcause.tools.steps import StepRangeInput


class RatePoint(BaseModel):
    step: int
    n: int
    rate: float | None
    low: float | None
    high: float | None


class Trace(BaseModel):
    label: str
    points: list[RatePoint]

    @classmethod
    def of(cls, series: RateSeries) -> Trace:
        return cls(
            label=series.label,
            points=[
                RatePoint(
                    step=int(series.bin_start[i]),
                    n=int(series.n[i]),
                    rate=finite_or_none(series.rate[i]),
                    low=finite_or_none(series.lo[i]),
                    high=finite_or_none(series.hi[i]),
                )
                for i in range(len(series.n))
            ],
        )

    def first_last(self) -> tuple[float, float]:
        rates = [p.rate for p in self.points if p.rate is not None]
        return (rates[0], rates[-1]) if rates else (float("nan"), float("nan"))

    def series(self) -> Series:
        pts = [p for p in self.points if p.rate is not None]
        return Series(name=self.label, x=[p.step for p in pts], y=[p.rate or 0.0 for p in pts])


class SliceShare(BaseModel):
    label: str
    samples: int
    hits: int
    rate: float
    traffic_share: float
    hit_share: float
    ratio: float | None
    ratio_low: float | None
    ratio_high: float | None


class PrevalenceInput(StepRangeInput, BehaviorInput):
    by: SliceField = Field("persona", description="Split the trace by this field.")
    bins: int = Field(20, ge=2, le=200, description="Number of step bins.")


class PrevalenceOutput(ToolOutput):
    behavior: str
    by: str
    overall: Trace
    slices: list[Trace]
    concentration: list[SliceShare]
    step_range: tuple[int, int] | None = Field(
        description="First and last step counted (both inclusive); null: every step."
    )

    def render(self) -> str:
        first, last = self.overall.first_last()
        lines = [
            f"{inline(self.behavior)}: rate {first:.2%} in the first step bin, {last:.2%} in the "
            "last"
        ]
        for trace in self.slices:
            a, b = trace.first_last()
            lines.append(f"  {self.by}={label(trace.label)}: {a:.2%} -> {b:.2%}")
        where = "all steps" if self.step_range is None else "steps {}..{}".format(*self.step_range)
        lines.append(f"concentration by {self.by} over {where} (hit share / traffic share):")
        for s in self.concentration:
            ratio = "n/a" if s.ratio is None else f"{s.ratio:.2f}"
            interval = (
                f" [{s.ratio_low:.2f}, {s.ratio_high:.2f}]" if s.ratio_low is not None else ""
            )
            lines.append(
                f"  {label(s.label)}: {s.traffic_share:.1%} of traffic, {s.hit_share:.1%} of hits, "
                f"ratio {ratio}{interval}, rate {s.rate:.2%}"
            )
        return "\n".join(lines)

    def figures(self) -> dict[str, Figure]:
        first, last = self.overall.first_last()
        figures: dict[str, Figure] = {"rate_first_bin": first, "rate_last_bin": last}
        for s in self.concentration:
            figures[f"ratio[{s.label}]"] = s.ratio
            figures[f"hit_share[{s.label}]"] = s.hit_share
            figures[f"traffic_share[{s.label}]"] = s.traffic_share
        for trace in self.slices:
            a, b = trace.first_last()
            figures[f"rate_last_bin[{trace.label}]"] = b
            figures[f"rate_first_bin[{trace.label}]"] = a
        return figures

    def plot_spec(self) -> PlotSpec:
        return PlotSpec(
            title=f"{self.behavior} by {self.by}",
            x_label="step",
            y_label="rate",
            series=[self.overall.series(), *(t.series() for t in self.slices)],
        )


@tool("prevalence")
def prevalence(ctx: ToolContext, args: PrevalenceInput) -> PrevalenceOutput:
    """Rate of a behaviour per step bin, overall and split by persona / data_source / env,
    with 95% Wilson intervals, plus the concentration ratio of each slice (its share of the
    behaviour divided by its share of traffic; well above 1 means the slice over-produces it).
    Use it to see when the behaviour rose and where it is concentrated."""
    frame, hits = behavior_frame(ctx, args.behavior)
    step_range = None
    if args.limits_steps:
        keep = args.step_mask(frame.step)
        frame, hits = frame.subset(keep), hits[keep]
        step_range = (int(frame.step.min()), int(frame.step.max()))
    labels = frame.slice(args.by).encoded()
    trace = prevalence_trace(frame.step, hits, slices=labels, bins=step_bins(frame, args.bins))
    conc = concentration(hits, labels)
    return PrevalenceOutput(
        behavior=args.behavior,
        by=args.by,
        overall=Trace.of(trace.overall),
        slices=[Trace.of(s) for s in trace.slices],
        concentration=[
            SliceShare(
                label=c.label,
                samples=c.n,
                hits=c.hits,
                rate=c.rate,
                traffic_share=c.traffic_share,
                hit_share=c.hit_share if np.isfinite(c.hit_share) else 0.0,
                ratio=finite_or_none(c.ratio),
                ratio_low=finite_or_none(c.ratio_lo),
                ratio_high=finite_or_none(c.ratio_hi),
            )
            for c in conc.slices
        ],
        step_range=step_range,
    )


class CompareInput(BehaviorInput):
    by: SliceField = Field("persona", description="Field that defines the two slices.")
    a: str = Field(description="Slice A, e.g. the persona suspected to be the source.")
    b: str | None = Field(None, description="Slice B (default: every sample not in A).")
    bins: int = Field(30, ge=6, le=200, description="Number of step bins.")
    max_lag: int | None = Field(None, ge=0, description="Largest lag tried, in bins.")


class CompareOutput(ToolOutput):
    behavior: str
    a: str
    b: str
    pearson: float | None
    spearman: float | None
    lag_bins: int
    lag_steps: float | None
    scale: float | None
    fit_r2: float | None
    is_copy: bool
    onset_a: int | None
    onset_b: int | None
    steps: list[int]
    a_rescaled: list[float | None]
    b_rescaled: list[float | None]

    def render(self) -> str:
        def num(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.3g}"

        verdict = "is" if self.is_copy else "is not"
        a, b = inline(self.a, MAX_LABEL_CHARS), inline(self.b, MAX_LABEL_CHARS)
        return (
            f"{inline(self.behavior)}: trace of {b} {verdict} a lagged, rescaled copy of {a} "
            f"(fit R2 {num(self.fit_r2)}, scale {num(self.scale)}, lag {self.lag_bins} bins = "
            f"{num(self.lag_steps)} steps; positive lag: {b} follows {a})\n"
            f"correlation: pearson {num(self.pearson)}, spearman {num(self.spearman)}; onset of "
            f"{a}: step {self.onset_a}, of {b}: step {self.onset_b}"
        )

    def figures(self) -> dict[str, Figure]:
        return {
            "pearson": self.pearson,
            "spearman": self.spearman,
            "lag_steps": self.lag_steps,
            "scale": self.scale,
            "fit_r2": self.fit_r2,
            "is_copy": self.is_copy,
            "onset_a": self.onset_a,
            "onset_b": self.onset_b,
        }

    def plot_spec(self) -> PlotSpec:
        def series(name: str, ys: list[float | None]) -> Series:
            pts = [(x, y) for x, y in zip(self.steps, ys, strict=True) if y is not None]
            return Series(name=name, x=[p[0] for p in pts], y=[p[1] for p in pts])

        return PlotSpec(
            title=f"{self.behavior}: {self.a} vs {self.b} (rescaled)",
            x_label="step",
            y_label="rescaled rate",
            series=[series(self.a, self.a_rescaled), series(self.b, self.b_rescaled)],
        )


@tool("compare_traces")
def compare_traces(ctx: ToolContext, args: CompareInput) -> CompareOutput:
    """Compare the behaviour's trace in slice A (e.g. persona=nerdy) with slice B (default:
    everything else): rescaled overlay, correlation, best lag, scale, onset of each. If B is a
    lagged, rescaled copy of A, the behaviour likely started in A and spread (generalised) to B."""
    frame, hits = behavior_frame(ctx, args.behavior)
    in_a = frame.level_mask(args.by, args.a)
    if args.b is None:
        in_b, b_name = ~in_a, f"not {args.a}"
    else:
        in_b, b_name = frame.level_mask(args.by, args.b), args.b
    bins = step_bins(frame, args.bins)
    tag = np.where(in_a, "a", np.where(in_b, "b", "other"))
    trace = prevalence_trace(frame.step, hits, slices=tag, bins=bins)
    sa, sb = trace.slice("a"), trace.slice("b")
    result = compare(sa.rate, sb.rate, x=bins.starts, n_a=sa.n, n_b=sb.n, max_lag=args.max_lag)
    return CompareOutput(
        behavior=args.behavior,
        a=args.a,
        b=b_name,
        pearson=finite_or_none(result.pearson),
        spearman=finite_or_none(result.spearman),
        lag_bins=int(result.lag),
        lag_steps=finite_or_none(result.lag_steps),
        scale=finite_or_none(result.scale),
        fit_r2=finite_or_none(result.fit_r2),
        is_copy=bool(result.is_copy),
        onset_a=_onset_step(result.onset_a),
        onset_b=_onset_step(result.onset_b),
        steps=[int(x) for x in result.x],
        a_rescaled=[finite_or_none(v) for v in result.a_rescaled],
        b_rescaled=[finite_or_none(v) for v in result.b_rescaled],
    )


def _onset_step(result: OnsetResult) -> int | None:
    return None if result.onset is None else int(result.onset.x)


class OnsetInput(BehaviorInput):
    bins: int = Field(40, ge=6, le=400, description="Number of step bins.")
    by: SliceField | None = Field(None, description="Restrict to one slice of this field...")
    level: str | None = Field(None, description="...with this value (e.g. by=persona, level=x).")

    @model_validator(mode="after")
    def _by_with_level(self) -> OnsetInput:
        if (self.by is None) != (self.level is None):
            raise ValueError("give by and level together (e.g. by=persona level=nerdy)")
        return self


class ChangeView(BaseModel):
    step: int
    before: float
    after: float
    p_value: float
    upward: bool
    significant: bool


class OnsetOutput(ToolOutput):
    behavior: str
    scope: str
    onset_step: int | None
    rate_before: float | None
    rate_after: float | None
    change_points: list[ChangeView]
    steps: list[int]
    rates: list[float | None]

    def render(self) -> str:
        if self.onset_step is None:
            head = (
                f"{inline(self.behavior)} ({inline(self.scope)}): no significant upward change "
                "point"
            )
        else:
            head = (
                f"{inline(self.behavior)} ({inline(self.scope)}): onset at step {self.onset_step}, "
                "rate "
                f"{self.rate_before:.2%} -> {self.rate_after:.2%}"
            )
        lines = [head]
        for c in self.change_points:
            flag = "significant" if c.significant else "not significant"
            lines.append(
                f"  change at step {c.step}: {c.before:.2%} -> {c.after:.2%} "
                f"(p={c.p_value:.2g}, {flag})"
            )
        return "\n".join(lines)

    def figures(self) -> dict[str, Figure]:
        return {
            "onset_step": self.onset_step,
            "rate_before": self.rate_before,
            "rate_after": self.rate_after,
            "change_points": len(self.change_points),
        }

    def plot_spec(self) -> PlotSpec:
        pts = [(x, y) for x, y in zip(self.steps, self.rates, strict=True) if y is not None]
        markers = (
            []
            if self.onset_step is None
            else [
                Marker(
                    x=float(self.onset_step), label=f"onset @{self.onset_step}", role="reference"
                )
            ]
        )
        return PlotSpec(
            title=f"{self.behavior} ({self.scope})",
            x_label="step",
            y_label="rate",
            series=[Series(name="rate", x=[p[0] for p in pts], y=[p[1] for p in pts])],
            markers=markers,
        )


@tool("onset")
def onset(ctx: ToolContext, args: OnsetInput) -> OnsetOutput:
    """Change points of the behaviour's rate over steps (binomial PELT, each change
    tested before vs after) and the onset: the first significant upward change. Optionally
    within one slice (by + level). Use the onset step to line up config changes."""
    frame, hits = behavior_frame(ctx, args.behavior)
    keep = np.ones(frame.n, dtype=bool)
    scope = "all samples"
    if args.by is not None and args.level is not None:
        keep = frame.level_mask(args.by, args.level)
        scope = f"{args.by}={args.level}"
    bins = step_bins(frame, args.bins)
    trace = prevalence_trace(frame.step[keep], hits[keep], bins=step_bins_subset(bins, keep))
    series = trace.overall
    result = detect_onset(series.k, series.n, x=series.bin_start)
    found = result.onset
    return OnsetOutput(
        behavior=args.behavior,
        scope=scope,
        onset_step=None if found is None else int(found.x),
        rate_before=None if found is None else float(found.before),
        rate_after=None if found is None else float(found.after),
        change_points=[
            ChangeView(
                step=int(c.x),
                before=float(c.before),
                after=float(c.after),
                p_value=float(c.p_value),
                upward=bool(c.upward),
                significant=bool(c.significant),
            )
            for c in result.change_points
        ],
        steps=[int(s) for s in series.bin_start],
        rates=[finite_or_none(r) for r in series.rate],
    )


def step_bins_subset(bins: StepBins, keep: np.ndarray) -> StepBins:
    """The same bin edges, restricted to the kept samples."""
    return StepBins(edges=bins.edges, index=bins.index[keep])
