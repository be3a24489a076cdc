"""CoT exposure, per grader: reasoning found in its logged inputs is `high` when the exposure
begins after the run's first step (a change: tested samples before the first leak had none,
more of them than chance allows at the grader's leak rate), when a config starts listing it
mid-run, or when no deployed config declares it (the inputs were assembled that way); exposure
declared from the first deployment on and seen from the first tested sample is `info` (a CoT
monitor reads the reasoning by design, and a grader of a rare env is first tested late). A
config that starts listing reasoning mid-run with no logged inputs to confirm it is `medium`.
With no logged inputs at all, a score that depends on reasoning length with the answer held
fixed (among samples of one group with the same completion; Bonferroni-corrected p < 0.05
across graders and |r| >= 0.5) is `low`: a screening signal. A dependence seen only overall
(|r| >= 0.1) is an `info` note, not an alert: better answers, which longer reasoning may buy,
explain it.
"""

from __future__ import annotations

from rootcause.core.untrusted import quote
from rootcause.scan.checks import ALPHA, RunCheck, scan_check
from rootcause.scan.model import Severity
from rootcause.tools.builtin.cot import CotExposureInput, GraderExposure, cot_exposure

#: Effect sizes (|r|, Cohen's conventions) for the screening of graders with no logged
#: inputs: an alert needs a large one with the answer held fixed; a note a small one overall.
LARGE_R = 0.5
SMALL_R = 0.1


def onset_p_value(grader: GraderExposure) -> float:
    """How likely the tested samples before the first leak were all leak-free if the grader
    had received the reasoning at one constant rate all along (its overall leak rate, the
    estimate under that hypothesis): (1 - rate)^n, the tail of the geometric wait for a first
    leak. Small: the exposure began at the first leak. 1 with no tested sample before it: the
    first leak is then only where the logged inputs start (a grader that grades a rare env, or
    inputs logged from a later step), not evidence of a change."""
    rate = grader.leak_rate
    if rate is None or grader.tested_before_first == 0:
        return 1.0
    return float((1.0 - rate) ** grader.tested_before_first)


def _cot_severity(
    grader: GraderExposure, first_step: int, tests: int
) -> tuple[Severity, str] | None:
    """Severity of one grader's exposure and why (None: nothing to report). A change (`high`)
    needs leak-free tested samples before the first leak, beyond chance at the grader's leak
    rate (Bonferroni over the `tests` leaking graders); a first leak after the run's first step
    with nothing tested before it is where the inputs start, not when the exposure began."""
    if grader.leaked:
        p_value = onset_p_value(grader)
        began = grader.first_step is not None and grader.first_step > first_step
        if began and p_value < ALPHA / max(tests, 1):
            return "high", (
                f"reasoning reaches the grader from step {grader.first_step} on (none in "
                f"the {grader.tested_before_first:,} tested samples before, p={p_value:.2g})"
            )
        if not grader.static:
            return "high", "reasoning reaches the grader though no deployed config lists it"
        assert grader.static_from_step is not None  # static: some deployment lists it
        if grader.static_from_step > first_step:
            return "high", (
                f"the config starts listing reasoning at step {grader.static_from_step} and "
                "reasoning reaches the grader"
            )
        return "info", "the config lists reasoning from the first step (as designed?)" + (
            _seen_from(grader, first_step, p_value)
        )
    if grader.static and grader.tested == 0 and grader.static_from_step is not None:
        if grader.static_from_step > first_step:
            return "medium", f"config starts listing reasoning at step {grader.static_from_step}"
        return "info", "the config lists reasoning from the first step; no inputs logged"
    return None


def _seen_from(grader: GraderExposure, first_step: int, p_value: float) -> str:
    """Why a first leak after the run's first step is no change, or '' when it is at it."""
    if grader.first_step is None or grader.first_step <= first_step:
        return ""
    if grader.tested_before_first == 0:
        return (
            f"; first tested at step {grader.first_tested_step}, with reasoning from there on "
            "(nothing tested before to show a change)"
        )
    return (
        f"; first seen at step {grader.first_step}, but {grader.tested_before_first:,} tested "
        f"samples without it before are too few to tell a change (p={p_value:.2g})"
    )


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


@scan_check(
    "cot_exposure",
    version=2,
    summary="graders that see (or may see) the policy's reasoning",
)
def cot_exposure_check(check: RunCheck) -> None:
    """One row per grader that sees (or may see) the reasoning."""
    result = check.run_tool(cot_exposure, CotExposureInput())
    graders = result.output.graders
    screened = [g for g in graders if g.tested == 0 and g.dependence is not None]
    leaking = sum(1 for g in graders if g.leaked)
    for g in graders:
        rated = _cot_severity(g, check.first_step, leaking)
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
            CotExposureInput(component=g.component),
            subject=g.component,
            component=g.component,
            severity=severity,
            first_step=first,
            share=share,
            detail=f"{why}; leaked {g.leaked}/{g.tested} tested samples",
            example=None if not g.example_shared else quote(g.example_shared, g.example_sample_id),
        )
