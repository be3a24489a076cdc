"""A symptom's query vectors are kept in the workspace: the same texts with the same embedder
come back identical without calling the embedder (so a warm investigation does not load the
model), other texts or another embedder are embedded afresh, a damaged file is re-embedded."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rootcause.search.embedders import HashingEmbedder
from rootcause.search.pieces import QUERY_PREFIX, PieceEmbeddings
from tests.search.runs import planted_rows, tool_context

VIEWS = ["The model keeps mentioning goblins.", "goblins and gremlins"]


def test_query_vectors_are_kept_by_texts_and_embedder(tmp_path: Path) -> None:
    with tool_context(tmp_path, planted_rows(200)) as ctx:
        first = HashingEmbedder()
        vectors = PieceEmbeddings(ctx.store, "completion", first).embed_texts(VIEWS)
        assert first.calls == 1 and vectors.dtype == np.float32 and vectors.shape[0] == 2

        again = HashingEmbedder()
        kept = PieceEmbeddings(ctx.store, "completion", again).embed_texts(VIEWS)
        assert again.calls == 0
        np.testing.assert_array_equal(kept, vectors)

        other = HashingEmbedder()
        PieceEmbeddings(ctx.store, "completion", other).embed_texts([*VIEWS, "gremlins"])
        assert other.calls == 1  # other texts: embedded
        wider = HashingEmbedder(dim=256)
        assert PieceEmbeddings(ctx.store, "completion", wider).embed_texts(VIEWS).shape[1] == 256
        assert wider.calls == 1  # another embedder (its key differs): embedded

        files = sorted(ctx.store.db_path.parent.glob(f"search/{QUERY_PREFIX}*.npy"))
        assert len(files) == 3
        for path in files:
            path.write_bytes(b"not an array")
        damaged = HashingEmbedder()
        redone = PieceEmbeddings(ctx.store, "completion", damaged).embed_texts(VIEWS)
        assert damaged.calls == 1
        np.testing.assert_array_equal(redone, vectors)


def test_query_vectors_that_cannot_be_kept_are_still_returned(tmp_path: Path) -> None:
    """A workspace whose search folder cannot be written (a full disk, read-only) keeps
    nothing and the symptom is still read."""
    with tool_context(tmp_path, planted_rows(200)) as ctx:
        pieces = PieceEmbeddings(ctx.store, "completion", HashingEmbedder())
        pieces.folder = tmp_path / "a-file-not-a-folder"
        pieces.folder.write_text("occupied")
        vectors = pieces.embed_texts(VIEWS)
        assert vectors.shape[0] == 2
        assert pieces.folder.read_text() == "occupied"
        assert not list(tmp_path.glob("**/*.tmp.npy"))
