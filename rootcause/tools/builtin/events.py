"""`event_alignment`: which config deployments came just before a behaviour took off."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from rootcause.analysis.bins import make_step_bins
from rootcause.analysis.onset import detect_onset
from rootcause.analysis.pressure import pressure_data, selection_pressure
from rootcause.behaviour.frame import RunFrame, run_frame
from rootcause.behaviour.matching import BoolArray, behavior_frame, resolve
from rootcause.core.evidence import Figure, Points, Subject
from rootcause.core.untrusted import inline, label
from rootcause.history import ConfigHistory, open_history
from rootcause.tools.base import ToolInput, ToolOutput, tool
from rootcause.tools.context import ToolContext
from rootcause.tools.history_views import EffectView, effect_views
from rootcause.tools.plotting import Marker, PlotSpec, Series

#: Bins each side of a deployment over which the behaviour rate before/after is measured.
RATE_BINS = 3
#: Bootstrap replicates for the start of selection pressure (a screening figure).
PRESSURE_BOOT = 200


class EventAlignmentInput(ToolInput):
    behavior: str = Field(description="Behaviour spec, e.g. terms:goblin or regex:...")
    bin_width: int | None = Field(
        None, ge=1, description="Steps per bin (default: about 40 bins over the run)."
    )


class DeploymentEvent(BaseModel):
    step: int
    commit: str
    message: str | None
    relation: Literal["before", "at", "after", "no onset"]
    distance: int | None = Field(description="Deployment step minus onset step.")
    rate_before: float | None = Field(description=f"Behaviour rate in the {RATE_BINS} bins before.")
    rate_after: float | None = Field(description=f"Behaviour rate in the {RATE_BINS} bins from it.")
    effects: list[EffectView] = Field(description="What it changed vs. the previous deployment.")
    exposes_reasoning: bool


class EventAlignmentOutput(ToolOutput):
    behavior: str
    bin_width: int
    onset_step: int | None
    onset_rate_before: float | None
    onset_rate_after: float | None
    onset_p_value: float | None
    pressure_start: int | None = Field(
        description="First bin whose total selection pressure interval is above zero."
    )
    events: list[DeploymentEvent] = Field(description="Deployments, nearest to the onset first.")
    bin_starts: list[int]
    rates: list[float | None]
    has_config_repo: bool

    def render(self) -> str:
        if self.onset_step is None:
            head = f"{inline(self.behavior)}: no significant onset (bins of {self.bin_width} steps)"
        else:
            head = (
                f"{inline(self.behavior)}: onset at step {self.onset_step} (rate "
                f"{self.onset_rate_before:.1%} → {self.onset_rate_after:.1%}, "
                f"p={self.onset_p_value:.2g}; bins of {self.bin_width} steps)"
            )
        lines = [head]
        if self.pressure_start is not None:
            lines.append(f"selection pressure on it is above zero from step {self.pressure_start}")
        if not self.has_config_repo:
            lines.append("(no config repo: deployments are known but not what they changed)")
        lines.append("deployments, nearest to the onset first:")
        for e in self.events:
            where = (
                f"{abs(e.distance)} steps {e.relation} the onset"
                if e.distance is not None and e.relation != "at"
                else e.relation.replace("at", "at the onset")
            )
            rates = ""
            if e.rate_before is not None and e.rate_after is not None:
                rates = f"; rate {e.rate_before:.1%} → {e.rate_after:.1%}"
            message = label(e.message) if e.message else "(no message)"
            lines.append(f"- step {e.step}: {label(e.commit[:10])} {message} ({where}{rates})")
            lines += [f"    * {x.line()}" for x in e.effects[:6]]
            if len(e.effects) > 6:
                lines.append(f"    * … {len(e.effects) - 6} more changes")
        return "\n".join(lines)

    def figures(self) -> dict[str, Figure]:
        before = [e for e in self.events if e.relation in ("before", "at")]
        nearest = before[0] if before else None
        return {
            "onset_step": self.onset_step,
            "pressure_start": self.pressure_start,
            "deployments": len(self.events),
            "nearest_before_commit": nearest.commit[:10] if nearest else None,
            "nearest_before_distance": nearest.distance if nearest else None,
            "nearest_before_exposes_reasoning": nearest.exposes_reasoning if nearest else None,
        }

    def subjects(self) -> list[Subject]:
        """Each deployed commit: up (or down) when it went live before or at the onset and
        the rate rose (fell) from it; neither when it came after, or there was no onset."""
        about = []
        for e in self.events:
            points: Points = "neither"
            rates = ""
            if e.rate_before is not None and e.rate_after is not None:
                rates = f", rate {e.rate_before:.1%} -> {e.rate_after:.1%}"
                if e.relation in ("before", "at") and e.rate_after != e.rate_before:
                    points = "up" if e.rate_after > e.rate_before else "down"
            where = e.relation if e.distance is None else f"{e.relation} ({e.distance:+d})"
            figures = f"step {e.step}, {where} the onset{rates}"
            about.append(
                Subject(kind="config_change", name=e.commit, points=points, figures=figures)
            )
        return about

    def plot_spec(self) -> PlotSpec:
        pts = [(x, y) for x, y in zip(self.bin_starts, self.rates, strict=True) if y is not None]
        before = [e for e in self.events if e.relation in ("before", "at")]
        nearest = before[0] if before else None
        markers = [
            Marker(x=float(e.step), label=f"{e.commit[:7]} @{e.step}")
            if e is not nearest
            else Marker(
                x=float(e.step),
                label=f"nearest before the onset: {e.commit[:7]} @{e.step}",
                role="finding",
            )
            for e in self.events
        ]
        if self.onset_step is not None:
            markers.append(
                Marker(
                    x=float(self.onset_step), label=f"onset @{self.onset_step}", role="reference"
                )
            )
        return PlotSpec(
            title=f"{self.behavior}: rate per {self.bin_width}-step bin and config deployments",
            x_label="step",
            y_label="behaviour rate",
            series=[Series(name="rate", x=[p[0] for p in pts], y=[p[1] for p in pts])],
            markers=sorted(markers, key=lambda m: m.x),
        )


def _rate(hits: BoolArray, mask: BoolArray) -> float | None:
    return float(hits[mask].mean()) if mask.any() else None


def _pressure_start(frame: RunFrame, hits: BoolArray, edges: np.ndarray) -> int | None:
    """First window whose total pressure (within-group covariance of the behaviour with the
    standardized total reward) has a bootstrap interval above zero; None when unknown."""
    ok = np.isfinite(frame.reward_total) & (frame.group.codes >= 0)
    if ok.sum() < 4:
        return None
    data = pressure_data(
        frame.group.codes[ok],
        hits[ok],
        frame.reward_total[ok, None],
        np.ones(1),
        components=("reward",),
        steps=frame.step[ok],
        window_edges=edges,
    )
    trace = selection_pressure(data, n_boot=PRESSURE_BOOT).trace("total")
    above = np.flatnonzero(trace.lo > 0)
    return int(trace.window_start[above[0]]) if above.size else None


def _events(
    ctx: ToolContext, history: ConfigHistory | None, onset: int | None, hits: BoolArray, w: int
) -> list[DeploymentEvent]:
    step = run_frame(ctx).step
    pairs = (
        history.deployment_diffs()
        if history is not None
        else [(d, None) for d in ctx.store.deployments()]
    )
    events = []
    for d, diff in pairs:
        found = effect_views(diff)
        distance = None if onset is None else d.step - onset
        relation: Literal["before", "at", "after", "no onset"] = (
            "no onset"
            if distance is None
            else "before"
            if distance < 0
            else "at"
            if distance == 0
            else "after"
        )
        span = RATE_BINS * w
        events.append(
            DeploymentEvent(
                step=d.step,
                commit=d.commit,
                message=d.message,
                relation=relation,
                distance=distance,
                rate_before=_rate(hits, (step >= d.step - span) & (step < d.step)),
                rate_after=_rate(hits, (step >= d.step) & (step < d.step + span)),
                effects=found,
                exposes_reasoning=any(e.exposes_reasoning for e in found),
            )
        )
    # nearest first; at equal distance a deployment before the onset wins (it can be a cause)
    return sorted(events, key=lambda e: (abs(e.distance or 0), (e.distance or 0) > 0, e.step))


@tool("event_alignment")
def event_alignment(ctx: ToolContext, args: EventAlignmentInput) -> EventAlignmentOutput:
    """Line up config deployments with a behaviour's onset: finds the onset (first significant
    upward change point of the behaviour rate per step bin) and lists every deployment by its
    distance to it (before/after, in steps), with what each changed relative to the previously
    deployed config (reward weights, grader inputs such as reasoning, new components or data
    sources) and the behaviour rate just before and after it. Also reports where selection
    pressure on the behaviour first becomes positive. A deployment shortly before the onset is a
    candidate cause; test it with the pressure and counterfactual tools before concluding."""
    behavior = resolve(args.behavior)
    frame, hits = behavior_frame(ctx, behavior)
    bins = make_step_bins(frame.step, width=args.bin_width)
    inside = bins.index >= 0
    k = np.bincount(bins.index[inside], weights=hits[inside], minlength=bins.n_bins)
    n = np.bincount(bins.index[inside], minlength=bins.n_bins).astype(np.float64)
    result = detect_onset(k, n, bins.starts)
    onset = result.onset
    onset_step = None if onset is None else int(onset.x)
    width = int(bins.edges[1] - bins.edges[0])
    with open_history(ctx.store) as history:
        events = _events(ctx, history, onset_step, hits, width)
    return EventAlignmentOutput(
        behavior=behavior.spec,
        bin_width=width,
        onset_step=onset_step,
        onset_rate_before=None if onset is None else onset.before,
        onset_rate_after=None if onset is None else onset.after,
        onset_p_value=None if onset is None else onset.p_value,
        pressure_start=_pressure_start(frame, hits, bins.edges),
        events=events,
        bin_starts=[int(s) for s in bins.starts],
        rates=[float(a / b) if b else None for a, b in zip(k, n, strict=True)],
        has_config_repo=history is not None,
    )
