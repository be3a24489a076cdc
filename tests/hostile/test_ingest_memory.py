"""Ingest in bounded memory (issue 24 item 1, issue 27 item 1): rows reach the final tables in
batches of bounded size, written once, with DuckDB's memory capped and its spill folder next to
the temporary database. (Peak memory itself is measured by `tools/bench_ingest.py --scaling`.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from rootcause.store import database, jsonl, parquet_batch, parquet_scan
from rootcause.store.database import INGEST_MEMORY_BYTES, RunDatabaseBuilder
from rootcause.store.ingest import ingest_run
from rootcause.store.records import RecordBuffer
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from tests.conftest import sample_rows, write_jsonl


def test_the_record_buffer_hands_on_batches_bounded_in_rows_and_text() -> None:
    batches: list[pa.Table] = []
    buffer = RecordBuffer(lambda s, r, i: batches.append(s), batch_rows=50, batch_chars=5_000)
    for i in range(300):
        buffer.add({"step": i, "completion": "x" * 400, "prompt": "p"}, "f", i + 1)
    buffer.flush()
    assert sum(b.num_rows for b in batches) == 300
    assert len(batches) > 300 // 50  # the text bound cut batches before the row bound
    for batch in batches:
        assert batch.num_rows <= 50
        chars = sum(len(t) for t in batch.column("completion").to_pylist())
        assert chars <= 5_000 + 401  # the record that crossed the bound is the last one


def _run(base: Path, steps: int) -> Path:
    run = base / "run"
    write_jsonl(run / "samples" / "a.jsonl", sample_rows(steps=steps))
    (run / "run.yaml").write_text(yaml.safe_dump({"format": "rootcause-run/1", "run_id": "r"}))
    return run


def test_rows_move_to_the_final_table_chunk_by_chunk_once_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl, "CHUNK_BYTES", 2_000)  # many small chunks
    moved: list[int] = []
    settings: list[tuple[str, str]] = []
    original = RunDatabaseBuilder.move

    def spy(self: RunDatabaseBuilder) -> None:
        moved.append(self.rows - self.moved)
        settings.append(
            self.con.execute(
                "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
            ).fetchall()[0]
        )
        original(self)

    monkeypatch.setattr(RunDatabaseBuilder, "move", spy)
    rows = sample_rows(steps=40)
    result = ingest_run(_run(tmp_path, 40), Workspace(tmp_path / "ws"))
    shortest = min(len(json.dumps(r)) + 1 for r in rows)
    assert sum(moved) == len(rows) and len([m for m in moved if m]) > 5
    assert max(moved) <= 2_000 // shortest + 1  # never more than one chunk staged
    limit, spill = settings[0]
    assert limit == "61.0 MiB" and INGEST_MEMORY_BYTES == 64_000_000  # DuckDB's way of saying it
    assert Path(spill).parent == result.db_path.parent and spill.endswith(".tmp")
    with RunStore(result.db_path) as store:
        tables = {r[0] for r in store.con.execute("SHOW TABLES").fetchall()}
        count = store.con.execute("SELECT count(*), count(DISTINCT row_idx) FROM samples")
        assert count.fetchall() == [(len(rows), len(rows))]
    assert not any(name.endswith("_staging") for name in tables)


def test_row_groups_are_small_enough_to_go_straight_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are written in row groups of `INGEST_ROW_GROUP_ROWS` (DuckDB's default would
    keep some 300 MB of long samples waiting in memory or the spill folder)."""
    monkeypatch.setattr(database, "INGEST_ROW_GROUP_ROWS", 2_048)  # DuckDB's smallest
    rows = len(sample_rows(steps=1_000))
    result = ingest_run(_run(tmp_path, 1_000), Workspace(tmp_path / "ws"))
    with RunStore(result.db_path) as store:
        groups = store.con.execute(
            "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('samples')"
        ).fetchall()
        count = store.con.execute("SELECT count(*), count(DISTINCT row_idx) FROM samples")
        assert count.fetchall() == [(rows, rows)]
    assert rows > 2 * 2_048 and groups == [(-(-rows // 2_048),)]


def test_the_staging_tables_are_shaped_like_the_final_ones() -> None:
    ddl = database._staging_ddl()
    assert len(ddl) == 3 and all(d.strip().startswith("CREATE TEMP TABLE") for d in ddl)


def _one_row_group_parquet(run: Path, rows: int, chars: int, name: str = "part.parquet") -> int:
    """A native run of one Parquet file (or one more, `name`) written as a single row group
    of random text (which compresses little); returns the row group's compressed size. The
    totals are logged, so deriving them (a join of every row, memory beside the point here)
    does not run under the tests' small caps."""
    rng = np.random.default_rng(len(name))
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz ", dtype="S1")
    text = rng.choice(letters, size=(rows, chars)).view(f"S{chars}").ravel()
    rewards = rng.random(rows)
    table = pa.table(
        {
            "step": np.arange(rows) // 100,
            "completion": pa.array(text.astype(str)),
            "rewards": pa.StructArray.from_arrays([pa.array(rewards)], names=["r"]),
            "reward_total": pa.array(rewards),
        }
    )
    (run / "samples").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, run / "samples" / name, row_group_size=rows)
    (run / "run.yaml").write_text(yaml.safe_dump({"format": "rootcause-run/1", "run_id": "r"}))
    group = pq.ParquetFile(run / "samples" / name).metadata.row_group(0)
    return sum(group.column(i).total_compressed_size for i in range(group.num_columns))


def test_a_parquet_row_group_larger_than_the_cap_still_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB reads a Parquet column chunk whole: a writer's row group past the ingest's cap
    (pandas and pyarrow write up to a million rows in one) gets headroom for that file, and
    the cap is back for what follows."""
    monkeypatch.setattr(database, "INGEST_MEMORY_BYTES", 16_000_000)
    size = _one_row_group_parquet(tmp_path / "run", rows=30_000, chars=1_000)
    assert size > 16_000_000
    caps: list[str] = []
    original = database.RunDatabaseBuilder.move

    def spy(self: database.RunDatabaseBuilder) -> None:
        caps.append(self.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
        original(self)

    monkeypatch.setattr(database.RunDatabaseBuilder, "move", spy)
    result = ingest_run(tmp_path / "run", Workspace(tmp_path / "ws"))
    with RunStore(result.db_path) as store:
        assert store.con.execute("SELECT count(*) FROM samples").fetchall() == [(30_000,)]
    assert caps and set(caps) == {"15.2 MiB"}  # 16,000,000 bytes, restored after the file


def test_a_parquet_file_goes_straight_into_the_final_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Parquet file loads whole or stops the ingest, so its rows skip the staging tables
    (written once); JSON lines before it are moved first, so rows keep their load order."""
    run = tmp_path / "run"
    _one_row_group_parquet(run, rows=3_000, chars=50)
    write_jsonl(run / "samples" / "a.jsonl", sample_rows(steps=2))  # loads before part.parquet
    moved: list[int] = []
    original = RunDatabaseBuilder.move

    def spy(self: RunDatabaseBuilder) -> None:
        moved.append(self.rows - self.moved)
        original(self)

    monkeypatch.setattr(RunDatabaseBuilder, "move", spy)
    result = ingest_run(run, Workspace(tmp_path / "ws"))
    jsonl_rows = len(sample_rows(steps=2))
    assert sum(moved) == jsonl_rows  # only the JSON lines were staged
    with RunStore(result.db_path) as store:
        files = store.con.execute(
            "SELECT source_file, min(row_idx), max(row_idx), count(*) FROM samples "
            "GROUP BY 1 ORDER BY 2"
        ).fetchall()
    assert files == [
        ("samples/a.jsonl", 0, jsonl_rows - 1, jsonl_rows),
        ("samples/part.parquet", jsonl_rows, jsonl_rows + 2_999, 3_000),
    ]


def test_files_read_together_get_headroom_for_a_row_group_per_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Consecutive files of one shape are read as one relation, each DuckDB thread a row group
    at a time: the cap is raised by the batch's largest row group once per thread that can
    read one, plus a database row group being filled by each thread beyond the first (never
    by the batch's size). (Without the second part this batch ran out of
    memory.)"""
    monkeypatch.setattr(database, "INGEST_MEMORY_BYTES", 16_000_000)
    monkeypatch.setattr(parquet_scan, "PARALLEL_WRITE_BYTES", 0)  # the row groups' part alone
    run = tmp_path / "run"
    sizes = [
        _one_row_group_parquet(run, rows=10_000, chars=2_000, name=f"part-{i}.parquet")
        for i in range(3)
    ]
    assert min(sizes) > 16_000_000
    row_bytes = max(
        pq.ParquetFile(p).metadata.row_group(0).total_byte_size / 10_000
        for p in (run / "samples").iterdir()
    )
    extras: list[int] = []
    original = database.RunDatabaseBuilder.memory_headroom

    def spy(self: database.RunDatabaseBuilder, extra_bytes: int) -> Any:
        extras.append(extra_bytes)
        return original(self, extra_bytes)

    monkeypatch.setattr(database.RunDatabaseBuilder, "memory_headroom", spy)
    result = ingest_run(run, Workspace(tmp_path / "ws"))
    with RunStore(result.db_path) as store:
        assert store.con.execute("SELECT count(*) FROM samples").fetchall() == [(30_000,)]
        threads = int(store.con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    busy = min(threads, 3)
    assert len(extras) == 1  # one batch, one headroom
    expected = max(sizes) * busy + (busy - 1) * database.INGEST_ROW_GROUP_ROWS * row_bytes
    assert extras[0] == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize("layout", ["two files of one row group", "one file of two"])
def test_row_groups_for_two_threads_get_the_memory_to_write_on_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    """DuckDB writes row groups on every thread only while they fit in a quarter of its cap:
    Parquet rows that two threads can share (files read together, or one file of several row
    groups) load under at least `PARALLEL_WRITE_BYTES`, a fixed amount; one row group does not
    need it."""
    run = tmp_path / "run"
    if layout == "one file of two":
        _one_row_group_parquet(run, rows=1_000, chars=100)
        table = pq.read_table(run / "samples" / "part.parquet")
        pq.write_table(table, run / "samples" / "part.parquet", row_group_size=500)
    else:
        for i in range(2):
            _one_row_group_parquet(run, rows=1_000, chars=100, name=f"part-{i}.parquet")
    caps: list[str] = []
    original = parquet_batch.TableLoader._load

    def spy(self: parquet_batch.TableLoader, *args: Any, **kwargs: Any) -> int:
        caps.append(self.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
        return int(original(self, *args, **kwargs))

    monkeypatch.setattr(parquet_batch.TableLoader, "_load", spy)
    ingest_run(run, Workspace(tmp_path / "ws"))
    assert parquet_scan.PARALLEL_WRITE_BYTES == 512_000_000
    assert caps == ["488.2 MiB"]  # 512,000,000 bytes, as DuckDB says it
