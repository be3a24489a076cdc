"""Group moving n-grams into behaviours: one behaviour per seed n-gram plus the neighbours that
belong to it.

A neighbour joins a seed's group only when it is part of the same behaviour, never merely
because it moved too:

* **co-occurrence**: the texts that carry the neighbour mostly carry the group already, far
  more often than texts without it do (share >= `MIN_SHARE` and relative risk >= `MIN_RISK`),
  e.g. "matey" in the replies that say "arr";
* **slots**: it fills the same (left word, right word) slots as a member, so it stands in for
  it ("a careful ___ would": goblin, gremlin), with cosine >= `MIN_SLOT` between the slot
  counts, sharing at least two slots. Sentence breaks (the break token of `analysis.ngrams`)
  count as slot words, so a slot never spans two sentences.

* **sentence substitutes**: it sits in the same place of the texts as a member (the
  opening sentence, a middle one, the closing one; position profiles with cosine >=
  `MIN_PLACE`) and the two exclude each other: they share at most `MAX_TOGETHER` of the texts
  they would share if independent ("Take this with a grain of salt." and "I might be wrong
  about this." as alternative closings). Two behaviours that merely rose together are
  independent, so they share texts and never join this way.

Growing is repeated until nothing joins, so a neighbour that links to the group through
another neighbour joins too. The group's detector terms are the members that add coverage:
each, in order of strength, is kept when at least `MIN_NEW` of its texts are not yet covered
by the terms kept before it, and only members that stand in for another (slots, place) become
terms. Everything here works on lower-case token lists.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]

#: The break token `analysis.ngrams` puts between texts and sentences.
BREAK = "\x00"

MIN_SHARE = 0.3
MIN_RISK = 3.0
MIN_SLOT = 0.5
MIN_SHARED_SLOTS = 2
MIN_NEW = 0.2
MIN_TEXTS = 3
MIN_PLACE = 0.9
#: Why a member may become a detector term.
STANDS_IN = ("fills its slots", "takes a member's place")
MAX_TOGETHER = 0.2
MIN_EXPECTED = 5.0


@dataclass
class NgramGroup:
    """A seed n-gram, the neighbours that joined it (and why), and its detector terms."""

    seed: str
    z: float
    members: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    terms: list[str] = field(default_factory=list)
    texts: int = 0  # texts of the window that carry a term

    @property
    def label(self) -> str:
        return ", ".join(self.members[:6])


class Presence:
    """Which texts carry each n-gram (token boundaries respected), computed once."""

    def __init__(self, docs: Sequence[Sequence[str]]):
        self.docs = docs
        self._joined = [f" {' '.join(tokens)} " for tokens in docs]
        self._cache: dict[str, BoolArray] = {}

    def __call__(self, gram: str) -> BoolArray:
        if gram not in self._cache:
            needle = f" {gram} "
            self._cache[gram] = np.fromiter(
                (needle in text for text in self._joined), bool, len(self._joined)
            )
        return self._cache[gram]


def slot_contexts(
    docs: Sequence[Sequence[str]], grams: set[str]
) -> dict[str, Counter[tuple[str, str]]]:
    """For each n-gram, counts of the (left word, right word) slot around it."""
    orders = {len(t.split()) for t in grams}
    out: dict[str, Counter[tuple[str, str]]] = {t: Counter() for t in grams}
    for tokens in docs:
        padded = [BREAK, *tokens, BREAK]
        for order in orders:
            for i in range(1, len(padded) - order):
                gram = " ".join(padded[i : i + order])
                if gram in out:
                    out[gram][(padded[i - 1], padded[i + order])] += 1
    return out


def slot_similarity(a: Counter[tuple[str, str]], b: Counter[tuple[str, str]]) -> float:
    """Cosine between two slot-count vectors; 0 unless they share at least `MIN_SHARED_SLOTS`
    slots (one shared slot is a template's doing, not a substitute's)."""
    if len(a.keys() & b.keys()) < MIN_SHARED_SLOTS:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def place_profiles(
    docs: Sequence[Sequence[str]], grams: set[str]
) -> dict[str, npt.NDArray[np.float64]]:
    """For each n-gram, how often it sits in a text's only, first, middle and last sentence."""
    orders = sorted({len(g.split()) for g in grams})
    out = {g: np.zeros(4) for g in grams}
    for tokens in docs:
        sentences: list[list[str]] = [[]]
        for token in tokens:
            if token == BREAK:
                sentences.append([])
            else:
                sentences[-1].append(token)
        sentences = [t for t in sentences if t]
        last = len(sentences) - 1
        for i, words in enumerate(sentences):
            place = 0 if last == 0 else 1 if i == 0 else 3 if i == last else 2
            seen = {" ".join(words[j : j + n]) for n in orders for j in range(len(words) - n + 1)}
            for gram in seen & grams:
                out[gram][place] += 1
    return out


