"""`cot_exposure`: does any grader see, and reward, the policy's chain of thought?"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from rootcause.analysis.bins import make_step_bins
from rootcause.behaviour.frame import FloatArray, IntArray, run_frame
from rootcause.behaviour.matching import behavior_hits, resolve
from rootcause.core.errors import BadInputError
from rootcause.core.evidence import Figure
from rootcause.core.untrusted import inline, label, labels, quote
from rootcause.history import ConfigHistory, component_inputs, open_history
from rootcause.tools.base import ToolInput, ToolOutput, tool
from rootcause.tools.context import ToolContext
from rootcause.tools.cot_signals import (
    LeakScan,
    same_answer_groups,
    scan_all_leaks,
    text_lengths,
    within_group_partial_r,
)
from rootcause.tools.plotting import Marker, PlotSpec, Series

#: Most points of the per-step leak trace per grader (steps are binned beyond that).
MAX_TRACE_POINTS = 100


class CotExposureInput(ToolInput):
    component: str | None = Field(None, description="Only this grader (reward component).")
    shingle_words: int = Field(8, ge=4, le=50, description="Words per reasoning tile.")
    max_samples: int = Field(
        20_000, ge=100, le=1_000_000, description="Samples examined per grader (by step)."
    )
    behavior: str | None = Field(
        None,
        description="Also correlate each score with this behaviour (e.g. a phrase matched "
        "@reasoning), controlling for completion length: content, not only length.",
    )


class ScoreDependence(BaseModel):
    """Within-group partial correlation of the score with log reasoning length (characters),
    controlling for log completion length; `r_before`/`r_after` split at the grader's first leak."""

    r: float
    p_value: float
    n: int
    r_before_first_leak: float | None = None
    r_since_first_leak: float | None = None


class GraderExposure(BaseModel):
    component: str
    static: bool = Field(description="Some deployed config lists reasoning in its inputs.")
    static_from_step: int | None = Field(description="First deployment step that does.")
    config_inputs: list[str] | None = Field(description="Inputs at the last deployed config.")
    inputs_logged: int = Field(description="Samples with a logged input for this grader.")
    examined: int = Field(description="Of those, examined (stratified cap by step).")
    tested: int = Field(description="Examined samples whose reasoning has >= N words.")
    leaked: int
    leak_rate: float | None = Field(description="leaked / tested over all examined steps.")
    leak_rate_since_first: float | None = Field(description="Same, from first_step on.")
    first_step: int | None = Field(description="First step a leak was seen (examined samples).")
    first_tested_step: int | None = Field(
        None, description="First step with a tested sample: no leak can be seen before it."
    )
    tested_before_first: int = Field(
        0,
        description="Tested samples at steps before first_step (none leaked): the evidence "
        "that the exposure began there rather than before the inputs were first logged.",
    )
    example_sample_id: str | None = None
    example_shared: str | None = Field(None, description="A reasoning tile found in the input.")
    dependence: ScoreDependence | None = Field(None, description="Score vs reasoning length.")
    behavior_dependence: ScoreDependence | None = Field(
        None, description="Score vs the `behavior` argument's hits, when given."
    )
    answer_fixed_dependence: ScoreDependence | None = Field(
        None,
        description="Score vs reasoning length among samples of one group with the same "
        "completion: a grader that sees only the answer cannot depend on it there.",
    )


class LeakPoint(BaseModel):
    component: str
    step: int = Field(description="First step of the bin.")
    tested: int
    leaked: int


