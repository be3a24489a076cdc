"""Typed access to what the characterise step gathered (the brain's memo in the state)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

from rootcause.analysis._common import two_sided_p
from rootcause.core.errors import RootcauseError
from rootcause.investigate.state import InvestigationState
from rootcause.investigate.systematic import rules
from rootcause.investigate.systematic.memo import SystematicMemo
from rootcause.investigate.toolbox import Toolbox
from rootcause.tools.base import In, Out, Tool, ToolOutput
from rootcause.tools.builtin.events import DeploymentEvent
from rootcause.tools.builtin.pressure import ComponentPressure, PressureOutput
from rootcause.tools.builtin.run import OverviewOutput

OutputT = TypeVar("OutputT", bound=ToolOutput)
KeyT = TypeVar("KeyT", str, int)

#: Family-wise error rate across reward components for calling a component a pusher.
ALPHA = 0.05


def memo_of(state: InvestigationState) -> SystematicMemo:
    """The systematic brain's memo in `state` (created on first use)."""
    if state.memo is None:
        state.memo = SystematicMemo()
    if not isinstance(state.memo, SystematicMemo):
        raise RootcauseError(
            f"investigation {state.spec.id} was started by the {state.memo.brain} brain"
        )
    return state.memo


def call_once(
    box: Toolbox, slot: dict[KeyT, tuple[Out, str]], key: KeyT, tool: Tool[In, Out], args: In
) -> tuple[Out, str]:
    """A tool's output and evidence id, called once per `key` of `slot` (also across a resume)."""
    if key not in slot:
        slot[key] = box.run(tool, args)
    return slot[key]


def overview_of(state: InvestigationState) -> tuple[OverviewOutput, str]:
    return _gathered(memo_of(state).overview, "overview")


def pressure_of(state: InvestigationState, by: str) -> tuple[PressureOutput, str]:
    """Selection pressure over the whole run, sliced `by` persona, data_source or env."""
    return _gathered(memo_of(state).pressure.get(by), f"selection pressure by {by}")


def _gathered(value: tuple[OutputT, str] | None, what: str) -> tuple[OutputT, str]:
    if value is None:
        raise RootcauseError(f"the characterise step gathered no {what}")
    return value


@dataclass(frozen=True)
class Push:
    """One component's selection pressure, signed so that positive means 'drives the symptom'."""

    component: str
    signed: float
    low: float
    high: float
    z: float
    p_value: float
    share: float
    significant: bool


def pushes(pressure: PressureOutput, sign: float) -> list[Push]:
    """Every component's signed pressure with a Bonferroni-corrected test across components and
    its share of the total positive (signed) pressure."""
    comps = [c for c in pressure.components if c.component != "residual"]
    signed = [_signed(c, sign) for c in comps]
    positive = sum(max(s[0], 0.0) for s in signed) or 1.0
    out = []
    for c, (value, low, high) in zip(comps, signed, strict=True):
        se = (high - low) / (2 * 1.959964) if high > low else math.inf
        z = value / se if se > 0 else 0.0
        p = two_sided_p(z)
        out.append(
            Push(
                component=c.component,
                signed=value,
                low=low,
                high=high,
                z=z,
                p_value=p,
                share=max(value, 0.0) / positive,
                significant=z > 0 and low > 0 and p * len(comps) < ALPHA,
            )
        )
    return sorted(out, key=lambda p: -p.signed)


def _signed(c: ComponentPressure, sign: float) -> tuple[float, float, float]:
    low, high = sorted((sign * c.ci_low, sign * c.ci_high))
    return sign * c.pressure, low, high


def slice_shares(pressure: PressureOutput, component: str, sign: float) -> dict[str, float]:
    """Where a component's signed push lives: each slice's share, weighted by its samples."""
    weights: dict[str, float] = {}
    for s in pressure.by_slice:
        for c in s.components:
            if c.component == component:
                weights[s.slice] = max(sign * c.pressure, 0.0) * s.samples
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()} if total > 0 else {}


def behavior_of(state: InvestigationState) -> str:
    assert state.behavior is not None
    return state.behavior.spec


def sign_of(state: InvestigationState) -> float:
    assert state.behavior is not None
    return 1.0 if state.behavior.direction == "up" else -1.0


def events_of(state: InvestigationState) -> tuple[list[DeploymentEvent], str | None]:
    recorded = memo_of(state).events
    if recorded is None:
        return [], None
    events, e_events = recorded
    return events.events, e_events


def first_steps(state: InvestigationState) -> dict[str, int]:
    recorded = memo_of(state).sources
    if recorded is None:
        return {}
    return {str(row[0]): int(row[1]) for row in recorded[0].rows}


def arrived_late(state: InvestigationState, source: str) -> bool:
    firsts = first_steps(state)
    if source not in firsts or not firsts:
        return False
    overview, _ = overview_of(state)
    lo, hi = overview.first_step or 0, overview.last_step or 0
    return firsts[source] > lo + rules.LATE_ARRIVAL * max(hi - lo, 1)
