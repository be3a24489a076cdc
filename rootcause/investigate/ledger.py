"""The hypothesis ledger: every hypothesis has a status and cites evidence ids that a tool
produced; findings that cite nothing real are marked ungrounded."""

from __future__ import annotations

from collections.abc import Iterable

from rootcause.core.report import Finding, Hypothesis, HypothesisStatus
from rootcause.investigate.state import InvestigationState


class Ledger:
    """Mutations of the hypotheses and findings of one state, with evidence checks."""

    def __init__(self, state: InvestigationState):
        self.state = state

    def propose(self, hypothesis: Hypothesis) -> Hypothesis:
        if any(h.id == hypothesis.id for h in self.state.hypotheses):
            return self.state.hypothesis(hypothesis.id)
        self.state.hypotheses.append(hypothesis)
        self.state.queue.append(hypothesis.id)
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
        h.score = round(float(score), 4)
        h.evidence = sorted(set(h.evidence) | set(self.known(evidence)), key=_evidence_order)
        if note:
            h.notes.append(note)
        return h

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
