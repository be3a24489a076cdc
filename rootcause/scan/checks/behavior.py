"""Given behaviours: `prevalence` rising (the last step bin's 95% Wilson interval above the
first's) and/or `selection_pressure` naming a component whose 95% interval is clear of zero;
`high` with both, `medium` with one.
"""

from __future__ import annotations

from rootcause.scan.checks import RunCheck, scan_check
from rootcause.tools.builtin.pressure import (
    ComponentPressure,
    PressureInput,
    PressureOutput,
    selection_pressure,
)
from rootcause.tools.builtin.prevalence import OnsetInput, PrevalenceInput, onset, prevalence


@scan_check(
    "behavior",
    version=2,
    summary="each --behavior given: rising, and which component pushes it",
    default=False,
    per_behavior=True,
)
def behavior_checks(check: RunCheck) -> None:
    for spec in check.options.behaviors:
        behavior_check(check, spec)


def behavior_check(check: RunCheck, spec: str) -> None:
    """A given behaviour: rising clear of noise, and which component pushes it."""
    prevalence_args = PrevalenceInput(behavior=spec)
    prevalence_result = check.run_tool(prevalence, prevalence_args)
    points = [p for p in prevalence_result.output.overall.points if p.rate is not None]
    early, late = (points[0], points[-1]) if points else (None, None)
    rising = (
        early is not None
        and late is not None
        and late.low is not None
        and early.high is not None
        and late.low > early.high
    )
    pressure_args = PressureInput(behavior=spec)
    pressure = check.run_tool(selection_pressure, pressure_args)
    pushed = pressure.output
    pushers = [c for c in pushed.components if c.ci_low > 0 and c.component != "residual"]
    if not rising and not pushers:
        return
    onset_step = check.run_tool(onset, OnsetInput(behavior=spec)).output.onset_step
    top = pushers[0] if pushers else None
    first = onset_step if onset_step is not None else _first_push_step(pushed, top)
    rates = (
        f"rate {early.rate:.2%} -> {late.rate:.2%}" if early and late and early.rate is not None
        and late.rate is not None else "no rate"
    )  # fmt: skip
    push = (
        f"pushed by {top.component} {top.pressure:.3g} [{top.ci_low:.3g}, {top.ci_high:.3g}]"
        if top is not None
        else "no component's push clear of zero"
    )
    check.alert(
        "behavior",
        pressure if top is not None else prevalence_result,
        pressure_args if top is not None else prevalence_args,
        subject=spec,
        behavior=spec,
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
