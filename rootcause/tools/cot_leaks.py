"""The dynamic signal of chain-of-thought exposure: is a sample's reasoning inside the text its
grader was logged to receive? (See `cot_signals` for the definition: tiles of N normalised
reasoning words, found in the normalised grader input but not in the sample's own completion,
prompt or reference, on a stratified sample of at most `cap` inputs per grader.)

How it runs, in four steps, each over the whole run at once:
1. DuckDB picks the examined inputs (an equal share per step, chosen by hash) and hands over
   the reasoning of their samples.
2. The reasoning is normalised and cut into tiles in numpy (`text_words`), with the two
   longest words of each tile.
3. DuckDB screens every (input, tile) pair: an input can hold a tile only if its lower-cased
   text contains both of those words (normalising only turns separator runs into one space,
   so each word of a tile found in the normalised input is in the input merely lower-cased).
   Only the inputs that pass come back, with their text.
4. Those inputs are normalised in numpy and matched exactly (whole words: the tile with a
   space either side). The sample's own texts are screened the same way for each tile found:
   only those that may hold it (both words, lower-cased) are normalised and matched.
The result is what normalising every text in DuckDB and matching every tile gives (a test
runs that reference query beside this one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from rootcause.behaviour.frame import IntArray
from rootcause.tools.context import ToolContext
from rootcause.tools.text_words import collapse, tiles_of

#: Every logged input of the graders, with its step and DuckDB's hash of its row (what the
#: stratified choice of `_pick` orders by).
INPUTS_SQL = """
SELECT g.rowid AS input_id, list_position($components::VARCHAR[], g.component) - 1 AS grader,
       g.row_idx, s.step, hash(g.row_idx) AS row_hash
FROM grader_inputs g JOIN samples s USING (row_idx)
WHERE g.text IS NOT NULL AND g.component IN (SELECT unnest($components::VARCHAR[]))
"""

#: The same without the step (joining the samples was most of its time): `_steps` adds it.
INPUTS_NO_STEP_SQL = """
SELECT g.rowid AS input_id, list_position($components::VARCHAR[], g.component) - 1 AS grader,
       g.row_idx, hash(g.row_idx) AS row_hash
FROM grader_inputs g
WHERE g.text IS NOT NULL AND g.component IN (SELECT unnest($components::VARCHAR[]))
"""

#: The same choice as a window inside DuckDB, for runs with more logged inputs than
#: `PICK_IN_NUMPY_MAX` (DuckDB keeps its memory bounded; numpy would hold every input).
WINDOW_PICK_SQL = f"""
WITH inputs AS ({INPUTS_SQL}), graders AS (
    SELECT grader, count(DISTINCT step) AS steps FROM inputs GROUP BY 1
), picked AS (
    SELECT i.grader, i.row_idx FROM inputs i JOIN graders USING (grader)
    QUALIFY row_number() OVER (PARTITION BY i.grader, i.step ORDER BY i.row_hash)
        <= greatest(1, ceil($cap / greatest(graders.steps, 1)))
)
SELECT input_id, grader, row_idx, step FROM inputs
WHERE (grader, row_idx) IN (SELECT grader, row_idx FROM picked)
ORDER BY grader, step, row_idx
"""

#: Most logged inputs whose choice is made in numpy (about 40 bytes each).
PICK_IN_NUMPY_MAX = 2_000_000

#: The inputs that may hold one of their sample's tiles (both key words in the lower-cased
#: text), with the tile's number among its sample's tiles and the input's text (each input
#: lower-cased once, before the join with its tiles: a quarter less time).
SCREEN_SQL = """
WITH examined AS (
    SELECT p.pair, p.row_idx, g.text, lower(g.text) AS lowered
    FROM {pairs} p JOIN grader_inputs g ON g.rowid = p.input_id
)
SELECT e.pair, e.row_idx, t.place, t.tile, t.key_a, t.key_b, e.text
FROM examined e JOIN {tiles} t ON t.row_idx = e.row_idx
WHERE contains(e.lowered, t.key_a) AND contains(e.lowered, t.key_b)
"""


#: The (input, tile) pairs whose normalised input (in `texts`, once per input) holds the tile
#: as whole words.
FOUND_SQL = """
SELECT s.pair, s.row_idx, s.place, s.tile, s.key_a, s.key_b
FROM {screened} s JOIN {texts} t USING (pair)
WHERE contains(' ' || t.text || ' ', ' ' || s.tile || ' ')
"""

#: The normalising happens in Python: the sample texts are fetched as they are.
OWN_SQL = """
SELECT s.row_idx, s.completion, s.prompt, s.reference
FROM samples s SEMI JOIN {rows} r USING (row_idx)
"""

#: Each found (pair, tile) and whether one of its sample's own texts may hold the tile (both
#: key words in its lower-cased text, as for the inputs): those that may not are not known.
OWN_SCREEN_SQL = """
SELECT f.pair, f.row_idx, f.place, f.tile,
       (contains(lower(coalesce(s.completion, '')), f.key_a)
            AND contains(lower(coalesce(s.completion, '')), f.key_b))
        OR (contains(lower(coalesce(s.prompt, '')), f.key_a)
            AND contains(lower(coalesce(s.prompt, '')), f.key_b))
        OR (contains(lower(coalesce(s.reference, '')), f.key_a)
            AND contains(lower(coalesce(s.reference, '')), f.key_b)) AS maybe_known
