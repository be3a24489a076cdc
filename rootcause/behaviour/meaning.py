"""The semantic step of reading a symptom: which of the run's behaviours carry its meaning.

The symptom (as written, and its quoted and content words alone) is embedded with the offline
MiniLM model and compared with sentence-level pieces of the run's texts (`search.pieces`):

* the **bulk**: pieces of a few hundred sampled texts of each window (first and last quarter
  of the samples), embedded once per run and cached in the workspace. The symptom's
  similarity to the bulk is the null: a behaviour carries the symptom's meaning when the mean
  of its `TOP` best example pieces stands out from the bulk by at least `MEANING_Z` robust
  standard deviations (median + z * 1.4826 * MAD, the outlier rule of `search.calibrate`)
  and their cosine similarity is at least `MIN_SIMILARITY`.
* **emerging behaviours**: the moving n-gram groups (`run_behaviours`), scored on their
  example pieces;
* **clusters**: spherical k-means over the bulk; clusters whose share moved between the
  windows (two-proportion z >= 3) become behaviours, their distinctive words the terms;
* **nearest pieces**: bulk pieces that are themselves outliers of similarity to the symptom,
  as one more behaviour when they moved.

Every behaviour found here is then measured on the whole run like any other candidate. When
the `semantic` extra is not installed the step is skipped and says why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rootcause.analysis.ngrams import emerging_ngrams, tokenize
from rootcause.behaviour.behavior import ngram_spec
from rootcause.behaviour.context import RunContext
from rootcause.behaviour.run_behaviours import Direction, Piece, RunBehaviour, WindowTexts, term_ok
from rootcause.search.cluster import kmeans
from rootcause.search.embedders import SemanticExtraMissingError
from rootcause.search.pieces import PieceEmbeddings, piece_id, split_pieces

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]

#: Texts per window whose pieces form the bulk, and the most pieces kept per window.
BULK_TEXTS = 400
BULK_PIECES = 1200
#: Robust z over the bulk a behaviour's best examples need to carry the symptom's meaning.
MEANING_Z = 2.5
#: Cosine similarity a behaviour's best examples need as well: with MiniLM, unrelated texts
#: mostly score within +-0.2 of a symptom however far they stand out of the bulk, while
#: descriptions of a behaviour in other words score from about 0.25.
MIN_SIMILARITY = 0.25
#: Example pieces averaged into a behaviour's similarity.
TOP = 3
#: Two-proportion z a cluster's share must move by.
CLUSTER_Z = 3.0
_MAD_SCALE = 1.4826


@dataclass
class Meaning:
    """What the semantic step found: each behaviour's similarity to the symptom (by spec) and
    its robust z over the bulk, the behaviours it found itself, and a note for the report.
    While the step's embeddings are open (`score`), more detectors can be scored the same way."""

    ran: bool
    note: str
    similarity: dict[str, float] = field(default_factory=dict)
    z: dict[str, float] = field(default_factory=dict)
    found: list[RunBehaviour] = field(default_factory=list)
    scorer: _Scorer | None = field(default=None, repr=False)

    def carries(self, spec: str) -> bool:
        close = self.similarity.get(spec, -1.0) >= MIN_SIMILARITY
        return close and self.z.get(spec, -np.inf) >= MEANING_Z

    def score(self, spec: str, direction: Direction, examples: list[Piece]) -> None:
        """Score the detector `spec` on its example pieces (from the window where it is
        common), like every behaviour: the mean of its best `TOP` similarities to the symptom
        and their robust z over the window where it is rare."""
        if self.scorer is None or not examples:
            return
        self.similarity[spec], self.z[spec] = self.scorer.score(direction, examples)

    def carrying(self, direction: Direction, pieces: list[Piece]) -> list[bool] | None:
        """For each piece, whether it stands out in meaning toward the symptom (robust z of
        its similarity over the window where a behaviour moving `direction` is rare, at least
        `MEANING_Z`); None when the semantic step did not run."""
        if self.scorer is None:
            return None
        return self.scorer.carrying(direction, pieces) if pieces else []


