"""A grown run gets only its new files read and appended (issue 14; `watch` builds on it):
the result is the database a full ingest of the grown run would write, and anything but new
files after the stored ones (a changed, removed or rewritten file) reads the run again.

TRL files are written by `tests/store/trl_writer.py` (follows `GRPOTrainer.log`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from rootcause.store.ingest import IngestResult, append_new_files, ingest_run
from rootcause.store.options import IngestOptions
from rootcause.store.workspace import Workspace
from tests.store.test_trl import _complete, _extra, prompts, writer
from tests.store.trl_writer import TrlWriter

SAMPLE_COLUMNS = (
    "row_idx, sample_id, step, group_id, split, persona, prompt, completion, "
    "reward_total, advantage, source_file, source_row"
)


def _rows(db: Path) -> tuple[list[Any], list[Any]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        samples = con.execute(f"SELECT {SAMPLE_COLUMNS} FROM samples ORDER BY row_idx").fetchall()
        rewards = con.execute("SELECT * FROM rewards ORDER BY row_idx, component").fetchall()
    finally:
        con.close()
    return samples, rewards


def _grow(w: TrlWriter, steps: range, repeat_every: int = 1) -> None:
    for step in steps:
        if (step - 1) % repeat_every == 0:
            w.generate(prompts(step), _complete, _extra)
        w.log(step)


def _full(run: Path, tmp_path: Path, **options: Any) -> IngestResult:
    return ingest_run(run, Workspace(tmp_path / "fresh"), options=IngestOptions(**options))


@pytest.mark.parametrize("repeat_every", [1, 2])
def test_append_matches_a_full_ingest(tmp_path: Path, repeat_every: int) -> None:
    """With repeat_every=2 (num_iterations=2) the first new file repeats the batch of the last
    stored one: it is left out across the boundary as a full ingest leaves it out."""
    w = writer(tmp_path)
    _grow(w, range(1, 6), repeat_every)
    w.save_state(5)
    workspace = Workspace(tmp_path / "ws")
    first = append_new_files(w.output_dir, workspace)
    assert not first.appended and first.added_samples == first.open().overview().samples
    _grow(w, range(6, 9), repeat_every)
    grown = append_new_files(w.output_dir, workspace)
    assert grown.appended and not grown.reused
    assert [p.name for p in grown.new_files] == [
        f"completions_{s:05d}.parquet" for s in range(6, 9)
    ]
    assert any("appended 3 new files" in n for n in grown.notes)
    full = _full(w.output_dir, tmp_path)
    assert not full.appended
    assert _rows(grown.db_path) == _rows(full.db_path)
    with grown.open() as store, full.open() as fresh:
        assert store.overview().samples == fresh.overview().samples == len(_rows(full.db_path)[0])
        assert grown.added_samples == store.overview().samples - first.added_samples
    again = append_new_files(w.output_dir, workspace)
    assert again.reused and not again.new_files and again.added_samples == 0


def test_a_changed_earlier_file_reads_the_run_again(tmp_path: Path) -> None:
    w = writer(tmp_path)
    _grow(w, range(1, 4))
    workspace = Workspace(tmp_path / "ws")
    ingest_run(w.output_dir, workspace)
    w.generate(prompts(9), _complete, _extra)
    w.log(2)  # rewrites an earlier step file
    w.log(4)
    result = append_new_files(w.output_dir, workspace)
    assert not result.appended and not result.reused
    assert _rows(result.db_path) == _rows(_full(w.output_dir, tmp_path).db_path)


def test_a_truncated_new_file_is_skipped_then_read_once_complete(tmp_path: Path) -> None:
    """A live run's newest file is half-written when `watch` looks; once complete, the next
    look reads the run again (the file changed) and finds every sample."""
    w = writer(tmp_path)
    _grow(w, range(1, 3))
    workspace = Workspace(tmp_path / "ws")
    options = IngestOptions(skip_bad_lines=True)
    ingest_run(w.output_dir, workspace, options=options)
    _grow(w, range(3, 4))
    last = w.output_dir / "completions" / "completions_00003.parquet"
    whole = last.read_bytes()
    last.write_bytes(whole[:-200])
    partial = append_new_files(w.output_dir, workspace, options=options)
    assert partial.appended and partial.added_samples == 0
    assert [s.file for s in partial.skipped] == ["completions/completions_00003.parquet"]
    last.write_bytes(whole)
    complete = append_new_files(w.output_dir, workspace, options=options)
    assert not complete.appended and complete.added_samples == 96
    assert complete.skipped == []


def test_overlay_labels_reach_the_appended_rows(tmp_path: Path) -> None:
    w = writer(tmp_path)
    _grow(w, range(1, 3))
    (w.output_dir / "rootcause.yaml").write_text(
        "labels:\n  persona: {from: prompt, regex: '^(\\w+):'}\n", encoding="utf-8"
    )
    workspace = Workspace(tmp_path / "ws")
    ingest_run(w.output_dir, workspace)
    _grow(w, range(3, 5))
    grown = append_new_files(w.output_dir, workspace)
    assert grown.appended
    con = duckdb.connect(str(grown.db_path), read_only=True)
    personas = con.execute(
        "SELECT persona, count(*) FROM samples WHERE step >= 3 GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert personas == [("nerdy", 40), ("plain", 24)]  # prompts 2 and 3 are one nerdy prompt
    assert np.isclose(
        con.execute("SELECT sum(advantage) FROM samples WHERE step >= 3").fetchone()[0],
        0,
        atol=1e-3,
    )


def test_the_cli_says_what_was_appended(cli: Any, tmp_path: Path) -> None:
    w = writer(tmp_path)
    _grow(w, range(1, 3))
    assert cli("ingest", str(w.output_dir)).code == 0
    _grow(w, range(3, 4))
    result = cli("ingest", str(w.output_dir), "--json")
    data = result.json()
    assert (data["appended"], data["added_samples"], data["samples"]) == (True, 32, 96)
    _grow(w, range(4, 5))
    text = cli("ingest", str(w.output_dir))
    assert "appended 32 samples to grpo-out (trl): 128 samples" in text.out
    summaries = [line for line in text.out.splitlines() if line.startswith("note: appended")]
    assert summaries == [
        "note: appended 2 new files (64 samples) in 2 appends since the full ingest; weights, "
        "groups and labels read as decided then"
    ]
    assert sum("groups: blocks of 4" in line for line in text.out.splitlines()) == 1
