"""Other readings of a symptom, said when the choice between them was close.

The detector is the best-ranked candidate (`proposal`), but a symptom can fit more than one
behaviour of the run about equally: two moving candidates that carry it at the same tier and
cover as many of its words, yet mark mostly different samples (their hits overlap by at most
`MAX_OVERLAP` of their union). A candidate whose hits are nearly all (`MAX_CONTAINED`) the
chosen detector's, or those of a reading already listed, is a narrower phrase of that
behaviour, not another reading. When the chosen detector's own precision check is weak (fewer
than `CLEAR_SHARE` of its sampled hits carry the symptom) every other moving reading that
carries the symptom is worth a look, narrower ones included. Then the report lists the
readings, each with its spec to pass as `--behavior`, its hits and an example, and says which
it took and why; the user decides (the chat asks before it investigates: `chat.readings`).
"""

from __future__ import annotations

from dataclasses import dataclass

from rootcause.behaviour.behavior import parse_behavior
from rootcause.behaviour.candidate import Candidate, count_bits, sql_of
from rootcause.behaviour.context import RunContext
from rootcause.behaviour.matching import match_bits
from rootcause.behaviour.precision import PrecisionCheck
from rootcause.behaviour.run_behaviours import Direction

#: Two readings mark different behaviours when their hits overlap by at most this share of
#: the samples either marks.
MAX_OVERLAP = 0.5
#: A candidate with at least this share of its hits among the chosen detector's is a part of
#: the chosen reading, not another one (unless the chosen one's check is weak).
MAX_CONTAINED = 0.9
#: A precision check below this share of carrying hits is not clear.
CLEAR_SHARE = 0.8
#: Readings listed besides the chosen one.
MAX_READINGS = 3
#: Longest example kept per reading.
EXAMPLE_CHARS = 240


@dataclass
class Reading:
    """Another reading of the symptom: the candidate, how much of the chosen detector's hits
    it shares, and one sample it marks."""

    candidate: Candidate
    overlap: float
    sample_id: str = ""
    example: str = ""


def unclear(check: PrecisionCheck | None) -> bool:
    """Does the chosen detector's precision check fail to pass clearly?"""
    if check is None or not check.sampled:
        return False
    shares = []
    if check.in_frames is not None:
        shares.append(check.in_frames / check.sampled)
    if check.by_meaning is not None and check.meaning_sampled:
        shares.append(check.by_meaning / check.meaning_sampled)
    return bool(shares) and max(shares) < CLEAR_SHARE


def _overlaps(
    ctx: RunContext, chosen: Candidate, others: list[Candidate]
) -> list[tuple[float, float]]:
    """Each candidate's Jaccard overlap with the chosen one's hits, and the share of its own
    hits the chosen one marks too (from the cached match bits: no scan of the texts)."""
    left, *bits = match_bits(ctx, [chosen.spec, *(c.spec for c in others)])
    shares = []
    for right in bits:
        both, either, own = count_bits(left & right), count_bits(left | right), count_bits(right)
        shares.append((both / max(either, 1), both / max(own, 1)))
    return shares


def _example(ctx: RunContext, c: Candidate, chosen: Candidate) -> tuple[str, str]:
    """One sample the reading marks and the chosen detector does not (else any it marks)."""
    mine, mine_params = sql_of(ctx, c.spec)
    theirs, theirs_params = sql_of(ctx, chosen.spec)
    column = parse_behavior(c.spec).field
    for where, params in (
        (f"({mine}) AND NOT ({theirs})", [*mine_params, *theirs_params]),
        (mine, mine_params),
    ):
        rows = ctx.con.execute(
            f"SELECT sample_id, left({column}, {EXAMPLE_CHARS}) FROM samples WHERE {where} "
            "ORDER BY hash(sample_id) LIMIT 1",
            params,
        ).fetchall()
        if rows:
            return str(rows[0][0]), str(rows[0][1] or "")
    return "", ""


def other_readings(
    ctx: RunContext,
    chosen: Candidate,
    candidates: list[Candidate],
    stated: Direction | None,
    min_hits: int,
    check: PrecisionCheck | None,
) -> list[Reading]:
    """The readings to offer beside `chosen` (module docstring), closest rank first."""
    weak = unclear(check)
    pool = [
        c
        for c in candidates
        if c is not chosen
        and c.carries
        and c.hits >= min_hits
        and c.moved(stated)
        and (weak or (c.tier, c.coverage) == (chosen.tier, chosen.coverage))
    ]
    if not pool:
        return []
    overlaps = _overlaps(ctx, chosen, pool)
    distinct = [
        Reading(c, overlap)
        for c, (overlap, contained) in zip(pool, overlaps, strict=True)
        if overlap <= MAX_OVERLAP and (weak or contained < MAX_CONTAINED)
    ]
    distinct.sort(key=lambda r: (-r.candidate.tier, -r.candidate.coverage, -abs(r.candidate.z)))
    kept: list[Reading] = []
    for reading in distinct:
        if len(kept) >= MAX_READINGS:
            break
        if any(_same(reading.candidate, k.candidate) for k in kept) or (
            not weak and _within(ctx, reading.candidate, kept)
        ):
            continue
        reading.sample_id, reading.example = _example(ctx, reading.candidate, chosen)
        kept.append(reading)
    return kept


def _within(ctx: RunContext, c: Candidate, kept: list[Reading]) -> bool:
    """Are `c`'s hits nearly all among those of a reading already listed (a part of it)?"""
    return any(_overlaps(ctx, k.candidate, [c])[0][1] >= MAX_CONTAINED for k in kept)


def _same(a: Candidate, b: Candidate) -> bool:
    """Two candidates that mark the same samples in the run's counts (same hits and rates)."""
    return a.hits == b.hits and abs(a.z - b.z) < 1e-9