def skipped(reason: str) -> Meaning:
    return Meaning(False, f"semantic step skipped: {reason}")


@dataclass
class _Bulk:
    pieces: list[Piece]
    late: npt.NDArray[np.bool_]
    vectors: FloatArray


def _bulk(windows: WindowTexts, embeddings: PieceEmbeddings) -> _Bulk:
    pieces: list[Piece] = []
    late: list[bool] = []
    for is_late, rows, texts in (
        (False, windows.early_rows, windows.early),
        (True, windows.late_rows, windows.late),
    ):
        taken = 0
        for row, text in zip(rows[:BULK_TEXTS].tolist(), texts[:BULK_TEXTS], strict=True):
            for position, piece in enumerate(split_pieces(text)):
                pieces.append(Piece(piece_id(row, position), piece))
                late.append(is_late)
                taken += 1
            if taken >= BULK_PIECES:
                break
    ids = np.array([p.id for p in pieces], dtype=np.int64)
    vectors = embeddings.vectors(ids, [p.text for p in pieces])
    return _Bulk(pieces, np.array(late, dtype=bool), vectors)


@dataclass
class _Null:
    """Per symptom view, the median and robust SD of its similarity to the pieces of the
    window where a behaviour moving one way is rare (early for a rise, late for a fall)."""

    median: npt.NDArray[np.float64]
    spread: npt.NDArray[np.float64]

    def z(self, sims: FloatArray) -> npt.NDArray[np.float64]:
        """Robust z of similarities (pieces x views), per view."""
        return (np.asarray(sims, dtype=np.float64) - self.median) / self.spread


@dataclass
class _Scorer:
    """The symptom's views embedded, the piece embeddings, and the null of each direction."""

    embeddings: PieceEmbeddings
    query: FloatArray
    nulls: dict[Direction, _Null]

    def score(self, direction: Direction, examples: list[Piece]) -> tuple[float, float]:
        """(similarity, robust z) of the best-scoring view for `examples`."""
        ids = np.array([p.id for p in examples], dtype=np.int64)
        scores = self.embeddings.vectors(ids, [p.text for p in examples]) @ self.query.T
        best = -np.sort(-scores, axis=0)[:TOP].mean(axis=0)  # per view
        z = self.nulls[direction].z(best[None, :])[0]
        view = int(np.argmax(z))
        return float(best[view]), float(z[view])

    def carrying(self, direction: Direction, pieces: list[Piece]) -> list[bool]:
        ids = np.array([p.id for p in pieces], dtype=np.int64)
        scores = self.embeddings.vectors(ids, [p.text for p in pieces]) @ self.query.T
        z = self.nulls[direction].z(scores).max(axis=1)
        return [bool(v >= MEANING_Z) for v in z]


def _null(sims: FloatArray) -> _Null:
    values = np.asarray(sims, dtype=np.float64)
    median = np.median(values, axis=0)
    spread = _MAD_SCALE * np.median(np.abs(values - median), axis=0)
    return _Null(median, np.maximum(spread, 1e-6))


def symptom_meaning(
    ctx: RunContext, views: list[str], windows: WindowTexts, behaviours: list[RunBehaviour]
) -> Meaning:
    """Score `behaviours` against the symptom `views` and find clusters and nearest pieces."""
    from rootcause.behaviour.semantic import semantic_embedder

    if not windows.early or not windows.late:
        return skipped("no texts in one of the windows")
    try:
        embedder = semantic_embedder(ctx)
        embeddings = PieceEmbeddings(ctx.store, windows.field, embedder)
        bulk = _bulk(windows, embeddings)
        query = embeddings.embed_texts(views)
    except SemanticExtraMissingError as exc:
        return skipped(str(exc))
    if min(int(bulk.late.sum()), int((~bulk.late).sum())) < 10:
        return skipped(f"too few pieces of text to compare ({len(bulk.pieces)})")
    sims = bulk.vectors @ query.T  # pieces x views
    nulls: dict[Direction, _Null] = {"up": _null(sims[~bulk.late]), "down": _null(sims[bulk.late])}
    found = _clusters(bulk, windows) + _nearest(bulk, sims, nulls, windows)
    meaning = Meaning(
        True,
        f"symptom compared with {len(bulk.pieces):,} sampled pieces of text "
        f"({int((~bulk.late).sum()):,} early, {int(bulk.late.sum()):,} late) with "
        f"{embedder.key}; a behaviour carries the symptom when its best {TOP} examples stand "
        f"{MEANING_Z} robust SDs above the symptom's similarity to the window where it is rare "
        f"and reach cosine {MIN_SIMILARITY}",
        found=found,
        scorer=_Scorer(embeddings, query, nulls),
    )
    for b in [*behaviours, *found]:
        meaning.score(b.spec, b.direction, b.examples)
    if embeddings.embedded:
        logger.info("semantic step embedded %d new pieces", embeddings.embedded)
    return meaning


