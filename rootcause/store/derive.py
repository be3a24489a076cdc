"""Fill in what a run's logs lack once its rows are stored: sample ids, group ids and reward
totals, each said in a note.

Ids missing are hashed from (run, file, row), groups from (step, prompt), totals are the
weighted sum of the components with the weights live at the sample's step. Rows change in
place window by window (`row_windows`), so memory stays flat however long the run.
"""

from __future__ import annotations

import duckdb

from rootcause.core.run import DeploymentInfo
from rootcause.store.sql import fetch_one, row_windows


def derive_samples(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    first: int,
    end: int,
    deployments: list[DeploymentInfo],
    weights: dict[str, dict[str, float]],
) -> list[str]:
    """Fill in the ids and totals the rows `first`..`end` of `samples` lack; notes on what
    was derived. `weights` maps a deployment commit to its components' weights."""
    row = fetch_one(
        con,
        "SELECT count(*) FILTER (WHERE group_id IS NULL), "
        "count(*) FILTER (WHERE sample_id IS NULL), "
        "count(*) FILTER (WHERE reward_total IS NULL) FROM samples WHERE row_idx >= ?",
        [first],
    )
    no_group, no_id, no_total = (int(v or 0) for v in row)
    if not (no_group or no_id or no_total):
        return []
    has_weights = _live_weights(con, deployments, weights)
    for start, stop in row_windows(con, first, end):
        if no_id:
            con.execute(
                "UPDATE samples SET sample_id = "
                "substr(md5(? || ':' || source_file || ':' || source_row), 1, 16) "
                "WHERE row_idx >= ? AND row_idx < ? AND sample_id IS NULL",
                [run_id, start, stop],
            )
        if no_group:
            con.execute(
                "UPDATE samples SET group_id = step || ':' || "
                "substr(md5(coalesce(prompt, '')), 1, 12) "
                "WHERE row_idx >= ? AND row_idx < ? AND group_id IS NULL",
                [start, stop],
            )
        if no_total:
            con.execute(_DERIVED_TOTALS, [start, stop, start, stop])
    con.execute("DROP TABLE live_weights")
    return _derived_notes(no_group, no_id, no_total, has_weights)


def _live_weights(
    con: duckdb.DuckDBPyConnection,
    deployments: list[DeploymentInfo],
    weights: dict[str, dict[str, float]],
) -> bool:
    """A temporary `live_weights` (deployment window, component, weight); whether any."""
    con.execute(
        "CREATE TEMP TABLE live_weights (from_step BIGINT, to_step BIGINT, "
        "component VARCHAR, weight DOUBLE)"
    )
    for from_step, to_step, commit in _windows(deployments):
        for component, weight in weights.get(commit, {}).items():
            con.execute(
                "INSERT INTO live_weights VALUES (?, ?, ?, ?)",
                [from_step, to_step, component, weight],
            )
    return int(fetch_one(con, "SELECT count(*) FROM live_weights")[0]) > 0


def _windows(deployments: list[DeploymentInfo]) -> list[tuple[int, int, str]]:
    """(from step, to step, commit) of every deployment window; steps before the first
    deployment (all steps, without deployments) have the commit "" (see `config_weights`)."""
    ordered = sorted(deployments, key=lambda d: d.step)
    out = []
    if not ordered or ordered[0].step > 0:
        out.append((0, ordered[0].step if ordered else 2**62, ""))
    for i, d in enumerate(ordered):
        out.append((d.step, ordered[i + 1].step if i + 1 < len(ordered) else 2**62, d.commit))
    return out


#: Fills in the missing reward totals of the samples in [from, to) of `row_idx` (twice: the
#: samples' window, then the rewards'): the weighted sum of their components with the weights
#: live at their step (`live_weights`; 1.0 for a component without one).
_DERIVED_TOTALS = """
UPDATE samples SET reward_total = d.total FROM (
    SELECT r.row_idx, sum(r.value * coalesce(w.weight, 1.0)) AS total
    FROM rewards r JOIN samples s USING (row_idx)
    LEFT JOIN live_weights w ON r.component = w.component
      AND s.step >= w.from_step AND s.step < w.to_step
    WHERE s.row_idx >= ? AND s.row_idx < ? AND r.row_idx >= ? AND r.row_idx < ?
      AND s.reward_total IS NULL AND r.value IS NOT NULL
    GROUP BY r.row_idx
) d
WHERE samples.row_idx = d.row_idx
"""


def _derived_notes(no_group: int, no_id: int, no_total: int, has_weights: bool) -> list[str]:
    """What `derive_samples` filled in, one note per kind of value."""
    notes: list[str] = []
    if no_group:
        notes.append(f"group_id missing in {no_group} samples: grouped by (step, prompt)")
    if no_id:
        notes.append(f"sample_id missing in {no_id} samples: hashed from (run, file, row)")
    if no_total:
        how = (
            "weighted sum of components with the weights live at its step (1.0 where a "
            "component has none)"
            if has_weights
            else "plain sum of components (no weights known)"
        )
        notes.append(f"reward_total missing in {no_total} samples: derived as the {how}")
    return notes
