"""Semantic index of a run's texts: embeddings of a stratified sample, cached on disk, and a
chromadb collection over them (docs/architecture.md). Heavy libraries (torch, sentence-transformers,
chromadb) are imported only when an index is built, so importing this package stays cheap.
"""

from rootcause.search.embedders import (
    EXTRA_MISSING,
    Embedder,
    HashingEmbedder,
    MiniLMEmbedder,
    SemanticExtraMissingError,
)

__all__ = [
    "EXTRA_MISSING",
    "Embedder",
    "HashingEmbedder",
    "MiniLMEmbedder",
    "SemanticExtraMissingError",
]
