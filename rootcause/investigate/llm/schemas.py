"""What the model writes: ledger-tool arguments and the structured answers of the
characterise and conclude steps, all strict-schema friendly (no defaults, no free-form dicts),
plus the grounding check a conclusion must pass."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rootcause.core.report import Finding, FindingKind
from rootcause.investigate.llm.candidates import Candidates

SliceField = Literal["persona", "data_source", "env"]
ResultStatus = Literal["supported", "refuted", "inconclusive"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProposeArgs(_Strict):
    """Arguments of `propose_hypothesis`."""

    kind: FindingKind = Field(description="What kind of candidate causes it.")
    target: str = Field(description="The candidate's exact name as `overview` lists it.")
    commit: str | None = Field(description="Config commit for kind config_change, else null.")
    statement: str = Field(description="How this candidate would have produced the behaviour.")


class RecordArgs(_Strict):
    """Arguments of `record_result`."""

    hypothesis_id: str = Field(description="The hypothesis tested, e.g. H2.")
    status: ResultStatus
    score: float = Field(description="How strongly the evidence supports it, 0 to 1.")
    evidence: list[str] = Field(description="Evidence ids the verdict rests on, e.g. E4.")
    note: str = Field(description="One sentence with the deciding numbers.")


class Characterisation(_Strict):
    """The characterise step's answer: the detector to use from here on."""

    behavior: str = Field(description="Behaviour spec exactly as `detect` printed it.")
    direction: Literal["up", "down"] = Field(description="Did the behaviour rise or fall?")
    evidence: list[str] = Field(description="Evidence ids that show it.")
    note: str


class SymptomAbsent(_Strict):
    """The characterise step's other answer: nothing in the run carries the symptom."""

    evidence: list[str] = Field(
        description="Ids of the detect calls that found nothing: the one run with the user's "
        "symptom (or given behaviour spec) and any detectors you tried."
    )
    note: str = Field(description="One sentence: why none of what the run shows is the symptom.")


class SliceEntry(_Strict):
    by: SliceField
    value: str


class FindingDraft(_Strict):
    """One root cause as the model states it."""

    kind: FindingKind
    id: str = Field(description="The candidate's exact name (component, source, persona...).")
    commit: str | None = Field(description="The config commit, when a change caused it.")
    slice: list[SliceEntry] = Field(description="Where it concentrates; empty if everywhere.")
    confidence: float = Field(description="0 to 1.")
    mechanism: str = Field(description="How it produced the behaviour, citing evidence ids.")
    evidence: list[str] = Field(description="Evidence ids, e.g. E3, E7.")
    fix: str


class Conclusion(_Strict):
    """The conclude step's answer."""

    summary: str = Field(description="Two or three sentences; 'no cause found: ...' if none.")
    findings: list[FindingDraft] = Field(description="Ranked root causes; empty if none.")


def to_finding(draft: FindingDraft) -> Finding:
    return Finding(
        rank=0,
        kind=draft.kind,
        id=draft.id,
        commit=draft.commit or None,
        slice={s.by: s.value for s in draft.slice} or None,
        confidence=min(max(float(draft.confidence), 0.0), 1.0),
        mechanism=draft.mechanism,
        evidence=list(dict.fromkeys(e.strip() for e in draft.evidence if e.strip())),
        fix=draft.fix,
    )


def grounding_problems(conclusion: Conclusion, known: Iterable[str]) -> list[str]:
    """One line per finding that cites no evidence or an id no tool produced."""
    ids = set(known)
    problems = []
    for draft in conclusion.findings:
        cited = [e.strip() for e in draft.evidence if e.strip()]
        unknown = [e for e in cited if e not in ids]
        name = f"{draft.kind} {draft.id}"
        if not cited:
            problems.append(f"finding {name} cites no evidence id")
        elif unknown:
            problems.append(f"finding {name} cites {', '.join(unknown)}, which no tool produced")
    return problems


def finding_problems(draft: FindingDraft, candidates: Candidates) -> list[str]:
    """What a finding names that is not one of the run's candidates."""
    slices: dict[str, str] = {e.by: e.value for e in draft.slice}
    return [
        f"finding {draft.kind} {draft.id}: {p}"
        for p in candidates.problems(draft.kind, draft.id.strip(), draft.commit, slices)
    ]


def conclusion_problems(
    conclusion: Conclusion, known: Iterable[str], candidates: Candidates
) -> list[str]:
    """Evidence a conclusion's findings cannot cite and candidates they cannot name."""
    problems = grounding_problems(conclusion, known)
    for draft in conclusion.findings:
        problems += finding_problems(draft, candidates)
    return problems


def rejection_message(problems: list[str], known: Iterable[str]) -> str:
    ids = sorted(set(known), key=lambda e: int(e[1:]) if e[1:].isdigit() else 10**9)
    return (
        "Your conclusion was rejected: "
        + "; ".join(problems)
        + ". Every finding must name one of the run's candidates exactly as overview lists "
        "it and cite evidence ids that tools produced in this investigation, whose figures "
        "are about that candidate and show it moving the behaviour. "
        f"Valid ids: {', '.join(ids) or '(none yet)'}. Fix the findings (or drop the ones you "
        "cannot ground) and submit again."
    )


def parse_conclusion(text: str) -> Conclusion | None:
    """A conclusion written as JSON text instead of a `submit_conclusion` call (fenced in
    Markdown or not), or None if the text holds none."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        return Conclusion.model_validate(json.loads(text[start : end + 1], strict=False))
    except (ValueError, ValidationError):
        return None
