"""A deterministic, self-weighting stratified sample of a run's samples.

Strata are step bin × persona × data_source. Every stratum h of N_h rows contributes
floor(N_h·f + u_h) rows, where f = cap / N and u_h is a pseudo-uniform number derived from the
stratum's name (randomised rounding). Each row therefore has the same inclusion probability f,
so rates computed over the sample (per step bin, per persona, per source, or any mix) are
unbiased estimates of the run's rates without weights, while every stratum of the run is
represented in proportion. Within a stratum, rows are taken in the order of md5(sample_id, row),
so the sample is the same on every machine and every call, and a larger cap is a superset of a
smaller one within each stratum.

Rows whose text is empty are sampled like any other (and later count as evaluated, not showing
the behaviour), so the sample stays self-weighting; only non-empty texts are embedded.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rootcause.store.schema import TEXT_COLUMNS
from rootcause.store.sql import fetch_one

IntArray = npt.NDArray[np.int64]

#: Step bins used for stratification (fewer when the run has fewer distinct steps).
STEP_BINS = 20


@dataclass(frozen=True)
class StratifiedSample:
    """Row indices (ascending) of the sample, their steps, whether each has text to embed,
    and the sampling fraction f (1.0 when the whole run fits under the cap)."""

    rows: IntArray
    steps: IntArray
    has_text: npt.NDArray[np.bool_]
    fraction: float
    total: int
    strata: int

    @property
    def text_rows(self) -> IntArray:
        return self.rows[self.has_text]


def stratified_sample(con: duckdb.DuckDBPyConnection, field: str, cap: int) -> StratifiedSample:
    """Draw the stratified sample of `samples` for text column `field` (at most about `cap`)."""
    if cap < 1:
        raise ValueError("cap must be positive")
    if field not in TEXT_COLUMNS:
        raise ValueError(f"unknown text field {field!r}")
    stats = fetch_one(
        con, "SELECT count(*), min(step), max(step), count(DISTINCT step) FROM samples"
    )
    total, lo, hi, distinct = (int(stats[0]), stats[1], stats[2], int(stats[3]))
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return StratifiedSample(empty, empty, np.zeros(0, dtype=bool), 1.0, 0, 0)
    bins = max(1, min(STEP_BINS, distinct))
    width = max(1, -(-(int(hi) - int(lo) + 1) // bins))
    fraction = min(1.0, cap / total)
    query = f"""
        WITH base AS (
            SELECT row_idx, step,
                   (step - $lo) // $width AS bin,
                   coalesce(persona, '') AS p, coalesce(data_source, '') AS d,
                   coalesce(length({field}), 0) > 0 AS has_text,
                   md5(coalesce(sample_id, '') || '#' || row_idx::VARCHAR) AS h
            FROM samples
        ),
        ranked AS (
            SELECT *, row_number() OVER (PARTITION BY bin, p, d ORDER BY h) AS r,
                   count(*) OVER (PARTITION BY bin, p, d) AS n_h,
                   ('0x' || left(md5(bin::VARCHAR || '|' || p || '|' || d), 8))::BIGINT
                       / 4294967296.0 AS u_h
            FROM base
        )
        SELECT row_idx, step, has_text, bin, p, d FROM ranked
        WHERE r <= floor(n_h * $f + u_h)
        ORDER BY row_idx
    """
    params = {"lo": int(lo), "width": width, "f": fraction}
    if fraction >= 1.0:
        query = query.replace("floor(n_h * $f + u_h)", "n_h").replace("$f", "1.0")
        params.pop("f")
    table: pa.Table = con.sql(query, params=params).to_arrow_table()
    strata = len(
        set(
            zip(
                table.column("bin").to_pylist(),
                table.column("p").to_pylist(),
                table.column("d").to_pylist(),
                strict=True,
            )
        )
    )
    return StratifiedSample(
        rows=np.asarray(table.column("row_idx").to_numpy(), dtype=np.int64),
        steps=np.asarray(table.column("step").to_numpy(), dtype=np.int64),
        has_text=np.asarray(table.column("has_text").to_numpy(zero_copy_only=False), dtype=bool),
        fraction=fraction,
        total=total,
        strata=strata,
    )
