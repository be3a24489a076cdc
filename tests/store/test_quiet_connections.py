"""DuckDB never draws its progress bar: it would go to stdout, where our data goes."""

from __future__ import annotations

from pathlib import Path

from rootcause.store.ingest import ingest_run
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from rootcause.tools.sandbox import SqlSandbox


def test_run_store_and_sandbox_have_no_progress_bar(native_run: Path, tmp_path: Path) -> None:
    result = ingest_run(native_run, Workspace(tmp_path / "ws"))
    setting = "SELECT current_setting('enable_progress_bar')"
    with RunStore(result.db_path) as store:
        assert store.con.execute(setting).fetchall() == [(False,)]
    sandbox = SqlSandbox(result.db_path)
    try:
        assert sandbox._con.execute(setting).fetchall() == [(False,)]
    finally:
        sandbox.close()
