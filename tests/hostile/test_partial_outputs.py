"""Nothing silently partial: a truncated `.jsonl.gz` is skipped and counted under
`--skip-bad-lines`; outputs never overwrite or mix with what is there (issue 24, item 7)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import sample_rows, write_jsonl


def _run_with_a_truncated_gz(base: Path) -> Path:
    run = base / "run"
    rows = sample_rows(steps=4)
    write_jsonl(run / "samples" / "a.jsonl.gz", rows[:12], gz=True)
    whole = gzip.compress("".join(json.dumps(r) + "\n" for r in rows[12:]).encode())
    (run / "samples" / "b.jsonl.gz").write_bytes(whole[: len(whole) // 2])  # a killed writer
    (run / "run.yaml").write_text(yaml.safe_dump({"format": "rootcause-run/1", "run_id": "r"}))
    return run


def test_a_truncated_gz_is_skipped_and_counted_under_skip_bad_lines(
    cli: Any, tmp_path: Path
) -> None:
    run = _run_with_a_truncated_gz(tmp_path)
    strict = cli("overview", str(run), "--json")
    assert strict.code == 2 and "samples/b.jsonl.gz: not a valid gzip file" in strict.err
    r = cli("overview", str(run), "--json", "--skip-bad-lines")
    assert r.code == 0, r.err
    assert r.json()["samples"] == 12
    assert "skipped 1 bad lines: samples/b.jsonl.gz" in r.err


def _small_run(base: Path) -> Path:
    run = base / "run"
    write_jsonl(run / "samples" / "a.jsonl", sample_rows(steps=4))
    (run / "run.yaml").write_text(yaml.safe_dump({"format": "rootcause-run/1", "run_id": "r"}))
    return run


def test_filter_out_refuses_a_folder_holding_other_files(cli: Any, tmp_path: Path) -> None:
    run, out = _small_run(tmp_path), tmp_path / "sft"
    out.mkdir()
    (out / "samples.parquet").write_bytes(b"someone else's data")
    (out / "notes.txt").write_text("mine")
    r = cli("filter", str(run), "--behavior", "regex:goblin", "--out", str(out), "--format=jsonl")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and "not empty" in r.err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "samples.parquet"]


def test_filter_again_into_its_own_folder_leaves_one_data_file(cli: Any, tmp_path: Path) -> None:
    run, out = _small_run(tmp_path), tmp_path / "sft"
    for fmt in ("parquet", "jsonl"):
        args = ["--behavior", "regex:goblin", "--out", str(out), "--format", fmt]
        r = cli("filter", str(run), *args)
        assert r.code == 0, r.err
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "samples.jsonl"]
    assert json.loads((out / "manifest.json").read_text())["output"] == "samples.jsonl"
