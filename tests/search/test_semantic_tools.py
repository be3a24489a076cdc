"""Semantic behaviours and --similar through the toolset, with the hashing embedder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rootcause.behaviour.behavior import parse_behavior
from rootcause.behaviour.matching import behavior_hits
from rootcause.behaviour.semantic import (
    configure_semantic,
    evaluated_mask,
    near_misses,
    semantic_result,
    similar_rows,
)
from rootcause.core.errors import BadInputError
from rootcause.search import EXTRA_MISSING, HashingEmbedder, SemanticExtraMissingError
from rootcause.search.embedders import default_embedder
from rootcause.tools.registry import call_tool
from tests.search.runs import planted_rows, tool_context

pytest.importorskip("chromadb")

GOBLINS = "semantic:goblins and gremlins in the goblin cave"


def test_semantic_hits_cover_the_sample_and_mark_the_rest_unknown(tmp_path: Path) -> None:
    rows = planted_rows(1000)
    truth = np.array([r["meta"]["on_topic"] for r in rows])
    with tool_context(tmp_path, rows) as ctx:
        configure_semantic(ctx, cap=400, embedder=HashingEmbedder())
        hits = behavior_hits(ctx, GOBLINS)
        mask = evaluated_mask(ctx, GOBLINS)
        assert hits.shape == mask.shape == (1000,)
        assert 350 <= mask.sum() <= 450
        assert not (hits & ~mask).any()  # no hit outside the evaluated rows
        assert (hits[mask] == truth[mask]).mean() > 0.97
        # Rates over evaluated rows estimate the run's rate (the sample is self-weighting).
        assert hits[mask].mean() == pytest.approx(truth.mean(), abs=0.04)
        result = semantic_result(ctx, parse_behavior(GOBLINS))
        assert not result.exact and result.fraction == pytest.approx(0.4)
        below = near_misses(ctx, parse_behavior(GOBLINS), 3)
        assert all(score < result.calibration.threshold for _, score in below)
        assert evaluated_mask(ctx, "terms:goblin").all()


def test_small_runs_are_evaluated_exactly_and_detect_works(tmp_path: Path) -> None:
    with tool_context(tmp_path, planted_rows(300)) as ctx:
        configure_semantic(ctx, embedder=HashingEmbedder())
        out = call_tool(ctx, "detect", {"behavior": GOBLINS})
        assert semantic_result(ctx, parse_behavior(GOBLINS)).exact
        assert out.output.hits > 20
        assert "goblin" in out.text


def test_similar_ranks_within_the_filter(tmp_path: Path) -> None:
    rows = planted_rows(800)
    with tool_context(tmp_path, rows) as ctx:
        configure_semantic(ctx, cap=200, embedder=HashingEmbedder())
        found = similar_rows(ctx, "goblin king hides the gold", "persona = ?", ["nerdy"], 5)
        assert len(found) == 5
        assert all(rows[r]["persona"] == "nerdy" for r in found)
        assert all("goblin" in rows[r]["completion"] for r in found)
        assert list(found.values()) == sorted(found.values(), reverse=True)
        out = call_tool(ctx, "samples", {"similar": "goblin king hides the gold", "limit": 3})
        assert [s.score for s in out.output.samples] == sorted(
            [s.score for s in out.output.samples], reverse=True
        )
        assert "goblin" in out.output.samples[0].completion
        with pytest.raises(BadInputError):
            similar_rows(ctx, "  ", "TRUE", [], 3)


def test_missing_extra_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    with pytest.raises(SemanticExtraMissingError) as err:
        default_embedder()
    assert str(err.value) == EXTRA_MISSING
    assert isinstance(err.value, BadInputError)
