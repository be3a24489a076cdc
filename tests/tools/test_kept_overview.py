"""The overview tool keeps the run's overview beside its database: the same overview without
counting again while the database is unchanged; counted again after any write to it, or when
the kept file is damaged."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from rootcause.core.run import RunOverview
from rootcause.store.ingest import ingest_run
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from rootcause.tools.builtin.run import OVERVIEW_FILE, kept_overview
from tests.search.runs import make_run, planted_rows


def test_overview_is_kept_until_the_database_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = ingest_run(make_run(tmp_path / "runs", planted_rows(120)), Workspace(tmp_path / "ws"))
    counted: list[int] = []
    count = RunStore.overview

    def counting(store: RunStore) -> RunOverview:
        counted.append(1)
        return count(store)

    monkeypatch.setattr(RunStore, "overview", counting)
    with RunStore(result.db_path) as store:
        first = kept_overview(store)
        assert (result.db_path.parent / OVERVIEW_FILE).exists() and len(counted) == 1
        assert kept_overview(store) == first and len(counted) == 1
    with RunStore(result.db_path) as store:
        assert kept_overview(store) == first and len(counted) == 1  # another process alike
    assert first.samples == 120 and first.metrics == []

    con = duckdb.connect(str(result.db_path))
    con.execute("INSERT INTO metrics VALUES (3, 'loss', 0.5)")
    con.close()
    with RunStore(result.db_path) as store:
        changed = kept_overview(store)
        assert len(counted) == 2 and changed.metrics == ["loss"]
        (result.db_path.parent / OVERVIEW_FILE).write_bytes(b"{not json")
        assert kept_overview(store) == changed and len(counted) == 3
