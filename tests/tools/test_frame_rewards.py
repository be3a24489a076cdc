"""The frame's reward matrix, read one component at a time, is the long rewards table laid out
(row, component): NaN where a component did not score a sample, every logged value in place."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rootcause.behaviour.frame import run_frame
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
