"""The frame's reward matrix, read one component at a time, is the long rewards table laid out
(row, component): NaN where a component did not score a sample, every logged value in place."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from rootcause.behaviour.frame import run_frame
from rootcause.store.run_store import RunStore
from rootcause.tools.context import ToolContext
from tests.search.runs import planted_rows, tool_context


def test_reward_matrix_is_the_long_table(tmp_path: Path) -> None:
    rows = planted_rows(300)
    for i, row in enumerate(rows):
        rewards = {"helpful": i / 300, "style": float(i % 7)}
        if i % 3 == 0:
            rewards["format"] = -1.0 - i
        if i % 5 == 0:
            del rewards["style"]
        row["rewards"] = rewards
    with tool_context(tmp_path, rows) as ctx:
        frame = run_frame(ctx)
        assert frame.components == ("format", "helpful", "style")
        long = ctx.con.execute("SELECT row_idx, component, value FROM rewards").fetchall()
        want = np.full((frame.n, 3), np.nan)
        for row_idx, component, value in long:
            want[row_idx, frame.components.index(component)] = value
        np.testing.assert_array_equal(frame.rewards, want)
        assert np.isnan(frame.rewards[:, 0]).sum() == 200
        assert np.isnan(frame.rewards[:, 2]).sum() == 60


def test_frame_is_in_row_order_however_the_rows_are_stored(tmp_path: Path) -> None:
    """Columns come from a plain scan (stored order) and are sorted by row_idx only when that
    order is not row order: a table stored backwards gives the same frame."""
    rows = planted_rows(200)
    for i, row in enumerate(rows):
        row["rewards"] = {"helpful": float(i)}
        row["reward_total"] = float(i) + 0.5
    with tool_context(tmp_path, rows) as ctx:
        db_path = ctx.db_path
        frame = run_frame(ctx)
        stored = (frame.step, frame.slices, frame.group, frame.rewards, frame.reward_total)
        ordered = ctx.con.execute("SELECT step, group_id FROM samples ORDER BY row_idx").fetchall()
    np.testing.assert_array_equal(stored[0], [s for s, _ in ordered])
    np.testing.assert_array_equal(stored[3][:, 0], np.arange(200.0))
    con = duckdb.connect(str(db_path))
    con.execute("CREATE TABLE backwards AS SELECT * FROM samples ORDER BY row_idx DESC")
    con.execute("DELETE FROM samples")
    con.execute("INSERT INTO samples SELECT * FROM backwards")
    con.execute("DROP TABLE backwards")
    assert con.execute("SELECT first(row_idx) FROM samples").fetchone() == (199,)
    con.close()
    with RunStore(db_path) as store:
        again = run_frame(ToolContext(store, tmp_path / "calls", make_plots=False))
        np.testing.assert_array_equal(again.step, stored[0])
        for name, labels in stored[1].items():
            np.testing.assert_array_equal(again.slices[name].codes, labels.codes)
            assert again.slices[name].names == labels.names
        np.testing.assert_array_equal(again.group.codes, stored[2].codes)
        assert again.group.names == stored[2].names
        np.testing.assert_array_equal(again.rewards, stored[3])
        np.testing.assert_array_equal(again.reward_total, stored[4])
