"""Checking a detector's hits before it is used: do they carry the symptom?

A detector read from a symptom is the symptom's own words (its quotes, else its content words:
the *core*) plus terms the run suggested (a moving group's stand-ins and neighbours). The
user's words are the specification, so an added term stays only when the hits it brings of its
own (sampled texts it matches and no core word does) carry the symptom the way the core's do:
there it fills a slot the core words fill in the run's texts (the (left word, right word)
around it, sentence breaks included, a slot the core fills at least `MIN_SLOT_COUNT` times), in
at least `MIN_SHARE` of those hits and in at least `MIN_BROUGHT` of them. So a word standing in
for a quoted one ("a careful gremlin would" beside "a careful goblin would") joins, and a
"Key point: details follow." marker that every answer carries never does, however much it
moved or however often it shares a text with the quoted words.

The decision is lexical on purpose: a detector built from the user's words is the same with or
without the semantic extra. With the extra, the check also reports the share of sampled hits
whose sentence stands out in meaning toward the symptom; for a detector with no core words (a
behaviour found by meaning alone) that share is the only check there is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from rootcause.analysis.groups import BREAK, Presence, slot_contexts
from rootcause.analysis.ngrams import stem, tokenize
from rootcause.behaviour.behavior import TextField, word_forms
from rootcause.behaviour.context import RunContext
from rootcause.behaviour.meaning import Meaning
from rootcause.behaviour.run_behaviours import Direction, Piece, window_docs, window_texts
from rootcause.core.untrusted import fenced
from rootcause.search.pieces import split_pieces

#: Share of an added term's own hits that must sit in the core words' slots.
MIN_SHARE = 0.5
#: Own hits an added term needs in the sampled texts to be judged at all.
MIN_BROUGHT = 3
#: Times the core words must fill a slot for it to count as theirs.
MIN_SLOT_COUNT = 2
#: Hits sampled for the detector's own share.
SAMPLED_HITS = 200
#: Dropped terms shown with an example each.
SHOWN_DROPPED = 3

Slot = tuple[str, str]


@dataclass
class TermCheck:
    """One added term: the sampled texts it brings of its own, how many of them have it in a
    slot of the core words, whether it stays, and one piece of its own hits."""

    term: str
    brought: int
    in_frames: int
    kept: bool
    example: str = ""

    @property
    def share(self) -> float:
        return self.in_frames / self.brought if self.brought else 0.0

    def describe(self) -> str:
        said = f"{self.in_frames} of {self.brought} of its own hits in the symptom words' slots"
        return f"{self.term} ({said})"


@dataclass
class PrecisionCheck:
    """What a detector's sampled hits say about the symptom: how many were sampled, how many
    carry it by the frames of its words (None: it has no core words in the run) and by meaning
    (None: the semantic step did not run), and each added term's check."""

    spec: str
    sampled: int
    in_frames: int | None
    by_meaning: int | None
    meaning_sampled: int = 0
    terms: list[TermCheck] = field(default_factory=list)

    @property
    def dropped(self) -> list[TermCheck]:
        return [t for t in self.terms if not t.kept]

    def lines(self) -> list[str]:
        """The check as the report shows it (plain text; callers mark untrusted parts)."""
        parts = [f"{self.sampled} hits sampled"]
        if self.in_frames is not None and self.sampled:
            parts.append(
                f"{self.in_frames / self.sampled:.0%} carry the symptom's words or stand in "
                "for them"
            )
        if self.by_meaning is not None and self.meaning_sampled:
            parts.append(
                f"{self.by_meaning / self.meaning_sampled:.0%} of {self.meaning_sampled} stand "
                "out in meaning toward the symptom"
            )
        if self.in_frames is None and self.by_meaning is None:
            parts.append("nothing to check them against (no words of the symptom in the run)")
        lines = ["precision check: " + "; ".join(parts)]
        kept = [f"{t.term} ({t.in_frames}/{t.brought})" for t in self.terms if t.kept]
        if kept:
            lines.append(
                "terms kept, standing in for the symptom's words (own hits in their slots): "
                + ", ".join(kept)
            )
        judged = sorted(
            (t for t in self.dropped if t.brought >= MIN_BROUGHT), key=lambda t: -t.brought
        )
        for t in judged[:SHOWN_DROPPED]:
            lines.append(f"term dropped: {t.describe()}; e.g. {fenced(t.example)}")
        more = len(self.dropped) - min(len(judged), SHOWN_DROPPED)
        if more:
            lines.append(
                f"terms dropped: {more} more (their own hits outside the symptom words' slots, "
                f"or fewer than {MIN_BROUGHT} of them)"
            )
        return lines


