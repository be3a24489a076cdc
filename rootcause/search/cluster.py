"""Spherical k-means (cosine) over unit vectors, deterministic for a given seed.

k-means++ seeding, then Lloyd iterations with centroids re-normalised to unit length, so the
assignment maximises cosine similarity. Small enough to keep in numpy; a few thousand
384-dimensional vectors cluster in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Clustering:
    centroids: FloatArray  # (k, d), unit length
    labels: IntArray  # cluster of each input vector


def _unit(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def kmeans(vectors: FloatArray, k: int, *, seed: int = 0, iterations: int = 30) -> Clustering:
    """Cluster unit `vectors` into at most `k` clusters (fewer if there are fewer points)."""
    x = np.asarray(vectors, dtype=np.float64)
    n = x.shape[0]
    if n == 0 or k < 1:
        return Clustering(
            np.zeros((0, x.shape[1] if x.ndim == 2 else 0), np.float32), np.zeros(0, np.int64)
        )
    k = min(k, n)
    rng = np.random.default_rng(seed)
    centers = [int(rng.integers(n))]
    dist = 1.0 - x @ x[centers[0]]
    for _ in range(1, k):
        weights = np.clip(dist, 0.0, None) ** 2
        total = weights.sum()
        if total <= 0:
            break  # every point coincides with a center
        nxt = int(rng.choice(n, p=weights / total))
        centers.append(nxt)
        dist = np.minimum(dist, 1.0 - x @ x[nxt])
    centroids = x[centers].copy()
    labels = np.full(n, -1, dtype=np.int64)
    for _ in range(iterations):
        new = np.argmax(x @ centroids.T, axis=1).astype(np.int64)
        if np.array_equal(new, labels):
            break
        labels = new
        for c in range(centroids.shape[0]):
            members = x[labels == c]
            if members.shape[0]:
                centroids[c] = members.sum(axis=0)
        centroids = _unit(centroids)
    return Clustering(centroids.astype(np.float32), labels)
