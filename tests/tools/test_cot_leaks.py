"""The vectorised tile search (`cot_leaks`, `text_words`) against the queries it replaced.

`text_words.collapse` must give DuckDB's normalisation (up to a leading and trailing space)
for every text, `tiles_of` the tiles DuckDB's list functions cut, and `scan_all_leaks` what
the single DuckDB query of the previous version (kept here as `PREVIOUS_LEAK_SQL`) found:
the same examined samples in the same order, the same testable flags and leaked tiles.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from rootcause.tools import cot_leaks, text_words
from rootcause.tools.cot_signals import _norm, scan_all_leaks
from rootcause.tools.text_words import NORMALISE_SQL, SEPARATORS, collapse, tiles_of

#: The tile search before it moved out of DuckDB (commit b8be92d), verbatim.
PREVIOUS_LEAK_SQL = f"""
WITH graders AS (
    SELECT g.component, count(DISTINCT s.step) AS steps
    FROM grader_inputs g JOIN samples s USING (row_idx)
    WHERE g.text IS NOT NULL AND g.component IN (SELECT unnest($components::VARCHAR[]))
    GROUP BY 1
), picked AS MATERIALIZED (
    SELECT g.component, g.row_idx, s.step
    FROM grader_inputs g JOIN samples s USING (row_idx) JOIN graders USING (component)
    WHERE g.text IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY g.component, s.step ORDER BY hash(g.row_idx))
        <= greatest(1, ceil($cap / greatest(graders.steps, 1)))
), tiled AS MATERIALIZED (
    SELECT row_idx, step, sample_id, len(w) AS nw,
           list_transform(range(0, greatest(len(w) - $n + 1, 0), $n),
                          lambda i: w[i + 1:i + $n]) AS tiles
    FROM (SELECT row_idx, step, sample_id, string_split({_norm("reasoning")}, ' ') AS w
          FROM samples WHERE row_idx IN (SELECT DISTINCT row_idx FROM picked))
), screened AS MATERIALIZED (
    SELECT *, coalesce(list_bool_or(list_transform(tiles, lambda tile: list_bool_and(
               list_transform(tile, lambda w: contains(lowered, w))))), false) AS maybe
    FROM (SELECT g.component, g.row_idx, t.step, t.sample_id, t.nw, t.tiles, g.text,
                 lower(g.text) AS lowered
          FROM grader_inputs g JOIN tiled t USING (row_idx)
          WHERE (g.component, g.row_idx) IN (SELECT component, row_idx FROM picked))
), candidates AS MATERIALIZED (
    SELECT c.* EXCLUDE (lowered), lower(concat_ws(' ', s.completion, s.prompt, s.reference)) AS own,
           ' ' || {_norm("c.text")} || ' ' AS t
    FROM screened c JOIN samples s USING (row_idx) WHERE c.maybe
), own_screened AS MATERIALIZED (
    SELECT *, list_bool_or(list_transform(tiles, lambda tile: list_bool_and(
               list_transform(tile, lambda w: contains(own, w))))) AS maybe_known,
           list_transform(tiles, lambda tile: ' ' || array_to_string(tile, ' ') || ' ')
               AS tile_texts
    FROM candidates
), matched AS (
    SELECT component, row_idx, step, sample_id, nw, tile_texts, t, '' AS known
    FROM own_screened WHERE NOT coalesce(maybe_known, false)
    UNION ALL
    SELECT o.component, o.row_idx, o.step, o.sample_id, o.nw, o.tile_texts, o.t,
           ' ' || {_norm("s.completion")} || ' ¶ ' || {_norm("s.prompt")} || ' ¶ '
               || {_norm("s.reference")} || ' ' AS known
    FROM own_screened o JOIN samples s USING (row_idx) WHERE o.maybe_known
)
SELECT component, row_idx, step, sample_id, nw >= $n AS testable, NULL::VARCHAR AS shared
FROM screened WHERE NOT maybe
UNION ALL
SELECT component, row_idx, step, sample_id, nw >= $n AS testable,
       list_filter(tile_texts, lambda x: contains(t, x) AND NOT contains(known, x))[1] AS shared
