"""What the LLM brain keeps between steps, in the checkpointed state: its counters (model
turns), the stop and failure records the report lists, the `detect` outputs the model ran (so
characterise can build the behaviour summary, and a symptom not found has its suggestions),
and the model's answers. Plain data (typed
pydantic), so a checkpoint round-trips and a resumed step reads the same."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rootcause.core.report import FailedStep, LLMReportMeta
from rootcause.investigate.llm.schemas import Characterisation, Conclusion, SymptomAbsent
from rootcause.investigate.memo import BrainMemo, brain_memo
from rootcause.tools.builtin.detect import DetectOutput


@brain_memo
class LLMMemo(BrainMemo):
    brain: Literal["llm"] = "llm"
    model: str | None = None
    #: Model calls over the whole investigation (a budget).
    turns: int = 0
    #: The budget that ran out, if one did.
    budget_stop: str | None = None
    #: Why the steps that depend on a failed one are not run.
    halted: str | None = None
    failed_steps: list[FailedStep] = Field(default_factory=list)
    #: Hypotheses closed without a result from the model.
    untested: list[str] = Field(default_factory=list)
    #: `detect` outputs with their evidence ids, by the spec asked and the spec it printed.
    detect: dict[str, tuple[DetectOutput, str]] = Field(default_factory=dict)
    #: `detect` outputs that matched nothing, by evidence id (they carry the suggestions).
    empty_detects: dict[str, DetectOutput] = Field(default_factory=dict)
    characterisation: Characterisation | None = None
    #: The model's answer that the symptom is not in the run (the verdict checks it).
    absence: SymptomAbsent | None = None
    #: Times that answer was sent back for what the evidence shows.
    absence_rejections: int = 0
    #: Times a conclusion was sent back for what its findings cite or name.
    rejections: int = 0
    conclusion: Conclusion | None = None
    #: Whether the referee ran on the findings, and the tool calls it made.
    referee: Literal["ran", "off", "not needed"] = "not needed"
    referee_calls: int = 0
    #: The report's `meta.llm`, set when the brain concludes.
    report: LLMReportMeta | None = None

    def report_meta(self) -> LLMReportMeta | None:
        return self.report
