"""Ingest as a job of the seam: typed events a face subscribes to, `--events` JSON Lines, and a
cancel that leaves the workspace as it was."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from rootcause.core.jobs import CancelToken
from rootcause.store.ingest_job import (
    IngestCancelled,
    IngestCancelledError,
    IngestEvent,
    IngestFinished,
    IngestRequest,
    IngestStarted,
    RowsRead,
    parse_ingest_event,
    start_ingest,
)
from rootcause.store.workspace import Workspace
from tests.conftest import CliResult
from tests.tools.planted import TIC, Planted, write_planted


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ingestjob")
    return write_planted(root / "runs", [Planted("tic", TIC, late_rate=0.3)]).run


def _files(folder: Path) -> dict[str, int]:
    """Every file under `folder` with its size (what a cancelled ingest must not change)."""
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def test_an_ingest_job_tells_its_rows_and_its_result(run_dir: Path, tmp_path: Path) -> None:
    seen: list[IngestEvent] = []
    job = start_ingest(IngestRequest(run_dir, Workspace(tmp_path / "ws")), on_event=seen.append)
    result = job.wait()
    assert isinstance(seen[0], IngestStarted) and seen[0].run == str(run_dir)
    rows = [e.rows for e in seen if isinstance(e, RowsRead)]
    assert rows and rows == sorted(rows)
    finished = seen[-1]
    assert isinstance(finished, IngestFinished) and not finished.reused
    assert finished.database == str(result.db_path)
    with result.open() as store:
        assert store.overview().samples == rows[-1]
    assert [e.seq for e in seen] == list(range(1, len(seen) + 1))
    again = start_ingest(IngestRequest(run_dir, Workspace(tmp_path / "ws"))).wait()
    assert again.reused


def test_a_cancelled_ingest_leaves_the_workspace_as_it_was(run_dir: Path, tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    first = start_ingest(IngestRequest(run_dir, workspace)).wait()
    before = _files(tmp_path / "ws")
    cancel = CancelToken()
    cancel.cancel()
    seen: list[IngestEvent] = []
    forced = IngestRequest(run_dir, workspace, force=True)
    job = start_ingest(forced, on_event=seen.append, cancel=cancel)
    with pytest.raises(IngestCancelledError, match="workspace is unchanged"):
        job.wait()
    assert isinstance(seen[-1], IngestCancelled)
    assert _files(tmp_path / "ws") == before
    with first.open() as store:
        assert store.overview().samples > 0


def test_ingest_events_file_reads_back(
    run_dir: Path, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    events = tmp_path / "out" / "ingest.jsonl"
    done = cli("ingest", str(run_dir), "--events", str(events))
    assert done.code == 0, done.err
    parsed = [parse_ingest_event(line) for line in events.read_text().splitlines()]
    assert parsed[0].type == "ingest_started"
    assert parsed[-1].type == "ingest_finished"
    assert json.loads(events.read_text().splitlines()[-1])["run"] == str(run_dir)


def test_an_events_file_inside_the_run_is_refused(
    run_dir: Path, cli: Callable[..., CliResult]
) -> None:
    done = cli("ingest", str(run_dir), "--events", str(run_dir / "e"))
    assert done.code == 2
    assert "--events" in done.err and not (run_dir / "e").exists()
