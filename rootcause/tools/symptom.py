"""From a symptom in plain words to a behaviour spec, grounded in the run's own text.

The symptom says which text to look at ("the reasoning ..."), which way the behaviour moved
("more and more", "has stopped"), and gives words or quoted examples. Quoted phrases and the
symptom's content words are seeds; the run supplies their neighbours: n-grams that moved the
same way between the first and last quarter of steps and either share a seed's stem or appear
in the same contexts as a seed (goblin -> gremlin, troll). "Longer"/"shorter" become a word
count. Every candidate detector is then measured on the whole run, and the proposal is the
best grounded one whose rate moved the stated way; alternatives are kept for the record.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from rootcause.analysis.ngrams import emerging_ngrams, stem, tokenize
from rootcause.tools.behavior import TextField
from rootcause.tools.context import ToolContext
from rootcause.tools.frame import run_frame
from rootcause.tools.matching import behavior_hits

Direction = Literal["up", "down"]

#: Texts sampled per window to find the run's vocabulary.
SAMPLE_TEXTS = 6000

_QUOTE = re.compile(r"(?:^|(?<=[\s(:,]))['\"‘“]([^'\"’”]{2,120}?)['\"’”](?=[\s.,;:!?)]|$)")
_DOWN = re.compile(
    r"\b(stopp?(ed|ing|s)?|no longer|less|fewer|dropp?(ed|ing|s)?|disappear\w*|vanish\w*|"
    r"declin\w*|decreas\w*|rarely|lost|lose|fell|fall\w*)\b",
    re.I,
)
_REASONING = re.compile(
    r"\b(reasoning|chain[- ]of[- ]thought|cot|thinking|thoughts?|scratch ?pad)\b", re.I
)
_PROMPT = re.compile(r"\b(prompts?|questions asked|inputs?)\b", re.I)
_LONGER = re.compile(r"\b(longer|lengthier|verbose|wordier|wordy|padded|rambl\w*)\b", re.I)
_SHORTER = re.compile(r"\b(shorter|terse|curt|briefer|truncated)\b", re.I)

#: Words that describe outputs or change rather than the behaviour itself.
_GENERIC = frozenset(
    """
    a about above after again against all also always am an and any are as at be because
    been before being below between both but by can could did do does doing down during each
    end ends ending few for from further had has have having he her here hers him his how i
    if in into is it its itself just like me more most much my no nor not now of off often
    on once only or other our out over own same she should so some such than that the their
    them then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours answer answers
    answered completion completions response responses reply replies output outputs model
    models policy sample samples text texts message messages thing things word words phrase
    phrases mention mentions mentioned mentioning say says said saying talk talks talking
    use uses used using include includes including keep keeps kept increasingly increasing
    increase increased growing grow grows grew rising rise rises rose frequently frequent
    often lately recently again still anymore longer shorter stopped stop stops reasoning
    chain thought thoughts cot thinking way ways lot lots many every become became becoming
    got getting gets open opens opening start starts starting begin begins right wrong
    example examples something someone kind sort
    """.split()
)


@dataclass
class SymptomReading:
    """What the words of a symptom say, before looking at the run."""

    text: str
    field: TextField
    direction: Direction
    quotes: list[str]
    content: list[str]
    length: Literal["longer", "shorter"] | None


def read_symptom(text: str) -> SymptomReading:
    """Parse a symptom: target text field, direction, quoted phrases and content words."""
    quotes = [" ".join(q.split()).strip(" .!?,;:").lower() for q in _QUOTE.findall(text)]
    quotes = [q for q in quotes if q]
    unquoted = _QUOTE.sub(" ", text)
    field: TextField = "completion"
    if _REASONING.search(text):
        field = "reasoning"
    elif _PROMPT.search(text) and not re.search(r"\b(answer|completion|response)", text, re.I):
        field = "prompt"
    length: Literal["longer", "shorter"] | None = None
    if _LONGER.search(unquoted):
        length = "longer"
    elif _SHORTER.search(unquoted):
        length = "shorter"
    direction: Direction = "down" if _DOWN.search(unquoted) else "up"
    if length == "shorter" and not _DOWN.search(unquoted):
        direction = "up"
    content = [w for w in dict.fromkeys(tokenize(unquoted)) if w not in _GENERIC and len(w) > 2]
    return SymptomReading(text, field, direction, quotes, content, length)


@dataclass
class Candidate:
    """A detector to measure: its spec, why it was built, and its measured rates."""

    spec: str
    basis: str
    grounded: int  # 3: quoted or named, 2: symptom words found moving, 1: raw words, 0: none
    early: float = math.nan
    late: float = math.nan
    z: float = 0.0
    terms: list[str] = field(default_factory=list)

    def moved(self, direction: Direction) -> float:
        """Change in the stated direction (positive when it moved that way)."""
        delta = self.late - self.early
        return delta if direction == "up" else -delta


def _window_texts(ctx: ToolContext, column: TextField) -> tuple[list[str], list[str]]:
    frame = run_frame(ctx)
    lo, hi = np.quantile(frame.step, [0.25, 0.75]) if frame.n else (0, 0)

    def sample(condition: str, bound: float) -> list[str]:
        rows = ctx.con.execute(
            f"SELECT {column} FROM samples WHERE {column} IS NOT NULL AND {condition} "
            f"ORDER BY hash(sample_id) LIMIT {SAMPLE_TEXTS}",
            [bound],
        ).fetchall()
        return [str(r[0]) for r in rows]

    return sample("step <= ?", float(lo)), sample("step >= ?", float(hi))


def _contexts(docs: list[list[str]], targets: set[str]) -> dict[str, Counter[tuple[str, str]]]:
    """For each target n-gram, counts of its (left word, right word) slot around it.

    Words that fill the same slots ("a careful ___ would") substitute for each other, which is
    what a lexical neighbour is; words that merely co-occur do not share slots.
    """
    orders = {len(t.split()) for t in targets}
    out: dict[str, Counter[tuple[str, str]]] = {t: Counter() for t in targets}
    for tokens in docs:
        padded = ["<s>", *tokens, "</s>"]
        for order in orders:
            for i in range(1, len(padded) - order):
                gram = " ".join(padded[i : i + order])
                if gram in out:
                    out[gram][(padded[i - 1], padded[i + order])] += 1
    return out


def _cosine(a: Counter[tuple[str, str]], b: Counter[tuple[str, str]]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def _spec(phrases: list[str], column: TextField) -> str:
    suffix = "" if column == "completion" else f"@{column}"
    words = sorted(dict.fromkeys(phrases))
    if all(re.fullmatch(r"[a-z0-9']+", p) for p in words):
        return f"terms:{','.join(words)}{suffix}"
    body = "|".join(r"\s+".join(re.escape(part) for part in p.split()) for p in words)
    return f"regex:(?i)\\b(?:{body})\\b{suffix}"


def _moved_ngrams(
    before: list[str], after: list[str], direction: Direction
) -> list[tuple[str, float]]:
    found = emerging_ngrams(before, after, top=60, min_count=5)
    pool = found.rising if direction == "up" else found.falling
    return [(e.ngram, abs(e.z)) for e in pool if abs(e.z) >= 3.0]


def _candidates(ctx: ToolContext, reading: SymptomReading) -> list[Candidate]:
    column = reading.field
    out: list[Candidate] = []
    if reading.length is not None:
        frame_words = ctx.con.execute(
            f"SELECT quantile_cont(len(regexp_extract_all(coalesce({column}, ''), '\\S+')), "
            "[0.5, 0.9]) FROM samples WHERE step <= (SELECT quantile_cont(step, 0.25) "
            "FROM samples)"
        ).fetchall()[0][0]
        median, p90 = (round(v) for v in frame_words)
        bound = p90 if reading.length == "longer" else max(median // 2, 1)
        op = ">" if reading.length == "longer" else "<"
        suffix = "" if column == "completion" else f"@{column}"
        out.append(Candidate(f"words:{op}{bound}{suffix}", "length named in the symptom", 3))
    before, after = _window_texts(ctx, column)
    if not before or not after:
        return out
    moved = _moved_ngrams(before, after, reading.direction)
    seeds = list(reading.quotes)
    seed_stems = {stem(w) for w in reading.content}
    # Moving n-grams that carry symptom words; those that carry the most of them at once
    # ("tests passed" for "a passing test summary") are the most specific.
    coverage = {g: len({stem(t) for t in g.split()} & seed_stems) for g, _ in moved}
    best = max(coverage.values(), default=0)
    stem_hits = [g for g, _ in moved if coverage[g] == best and best > 0]
    if not seeds and stem_hits:
        seeds = stem_hits[:4]
    if seeds:
        neighbours = _neighbours(after, seeds, moved)
        grounded = 3 if reading.quotes else 2
        basis = "quoted in the symptom" if reading.quotes else "symptom words found moving"
        out.append(Candidate(_spec(seeds, column), basis, grounded, terms=seeds))
        if neighbours:
            out.append(
                Candidate(
                    _spec(seeds + neighbours, column),
                    f"{basis}, plus run neighbours: {', '.join(neighbours)}",
                    grounded,
                    terms=seeds + neighbours,
                )
            )
    if reading.content:
        out.append(
            Candidate(
                _spec(reading.content[:6], column),
                "the symptom's content words",
                1,
                terms=reading.content[:6],
            )
        )
    top = [g for g, _ in moved[:5]]
    if top:
        out.append(Candidate(_spec(top, column), "top moving n-grams (data only)", 0, terms=top))
    return out


def _neighbours(after: list[str], seeds: list[str], moved: list[tuple[str, float]]) -> list[str]:
    """Moving n-grams that stand in for a seed: they appear in texts without the seed (not
    parts of the same phrase or template) and fill the same slots, share a content word with a
    seed phrase ("brilliant question" for "great question"), or inflect a seed word."""
    docs = [tokenize(t) for t in after]
    joined = [f" {' '.join(tokens)} " for tokens in docs]

    def present(gram: str) -> np.ndarray:
        return np.fromiter((f" {gram} " in text for text in joined), bool, len(joined))

    with_seed = np.zeros(len(joined), dtype=bool)
    for seed in seeds:
        with_seed |= present(seed)
    grams = [g for g, _ in moved if g not in seeds and not any(g in s or s in g for s in seeds)]
    contexts = _contexts(docs, set(seeds) | set(grams))
    seed_words = {t for s in seeds for t in s.split() if t not in _GENERIC}
    stems = {stem(t) for t in seed_words}
    picked = []
    for gram in grams:
        found = present(gram)
        if found.sum() < 3 or (found & with_seed).sum() > 0.5 * found.sum():
            continue
        tokens = gram.split()
        slot = max(_cosine(contexts[gram], contexts[s]) for s in seeds) >= 0.3
        sibling = len(tokens) > 1 and any(t in seed_words for t in tokens)
        inflected = len(tokens) == 1 and gram not in _GENERIC and stem(gram) in stems
        if slot or sibling or inflected:
            picked.append(gram)
        if len(picked) >= 8:
            break
    return picked


def _measure(ctx: ToolContext, cand: Candidate) -> None:
    frame = run_frame(ctx)
    hits = behavior_hits(ctx, cand.spec)
    lo, hi = np.quantile(frame.step, [0.25, 0.75])
    early, late = hits[frame.step <= lo], hits[frame.step >= hi]
    cand.early = float(early.mean()) if early.size else math.nan
    cand.late = float(late.mean()) if late.size else math.nan
    pooled = (early.sum() + late.sum()) / max(early.size + late.size, 1)
    se = math.sqrt(
        max(pooled * (1 - pooled), 1e-12) * (1 / max(early.size, 1) + 1 / max(late.size, 1))
    )
    cand.z = (cand.late - cand.early) / se


@dataclass
class Proposal:
    """The chosen detector, the reading of the symptom, and every candidate measured."""

    reading: SymptomReading
    chosen: Candidate | None
    candidates: list[Candidate]


def propose_detector(ctx: ToolContext, symptom: str) -> Proposal:
    """Build candidate detectors from the symptom and the run; pick the best grounded one that
    moved the stated way (z >= 3). Data-only candidates are used only when the symptom gives
    no words to ground a detector on."""
    reading = read_symptom(symptom)
    candidates = _candidates(ctx, reading)
    for cand in candidates:
        _measure(ctx, cand)
    sign = 1.0 if reading.direction == "up" else -1.0
    grounded = [c for c in candidates if c.grounded > 0]
    moving = [c for c in candidates if sign * c.z >= 3.0]
    if any(c.grounded for c in moving):
        pool = [c for c in moving if c.grounded]
    elif grounded:
        # The symptom's own words did not move the stated way: keep to them (the report then
        # shows it) rather than investigate something else the run happens to show.
        pool = grounded
    else:
        pool = moving or candidates
    chosen = max(pool, key=lambda c: (c.grounded, sign * c.z)) if pool else None
    return Proposal(reading, chosen, candidates)
