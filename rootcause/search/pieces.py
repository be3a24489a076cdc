"""Sentence-level pieces of texts and their embeddings, cached on disk.

A short tic inside a long answer is lost in one embedding of the whole answer; embedded
sentence by sentence (long sentences cut into windows of `WINDOW_WORDS` words) it stands out.
A piece is identified by its text's row and its position in the text (`piece_id`), which are
stable for a run fingerprint, so embeddings are cached like whole texts
(`search.cache.EmbeddingCache`, under the label `<field>-pieces`) and never embedded twice.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rootcause.core.disk import written_via_temp
from rootcause.search.cache import EmbeddingCache
from rootcause.search.embedders import Embedder
from rootcause.search.index import EMBED_BATCH, ProgressFn, run_fingerprint
from rootcause.store.run_store import RunStore

logger = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]

#: Words per window of a long sentence.
WINDOW_WORDS = 32
#: Pieces kept per text (its first ones); also the stride of `piece_id`.
MAX_PIECES = 16
#: Characters of a text that are split.
MAX_TEXT_CHARS = 4000

#: File name prefix of a symptom's cached query vectors (see `PieceEmbeddings.embed_texts`).
QUERY_PREFIX = "query-"

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"')\]]*|\n|$)|[.!?]+")


def split_pieces(text: str) -> list[str]:
    """Sentences of `text` (at most MAX_PIECES), long ones cut into windows of words."""
    out: list[str] = []
    for match in _SENTENCE.finditer(text[:MAX_TEXT_CHARS]):
        words = match.group().split()
        if not words or not any(ch.isalnum() or ch in "#*=|~`" for ch in match.group()):
            continue
        for start in range(0, len(words), WINDOW_WORDS):
            out.append(" ".join(words[start : start + WINDOW_WORDS]))
            if len(out) >= MAX_PIECES:
                return out
    return out


def piece_id(row: int, position: int) -> int:
    """Stable id of the `position`-th piece of the text in `row`."""
    return int(row) * MAX_PIECES + int(position)


class PieceEmbeddings:
    """Embeddings of pieces of one run's text field, cached on disk per embedder."""

    def __init__(
        self,
        store: RunStore,
        field: str,
        embedder: Embedder,
        folder: Path | None = None,
        progress: ProgressFn | None = None,
    ):
        base = folder if folder is not None else store.db_path.parent
        self.embedder = embedder
        self.progress = progress
        self.folder = base / "search"
        self.cache = EmbeddingCache(
            self.folder, run_fingerprint(store), f"{field}-pieces", embedder.key
        )
        self.embedded = 0  # pieces embedded by this object (the rest came from the cache)

    def vectors(self, ids: IntArray, texts: Sequence[str]) -> FloatArray:
        """Unit vectors of the pieces `ids` (texts aligned with them), embedding only those the
        cache lacks, and saving the cache when anything was added."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size == 0:
            return np.zeros((0, 0), dtype=np.float32)
        missing = set(self.cache.missing(ids).tolist())
        todo = [(int(i), t) for i, t in zip(ids.tolist(), texts, strict=True) if i in missing]
        todo = list(dict(todo).items())
        todo.sort(key=lambda item: len(item[1]))  # similar lengths batch with less padding
        for start in range(0, len(todo), EMBED_BATCH):
            chunk = todo[start : start + EMBED_BATCH]
            vectors = self.embedder.embed([t for _, t in chunk])
            self.cache.add(np.array([i for i, _ in chunk], dtype=np.int64), vectors)
            self.embedded += len(chunk)
            if self.progress is not None:
                self.progress("embed pieces", min(start + EMBED_BATCH, len(todo)), len(todo))
        if todo:
            self.cache.save()
            logger.info("embedded %d pieces with %s", len(todo), self.embedder.key)
        return self.cache.get(ids)

    def embed_texts(self, texts: Sequence[str]) -> FloatArray:
        """Unit vectors of texts that are not pieces of the run (a symptom's views).

        Kept on disk by the exact list of texts and the embedder's key, as the embedder gave
        them (float32, not rounded like the pieces), so reading the same symptom again gives
        the same vectors without loading the model: with every piece cached, that load (torch
        and the weights, several seconds) was the only use of the model in an investigation.
        """
        texts = list(texts)
        if not texts:
            return self.embedder.embed(texts)
        digest = hashlib.sha256("\0".join([self.embedder.key, *texts]).encode()).hexdigest()
        path = self.folder / f"{QUERY_PREFIX}{digest[:24]}.npy"
        try:
            kept = np.load(path)
            if kept.dtype == np.float32 and kept.ndim == 2 and kept.shape[0] == len(texts):
                return np.asarray(kept)
        except (OSError, ValueError):
            pass  # absent or unreadable: embed again
        vectors = np.asarray(self.embedder.embed(texts), dtype=np.float32)
        try:
            with written_via_temp(path) as tmp, tmp.open("wb") as fh:
                np.save(fh, vectors)
        except OSError as exc:  # a full disk or read-only workspace: embedded, not kept
            logger.warning("symptom vectors not kept in %s: %s", self.folder, exc)
        return vectors
