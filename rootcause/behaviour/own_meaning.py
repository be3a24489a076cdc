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

import re

from rootcause.behaviour.behavior import InvalidBehaviorError, TextField, parse_behavior
from rootcause.behaviour.candidate import Candidate, Direction, sql_of
from rootcause.behaviour.context import RunContext
from rootcause.behaviour.grounding import CLEARLY_CLOSER, count_clauses
from rootcause.behaviour.meaning import MEANING_Z, Meaning
from rootcause.behaviour.run_behaviours import Piece, matching_pieces, window_texts

#: Share of the narrow candidate's hits that must be the broad one's for it to contain it.
CONTAINED = 0.9
#: How many times the narrow candidate's hits the broad one needs to be broader.
BROADER = 1.5


def _pattern(spec: str) -> tuple[TextField, re.Pattern[str]] | None:
    try:
        behavior = parse_behavior(spec)
        return behavior.field, re.compile(behavior.regex())
    except (InvalidBehaviorError, ValueError, re.error):
        return None


def _added_examples(ctx: RunContext, broad: Candidate, narrow: Candidate) -> list[Piece]:
    """Pieces of the window where `broad` is common that it matches and `narrow` does not."""
    mine, theirs = _pattern(broad.spec), _pattern(narrow.spec)
    if mine is None or theirs is None or mine[0] != theirs[0]:
        return []
    windows = window_texts(ctx, mine[0])
    late = broad.direction == "up"
    texts, rows = (windows.late, windows.late_rows) if late else (windows.early, windows.early_rows)
    hits = (i for i, text in enumerate(texts) if mine[1].search(text))
    return matching_pieces(
        texts, rows, hits, lambda piece: bool(mine[1].search(piece) and not theirs[1].search(piece))
    )


def _contains(ctx: RunContext, pool: list[Candidate]) -> list[tuple[Candidate, Candidate]]:
    """(broad, narrow) pairs of `pool` where the broad one contains the narrow one."""
    pairs = [
        (b, n) for b in pool for n in pool if b is not n and b.hits >= BROADER * max(n.hits, 1)
    ]
    if not pairs:
        return []
    clauses = []
    for b, n in pairs:
        b_sql, n_sql = sql_of(ctx, b.spec), sql_of(ctx, n.spec)
        clauses.append((f"({b_sql[0]}) AND ({n_sql[0]})", [*b_sql[1], *n_sql[1]]))
    shared = count_clauses(ctx, clauses)
    return [
        (b, n) for (b, n), both in zip(pairs, shared, strict=True) if both >= CONTAINED * n.hits
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
            meaning.score(key, broad.direction, _added_examples(ctx, broad, narrow))
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