FROM {found} f JOIN samples s USING (row_idx)
"""

#: The found (pair, tile)s that none of the sample's own (normalised) texts holds.
UNKNOWN_SQL = """
SELECT f.pair, f.place, f.tile
FROM {found} f JOIN {own} o USING (row_idx)
WHERE NOT (contains(' ' || o.completion || ' ', ' ' || f.tile || ' ')
        OR contains(' ' || o.prompt || ' ', ' ' || f.tile || ' ')
        OR contains(' ' || o.reference || ' ', ' ' || f.tile || ' '))
"""


@dataclass(frozen=True)
class LeakScan:
    """Per examined sample of one grader: step, whether it could be tested, the leaked tile."""

    component: str
    total: int  # samples with a logged input for this grader
    step: IntArray
    testable: np.ndarray
    leaked: np.ndarray
    sample_id: list[str | None]
    shared: list[str | None]

    @property
    def capped(self) -> bool:
        return self.step.shape[0] < self.total


class _Registered:
    """Arrow tables visible to DuckDB by name for the life of a `with` block."""

    def __init__(self, ctx: ToolContext, **tables: pa.Table):
        self.con, self.tables = ctx.con, tables

    def __enter__(self) -> dict[str, str]:
        names = {}
        for key, table in self.tables.items():
            names[key] = f"_rootcause_leak_{key}"
            self.con.register(names[key], table)
        return names

    def __exit__(self, *exc: object) -> None:
        for key in self.tables:
            self.con.unregister(f"_rootcause_leak_{key}")


def _tiles(ctx: ToolContext, rows: IntArray, n_words: int) -> tuple[pa.Table, IntArray, np.ndarray]:
    """The tiles of the reasoning of the samples at `rows` (sorted, distinct), as a table of
    row, place, tile and key words; each of those samples' number of words and sample id."""
    with _Registered(ctx, rows=pa.table({"row_idx": rows})) as names:
        reasoning = ctx.con.sql(
            "SELECT s.row_idx, s.sample_id, s.reasoning FROM samples s "
            f"SEMI JOIN {names['rows']} r USING (row_idx) ORDER BY 1"
        ).to_arrow_table()
    tiles = tiles_of(collapse(ctx.con, reasoning.column("reasoning")), n_words)
    sample_ids = np.asarray(reasoning.column("sample_id").to_numpy(zero_copy_only=False))
    row_of = np.asarray(reasoning.column("row_idx").to_numpy(), dtype=np.int64)
    table = pa.table(
        {
            "row_idx": row_of[tiles.text],
            "place": tiles.place,
            "tile": tiles.tile,
            "key_a": tiles.key_a,
            "key_b": tiles.key_b,
        }
    )
    return table, tiles.words, sample_ids


def _matches(ctx: ToolContext, pairs: pa.Table, tile_table: pa.Table) -> pa.Table:
    """Per pair whose grader input holds one of its sample's tiles that none of the sample's
    own texts holds, the first such tile (in tile order): columns pair and tile."""
    with _Registered(ctx, pairs=pairs, tiles=tile_table) as names:
        screened = ctx.con.sql(SCREEN_SQL.format(**names)).to_arrow_table()
    pair = np.asarray(screened.column("pair").to_numpy())
    _, first = np.unique(pair, return_index=True)  # an input passes with one tile or more
    texts = pa.table(
        {
            "pair": pair[first],
            "text": collapse(ctx.con, screened.column("text").take(pa.array(first))),
        }
    )
    with _Registered(ctx, screened=screened.drop_columns(["text"]), texts=texts) as names:
        found = ctx.con.sql(FOUND_SQL.format(**names)).to_arrow_table()
    if found.num_rows == 0:
        return _first_by_place(found)
    with _Registered(ctx, found=found) as names:
        marked = ctx.con.sql(OWN_SCREEN_SQL.format(**names)).to_arrow_table()
    maybe = np.asarray(marked.column("maybe_known").to_numpy(zero_copy_only=False), dtype=bool)
    unknown = marked.filter(pa.array(~maybe)).select(["pair", "place", "tile"])
    if maybe.any():  # only these need their sample's own texts normalised
        unknown = pa.concat_tables([unknown, _not_own(ctx, marked.filter(pa.array(maybe)))])
    return _first_by_place(unknown)


