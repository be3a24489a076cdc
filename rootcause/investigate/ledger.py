"""The hypothesis ledger: every hypothesis has a status and cites evidence ids that a tool
produced; findings that cite nothing real are marked ungrounded. Every hypothesis proposed and
every result recorded is announced on the event stream (`hypothesis_changed`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from rootcause.core.report import Finding, Hypothesis, HypothesisStatus
from rootcause.investigate.events import EventSink, HypothesisChanged
from rootcause.investigate.state import InvestigationState


class Ledger:
    """Mutations of the hypotheses and findings of one state, with evidence checks."""

    def __init__(self, state: InvestigationState, on_event: EventSink | None = None):
        self.state = state
        self._on_event = on_event

    def propose(self, hypothesis: Hypothesis) -> Hypothesis:
        if any(h.id == hypothesis.id for h in self.state.hypotheses):
            return self.state.hypothesis(hypothesis.id)
        self.state.hypotheses.append(hypothesis)
        self.state.queue.append(hypothesis.id)
        self._announce("proposed", hypothesis)
        return hypothesis

    def record(
        self,
        hypothesis_id: str,
        status: HypothesisStatus,
        evidence: Iterable[str],
        score: float = 0.0,
        note: str | None = None,
    ) -> Hypothesis:
        h = self.state.hypothesis(hypothesis_id)
        h.status = status
        if status == "refuted":
            h.refuted_at = max((_evidence_order(e.id) for e in self.state.evidence), default=0)
        h.score = round(float(score), 4)
        h.evidence = sorted(set(h.evidence) | set(self.known(evidence)), key=_evidence_order)
        if note:
            h.notes.append(note)
        self._announce("recorded", h)
        return h

    def _announce(self, change: Literal["proposed", "recorded"], h: Hypothesis) -> None:
        if self._on_event is None:
            return
        self._on_event(
            HypothesisChanged(
                change=change,
                id=h.id,
                kind=h.kind,
                candidate=h.target,
                commit=h.commit,
                statement=h.statement,
                status=h.status,
                confidence=h.score,
                evidence=list(h.evidence),
                note=h.notes[-1] if h.notes else None,
            )
        )

    def known(self, evidence: Iterable[str]) -> list[str]:
        ids = {e.id for e in self.state.evidence}
        return [e for e in evidence if e in ids]

    def ungrounded(self, finding: Finding) -> list[str]:
        """Evidence ids a finding cites that no tool produced."""
        ids = {e.id for e in self.state.evidence}
        return [e for e in finding.evidence if e not in ids]

    def conclude(self, findings: list[Finding]) -> list[Finding]:
        """Rank findings and mark the ones without real evidence as not grounded."""
        ordered = sorted(findings, key=lambda f: -f.confidence)
        for rank, finding in enumerate(ordered, start=1):
            finding.rank = rank
            finding.grounded = bool(finding.evidence) and not self.ungrounded(finding)
        self.state.findings = ordered
        self.state.verdict = "cause_found" if ordered else "no_cause_found"
        return ordered


def _evidence_order(evidence_id: str) -> int:
    return int(evidence_id[1:]) if evidence_id[1:].isdigit() else 10**9