def without_redundant(terms: list[str]) -> list[str]:
    """`terms` less those that contain another of them as whole tokens ("a gizmo" beside
    "gizmo"): they match nothing the shorter term does not."""
    padded = {t: f" {t} " for t in terms}
    return [
        t
        for t in terms
        if not any(o != t and padded[o] in padded[t] for o in terms)
        and not any(o != t and f" {o}'s " in padded[t] for o in terms)
    ]


def _stems(terms: Sequence[str]) -> set[str]:
    words = (w.removesuffix("'s") for t in terms for w in tokenize(t))
    return {stem(w) for w in words if len(w) > 2}


def symptom_stems(quotes: Sequence[str], stems: set[str]) -> set[str]:
    """The stems that make a term *core*: the quoted words when there are quotes (they are the
    specification), else the stems of the symptom's content words."""
    return _stems(quotes) or stems


def is_core(term: str, core_stems: set[str]) -> bool:
    """Is `term` made of the symptom's own words (shares a core stem)?"""
    return bool(_stems([term]) & core_stems)


def _forms(term: str) -> list[str]:
    """The token n-grams a `terms:`-style term matches (inflections of its last word, and
    its possessive, which a word-bounded match also finds)."""
    forms = word_forms(term) if term.strip() else []
    return [*forms, *(f"{f}'s" for f in forms if not f.endswith("'s"))]


@dataclass
class _Frames:
    """The sampled texts of both windows as token lists, which of them the core words are in,
    and the slots the core words fill."""

    docs: list[list[str]]
    present: Presence
    core_present: list[bool]
    core_slots: set[Slot]


def _frames(ctx: RunContext, text_field: TextField, core: list[str]) -> _Frames:
    """The frames of the core words `core` (memoised per context)."""
    key = ("precision_frames", text_field, tuple(sorted(set(core))))
    return ctx.memo(key, lambda: _compute_frames(ctx, text_field, core))


def _compute_frames(ctx: RunContext, text_field: TextField, core: list[str]) -> _Frames:
    docs = [*window_docs(ctx, text_field, True), *window_docs(ctx, text_field, False)]
    present = Presence(docs)
    forms = sorted({f for t in core for f in _forms(t)})
    covered = [False] * len(docs)
    for form in forms:
        covered = [a or bool(b) for a, b in zip(covered, present(form), strict=True)]
    counts: Counter[Slot] = Counter()
    for slots in slot_contexts(docs, set(forms)).values():
        counts.update(slots)
    return _Frames(docs, present, covered, {s for s, n in counts.items() if n >= MIN_SLOT_COUNT})


def _slots_of(tokens: list[str], forms: set[str], orders: set[int]) -> list[Slot]:
    padded = [BREAK, *tokens, BREAK]
    out = []
    for order in orders:
        for i in range(1, len(padded) - order):
            if " ".join(padded[i : i + order]) in forms:
                out.append((padded[i - 1], padded[i + order]))
    return out


def _check_term(term: str, frames: _Frames) -> TermCheck:
    forms = set(_forms(term))
    orders = {len(f.split()) for f in forms}
    own = [False] * len(frames.docs)
    for form in forms:
        own = [a or bool(b) for a, b in zip(own, frames.present(form), strict=True)]
    brought = [i for i, hit in enumerate(own) if hit and not frames.core_present[i]]
    in_frames = [
        i
        for i in brought
        if any(s in frames.core_slots for s in _slots_of(frames.docs[i], forms, orders))
    ]
    check = TermCheck(term, len(brought), len(in_frames), kept=False)
    check.kept = check.brought >= MIN_BROUGHT and check.share >= MIN_SHARE
    framed = set(in_frames)
    outside = [i for i in brought if i not in framed] or brought
    if outside:
        check.example = _piece_with(frames.docs[outside[0]], forms)
    return check


