"""The scan's checks: each calls registry tools through a `ToolContext`, so every alert cites
an evidence record and the `rootcause tool` command that reproduces it.

Severity comes from the tools' own statistics, never from cut-offs fitted to example runs:

- CoT exposure, per grader: reasoning found in its logged inputs is `high` when the exposure
  begins after the run's first step (a change) or no deployed config declares it (the inputs
  were assembled that way); exposure declared from the first deployment on and seen from the
  first step is `info` (a CoT monitor reads the reasoning by design). A config that starts
  listing reasoning mid-run with no logged inputs to confirm it is `medium`. With no logged
  inputs at all, a score that depends on reasoning length with the answer held fixed (among
  samples of one group with the same completion; Bonferroni-corrected p < 0.05 across graders
  and |r| >= 0.5) is `low`: a screening signal. A dependence seen only overall (|r| >= 0.1)
  is an `info` note, not an alert: better answers, which longer reasoning may buy, explain it.
- Emerging: an n-gram (or semantic cluster) whose log-odds z is clear of noise after a
  Bonferroni correction over every n-gram that could have been scored (at most two per token:
  unigrams and bigrams); `medium` when `onset` finds a significant upward change point (its
  step is the first step), `low` otherwise.
- Given behaviour: `prevalence` rising (the last step bin's 95% Wilson interval above the
  first's) and/or `selection_pressure` naming a component whose 95% interval is clear of
  zero; `high` with both, `medium` with one.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from scipy import stats

from rootcause.scan.model import Alert, CheckOptions, Severity
from rootcause.tools.base import ToolOutput
from rootcause.tools.context import ToolContext
from rootcause.tools.registry import ToolResult, call_tool
from rootcause.tools.t_cot import CotExposureOutput, GraderExposure
from rootcause.tools.t_emerging import EmergingOutput
from rootcause.tools.t_pressure import ComponentPressure, PressureOutput
from rootcause.tools.t_prevalence import OnsetOutput, PrevalenceOutput
from rootcause.tools.untrusted import quote

#: Family-wise error rate of every "clear of noise" test.
ALPHA = 0.05
#: Effect sizes (|r|, Cohen's conventions) for the screening of graders with no logged
#: inputs: an alert needs a large one with the answer held fixed; a note a small one overall.
LARGE_R = 0.5
SMALL_R = 0.1
#: Most emerging alerts per run (n-grams that share a word count as one).
MAX_EMERGING = 3
#: Longest example text kept in an alert.
EXAMPLE_CHARS = 240


Out = TypeVar("Out", bound=ToolOutput)


def output_of(result: ToolResult, kind: type[Out]) -> Out:
    """A tool result's typed output."""
    if not isinstance(result.output, kind):
        raise TypeError(f"{result.evidence.tool} returned {type(result.output).__name__}")
    return result.output


@dataclass
class RunCheck:
    """One run under check: its context, how to name it in commands, and the alerts so far."""

    ctx: ToolContext
    run: str
    run_id: str
    first_step: int
    options: CheckOptions
    alerts: list[Alert] = field(default_factory=list)

    def call(self, name: str, args: dict[str, Any]) -> ToolResult:
        return call_tool(self.ctx, name, args)

    def command(self, name: str, args: dict[str, Any]) -> str:
        """`rootcause tool NAME RUN --ARG VALUE ...` as `rootcause tool` parses it."""
        words = ["rootcause", "tool", name, self.run]
        for key, value in args.items():
            option = "--" + key.replace("_", "-")
            if isinstance(value, bool):
                words.append(option if value else f"--no-{option[2:]}")
            else:
                words += [option, str(value)]
        if self.options.fmt != "auto":
            words += ["--format", self.options.fmt]
        if self.options.skip_bad_lines is not None:
            words.append(
                "--skip-bad-lines" if self.options.skip_bad_lines else "--no-skip-bad-lines"
            )
        return shlex.join(words)

    def alert(self, check: str, result: ToolResult, args: dict[str, Any], **fields: Any) -> None:
        self.alerts.append(
            Alert(
                run=self.run,
                run_id=self.run_id,
                check=check,
                evidence=result.evidence.id,
                command=self.command(result.evidence.tool, args),
                **fields,
            )
        )


def run_checks(check: RunCheck) -> list[Alert]:
    """Every check the options name, in order; returns the alerts."""
    names = list(check.options.checks)
    if check.options.behaviors and "behavior" not in names:
        names.append("behavior")
    for name in names:
        if name == "cot_exposure":
            cot_exposure_check(check)
        elif name == "emerging":
            emerging_check(check)
        else:
            for spec in check.options.behaviors:
                behavior_check(check, spec)
    return check.alerts


