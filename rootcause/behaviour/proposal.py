"""From a symptom in plain words to a behaviour detector, grounded in the run.

Candidates come from three places and are all measured on the whole run:

1. **the symptom's own words**: each quoted phrase as written, a length change it names, its
   content words (inflected both ways: goblins finds goblin), alone and in groups that occur
   together, and the moving n-grams that share their stems;
2. **the run's emerging behaviours** (`run_behaviours`): moving n-grams grouped by
   co-occurrence and shared slots, with the group that shares a quote's or a content word's
   stem extending that candidate;
3. **the semantic step** (`meaning`): the symptom embedded and compared with the behaviours'
   example pieces, the rising clusters and the pieces nearest to it, and with example pieces of
   the hits of the candidates made of its words (`grounding`).

A candidate *carries the symptom* when it is a quote or a named length change (tier 3), is
made of or shares the stems of the symptom's words (tier 2), or its examples stand out in
similarity to the symptom (tier 1; `meaning.MEANING_Z`). A word match is then weighed against
meaning (`grounding.weigh_meaning`): a moving behaviour clearly closer to the symptom in meaning
than a word candidate demotes it (the word was context, like *point* in "getting to the
point"), and carries the symptom itself when it also stands out in meaning. A candidate has
*moved* when its rate in the last quarter of samples differs from the first by |z| >= `MIN_Z`,
the way the symptom says when it says so; when its words say no direction, a rise is preferred
to a fall. The detector is the
best candidate that carries the symptom and moved, ranked by tier, then the number of the
symptom's stems it covers, then recall of the symptom's own words, then (when the words give
no direction) a rise before a fall, then similarity for tier 1, then |z|. If candidates carry
the symptom and have hits but none moved, the best of those is kept and the report says it did
not move. If no candidate that carries the symptom has `min_hits` hits, the symptom is *not
found*: no detector, and the run's top emerging behaviours are offered as suggestions.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from rootcause.behaviour.behavior import (
    InvalidBehaviorError,
    TextField,
    ngram_spec,
    parse_behavior,
)
from rootcause.behaviour.behaviour_candidates import behaviour_candidates, meaning_union
from rootcause.behaviour.candidate import MIN_Z, Candidate, measure, measure_recall
from rootcause.behaviour.context import RunContext
from rootcause.behaviour.grounding import score_word_candidates, weigh_meaning
from rootcause.behaviour.matching import announce_bits
from rootcause.behaviour.meaning import Meaning, skipped, symptom_meaning
from rootcause.behaviour.own_meaning import demote_borrowed_meaning
from rootcause.behaviour.precision import (
    PrecisionCheck,
    check_detector,
    check_terms,
    symptom_stems,
    without_redundant,
)
from rootcause.behaviour.readings import Reading, other_readings
from rootcause.behaviour.run_behaviours import (
    Direction,
    RunBehaviour,
    emerging_behaviours,
    window_texts,
)
from rootcause.behaviour.symptom import SymptomReading, read_symptom
from rootcause.behaviour.word_candidates import word_candidates, words_together
from rootcause.search.embedders import semantic_turned_off
from rootcause.store.sql import fetch_value

#: A candidate that finds at least this share of the hits of the symptom's own words (its
#: quotes, else its content words) ranks above one that finds fewer.
MIN_RECALL = 0.8
#: Suggestions listed when the symptom is not found.
SUGGESTIONS = 5


@dataclass
class Proposal:
    """The reading, the chosen detector (None: not found), why, every candidate measured,
    suggestions from the run, and what the semantic step did."""

    reading: SymptomReading
    chosen: Candidate | None
    why: str
    candidates: list[Candidate]
    suggestions: list[Candidate] = field(default_factory=list)
    semantic: str = ""
    check: PrecisionCheck | None = None
    readings: list[Reading] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.chosen is not None

    @property
    def direction(self) -> Direction:
        """The symptom's stated direction, else the way the chosen detector moved; a rise when
        it did not move (a change within noise says no direction, and a symptom names what
        appeared unless its words say it fell)."""
        if self.reading.direction is not None:
            return self.reading.direction
        if self.chosen is not None and self.chosen.moved(None):
            return self.chosen.direction
        return "up"


def slice_names(ctx: RunContext) -> list[str]:
    """The run's persona, source and env names."""
    rows = ctx.con.execute(
        "SELECT DISTINCT persona FROM samples UNION SELECT DISTINCT data_source FROM samples "
        "UNION SELECT DISTINCT env FROM samples"
    ).fetchall()
    return [str(r[0]) for r in rows if r[0]]


def _reference(candidates: list[Candidate]) -> Candidate | None:
    """The detector made only of the symptom's own words: the quotes (together), else the
    content words found in the run (together), else the best single one."""
    for source in ("quote", "words"):
        own = [c for c in candidates if c.source == source and c.hits]
        if own:
            return max(own, key=lambda c: (c.coverage, c.hits))
    return None


