"""On-disk cache of text embeddings, so no text of a run is embedded twice.

One file per (run fingerprint, text field, embedder): `emb-<field>-<embedder>-<fp12>.npz` with
the row indices (ascending) and their vectors (float16: halves the size, and cosine scores move
by < 1e-3). The fingerprint changes whenever the run is re-ingested from changed inputs, and
row indices are only meaningful for one fingerprint, so files of older fingerprints of the same
field and embedder are removed when a new one is written. Embeddings do not depend on the
sample cap, so raising the cap embeds only the rows that are new to the sample.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rootcause.core.disk import written_via_temp

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]


class EmbeddingCache:
    """Embeddings of some rows of one run's text field, kept in memory and on disk."""

    def __init__(self, folder: Path, fingerprint: str, field: str, embedder_key: str):
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", embedder_key)
        self.prefix = f"emb-{field}-{safe}-"
        self.path = folder / f"{self.prefix}{fingerprint[:12]}.npz"
        self.rows: IntArray = np.zeros(0, dtype=np.int64)
        self.vectors: FloatArray = np.zeros((0, 0), dtype=np.float32)
        if self.path.exists():
            try:
                with np.load(self.path) as data:
                    self.rows = np.asarray(data["rows"], dtype=np.int64)
                    self.vectors = np.asarray(data["vectors"], dtype=np.float32)
            except (OSError, ValueError, KeyError):
                self.rows = np.zeros(0, dtype=np.int64)  # unreadable: rebuild

    def missing(self, rows: IntArray) -> IntArray:
        """The rows of `rows` that have no cached embedding."""
        return rows[~np.isin(rows, self.rows)]

    def get(self, rows: IntArray) -> FloatArray:
        """Vectors of `rows` (all of which must be cached), in the order given."""
        pos = np.searchsorted(self.rows, rows)
        if rows.size and (
            np.any(pos >= self.rows.size)
            or np.any(self.rows[np.minimum(pos, self.rows.size - 1)] != rows)
        ):
            raise KeyError("some rows are not cached")
        return self.vectors[pos]

    def add(self, rows: IntArray, vectors: FloatArray) -> None:
        """Merge new embeddings in memory (call `save` to persist)."""
        if rows.size == 0:
            return
        # Round as the file will, so scores are identical before and after a reload.
        vectors = np.asarray(vectors, dtype=np.float16).astype(np.float32)
        if self.rows.size == 0:
            all_rows, all_vectors = rows, vectors
        else:
            all_rows = np.concatenate([self.rows, rows])
            all_vectors = np.concatenate([self.vectors, vectors])
        order = np.argsort(all_rows, kind="stable")
        all_rows = all_rows[order]
        keep = np.concatenate([[True], all_rows[1:] != all_rows[:-1]])
        self.rows = all_rows[keep]
        self.vectors = np.asarray(all_vectors[order][keep], dtype=np.float32)

    def save(self) -> None:
        """Write atomically and drop files of older fingerprints of this field and embedder."""
        with written_via_temp(self.path) as tmp, tmp.open("wb") as fh:
            np.savez(fh, rows=self.rows, vectors=self.vectors.astype(np.float16))
        for old in self.path.parent.glob(f"{self.prefix}*.npz"):
            if old != self.path:
                old.unlink(missing_ok=True)
