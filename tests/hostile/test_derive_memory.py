"""What an ingest fills in after loading (missing ids, groups and totals; the overlay's labels,
groups and reasoning) changes the stored rows in place, window by window, in the ingest's
bounded memory. One UPDATE of every row held all its changes in memory until commit: a
million samples logged without ids or totals, a common shape (TRL's completion files log
neither), failed to ingest with DuckDB out of memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from rootcause.core.errors import ReadError
from rootcause.store import database, sql
from rootcause.store.ingest import ingest_run
from rootcause.store.options import IngestOptions
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace

#: Rows of the run, and the memory cap the tests ingest it under (half the real one,
#: so that a run of 400,000 samples shows what a million did at the real one).
ROWS = 400_000
CAP_BYTES = 32_000_000
#: Windows small enough for that cap.
WINDOW_ROWS = 32_768


@pytest.fixture(scope="module")
def unlabelled_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A native Parquet run of `ROWS` samples with three reward components and no sample id,
    group id or total; completions carry `<think>` reasoning and a persona name."""
    run = tmp_path_factory.mktemp("derive") / "run"
    (run / "samples").mkdir(parents=True)
    (run / "run.yaml").write_text(yaml.safe_dump({"format": "rootcause-run/1", "run_id": "r"}))
    index = np.arange(ROWS)
    rewards = np.random.default_rng(0).random((ROWS, 3))
    persona = np.array(["ada", "bo", "cy"])[index % 3]
    table = pa.table(
        {
            "step": index // 1_000,
            "prompt": pa.array([f"prompt {i // 8}" for i in index]),
            "completion": pa.array(
                [
                    f"<think>plan {i}</think>{p} answers {i}"
                    for i, p in zip(index, persona, strict=True)
                ]
            ),
            "rewards": pa.StructArray.from_arrays(
                [pa.array(rewards[:, k]) for k in range(3)], names=["a", "b", "c"]
            ),
        }
    )
    pq.write_table(table, run / "samples" / "part.parquet", row_group_size=100_000)
    return run


@pytest.fixture
def capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "INGEST_MEMORY_BYTES", CAP_BYTES)
    monkeypatch.setattr(sql, "UPDATE_WINDOW_ROWS", WINDOW_ROWS)


@pytest.mark.usefixtures("capped")
def test_ids_groups_and_totals_are_derived_under_the_cap(
    unlabelled_run: Path, tmp_path: Path
) -> None:
    result = ingest_run(unlabelled_run, Workspace(tmp_path / "ws"))
    assert any(n.startswith(f"sample_id missing in {ROWS} samples") for n in result.notes)
    assert any(n.startswith(f"reward_total missing in {ROWS} samples") for n in result.notes)
    with RunStore(result.db_path) as store:
        counts = store.con.execute(
            "SELECT count(*), count(DISTINCT sample_id), count(DISTINCT group_id), "
            "count(reward_total), bool_and(NOT reward_total_logged) FROM samples"
        ).fetchall()
        wrong_totals = store.con.execute(
            "SELECT count(*) FROM samples s JOIN (SELECT row_idx, sum(value) AS total "
            "FROM rewards GROUP BY 1) r USING (row_idx) WHERE abs(s.reward_total - r.total) "
            "> 1e-9"
        ).fetchall()
    assert counts == [(ROWS, ROWS, ROWS // 8, ROWS, True)]
    assert wrong_totals == [(0,)]


@pytest.mark.usefixtures("capped")
def test_the_overlay_changes_every_row_under_the_cap(unlabelled_run: Path, tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(
        yaml.safe_dump(
            {
                "group_size": 4,
                "reasoning": "think_tags",
                "labels": {"persona": {"from": "completion", "regex": r"(\w+) answers"}},
            }
        )
    )
    options = IngestOptions(overlay_file=str(overlay))
    result = ingest_run(unlabelled_run, Workspace(tmp_path / "ws"), options=options)
    with RunStore(result.db_path) as store:
        rows = store.con.execute(
            "SELECT count(DISTINCT group_id), count(reasoning), count(DISTINCT persona), "
            "min(completion) FROM samples"
        ).fetchall()
    assert rows == [(ROWS // 4, ROWS, 3, "ada answers 0")]


@pytest.fixture(scope="module")
def trl_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of TRL step files (one per logging step, groups of 8 consecutive rows with
    one prompt, three reward functions and the advantage TRL computes from their weighted sum),
    `ROWS` samples in all."""
    run = tmp_path_factory.mktemp("trl") / "grpo-out"
    (run / "completions").mkdir(parents=True)
    rng = np.random.default_rng(1)
    files, rows = 50, ROWS // 50
    for step in range(1, files + 1):
        rewards = rng.random((rows, 3))
        groups = (rewards @ np.array([1.0, 1.0, 0.3])).reshape(-1, 8)
        advantages = (groups - groups.mean(1, keepdims=True)) / groups.std(1, keepdims=True)
        table = pa.table(
            {
                "step": np.full(rows, step),
                "prompt": pa.array([f"question {step}-{i // 8}" for i in range(rows)]),
                "completion": pa.array([f"answer {step}-{i}" for i in range(rows)]),
                **{name: rewards[:, k] for k, name in enumerate(("accuracy", "format", "style"))},
                "advantage": advantages.ravel(),
            }
        )
        pq.write_table(table, run / "completions" / f"completions_{step:05d}.parquet")
    return run


@pytest.mark.usefixtures("capped")
def test_trl_groups_and_fitted_weights_under_the_cap(trl_folder: Path, tmp_path: Path) -> None:
    """TRL's group ids (blocks of rows) and the weights fitted from its advantages were each
    a statement over every row at once (an UPDATE, a window over every group key)."""
    result = ingest_run(trl_folder, Workspace(tmp_path / "ws"))
    assert any("fitted from the logged advantage" in n for n in result.notes)
    with RunStore(result.db_path) as store:
        rows = store.con.execute(
            "SELECT count(*), count(DISTINCT group_id), count(reward_total) FROM samples"
        ).fetchall()
        weights = store.con.execute(
            "SELECT component, round(weight, 3) FROM config_weights ORDER BY 1"
        ).fetchall()
    assert rows == [(ROWS, ROWS // 8, ROWS)]
    assert weights == [("accuracy", 1.0), ("format", 1.0), ("style", 0.3)]


def test_running_out_of_the_cap_is_said_as_such(
    trl_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Out of memory under the ingest's own cap is rootcause's fault, not a file's: it is not
    reported as step files that 'cannot be read together' (nor one of them as unreadable)."""
    monkeypatch.setattr(database, "INGEST_MEMORY_BYTES", 3_000_000)
    with pytest.raises(ReadError) as raised:
        ingest_run(trl_folder, Workspace(tmp_path / "ws"))
    assert "ran out of the ingest's memory cap" in str(raised.value)
    assert "read together" not in str(raised.value) and raised.value.exit_code == 1
