"""Typed access to what the characterise step gathered (kept in the state as plain data)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypeVar

from scipy.stats import norm

from rootcause.investigate.state import InvestigationState
from rootcause.investigate.systematic import rules
from rootcause.investigate.toolbox import Toolbox
from rootcause.tools.base import ToolOutput
from rootcause.tools.t_events import DeploymentEvent, EventAlignmentOutput
from rootcause.tools.t_pressure import ComponentPressure, PressureOutput
from rootcause.tools.t_run import OverviewOutput, SqlOutput

OutputT = TypeVar("OutputT", bound=ToolOutput)

#: Family-wise error rate across reward components for calling a component a pusher.
ALPHA = 0.05


def remember(state: InvestigationState, key: str, output: ToolOutput, evidence_id: str) -> None:
    state.scratch[key] = {"evidence": evidence_id, "output": output.model_dump(mode="json")}


def recall(state: InvestigationState, key: str, model: type[OutputT]) -> tuple[OutputT, str]:
    item = state.scratch[key]
    return model.model_validate(item["output"]), str(item["evidence"])


def fetch(
    box: Toolbox, state: InvestigationState, key: str, tool: str, model: type[OutputT], **args: Any
) -> tuple[OutputT, str]:
    """A tool's output, called once per investigation (also across a resume)."""
    if key not in state.scratch:
        output, evidence_id = box.output(tool, model, **args)
        remember(state, key, output, evidence_id)
    return recall(state, key, model)


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
        p = float(2 * norm.sf(abs(z)))
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
    if "events" not in state.scratch:
        return [], None
    events, e_events = recall(state, "events", EventAlignmentOutput)
    return events.events, e_events


def first_steps(state: InvestigationState) -> dict[str, int]:
    if "sources" not in state.scratch:
        return {}
    out, _ = recall(state, "sources", SqlOutput)
    return {str(row[0]): int(row[1]) for row in out.rows}


def arrived_late(state: InvestigationState, source: str) -> bool:
    firsts = first_steps(state)
    if source not in firsts or not firsts:
        return False
    overview, _ = recall(state, "overview", OverviewOutput)
    lo, hi = overview.first_step or 0, overview.last_step or 0
    return firsts[source] > lo + rules.LATE_ARRIVAL * max(hi - lo, 1)