def _not_own(ctx: ToolContext, found: pa.Table) -> pa.Table:
    """The `found` (pair, tile)s that none of the sample's own normalised texts holds."""
    rows = np.unique(np.asarray(found.column("row_idx").to_numpy()))
    with _Registered(ctx, rows=pa.table({"row_idx": rows})) as names:
        own = ctx.con.sql(OWN_SQL.format(**names)).to_arrow_table()
    for column in ("completion", "prompt", "reference"):
        index = own.column_names.index(column)
        own = own.set_column(index, column, collapse(ctx.con, own.column(column)))
    with _Registered(ctx, found=found.drop_columns(["maybe_known"]), own=own) as names:
        return ctx.con.sql(UNKNOWN_SQL.format(**names)).to_arrow_table()


def _first_by_place(found: pa.Table) -> pa.Table:
    """Per pair of `found`, its tile of the lowest place: columns pair and tile."""
    if found.num_rows == 0:
        return pa.table({"pair": pa.array([], pa.int64()), "tile": pa.array([], pa.string())})
    pair = np.asarray(found.column("pair").to_numpy(), dtype=np.int64)
    order = np.lexsort((np.asarray(found.column("place").to_numpy()), pair))
    first = order[np.concatenate([[True], pair[order][1:] != pair[order][:-1]])]
    return pa.table({"pair": pair[first], "tile": found.column("tile").take(pa.array(first))})


@dataclass(frozen=True)
class _Picked:
    """The examined inputs, ordered by grader, step and row: each one's input (grader_inputs
    rowid), grader (index into the components), sample row and step; and how many inputs
    each grader has logged."""

    input_id: IntArray
    grader: IntArray
    row: IntArray
    step: IntArray
    logged: IntArray


def _steps(ctx: ToolContext, rows: IntArray) -> tuple[IntArray, np.ndarray]:
    """The step of the sample at each of `rows`, and whether there is one (an input of no
    sample is left out, as joining the samples leaves it out)."""
    table = ctx.con.sql("SELECT row_idx, step FROM samples").to_arrow_table()
    at = np.asarray(table.column("row_idx").to_numpy(), dtype=np.int64)
    top = max(int(at.max(initial=-1)), int(rows.max(initial=-1))) + 1
    step = np.zeros(top, dtype=np.int64)
    known = np.zeros(top, dtype=bool)
    step[at], known[at] = np.asarray(table.column("step").to_numpy()), True
    inside = (rows >= 0) & (rows < top)
    sampled = np.zeros(rows.shape[0], dtype=bool)
    sampled[inside] = known[rows[inside]]
    return step[np.where(sampled, rows, 0)], sampled


def _by_grader_step_hash(grader: IntArray, step: IntArray, row_hash: np.ndarray) -> IntArray:
    """The order of the inputs by grader, step, then row hash: by hash, then stable by
    (grader, step) as one 16-bit key when it fits (one radix sort), else stable by step and
    by grader (a radix sort of small integers), twice as fast as `np.lexsort` here. Equal
    hashes are one grader's input logged twice for a sample, or several graders' inputs of one
    sample, which the stable sorts leave apart."""
    by_hash = np.argsort(row_hash)
    low = int(step.min(initial=0))
    spread = int(step.max(initial=0)) - low + 1
    if (int(grader.max(initial=0)) + 1) * spread <= 2**16:  # (grader, step) as one small key
        key = (grader.astype(np.int64) * spread + (step - low)).astype(np.uint16)
        return by_hash[np.argsort(key[by_hash], kind="stable")]
    by_step = by_hash[np.argsort(step[by_hash], kind="stable")]
    small = grader[by_step].astype(np.uint16 if grader.max(initial=0) < 2**16 else np.int64)
    return by_step[np.argsort(small, kind="stable")]


def _by_group_row(group: IntArray, row: IntArray) -> IntArray:
    """The stable order by group number, then row (both non-negative): `np.lexsort((row,
    group))`, as one stable sort of a combined key when that fits (half the time)."""
    span = int(row.max(initial=0)) + 1
    if (int(group.max(initial=0)) + 1) * span >= 2**62:
        return np.lexsort((row, group))
    return np.argsort(group.astype(np.int64) * span + row, kind="stable")


def _count(ctx: ToolContext, sql: str) -> int:
    """The one number `sql` selects."""
    return int(ctx.con.execute(sql).fetchall()[0][0])  # every row fetched: DuckDB 2.0


