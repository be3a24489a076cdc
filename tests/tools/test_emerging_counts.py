"""The emerging tool counts n-grams in DuckDB exactly as `count_ngrams` counts the texts."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import duckdb
import numpy as np

from rootcause.analysis.ngrams import count_ngrams
from rootcause.tools.builtin.emerging import MAX_NGRAM_TEXT_CHARS, window_counts

WORDS = ["Goblin", "the", "it's", "don't'x", "x-ray", "42", "**", "ok.\n", "A\tb"]
#: Words whose lower case or letters differ between Python and DuckDB (counted in Python).
OTHER = ["épée", "İstanbul", "ß", "K"]


def _ctx(texts: list[str]) -> Any:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE samples AS SELECT i::BIGINT AS row_idx, (i % 10)::BIGINT AS step, "
        "'s' || i AS sample_id, t AS completion "
        "FROM (SELECT unnest(?) AS t, generate_subscripts(?, 1) - 1 AS i)",
        [texts, texts],
    )
    return SimpleNamespace(con=con)


def test_window_counts_are_the_texts_counts() -> None:
    rng = np.random.default_rng(5)
    texts = [" ".join(rng.choice(WORDS, int(rng.integers(0, 15)))) for _ in range(500)]
    texts = [t + " " + str(rng.choice(OTHER)) if i % 10 == 0 else t for i, t in enumerate(texts)]
    texts[7] = "a\x00b goblin goblin"  # a NUL: counted in Python, where it breaks bigrams
    ctx = _ctx(texts)
    for window, cap in (((0, 9), 1000), ((2, 5), 40)):
        counts, picked = window_counts(ctx, "completion", window, cap)
        chosen = ctx.con.execute(
            f"SELECT left(completion, {MAX_NGRAM_TEXT_CHARS}) FROM samples WHERE step BETWEEN "
            "? AND ? AND coalesce(length(completion), 0) > 0 ORDER BY md5(coalesce(sample_id, "
            f"'') || '#' || row_idx::VARCHAR) LIMIT {cap}",
            list(window),
        ).fetchall()
        expected = count_ngrams([r[0] for r in chosen])
        assert picked == len(chosen)
        assert counts.unigrams == expected.unigrams and counts.bigrams == expected.bigrams