FROM matched
ORDER BY component, step, row_idx
"""


def _texts(seed: int, count: int) -> list[str | None]:
    """Random texts over every ASCII character (control characters, the vertical tab and
    separator runs among them) and a few non-ASCII ones (case changes, punctuation)."""
    rng = np.random.default_rng(seed)
    alphabet = [chr(c) for c in range(128)] + list("éİſ—’…ΣßK") + [" "] * 20 + list("abcAB")
    texts: list[str | None] = [
        "".join(rng.choice(alphabet, int(rng.integers(0, 40)))) for _ in range(count)
    ]
    return [*texts, None, "", " ", "  a  ", "A.B", "x", "\x0bA\x0b"]


def _duckdb_normalised(texts: list[str | None]) -> list[str]:
    con = duckdb.connect()
    con.register("t", pa.table({"i": range(len(texts)), "x": pa.array(texts, pa.string())}))
    return [r[0] for r in con.sql(f"SELECT {NORMALISE_SQL} FROM t ORDER BY i").fetchall()]


def test_separators_are_the_ascii_characters_duckdb_normalises_away() -> None:
    con = duckdb.connect()
    found = bytes(
        c
        for c in range(1, 128)
        if con.execute(f"SELECT {_norm('?')}", [f"a{chr(c)}b"]).fetchone() == ("a b",)
    )
    assert found == SEPARATORS


#: Parts of one byte (one text each), of a few texts, and the default (every text at once).
PART_SIZES = [1, 50, text_words.PART_BYTES]


@pytest.mark.parametrize("part_bytes", PART_SIZES)
def test_collapse_is_duckdbs_normalisation(
    part_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text_words, "PART_BYTES", part_bytes)
    texts = _texts(0, 3000)
    got = collapse(duckdb.connect(), pa.array(texts, pa.string())).to_pylist()
    assert [g.strip(" ") for g in got] == _duckdb_normalised(texts)
    assert all("  " not in g and len(g) - len(g.strip(" ")) <= 2 for g in got)


@pytest.mark.parametrize("part_bytes", PART_SIZES)
def test_tiles_are_the_tiles_duckdb_cuts(part_bytes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_words, "PART_BYTES", part_bytes)
    texts = [" ".join(t.split()) for t in _texts(1, 2000) if t] + ["w " * 40, "one two"]
    normalised = _duckdb_normalised(texts)
    for n in (2, 4, 8):
        tiles = tiles_of(collapse(duckdb.connect(), pa.array(texts)), n)
        expected = []
        for i, text in enumerate(normalised):
            words = text.split(" ")
            expected += [
                (i, k, " ".join(words[s : s + n]))
                for k, s in enumerate(range(0, max(len(words) - n + 1, 0), n))
            ]
        assert list(zip(tiles.text, tiles.place, tiles.tile.to_pylist(), strict=True)) == [
            (i, k, t) for i, k, t in expected
        ]
        assert tiles.words.tolist() == [len(t.split(" ")) if t else 0 for t in normalised]
        for tile, a, b in zip(tiles.tile.to_pylist(), tiles.key_a, tiles.key_b, strict=True):
            words = tile.split(" ")
            longest = sorted(range(n), key=lambda j: (-len(words[j].encode()), j))[:2]
            assert [a.as_py(), b.as_py()] == [words[j] for j in sorted(longest)]


def _run(rng: np.random.Generator, samples: int) -> Any:
    """A fake run: reasoning copied (whole, in part, re-cased, re-punctuated) into the inputs
    of two graders, one of them logged twice for some samples, and into some completions."""
    vocab = ["alpha", "Beta", "gamma", "delta", "épée", "ß", "x-ray", "it's", "42", "the", "ſun"]
    reasoning, inputs, completions = [], [], []
    for i in range(samples):
        words = list(rng.choice(vocab, int(rng.integers(0, 40))))
        reasoning.append(" ".join(words) if i % 13 else None)
        cut = ", ".join(words[int(rng.integers(0, 5)) : int(rng.integers(0, len(words) + 1))])
        kind = i % 6
        shuffled = " ".join(rng.permutation(words)) if words else "none"
        inputs.append(["Judge:\n" + cut.upper(), shuffled, "none", cut, "?!", f"  {cut}  "][kind])
        completions.append(cut if i % 7 == 0 else "ok")
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE samples AS SELECT i::BIGINT AS row_idx, (i // 10)::BIGINT AS step, "
        "'s' || i AS sample_id, r AS reasoning, c AS completion, "
        "CASE WHEN i % 5 = 0 THEN 'Prompt: ' || r END AS prompt, NULL::VARCHAR AS reference "
        "FROM (SELECT unnest($r) AS r, unnest($c) AS c, generate_subscripts($r, 1) - 1 AS i)",
        {"r": reasoning, "c": completions},
    )
    con.execute(
        "CREATE TABLE grader_inputs AS SELECT i::BIGINT AS row_idx, 'g' AS component, t AS text "
        "FROM (SELECT unnest(?) AS t, generate_subscripts(?, 1) - 1 AS i)",
        [inputs, inputs],
    )
    con.execute(
        "INSERT INTO grader_inputs SELECT row_idx, 'h', CASE WHEN row_idx % 9 = 0 THEN NULL "
        "ELSE lower(text) END FROM grader_inputs WHERE row_idx < ?",
        [samples // 2],
    ).fetchall()
    con.execute(
        "INSERT INTO grader_inputs SELECT * FROM grader_inputs WHERE row_idx % 50 = 3"
    ).fetchall()
    return SimpleNamespace(con=con)


@pytest.mark.parametrize(
    ("numpy_pick", "part_bytes"), [(True, 1 << 20), (False, 1 << 20), (True, 64)]
)
def test_scan_all_leaks_finds_what_the_previous_query_found(
    numpy_pick: bool, part_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not numpy_pick:  # the choice of examined inputs made inside DuckDB (large runs)
        monkeypatch.setattr(cot_leaks, "PICK_IN_NUMPY_MAX", 0)
    monkeypatch.setattr(text_words, "PART_BYTES", part_bytes)  # texts worked on in parts
    ctx = _run(np.random.default_rng(4), 600)
    for components, n_words, cap in [
        (["g", "h"], 4, 10_000),
        (["g", "h"], 8, 10_000),
        (["h", "g"], 4, 130),
        (["g"], 5, 40),
        (["h", "nothing"], 4, 1_000),
    ]:
        rows = ctx.con.sql(
            PREVIOUS_LEAK_SQL, params={"components": components, "cap": cap, "n": n_words}
        ).fetchall()
        scans = scan_all_leaks(ctx, components, n_words, cap)
        for component in components:
            expected = [
                (s, sid, t, None if x is None else x.strip())
                for c, _, s, sid, t, x in rows
                if c == component
            ]
            scan = scans[component]
            found = list(
                zip(
                    scan.step.tolist(),
                    scan.sample_id,
                    scan.testable.tolist(),
                    scan.shared,
                    strict=True,
                )
            )
            assert found == expected
            assert scan.leaked.tolist() == [x is not None for *_, x in expected]
            logged = ctx.con.execute(
                "SELECT count(*) FROM grader_inputs WHERE component = ? AND text IS NOT NULL",
                [component],
            ).fetchall()
            assert scan.total == logged[0][0]
        assert any(x is not None for *_, x in rows) and any(x is None for *_, x in rows)


@pytest.mark.parametrize("step_range", [(0, 200), (-5, 3), (0, 40_000)])
def test_the_sorts_of_the_pick_are_lexsorts(step_range: tuple[int, int]) -> None:
    """The inputs' order (grader, step, then the hash's order) and the examined inputs' order
    (group, row) are what `np.lexsort` gives, ties (equal keys) included, whichever way the
    sort is made (one combined key, or the fallbacks for wide ranges)."""
    rng = np.random.default_rng(7)
    for size in (0, 1, 50, 5000):
        grader = rng.integers(0, 4, size).astype(np.int32)
        step = rng.integers(*step_range, size)
        row_hash = rng.integers(0, 40, size).astype(np.uint64)  # many equal hashes
        by_hash = np.argsort(row_hash)
        expected = by_hash[np.lexsort((step[by_hash], grader[by_hash]))]
        assert cot_leaks._by_grader_step_hash(grader, step, row_hash).tolist() == expected.tolist()
        group = np.sort(rng.integers(0, size // 3 + 1, size))
        for top in (30, 2**60):
            row = rng.integers(0, 30, size) * (top // 30)
            order = cot_leaks._by_group_row(group, row)
            assert order.tolist() == np.lexsort((row, group)).tolist()


def test_same_answer_codes_are_those_of_the_lexsort() -> None:
    """The (group, completion) codes whichever sort makes them: the radix path for small
    group codes (with -1, no group) and `np.lexsort` for wide ones give what sorting every
    row by (group, hash) with `np.lexsort` and numbering the distinct pairs gives."""
    from rootcause.tools.cot_signals import _by_group_hash

    rng = np.random.default_rng(3)
    for top in (1, 50, 2**16 - 2, 2**16, 2**40):
        groups = np.minimum(rng.integers(0, 20, 3000) * (top // 19), top)
        groups[::7], groups[1] = -1, top  # no group; the widest code
        hashes = rng.integers(0, 6, 3000).astype(np.uint64) * np.uint64(2**61)
        keys = groups.astype(np.int64).view(np.uint64)
        order = _by_group_hash(groups, keys, hashes)
        reference = np.lexsort((hashes, keys))
        assert keys[order].tolist() == keys[reference].tolist()
        assert hashes[order].tolist() == hashes[reference].tolist()
