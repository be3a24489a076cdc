"""Semantic behaviours (`semantic:TEXT[@field]`) and similarity search (the `semantic` extra).

A semantic behaviour flags texts whose embedding is close to the prototype TEXT, with a
threshold calibrated on the run (`rootcause.search.calibrate`: Otsu's cut when the scores are
bimodal, else median + 3.5 robust SDs, never below the model's floor).

Sampled, not imputed. A run of a million samples cannot be embedded in seconds, so only the
run's stratified sample (`rootcause.search.sampling`, about `cap` rows, default 20,000, set by
`configure_semantic` or ROOTCAUSE_SEMANTIC_SAMPLE) is evaluated. Every row has the same
inclusion probability, so rates over the evaluated rows, per step bin, persona or source, are
unbiased estimates of the run's rates. Rows outside the sample are *unknown*: `semantic_hits`
returns False for them (its type is a bool array), and the mask of evaluated rows is kept in
`ctx.memo(("evaluated", spec))` (read it with `evaluated_mask`); rate computations must divide
by evaluated rows only. When the run fits under the cap the mask is all True and results are
exact. Lazily embedding the rest would make the mask depend on call history, and rows embedded
for a filtered query (`similar_rows`) are not a random sample, so they are never added to it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from rootcause.behaviour.behavior import Behavior
from rootcause.behaviour.context import RunContext
from rootcause.core.errors import BadInputError
from rootcause.search.calibrate import Calibration, calibrate
from rootcause.search.embedders import (
    Embedder,
    SemanticExtraMissingError,
    default_embedder,
    semantic_turned_off,
)
from rootcause.search.index import DEFAULT_CAP, ProgressFn, SemanticIndex
from rootcause.store.sql import fetch_value

logger = logging.getLogger(__name__)

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]

CAP_ENV = "ROOTCAUSE_SEMANTIC_SAMPLE"
#: Rows outside the index that `similar_rows` embeds on demand for one filtered query.
SIMILAR_EXTRA = 500


@dataclass
class SemanticSettings:
    """Per-context settings: sample cap, embedder (None: MiniLM), progress callback."""

    cap: int = DEFAULT_CAP
    embedder: Embedder | None = None
    progress: ProgressFn | None = None
    similar_extra: int = SIMILAR_EXTRA
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_env(cls) -> SemanticSettings:
        raw = os.environ.get(CAP_ENV)
        if raw is None:
            return cls()
        try:
            cap = int(raw)
        except ValueError:
            raise BadInputError(f"{CAP_ENV}={raw!r}: expected a positive integer") from None
        if cap < 1:
            raise BadInputError(f"{CAP_ENV}={raw!r}: expected a positive integer")
        return cls(cap=cap)


def semantic_settings(ctx: RunContext) -> SemanticSettings:
    return ctx.memo(("semantic", "settings"), SemanticSettings.from_env)


def configure_semantic(
    ctx: RunContext,
    *,
    cap: int | None = None,
    embedder: Embedder | None = None,
    progress: ProgressFn | None = None,
) -> SemanticSettings:
    """Set the sample cap, embedder (tests inject a hashing one) or progress callback (the CLI
    renders it) for semantic work in this context. Call before the first semantic tool."""
    settings = semantic_settings(ctx)
    if cap is not None:
        if cap < 1:
            raise BadInputError("semantic sample cap must be positive")
        settings.cap = cap
    if embedder is not None:
        settings.embedder = embedder
    if progress is not None:
        settings.progress = progress
    return settings


def semantic_embedder(ctx: RunContext) -> Embedder:
    """The context's embedder (MiniLM unless one was configured); SemanticExtraMissingError
    without the extra."""
    settings = semantic_settings(ctx)
    if settings.embedder is None or semantic_turned_off():
        settings.embedder = default_embedder()
    return settings.embedder


def meaning_identity(ctx: RunContext) -> str:
    """What the semantic step of this context would run with: the embedder's key and the
    sample cap, or why it cannot run (a cache key for results that depend on it)."""
    try:
        embedder = semantic_embedder(ctx)
    except SemanticExtraMissingError as exc:
        return f"skipped: {exc}"
    return f"{embedder.key}; cap {semantic_settings(ctx).cap}"


def semantic_index(ctx: RunContext, text_field: str = "completion") -> SemanticIndex:
    """The built index of `text_field` (once per context; embeddings cached on disk)."""
    settings = semantic_settings(ctx)
    embedder = semantic_embedder(ctx)

    def build() -> SemanticIndex:
        try:
            return SemanticIndex(
                ctx.store,
                text_field,
                cap=settings.cap,
                embedder=embedder,
                progress=settings.progress,
            ).build()
        except ImportError:
            raise SemanticExtraMissingError() from None

    return ctx.memo(("semantic_index", text_field, settings.cap, embedder.key), build)


@dataclass(frozen=True)
class SemanticResult:
    """Scores of the sample's texts, the calibration, and hits/evaluated over all rows."""

    spec: str
    rows: IntArray  # sampled rows with text, ascending
    scores: FloatArray  # similarity of each of `rows` to the prototype
    calibration: Calibration
    hits: BoolArray  # over all rows (row_idx order); False where not evaluated
    evaluated: BoolArray  # over all rows: in the stratified sample
    fraction: float  # sampling fraction

    @property
    def exact(self) -> bool:
        return bool(self.evaluated.all())


