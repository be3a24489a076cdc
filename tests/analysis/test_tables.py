"""Weight regression, reward contrast, enrichment and emerging n-grams on planted data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from rootcause.analysis.contrast import reward_contrast
from rootcause.analysis.enrichment import enrichment
from rootcause.analysis.ngrams import emerging_ngrams, tokenize
from rootcause.analysis.regression import fit_weights


def test_fit_weights_recovers_planted_weights_per_window():
    rng = np.random.default_rng(0)
    n = 4000
    R = rng.random((n, 3))
    R[rng.random(n) < 0.3, 2] = np.nan
    window = np.where(np.arange(n) < n // 2, "3f2a9c1", "9bc1d07")
    w = np.where((window == "3f2a9c1")[:, None], [1.0, 0.5, 0.2], [1.0, -0.5, 0.2])
    total = np.nansum(R * w, axis=1) + 0.1
    fits = {f.window: f for f in fit_weights(total, R, ["a", "b", "c"], windows=window)}
    assert fits["3f2a9c1"].weights["b"] == pytest.approx(0.5)
    assert fits["9bc1d07"].weights["b"] == pytest.approx(-0.5)
    assert fits["9bc1d07"].intercept == pytest.approx(0.1) and not fits["9bc1d07"].poor_fit
    noisy = fit_weights(total + rng.normal(0, 1, n), R, ["a", "b", "c"])[0]
    assert noisy.poor_fit
    never = fit_weights(total, np.column_stack([R, np.full(n, np.nan)]), ["a", "b", "c", "d"])[0]
    assert "d" in never.unidentified and np.isnan(never.weights["d"])


def test_reward_contrast_and_share_positive():
    rng = np.random.default_rng(0)
    n_groups, size = 600, 8
    groups = np.repeat(np.arange(n_groups), size)
    source = np.repeat(rng.choice(["s1", "s2", "s3", "s4"], n_groups), size)
    b = (rng.random(groups.size) < 0.4).astype(float)
    quirk = rng.normal(size=groups.size) + np.where(source != "s4", 0.5, -0.5) * b
    noise = rng.normal(size=groups.size)
    out = reward_contrast(
        groups, b, np.column_stack([quirk, noise]), ["quirk", "noise"], slices=source
    )
    q, z = out
    assert q.diff.lo > 0 and q.share_positive == pytest.approx(0.75)
    assert z.diff.lo < 0 < z.diff.hi
    assert q.n_groups <= n_groups and q.mean_with > q.mean_without


def test_enrichment_fisher_and_bh():
    rng = np.random.default_rng(0)
    src = rng.choice(["a", "b", "c", "d"], 5000)
    b = (rng.random(5000) < np.where(src == "c", 0.2, 0.05)).astype(int)
    res = enrichment(b, src)
    top = res.levels[0]
    assert top.label == "c" and top.lift > 2 and top.q_value < 1e-6
    table = [[top.hits_in, top.n_in - top.hits_in], [top.hits_out, top.n_out - top.hits_out]]
    assert top.p_value == pytest.approx(stats.fisher_exact(table)[1])
    assert all(lv.q_value >= lv.p_value for lv in res.levels)


def test_tokenize_and_emerging_ngrams():
    assert tokenize("The Goblin's hoard, 42 GOBLINS!") == [
        "the",
        "goblin's",
        "hoard",
        "42",
        "goblins",
    ]
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(300)])
    before = [" ".join(rng.choice(words, 30)) for _ in range(2000)]
    after = [" ".join(rng.choice(words, 30)) for _ in range(2000)]
    after = [t + " tiny goblin" if i % 8 == 0 else t for i, t in enumerate(after)]
    res = emerging_ngrams(before, after, top=10)
    top = {e.ngram for e in res.rising[:3]}
    assert {"goblin", "tiny goblin"} <= top
    g = next(e for e in res.rising if e.ngram == "goblin")
    assert g.count_before == 0 and g.count_after == 250 and g.z > 6
    assert all(e.z < 4.5 for e in res.rising if "goblin" not in e.ngram and "tiny" not in e.ngram)
    tokens = emerging_ngrams([t.split() for t in before], [t.split() for t in after], top=3)
    assert tokens.rising[0].ngram in {"goblin", "tiny", "tiny goblin"}
