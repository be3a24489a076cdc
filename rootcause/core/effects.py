"""The effects of a cause, as a report carries them: how the behaviour spread from the slice the
cause acts on to the others, and, where the cause reads or penalises the chain of thought, how
monitorable the reasoning stayed across the cause's commit. Each line of text cites the
evidence ids its numbers come from."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SpreadEffect(BaseModel):
    """The behaviour's trace outside the cause's slice against the trace inside it."""

    by: str
    source: str
    is_copy: bool
    fit_r2: float | None = None
    scale: float | None = None
    lag_steps: float | None = None
    onset_source: int | None = None
    onset_others: int | None = None
    text: str
    evidence: list[str] = Field(default_factory=list)


class MonitorabilityEffect(BaseModel):
    """A chain-of-thought monitor's recall and g-mean^2 before and after the cause's commit."""

    outcome: str
    monitor: str
    event: str
    split_step: int
    reading: str
    recall_change: float | None = None
    gmean2_change: float | None = None
    outcome_rate_change: float | None = None
    text: str
    evidence: list[str] = Field(default_factory=list)


class Effects(BaseModel):
    """What the cause did besides the symptom; `notes` say what could not be measured."""

    spread: SpreadEffect | None = None
    monitorability: MonitorabilityEffect | None = None
    notes: list[str] = Field(default_factory=list)

    def lines(self) -> list[str]:
        out = [e.text for e in (self.spread, self.monitorability) if e is not None]
        return out + self.notes
