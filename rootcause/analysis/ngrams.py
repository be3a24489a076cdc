"""Emerging n-grams: what rose between two windows, found without a symptom.

Log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin'
Words"): for n-gram w with counts y_a (after), y_b (before), totals n_a, n_b and prior
alpha_w = a0 * pooled share of w,

    delta_w = log((y_a + alpha_w) / (n_a + a0 - y_a - alpha_w))
            - log((y_b + alpha_w) / (n_b + a0 - y_b - alpha_w))
    var     ~ 1 / (y_a + alpha_w) + 1 / (y_b + alpha_w),      z_w = delta_w / sqrt(var)

The z-score ranks words by evidence, not raw ratio, so a rare word seen twice does not beat a
common word that doubled. Unigrams and bigrams are scored separately (each with its own totals
and prior) and merged by z. The prior strength a0 defaults to the pooled token count of that
order (the prior is the pooled corpus itself, as in the common "Fightin' Words" usage).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from rootcause.analysis import fast_tokens
from rootcause.analysis._common import FloatArray, IntArray

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|\x00")
#: Also runs of markup symbols ("####", "**", "```"), which formatting tics are made of.
_TOKEN_SYMBOLS = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[#*=|~`_-]{2,}|\x00")
_BREAK = "\x00"  # text separator token; n-grams never span it
_DENSE_CODES = 1 << 25  # count n-gram codes below this with a dense bincount


@dataclass(frozen=True, slots=True)
class EmergingNgram:
    """One n-gram's counts in each window, rates per million tokens and log-odds z-score."""

    ngram: str
    count_before: int
    count_after: int
    per_million_before: float
    per_million_after: float
    z: float


@dataclass(frozen=True, slots=True)
class EmergingNgrams:
    """Top rising (z > 0, highest first) and falling n-grams, and the token totals."""

    rising: tuple[EmergingNgram, ...]
    falling: tuple[EmergingNgram, ...]
    tokens_before: int
    tokens_after: int


#: Sentence ends (and line breaks) where `tokenize_sentences` puts a break token.
_SENTENCE_END = re.compile(r"[.!?]+(?=[\s\"')\]]|$)|\n")


def tokenize_sentences(text: str) -> list[str]:
    """Tokens with markup symbols kept and a break token between sentences, so that no
    n-gram, slot or phrase spans two sentences (`emerging_ngrams` skips the break)."""
    out: list[str] = []
    for part in _SENTENCE_END.split(text.lower()):
        tokens = [t for t in _TOKEN_SYMBOLS.findall(part) if t != _BREAK]
        if tokens:
            if out:
                out.append(_BREAK)
            out.extend(tokens)
    return out


def tokenize(text: str, symbols: bool = False) -> list[str]:
    """Lowercase word tokens (letters/digits, with an optional apostrophe suffix); with
    `symbols`, runs of two or more markup symbols (`####`, `**`) are tokens too."""
    pattern = _TOKEN_SYMBOLS if symbols else _TOKEN
    return [t for t in pattern.findall(text.lower()) if t != _BREAK]


def stem(word: str) -> str:
    """A crude shared stem of a lowercase word, the one rootcause uses everywhere: enough to
    relate fakes/faking, tests/tested, passing/passed (at most six characters)."""
    for suffix in ("ing", "ed", "es", "s", "er", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)][:6]
    return word[:6]


def _stream(docs: Sequence[str] | Sequence[Sequence[str]]) -> list[str]:
    """All tokens of all docs with a break token between docs (texts: one pass of
    `fast_tokens`, or of the regex where only it can tell)."""
    if all(isinstance(d, str) for d in docs):
        text = f" {_BREAK} ".join(docs).lower()  # type: ignore[arg-type]
        fast = fast_tokens.tokens(text, breaks=max(len(docs) - 1, 0))
        return fast if fast is not None else _TOKEN.findall(text)
    out: list[str] = []
    for d in docs:
        out.extend(d if not isinstance(d, str) else tokenize(d))
        out.append(_BREAK)
    return out


def _codes(ids: IntArray, order: int, n_vocab: int, brk: int) -> IntArray:
    """Integer code of every n-gram (order 1 or 2) that does not touch a text break."""
    if order == 1:
        return ids[ids != brk]
    left, right = ids[:-1], ids[1:]
    return (left * n_vocab + right)[(left != brk) & (right != brk)]