def _distinctive(members: list[Piece], others: list[Piece]) -> list[str]:
    """Words of `members` that set them apart from `others` (log-odds, top few)."""
    found = emerging_ngrams(
        [tokenize(p.text, symbols=True) for p in others],
        [tokenize(p.text, symbols=True) for p in members],
        top=12,
        min_count=3,
        orders=(1,),
    )
    return [e.ngram for e in found.rising if term_ok(e.ngram) and e.z >= CLUSTER_Z][:4]


def _moved(late: npt.NDArray[np.bool_], chosen: npt.NDArray[np.bool_]) -> tuple[Direction, float]:
    n_l, n_e = int(late.sum()), int((~late).sum())
    c_l, c_e = int((chosen & late).sum()), int((chosen & ~late).sum())
    if not n_l or not n_e:
        return "up", 0.0
    pooled = (c_l + c_e) / (n_l + n_e)
    se = np.sqrt(max(pooled * (1 - pooled) * (1 / n_l + 1 / n_e), 1e-12))
    z = (c_l / n_l - c_e / n_e) / se
    return ("up" if z >= 0 else "down"), float(abs(z))


def _as_behaviour(
    bulk: _Bulk, chosen: npt.NDArray[np.bool_], order: npt.NDArray[np.int64], windows: WindowTexts
) -> RunBehaviour | None:
    direction, z = _moved(bulk.late, chosen)
    if z < CLUSTER_Z:
        return None
    where = chosen & (bulk.late if direction == "up" else ~bulk.late)
    members = [bulk.pieces[i] for i in order if where[i]]
    others = [bulk.pieces[i] for i in np.flatnonzero(~chosen)]
    terms = _distinctive(members, others)
    if not terms:
        return None
    return RunBehaviour(
        spec=ngram_spec(terms, windows.field),
        direction=direction,
        terms=terms,
        members=terms,
        z=z,
        source="cluster",
        examples=members[:8],
        texts=len(members),
    )


def _clusters(bulk: _Bulk, windows: WindowTexts) -> list[RunBehaviour]:
    n = len(bulk.pieces)
    k = max(2, min(16, n // 60))
    fit = kmeans(bulk.vectors, k, seed=0)
    out = []
    for c in range(fit.centroids.shape[0]):
        chosen = fit.labels == c
        closeness = bulk.vectors @ fit.centroids[c]
        found = _as_behaviour(bulk, chosen, np.argsort(-closeness), windows)
        if found is not None:
            out.append(found)
    return sorted(out, key=lambda b: -b.z)[:4]


def _nearest(
    bulk: _Bulk, sims: FloatArray, nulls: dict[Direction, _Null], windows: WindowTexts
) -> list[RunBehaviour]:
    """Pieces that are themselves outliers of similarity to the symptom (over the null of one
    window), when the other window has far more of them."""
    out = []
    directions: tuple[Direction, ...] = ("up", "down")
    for direction in directions:
        z = np.max(nulls[direction].z(sims), axis=1)
        chosen = (z >= MEANING_Z) & (np.max(sims, axis=1) >= MIN_SIMILARITY)
        if chosen.sum() < 5:
            continue
        found = _as_behaviour(bulk, chosen, np.argsort(-z), windows)
        if found is not None and found.direction == direction:
            out.append(found)
    return out