class CotExposureOutput(ToolOutput):
    graders: list[GraderExposure]
    trace: list[LeakPoint] = Field(description="Leaks per step bin and grader (for a plot).")
    trace_bin_width: int
    shingle_words: int
    max_samples: int
    capped: list[str] = Field(description="Graders with more samples than max_samples.")
    has_config_repo: bool
    behavior: str | None = None
    method: str

    def render(self) -> str:
        lines = [
            f"chain-of-thought exposure of {len(self.graders)} graders (reasoning tiles of "
            f"{self.shingle_words} words; up to {self.max_samples:,} samples per grader"
            + (f"; capped: {labels(self.capped)}" if self.capped else "")
            + ")"
        ]
        if not self.has_config_repo:
            lines.append("(no config repo: static exposure unknown)")
        for g in self.graders:
            static = f"config lists reasoning from step {g.static_from_step}" if g.static else (
                "config does not list reasoning"
                if g.config_inputs is not None
                else "no config file"
            )  # fmt: skip
            if g.leak_rate is None:
                dynamic = "no logged inputs with reasoning to test"
            else:
                since = f", first at step {g.first_step}" if g.first_step is not None else ""
                if g.first_step is not None:
                    since += f" ({g.tested_before_first:,} tested samples before it had none)"
                dynamic = (
                    f"reasoning in logged input {g.leaked}/{g.tested} ({g.leak_rate:.1%}){since}"
                )
                if g.leak_rate_since_first is not None:
                    dynamic += f", {g.leak_rate_since_first:.1%} since then"
            lines.append(f"- {label(g.component)}: {static}; {dynamic}")
            for against, d in (
                ("reasoning length", g.dependence),
                ("reasoning length, same answer", g.answer_fixed_dependence),
                (inline(self.behavior), g.behavior_dependence),
            ):
                if d is None:
                    continue
                split = ""
                if d.r_before_first_leak is not None and d.r_since_first_leak is not None:
                    split = (
                        f" (before first leak {d.r_before_first_leak:+.2f}, "
                        f"since {d.r_since_first_leak:+.2f})"
                    )
                lines.append(
                    f"    score vs {against}, within group: r={d.r:+.2f} "
                    f"p={d.p_value:.2g} n={d.n:,}{split}"
                )
            if g.example_shared:
                lines.append(f"    shared text: {quote(g.example_shared, g.example_sample_id)}")
        lines.append(f"method: {inline(self.method, 1000)}")
        return "\n".join(lines)

    def figures(self) -> dict[str, Figure]:
        out: dict[str, Figure] = {
            "graders_leaking": sum(1 for g in self.graders if g.leaked),
            "graders_static": sum(1 for g in self.graders if g.static),
        }
        for g in self.graders:
            out[f"{g.component}.static"] = g.static
            out[f"{g.component}.leak_rate"] = g.leak_rate
            out[f"{g.component}.first_step"] = g.first_step
            if g.dependence is not None:
                out[f"{g.component}.score_reasoning_r"] = g.dependence.r
            if g.behavior_dependence is not None:
                out[f"{g.component}.score_behavior_r"] = g.behavior_dependence.r
        return out

    def plot_spec(self) -> PlotSpec | None:
        series = []
        for g in self.graders:
            pts = [p for p in self.trace if p.component == g.component and p.tested]
            if pts and g.leaked:
                series.append(
                    Series(
                        name=g.component,
                        x=[p.step for p in pts],
                        y=[p.leaked / p.tested for p in pts],
                    )
                )
        if not series:
            return None
        markers = [
            Marker(x=float(g.static_from_step), label=f"{g.component} config")
            for g in self.graders
            if g.static_from_step is not None
        ]
        return PlotSpec(
            title="Reasoning found in logged grader inputs (share of tested samples)",
            x_label="step",
            y_label="leak rate",
            series=series,
            markers=markers,
        )


def _static(history: ConfigHistory | None) -> dict[str, tuple[int | None, list[str]]]:
    """Component -> (first deployment step whose config lists reasoning, last inputs)."""
    if history is None:
        return {}
    live: list[tuple[int | None, str]] = [(d.step, d.commit) for d in history.deployments]
    latest = history.latest()
    if not live and latest is not None:
        live = [(None, latest)]  # never deployed: what the repo says, with no step
    out: dict[str, tuple[int | None, list[str]]] = {}
    seen: dict[str, dict[str, list[str]]] = {}
    for step, sha in live:
        inputs = seen.setdefault(sha, component_inputs(history, sha))
        for name, listed in inputs.items():
            first, _ = out.get(name, (None, []))
            if first is None and "reasoning" in listed and step is not None:
                first = step
            out[name] = (first, listed)
    return out


def _grader(
    name: str, scan: LeakScan | None, static: tuple[int | None, list[str]] | None
) -> GraderExposure:
    """Static and dynamic exposure of one grader."""
    first_static, inputs = static if static is not None else (None, None)
    fields: dict[str, object] = {}
    if scan is not None:
        tested = scan.testable
        leaked = scan.leaked & tested
        first = int(scan.step[leaked].min()) if leaked.any() else None
        since = tested & (scan.step >= first) if first is not None else tested[:0]
        before = tested & (scan.step < first) if first is not None else tested[:0]
        at = int(np.flatnonzero(leaked)[0]) if leaked.any() else None
        fields = {
            "examined": int(scan.step.shape[0]),
            "tested": int(tested.sum()),
            "leaked": int(leaked.sum()),
            "leak_rate": float(leaked.sum() / tested.sum()) if tested.any() else None,
            "leak_rate_since_first": float(leaked[since].mean()) if since.any() else None,
            "first_step": first,
            "first_tested_step": int(scan.step[tested].min()) if tested.any() else None,
            "tested_before_first": int(before.sum()),
            "example_sample_id": None if at is None else scan.sample_id[at],
            "example_shared": None if at is None else scan.shared[at],
        }
    return GraderExposure.model_validate(
        {
            "component": name,
            "static": first_static is not None,
            "static_from_step": first_static,
            "config_inputs": inputs,
            "inputs_logged": 0 if scan is None else scan.total,
            "examined": 0,
            "tested": 0,
            "leaked": 0,
            "leak_rate": None,
            "leak_rate_since_first": None,
            "first_step": None,
            **fields,
        }
    )


