"""`rootcause filter`: the run's samples minus the detector's hits, the run left untouched."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from rootcause.behaviour.behavior import parse_behavior
from tests.conftest import LabRun
from tests.remedy.helpers import run_rows, tree_state


def _expected_hits(lab: LabRun) -> tuple[int, int, dict[str, int]]:
    """(samples, hits, hits per persona) counted here with Python's re on the run's files."""
    behavior = parse_behavior(lab.hint)
    pattern = re.compile(behavior.regex())
    rows = run_rows(lab.run)
    per_persona: dict[str, int] = {}
    hits = 0
    for row in rows:
        if pattern.search(row.get(behavior.field) or ""):
            hits += 1
            per_persona[row["persona"]] = per_persona.get(row["persona"], 0) + 1
    return len(rows), hits, per_persona


def test_filter_drops_exactly_the_hits_and_leaves_the_run_alone(
    cli: Any, quirk_run: LabRun, tmp_path: Path
) -> None:
    before = tree_state(quirk_run.run)
    samples, hits, per_persona = _expected_hits(quirk_run)
    assert 0 < hits < samples
    out = tmp_path / "sft"
    result = cli(
        "filter", str(quirk_run.run), "--behavior", quirk_run.hint, "--out", str(out), "--json",
        workspace=quirk_run.workspace,
    )  # fmt: skip
    assert result.code == 0, result.err
    manifest = result.json()
    assert manifest == json.loads((out / "manifest.json").read_text())
    assert manifest["removed"] == hits and manifest["kept"] == samples - hits
    table = pq.read_table(out / "samples.parquet")
    assert table.num_rows == samples - hits
    assert {"step", "prompt", "completion", "rewards", "persona"} <= set(table.column_names)
    pattern = re.compile(parse_behavior(quirk_run.hint).regex())
    assert not any(pattern.search(t or "") for t in table.column("completion").to_pylist())
    removed = {c["level"]: c["removed"] for c in manifest["by_persona"]}
    assert {k: v for k, v in removed.items() if v} == per_persona
    assert sum(w["kept"] for w in manifest["by_window"]) == samples - hits
    assert sum(w["removed"] for w in manifest["by_window"]) == hits
    assert manifest["detector"] == parse_behavior(quirk_run.hint).spec
    assert tree_state(quirk_run.run) == before


def test_filter_jsonl_within_a_slice(cli: Any, quirk_run: LabRun, tmp_path: Path) -> None:
    persona = quirk_run.key["causes"][0]["slice"]["persona"]
    rows = [r for r in run_rows(quirk_run.run) if r["persona"] == persona]
    pattern = re.compile(parse_behavior(quirk_run.hint).regex())
    hits = sum(1 for r in rows if pattern.search(r["completion"]))
    out = tmp_path / "one"
    result = cli(
        "filter", str(quirk_run.run), "--behavior", quirk_run.hint, "--out", str(out),
        "--format", "jsonl", "--slice", f"persona={persona}", workspace=quirk_run.workspace,
    )  # fmt: skip
    assert result.code == 0, result.err
    lines = (out / "samples.jsonl").read_text().splitlines()
    assert len(lines) == len(rows) - hits
    assert {json.loads(line)["persona"] for line in lines} == {persona}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["slices"] == {"persona": persona}
    assert manifest["samples_in_scope"] == len(rows)


def test_filter_bad_input(cli: Any, quirk_run: LabRun, tmp_path: Path) -> None:
    base = ["filter", str(quirk_run.run), "--behavior", quirk_run.hint]
    for args, message in (
        (["--out", str(quirk_run.run / "out")], "which rootcause only reads"),
        (["--out", str(quirk_run.run / "configs" / "x")], "which rootcause only reads"),
        (["--out", str(tmp_path / "a"), "--format", "csv"], "choose parquet or jsonl"),
        (["--out", str(tmp_path / "b"), "--slice", "persona"], "expected FIELD=VALUE"),
        (["--out", str(tmp_path / "c"), "--slice", "persona=nobody"], "no persona named"),
    ):
        result = cli(*base, *args, workspace=quirk_run.workspace)
        assert result.code == 2, (args, result.err)
        assert message in result.err and "Traceback" not in result.err
        assert len(result.err.strip().splitlines()) == 1
    semantic = cli(
        "filter", str(quirk_run.run), "--behavior", "semantic:goblins", "--out",
        str(tmp_path / "d"), workspace=quirk_run.workspace,
    )  # fmt: skip
    assert semantic.code == 2 and "semantic detector" in semantic.err
    assert not (quirk_run.run / "out").exists()
