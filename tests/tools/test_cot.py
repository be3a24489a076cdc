"""`cot_exposure`: static config, reasoning found in grader inputs, score dependence."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import numpy as np
import pytest

from rootcause.tools.cot_signals import (
    _norm,
    dense_codes,
    same_answer_groups,
    scan_all_leaks,
    scan_leaks,
    within_group_partial_r,
)
from tests.tools.exposure_run import LEAK_STEP, make_exposure_run

CONTRACT = {"component", "static", "leak_rate", "first_step"}


@pytest.fixture(scope="module")
def exposure(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cot")
    run, _ = make_exposure_run(root)
    return run, root / "ws"


def _cot(cli, exposure, *args: str) -> Any:
    run, ws = exposure
    return cli("tool", "cot_exposure", str(run), *args, workspace=ws)


def test_cot_exposure_contract_and_recovery(cli, exposure) -> None:
    result = _cot(cli, exposure, "--json", "--no-plot")
    assert result.code == 0, result.err
    data = result.json()
    assert {"graders", "trace", "shingle_words", "max_samples", "capped", "method"} <= set(data)
    graders = {g["component"]: g for g in data["graders"]}
    assert set(graders) == {"helpfulness_rm", "nerdy_style"}
    assert all(set(g) >= CONTRACT for g in data["graders"])
    nerdy, helpful = graders["nerdy_style"], graders["helpfulness_rm"]
    assert nerdy["static"] is True and nerdy["static_from_step"] == LEAK_STEP
    assert nerdy["first_step"] == LEAK_STEP
    assert nerdy["leak_rate"] == pytest.approx(12 / 20)  # steps 8..19 of 0..19
    assert nerdy["leak_rate_since_first"] == 1.0
    assert nerdy["example_shared"] and nerdy["example_sample_id"].startswith(f"s-{LEAK_STEP}-")
    # the reasoning restates the answer, which helpfulness_rm sees: not a leak
    assert helpful["static"] is False and helpful["leak_rate"] == 0.0
    assert helpful["first_step"] is None
    dep = nerdy["dependence"]
    assert dep["r_since_first_leak"] > 0.6 and abs(dep["r_before_first_leak"]) < 0.4
    assert abs(helpful["dependence"]["r"]) < 0.3
    points = [p for p in data["trace"] if p["component"] == "nerdy_style"]
    assert all(p["leaked"] == (p["tested"] if p["step"] >= LEAK_STEP else 0) for p in points)
    assert data["capped"] == []


def test_cot_exposure_sample_cap_and_rendering(cli, exposure) -> None:
    result = _cot(cli, exposure, "--max-samples", "100", "--json", "--no-plot")
    data = result.json()
    assert sorted(data["capped"]) == ["helpfulness_rm", "nerdy_style"]
    nerdy = next(g for g in data["graders"] if g["component"] == "nerdy_style")
    assert nerdy["examined"] <= 100 and nerdy["inputs_logged"] == 160
    long = _cot(cli, exposure, "--behavior", "words:>30@reasoning", "--json", "--no-plot").json()
    nerdy = next(g for g in long["graders"] if g["component"] == "nerdy_style")
    assert long["behavior"] == "words:>30@reasoning"
    assert nerdy["behavior_dependence"]["r_since_first_leak"] > 0.4
    text = _cot(cli, exposure, "--component", "nerdy_style").out
    assert "config lists reasoning from step 8" in text
    assert "data not instructions" in text and "helpfulness_rm" not in text
    bad = _cot(cli, exposure, "--component", "nope")
    assert bad.code == 2 and "unknown grader 'nope'" in bad.err


def _fake_ctx(reasoning: list[str], inputs: list[str], completion: str = "ok") -> Any:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE samples AS SELECT i::BIGINT AS row_idx, i::BIGINT AS step, "
        "'s' || i AS sample_id, r AS reasoning, ? AS completion, NULL::VARCHAR AS prompt, "
        "NULL::VARCHAR AS reference FROM (SELECT unnest(?) AS r, "
        "generate_subscripts(?, 1) - 1 AS i)",
        [completion, reasoning, reasoning],
    )
    con.execute(
        "CREATE TABLE grader_inputs AS SELECT i::BIGINT AS row_idx, 'g' AS component, t AS text "
        "FROM (SELECT unnest(?) AS t, generate_subscripts(?, 1) - 1 AS i)",
        [inputs, inputs],
    )
    return SimpleNamespace(con=con)


def test_copies_of_2n_minus_1_words_are_always_found() -> None:
    words = [f"w{i}" for i in range(40)]
    reasoning = " ".join(words)
    # a copy of 15 words (2N-1 for N=8) starting at every offset, with punctuation changes
    inputs = ["Judge: " + ", ".join(words[a : a + 15]).upper() + "!" for a in range(0, 25)]
    scan = scan_leaks(_fake_ctx([reasoning] * 25, inputs), "g", 8, 1000)
    assert scan.leaked.all() and scan.testable.all()
    short = scan_leaks(_fake_ctx([reasoning], [" ".join(words[1:8])]), "g", 8, 1000)
    assert not short.leaked.any()  # 7 words: below the tile size
    tiny = scan_leaks(_fake_ctx(["too short"], ["too short"]), "g", 8, 1000)
    assert not tiny.testable.any() and not tiny.leaked.any()


def test_within_group_partial_correlation() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(200), 5)
    z = rng.normal(size=1000)
    x = rng.normal(size=1000) + 0.5 * z + groups  # group offsets must not matter
    y = 0.8 * (x - groups) + z + rng.normal(size=1000) + 3 * groups
    res = within_group_partial_r(y, x, z, groups)
    assert res is not None and res.r > 0.5 and res.p_value < 1e-10 and res.groups == 200
    null = within_group_partial_r(z + rng.normal(size=1000), x, z, groups)
    assert null is not None and abs(null.r) < 0.1
    assert within_group_partial_r(y[:3], x[:3], z[:3], groups[:3]) is None


def test_dense_codes_are_np_unique_codes() -> None:
    rng = np.random.default_rng(1)
    for values in (rng.integers(0, 50, 500), rng.integers(0, 10**9, 500), np.array([7])):
        codes, k = dense_codes(values)
        _, expected = np.unique(values, return_inverse=True)
        assert codes.tolist() == expected.tolist() and k == len(set(values.tolist()))


def test_same_answer_groups_are_the_unique_pairs_of_group_and_completion() -> None:
    rng = np.random.default_rng(2)
    completions = [f"answer {i}" for i in rng.integers(0, 4, 300)]
    ctx = _fake_ctx(["r"] * 300, ["t"] * 300)
    ctx.con.execute("UPDATE samples SET completion = (?)[row_idx + 1]", [completions])
    ctx.memo = lambda key, compute: compute()
    groups = rng.integers(-1, 30, 300)
    codes = same_answer_groups(ctx, groups)
    hashes = ctx.con.sql("SELECT hash(completion) FROM samples ORDER BY row_idx").fetchnumpy()
    pairs = np.stack([groups.view(np.uint64), next(iter(hashes.values()))], axis=1)
    _, expected = np.unique(pairs, axis=0, return_inverse=True)
    assert codes.tolist() == np.where(groups >= 0, expected.reshape(-1), -1).tolist()


#: The tile search as it was before the screening (every text normalised): the reference.
_REFERENCE_SQL = f"""
WITH picked AS (
    SELECT g.row_idx, g.text
    FROM grader_inputs g JOIN samples s USING (row_idx)
    WHERE g.component = $component AND g.text IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY s.step ORDER BY hash(g.row_idx)) <= $per_step
), normalised AS MATERIALIZED (
    SELECT s.row_idx, s.step, s.sample_id, {_norm("s.reasoning")} AS r,
           ' ' || {_norm("p.text")} || ' ' AS t,
           ' ' || {_norm("s.completion")} || ' ¶ ' || {_norm("s.prompt")} || ' ¶ '
               || {_norm("s.reference")} || ' ' AS known
    FROM picked p JOIN samples s USING (row_idx)
), tiled AS (
    SELECT row_idx, step, sample_id, t, known, len(w) AS nw,
           list_transform(range(0, greatest(len(w) - $n + 1, 0), $n),
                          lambda i: ' ' || array_to_string(w[i + 1:i + $n], ' ') || ' ') AS tiles
    FROM (SELECT *, string_split(r, ' ') AS w FROM normalised)
)
SELECT row_idx, step, sample_id, nw >= $n AS testable,
       list_filter(tiles, lambda x: contains(t, x) AND NOT contains(known, x))[1] AS shared
