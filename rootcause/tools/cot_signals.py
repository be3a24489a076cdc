"""The dynamic and statistical signals of chain-of-thought exposure (see `builtin/cot.py`).

Dynamic: is a sample's reasoning inside the text its grader was logged to receive? Both texts
are normalised (lower case, punctuation and whitespace runs collapsed to one space) and the
reasoning is cut into consecutive, non-overlapping tiles of N words starting at word 0. A
sample counts as leaked when a tile occurs in the grader input but not in the sample's own
completion, prompt or reference (a grader that sees the answer must not be flagged because the
reasoning restates the answer). Any copied span of at least 2N-1 words contains a whole tile,
so it is always found; shorter copies of N..2N-2 words are found when they line up with a
tile. All of it runs inside DuckDB, on a stratified sample of at most `cap` samples per
grader (an equal share per step, chosen by hash), so it scales to millions of rows.

Statistical: within-group partial correlation between a component's score and the reasoning's
length (log characters), controlling for the completion's length (log characters). Group means
are removed first (the same prompt, the same moment of training), then completion length is
regressed out of both. A grader that sees only the answer should show r close to 0; one
that reads the reasoning often rewards its length or verbosity. It is a screening test for
one kind of dependence (length), not for every way the reasoning's content could matter.
Longer reasoning can also buy better answers, which an answer-only grader rightly rewards;
the control for that compares samples of one group with the same completion
(`same_answer_groups`), where the answer cannot explain a difference in score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from rootcause.behaviour.frame import FloatArray, IntArray
from rootcause.tools.context import ToolContext

_NORM = r"'[\s\p{P}\p{S}]+'"


def _norm(expr: str) -> str:
    return f"trim(regexp_replace(lower(coalesce({expr}, '')), {_NORM}, ' ', 'g'))"


#: Every grader's examined samples in one pass. The tiles of each sample's reasoning are cut
#: once (not once per grader), and a grader input is normalised only when it could hold a
#: tile: each word of a tile found in the normalised input is a substring of the input merely
#: lower-cased (normalising only turns separator runs into one space), so an input that does
#: not contain every word of some tile holds none (`maybe`), and the same holds for the
#: sample's own texts (`maybe_known`). Where both say maybe, the texts are normalised and
#: matched exactly as before, so the result is the same as normalising every text.
LEAK_SQL = f"""
WITH graders AS (
    SELECT g.component, count(DISTINCT s.step) AS steps
    FROM grader_inputs g JOIN samples s USING (row_idx)
    WHERE g.text IS NOT NULL AND g.component IN (SELECT unnest($components::VARCHAR[]))
    GROUP BY 1
), picked AS MATERIALIZED (
    SELECT g.component, g.row_idx, s.step
    FROM grader_inputs g JOIN samples s USING (row_idx) JOIN graders USING (component)
    WHERE g.text IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY g.component, s.step ORDER BY hash(g.row_idx))
        <= greatest(1, ceil($cap / greatest(graders.steps, 1)))
), tiled AS MATERIALIZED (
    SELECT row_idx, step, sample_id, len(w) AS nw,
           list_transform(range(0, greatest(len(w) - $n + 1, 0), $n),
                          lambda i: w[i + 1:i + $n]) AS tiles
    FROM (SELECT row_idx, step, sample_id, string_split({_norm("reasoning")}, ' ') AS w
          FROM samples WHERE row_idx IN (SELECT DISTINCT row_idx FROM picked))
), screened AS MATERIALIZED (
    SELECT *, coalesce(list_bool_or(list_transform(tiles, lambda tile: list_bool_and(
               list_transform(tile, lambda w: contains(lowered, w))))), false) AS maybe
    FROM (SELECT g.component, g.row_idx, t.step, t.sample_id, t.nw, t.tiles, g.text,
                 lower(g.text) AS lowered
          FROM grader_inputs g JOIN tiled t USING (row_idx)
          WHERE (g.component, g.row_idx) IN (SELECT component, row_idx FROM picked))
), candidates AS MATERIALIZED (
    SELECT c.* EXCLUDE (lowered), lower(concat_ws(' ', s.completion, s.prompt, s.reference)) AS own,
           ' ' || {_norm("c.text")} || ' ' AS t
    FROM screened c JOIN samples s USING (row_idx) WHERE c.maybe
), own_screened AS MATERIALIZED (
    SELECT *, list_bool_or(list_transform(tiles, lambda tile: list_bool_and(
               list_transform(tile, lambda w: contains(own, w))))) AS maybe_known,
           list_transform(tiles, lambda tile: ' ' || array_to_string(tile, ' ') || ' ')
               AS tile_texts
    FROM candidates
), matched AS (
    SELECT component, row_idx, step, sample_id, nw, tile_texts, t, '' AS known
    FROM own_screened WHERE NOT coalesce(maybe_known, false)
    UNION ALL
    SELECT o.component, o.row_idx, o.step, o.sample_id, o.nw, o.tile_texts, o.t,
           ' ' || {_norm("s.completion")} || ' ¶ ' || {_norm("s.prompt")} || ' ¶ '
               || {_norm("s.reference")} || ' ' AS known
    FROM own_screened o JOIN samples s USING (row_idx) WHERE o.maybe_known
)
SELECT component, row_idx, step, sample_id, nw >= $n AS testable, NULL::VARCHAR AS shared
FROM screened WHERE NOT maybe
UNION ALL
SELECT component, row_idx, step, sample_id, nw >= $n AS testable,
       list_filter(tile_texts, lambda x: contains(t, x) AND NOT contains(known, x))[1] AS shared
