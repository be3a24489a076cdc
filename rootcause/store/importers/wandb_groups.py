"""Groups of a W&B table that TRL logged: blocks of `num_generations` consecutive rows.

TRL logs the same frame to W&B as to its Parquet files (`GRPOTrainer.log`): each prompt's
`num_generations` completions in a row, with their advantage. A table without a group id
column whose rows carry a prompt and a non-zero advantage is grouped as the Parquet reader
groups it (`rootcause.store.blocks`): the overlay's `group_size`, else `num_generations` from
the W&B run's `files/config.yaml`, else the size found from the rows; tables whose rows do not
fall in such blocks (and tables of other writers) stay grouped by (step, prompt).
"""

from __future__ import annotations

import numpy as np

from rootcause.store.blocks import detect_blocks
from rootcause.store.source import LoadContext
from rootcause.store.sql import row_windows

_HOW = {
    "given": "the overlay's group_size",
    "advantage": "found from the rows: each block holds one prompt and its advantages sum to 0",
    "prompt": "found from the rows: each block holds one prompt",
}


def group_table_blocks(ctx: LoadContext, configured: list[object] | None) -> list[str]:
    """Give staged rows without a group id the block groups TRL logged them in; the notes."""
    ctx.settle()
    con = ctx.builder.con
    data = con.execute(
        "SELECT source_file AS f, hash(prompt) AS p, advantage AS a FROM samples "
        "WHERE group_id IS NULL ORDER BY row_idx"
    ).fetchnumpy()
    shape = con.execute(
        "SELECT count(*) = count(DISTINCT (source_file, source_row)), "
        "count(*) FILTER (WHERE prompt IS NULL OR advantage IS NULL) "
        "FROM samples WHERE group_id IS NULL"
    ).fetchone()
    if len(data["f"]) == 0 or shape is None or not shape[0] or shape[1]:
        return []  # nothing to group, several samples a row (verl), or no prompt/advantage
    advantages = np.asarray(data["a"], dtype=float)
    if not np.abs(advantages).max(initial=0.0) > 0:
        return []
    order: dict[str, int] = {}
    files = np.array([order.setdefault(str(f), len(order)) for f in data["f"]], dtype=np.int64)
    prompts = np.asarray(data["p"], dtype=np.uint64).view(np.int64)
    logged = int(str(configured[0])) if configured and ctx.overlay.group_size is None else None
    grouping = detect_blocks(files, prompts, advantages, ctx.overlay.group_size or logged)
    if grouping.size is None:
        return []
    shown = {i: name for name, i in order.items()}
    regular = sorted(shown[i] for i in grouping.regular)
    for start, stop in row_windows(con, ctx.builder.first_new, ctx.builder.rows):
        con.execute(
            f"UPDATE samples SET group_id = source_file || '#' || ((source_row - 1) // "
            f"{int(grouping.size)}) WHERE row_idx >= ? AND row_idx < ? AND group_id IS NULL "
            "AND source_file IN (SELECT unnest(?::VARCHAR[]))",
            [start, stop, regular],
        )
    how = (
        f"num_generations={logged} in {configured[1]}"
        if logged is not None and configured
        else _HOW.get(grouping.method, grouping.method)
    )
    if configured is None and ctx.overlay.group_size is None:
        how += (
            "; no num_generations in a files/config.yaml here (an offline W&B run writes none "
            "until `wandb sync`): the overlay's group_size settles it"
        )
    notes = [f"groups: blocks of {grouping.size} consecutive rows per table file ({how})"]
    if grouping.irregular:
        notes.append(
            f"{len(grouping.irregular)} table files are not in blocks of {grouping.size} "
            f"({', '.join(shown[i] for i in grouping.irregular[:3])}): grouped by (step, prompt)"
        )
    return notes
