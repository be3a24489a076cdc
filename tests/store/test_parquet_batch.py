"""Consecutive native Parquet files of the same columns load as one relation (issue 27 item 1):
the same tables, notes and skipped rows as loading them one by one, and a bad file among good
ones still named on its own."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rootcause.store import parquet_batch
from rootcause.store.ingest import ingest_run
from rootcause.store.options import IngestOptions
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from tests.conftest import sample_rows, write_jsonl
from tests.store.helpers import assert_one_line

MANIFEST = "format: rootcause-run/1\nrun_id: batch\n"


def _rows(first_step: int, steps: int = 3) -> list[dict[str, Any]]:
    rows = sample_rows(steps=steps)
    for row in rows:
        row["step"] += first_step
        row["sample_id"] = f"{row['sample_id']}-{first_step}"
        row.pop("grader_inputs")  # a Parquet struct of one field; kept for the JSON file
    return rows


def _parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), out)
    return out.getvalue()


def _run(base: Path, files: dict[str, list[dict[str, Any]] | bytes]) -> Path:
    """A native run with these sample files (rows written as Parquet, or the bytes as they
    are; `.jsonl` names as JSON lines)."""
    run = base / "run"
    (run / "samples").mkdir(parents=True)
    (run / "run.yaml").write_text(MANIFEST)
    for name, content in files.items():
        path = run / "samples" / name
        if name.endswith(".jsonl"):
            assert isinstance(content, list)
            write_jsonl(path, content)
        else:
            path.write_bytes(content if isinstance(content, bytes) else _parquet_bytes(content))
    return run


def _tables(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted."""
    with RunStore(db) as store:
        names = [r[0] for r in store.con.execute("SHOW TABLES").fetchall()]
        return {
            name: sorted(store.con.execute(f"SELECT * FROM {name}").fetchall(), key=repr)
            for name in names
        }


def _without_extras(rows: list[dict[str, Any]], *drop: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in drop} for row in rows]


def _mixed_run(base: Path) -> Path:
    """Parquet files in three shapes with a JSON-lines file among them, faulty rows in two
    Parquet files (a negative step, a null completion)."""
    bad_step = _rows(6)
    bad_step[4]["step"] = -1
    null_completion = _rows(9)
    null_completion[7]["completion"] = None
    return _run(
        base,
        {
            "a.parquet": _rows(0),
            "b.parquet": bad_step,
            "c.parquet": null_completion,
            "d.jsonl": _rows(12, steps=1),
            "e.parquet": _without_extras(_rows(15), "custom_key"),
            "f.parquet": _without_extras(_rows(18), "custom_key"),
            "g.parquet": _rows(21),
        },
    )


def test_files_load_together_into_the_same_tables_as_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _mixed_run(tmp_path)
    batches: list[list[str]] = []
    original = parquet_batch._load_batch

    def spy(ctx: Any, batch: list[parquet_batch.ParquetFile], mapping: Any) -> int:
        batches.append([f.shown for f in batch])
        return original(ctx, batch, mapping)

    monkeypatch.setattr(parquet_batch, "_load_batch", spy)
    options = IngestOptions(skip_bad_lines=True)
    together = ingest_run(run, Workspace(tmp_path / "together"), options=options)
    assert batches == [
        ["samples/a.parquet", "samples/b.parquet", "samples/c.parquet"],
        ["samples/e.parquet", "samples/f.parquet"],
    ]  # g.parquet has other columns than f.parquet: loaded alone
    monkeypatch.setattr(parquet_batch, "BATCH_ROWS", 0)  # every file alone, as before
    alone = ingest_run(run, Workspace(tmp_path / "alone"), options=options)
    assert len(batches) == 2
    assert [(s.file, s.line, s.reason) for s in together.skipped] == [
        ("samples/b.parquet", 5, "column 'step' must be a non-negative integer below 2**63"),
        ("samples/c.parquet", 8, "column 'completion' is null"),
    ]
    assert together.skipped == alone.skipped and together.notes == alone.notes
    rows = _tables(together.db_path)
    assert rows == _tables(alone.db_path)
    with RunStore(together.db_path) as store:
        files = store.con.execute(
            "SELECT source_file, min(row_idx), max(row_idx), count(*), max(source_row) "
            "FROM samples GROUP BY 1 ORDER BY 2"
        ).fetchall()
    assert files == [
        ("samples/a.parquet", 0, 17, 18, 18),
        ("samples/b.parquet", 18, 34, 17, 18),  # row 5 left out, positions stay dense
        ("samples/c.parquet", 35, 51, 17, 18),
        ("samples/d.jsonl", 52, 57, 6, 6),
        ("samples/e.parquet", 58, 75, 18, 18),
        ("samples/f.parquet", 76, 93, 18, 18),
        ("samples/g.parquet", 94, 111, 18, 18),
    ]


