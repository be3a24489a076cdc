"""The semantic index with the hashing embedder: build, cache reuse, sampling, calibration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rootcause.search.calibrate import calibrate
from rootcause.search.embedders import HashingEmbedder
from rootcause.search.index import SemanticIndex
from rootcause.search.sampling import stratified_sample
from tests.search.runs import planted_rows, tool_context

pytest.importorskip("chromadb")


def test_build_embeds_once_and_reuses_the_cache(tmp_path: Path) -> None:
    events: list[tuple[str, int, int]] = []
    with tool_context(tmp_path, planted_rows(600)) as ctx:
        first = HashingEmbedder()
        index = SemanticIndex(
            ctx.store, cap=300, embedder=first, progress=lambda *e: events.append(e)
        ).build()
        sampled = index.sample.text_rows
        assert 250 <= index.sample.rows.size <= 350
        assert first.texts_embedded == sampled.size
        assert events[-1][0] == "index" and events[-1][1] == events[-1][2] == sampled.size
        assert any(stage == "embed" and done == sampled.size for stage, done, _ in events)
        assert index.query("goblins in the cave", 1)  # chroma answers

        again = HashingEmbedder()
        reopened = SemanticIndex(ctx.store, cap=300, embedder=again).build()
        assert again.calls == 0  # nothing re-embedded, nothing re-added
        np.testing.assert_array_equal(reopened.vectors(), index.vectors())
        assert reopened.query("goblins in the cave", 5) == index.query("goblins in the cave", 5)

        bigger = HashingEmbedder()
        SemanticIndex(ctx.store, cap=450, embedder=bigger).build()
        assert 0 < bigger.texts_embedded < 450  # only rows new to the larger sample


def test_stratified_sample_is_deterministic_and_self_weighting(tmp_path: Path) -> None:
    rows = planted_rows(2000)
    with tool_context(tmp_path, rows) as ctx:
        a = stratified_sample(ctx.con, "completion", 500)
        b = stratified_sample(ctx.con, "completion", 500)
        np.testing.assert_array_equal(a.rows, b.rows)
        assert abs(a.rows.size - 500) <= a.strata  # randomised rounding: about the cap
        assert a.fraction == pytest.approx(0.25)
        # Every step bin (20 bins of 2 steps, 4 strata each) is represented in proportion
        # (100 rows -> 25, up to one row of rounding per stratum), and so is the small persona.
        counts = np.bincount(a.steps // 2, minlength=20)
        assert counts.min() >= 21 and counts.max() <= 29
        nerdy = np.array([rows[int(r)]["persona"] == "nerdy" for r in a.rows])
        assert nerdy.mean() == pytest.approx(0.2, abs=0.04)
        # Reasoning: rows with empty text are sampled too (the sample stays self-weighting).
        r = stratified_sample(ctx.con, "reasoning", 500)
        assert 0 < (~r.has_text).sum() < r.rows.size
        whole = stratified_sample(ctx.con, "completion", 5000)
        assert whole.fraction == 1.0 and whole.rows.size == 2000


def test_calibrated_threshold_separates_the_planted_topic(tmp_path: Path) -> None:
    rows = planted_rows(1200)
    with tool_context(tmp_path, rows) as ctx:
        index = SemanticIndex(ctx.store, cap=1000, embedder=HashingEmbedder()).build()
        scores = index.scores("goblins and gremlins in the goblin cave")
        cal = calibrate(scores, floor=index.embedder.min_similarity)
        flagged = scores >= cal.threshold
        truth = np.array([rows[int(r)]["meta"]["on_topic"] for r in index.sample.text_rows])
        assert truth.sum() > 50
        assert (flagged & truth).sum() / truth.sum() >= 0.95  # recall
        assert (flagged & truth).sum() / flagged.sum() >= 0.95  # precision
        assert cal.method in ("otsu", "robust_z")


def test_calibration_rules() -> None:
    rng = np.random.default_rng(0)
    bulk = rng.normal(0.1, 0.05, 5000)
    rare = np.concatenate([bulk, rng.normal(0.7, 0.05, 25)])
    cal = calibrate(rare)
    assert cal.method == "robust_z"
    assert cal.threshold == pytest.approx(0.1 + 3.5 * 0.05, abs=0.02)
    assert (rare >= cal.threshold).sum() == pytest.approx(25, abs=5)
    common = np.concatenate([bulk, rng.normal(0.7, 0.05, 2000)])
    cal = calibrate(common)
    assert cal.method == "otsu" and 0.3 < cal.threshold < 0.5
    assert (common[5000:] >= cal.threshold).mean() > 0.99
    assert (common[:5000] >= cal.threshold).mean() < 0.01
    # Nothing on topic: a unimodal bulk flags almost nothing, and a floor can veto it.
    assert (bulk >= calibrate(bulk).threshold).mean() < 0.002
    assert calibrate(bulk, floor=0.5).method == "floor"
    assert calibrate(np.full(10, 0.3)).threshold == float("inf")
    assert calibrate(np.array([])).method == "empty"


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    a = HashingEmbedder().embed(["Goblins everywhere!", "", "the same text"])
    b = HashingEmbedder().embed(["Goblins everywhere!", "", "the same text"])
    np.testing.assert_array_equal(a, b)
    assert np.linalg.norm(a[0]) == pytest.approx(1.0)
    assert np.linalg.norm(a[1]) == 0.0  # no features: a zero vector, similar to nothing