def semantic_result(ctx: RunContext, behavior: Behavior) -> SemanticResult:
    """Evaluate a semantic behaviour on the run's stratified sample (cached per context)."""
    if behavior.kind != "semantic":
        raise BadInputError(f"behaviour {behavior.spec!r} is not semantic")
    return ctx.memo(("semantic", behavior.spec), lambda: _evaluate(ctx, behavior))


def _evaluate(ctx: RunContext, behavior: Behavior) -> SemanticResult:
    index = semantic_index(ctx, behavior.field)
    sample = index.sample
    rows = sample.text_rows
    scores = index.scores(behavior.body)
    calibration = calibrate(scores, floor=index.embedder.min_similarity)
    hits = np.zeros(sample.total, dtype=bool)
    hits[rows[scores >= calibration.threshold]] = True
    evaluated = np.zeros(sample.total, dtype=bool)
    evaluated[sample.rows] = True
    logger.info("semantic %s: %s", behavior.spec, calibration.describe())
    return SemanticResult(
        behavior.spec, rows, scores, calibration, hits, evaluated, sample.fraction
    )


def semantic_hits(ctx: RunContext, behavior: Behavior) -> BoolArray:
    """Whether each sample (row_idx order) shows the behaviour; False also where the sample
    was not evaluated — restrict rates to `evaluated_mask(ctx, behavior.spec)`."""
    result = semantic_result(ctx, behavior)
    ctx.memo(("evaluated", behavior.spec), lambda: result.evaluated)
    return result.hits


def evaluated_mask(ctx: RunContext, spec: str) -> BoolArray:
    """Rows on which the behaviour `spec` was evaluated: the stratified sample for semantic
    behaviours (after they ran), every row for the others."""
    from rootcause.behaviour.behavior import parse_behavior

    behavior = parse_behavior(spec)
    if behavior.kind == "semantic":
        return semantic_result(ctx, behavior).evaluated
    total = int(fetch_value(ctx.con, "SELECT count(*) FROM samples"))
    return ctx.memo(("evaluated", behavior.spec), lambda: np.ones(total, dtype=bool))


def near_misses(ctx: RunContext, behavior: Behavior, limit: int = 3) -> list[tuple[int, float]]:
    """Sampled rows just below the threshold (highest scores that are not hits), best first."""
    result = semantic_result(ctx, behavior)
    below = np.flatnonzero(result.scores < result.calibration.threshold)
    top = below[np.argsort(-result.scores[below], kind="stable")[:limit]]
    return [(int(result.rows[i]), float(result.scores[i])) for i in top]


def similar_rows(
    ctx: RunContext, text: str, where: str, params: list[Any], limit: int
) -> dict[int, float]:
    """The `limit` completions most similar to `text` among rows matching the SQL filter
    `where`: indexed rows through chroma; when fewer than `similar_extra` indexed rows match,
    matching rows outside the index top them up to that many (a deterministic pseudo-random
    subset, embedded once and cached)."""
    if not text.strip():
        raise BadInputError("argument 'similar': empty text")
    index = semantic_index(ctx, "completion")
    table = ctx.con.sql(
        f"SELECT row_idx FROM samples WHERE ({where}) AND coalesce(length(completion), 0) > 0 "
        "ORDER BY md5(coalesce(sample_id, '') || '#' || row_idx::VARCHAR)",
        params=params,
    ).to_arrow_table()
    candidates = np.asarray(table.column("row_idx").to_numpy(), dtype=np.int64)
    indexed = np.isin(candidates, index.sample.text_rows)
    n_indexed = int(indexed.sum())
    among = None if n_indexed == index.sample.text_rows.size else candidates[indexed]
    found = dict(index.query(text, limit, rows=among)) if n_indexed else {}
    # Top up a thin filter with rows outside the index, up to `similar_extra` rows in all.
    extra_cap = max(0, semantic_settings(ctx).similar_extra - n_indexed)
    others = candidates[~indexed][:extra_cap]
    if others.size:
        scores = index.vectors(others) @ index.embed_query(text)
        found.update({int(r): float(s) for r, s in zip(others, scores, strict=True)})
    if (~indexed).sum() > extra_cap:
        logger.info(
            "--similar ranked %d of %d matching rows (index sample plus %d more)",
            n_indexed + others.size,
            candidates.size,
            others.size,
        )
    best = sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return dict(best)
