"""Weighing a match of the symptom's words against a match of its meaning.

A candidate made of a plain word of the symptom ranks above one that is only close in meaning,
because a word the user wrote is usually the behaviour's own word ("goblins"). Not always: in
"buttering up the user before getting to the point" the word *point* is context, and it may
well move in the run (a "Key point:" marker rising) while the flattery the user means does
too. The semantic step tells them apart: a word match whose example sentences are no closer to
the symptom than a moving behaviour's examples does not outrank that behaviour.

So, when the semantic step ran, each candidate of the symptom's own words is scored on example
pieces of its hits, like every behaviour, and `weigh_meaning` compares it with the moving
behaviours: a word candidate that some moving behaviour beats in meaning is demoted (its words
were context). A behaviour beats a word candidate when it is clearly closer in meaning
(`CLEARLY_CLOSER`), or closer and the larger change. A behaviour that beats the best word
candidate carries the symptom when it also stands out in meaning (`MEANING_Z`); it does not
need the cosine floor a match by meaning alone needs (`MIN_SIMILARITY`), since it has shown
itself closer than the symptom's own words. So a symptom whose only match was a context word,
and that nothing in the run stands out for, ends *not found* with the run's behaviours as
suggestions, rather than on whatever is least far from it.

A plain word of the symptom also needs its own hits to carry the symptom's meaning: when even
their best examples do not stand out toward it (`MEANING_Z`, the same test as for a behaviour
found by meaning), the word was written about the behaviour, not of it ("nothing to do with
the *question*", "compliments whoever is *asking*"), and it is set aside however much it
moved, whether or not another behaviour stands out instead. Quoted words are the specification
and are never set aside; without the semantic step nothing is.

A behaviour whose hits are nearly all hits of the symptom's words that are a part of it
(`WITHIN_WORDS`, `PART_OF`) is those words' behaviour, described with words the user did not
say ("goblin, gremlin, careful, nod" for "goblins and gremlins"): it neither demotes the words
nor is promoted over them, and it lends them its meaning z: another behaviour no closer to
the symptom than the words' own does not make them context. So the semantic step may find a
behaviour the words miss, never widen the words into a detector the lexical path would not
choose.
"""

from __future__ import annotations

import math
import re

import numpy as np

from rootcause.behaviour.behavior import InvalidBehaviorError, parse_behavior
from rootcause.behaviour.candidate import Candidate, Direction, count_bits
from rootcause.behaviour.context import RunContext
from rootcause.behaviour.matching import match_bits
from rootcause.behaviour.meaning import MEANING_Z, Meaning
from rootcause.behaviour.run_behaviours import Piece, matching_pieces, window_texts

#: Candidates of these sources are made of the symptom's own words.
WORD_SOURCES = ("words", "quote")


def window_examples(
    ctx: RunContext, spec: str, late: bool, without: str | None = None
) -> list[Piece]:
    """Distinct pieces of the sampled texts of one window that the detector `spec` matches
    (and the detector `without`, when given, does not: the hits one detector adds to another
    of the same field)."""
    try:
        behavior = parse_behavior(spec)
        pattern = re.compile(behavior.regex())
        other = None if without is None else parse_behavior(without)
        excluded = None if other is None else re.compile(other.regex())
    except (InvalidBehaviorError, ValueError, re.error):
        return []
    if other is not None and other.field != behavior.field:
        return []
    windows = window_texts(ctx, behavior.field)
    texts, rows = (windows.late, windows.late_rows) if late else (windows.early, windows.early_rows)
    hits = (i for i, text in enumerate(texts) if pattern.search(text))
    return matching_pieces(
        texts,
        rows,
        hits,
        lambda piece: (
            bool(pattern.search(piece)) and not (excluded is not None and excluded.search(piece))
        ),
    )


def score_word_candidates(
    ctx: RunContext, candidates: list[Candidate], meaning: Meaning, min_hits: int
) -> None:
    """Score the candidates made of the symptom's words on examples of their hits, taken from
    the window where they are common (the last quarter when they rose)."""
    if not meaning.ran:
        return
    for c in candidates:
        if c.source not in WORD_SOURCES or c.hits < min_hits:
            continue
        if c.spec not in meaning.z:
            meaning.score(
                c.spec, c.direction, window_examples(ctx, c.spec, late=c.direction == "up")
            )
        c.similarity, c.meaning_z = meaning.similarity.get(c.spec), meaning.z.get(c.spec)


def _change(c: Candidate) -> float:
    """How much of the run the candidate's change touches: its rate difference between the
    first and the last quarter."""
    return abs(c.late - c.early)


#: Robust SDs (the unit of the meaning z) by which a behaviour is clearly closer in meaning.
CLEARLY_CLOSER = 1.0
#: A behaviour with at least this share of its hits among the hits of the symptom's words
#: that are a part of it is theirs.
WITHIN_WORDS = 0.9
#: A word candidate with at least this share of its hits among a behaviour's is a part of it.
PART_OF = 0.5


