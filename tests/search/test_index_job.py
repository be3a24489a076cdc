"""Building the semantic index as a job of the seam: typed events, a cancel that keeps nothing
half-written, and `rootcause index` with `--events`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rootcause.core.jobs import CancelToken
from rootcause.search.embedders import HashingEmbedder
from rootcause.search.index_job import (
    IndexCancelled,
    IndexCancelledError,
    IndexEvent,
    IndexFinished,
    IndexProgress,
    IndexRequest,
    IndexStarted,
    parse_index_event,
    start_index,
)
from rootcause.store.ingest import ingest_run
from rootcause.store.workspace import Workspace
from tests.conftest import CliResult
from tests.search.runs import make_run, planted_rows

pytest.importorskip("chromadb")


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path / "runs", planted_rows(400))


def test_an_index_job_tells_its_stages_and_reuses_its_cache(run_dir: Path, tmp_path: Path) -> None:
    db = ingest_run(run_dir, Workspace(tmp_path / "ws")).db_path
    seen: list[IndexEvent] = []
    request = IndexRequest(db, cap=200, embedder=HashingEmbedder())
    result = start_index(request, on_event=seen.append).wait()
    assert isinstance(seen[0], IndexStarted) and seen[0].texts == result.texts > 0
    stages = {e.stage for e in seen if isinstance(e, IndexProgress)}
    assert stages == {"embed", "index"}
    assert isinstance(seen[-1], IndexFinished) and seen[-1].embedded == result.texts
    again = start_index(IndexRequest(db, cap=200, embedder=HashingEmbedder())).wait()
    assert again.texts == result.texts and again.embedded == 0


def test_a_cancelled_build_keeps_nothing_half_written(run_dir: Path, tmp_path: Path) -> None:
    db = ingest_run(run_dir, Workspace(tmp_path / "ws")).db_path
    cancel = CancelToken()
    cancel.cancel()
    seen: list[IndexEvent] = []
    job = start_index(
        IndexRequest(db, cap=200, embedder=HashingEmbedder()), on_event=seen.append, cancel=cancel
    )
    with pytest.raises(IndexCancelledError):
        job.wait()
    assert isinstance(seen[-1], IndexCancelled)
    embedder = HashingEmbedder()
    result = start_index(IndexRequest(db, cap=200, embedder=embedder)).wait()
    assert result.embedded == result.texts == embedder.texts_embedded  # all of it, once


def test_rootcause_index_writes_its_events(
    run_dir: Path, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    pytest.importorskip("sentence_transformers")
    events = tmp_path / "index.jsonl"
    done = cli("index", str(run_dir), "--sample", "40", "--events", str(events), "--json")
    assert done.code == 0, done.err
    assert done.json()["texts"] > 0
    parsed = [parse_index_event(line) for line in events.read_text().splitlines()]
    assert parsed[0].type == "index_started" and parsed[-1].type == "index_finished"
    bad = cli("index", str(run_dir), "--field", "answer")
    assert bad.code == 2 and "--field answer" in bad.err
