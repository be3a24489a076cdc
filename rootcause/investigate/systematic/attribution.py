"""Tracing a pusher to what changed: the deployment, or the source arrival, that best explains
when its push began (`rules` says how), with the mechanism written from evidence."""

from __future__ import annotations

from typing import Any

from rootcause.investigate.state import InvestigationState
from rootcause.investigate.systematic import rules
from rootcause.investigate.systematic.facts import (
    Push,
    arrived_late,
    behavior_of,
    call_once,
    events_of,
    first_steps,
    memo_of,
    overview_of,
    pressure_of,
    sign_of,
    slice_shares,
)
from rootcause.investigate.systematic.memo import Attribution
from rootcause.investigate.toolbox import Toolbox, ToolDisabledError
from rootcause.tools.builtin.events import DeploymentEvent
from rootcause.tools.builtin.pressure import (
    CounterfactualInput,
    PressureInput,
    counterfactual,
    selection_pressure,
)


def attribute(box: Toolbox, state: InvestigationState, push: Push, e_pressure: str) -> Attribution:
    """Trace a pusher to what changed: the deployment that changed it, or the arrival of
    the one source its push lives in, whichever best explains when its push began."""
    sign = sign_of(state)
    behavior = behavior_of(state)
    c = push.component
    try:
        cf, e_cf = call_once(
            box,
            memo_of(state).counterfactual,
            c,
            counterfactual,
            CounterfactualInput(behavior=behavior, remove=[c]),
        )
        removed, evidence = cf.share_removed, [e_pressure, e_cf]
    except ToolDisabledError:  # an ablation: confidence without the counterfactual
        removed, e_cf, evidence = None, "counterfactual disabled", [e_pressure]
    events, e_events = events_of(state)
    if e_events:
        evidence.append(e_events)
    changes = []
    for event in events:
        touching = [e for e in event.effects if e.target == c and rules.can_change_reward(e)]
        if touching:
            changes.append((event, touching))
    local = localised_source(state, c, sign)
    # Each candidate event is judged on the steps up to its neighbours, so two changes a few
    # steps apart are not credited with each other's effect.
    marks = sorted({e.step for e, _ in changes} | ({local[3]} if local else set()))
    best: tuple[float, DeploymentEvent | None, list[Any]] = (0.0, None, [])
    for event, touching in changes:
        score = event_score(box, state, c, event.step, marks)
        if score > best[0]:
            best = (score, event, touching)
    best_score, change, effects = best
    if local is not None:
        source, share, e_source, arrival_step, arrival = local
        if event_score(box, state, c, arrival_step, marks) > best_score:
            return Attribution(
                kind="data_source",
                target=source,
                commit=arrival.commit if arrival else None,
                slice={"data_source": source},
                confidence=rules.confidence(push.z, push.share, True, removed),
                mechanism=(
                    f"{share:.0%} of {c}'s push on {behavior} comes from {source} "
                    f"({e_source}), which arrived at step {arrival_step}, and the push "
                    f"began with it rather than with any change to {c}; "
                    + push_text(push, e_pressure, removed, e_cf)
                ),
                fix=rules.source_fix(source, c),
                evidence=[*evidence, e_source],
            )
    kind = (
        rules.change_kind(effects, rules.behavior_words(behavior)) if change else "reward_component"
    )
    when = (
        f"; it was changed at step {change.step} ({rules.describe_effects(effects)}) and "
        "its push began (or grew most) with that change"
        if change
        else ""
    )
    return Attribution(
        kind=kind,
        target=c,
        commit=change.commit if change else None,
        slice=slice_of(state, c, sign),
        confidence=rules.confidence(push.z, push.share, change is not None, removed),
        mechanism=push_text(push, e_pressure, removed, e_cf) + when,
        fix=rules.component_fix(kind, c, effects),
        evidence=evidence,
    )


def push_text(push: Push, e_pressure: str, removed: float | None, e_cf: str) -> str:
    return (
        f"{push.component} selects for the behaviour: signed pressure {push.signed:.3g} "
        f"[{push.low:.3g}, {push.high:.3g}] ({e_pressure}), {push.share:.0%} of the push; "
        f"removing it takes away {_pct(removed)} of the push ({e_cf})"
    )


def event_score(
    box: Toolbox,
    state: InvestigationState,
    component: str,
    step: int,
    marks: list[int],
) -> float:
    """How well an event at `step` explains the component's push (see `rules.onset_score`):
    its push over the steps just before and just after the event, each window stopping at
    the neighbouring candidate events in `marks`."""
    pressure, _ = pressure_of(state, "persona")
    first = min((w.start for w in pressure.by_window), default=0)
    last = max((w.end for w in pressure.by_window), default=0)
    if step >= last:
        return 0.0
    span = max((last - first) // 10, 5)
    later = [m for m in marks if m > step]
    earlier = [m for m in marks if m < step]
    end = min(step + span, later[0]) if later else step + span
    start = max(step - span, earlier[-1]) if earlier else step - span
    after = window_push(box, state, component, step, end)
    before = window_push(box, state, component, start, step) if step > first else (0.0, 0.0)
    return rules.onset_score(before, after)


def window_push(
    box: Toolbox, state: InvestigationState, component: str, lo: int, hi: int
) -> tuple[float, float]:
    """The component's signed push over steps [lo, hi): (estimate, lower bound)."""
    overview, _ = overview_of(state)
    out, _ = call_once(
        box,
        memo_of(state).window_pressure,
        f"{lo}:{hi}",
        selection_pressure,
        PressureInput(
            behavior=behavior_of(state),
            windows=1,
            step_min=max(lo, overview.first_step or 0),
            step_max=hi - 1,
        ),
    )
    sign = sign_of(state)
    for c in out.components:
        if c.component == component:
            return sign * c.pressure, min(sign * c.ci_low, sign * c.ci_high)
    return 0.0, 0.0


def localised_source(
    state: InvestigationState, component: str, sign: float
) -> tuple[str, float, str, int, DeploymentEvent | None] | None:
    """The source holding most of the component's push, if it arrived during the run:
    (source, share, evidence, arrival step, arrival deployment)."""
    if "data_source" not in memo_of(state).pressure:
        return None
    pressure, e_source = pressure_of(state, "data_source")
    shares = slice_shares(pressure, component, sign)
    if not shares:
        return None
    source, share = max(shares.items(), key=lambda kv: kv[1])
    first = first_steps(state).get(source)
    if share < rules.LOCAL_SHARE or first is None:
        return None
    events, _ = events_of(state)
    arrival = rules.source_change(events, source)
    if arrival is None and not arrived_late(state, source):
        return None
    return source, share, e_source, arrival.step if arrival else first, arrival


def slice_of(state: InvestigationState, component: str, sign: float) -> dict[str, str] | None:
    for by in ("persona", "env"):
        pressure, _ = pressure_of(state, by)
        shares = slice_shares(pressure, component, sign)
        traffic = {s.slice: s.samples for s in pressure.by_slice}
        total = sum(traffic.values()) or 1
        if shares:
            name, share = max(shares.items(), key=lambda kv: kv[1])
            if share >= rules.SLICE_SHARE and traffic.get(name, 0) / total < 0.5:
                return {by: name}
    return None


def _pct(value: float | None) -> str:
    return "an unclear share" if value is None else f"{value:.0%}"