def _logged(ctx: ToolContext, components: list[str]) -> IntArray:
    """How many inputs (with a text) each of `components` has logged."""
    counts = dict(
        ctx.con.execute(
            "SELECT component, count(*) FROM grader_inputs WHERE text IS NOT NULL "
            "AND component IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1",
            [components],
        ).fetchall()
    )
    return np.array([counts.get(c, 0) for c in components], dtype=np.int64)


def _pick(ctx: ToolContext, components: list[str], cap: int) -> _Picked:
    """Each grader's examined inputs: at most ceil(cap / steps) per step it was logged at
    (at least one), those first by DuckDB's hash of the row, as `row_number() OVER (PARTITION
    BY grader, step ORDER BY hash(row_idx)) <= ...` picks them; in numpy (DuckDB's sort and a
    few passes instead of its window: a third of the time) unless the run has more than
    `PICK_IN_NUMPY_MAX` logged inputs (a run with no more rows of inputs than that counts
    each grader's inputs from those it reads, not by a query of its own). Inputs logged twice
    for one grader and sample (no reader writes that) are both examined or neither, as in the
    SQL."""
    params: dict[str, object] = {"components": components}
    logged = None  # counted from the inputs themselves when they all come to numpy
    if _count(ctx, "SELECT count(*) FROM grader_inputs") > PICK_IN_NUMPY_MAX:
        logged = _logged(ctx, components)
    if logged is not None and logged.sum() > PICK_IN_NUMPY_MAX:
        table = ctx.con.sql(WINDOW_PICK_SQL, params={**params, "cap": cap}).to_arrow_table()
        input_id, grader, row, step = (
            np.asarray(table.column(c).to_numpy()) for c in table.column_names
        )
        return _Picked(input_id, grader, row, step, logged)
    table = ctx.con.sql(INPUTS_NO_STEP_SQL, params=params).to_arrow_table()
    input_id, grader, row, row_hash = (
        np.asarray(table.column(c).to_numpy()) for c in table.column_names
    )
    if logged is None:  # the inputs are those `_logged` counts, one grader index each
        logged = np.bincount(grader, minlength=len(components)).astype(np.int64)
    step, sampled = _steps(ctx, row)
    order = _by_grader_step_hash(grader[sampled], step[sampled], row_hash[sampled])
    input_id, grader, row, step = (a[sampled][order] for a in (input_id, grader, row, step))
    group = np.ones(row.shape[0], dtype=bool)  # the first input of a grader's step
    group[1:] = (grader[1:] != grader[:-1]) | (step[1:] != step[:-1])
    same = group.copy()  # the first of a run of one grader's inputs of one sample
    same[1:] |= row[1:] != row[:-1]
    position = np.arange(row.shape[0])
    rank = position - np.maximum.accumulate(np.where(group, position, 0))
    rank = rank[np.maximum.accumulate(np.where(same, position, 0))]  # a run: its first's rank
    steps = np.bincount(grader[group], minlength=len(components))
    limit = np.maximum(1.0, np.ceil(cap / np.maximum(steps, 1)))
    kept = np.flatnonzero(rank < limit[grader])
    kept = kept[_by_group_row(np.cumsum(group)[kept], row[kept])]
    return _Picked(input_id[kept], grader[kept], row[kept], step[kept], logged)


def scan_all_leaks(
    ctx: ToolContext, components: list[str], n_words: int, cap: int
) -> dict[str, LeakScan]:
    """The tile search for each of `components` on at most `cap` of its samples, stratified
    by step, in one pass over the run (see the module's doc)."""
    picked = _pick(ctx, components, cap)
    pairs = pa.table(
        {
            "pair": np.arange(picked.row.shape[0], dtype=np.int64),
            "input_id": picked.input_id,
            "row_idx": picked.row,
        }
    )
    distinct = np.unique(picked.row)
    tile_table, words, sample_ids = _tiles(ctx, distinct, n_words)
    at = np.searchsorted(distinct, picked.row)
    testable = (words >= n_words)[at]
    shared = np.full(picked.row.shape[0], None, dtype=object)
    leaked = np.zeros(picked.row.shape[0], dtype=bool)
    if tile_table.num_rows:
        found = _matches(ctx, pairs, tile_table)
        where = np.asarray(found.column("pair").to_numpy(), dtype=np.int64)
        shared[where] = found.column("tile").to_numpy(zero_copy_only=False)
        leaked[where] = True
    ids = sample_ids[at]
    out = {}
    for index, component in enumerate(components):
        lo, hi = np.searchsorted(picked.grader, [index, index + 1])
        out[component] = LeakScan(
            component=component,
            total=int(picked.logged[index]),
            step=picked.step[lo:hi],
            testable=testable[lo:hi],
            leaked=leaked[lo:hi],
            sample_id=ids[lo:hi].tolist(),
            shared=shared[lo:hi].tolist(),
        )
    return out