def _rank(c: Candidate, stated: Direction | None) -> tuple[float, ...]:
    rising = 1.0 if stated is None and c.direction == "up" else 0.0
    meaning = (c.meaning_z or 0.0) if c.tier == 1 else 0.0
    recalled = 1.0 if c.tier >= 2 and c.recall >= MIN_RECALL else 0.0
    return (c.tier, c.coverage, recalled, rising, meaning, abs(c.z))


def _choose(
    candidates: list[Candidate], stated: Direction | None, min_hits: int
) -> tuple[Candidate | None, str]:
    carrying = [c for c in candidates if c.carries]
    present = [c for c in carrying if c.hits >= min_hits]
    for c in candidates:
        c.verdict = _verdict(c, stated, min_hits)
    if not present:
        set_aside = [c for c in candidates if c.set_aside and c.hits >= min_hits]
        if carrying:
            why = f"no candidate that carries the symptom has {min_hits} hits or more"
        elif set_aside:
            shown = ", ".join(f"{c.label or c.spec} ({c.hits:,} hits)" for c in set_aside[:3])
            why = (
                f"the symptom's words found in the run were set aside ({shown}): "
                f"{set_aside[0].set_aside}"
            )
        else:
            why = "nothing in the symptom's words or meaning could be matched in the run"
        return None, why
    moving = [c for c in present if c.moved(stated)]
    if stated is None:  # words that give no direction describe what appeared, if anything did
        moving = [c for c in moving if c.direction == "up"] or moving
    pool = moving or present
    chosen = max(pool, key=lambda c: _rank(c, stated))
    chosen.verdict = "chosen"
    how = f"{chosen.early:.2%} -> {chosen.late:.2%}, z={chosen.z:.1f}"
    if moving:
        why = f"the best-grounded candidate that moved ({chosen.basis}; {how})"
        others = len(moving) - 1
        if others:
            why += f"; {others} other moving candidate(s) carry less of the symptom"
    else:
        why = (
            f"no candidate that carries the symptom moved the way it says; kept the "
            f"best-grounded one with hits ({chosen.basis}; {how})"
        )
    return chosen, why


def _verdict(c: Candidate, stated: Direction | None, min_hits: int) -> str:
    if not c.carries:
        if c.set_aside:
            return f"does not carry the symptom: {c.set_aside}"
        if c.meaning_z is not None:
            return f"does not carry the symptom (similarity z={c.meaning_z:.1f})"
        return "does not carry the symptom"
    if c.hits < min_hits:
        return f"too few hits ({c.hits})"
    if abs(c.z) < MIN_Z:
        return f"did not move (z={c.z:.1f})"
    if stated is not None and c.direction != stated:
        return "moved the other way"
    return "ranked below the chosen one"


#: Proposals kept per process: the chat reads a symptom before it investigates (to ask when
#: it fits more than one behaviour), and the investigation reads the same one again.
KEPT_PROPOSALS = 8
_kept: OrderedDict[tuple[object, ...], Proposal] = OrderedDict()
_kept_lock = threading.Lock()


def _proposal_key(ctx: RunContext, symptom: str, semantic: bool) -> tuple[object, ...]:
    """What a proposal depends on: the run's database as it is now, the symptom, and what the
    semantic step runs with, if it runs (everything it samples is seeded from these)."""
    from rootcause.behaviour.semantic import meaning_identity

    stat = ctx.db_path.stat()
    run = (str(ctx.db_path.resolve()), stat.st_mtime_ns, stat.st_size)
    meaning = meaning_identity(ctx) if semantic and not semantic_turned_off() else "off"
    return (*run, ctx.store.info("fingerprint"), symptom, meaning)


def propose_detector(ctx: RunContext, symptom: str, semantic: bool = True) -> Proposal:
    """Read `symptom`, build and measure the candidates, weigh word matches against meaning
    (`grounding`), and choose (module docstring). The same reading of the same run again is
    a copy of the one kept (`KEPT_PROPOSALS`)."""
    key = _proposal_key(ctx, symptom, semantic)
    with _kept_lock:
        kept = _kept.get(key)
        if kept is not None:
            _kept.move_to_end(key)
            return copy.deepcopy(kept)
    found = _propose(ctx, symptom, semantic)
    with _kept_lock:
        _kept[key] = copy.deepcopy(found)
        while len(_kept) > KEPT_PROPOSALS:
            _kept.popitem(last=False)
    return found


