"""What an investigation produces: hypotheses, findings and the report (`rootcause-report/1`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from rootcause.core.effects import Effects
from rootcause.core.evidence import Evidence

REPORT_FORMAT: Literal["rootcause-report/1"] = "rootcause-report/1"

FindingKind = Literal["reward_component", "data_source", "config_change", "persona", "env"]
HypothesisStatus = Literal["open", "supported", "refuted", "inconclusive"]
#: `cause_found`: at least one finding grounded in evidence; `no_cause_found`: every candidate
#: proposed was tested and none holds; `inconclusive`: the investigation could neither name a
#: grounded cause nor rule the candidates out (it stopped early, nothing was tested, a step
#: failed, or no finding survived the grounding checks); `symptom_not_found`: no detector that
#: carries the symptom has hits in the run, so there was nothing to explain (the report lists
#: what the run does show as `suggestions`). Only `cause_found` names a cause.
Verdict = Literal["cause_found", "no_cause_found", "inconclusive", "symptom_not_found"]
VERDICTS: tuple[Verdict, ...] = (
    "cause_found",
    "no_cause_found",
    "inconclusive",
    "symptom_not_found",
)


class Hypothesis(BaseModel):
    """A candidate explanation and what the tests said about it."""

    id: str
    kind: FindingKind
    target: str
    commit: str | None = None
    slice: dict[str, str] | None = None
    statement: str
    status: HypothesisStatus = "open"
    score: float = 0.0
    evidence: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    #: The number of the latest evidence record when it was (last) refuted: only evidence
    #: recorded after that can make it a finding.
    refuted_at: int | None = None


class RefereeCheck(BaseModel):
    """What the systematic tests said of an LLM finding (the referee): the status they gave
    the candidate, their deciding figures in words, and the evidence they recorded."""

    confirmed: bool
    status: HypothesisStatus
    figures: str
    evidence: list[str] = Field(default_factory=list)


class Finding(BaseModel):
    """A root cause: what it is, how it produced the symptom, the evidence, and a fix."""

    rank: int
    kind: FindingKind
    id: str
    commit: str | None = None
    slice: dict[str, str] | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    mechanism: str
    evidence: list[str]
    fix: str
    grounded: bool = True
    #: The referee's check of an LLM finding (None: not refereed).
    referee: RefereeCheck | None = None


class Stats(BaseModel):
    wall_s: float = 0.0
    tool_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


class BehaviorSummary(BaseModel):
    """The detector an investigation used and how it reads on the run."""

    spec: str
    basis: str
    direction: Literal["up", "down"]
    rate: float | None = None
    rate_early: float | None = None
    rate_late: float | None = None
    hits: list[str] = Field(default_factory=list)
    near_misses: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    check: list[str] = Field(
        default_factory=list,
        description="The precision check of its hits against the symptom, as lines.",
    )
    readings: list[OtherReading] = Field(default_factory=list)


class OtherReading(BaseModel):
    """Another reading of the symptom that carries it about as well as the detector used:
    the spec to pass as `--behavior`, why it carries the symptom, its hits, and an example."""

    behavior: str
    basis: str
    hits: int
    overlap: float
    example: str


class Suggestion(BaseModel):
    """A behaviour the run does show (rising or falling), offered when the symptom is not
    found, with the spec to pass as `--behavior`."""

    behavior: str
    label: str
    direction: Literal["up", "down"]
    rate_early: float
    rate_late: float
    z: float


class FailedStep(BaseModel):
    """An LLM-brain step the model did not do, after its corrective turn."""

    step: str
    reason: str


class LLMReportMeta(BaseModel):
    """What an LLM investigation did and did not do (the report's `meta.llm`)."""

    model: str
    turns: int
    budget_stop: str | None = None
    failed_steps: list[FailedStep] = Field(default_factory=list)
    untested: list[str] = Field(default_factory=list)
    grounding_rejections: int = 0
    ungrounded: list[str] = Field(default_factory=list)
    #: `ran`: the systematic tests re-ran on each grounded finding; `off`: --no-referee;
    #: `not needed`: no grounded finding to referee (the verdict is not cause_found anyway).
    referee: Literal["ran", "off", "not needed"] = "not needed"
    #: Tool calls (evidence records) the referee made.
    referee_calls: int = 0
    log: str = "llm-log.jsonl"


class ReportMeta(BaseModel):
    """Where the report came from: the run folder, and for the LLM brain what it did."""

    run: str = ""
    llm: LLMReportMeta | None = None


class Report(BaseModel):
    format: Literal["rootcause-report/1"] = REPORT_FORMAT
    id: str
    run_id: str
    symptom: str
    behavior: BehaviorSummary | None  # None when no detector was settled
    suggestions: list[Suggestion] = Field(default_factory=list)  # with symptom_not_found
    verdict: Verdict
    summary: str
    findings: list[Finding]
    hypotheses: list[Hypothesis]
    evidence: list[Evidence]
    stats: Stats
    brain: str
    plots: list[str] = Field(default_factory=list)
    meta: ReportMeta = Field(default_factory=ReportMeta)
    #: The cause's effects (spread, monitorability); None when none were measured.
    effects: Effects | None = None
