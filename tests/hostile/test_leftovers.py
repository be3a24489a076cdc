"""What a killed or failed ingest leaves is removed on the failure path and at the next start:
DuckDB's spill folders (with or without the writer's pid) and every `NAME.tmp-<pid>` of a dead
process in the workspace (issue 24, item 6)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from rootcause.store import tables
from rootcause.store.ingest import ingest_run
from rootcause.store.tables import TableLoader
from rootcause.store.workspace import Workspace
from tests.conftest import sample_rows, write_jsonl


def _run(base: Path) -> Path:
    run = base / "run"
    write_jsonl(run / "samples" / "a.jsonl.gz", sample_rows(steps=4), gz=True)
    (run / "run.yaml").write_text(yaml.safe_dump({"format": "rootcause-run/1", "run_id": "r"}))
    return run


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".tmp" in p.name)


def test_duckdb_s_default_spill_folder_goes_at_the_next_start_unless_in_use(
    cli: Any, tmp_path: Path
) -> None:
    run = _run(tmp_path)
    assert cli("overview", str(run), "--json").code == 0
    (db,) = (tmp_path / "ws" / "runs").glob("*/run.duckdb")
    spill = db.with_name("run.duckdb.tmp")
    spill.mkdir()
    block = spill / "duckdb_temp_storage-0.tmp"
    block.write_bytes(b"x" * 1000)
    with block.open("rb"):  # a live query spilling there: kept
        assert cli("ingest", str(run), "--force").code == 0
        assert block.exists()
    assert cli("ingest", str(run), "--force").code == 0
    assert not spill.exists() and _temps(db.parent) == []


def test_a_failed_ingest_removes_its_spill_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spills: list[Path] = []

    def spill_then_fail(self: TableLoader, *args: Any, **kwargs: Any) -> bool:
        folder = self.con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
        spills.append(Path(folder))
        Path(folder).mkdir(exist_ok=True)
        (Path(folder) / "duckdb_temp_block-1.block").write_bytes(b"x" * 1000)
        raise ValueError("something nobody foresaw")

    monkeypatch.setattr(tables.TableLoader, "load_json_chunk", spill_then_fail)
    with pytest.raises(Exception, match="something nobody foresaw"):
        ingest_run(_run(tmp_path), Workspace(tmp_path / "ws"))
    assert spills and not spills[0].exists()
    (run_dir,) = (tmp_path / "ws" / "runs").iterdir()
    assert _temps(run_dir) == []


def test_dead_processes_temp_files_anywhere_in_the_workspace_go_at_the_next_start(
    cli: Any, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    pid = _dead_pid()
    job = ws / "investigations" / "20261207-a1b2"
    job.mkdir(parents=True)
    (job / f".report.json.tmp-{pid}").write_bytes(b"")
    (job / f".error.json.tmp-{pid}").write_bytes(b"")
    (job / f".report.md.tmp-{pid}-4242").write_bytes(b"")  # a dead process's thread
    (ws / f".scan.json.tmp-{pid}").write_bytes(b"half")
    other = ws / "runs" / "other-0123456789"
    other.mkdir(parents=True)
    (other / f"run.duckdb.tmp-{pid}").write_bytes(b"half a database")
    (other / f"run.duckdb.tmp-{pid}.tmp").mkdir()
    live = job / f".report.json.tmp-{os.getpid()}"
    live.write_bytes(b"being written")
    assert cli("overview", str(_run(tmp_path)), "--json").code == 0
    assert _temps(ws) == [live.name]
