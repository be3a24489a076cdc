"""The dynamic and statistical signals of chain-of-thought exposure (see `builtin/cot.py`).

Dynamic: is a sample's reasoning inside the text its grader was logged to receive? Both texts
are normalised (lower case, punctuation and whitespace runs collapsed to one space) and the
reasoning is cut into consecutive, non-overlapping tiles of N words starting at word 0. A
sample counts as leaked when a tile occurs in the grader input but not in the sample's own
completion, prompt or reference (a grader that sees the answer must not be flagged because the
reasoning restates the answer). Any copied span of at least 2N-1 words contains a whole tile,
so it is always found; shorter copies of N..2N-2 words are found when they line up with a
tile. It runs on a stratified sample of at most `cap` samples per grader (an equal share per
step, chosen by hash), DuckDB screening and numpy normalising (`cot_leaks`, `text_words`), so
it scales to millions of rows.

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

from rootcause.analysis.distributions import t_sf
from rootcause.behaviour.frame import FloatArray, IntArray, in_row_order
from rootcause.tools.context import ToolContext
from rootcause.tools.cot_leaks import LeakScan, scan_all_leaks

_NORM = r"'[\s\p{P}\p{S}]+'"


def _norm(expr: str) -> str:
    return f"trim(regexp_replace(lower(coalesce({expr}, '')), {_NORM}, ' ', 'g'))"


def scan_leaks(ctx: ToolContext, component: str, n_words: int, cap: int) -> LeakScan:
    """Run the tile search for one grader on at most `cap` samples, stratified by step."""
    return scan_all_leaks(ctx, [component], n_words, cap)[component]


#: The sample columns the statistical signal reads, computed in one scan of the samples.
TEXT_COLUMNS = (
    "nullif(length(trim(coalesce(reasoning, ''))), 0)::DOUBLE AS rl, "
    "length(completion)::DOUBLE AS cl, hash(coalesce(completion, '')) AS h"
)


def _text_columns(ctx: ToolContext) -> tuple[FloatArray, FloatArray, np.ndarray]:
    """Characters of the reasoning (NaN where none) and of the completion, and DuckDB's hash
    of the completion, in row_idx order: one scan of the samples (the completion is read
    once, and a plain scan is already in row order, so no sort; see `in_row_order`)."""

    def load() -> tuple[FloatArray, FloatArray, np.ndarray]:
        table = in_row_order(ctx, TEXT_COLUMNS)
        rl = np.asarray(table.column("rl").fill_null(np.nan).to_numpy(), dtype=np.float64)
        cl = np.asarray(table.column("cl").to_numpy(), dtype=np.float64)
        return rl, cl, np.asarray(table.column("h").to_numpy(), dtype=np.uint64)

    return ctx.memo("cot_text_columns", load)


def text_lengths(ctx: ToolContext) -> tuple[FloatArray, FloatArray]:
    """Characters of the reasoning (NaN where none) and of the completion, in row_idx order
    (characters, not words: one cheap pass even over millions of long reasonings)."""
    reasoning, completion, _ = _text_columns(ctx)
    return reasoning, completion


def same_answer_groups(ctx: ToolContext, groups: IntArray) -> IntArray:
    """A code per row for (group, completion text): the rows of one prompt group that gave the
    same completion share a code. Among them the answer is held fixed, so a grader that sees
    only the answer scores them alike whatever their reasoning; a dependence of the score on
    the reasoning there is not explained by answer quality or length. -1 where `groups` is."""

    hashes = _text_columns(ctx)[2]
    keys = groups.astype(np.int64).view(np.uint64)
    order = _by_group_hash(groups, keys, hashes)
    new = np.ones(order.shape[0], dtype=bool)
    new[1:] = (keys[order][1:] != keys[order][:-1]) | (hashes[order][1:] != hashes[order][:-1])
    codes = np.empty(order.shape[0], dtype=np.int64)
    codes[order] = np.cumsum(new) - 1
    return np.where(groups >= 0, codes, -1).astype(np.int64)


def _by_group_hash(groups: IntArray, keys: np.ndarray, hashes: np.ndarray) -> IntArray:
    """The rows sorted by (group as `keys`, the unsigned view, then hash), as `np.lexsort((hashes,
    keys))` sorts them up to the order of equal pairs (which get one code whatever their
    order): by hash, then a stable radix sort of the group as 16 bits when every group fits
    (-1, no group, wraps to the top, where its unsigned view sorts too): a third the time."""
    if groups.shape[0] and groups.min() >= -1 and groups.max() < 2**16 - 1:
        by_hash = np.argsort(hashes)
        return by_hash[np.argsort(groups[by_hash].astype(np.uint16), kind="stable")]
    return np.lexsort((hashes, keys))


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
    p = 2 * t_sf(abs(t), df)
    return PartialCorrelation(r=r, p_value=p, n=int(ok.sum()), groups=k)