def _cot_severity(grader: GraderExposure, first_step: int) -> tuple[Severity, str] | None:
    """Severity of one grader's exposure and why (None: nothing to report)."""
    if grader.leaked:
        declared_from_start = (
            grader.static
            and grader.static_from_step is not None
            and (grader.static_from_step <= first_step)
        )
        if grader.first_step is not None and grader.first_step > first_step:
            return "high", f"reasoning reaches the grader from step {grader.first_step} on"
        if not grader.static:
            return "high", "reasoning reaches the grader though no deployed config lists it"
        if declared_from_start:
            return "info", "the config lists reasoning from the first step (as designed?)"
        return "high", "reasoning reaches the grader"
    if grader.static and grader.tested == 0 and grader.static_from_step is not None:
        if grader.static_from_step > first_step:
            return "medium", f"config starts listing reasoning at step {grader.static_from_step}"
        return "info", "the config lists reasoning from the first step; no inputs logged"
    return None


def _screen(grader: GraderExposure, tests: int) -> tuple[Severity, str] | None:
    """A grader with no logged inputs, by its score's dependence on reasoning length: an
    alert (`low`) only when the dependence holds with the answer held fixed (same group, same
    completion), significant after a Bonferroni correction over the graders screened and at
    least `LARGE_R`; a note (`info`) when only the overall dependence is significant and at
    least `SMALL_R` (longer reasoning may buy better answers, which an answer-only grader
    rightly rewards); nothing below that (a tiny r is significant on a large run)."""
    bar = ALPHA / max(tests, 1)
    fixed, overall = grader.answer_fixed_dependence, grader.dependence
    if fixed is not None and fixed.p_value < bar and abs(fixed.r) >= LARGE_R:
        return "low", (
            f"no logged inputs; with the answer held fixed (same group, same completion) the "
            f"score still depends on reasoning length (r={fixed.r:+.2f}, p={fixed.p_value:.2g}, "
            f"n={fixed.n:,})"
        )
    if overall is not None and overall.p_value < bar and abs(overall.r) >= SMALL_R:
        control = (
            "not with the answer held fixed (no score differences among samples of a group "
            "with the same completion, or too few of them)"
            if fixed is None
            else f"not with the answer held fixed (r={fixed.r:+.2f}, p={fixed.p_value:.2g})"
        )
        return "info", (
            f"no logged inputs; score tracks reasoning length (r={overall.r:+.2f}, "
            f"p={overall.p_value:.2g}) but {control}: answer quality may explain it"
        )
    return None


def cot_exposure_check(check: RunCheck) -> None:
    """One row per grader that sees (or may see) the reasoning."""
    args: dict[str, Any] = {}
    result = check.call("cot_exposure", args)
    graders = output_of(result, CotExposureOutput).graders
    screened = [g for g in graders if g.tested == 0 and g.dependence is not None]
    for g in graders:
        rated = _cot_severity(g, check.first_step)
        if rated is None and g in screened:
            rated = _screen(g, len(screened))
        if rated is None:
            continue
        severity, why = rated
        first = g.first_step if g.first_step is not None else g.static_from_step
        share = g.leak_rate_since_first if g.leak_rate_since_first is not None else g.leak_rate
        check.alert(
            "cot_exposure",
            result,
            {"component": g.component},
            subject=g.component,
            component=g.component,
            severity=severity,
            first_step=first,
            share=share,
            detail=f"{why}; leaked {g.leaked}/{g.tested} tested samples",
            example=None if not g.example_shared else quote(g.example_shared, g.example_sample_id),
        )


def ngram_pattern(ngram: str) -> str:
    """A case-insensitive whole-word regex for an n-gram (its words, any gap of non-words)."""
    words = [re.escape(w) for w in ngram.split()]
    return r"(?i)\b" + r"\W+".join(words) + r"\b"


def z_bar(tests: int) -> float:
    """The two-sided z a statistic must exceed to be clear of noise among `tests` tests."""
    return float(stats.norm.isf(ALPHA / (2 * max(tests, 1))))


@dataclass
class _Rising:
    label: str
    words: set[str]
    z: float
    related: list[str] = field(default_factory=list)


def _grouped(rising: Sequence[Any], bar: float) -> list[_Rising]:
    """Rising n-grams clear of the bar, strongest first; an n-gram that contains another's
    words, or whose words another contains ("bottom", "line", "bottom line"), joins it, and
    the longer names the group."""
    kept: list[_Rising] = []
    for g in rising:
        if g.z <= bar:
            continue
        words = set(g.ngram.split())
        same = [k for k in kept if k.words <= words or words <= k.words]
        if not same:
            kept.append(_Rising(g.ngram, words, g.z))
            continue
        into = same[0]
        for other in same[1:]:
            into.related += [other.label, *other.related]
            kept.remove(other)
        if len(words) > len(into.words):
            into.related.append(into.label)
            into.label, into.words = g.ngram, words
        else:
            into.related.append(g.ngram)
    return kept[:MAX_EMERGING]


