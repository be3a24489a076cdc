"""The event stream's contract, checked against the report the same job wrote (both brains)."""

from __future__ import annotations

from pathlib import Path

from rootcause.core.report import Report
from rootcause.investigate.events import (
    EvidenceRecorded,
    HypothesisChanged,
    InvestigationEvent,
    InvestigationFinished,
    InvestigationStarted,
    ToolCalled,
    ToolFailed,
    parse_event,
)

TOOL_EVENTS = (ToolCalled, EvidenceRecorded, ToolFailed)


def assert_event_contract(events: list[InvestigationEvent], report: Report) -> None:
    """Started first, finished last with the report's verdict; every tool call announced and
    answered by its evidence (or failure) with the same id; every hypothesis change announced,
    ending in the report's state."""
    assert isinstance(events[0], InvestigationStarted)
    finished = events[-1]
    assert isinstance(finished, InvestigationFinished)
    assert finished.verdict == report.verdict and finished.findings == report.findings
    assert {e.investigation for e in events} == {report.id}
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + len(events)))

    # A call's events come in order: tool_called, then its evidence or failure, same id.
    tool_events = [e for e in events if isinstance(e, TOOL_EVENTS)]
    recorded = {}
    for i, event in enumerate(tool_events):
        if isinstance(event, ToolCalled):
            answer = tool_events[i + 1]
            if isinstance(answer, EvidenceRecorded):
                assert answer.evidence.id == event.evidence_id
                assert answer.evidence.tool == event.tool
                recorded[answer.evidence.id] = answer.evidence
            else:
                assert isinstance(answer, ToolFailed) and answer.evidence_id == event.evidence_id
        elif isinstance(event, EvidenceRecorded):
            assert isinstance(tool_events[i - 1], ToolCalled)
    assert recorded == {e.id: e for e in report.evidence}
    assert sum(isinstance(e, EvidenceRecorded) for e in events) == report.stats.tool_calls

    # Replaying the hypothesis events gives the report's hypotheses.
    seen: dict[str, HypothesisChanged] = {}
    for event in events:
        if isinstance(event, HypothesisChanged):
            assert (event.change == "proposed") == (event.id not in seen), event
            seen[event.id] = event
    assert [h.id for h in report.hypotheses] == list(seen)
    for h in report.hypotheses:
        last = seen[h.id]
        assert (last.kind, last.candidate, last.commit) == (h.kind, h.target, h.commit)
        assert (last.status, last.confidence, last.evidence) == (h.status, h.score, h.evidence)
        assert last.note == (h.notes[-1] if h.notes else None)


def read_events_file(path: Path) -> list[InvestigationEvent]:
    """The `--events` file, parsed line by line (each line is one whole event)."""
    lines = path.read_text().splitlines()
    assert lines and all(line.strip() for line in lines)
    return [parse_event(line) for line in lines]
