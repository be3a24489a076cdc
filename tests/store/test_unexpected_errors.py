"""Errors nobody foresaw still come out as one line with their place, exit non-zero, and an
investigation that fails records why in its folder's error.json."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import sample_rows, write_jsonl
from tests.store.helpers import assert_one_line, tree_digest
from tests.store.test_importers import write_verl_run

HUGE = 2**70


def _run(tmp_path: Path, rows: list[Any] | None = None) -> Path:
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "run.yaml").write_text("format: rootcause-run/1\nrun_id: r\n")
    write_jsonl(run / "samples" / "a.jsonl", rows if rows is not None else sample_rows())
    return run


def test_step_beyond_64_bits_in_json_lines(cli: Any, tmp_path: Path) -> None:
    rows = sample_rows()
    rows[1]["step"] = HUGE
    run = _run(tmp_path, rows)
    before = tree_digest(run)
    assert_one_line(cli("ingest", str(run)), 2, "samples/a.jsonl:2:", "'step'", "out of range")
    assert tree_digest(run) == before


def test_step_beyond_64_bits_in_parquet(cli: Any, tmp_path: Path) -> None:
    run = _run(tmp_path)
    (run / "samples" / "a.jsonl").unlink()
    table = pa.table({"step": pa.array([1, 2**64 - 1], pa.uint64()), "completion": ["a", "b"]})
    pq.write_table(table, run / "samples" / "p.parquet")
    assert_one_line(cli("ingest", str(run)), 2, "samples/p.parquet", "row 2", "below 2**63")


def test_huge_numbers_elsewhere_are_located(cli: Any, tmp_path: Path) -> None:
    rows = sample_rows()
    run = _run(tmp_path, rows)
    write_jsonl(run / "metrics.jsonl", [{"step": HUGE, "name": "kl", "value": 0.1}])
    assert_one_line(cli("ingest", str(run)), 2, "metrics.jsonl:1:", "'step'")
    (run / "metrics.jsonl").unlink()
    (run / "run.yaml").write_text(
        f"format: rootcause-run/1\nrun_id: r\ndeployments: [{{step: {HUGE}, commit: abcdef1}}]\n"
    )
    assert_one_line(cli("ingest", str(run)), 2, "run.yaml", "deployments.0.step", "out of range")


def test_non_utf8_sample_file_name(cli: Any, tmp_path: Path) -> None:
    run = _run(tmp_path)
    bad = os.path.join(os.fsencode(run / "samples"), b"caf\xe9.jsonl")
    with open(bad, "wb") as stream:
        stream.write(json.dumps({"step": 0, "completion": "x"}).encode() + b"\n")
    before = tree_digest(run)
    line = assert_one_line(cli("ingest", str(run)), 2, "not valid UTF-8", "rename it")
    assert "samples/caf\\xe9.jsonl" in line
    assert tree_digest(run) == before


def test_non_utf8_suite_file(cli: Any, tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_bytes(b"name: dev\nscenarios:\n  - bug: no_bug  # caf\xe9\n    seeds: [1]\n")
    result = cli("eval", "--suite", str(suite))
    assert_one_line(result, 2, "suite.yaml:3:", "not valid UTF-8")
    assert not (tmp_path / "ws" / "eval-cache").exists()


def test_unforeseen_failure_while_reading_names_file_and_line(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rootcause.store.records import RecordBuffer

    real_add = RecordBuffer.add

    def flaky(self: RecordBuffer, record: Any, source_file: str, source_row: int) -> None:
        if source_row == 3:
            raise ZeroDivisionError("a fault no check foresaw")
        real_add(self, record, source_file, source_row)

    monkeypatch.setattr(RecordBuffer, "add", flaky)
    run = write_verl_run(tmp_path, steps=(1,))
    result = cli("ingest", str(run))
    assert_one_line(result, 1, "1.jsonl:3:", "unexpected ZeroDivisionError", "no check foresaw")


def test_unexpected_error_in_an_investigation_writes_error_json(
    cli: Any, native_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rootcause.investigate.protocol import Protocol

    def broken(self: Protocol, *args: Any, **kwargs: Any) -> None:
        raise ValueError("rewards or weights contain infinities")

    monkeypatch.setattr(Protocol, "run", broken)
    result = cli("investigate", str(native_run), "--symptom", "goblins")
    assert_one_line(result, 1, "unexpected ValueError", "infinities")
    (folder,) = [p for p in (tmp_path / "ws" / "investigations").iterdir() if p.is_dir()]
    error = json.loads((folder / "error.json").read_text())
    assert error["error"] == "ValueError" and "infinities" in error["message"]
    assert "Traceback" in error["traceback"]
