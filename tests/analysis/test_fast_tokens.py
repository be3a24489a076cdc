"""`fast_tokens.tokens` gives what the n-gram regex gives, or None (then the regex is used)."""

from __future__ import annotations

import numpy as np

from rootcause.analysis import fast_tokens
from rootcause.analysis.ngrams import _TOKEN, _stream


def _texts(alphabet: list[str], seed: int, count: int) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    return [
        ["".join(rng.choice(alphabet, int(rng.integers(0, 30)))) for _ in range(rng.integers(1, 5))]
        for _ in range(count)
    ]


def test_tokens_are_the_regexs_or_none() -> None:
    plain = [*"abcXYZ09' \n.,-#*_", "'", " ", "  "]
    exotic = [*plain, "é", "\x00", "K", "ß", "\t", "''"]
    answered = 0
    for alphabet, seed in ((plain, 0), (exotic, 1)):
        for docs in _texts(alphabet, seed, 10_000):
            text = " \x00 ".join(docs).lower()
            got = fast_tokens.tokens(text, breaks=len(docs) - 1)
            if got is not None:
                assert got == _TOKEN.findall(text), text
                answered += 1
    assert answered > 10_000  # the fast path answers most texts


def test_the_regex_decides_where_the_fast_path_cannot() -> None:
    for text, breaks in [
        ("rock'n'roll", 0),  # an apostrophe right after a joined suffix
        ("it's2 go", 0),  # digits right after one
        ("café au lait", 0),  # not ASCII
        ("a \x00 b\x00c", 1),  # a break token inside a text
    ]:
        assert fast_tokens.tokens(text, breaks) is None
    assert _stream(["Rock'n'roll, IT'S2 go!", "café"]) == _TOKEN.findall(
        "rock'n'roll, it's2 go! \x00 café"
    )
    assert fast_tokens.tokens("don't 90's 'tis dogs' a''b", 0) == [
        "don't", "90's", "tis", "dogs", "a", "b",
    ]  # fmt: skip
