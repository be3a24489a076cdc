"""The chroma embedding function that wraps our embedders.

This module imports chromadb at the top, so only import it inside functions that build or open
an index. Chroma stores the function's `name()` and `get_config()` with each collection and
rebuilds it through `build_from_config()` when a collection is reopened; our embedders load
their model lazily and cache it per class, so rebuilding is free. We always add precomputed
embeddings; the function is what chroma calls for `query_texts`, and it guarantees chroma never
falls back to its default model (which would try to download an ONNX model).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from rootcause.search.embedders import Embedder, embedder_from_config

NAME = "rootcause-embedder"


@register_embedding_function
class RootcauseEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma adapter for a rootcause `Embedder` (MiniLM by default, hashing in tests)."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:
        vectors = self.embedder.embed(list(input))
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    @staticmethod
    def name() -> str:
        return NAME

    def get_config(self) -> dict[str, Any]:
        return dict(self.embedder.config())

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> RootcauseEmbeddingFunction:
        return RootcauseEmbeddingFunction(embedder_from_config(config))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip"]