def emerging_check(check: RunCheck) -> None:
    """Rising n-grams (and, with `clusters`, semantic clusters) clear of noise."""
    args: dict[str, Any] = {"clusters": check.options.clusters}
    result = check.call("emerging", args)
    out = output_of(result, EmergingOutput)
    bar = z_bar(2 * (out.tokens_early + out.tokens_late))
    for group in _grouped(out.rising, bar):
        behavior = f"regex:{ngram_pattern(group.label)}"
        onset_args = {"behavior": behavior}
        onset = check.call("onset", onset_args)
        onset_out = output_of(onset, OnsetOutput)
        found = onset_out.onset_step
        related = f" (with {', '.join(group.related)})" if group.related else ""
        check.alert(
            "emerging",
            onset if found is not None else result,
            onset_args if found is not None else args,
            subject=group.label,
            severity="medium" if found is not None else "low",
            first_step=found,
            share=onset_out.rate_after,
            detail=f"rising n-gram{related}: z={group.z:.1f} (bar {bar:.1f}), steps "
            f"{out.early[0]}..{out.early[1]} vs {out.late[0]}..{out.late[1]}; "
            f"found by {result.evidence.id}",
            example=_example(check, group.label, out.late[0]),
        )
    clusters = out.clusters or []
    cluster_bar = z_bar(len(clusters))
    for c in clusters:
        if c.z <= cluster_bar:
            continue
        first = c.examples[0] if c.examples else None
        check.alert(
            "emerging",
            result,
            args,
            subject="cluster: " + ", ".join(c.terms),
            severity="low",
            share=c.share_late,
            detail=f"semantic cluster share {c.share_early:.1%} -> {c.share_late:.1%}, "
            f"z={c.z:.1f} (bar {cluster_bar:.1f})",
            example=None if first is None else quote(first.text[:EXAMPLE_CHARS], first.sample_id),
        )


def _example(check: RunCheck, ngram: str, late_from: int) -> str | None:
    """One late completion containing the n-gram, quoted as data."""
    row = check.ctx.con.execute(
        "SELECT sample_id, completion FROM samples WHERE step >= ? AND "
        "regexp_matches(completion, ?) ORDER BY step DESC, row_idx LIMIT 1",
        [late_from, ngram_pattern(ngram)],
    ).fetchone()
    if row is None:
        return None
    return quote(str(row[1])[:EXAMPLE_CHARS], row[0], total=len(str(row[1])))


def behavior_check(check: RunCheck, spec: str) -> None:
    """A given behaviour: rising clear of noise, and which component pushes it."""
    prevalence_args = {"behavior": spec}
    prevalence = check.call("prevalence", prevalence_args)
    points = [
        p for p in output_of(prevalence, PrevalenceOutput).overall.points if p.rate is not None
    ]
    early, late = (points[0], points[-1]) if points else (None, None)
    rising = (
        early is not None
        and late is not None
        and late.low is not None
        and early.high is not None
        and late.low > early.high
    )
    pressure_args = {"behavior": spec}
    pressure = check.call("selection_pressure", pressure_args)
    pushed = output_of(pressure, PressureOutput)
    pushers = [c for c in pushed.components if c.ci_low > 0 and c.component != "residual"]
    if not rising and not pushers:
        return
    onset = output_of(check.call("onset", {"behavior": spec}), OnsetOutput).onset_step
    top = pushers[0] if pushers else None
    first = onset if onset is not None else _first_push_step(pushed, top)
    rates = (
        f"rate {early.rate:.2%} -> {late.rate:.2%}" if early and late and early.rate is not None
        and late.rate is not None else "no rate"
    )  # fmt: skip
    push = (
        f"pushed by {top.component} {top.pressure:.3g} [{top.ci_low:.3g}, {top.ci_high:.3g}]"
        if top is not None
        else "no component's push clear of zero"
    )
    source, args = (pressure, pressure_args) if top is not None else (prevalence, prevalence_args)
    check.alert(
        "behavior",
        source,
        args,
        subject=spec,
        component=None if top is None else top.component,
        severity="high" if rising and top is not None else "medium",
        first_step=first,
        share=None if late is None else late.rate,
        detail=f"{rates}{' (rising)' if rising else ''}; {push}",
    )


def _first_push_step(output: PressureOutput, top: ComponentPressure | None) -> int | None:
    """The first step window where the top pusher's interval is clear of zero."""
    if top is None:
        return None
    for window in output.by_window:
        interval = window.components.get(top.component)
        if interval is not None and interval.low > 0:
            return int(window.start)
    return None
