"""The run's emerging behaviours: what rose or fell between the early and late steps, found
without a symptom, each as a behaviour spec with example pieces of text.

Texts are sampled from the first and last quarter of the run's samples (by step), tokenised
with markup symbols kept (`####` is a token), and their unigrams and bigrams ranked by log-odds
z (`analysis.ngrams`). The moving n-grams are grouped into behaviours (`analysis.groups`): a
neighbour joins a seed only when it co-occurs with the seed's texts or fills its slots, never
merely because it moved too. Each group's terms become a `terms:`/`regex:` spec; its examples
are sentence-level pieces of sampled texts that carry a term, from the window where the
behaviour is common.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from rootcause.analysis.groups import NgramGroup, Presence, group_ngrams
from rootcause.analysis.ngrams import emerging_ngrams, tokenize, tokenize_sentences
from rootcause.behaviour.behavior import TextField, ngram_spec
from rootcause.behaviour.context import RunContext
from rootcause.search.pieces import piece_id, split_pieces

Direction = Literal["up", "down"]
IntArray = npt.NDArray[np.int64]

#: Texts sampled per window.
SAMPLE_TEXTS = 6000
#: Longest text read (its head): tics and phrases are short.
MAX_TEXT_CHARS = 4000
#: Log-odds z an n-gram needs to count as moving.
MIN_Z = 3.0
#: Example pieces kept per behaviour.
EXAMPLES = 8

#: Function words: an n-gram made only of these never seeds a behaviour nor becomes a term.
FUNCTION_WORDS = frozenset(
    """
    a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it it's its itself
    just me more most my no nor not now of off on once only or other our out over own same she
    should so some such than that that's the their them then there these they this those
    through to too under until up very was we were what when where which while who whom why
    will with would you your yours i'm i'll i've you're don't isn't can't
    """.split()
)


def term_ok(gram: str) -> bool:
    """Can `gram` be a detector term: some word that is not a function word or a number."""
    return any(t not in FUNCTION_WORDS and not t.isdigit() for t in gram.split())


@dataclass(frozen=True)
class WindowTexts:
    """A deterministic sample of the texts of the first and last quarter of the samples."""

    field: TextField
    low: float  # early: step <= low
    high: float  # late: step >= high
    early_rows: IntArray
    early: list[str]
    late_rows: IntArray
    late: list[str]


def step_quartiles(ctx: RunContext) -> tuple[float, float]:
    """Steps bounding the first and last quarter of the samples."""

    def compute() -> tuple[float, float]:
        row = ctx.con.execute(
            "SELECT quantile_cont(step, 0.25), quantile_cont(step, 0.75) FROM samples"
        ).fetchall()[0]
        return float(row[0] or 0), float(row[1] or 0)

    return ctx.memo(("step_quartiles",), compute)


def window_texts(ctx: RunContext, text_field: TextField, cap: int = SAMPLE_TEXTS) -> WindowTexts:
    """Up to `cap` non-empty texts of each window (memoised per context)."""

    def sample(condition: str, bound: float) -> tuple[IntArray, list[str]]:
        rows = ctx.con.execute(
            f"SELECT row_idx, left({text_field}, {MAX_TEXT_CHARS}) FROM samples "
            f"WHERE coalesce(length({text_field}), 0) > 0 AND {condition} "
            f"ORDER BY hash(coalesce(sample_id, '') || '#' || row_idx::VARCHAR) LIMIT {cap}",
            [bound],
        ).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), [str(r[1]) for r in rows]

    def compute() -> WindowTexts:
        low, high = step_quartiles(ctx)
        early_rows, early = sample("step <= ?", low)
        late_rows, late = sample("step >= ?", high)
        return WindowTexts(text_field, low, high, early_rows, early, late_rows, late)

    return ctx.memo(("window_texts", text_field, cap), compute)


def window_docs(ctx: RunContext, text_field: TextField, late: bool) -> list[list[str]]:
    """The sampled texts of a window as token lists, markup symbols kept (memoised)."""
    windows = window_texts(ctx, text_field)
    texts = windows.late if late else windows.early
    return ctx.memo(
        ("window_docs", text_field, late), lambda: [tokenize_sentences(t) for t in texts]
    )


@dataclass(frozen=True)
class Piece:
    """A sentence-level piece of a sampled text, with its stable id (`search.pieces`)."""

    id: int
    text: str


@dataclass
class RunBehaviour:
    """One emerging behaviour: its spec, how it was found, and example pieces of text."""

    spec: str
    direction: Direction
    terms: list[str]
    members: list[str]
    z: float
    source: Literal["ngrams", "cluster"] = "ngrams"
    examples: list[Piece] = field(default_factory=list)
    texts: int = 0  # sampled texts of its window that carry a term

    @property
    def label(self) -> str:
        """Its terms, then other members, six at most."""
        named = list(dict.fromkeys([*self.terms, *self.members]))
        return ", ".join(named[:6])


def moving_ngrams(
    ctx: RunContext, text_field: TextField
) -> dict[Direction, list[tuple[str, float]]]:
    """N-grams whose log-odds z moved at least MIN_Z each way, strongest first (memoised)."""

    def compute() -> dict[Direction, list[tuple[str, float]]]:
        windows = window_texts(ctx, text_field)
        if not windows.early or not windows.late:
            return {"up": [], "down": []}
        found = emerging_ngrams(
            window_docs(ctx, text_field, False),
            window_docs(ctx, text_field, True),
            top=80,
            min_count=5,
        )
        return {
            "up": [(e.ngram, e.z) for e in found.rising if e.z >= MIN_Z],
            "down": [(e.ngram, -e.z) for e in found.falling if -e.z >= MIN_Z],
        }

    return ctx.memo(("moving_ngrams", text_field), compute)


def emerging_behaviours(
    ctx: RunContext, text_field: TextField, max_groups: int = 8
) -> list[RunBehaviour]:
    """Rising then falling behaviours of the run, each strongest first (memoised)."""

    def compute() -> list[RunBehaviour]:
        windows = window_texts(ctx, text_field)
        moving = moving_ngrams(ctx, text_field)
        out: list[RunBehaviour] = []
        limits: tuple[tuple[Direction, int], ...] = (
            ("up", max_groups),
            ("down", max(max_groups // 2, 1)),
        )
        for direction, limit in limits:
            late = direction == "up"
            docs = window_docs(ctx, text_field, late)
            groups = group_ngrams(docs, moving[direction], max_groups=limit, term_ok=term_ok)
            present = Presence(docs)
            out += [_behaviour(g, direction, windows, present) for g in groups]
        return out

    return ctx.memo(("emerging_behaviours", text_field, max_groups), compute)


def _behaviour(
    group: NgramGroup, direction: Direction, windows: WindowTexts, present: Presence
) -> RunBehaviour:
    late = direction == "up"
    texts = windows.late if late else windows.early
    rows = windows.late_rows if late else windows.early_rows
    return RunBehaviour(
        spec=ngram_spec(group.terms, windows.field),
        direction=direction,
        terms=group.terms,
        members=group.members,
        z=group.z,
        examples=example_pieces(texts, rows, present, group.terms),
        texts=group.texts,
    )


def example_pieces(
    texts: list[str], rows: IntArray, present: Presence, terms: list[str], limit: int = EXAMPLES
) -> list[Piece]:
    """Distinct sentence-level pieces of `texts` (sampled from `rows`) that carry a term."""
    carrying = np.zeros(len(texts), dtype=bool)
    for term in terms:
        carrying |= present(term)

    def has_term(piece: str) -> bool:
        tokens = f" {' '.join(tokenize(piece, symbols=True))} "
        return any(f" {t} " in tokens for t in terms)

    return matching_pieces(texts, rows, np.flatnonzero(carrying).tolist(), has_term, limit)


def matching_pieces(
    texts: list[str],
    rows: IntArray,
    candidates: Iterable[int],
    matches: Callable[[str], bool],
    limit: int = EXAMPLES,
) -> list[Piece]:
    """The first piece of each text in `candidates` (indices into `texts`) that `matches`,
    distinct, with its stable id, up to `limit`."""
    out: list[Piece] = []
    seen: set[str] = set()
    for i in candidates:
        for position, piece in enumerate(split_pieces(texts[i])):
            if piece not in seen and matches(piece):
                out.append(Piece(piece_id(int(rows[i]), position), piece))
                seen.add(piece)
                break
        if len(out) >= limit:
            break
    return out