def _piece_with(tokens: list[str], forms: set[str]) -> str:
    """The sentence of `tokens` that carries one of `forms` (tokens joined)."""
    sentence: list[str] = []
    for token in [*tokens, BREAK]:
        if token != BREAK:
            sentence.append(token)
            continue
        joined = f" {' '.join(sentence)} "
        if any(f" {f} " in joined for f in forms):
            return " ".join(sentence)
        sentence = []
    return " ".join(tokens[:20])


def check_terms(
    ctx: RunContext, text_field: TextField, terms: list[str], core_stems: set[str]
) -> list[TermCheck]:
    """The check of each term of `terms` that is not made of the core stems (module
    docstring); empty when every term is core or none is (nothing to check against)."""
    core = [t for t in terms if is_core(t, core_stems)]
    added = [t for t in terms if not is_core(t, core_stems)]
    if not core or not added:
        return []
    frames = _frames(ctx, text_field, core)
    return [_check_term(t, frames) for t in added]


def _hit_pieces(
    ctx: RunContext, text_field: TextField, terms: list[str], direction: Direction
) -> tuple[list[list[str]], list[Piece]]:
    """Up to `SAMPLED_HITS` sampled texts (of the window where the detector is common) that
    carry a term, as token lists, and the sentence of each that carries it."""
    from rootcause.search.pieces import piece_id

    windows = window_texts(ctx, text_field)
    late = direction == "up"
    texts, rows = (windows.late, windows.late_rows) if late else (windows.early, windows.early_rows)
    docs = window_docs(ctx, text_field, late)
    forms = {f for t in terms for f in _forms(t)}
    hit_docs: list[list[str]] = []
    pieces: list[Piece] = []
    for i, tokens in enumerate(docs):
        joined = f" {' '.join(tokens)} "
        if not any(f" {f} " in joined for f in forms):
            continue
        hit_docs.append(tokens)
        for position, piece in enumerate(split_pieces(texts[i])):
            piece_tokens = f" {' '.join(tokenize(piece, symbols=True))} "
            if any(f" {f} " in piece_tokens for f in forms):
                pieces.append(Piece(piece_id(int(rows[i]), position), piece))
                break
        if len(hit_docs) >= SAMPLED_HITS:
            break
    return hit_docs, pieces


def check_detector(
    ctx: RunContext,
    text_field: TextField,
    spec: str,
    terms: list[str],
    core_stems: set[str],
    direction: Direction,
    meaning: Meaning,
    term_checks: list[TermCheck] | None = None,
) -> PrecisionCheck:
    """Sample the hits of the detector made of `terms` and say how many carry the symptom:
    by the frames of its core words (a core word, or a kept term in a core slot) and, when the
    semantic step ran, by meaning."""
    hit_docs, pieces = _hit_pieces(ctx, text_field, terms, direction)
    core = [t for t in terms if is_core(t, core_stems)]
    checks = (
        term_checks if term_checks is not None else check_terms(ctx, text_field, terms, core_stems)
    )
    in_frames: int | None = None
    if core:
        frames = _frames(ctx, text_field, core)
        core_forms = {f for t in core for f in _forms(t)}
        kept_forms = {f for c in checks if c.kept for f in _forms(c.term)}
        orders = {len(f.split()) for f in kept_forms}
        in_frames = 0
        for tokens in hit_docs:
            joined = f" {' '.join(tokens)} "
            if any(f" {f} " in joined for f in core_forms) or any(
                s in frames.core_slots for s in _slots_of(tokens, kept_forms, orders)
            ):
                in_frames += 1
    carrying = meaning.carrying(direction, pieces)
    return PrecisionCheck(
        spec=spec,
        sampled=len(hit_docs),
        in_frames=in_frames,
        by_meaning=None if carrying is None else sum(carrying),
        meaning_sampled=len(pieces),
        terms=checks,
    )