def _within_words(
    ctx: RunContext, behaviours: list[Candidate], words: list[Candidate]
) -> dict[str, list[int]]:
    """The behaviours that are the symptom's words told in other words: the word candidates
    that are a part of one (`PART_OF` of their hits are its hits) together mark nearly all
    its hits (`WITHIN_WORDS`). A broad word (a "question" most answers carry) is a part of no
    narrow behaviour, so it cannot shield itself from a behaviour closer in meaning. Each
    such behaviour's spec -> the indices of its parts in `words`."""
    w_bits = match_bits(ctx, [w.spec for w in words])  # cached: no scan of the texts
    b_bits = match_bits(ctx, [b.spec for b in behaviours])
    word_hits = [count_bits(w) for w in w_bits]
    theirs: dict[str, list[int]] = {}
    for behaviour, bits in zip(behaviours, b_bits, strict=True):
        hits = count_bits(bits)
        mine = [
            j for j, n in enumerate(word_hits) if n and count_bits(bits & w_bits[j]) / n >= PART_OF
        ]
        if not hits or not mine:
            continue
        covered = count_bits(bits & np.bitwise_or.reduce([w_bits[j] for j in mine]))
        if covered / hits >= WITHIN_WORDS:
            theirs[behaviour.spec] = mine
    return theirs


def _beats(behaviour: Candidate, word: Candidate, word_z: float | None = None) -> bool:
    """The behaviour reads the symptom better than the word candidate (whose meaning is
    `word_z` when given): it is clearly closer in meaning, or closer and the larger change of
    the run (a user notices the larger change)."""
    b_z = behaviour.meaning_z or 0.0
    w_z = word_z if word_z is not None else word.meaning_z or 0.0
    return b_z >= w_z + CLEARLY_CLOSER or (b_z > w_z and _change(behaviour) >= _change(word))


def _set_aside_unfelt_words(words: list[Candidate], word_z: dict[str, float]) -> None:
    """Set aside the candidates of the symptom's plain (unquoted) words whose hits do not
    carry its meaning: even their best examples (or those of the behaviour they are a part
    of) do not stand out toward the symptom (`MEANING_Z`, the test every behaviour found by
    meaning passes). The user wrote such a word about the behaviour, not of it ("whoever is
    *asking*", "nothing to do with the *question*"); that it moved in the run says nothing
    about the symptom. Quoted words are the specification and are never set aside, and
    neither is a word most texts of its null window hold (`_own_null`): the test cannot see
    its hits stand out there, so it says nothing about the word."""
    for c in words:
        if word_z[c.spec] >= MEANING_Z or _own_null(c):
            continue
        c.tier = 0
        c.set_aside = "its hits do not stand out in meaning toward the symptom"
        c.basis += (
            f"; its example sentences do not stand out toward the symptom in meaning "
            f"(z={word_z[c.spec]:.1f} < {MEANING_Z}), so the words were context"
        )


def _own_null(c: Candidate) -> bool:
    """Whether most texts of the window a word's meaning is measured against hold the word
    (the first quarter for a rise, the last for a fall: `meaning._Null`): the null's median
    is then one of its own hits, which cannot stand out from themselves."""
    share = c.early if c.direction == "up" else c.late
    return not math.isnan(share) and share >= 0.5


def weigh_meaning(
    ctx: RunContext,
    candidates: list[Candidate],
    stated: Direction | None,
    meaning: Meaning,
    min_hits: int,
) -> None:
    """Demote the word candidates that a moving behaviour beats in meaning, and promote the
    behaviours that beat the best of them and stand out; a behaviour within the words' own
    hits does neither (module docstring)."""
    if not meaning.ran:
        return
    scored = [c for c in candidates if c.meaning_z is not None and c.hits >= min_hits]
    moving = [c for c in scored if c.moved(stated)]
    words = [c for c in moving if c.tier == 2]
    behaviours = [c for c in moving if c.tier < 2]
    theirs = _within_words(ctx, behaviours, words) if words and behaviours else {}
    # The words' own behaviour lends them its meaning: they are not the context of another
    # behaviour that is no closer to the symptom than their own.
    word_z = {c.spec: c.meaning_z or 0.0 for c in scored if c.tier == 2}
    for b in behaviours:
        for j in theirs.get(b.spec, []):
            word_z[words[j].spec] = max(word_z[words[j].spec], b.meaning_z or 0.0)
    _set_aside_unfelt_words([c for c in scored if c.tier == 2], word_z)
    behaviours = [b for b in behaviours if b.spec not in theirs]
    if not words or not behaviours:
        return
    best_word = max(words, key=lambda c: (word_z[c.spec], _change(c)))
    for c in (w for w in words if w.tier == 2):
        beaten_by = [b for b in behaviours if _beats(b, c, word_z[c.spec])]
        if beaten_by:
            closest = max(beaten_by, key=lambda b: b.meaning_z or 0.0)
            c.tier = 0
            c.set_aside = f"its words are the context of {closest.label or closest.spec}"
            c.basis += (
                f"; a moving behaviour is closer to the symptom in meaning ({closest.label}: "
                f"z={closest.meaning_z:.1f} against {c.meaning_z:.1f}), so these words were "
                "its context"
            )
    for c in behaviours:
        if (
            c.tier < 1
            and (c.meaning_z or 0.0) >= MEANING_Z
            and _beats(c, best_word, word_z[best_word.spec])
        ):
            c.tier = 1
            c.basis += (
                f"; stands out in meaning (z={c.meaning_z:.1f}) and beats the symptom's own "
                f"words found in the run (z={word_z[best_word.spec]:.1f})"
            )