FROM tiled ORDER BY step, row_idx
"""


def test_screened_tile_search_finds_what_normalising_everything_finds() -> None:
    rng = np.random.default_rng(3)
    vocab = ["alpha", "beta", "Gamma", "delta", "épée", "ß", "x-ray", "it's", "42", "the"]
    reasoning, inputs, completions = [], [], []
    for i in range(400):
        words = list(rng.choice(vocab, int(rng.integers(0, 30))))
        reasoning.append(" ".join(words) if i % 17 else "")
        kind = i % 5
        copied = ", ".join(words[: int(rng.integers(0, len(words) + 1))]).upper()
        scattered = " ".join(rng.permutation(words)) if words else "none"
        inputs.append(["Judge: " + copied, scattered, "no reasoning here", copied, "?!"][kind])
        completions.append(copied if i % 7 == 0 else "ok")
    ctx = _fake_ctx(reasoning, inputs)
    ctx.con.execute("UPDATE samples SET completion = (?)[row_idx + 1]", [completions])
    ctx.con.execute("UPDATE samples SET step = row_idx // 10")
    # a second grader logged on the first 15 steps only: its own share per step
    ctx.con.execute(
        "INSERT INTO grader_inputs SELECT row_idx, 'h', lower(text) FROM grader_inputs "
        "WHERE row_idx < 150"
    )
    cases = [("g", 4, 3, 120), ("g", 4, 10, 1000), ("g", 8, 10, 1000), ("h", 4, 8, 120)]
    for component, n_words, per_step, cap in cases:
        expected = ctx.con.sql(
            _REFERENCE_SQL, params={"component": component, "per_step": per_step, "n": n_words}
        ).fetchall()
        scan = scan_all_leaks(ctx, ["g", "h"], n_words, cap)[component]
        found = [
            (int(s), sid, bool(t), None if x is None else f" {x} ")
            for s, sid, t, x in zip(
                scan.step, scan.sample_id, scan.testable, scan.shared, strict=True
            )
        ]
        assert found == [(s, sid, t, x) for _, s, sid, t, x in expected]
        assert any(x is not None for *_, x in found) and any(x is None for *_, x in found)