def _propose(ctx: RunContext, symptom: str, semantic: bool) -> Proposal:
    reading = read_symptom(symptom, slice_names(ctx))
    behaviours = emerging_behaviours(ctx, reading.field)
    total = int(fetch_value(ctx.con, "SELECT count(*) FROM samples"))
    min_hits = max(5, round(total * 1e-4))
    meaning = skipped("turned off")
    if semantic:
        views = [v for v in dict.fromkeys([symptom.strip(), reading.focus()]) if v]
        windows = window_texts(ctx, reading.field)
        meaning = symptom_meaning(ctx, views, windows, behaviours)
    candidates = _measured(ctx, reading, behaviours, meaning, min_hits)
    score_word_candidates(ctx, candidates, meaning, min_hits)
    weigh_meaning(ctx, candidates, reading.direction, meaning, min_hits)
    demote_borrowed_meaning(ctx, candidates, reading.direction, meaning, min_hits)
    chosen, why = _choose(candidates, reading.direction, min_hits)
    proposal = Proposal(reading, chosen, why, candidates, semantic=meaning.note)
    if chosen is not None:
        proposal.check = check_detector(
            ctx,
            reading.field,
            chosen.spec,
            chosen.terms,
            symptom_stems(reading.quotes, reading.stems),
            proposal.direction,
            meaning,
            chosen.checks,
        )
        proposal.readings = other_readings(
            ctx, chosen, candidates, reading.direction, min_hits, proposal.check
        )
        if proposal.readings:
            proposal.why += (
                f"; {len(proposal.readings)} other reading(s) carry the symptom about as well "
                "and are listed: pass one as --behavior to investigate it instead"
            )
    proposal.suggestions = _suggestions(candidates)
    return proposal


def _measured(
    ctx: RunContext,
    reading: SymptomReading,
    behaviours: list[RunBehaviour],
    meaning: Meaning,
    min_hits: int,
) -> list[Candidate]:
    """Every candidate, measured, with its recall of the symptom's own words."""
    others = behaviour_candidates(reading, behaviours, meaning)
    others += behaviour_candidates(reading, meaning.found, meaning, by_words=False)
    union = meaning_union([*behaviours, *meaning.found], meaning, reading.field)
    others += [union] if union is not None else []
    announce_bits(ctx, [c.spec for c in others])  # one scan with the words' candidates
    candidates = word_candidates(reading, ctx) + others
    _check_added_terms(ctx, reading, candidates)
    candidates = _unique(candidates)
    measure(ctx, candidates)
    known = {c.spec for c in candidates}
    together = [
        c for c in words_together(ctx, reading, candidates, min_hits) if c.spec not in known
    ]
    measure(ctx, together)
    candidates += together
    reference = _reference(candidates)
    if reference is not None:
        measure_recall(ctx, [c for c in candidates if c.carries], reference)
    return candidates


def _check_added_terms(
    ctx: RunContext, reading: SymptomReading, candidates: list[Candidate]
) -> None:
    """Drop from each candidate made of the symptom's words the terms the run added whose own
    hits do not stand in for those words (`precision`): the user's words are the spec."""
    core = symptom_stems(reading.quotes, reading.stems)
    for c in candidates:
        if c.tier < 2 or len(c.terms) < 2:
            continue
        c.checks = check_terms(ctx, reading.field, c.terms, core)
        dropped = {t.term for t in c.checks if not t.kept}
        if not dropped:
            continue
        c.terms = without_redundant([t for t in c.terms if t not in dropped])
        c.checks = [t for t in c.checks if not t.kept or t.term in c.terms]
        c.spec = ngram_spec(c.terms, reading.field)
        c.label = ", ".join(c.terms[:6])
        c.basis += (
            f"; {len(dropped)} term(s) dropped, their own hits not standing in for the "
            "symptom's words"
        )


def _unique(candidates: list[Candidate]) -> list[Candidate]:
    """One candidate per spec: the one that carries the symptom best."""
    best: dict[str, Candidate] = {}
    for c in candidates:
        try:
            parse_behavior(c.spec)
        except InvalidBehaviorError:
            continue
        kept = best.get(c.spec)
        if kept is None or (c.tier, c.coverage) > (kept.tier, kept.coverage):
            best[c.spec] = c
    return list(best.values())


def _suggestions(candidates: list[Candidate]) -> list[Candidate]:
    """The run's emerging behaviours that moved, strongest first."""
    found = [c for c in candidates if c.source in ("emerging", "cluster") and abs(c.z) >= MIN_Z]
    found.sort(key=lambda c: (-abs(c.z), c.spec))
    return found[:SUGGESTIONS]


def run_suggestions(ctx: RunContext, text_field: TextField) -> list[Candidate]:
    """The run's top emerging behaviours in `text_field`, measured, for when a detector
    matched nothing."""
    behaviours = emerging_behaviours(ctx, text_field)
    candidates = _unique(
        [
            Candidate(b.spec, "emerging", f"{b.direction} in the run", 0, label=b.label)
            for b in behaviours
        ]
    )
    measure(ctx, candidates)
    return _suggestions(candidates)
