"""The semantic index of one text field of one ingested run.

Building it: draw the stratified sample (`sampling`), embed the sample's non-empty texts that
the on-disk cache lacks (shortest first, in batches, reporting progress), then mirror the
sample into a chromadb collection in `<run_dir>/chroma` (added with the precomputed vectors).
A second build of the same run, field, cap and embedder embeds nothing and adds nothing.

Similarity scores for calibration are computed from the cached matrix (an exact dot product
over the whole sample, which nearest-neighbour search cannot give); ranked retrieval (`query`)
goes through chroma.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from rootcause.search.cache import EmbeddingCache
from rootcause.search.embedders import Embedder, SemanticExtraMissingError, default_embedder
from rootcause.search.sampling import StratifiedSample, stratified_sample
from rootcause.store.run_store import RunStore
from rootcause.store.schema import TEXT_COLUMNS

logger = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]

#: progress(stage, done, total); stages: "embed" (texts) and "index" (vectors added to chroma).
ProgressFn = Callable[[str, int, int], None]

DEFAULT_CAP = 20_000
EMBED_BATCH = 256
#: Longest text passed to an embedder (MiniLM reads 256 word pieces; more is wasted work).
MAX_TEXT_CHARS = 2000


def run_fingerprint(store: RunStore) -> str:
    """The run's ingest fingerprint (changes whenever its inputs change)."""
    value = store.info("fingerprint")
    if isinstance(value, str) and value:
        return value
    stat = store.db_path.stat()
    return hashlib.sha256(f"{store.db_path}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()


def fetch_texts(store: RunStore, field: str, rows: IntArray) -> list[str]:
    """Texts of `field` for `rows`, in the order given (empty string where missing)."""
    if field not in TEXT_COLUMNS:
        raise ValueError(f"unknown text field {field!r}")
    if rows.size == 0:
        return []
    name = f"rc_rows_{hashlib.md5(rows.tobytes()).hexdigest()[:12]}"
    store.con.register(name, pa.table({"row_idx": rows}))
    try:
        table = store.con.sql(
            f"SELECT s.row_idx, coalesce(s.{field}, '') AS text FROM samples s "
            f"JOIN {name} USING (row_idx)"
        ).to_arrow_table()
    finally:
        store.con.unregister(name)
    found = dict(
        zip(table.column("row_idx").to_pylist(), table.column("text").to_pylist(), strict=True)
    )
    return [found.get(int(r), "") for r in rows]


class SemanticIndex:
    """Embeddings (and a chroma collection) of a stratified sample of one text field."""

    def __init__(
        self,
        store: RunStore,
        field: str = "completion",
        *,
        cap: int = DEFAULT_CAP,
        embedder: Embedder | None = None,
        folder: Path | None = None,
        progress: ProgressFn | None = None,
    ):
        if field not in TEXT_COLUMNS:
            raise ValueError(f"unknown text field {field!r}")
        self.store = store
        self.field = field
        self.cap = cap
        self.embedder = embedder if embedder is not None else default_embedder()
        self.folder = folder if folder is not None else store.db_path.parent
        self.progress = progress
        self.fingerprint = run_fingerprint(store)
        self.cache = EmbeddingCache(
            self.folder / "search", self.fingerprint, field, self.embedder.key
        )
        self.sample: StratifiedSample = stratified_sample(store.con, field, cap)
        self._built = False
        self._collection: Any = None

    # -- building ------------------------------------------------------------------------------

    @property
    def collection_name(self) -> str:
        digest = hashlib.sha256(
            f"{self.fingerprint}|{self.field}|{self.cap}|{self.embedder.key}".encode()
        ).hexdigest()[:16]
        return f"rootcause-{self.field}-{digest}"

    def build(self) -> SemanticIndex:
        """Embed what the cache lacks and fill the chroma collection (idempotent)."""
        if not self._built:
            self.ensure_embedded(self.sample.text_rows)
            self._fill_collection()
            self._built = True
        return self

    def ensure_embedded(self, rows: IntArray, label: str = "embed") -> None:
        """Embed and cache the texts of `rows` that have no cached embedding."""
        todo = self.cache.missing(np.unique(rows))
        if todo.size == 0:
            return
        texts = [t[:MAX_TEXT_CHARS] for t in fetch_texts(self.store, self.field, todo)]
        order = np.argsort([len(t) for t in texts], kind="stable")  # less padding per batch
        done = 0
        self._report(label, 0, todo.size)
        for start in range(0, todo.size, EMBED_BATCH):
            chunk = order[start : start + EMBED_BATCH]
            vectors = self.embedder.embed([texts[i] for i in chunk])
            self.cache.add(todo[chunk], vectors)
            done += chunk.size
            self._report(label, done, todo.size)
        self.cache.save()
        logger.info("embedded %d %s texts with %s", todo.size, self.field, self.embedder.key)

    def _client(self) -> Any:
        try:
            import chromadb
            from chromadb.config import Settings
        except ImportError:
            raise SemanticExtraMissingError() from None
        return chromadb.PersistentClient(
            path=str(self.folder / "chroma"), settings=Settings(anonymized_telemetry=False)
        )

    def _fill_collection(self) -> None:
        from rootcause.search.chroma_ef import RootcauseEmbeddingFunction

        client = self._client()
        rows = self.sample.text_rows
        ef = RootcauseEmbeddingFunction(self.embedder)
        name = self.collection_name
        collection = client.get_or_create_collection(
            name, embedding_function=ef, metadata={"hnsw:space": "cosine"}
        )
        if collection.count() != rows.size:
            if collection.count():
                client.delete_collection(name)
                collection = client.create_collection(
                    name, embedding_function=ef, metadata={"hnsw:space": "cosine"}
                )
            steps = dict(zip(self.sample.rows.tolist(), self.sample.steps.tolist(), strict=True))
            batch = max(1, min(int(client.get_max_batch_size()), 5000))
            self._report("index", 0, rows.size)
            for start in range(0, rows.size, batch):
                part = rows[start : start + batch]
                collection.add(
                    ids=[str(r) for r in part.tolist()],
                    embeddings=self.cache.get(part),
                    metadatas=[{"row_idx": r, "step": steps[r]} for r in part.tolist()],
                )
                self._report("index", min(start + batch, rows.size), rows.size)
        self._collection = collection

    def _report(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    # -- reading -------------------------------------------------------------------------------

    def vectors(self, rows: IntArray | None = None) -> FloatArray:
        """Cached vectors of `rows` (default: the sample's texts), embedding any missing."""
        self.build()
        rows = self.sample.text_rows if rows is None else rows
        self.ensure_embedded(rows, label="embed extra")
        return self.cache.get(rows)

    def embed_query(self, text: str) -> FloatArray:
        """The unit vector of a query or prototype text."""
        return self.embedder.embed([text[:MAX_TEXT_CHARS]])[0]

    def scores(self, text: str) -> FloatArray:
        """Cosine similarity of `text` to every embedded sample text (order of `text_rows`)."""
        return np.asarray(self.vectors() @ self.embed_query(text), dtype=np.float32)

    def query(
        self, text: str, n: int = 10, rows: IntArray | None = None
    ) -> list[tuple[int, float]]:
        """The `n` indexed rows most similar to `text` (optionally among `rows`), via chroma,
        as (row_idx, cosine similarity), best first."""
        self.build()
        if self._collection is None or self._collection.count() == 0 or n < 1:
            return []
        kwargs: dict[str, Any] = {}
        if rows is not None:
            ids = np.intersect1d(rows, self.sample.text_rows)
            if ids.size == 0:
                return []
            kwargs["ids"] = [str(r) for r in ids.tolist()]
            n = min(n, ids.size)
        found = self._collection.query(
            query_embeddings=[self.embed_query(text)],
            n_results=min(n, self._collection.count()),
            include=["distances"],
            **kwargs,
        )
        return [
            (int(i), 1.0 - float(d))
            for i, d in zip(found["ids"][0], found["distances"][0], strict=True)
        ]
