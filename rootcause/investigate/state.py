"""The investigation's state: plain data, so every step can be checkpointed and resumed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, SerializeAsAny, field_validator

from rootcause.core.effects import Effects
from rootcause.core.evidence import Evidence
from rootcause.core.report import (
    BehaviorSummary,
    Finding,
    Hypothesis,
    Stats,
    Suggestion,
    Verdict,
)
from rootcause.investigate.memo import BrainMemo, memo_type


class InvestigationSpec(BaseModel):
    """What was asked: written to the investigation folder before anything runs."""

    id: str
    run: str
    run_format: str = "auto"
    symptom: str
    behavior: str | None = None
    brain: str = "systematic"
    created: str
    options: dict[str, Any] = Field(default_factory=dict)


class InvestigationState(BaseModel):
    """Everything the protocol has established so far."""

    spec: InvestigationSpec
    phase: str = "characterise"
    behavior: BehaviorSummary | None = None
    suggestions: list[Suggestion] = Field(default_factory=list)
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    queue: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    verdict: Verdict | None = None
    summary: str = ""
    evidence: list[Evidence] = Field(default_factory=list)
    #: What the brain keeps between steps, read back as its brain's own memo type.
    memo: SerializeAsAny[BrainMemo] | None = None
    effects: Effects | None = None
    stats: Stats = Field(default_factory=Stats)

    @field_validator("memo", mode="before")
    @classmethod
    def _as_its_brains(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return memo_type(str(value.get("brain"))).model_validate(value)
        return value

    def hypothesis(self, hypothesis_id: str) -> Hypothesis:
        for h in self.hypotheses:
            if h.id == hypothesis_id:
                return h
        raise KeyError(hypothesis_id)