def _score(
    before: IntArray,
    after: IntArray,
    order: int,
    words: list[str],
    prior: float | None,
    min_count: int,
) -> tuple[FloatArray, list[EmergingNgram]]:
    """Score all n-grams of one order; returns the z-scores and the extreme n-grams."""
    yb, ya, uniq = _joint_counts(before, after)
    nb, na = float(before.shape[0]), float(after.shape[0])
    keep = yb + ya >= min_count
    uniq, yb, ya = uniq[keep], yb[keep], ya[keep]
    a0 = nb + na if prior is None else prior
    alpha = a0 * (yb + ya) / max(nb + na, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.log((ya + alpha) / (na + a0 - ya - alpha)) - np.log(
            (yb + alpha) / (nb + a0 - yb - alpha)
        )
        z = delta / np.sqrt(1.0 / (ya + alpha) + 1.0 / (yb + alpha))
    V = len(words)

    def make(i: int) -> EmergingNgram:
        code = int(uniq[i])
        text = words[code] if order == 1 else f"{words[code // V]} {words[code % V]}"
        return EmergingNgram(
            text,
            int(yb[i]),
            int(ya[i]),
            float(yb[i] * 1e6 / nb) if nb else float("nan"),
            float(ya[i] * 1e6 / na) if na else float("nan"),
            float(z[i]),
        )

    return z, [make(i) for i in _extremes(z)]


def _joint_counts(before: IntArray, after: IntArray) -> tuple[FloatArray, FloatArray, IntArray]:
    """Counts of every code seen in either window: dense bincount when codes are small,
    otherwise one sort of (code, window) keys and run lengths."""
    if before.shape[0] + after.shape[0] == 0:
        empty = np.zeros(0)
        return empty, empty, np.zeros(0, dtype=np.int64)
    top = int(max(before.max(initial=0), after.max(initial=0))) + 1
    if top <= _DENSE_CODES:
        yb = np.bincount(before, minlength=top).astype(np.float64)
        ya = np.bincount(after, minlength=top).astype(np.float64)
        seen = np.flatnonzero(yb + ya)
        return yb[seen], ya[seen], seen
    keys = np.concatenate([before * 2, after * 2 + 1])  # low bit = window
    keys.sort()
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    run_key = keys[starts]
    run_count = np.diff(np.append(starts, keys.shape[0])).astype(np.float64)
    run_code = run_key >> 1
    first = np.concatenate([[True], run_code[1:] != run_code[:-1]])
    slot = np.cumsum(first) - 1
    yb, ya = np.zeros(int(slot[-1]) + 1), np.zeros(int(slot[-1]) + 1)
    is_after = (run_key & 1).astype(bool)
    yb[slot[~is_after]] = run_count[~is_after]
    ya[slot[is_after]] = run_count[is_after]
    return yb, ya, run_code[first]


def _extremes(z: FloatArray, top: int = 200) -> IntArray:
    """Indices of the `top` highest and `top` lowest finite z-scores (unordered)."""
    idx = np.flatnonzero(np.isfinite(z))
    if idx.shape[0] <= 2 * top:
        return idx
    order = np.argpartition(z[idx], [top, idx.shape[0] - top - 1])
    return idx[np.concatenate([order[:top], order[-top:]])]


def emerging_ngrams(
    before: Sequence[str] | Sequence[Sequence[str]],
    after: Sequence[str] | Sequence[Sequence[str]],
    *,
    top: int = 25,
    min_count: int = 5,
    prior: float | None = None,
    orders: Iterable[int] = (1, 2),
) -> EmergingNgrams:
    """Rank unigrams and bigrams by how much they rose from `before` to `after`.

    Inputs are texts or pre-tokenised lists. Counting is vectorised (tokens -> integer ids ->
    n-gram codes -> counts). N-grams seen fewer than `min_count` times in both windows together
    are skipped. Returns the `top` rising and falling n-grams by z-score.
    """
    tb, ta = _stream(before), _stream(after)
    words = sorted(set(tb) | set(ta) | {_BREAK})
    vocab = {w: i for i, w in enumerate(words)}
    ib = np.fromiter(map(vocab.__getitem__, tb), dtype=np.int64, count=len(tb))
    ia = np.fromiter(map(vocab.__getitem__, ta), dtype=np.int64, count=len(ta))
    brk = vocab[_BREAK]
    scored: list[EmergingNgram] = []
    for order in orders:
        if order not in (1, 2):
            raise ValueError("orders must be 1 and/or 2")
        cb, ca = _codes(ib, order, len(words), brk), _codes(ia, order, len(words), brk)
        scored += _score(cb, ca, order, words, prior, min_count)[1]
    scored.sort(key=lambda e: (-e.z, e.ngram))
    rising = tuple(e for e in scored[:top] if e.z > 0)
    falling = tuple(e for e in reversed(scored[-top:]) if e.z < 0)
    return EmergingNgrams(
        rising,
        falling,
        tokens_before=int(np.count_nonzero(ib != brk)),
        tokens_after=int(np.count_nonzero(ia != brk)),
    )
