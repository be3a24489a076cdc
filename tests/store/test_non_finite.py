"""Non-finite rewards, totals and advantages: refused at ingest with file, line and field (or
skipped under --skip-bad-lines), NaN read as missing only where the writer means "no value"
(TRL reward columns, W&B tables), and never an unexpected error in a tool downstream."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import sample_rows
from tests.store.helpers import assert_one_line, tree_digest
from tests.store.test_importers import verl_lines, write_table, write_trl_run, write_verl_run

MANIFEST = "format: rootcause-run/1\nrun_id: nf\n"


def _json_run(tmp_path: Path, edit: tuple[str, str, str] | None, gz: bool = False) -> Path:
    """A native run whose third line has `field` set to the JSON token `token`."""
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "run.yaml").write_text(MANIFEST)
    lines = [json.dumps(r) for r in sample_rows()]
    if edit is not None:
        field, component, token = edit
        row = json.loads(lines[2])
        if component:
            row[field][component] = "@"
        else:
            row[field] = "@"
        lines[2] = json.dumps(row).replace('"@"', token)
    data = "".join(line + "\n" for line in lines).encode()
    name = "a.jsonl.gz" if gz else "a.jsonl"
    (run / "samples" / name).write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return run


def _parquet_run(tmp_path: Path, field: str, value: float) -> Path:
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "run.yaml").write_text(MANIFEST)
    rows = sample_rows()
    if field == "rewards":
        rows[2]["rewards"]["nerdy_style"] = value
    else:
        rows[2][field] = value
    for row in rows:
        row.pop("custom_key")
    pq.write_table(pa.Table.from_pylist(rows), run / "samples" / "p.parquet")
    return run


EDITS = [
    ("rewards", "nerdy_style", "Infinity", "'rewards.nerdy_style'", "got Infinity"),
    ("reward_total", "", "NaN", "'reward_total'", "got NaN"),
    ("advantage", "", "-Infinity", "'advantage'", "got -Infinity"),
    ("rewards", "helpfulness_rm", "1e999", "'rewards.helpfulness_rm'", "got Infinity"),
]


@pytest.mark.parametrize("gz", [False, True], ids=["jsonl", "jsonl.gz"])
@pytest.mark.parametrize(("field", "component", "token", "name", "got"), EDITS)
def test_native_json_lines_refuse_non_finite(
    cli: Any, tmp_path: Path, gz: bool, field: str, component: str, token: str, name: str, got: str
) -> None:
    run = _json_run(tmp_path, (field, component, token), gz=gz)
    before = tree_digest(run)
    shown = "samples/a.jsonl.gz:3:" if gz else "samples/a.jsonl:3:"
    assert_one_line(cli("ingest", str(run)), 2, shown, name, got)
    assert tree_digest(run) == before


@pytest.mark.parametrize(
    ("field", "value", "name", "got"),
    [
        ("rewards", math.inf, "'rewards.nerdy_style'", "got Infinity"),
        ("reward_total", math.nan, "'reward_total'", "got NaN"),
        ("advantage", -math.inf, "'advantage'", "got -Infinity"),
    ],
)
def test_native_parquet_refuses_non_finite(
    cli: Any, tmp_path: Path, field: str, value: float, name: str, got: str
) -> None:
    run = _parquet_run(tmp_path, field, value)
    before = tree_digest(run)
    assert_one_line(cli("ingest", str(run)), 2, "samples/p.parquet", "row 3", name, got)
    assert tree_digest(run) == before


def test_tools_downstream_get_a_located_error_not_a_crash(cli: Any, tmp_path: Path) -> None:
    run = _json_run(tmp_path, ("rewards", "nerdy_style", "Infinity"))
    result = cli("tool", "selection_pressure", str(run), "--behavior", "terms:goblin")
    assert_one_line(result, 2, "samples/a.jsonl:3:", "'rewards.nerdy_style'")


@pytest.mark.parametrize("kind", ["jsonl", "parquet"])
def test_skip_bad_lines_skips_non_finite_rows(cli: Any, tmp_path: Path, kind: str) -> None:
    if kind == "jsonl":
        run = _json_run(tmp_path, ("rewards", "nerdy_style", "Infinity"))
        place = "samples/a.jsonl:3"
    else:
        run = _parquet_run(tmp_path, "advantage", math.nan)
        place = "samples/p.parquet:3"
    result = cli("ingest", str(run), "--skip-bad-lines", "--json")
    assert result.code == 0, result.err
    assert (result.json()["samples"], result.json()["skipped_lines"]) == (23, 1)
    assert f"skipped 1 bad lines: {place}" in result.err
    con = duckdb.connect(result.json()["database"], read_only=True)
    try:
        dense = con.execute("SELECT min(row_idx), max(row_idx), count(*) FROM samples").fetchone()
        bad = con.execute("SELECT count(*) FROM rewards WHERE NOT isfinite(value)").fetchone()
        orphans = con.execute(
            "SELECT count(*) FROM rewards WHERE row_idx NOT IN (SELECT row_idx FROM samples)"
        ).fetchone()
    finally:
        con.close()
    assert dense == (0, 22, 23)
    assert bad == (0,) and orphans == (0,)
    pressure = cli("tool", "selection_pressure", str(run), "--behavior", "terms:goblin")
    assert pressure.code == 0, pressure.err


def _trl_with(tmp_path: Path, column: str, value: float) -> Path:
    run = write_trl_run(tmp_path, steps=(5,))
    path = run / "completions" / "completions_00005.parquet"
    table = pq.read_table(path).to_pydict()
    table[column][1] = value
    pq.write_table(pa.table(table), path)
    return run


def test_trl_nan_reward_is_missing_with_a_note(cli: Any, tmp_path: Path) -> None:
    """TRL logs NaN for a sample its reward function returned None for."""
    run = _trl_with(tmp_path, "format_reward", math.nan)
    result = cli("ingest", str(run), "--json")
    assert result.code == 0, result.err
    notes = [n for n in result.json()["notes"] if "NaN" in n]
    assert notes and "1 NaN values read as missing (rewards.format_reward: 1)" in notes[0]
    con = duckdb.connect(result.json()["database"], read_only=True)
    try:
        values = con.execute(
            "SELECT row_idx, value FROM rewards WHERE component = 'format_reward' ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    assert [r for r, _ in values] == [0, 2, 3, 4, 5]
    assert all(math.isfinite(v) for _, v in values)
    overview = cli("overview", str(run))
    assert overview.code == 0 and "read as missing" in overview.out
    pressure = cli("tool", "selection_pressure", str(run), "--behavior", "terms:goblin")
    assert pressure.code == 0, pressure.err


@pytest.mark.parametrize(
    ("column", "value", "name", "got"),
    [
        ("format_reward", math.inf, "'rewards.format_reward'", "got Infinity"),
        ("advantage", math.nan, "'advantage'", "got NaN"),
    ],
)
def test_trl_refuses_infinite_rewards_and_nan_advantage(
    cli: Any, tmp_path: Path, column: str, value: float, name: str, got: str
) -> None:
    run = _trl_with(tmp_path, column, value)
    before = tree_digest(run)
    result = cli("ingest", str(run))
    assert_one_line(result, 2, "completions/completions_00005.parquet", "row 2", name, got)
    assert tree_digest(run) == before


@pytest.mark.parametrize(
    ("key", "value", "name"),
    [("score", math.inf, "'score'"), ("format", -math.inf, "'format'")],
)
def test_verl_refuses_non_finite_score_and_extra_info(
    cli: Any, tmp_path: Path, key: str, value: float, name: str
) -> None:
    run = write_verl_run(tmp_path, steps=(3,))
    lines = verl_lines(3)
    lines[1][key] = value  # json.dumps writes Infinity, as verl's dump does
    (run / "3.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    before = tree_digest(run)
    assert_one_line(cli("ingest", str(run)), 2, "3.jsonl:2:", name, "Infinity")
    assert tree_digest(run) == before


def test_wandb_nan_is_missing_and_infinity_refused(cli: Any, tmp_path: Path) -> None:
    columns = ["step", "prompt", "completion", "reward", "reward/style", "advantage"]
    data = [
        [1, "p", "a goblin", math.nan, 0.5, 0.1],
        [1, "p", "plain", 0.4, math.nan, math.nan],
    ]
    path = write_table(tmp_path / "exports" / "t.table.json", columns, data)
    result = cli("ingest", str(path), "--json")
    assert result.code == 0, result.err
    note = next(n for n in result.json()["notes"] if "NaN" in n)
    assert "3 NaN values read as missing" in note
    assert "advantage: 1" in note and "reward_total: 1" in note and "rewards.style: 1" in note
    con = duckdb.connect(result.json()["database"], read_only=True)
    try:
        rows = con.execute("SELECT reward_total, advantage FROM samples ORDER BY 1").fetchall()
        logged = con.execute("SELECT reward_total_logged FROM samples ORDER BY row_idx").fetchall()
    finally:
        con.close()
    assert all(v is None or math.isfinite(v) for row in rows for v in row)
    assert logged == [(False,), (True,)]  # the NaN total was derived from the components
    data[1][4] = math.inf
    write_table(path, columns, data)
    before = tree_digest(path.parent)
    assert_one_line(cli("ingest", str(path)), 2, "t.table.json:2:", "'rewards.style'", "Infinity")
    assert tree_digest(path.parent) == before