def _dependence(
    score: FloatArray,
    reasoning: FloatArray,
    completion: FloatArray,
    groups: IntArray,
    step: IntArray,
    first_leak: int | None,
) -> ScoreDependence | None:
    """The statistical signal: overall, and split at the first leak when there is one."""
    overall = within_group_partial_r(score, reasoning, completion, groups)
    if overall is None:
        return None
    out = ScoreDependence(r=overall.r, p_value=overall.p_value, n=overall.n)
    if first_leak is not None:
        for field, mask in (
            ("r_before_first_leak", step < first_leak),
            ("r_since_first_leak", step >= first_leak),
        ):
            part = within_group_partial_r(
                np.where(mask, score, np.nan), reasoning, completion, groups
            )
            setattr(out, field, None if part is None else part.r)
    return out


def _trace(scan: LeakScan, edges: IntArray) -> list[LeakPoint]:
    """Tested and leaked samples of one grader per step bin."""
    index = np.clip(np.searchsorted(edges, scan.step, side="right") - 1, 0, len(edges) - 2)
    tested = np.bincount(index, weights=scan.testable, minlength=len(edges) - 1)
    leaked = np.bincount(index, weights=scan.leaked & scan.testable, minlength=len(edges) - 1)
    return [
        LeakPoint(component=scan.component, step=int(edges[j]), tested=int(t), leaked=int(k))
        for j, (t, k) in enumerate(zip(tested, leaked, strict=True))
        if t
    ]


METHOD = (
    "static: deployed rewards/*.yaml list 'reasoning' in inputs; dynamic: a sample leaks when "
    "a tile of N consecutive normalised reasoning words (tiles start every N words) is in the "
    "grader's logged input but not in its completion/prompt/reference (copies of >= 2N-1 words "
    "are always found), on an equal share of samples per step; leak_rate = leaked/tested over "
    "all examined samples; statistical: within-group partial correlation of the score with "
    "log reasoning length (and the behavior's hits, if given) given log completion length "
    "(characters); and the same among samples of one group with an identical completion "
    "(the answer held fixed: a grader that sees only the answer cannot depend on it there)"
)


@tool("cot_exposure")
def cot_exposure(ctx: ToolContext, args: CotExposureInput) -> CotExposureOutput:
    """Check whether graders see the policy's chain of thought (reasoning) and reward it, three
    ways per reward component: static (a deployed config lists `reasoning` in the grader's
    `inputs`), dynamic (the sample's own reasoning text is found inside the grader's logged
    input: tiles of N consecutive words of the reasoning that occur in the input but not in
    the completion, prompt or reference; leak rate and first step per grader, per-step trace),
    and statistical (within-group partial correlation of the grader's score with reasoning
    length, and with a `behavior` such as a phrase @reasoning if given, controlling for
    completion length, before and since the first leak). A grader
    that reads the reasoning lets RL pressure reach the chain of thought directly; use this
    when a behaviour shows up in the reasoning, or after a config change to grader inputs."""
    frame = run_frame(ctx)
    logged = [
        str(r[0])
        for r in ctx.con.execute(
            "SELECT DISTINCT component FROM grader_inputs ORDER BY 1"
        ).fetchall()
    ]
    with open_history(ctx.store) as history:
        static = _static(history)
    names = sorted(set(frame.components) | set(logged) | set(static))
    if args.component is not None:
        if args.component not in names:
            raise BadInputError(f"unknown grader {args.component!r}; known: {labels(names)}")
        names = [args.component]
    scans = scan_all_leaks(
        ctx, [c for c in names if c in logged], args.shingle_words, args.max_samples
    )
    steps = np.concatenate([s.step for s in scans.values()]) if scans else frame.step
    bins = make_step_bins(steps if steps.size else np.zeros(1), n_bins=MAX_TRACE_POINTS)
    reasoning_chars, completion_chars = text_lengths(ctx)
    features = {"dependence": np.log1p(reasoning_chars)}
    log_completion = np.log1p(completion_chars)  # once, not once per grader and feature
    same_answer = same_answer_groups(ctx, frame.group.codes)
    behavior = None if args.behavior is None else resolve(args.behavior)
    if behavior is not None:
        features["behavior_dependence"] = behavior_hits(ctx, behavior).astype(np.float64)
    graders, trace = [], []
    for name in names:
        scan = scans.get(name)
        grader = _grader(name, scan, static.get(name))
        for field, feature in features.items():
            if name not in frame.components:
                break
            dependence = _dependence(
                frame.rewards[:, frame.component_index(name)],
                feature,
                log_completion,
                frame.group.codes,
                frame.step,
                grader.first_step,
            )
            setattr(grader, field, dependence)
        if name in frame.components:
            grader.answer_fixed_dependence = _dependence(
                frame.rewards[:, frame.component_index(name)],
                features["dependence"],
                log_completion,
                same_answer,
                frame.step,
                None,
            )
        graders.append(grader)
        if scan is not None:
            trace += _trace(scan, bins.edges)
    return CotExposureOutput(
        graders=graders,
        trace=trace,
        trace_bin_width=int(bins.edges[1] - bins.edges[0]),
        shingle_words=args.shingle_words,
        max_samples=args.max_samples,
        capped=[c for c, s in scans.items() if s.capped],
        has_config_repo=history is not None,
        behavior=None if behavior is None else behavior.spec,
        method=METHOD,
    )