FROM matched
ORDER BY component, step, row_idx
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


def scan_leaks(ctx: ToolContext, component: str, n_words: int, cap: int) -> LeakScan:
    """Run the tile search for one grader on at most `cap` samples, stratified by step."""
    return scan_all_leaks(ctx, [component], n_words, cap)[component]


def scan_all_leaks(
    ctx: ToolContext, components: list[str], n_words: int, cap: int
) -> dict[str, LeakScan]:
    """The tile search for each of `components` on at most `cap` of its samples, stratified
    by step, in one query over the run (see `LEAK_SQL`)."""
    totals = dict(
        ctx.con.execute(
            "SELECT component, count(*) FROM grader_inputs WHERE text IS NOT NULL "
            "AND component IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1",
            [components],
        ).fetchall()
    )
    table: pa.Table = ctx.con.sql(
        LEAK_SQL, params={"components": components, "cap": cap, "n": n_words}
    ).to_arrow_table()
    names = np.asarray(table.column("component").to_numpy(zero_copy_only=False), dtype=object)
    steps = np.asarray(table.column("step").to_numpy(), dtype=np.int64)
    testable = np.asarray(table.column("testable").fill_null(False).to_numpy(), dtype=bool)
    sample_ids = table.column("sample_id").to_pylist()
    shared = table.column("shared").to_pylist()
    out = {}
    for component in components:
        rows = np.flatnonzero(names == component)
        lo, hi = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, 0)
        found = shared[lo:hi]
        out[component] = LeakScan(
            component=component,
            total=int(totals.get(component, 0)),
            step=steps[lo:hi],
            testable=testable[lo:hi],
            leaked=np.array([s is not None for s in found], dtype=bool),
            sample_id=sample_ids[lo:hi],
            shared=[None if s is None else s.strip() for s in found],
        )
    return out


def text_lengths(ctx: ToolContext) -> tuple[FloatArray, FloatArray]:
    """Characters of the reasoning (NaN where none) and of the completion, in row_idx order
    (characters, not words: one cheap pass even over millions of long reasonings)."""

    def load() -> tuple[FloatArray, FloatArray]:
        table = ctx.con.sql(
            "SELECT nullif(length(trim(coalesce(reasoning, ''))), 0)::DOUBLE AS rl, "
            "length(completion)::DOUBLE AS cl FROM samples ORDER BY row_idx"
        ).to_arrow_table()
        rl = np.asarray(table.column("rl").fill_null(np.nan).to_numpy(), dtype=np.float64)
        cl = np.asarray(table.column("cl").to_numpy(), dtype=np.float64)
        return rl, cl

    return ctx.memo("cot_text_lengths", load)


