"""A candidate detector for a symptom and its measurement on the whole run: hits, rates in
the first and last quarter of the samples (by step), the two-proportion z of the change, and
how much of a reference detector's hits it also finds (its *recall* of the symptom's own words).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from rootcause.behaviour.behavior import parse_behavior
from rootcause.behaviour.context import RunContext
from rootcause.behaviour.matching import PackedBits, behavior_sql, check_regex, match_bits
from rootcause.behaviour.precision import TermCheck
from rootcause.behaviour.run_behaviours import step_quartiles

Direction = Literal["up", "down"]

#: |z| of the change between the first and last quarter that counts as moved.
MIN_Z = 3.0


@dataclass
class Candidate:
    """A detector to measure: its spec, where it came from, how it carries the symptom, and
    its measured rates (first and last quarter of the samples)."""

    spec: str
    source: str
    basis: str
    tier: int  # 3 quoted / named length, 2 the symptom's words, 1 meaning only, 0 data only
    coverage: int = 0  # stems of the symptom's words its terms share
    similarity: float | None = None
    meaning_z: float | None = None
    label: str = ""
    hits: int = 0
    early: float = math.nan
    late: float = math.nan
    z: float = 0.0
    verdict: str = ""
    recall: float = 1.0  # share of the reference detector's hits it also finds
    terms: list[str] = field(default_factory=list)  # the n-grams it matches, when known
    checks: list[TermCheck] = field(default_factory=list)  # its added terms' precision checks
    set_aside: str = ""  # why it no longer carries the symptom, when the meaning step said so

    @property
    def carries(self) -> bool:
        return self.tier > 0

    @property
    def direction(self) -> Direction:
        return "up" if self.z >= 0 else "down"

    def moved(self, stated: Direction | None) -> bool:
        return abs(self.z) >= MIN_Z and (stated is None or self.direction == stated)


def measure(ctx: RunContext, candidates: list[Candidate]) -> None:
    """Hits and first/last-quarter rates of every candidate, from one scan of the run."""
    if not candidates:
        return
    windows = _quarter_masks(ctx)
    totals = [count_bits(w) for w in windows]
    for c, bits in zip(candidates, match_bits(ctx, [c.spec for c in candidates]), strict=True):
        early, late, mid = (count_bits(bits & w) for w in windows)
        c.hits = early + late + mid
        c.early = early / totals[0] if totals[0] else math.nan
        c.late = late / totals[1] if totals[1] else math.nan
        pooled = (early + late) / max(totals[0] + totals[1], 1)
        se = math.sqrt(
            max(pooled * (1 - pooled), 1e-12) * (1 / max(totals[0], 1) + 1 / max(totals[1], 1))
        )
        c.z = 0.0 if not (totals[0] and totals[1]) else (c.late - c.early) / se


def count_bits(bits: PackedBits) -> int:
    """Set bits of a packed array (padding bits are zero)."""
    return int(np.bitwise_count(bits).sum(dtype=np.int64))


def _quarter_masks(ctx: RunContext) -> tuple[PackedBits, PackedBits, PackedBits]:
    """Packed masks of the samples in the first quarter, the last quarter and between (by
    step; a sample without a step is between), once per context."""

    def compute() -> tuple[PackedBits, PackedBits, PackedBits]:
        low, high = step_quartiles(ctx)
        table = ctx.con.sql(
            f"SELECT row_idx, CASE WHEN step <= {low!r} THEN 0 WHEN step >= {high!r} THEN 1 "
            "ELSE 2 END AS w FROM samples"
        ).to_arrow_table()
        window = np.full(table.num_rows, 2, dtype=np.int8)
        window[table.column("row_idx").to_numpy()] = table.column("w").to_numpy()
        return (np.packbits(window == 0), np.packbits(window == 1), np.packbits(window == 2))

    return ctx.memo(("quarter_masks", str(ctx.db_path)), compute)


def sql_of(ctx: RunContext, spec: str) -> tuple[str, list[object]]:
    """The DuckDB boolean expression of the detector `spec` and its parameters (regexes checked
    for the engine first)."""
    behavior = parse_behavior(spec)
    if behavior.kind in ("regex", "terms"):
        check_regex(ctx, behavior.regex())
    expr, params = behavior_sql(behavior)
    return expr, list(params)


def measure_recall(ctx: RunContext, candidates: list[Candidate], reference: Candidate) -> None:
    """Each candidate's share of the hits of `reference` that it also finds (one scan, or
    none when their match bits are cached)."""
    if not reference.hits or not candidates:
        return
    ref, *bits = match_bits(ctx, [reference.spec, *(c.spec for c in candidates)])
    for c, own in zip(candidates, bits, strict=True):
        c.recall = count_bits(own & ref) / reference.hits


def association_groups(ctx: RunContext, specs: list[str]) -> list[list[int]]:
    """Groups of the detectors `specs` (by index) that mark one behaviour: two join when their
    hits occur together more often than apart (both > either alone, i.e. Jaccard > 1/2), and
    groups are the connected sets of such pairs. Two words that are merely common at the same
    time (both rising, one everywhere) stay apart."""
    if len(specs) < 2:
        return [[i] for i in range(len(specs))]
    bits = match_bits(ctx, specs)
    pairs = [(i, j) for i in range(len(specs)) for j in range(i + 1, len(specs))]
    row = [count_bits(bits[i] & bits[j]) > count_bits(bits[i] ^ bits[j]) for i, j in pairs]
    parent = list(range(len(specs)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for (i, j), together in zip(pairs, row, strict=True):
        if together:
            parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(specs)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())
