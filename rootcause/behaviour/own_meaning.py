"""A behaviour found by meaning carries the symptom only through hits of its own.

A candidate found by meaning alone is scored on its best example pieces (`meaning.TOP`). When
it is broad (a cluster "checks, failed, passed, return" over a third of the run) and contains
a narrow behaviour that carries the symptom ("N failed" in a test summary), its best examples
are the narrow behaviour's, and it scores as close to the symptom as the narrow one does while
most of its hits ("it checks out", "return x") say nothing the user said. Chosen, it would
measure the wrong thing and dilute the precision check.

So before the choice each broad carrying candidate is scored again on examples of the hits it
adds to a narrow carrying candidate it contains (`CONTAINED` of the narrow one's hits are its
hits, and it has at least `BROADER` times as many). When those added hits do not stand out in
meaning (`MEANING_Z`), its meaning is the narrow one's: it is demoted, so the narrow behaviour
is chosen, and its basis says why. Nothing here looks at which words a behaviour has, only at
whose hits carry the symptom, so it holds for any run and any symptom.
"""

from __future__ import annotations

from rootcause.behaviour.candidate import Candidate, Direction, count_bits
from rootcause.behaviour.context import RunContext
from rootcause.behaviour.grounding import CLEARLY_CLOSER, window_examples
from rootcause.behaviour.matching import match_bits
from rootcause.behaviour.meaning import MEANING_Z, Meaning

#: Share of the narrow candidate's hits that must be the broad one's for it to contain it.
CONTAINED = 0.9
#: How many times the narrow candidate's hits the broad one needs to be broader.
BROADER = 1.5


def _contains(ctx: RunContext, pool: list[Candidate]) -> list[tuple[Candidate, Candidate]]:
    """(broad, narrow) pairs of `pool` where the broad one contains the narrow one (from the
    candidates' cached match bits: no scan of the run)."""
    bits = dict(zip((c.spec for c in pool), match_bits(ctx, [c.spec for c in pool]), strict=True))
    return [
        (b, n)
        for b in pool
        for n in pool
        if b is not n
        and b.hits >= BROADER * max(n.hits, 1)
        and count_bits(bits[b.spec] & bits[n.spec]) >= CONTAINED * n.hits
    ]


def _borrowed(added_z: float, narrow_z: float) -> bool:
    """The hits a broad candidate adds do not carry the symptom themselves: they do not stand
    out in meaning, or they are clearly further from it than the narrow candidate's (as the
    symptom's own words are context when a behaviour is clearly closer, `grounding`)."""
    return added_z < MEANING_Z or added_z + CLEARLY_CLOSER <= narrow_z


def demote_borrowed_meaning(
    ctx: RunContext,
    candidates: list[Candidate],
    stated: Direction | None,
    meaning: Meaning,
    min_hits: int,
) -> None:
    """Demote each candidate found by meaning whose meaning is that of a narrower carrying
    candidate it contains (module docstring)."""
    if not meaning.ran:
        return
    pool = [
        c
        for c in candidates
        if c.tier == 1 and c.meaning_z is not None and c.hits >= min_hits and c.moved(stated)
    ]
    for broad, narrow in _contains(ctx, pool):
        if broad.tier != 1 or narrow.tier != 1:
            continue
        key = f"{broad.spec} without {narrow.spec}"
        if key not in meaning.z:
            meaning.score(
                key,
                broad.direction,
                window_examples(ctx, broad.spec, broad.direction == "up", without=narrow.spec),
            )
        added_z = meaning.z.get(key)
        if added_z is not None and not _borrowed(added_z, narrow.meaning_z or 0.0):
            continue
        broad.tier = 0
        broad.set_aside = f"its meaning is that of {narrow.label or narrow.spec}, which it contains"
        told = (
            "have no examples"
            if added_z is None
            else f"are less close to the symptom (z={added_z:.1f} against {narrow.meaning_z:.1f})"
        )
        broad.basis += (
            f"; its meaning is that of {narrow.label or narrow.spec}, which it contains: "
            f"the hits it adds {told}"
        )