def test_a_batch_is_cut_at_its_row_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _run(tmp_path, {f"{i}.parquet": _rows(3 * i) for i in range(5)})  # 18 rows each
    monkeypatch.setattr(parquet_batch, "BATCH_ROWS", 40)
    progress: list[int] = []
    result = ingest_run(run, Workspace(tmp_path / "ws"), on_progress=progress.append)
    assert progress == [36, 36, 18]  # a progress step (and a chance to cancel) per batch
    with RunStore(result.db_path) as store:
        rows = store.con.execute(
            "SELECT count(*), count(DISTINCT row_idx), max(row_idx) FROM samples"
        )
        assert rows.fetchall() == [(90, 90, 89)]


def _corrupt_page(rows: list[dict[str, Any]]) -> bytes:
    """A Parquet file whose footer is whole but whose first data page is garbage."""
    data = bytearray(_parquet_bytes(rows))
    for i in range(8, 200):
        data[i] ^= 0x5A
    return bytes(data)


def _truncated(rows: list[dict[str, Any]]) -> bytes:
    data = _parquet_bytes(rows)
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("make", "needle"),
    [(_truncated, "not a readable Parquet file"), (_corrupt_page, "samples/b.parquet")],
)
@pytest.mark.parametrize("skip", [False, True])
def test_a_bad_file_among_good_ones_stops_the_ingest_naming_it(
    cli: Any, tmp_path: Path, make: Any, needle: str, skip: bool
) -> None:
    """As when files loaded one by one: a Parquet file loads whole or stops the ingest (also
    under --skip-bad-lines), in one line naming it; never the batch's or a vague error."""
    run = _run(
        tmp_path,
        {"a.parquet": _rows(0), "b.parquet": make(_rows(3)), "c.parquet": _rows(6)},
    )
    flags = ["--skip-bad-lines"] if skip else []
    line = assert_one_line(cli("ingest", str(run), *flags), 2 if make is _truncated else 1, needle)
    assert line.startswith("error: samples/b.parquet: "), line
    assert "transaction" not in line.lower() and "read together" not in line


def _corrupt_completions(rows: list[dict[str, Any]]) -> bytes:
    """A Parquet file whose footer and other columns are whole but whose completions are
    garbage (a bad disk block)."""
    data = bytearray(_parquet_bytes(rows))
    meta = pq.ParquetFile(io.BytesIO(bytes(data))).metadata.row_group(0)
    chunk = next(
        meta.column(i)
        for i in range(meta.num_columns)
        if meta.column(i).path_in_schema == "completion"
    )
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    end = start + chunk.total_compressed_size
    data[start + 16 : end - 16] = b"A" * (end - start - 32)
    return bytes(data)


def test_a_corrupt_column_is_not_called_a_wrong_type(cli: Any, tmp_path: Path) -> None:
    """Garbage where the completions are is a file that does not read, named as such; 'a
    column has the wrong type' (what a failed load statement used to say of anything) would
    send the user to their schema."""
    run = _run(
        tmp_path,
        {"a.parquet": _rows(0), "b.parquet": _corrupt_completions(_rows(3)), "c.parquet": _rows(6)},
    )
    line = assert_one_line(cli("ingest", str(run)), 2, "samples/b.parquet", "could not be read")
    assert "wrong type" not in line


def test_a_failed_batch_reports_the_first_file_that_fails_alone(cli: Any, tmp_path: Path) -> None:
    """Read together, the rewards of every file are written before any row is checked, so
    c's unreadable reward text fails the batch first; one by one, a's null completion stops
    the ingest before c is read, and that is the error reported."""
    null_completion = _rows(0)
    null_completion[2]["completion"] = None
    as_text = [{**row, "rewards": '{"helpfulness_rm": 1.0}'} for row in null_completion]
    bad_text = [{**row, "rewards": '{"helpfulness_rm": "zz"}'} for row in _rows(6)]
    good = [{**row, "rewards": '{"helpfulness_rm": 0.5}'} for row in _rows(3)]
    run = _run(tmp_path, {"a.parquet": as_text, "b.parquet": good, "c.parquet": bad_text})
    assert_one_line(cli("ingest", str(run)), 2, "samples/a.parquet", "row 3", "is null")
    (run / "samples" / "a.parquet").write_bytes(_parquet_bytes(good))
    line = assert_one_line(cli("ingest", str(run)), 2, "samples/c.parquet", "'rewards'")
    assert "wrong type" in line and "zz" in line


def test_a_null_completion_is_found_in_files_written_without_statistics(
    cli: Any, tmp_path: Path
) -> None:
    """Only a footer that counts no null spares the loader its scan for nulls; a file written
    without statistics is scanned."""
    rows = _rows(3)
    rows[4]["completion"] = None
    run = _run(tmp_path, {"a.parquet": _rows(0)})
    pq.write_table(
        pa.Table.from_pylist(rows), run / "samples" / "b.parquet", write_statistics=False
    )
    assert_one_line(cli("ingest", str(run)), 2, "samples/b.parquet", "row 5", "is null")
