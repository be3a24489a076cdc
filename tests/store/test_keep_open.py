"""`ingest_run(keep_open=True)`: a reused database comes back open, the store its stored state
was read from (a scan opens each run once, not twice); otherwise nothing is left open."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from rootcause.store.ingest import ingest_run
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace


def test_a_reused_ingest_comes_back_open_when_asked(
    native_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[RunStore] = []
    real_init = RunStore.__init__

    def recording_init(self: RunStore, *args: object, **kwargs: object) -> None:
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]
        opened.append(self)

    monkeypatch.setattr(RunStore, "__init__", recording_init)
    workspace = Workspace(tmp_path / "ws")
    first = ingest_run(native_run, workspace, keep_open=True)
    assert not first.reused and first.store is None  # built now: nothing kept
    again = ingest_run(native_run, workspace, keep_open=True)
    assert again.reused and again.store is not None
    kept = again.store
    with again.open() as store:
        assert store is kept and again.store is None  # handed over once
        assert store.info("run_id") == "nerdy-v3"
        assert store.sample_counts()[0] == store.overview().samples
    del opened[:]
    assert ingest_run(native_run, workspace).store is None  # not asked: closed
    assert opened, "the reuse check reads the stored state from a store"
    for store in opened:
        with pytest.raises(duckdb.ConnectionException):
            store.con.execute("SELECT 1")


def test_a_changed_run_is_read_again_with_keep_open(native_run: Path, tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    ingest_run(native_run, workspace)
    manifest = yaml.safe_load((native_run / "run.yaml").read_text())
    manifest["title"] = "Renamed"
    (native_run / "run.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    result = ingest_run(native_run, workspace, keep_open=True)
    assert not result.reused and result.store is None
    with result.open() as store:
        assert store.info("title") == "Renamed"
