"""The typed views of a symptom's reading that `detect` returns and the reports show: the
candidates measured, the precision check of the chosen detector, the other readings offered,
and the run's behaviours suggested when the symptom is not found."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from rootcause.behaviour.candidate import Candidate
from rootcause.behaviour.precision import PrecisionCheck
from rootcause.behaviour.proposal import Proposal
from rootcause.behaviour.readings import Reading


class CandidateView(BaseModel):
    """One candidate detector as measured on the whole run (first vs last quarter)."""

    behavior: str
    source: str = Field(description="quote, length, words, emerging, cluster")
    basis: str
    carries: bool = Field(description="Carries the symptom: its quotes, words or meaning.")
    similarity: float | None = Field(None, description="Semantic similarity to the symptom.")
    hits: int
    rate_early: float
    rate_late: float
    z: float
    verdict: str


class SuggestionView(BaseModel):
    """An emerging behaviour of the run, with the spec to pass as --behavior."""

    behavior: str
    label: str
    direction: str
    rate_early: float
    rate_late: float
    z: float


class TermCheckView(BaseModel):
    """An added term of the detector: its own sampled hits, how many stand in for the
    symptom's words, kept or dropped, and one sentence of its own hits."""

    term: str
    brought: int
    in_frames: int
    kept: bool
    example: str


class PrecisionView(BaseModel):
    """The detector's hits checked against the symptom before use (`precision`)."""

    sampled: int = Field(description="Hits sampled from the window where it is common.")
    in_frames: int | None = Field(
        description="Of those, hits with the symptom's words or a stand-in for them."
    )
    by_meaning: int | None = Field(description="Sampled hit sentences close to the symptom.")
    meaning_sampled: int
    terms: list[TermCheckView]
    lines: list[str]


def precision_view(check: PrecisionCheck) -> PrecisionView:
    return PrecisionView(
        sampled=check.sampled,
        in_frames=check.in_frames,
        by_meaning=check.by_meaning,
        meaning_sampled=check.meaning_sampled,
        terms=[
            TermCheckView(
                term=t.term,
                brought=t.brought,
                in_frames=t.in_frames,
                kept=t.kept,
                example=t.example,
            )
            for t in check.terms
        ],
        lines=check.lines(),
    )


class ReadingView(BaseModel):
    """Another reading of the symptom that carries it about as well as the chosen detector
    (or the chosen one's check was weak): pass `behavior` as --behavior to investigate it."""

    behavior: str
    basis: str
    hits: int
    rate_early: float
    rate_late: float
    overlap: float = Field(description="Jaccard overlap of its hits with the chosen detector's.")
    sample_id: str
    example: str = Field(description="A sample it marks that the chosen detector does not.")


def reading_view(r: Reading) -> ReadingView:
    c = r.candidate
    return ReadingView(
        behavior=c.spec,
        basis=c.basis,
        hits=c.hits,
        rate_early=_rate(c.early),
        rate_late=_rate(c.late),
        overlap=round(r.overlap, 4),
        sample_id=r.sample_id,
        example=r.example,
    )


class ProposalView(BaseModel):
    """How a symptom became the detector: what its words say, what was tried, and why the
    winner won (or that nothing in the run carries the symptom)."""

    field: str
    direction: str
    direction_from: str = Field(description="'symptom' (its words) or 'data' (the detector)")
    quoted: list[str]
    found: bool
    basis: str
    why: str
    semantic: str
    candidates: list[CandidateView]
    check: PrecisionView | None = None
    readings: list[ReadingView] = Field(
        default_factory=list, description="Other readings that carry the symptom about as well."
    )


def _rate(value: float) -> float:
    return 0.0 if np.isnan(value) else float(value)


def candidate_view(c: Candidate) -> CandidateView:
    return CandidateView(
        behavior=c.spec,
        source=c.source,
        basis=c.basis,
        carries=c.carries,
        similarity=None if c.similarity is None else round(c.similarity, 4),
        hits=c.hits,
        rate_early=_rate(c.early),
        rate_late=_rate(c.late),
        z=float(c.z),
        verdict=c.verdict,
    )


def suggestion_views(found: list[Candidate]) -> list[SuggestionView]:
    return [
        SuggestionView(
            behavior=c.spec,
            label=c.label,
            direction=c.direction,
            rate_early=_rate(c.early),
            rate_late=_rate(c.late),
            z=float(c.z),
        )
        for c in found
    ]


def proposal_view(found: Proposal) -> ProposalView:
    """The view of a proposal: what the words say, every candidate, the check and readings."""
    chosen = found.chosen
    return ProposalView(
        field=found.reading.field,
        direction=found.direction,
        direction_from="symptom" if found.reading.direction else "data",
        quoted=found.reading.quotes,
        found=found.found,
        basis=chosen.basis if chosen else "nothing in the run carries the symptom",
        why=found.why,
        semantic=found.semantic,
        candidates=[candidate_view(c) for c in found.candidates],
        check=None if found.check is None else precision_view(found.check),
        readings=[reading_view(r) for r in found.readings],
    )
