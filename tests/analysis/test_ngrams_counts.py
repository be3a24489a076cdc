"""`emerging_from_counts` scores counts made elsewhere exactly as `emerging_ngrams` scores
the texts themselves."""

from __future__ import annotations

import numpy as np

from rootcause.analysis.ngrams import count_ngrams, emerging_from_counts, emerging_ngrams

WORDS = ["goblin", "the", "it's", "Don't", "x-ray", "42", "épée", "İstanbul", "##", "ok.", "a\x00b"]


def _texts(rng: np.random.Generator, n: int, tic: float) -> list[str]:
    texts = []
    for _ in range(n):
        words = list(rng.choice(WORDS, int(rng.integers(0, 12))))
        if rng.random() < tic:
            words += ["bottom", "line"]
        texts.append(" ".join(words))
    return texts


def test_counts_score_as_the_texts_do() -> None:
    rng = np.random.default_rng(4)
    early, late = _texts(rng, 300, 0.05), _texts(rng, 300, 0.4)
    for min_count, top in ((1, 50), (5, 15)):
        expected = emerging_ngrams(early, late, top=top, min_count=min_count)
        split = count_ngrams(late[:100]).plus(count_ngrams(late[100:]))
        found = emerging_from_counts(count_ngrams(early), split, top=top, min_count=min_count)
        assert found == expected
    assert expected.rising and expected.rising[0].ngram in {"bottom line", "bottom", "line"}
