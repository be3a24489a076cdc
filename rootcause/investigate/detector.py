"""What a report says of its detector beside the spec: the precision check of its hits
against the symptom and the other readings offered, from the `detect` output it came from."""

from __future__ import annotations

from rootcause.behaviour.proposal_views import ProposalView
from rootcause.core.report import OtherReading
from rootcause.core.untrusted import inline, quote


def check_lines(proposal: ProposalView | None) -> list[str]:
    """The precision check as report lines (empty: the detector was not read from a symptom)."""
    if proposal is None or proposal.check is None:
        return []
    return [inline(line) for line in proposal.check.lines]


def other_readings(proposal: ProposalView | None) -> list[OtherReading]:
    """The other readings of the symptom the proposal listed, run text quoted."""
    if proposal is None:
        return []
    return [
        OtherReading(
            behavior=r.behavior,
            basis=inline(r.basis),
            hits=r.hits,
            overlap=r.overlap,
            example=quote(r.example, r.sample_id),
        )
        for r in proposal.readings
    ]
