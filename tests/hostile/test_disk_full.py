"""A full disk is one line naming the folder (and `--resume ID` where there is a job); what a
failed or killed process leaves is removed then or at the next start (issue 24, item 6)."""

from __future__ import annotations

import errno
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from rootcause.core.disk import DiskFullError, is_disk_full
from rootcause.core.errors import RootcauseError
from rootcause.investigate import job
from rootcause.investigate.report import write_atomic
from rootcause.scan.folder import RUNS, ScanFolder
from rootcause.scan.model import RunResult
from rootcause.store import tables
from tests.conftest import sample_rows, write_jsonl


def _run(base: Path) -> Path:
    run = base / "run"
    write_jsonl(run / "samples" / "a.jsonl.gz", sample_rows(steps=4), gz=True)
    (run / "run.yaml").write_text(yaml.safe_dump({"format": "rootcause-run/1", "run_id": "r"}))
    return run


def _full(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def _duckdb_full(*args: Any, **kwargs: Any) -> None:
    raise duckdb.IOException('Could not write file "run.duckdb.tmp-1": No space left on device')


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".tmp" in p.name)


def test_disk_full_while_ingesting_names_the_folder_and_leaves_nothing(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckDB reports a full disk in its own words, while a sample file is being read.
    monkeypatch.setattr(tables.TableLoader, "load_json_chunk", _duckdb_full)
    r = cli("overview", str(_run(tmp_path)), "--json")
    lines = r.err.strip().splitlines()
    assert r.code == 1 and len(lines) == 1, r.err
    assert "disk full" in lines[0] and str(tmp_path / "ws" / "runs") in lines[0]
    assert "samples/a.jsonl.gz" not in lines[0] and "unexpected" not in lines[0]
    assert _temps(tmp_path / "ws") == []


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_killed_ingest_s_spill_folder_is_removed_at_the_next_start(
    cli: Any, tmp_path: Path
) -> None:
    run = _run(tmp_path)
    assert cli("overview", str(run), "--json").code == 0
    (db,) = (tmp_path / "ws" / "runs").glob("*/run.duckdb")
    pid = _dead_pid()
    spill = db.with_name(f"run.duckdb.tmp-{pid}.tmp")
    spill.mkdir()
    (spill / "duckdb_temp_block-1.block").write_bytes(b"x" * 1000)
    db.with_name(f"run.duckdb.tmp-{pid}").write_bytes(b"half a database")
    assert cli("ingest", str(run), "--force").code == 0
    assert _temps(db.parent) == []


def _checkpoint_full(*args: Any, **kwargs: Any) -> None:
    raise sqlite3.OperationalError("database or disk is full")  # SQLite's words, no errno


def test_disk_full_mid_investigation_says_how_to_resume(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job.Protocol, "run", _checkpoint_full)  # the checkpoint write fails
    r = cli("investigate", str(_run(tmp_path)), "--symptom", "completions mention goblins")
    lines = r.err.strip().splitlines()
    assert r.code == 1 and "disk full" in lines[-1] and "--resume " in lines[-1], r.err
    (folder,) = (tmp_path / "ws" / "investigations").iterdir()
    assert f"--resume {folder.name}" in lines[-1] and str(folder) in lines[-1]
    assert json.loads((folder / "error.json").read_text())["error"] == "DiskFullError"


def test_a_report_write_that_fails_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_written(self: Path, *args: Any, **kwargs: Any) -> None:
        with self.open("w") as out:
            out.write("{")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_written)
    with pytest.raises(RootcauseError) as info:
        write_atomic(tmp_path / "report.json", "{}")
    assert is_disk_full(info.value) and sorted(tmp_path.iterdir()) == []


def test_a_scan_that_runs_out_of_disk_says_how_to_resume_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "scan" / RUNS
    runs.mkdir(parents=True)
    leftover = runs / f".r.json.tmp-{_dead_pid()}"
    leftover.write_text("{")
    folder = ScanFolder(tmp_path / "scan").lock()
    try:
        assert not leftover.exists()  # a killed scan's temporary file, gone at the next start
        monkeypatch.setattr(Path, "write_bytes", _full)
        result = RunResult(run=str(tmp_path / "r"), status="ok", versions="v", options_key="k")
        with pytest.raises(DiskFullError) as info:
            folder.write_result(result)
    finally:
        folder.unlock()
    assert f"--resume {tmp_path / 'scan'}" in str(info.value) and str(runs) in str(info.value)
    assert _temps(tmp_path / "scan") == []
