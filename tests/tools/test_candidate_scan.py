"""Candidates measured from one scan (every pattern a column, the match bits cached per
context) give exactly what one SQL aggregate per pattern gave: hits, quarter rates, z, recall
and association groups; and a later `behavior_hits` reuses the cached bits unchanged."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rootcause.behaviour import matching
from rootcause.behaviour.behavior import ngram_spec
from rootcause.behaviour.candidate import (
    Candidate,
    association_groups,
    measure,
    measure_recall,
    sql_of,
)
from rootcause.behaviour.matching import behavior_hits, match_bits
from rootcause.behaviour.run_behaviours import step_quartiles
from rootcause.store.ingest import ingest_run
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from rootcause.tools.builtin.detect import DetectOutput
from rootcause.tools.context import ToolContext
from rootcause.tools.registry import call_tool
from tests.tools.planted import write_two_creatures

SPECS = [
    "terms:goblin",
    "terms:gremlin",
    "terms:goblin,gremlin",
    "terms:gold,gears",
    r"regex:(?i)\bcareful\b",
    "regex:nod at this",
    "terms:photosynthesis",
    "words:>12",
    "terms:zzyzx",  # matches nothing
]


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scan")
    run = write_two_creatures(root / "runs")
    return ingest_run(run.run, Workspace(root / "ws")).db_path


@pytest.fixture
def ctx(db_path: Path) -> Iterator[ToolContext]:
    with RunStore(db_path) as store:
        yield ToolContext(store, db_path.parent / "tool-calls", make_plots=False)


def _reference_measure(ctx: ToolContext, spec: str) -> tuple[int, float, float, float]:
    """The per-pattern algorithm: one GROUP BY over the quarters with `count_if`."""
    low, high = step_quartiles(ctx)
    expr, params = sql_of(ctx, spec)
    rows = ctx.con.execute(
        f"SELECT CASE WHEN step <= {low!r} THEN 0 WHEN step >= {high!r} THEN 1 ELSE 2 END, "
        f"count(*), count_if({expr}) FROM samples GROUP BY 1",
        params,
    ).fetchall()
    table = {int(r[0]): (int(r[1]), int(r[2])) for r in rows}
    (n0, e), (n1, late), (_, mid) = (table.get(w, (0, 0)) for w in (0, 1, 2))
    early_rate = e / n0 if n0 else math.nan
    late_rate = late / n1 if n1 else math.nan
    pooled = (e + late) / max(n0 + n1, 1)
    se = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / max(n0, 1) + 1 / max(n1, 1)))
    z = 0.0 if not (n0 and n1) else (late_rate - early_rate) / se
    return e + late + mid, early_rate, late_rate, z


def _reference_joint(ctx: ToolContext, left: str, right: str) -> tuple[int, int]:
    """Samples matching both, and matching exactly one, by SQL."""
    (a, pa), (b, pb) = sql_of(ctx, left), sql_of(ctx, right)
    row = ctx.con.execute(
        f"SELECT count_if(({a}) AND ({b})), count_if(({a}) != ({b})) FROM samples",
        [*pa, *pb, *pa, *pb],
    ).fetchall()[0]
    return int(row[0]), int(row[1])


def test_one_scan_measures_exactly_what_one_query_per_pattern_did(ctx: ToolContext) -> None:
    candidates = [Candidate(s, "test", "", 2) for s in SPECS]
    measure(ctx, candidates)
    assert candidates[0].hits > 0 and candidates[-1].hits == 0
    for c in candidates:
        hits, early, late, z = _reference_measure(ctx, c.spec)
        assert c.hits == hits, c.spec
        assert (c.early, c.late, c.z) == pytest.approx((early, late, z), nan_ok=True), c.spec
    reference = candidates[2]
    measure_recall(ctx, candidates, reference)
    for c in candidates:
        joint, _ = _reference_joint(ctx, c.spec, reference.spec)
        assert c.recall == joint / reference.hits, c.spec
    assert candidates[0].recall < 1.0 and candidates[2].recall == 1.0


def test_association_groups_match_the_per_pair_queries(ctx: ToolContext) -> None:
    groups = association_groups(ctx, SPECS)
    parent = list(range(len(SPECS)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(SPECS)):
        for j in range(i + 1, len(SPECS)):
            both, apart = _reference_joint(ctx, SPECS[i], SPECS[j])
            if both > apart:
                parent[root(j)] = root(i)
    expected: dict[int, list[int]] = {}
    for i in range(len(SPECS)):
        expected.setdefault(root(i), []).append(i)
    assert sorted(groups) == sorted(expected.values())
    assert any(len(g) > 1 for g in groups)  # the goblin sentences' words go together


def test_cached_bits_serve_later_tools_unchanged(
    ctx: ToolContext, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    match_bits(ctx, SPECS)

    def no_scan(*_: object) -> None:
        raise AssertionError("behavior_hits scanned the texts again")

    with monkeypatch.context() as patched:
        patched.setattr(matching, "behavior_sql", no_scan)
        cached = {s: behavior_hits(ctx, s) for s in SPECS}
    with RunStore(db_path) as store:
        fresh = ToolContext(store, db_path.parent / "tool-calls", make_plots=False)
        for spec in SPECS:
            expr, params = sql_of(fresh, spec)
            table = fresh.con.execute(
                f"SELECT {expr} AS hit FROM samples ORDER BY row_idx", params
            ).fetchnumpy()
            assert np.array_equal(cached[spec], np.asarray(table["hit"], dtype=bool)), spec


def _scanned(ctx: ToolContext, spec: str) -> np.ndarray:
    expr, params = sql_of(ctx, spec)
    table = ctx.con.execute(f"SELECT {expr} AS hit FROM samples ORDER BY row_idx", params)
    return np.asarray(table.fetchnumpy()["hit"], dtype=bool)


@pytest.mark.parametrize(
    "grams",
    [
        ["goblin", "gremlin"],  # terms: one word each
        ["goblin", "careful goblin", "nod at this"],  # a plain word among phrases
        ["gold", "gears 12"],  # a number matches any number
    ],
)
def test_an_n_gram_group_s_bits_are_the_union_of_its_grams(
    ctx: ToolContext, grams: list[str]
) -> None:
    """A group of moving n-grams is one alternation: its bits kept as the union of its grams'
    bits (no scan) are exactly what scanning its own pattern gives."""
    spec = ngram_spec(grams)
    matching.keep_union_bits(ctx, spec, [ngram_spec([g]) for g in grams])
    union = np.unpackbits(match_bits(ctx, [spec])[0], count=len(_scanned(ctx, spec)))
    assert np.array_equal(union.astype(bool), _scanned(ctx, spec))
    assert union.any()


def test_announced_specs_are_scanned_with_the_next_asked_for(
    ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans: list[list[str]] = []
    original = matching._scan_bits

    def spy(c: ToolContext, specs: list[str]) -> list[matching.PackedBits]:
        scans.append(specs)
        return original(c, specs)

    monkeypatch.setattr(matching, "_scan_bits", spy)
    matching.announce_bits(ctx, ["terms:gold,gears", "regex:(unclosed", "semantic:goblins"])
    match_bits(ctx, ["terms:goblin"])
    match_bits(ctx, ["terms:gold,gears", "terms:goblin"])  # both kept: no second scan
    assert scans == [["terms:goblin", "terms:gold,gears"]]  # what cannot be scanned is left


def test_near_misses_of_a_detector_that_already_ignores_case_need_no_scan(
    ctx: ToolContext,
) -> None:
    """A regex detector's looser version ignores case; one that already does is its own looser
    version, so it leaves nothing out. A case-sensitive one shows the texts case hides."""
    loose = call_tool(ctx, "detect", {"behavior": r"regex:(?i)\bgoblin\b"}).output
    assert isinstance(loose, DetectOutput)
    assert loose.near_misses == [] and "already ignores" in loose.near_miss_rule
    strict = call_tool(ctx, "detect", {"behavior": r"regex:\bGoblin\b"}).output
    assert isinstance(strict, DetectOutput) and strict.near_misses
    assert all(re.search(r"\bgoblin\b", e.text, re.I) for e in strict.near_misses)
    assert not any(re.search(r"\bGoblin\b", e.text) for e in strict.near_misses)