def substitutes(
    found: BoolArray,
    covered: BoolArray,
    place: npt.NDArray[np.float64],
    places: list[npt.NDArray[np.float64]],
) -> bool:
    """Same place in the texts as a member, and the two exclude each other (module docstring)."""
    n = len(found)
    expected = float(found.sum()) * float(covered.sum()) / max(n, 1)
    if expected < MIN_EXPECTED or float((found & covered).sum()) > MAX_TOGETHER * expected:
        return False
    norm = float(np.linalg.norm(place))
    for other in places:
        denom = norm * float(np.linalg.norm(other))
        if denom and float(place @ other) / denom >= MIN_PLACE:
            return True
    return False


def co_occurs(found: BoolArray, covered: BoolArray) -> bool:
    """The texts with `found` mostly carry `covered`, far more often than the others do."""
    n_with = int(found.sum())
    if n_with < MIN_TEXTS:
        return False
    share = float((found & covered).sum()) / n_with
    rest = ~found
    base = float((rest & covered).sum()) / max(int(rest.sum()), 1)
    return share >= MIN_SHARE and share >= MIN_RISK * max(base, 1e-9)


def _overlaps(a: str, b: str) -> bool:
    """One n-gram is part of the other (token-wise)."""
    return f" {a} " in f" {b} " or f" {b} " in f" {a} "


def group_ngrams(
    docs: Sequence[Sequence[str]],
    grams: Sequence[tuple[str, float]],
    *,
    max_groups: int = 8,
    term_ok: Callable[[str], bool] = lambda gram: True,
) -> list[NgramGroup]:
    """Group `grams` ((n-gram, z), strongest first) by the rules of the module docstring, on
    the texts `docs` where they are common (the late window for a rise). Only n-grams that
    `term_ok` accepts (e.g. not a function word or a bare number) seed a group or become one
    of its detector terms; the others may still join as members."""
    present = Presence(docs)
    contexts = slot_contexts(docs, {g for g, _ in grams})
    places = place_profiles(docs, {g for g, _ in grams})
    left = [(g, z) for g, z in grams if present(g).sum() >= MIN_TEXTS]
    groups: list[NgramGroup] = []
    while left and len(groups) < max_groups:
        seed_at = next((i for i, (g, _) in enumerate(left) if term_ok(g)), None)
        if seed_at is None:
            break
        seed, z = left.pop(seed_at)
        group = NgramGroup(seed=seed, z=z, members=[seed], reasons={seed: "seed"})
        covered = present(seed).copy()
        grown = True
        while grown:
            grown = False
            for gram, _ in list(left):
                why = _joins(gram, group, present(gram), covered, contexts, places)
                if why is None:
                    continue
                group.members.append(gram)
                group.reasons[gram] = why
                covered |= present(gram)
                left.remove((gram, _))
                grown = True
        group.terms = _cover_terms(group, present, term_ok)
        group.texts = int(covered.sum())
        groups.append(group)
    return groups


def _joins(
    gram: str,
    group: NgramGroup,
    found: BoolArray,
    covered: BoolArray,
    contexts: dict[str, Counter[tuple[str, str]]],
    places: dict[str, npt.NDArray[np.float64]],
) -> str | None:
    if any(_overlaps(gram, m) for m in group.members):
        return "part of a member" if co_occurs(found, covered) else None
    if co_occurs(found, covered):
        return "co-occurs"
    if substitutes(found, covered, places[gram], [places[m] for m in group.members]):
        return "takes a member's place"
    best = max(slot_similarity(contexts[gram], contexts[m]) for m in group.members)
    return "fills its slots" if best >= MIN_SLOT else None


def _cover_terms(group: NgramGroup, present: Presence, term_ok: Callable[[str], bool]) -> list[str]:
    """The seed and the members that stand in for a member (slots, place) and add coverage,
    strongest first. Members that joined by co-occurrence describe the same texts, so they
    never widen the detector: a word that merely tends to appear beside the behaviour would
    bring in texts without it."""
    terms = [group.seed]
    covered = present(group.seed).copy()
    for gram in group.members[1:]:
        if not term_ok(gram) or group.reasons.get(gram) not in STANDS_IN:
            continue
        found = present(gram)
        new = float((found & ~covered).sum()) / max(int(found.sum()), 1)
        if new >= MIN_NEW:
            terms.append(gram)
            covered |= found
    return terms
