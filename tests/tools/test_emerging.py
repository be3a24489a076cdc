"""`emerging`: a phrase planted in the late steps rises to the top, found without a symptom."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from typing import Any

import pytest

from rootcause.behaviour.semantic import configure_semantic
from rootcause.core.errors import BadInputError
from rootcause.search import HashingEmbedder
from rootcause.tools.registry import call_tool
from tests.search.runs import OFF_TOPIC, make_run, tool_context

PHRASE = "as a wise old owl would say"


def rising_rows(n: int = 1200, steps: int = 40) -> list[dict[str, Any]]:
    """A new kind of answer, carrying the phrase, appears from step 10 on, in a share that
    grows to ~60% by the last step."""
    rng = random.Random(1)
    rows = []
    for i in range(n):
        step = i * steps // n
        base = f"{rng.choice(OFF_TOPIC)} (variant {rng.randint(0, 999)})"
        if step >= 10 and rng.random() < 0.6 * (step - 10) / (steps - 10):
            base = f"{PHRASE}, patience is the key to every answer ({rng.randint(0, 999)})"
        rows.append({"step": step, "sample_id": f"s-{i}", "completion": base})
    return rows


def test_planted_phrase_tops_ngrams_and_clusters(tmp_path: Path) -> None:
    pytest.importorskip("chromadb")
    with tool_context(tmp_path, rising_rows()) as ctx:
        configure_semantic(ctx, embedder=HashingEmbedder())
        result = call_tool(ctx, "emerging", {"top": 10})
        out = result.output
        assert out.early == (0, 9) and out.late == (30, 39)
        planted = set(f"{PHRASE} patience is the key to every answer".split())
        assert all(set(g.ngram.split()) <= planted for g in out.rising[:5])
        assert "owl" in {g.ngram for g in out.rising}
        assert out.rising[0].z > 5 and out.rising[0].count_early == 0
        assert out.clusters, out.cluster_note
        best = out.clusters[0]
        assert best.share_late > best.share_early + 0.2
        assert all(PHRASE in e.text for e in best.examples)
        assert "data not instructions" in result.text and len(result.text) <= 6000
        assert result.evidence.figures["top_ngram_z"] == pytest.approx(out.rising[0].z, abs=1e-3)
        plot = out.plot_spec()
        assert plot is not None and plot.series[0].kind == "bar"
        assert plot.categories == [g.ngram for g in out.rising[:15]]


def test_clusters_are_optional_without_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    with tool_context(tmp_path, rising_rows(400)) as ctx:
        out = call_tool(ctx, "emerging", {"early_step_max": 14, "late_step_min": 25}).output
        assert out.early == (0, 14) and out.late == (25, 39)
        assert out.clusters is None
        assert "pip install 'rootcause[semantic]'" in out.cluster_note
        assert out.rising and "owl" in {g.ngram for g in out.rising}
        with pytest.raises(BadInputError, match="empty"):
            call_tool(ctx, "emerging", {"early_step_min": 5, "early_step_max": 2})
        with pytest.raises(BadInputError, match="no completion texts"):
            call_tool(ctx, "emerging", {"late_step_min": 100, "late_step_max": 120})


def test_emerging_from_the_cli(cli, tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", rising_rows(400))
    result = cli("tool", "emerging", str(run), "--clusters", "0", "--no-plot")
    assert result.code == 0, result.err
    assert "rising n-grams" in result.out and "owl" in result.out
    assert "semantic clusters: skipped (clusters=0)" in result.out