def same_answer_groups(ctx: ToolContext, groups: IntArray) -> IntArray:
    """A code per row for (group, completion text): the rows of one prompt group that gave the
    same completion share a code. Among them the answer is held fixed, so a grader that sees
    only the answer scores them alike whatever their reasoning; a dependence of the score on
    the reasoning there is not explained by answer quality or length. -1 where `groups` is."""

    def load() -> IntArray:
        table = ctx.con.sql(
            "SELECT hash(coalesce(completion, '')) AS h FROM samples ORDER BY row_idx"
        ).to_arrow_table()
        return np.asarray(table.column("h").to_numpy(), dtype=np.uint64)

    hashes = ctx.memo("cot_completion_hashes", load)
    keys = groups.astype(np.int64).view(np.uint64)
    order = np.lexsort((hashes, keys))  # the rows sorted by (group, hash), as np.unique does
    new = np.ones(order.shape[0], dtype=bool)
    new[1:] = (keys[order][1:] != keys[order][:-1]) | (hashes[order][1:] != hashes[order][:-1])
    codes = np.empty(order.shape[0], dtype=np.int64)
    codes[order] = np.cumsum(new) - 1
    return np.where(groups >= 0, codes, -1).astype(np.int64)


@dataclass(frozen=True)
class PartialCorrelation:
    r: float
    p_value: float
    n: int
    groups: int


def _demean(values: FloatArray, codes: IntArray, n_groups: int) -> FloatArray:
    sums = np.bincount(codes, weights=values, minlength=n_groups)
    counts = np.bincount(codes, minlength=n_groups)
    return values - (sums / np.maximum(counts, 1))[codes]


def dense_codes(groups: IntArray) -> tuple[IntArray, int]:
    """0..k-1 for the distinct non-negative values of `groups`, in their sorted order (what
    `np.unique(..., return_inverse=True)` gives, without its sort when the values are small
    integers, as group codes are), and k."""
    top = int(groups.max()) + 1
    if top > 4 * groups.shape[0] + 1024:
        _, codes = np.unique(groups, return_inverse=True)
        return codes.reshape(-1), int(codes.max()) + 1
    present = np.zeros(top, dtype=bool)
    present[groups] = True
    rank = np.cumsum(present) - 1
    return rank[groups], int(rank[-1]) + 1


def within_group_partial_r(
    y: FloatArray, x: FloatArray, z: FloatArray, groups: IntArray
) -> PartialCorrelation | None:
    """Partial correlation of y and x given z, after removing group means (see module doc);
    None when fewer than 3 residual degrees of freedom remain."""
    ok = np.isfinite(y) & np.isfinite(x) & np.isfinite(z) & (groups >= 0)
    if not ok.any():
        return None
    codes, k = dense_codes(groups[ok])
    yd, xd, zd = (_demean(v[ok], codes, k) for v in (y, x, z))
    df = int(ok.sum()) - k - 1
    if df < 3:
        return None
    zz = float(zd @ zd)
    if zz > 0:
        yd, xd = yd - (yd @ zd) / zz * zd, xd - (xd @ zd) / zz * zd
    denom = math.sqrt(float(yd @ yd) * float(xd @ xd))
    if denom <= 0:
        return None
    r = max(-1.0, min(1.0, float(yd @ xd) / denom))
    t = r * math.sqrt(df / max(1e-12, 1 - r * r))
    from scipy import stats  # here, not at import: a tool module loads without scipy

    p = float(2 * stats.t.sf(abs(t), df))
    return PartialCorrelation(r=r, p_value=p, n=int(ok.sum()), groups=k)
