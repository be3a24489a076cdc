"""`emerging`: what rose most between an early and a late window, found without a symptom."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from rootcause.analysis.ngrams import EmergingNgram, emerging_ngrams, tokenize
from rootcause.behaviour.behavior import TextField
from rootcause.core.errors import BadInputError
from rootcause.core.evidence import Figure
from rootcause.core.untrusted import inline, label, labels, quote
from rootcause.search.cluster import kmeans
from rootcause.search.embedders import SemanticExtraMissingError
from rootcause.search.index import fetch_texts
from rootcause.store.sql import fetch_one
from rootcause.tools.base import ToolInput, ToolOutput, tool
from rootcause.tools.context import ToolContext
from rootcause.tools.plotting import PlotSpec, Series
from rootcause.tools.steps import step_bound

#: Longest example text kept per cluster example.
MAX_EXAMPLE_CHARS = 2000
#: Longest text counted for n-grams (its head; n-grams are about short, repeated phrases).
MAX_NGRAM_TEXT_CHARS = 20_000


class EmergingInput(ToolInput):
    field: TextField = Field("completion", description="Text to compare: completion, reasoning…")
    early_step_min: int | None = step_bound("min", "the run's first", window="early")
    early_step_max: int | None = step_bound("max", "end of the first quarter", window="early")
    late_step_min: int | None = step_bound("min", "start of the last quarter", window="late")
    late_step_max: int | None = step_bound("max", "the run's last", window="late")
    top: int = Field(15, ge=1, le=50, description="Rising n-grams to report.")
    clusters: int = Field(8, ge=0, le=30, description="k for semantic clusters; 0 skips them.")
    max_texts: int = Field(20000, ge=100, le=500000, description="Texts per window for n-grams.")
    min_count: int = Field(5, ge=1, description="Skip n-grams seen fewer times in both windows.")


class RisingNgram(BaseModel):
    ngram: str
    count_early: int
    count_late: int
    per_million_early: float
    per_million_late: float
    z: float


class ClusterExample(BaseModel):
    sample_id: str | None
    step: int
    text: str = Field(description=f"The text, cut to {MAX_EXAMPLE_CHARS:,} chars.")
    chars: int | None = Field(None, description="The text's full length.")


class RisingCluster(BaseModel):
    cluster: int
    terms: list[str]
    early: int
    late: int
    share_early: float
    share_late: float
    growth: float
    z: float
    examples: list[ClusterExample]


class EmergingOutput(ToolOutput):
    field: str
    early: tuple[int, int]
    late: tuple[int, int]
    texts_early: int
    texts_late: int
    tokens_early: int
    tokens_late: int
    rising: list[RisingNgram]
    falling: list[RisingNgram]
    clusters: list[RisingCluster] | None
    cluster_note: str
    ngram_texts: tuple[int, int]

    def render(self) -> str:
        lines = [
            f"emerging in {self.field}: steps {self.early[0]}..{self.early[1]} "
            f"({self.texts_early:,} texts) vs {self.late[0]}..{self.late[1]} "
            f"({self.texts_late:,} texts); log-odds z with an informative Dirichlet prior",
        ]
        if self.ngram_texts != (self.texts_early, self.texts_late):
            lines.append(
                f"n-grams counted on a pseudo-random subset of {self.ngram_texts[0]:,} early and "
                f"{self.ngram_texts[1]:,} late texts"
            )
        lines.append("rising n-grams (count early → late, per million tokens, z):")
        for g in self.rising:
            lines.append(
                f"  {label(g.ngram)}: {g.count_early:,} → {g.count_late:,} "
                f"({g.per_million_early:,.0f} → {g.per_million_late:,.0f}/M), z={g.z:.1f}"
            )
        if not self.rising:
            lines.append("  (none)")
        if self.falling:
            shown = ", ".join(f"{label(g.ngram)} z={g.z:.1f}" for g in self.falling[:5])
            lines.append(f"falling most: {shown}")
        lines.append(f"semantic clusters: {inline(self.cluster_note)}")
        for c in self.clusters or []:
            lines.append(
                f"  cluster {c.cluster} [{labels(c.terms, '-')}]: share "
                f"{c.share_early:.1%} → {c.share_late:.1%} ({c.early} → {c.late} texts), "
                f"z={c.z:.1f}"
            )
            lines += [
                f"    step {e.step}: {quote(e.text, e.sample_id, total=e.chars)}"
                for e in c.examples
            ]
        return "\n".join(lines)

    def figures(self) -> dict[str, Figure]:
        figures: dict[str, Figure] = {
            "texts_early": self.texts_early,
            "texts_late": self.texts_late,
            "rising_z_over_3": sum(1 for g in self.rising if g.z > 3),
        }
        if self.rising:
            figures["top_ngram"] = self.rising[0].ngram
            figures["top_ngram_z"] = round(self.rising[0].z, 3)
        if self.clusters:
            top = self.clusters[0]
            figures["top_cluster_terms"] = ", ".join(top.terms)
            figures["top_cluster_share_early"] = round(top.share_early, 4)
            figures["top_cluster_share_late"] = round(top.share_late, 4)
        return figures

    def plot_spec(self) -> PlotSpec | None:
        if not self.rising:
            return None
        shown = self.rising[:15]
        return PlotSpec(
            title=f"Rising n-grams in {self.field}, steps {self.early[0]}-{self.early[1]} vs "
            f"{self.late[0]}-{self.late[1]}",
            y_label="log-odds z",
            categories=[g.ngram for g in shown],
            series=[
                Series(name="z", x=list(range(len(shown))), y=[g.z for g in shown], kind="bar")
            ],
        )


def _windows(ctx: ToolContext, args: EmergingInput) -> tuple[tuple[int, int], tuple[int, int]]:
    """Explicit windows, or the first and last quarter of the run's step range."""
    row = fetch_one(ctx.con, "SELECT min(step), max(step) FROM samples")
    lo, hi = int(row[0]), int(row[1])
    quarter = max(1, (hi - lo + 1) // 4)
    early = (
        lo if args.early_step_min is None else args.early_step_min,
        lo + quarter - 1 if args.early_step_max is None else args.early_step_max,
    )
    late = (
        hi - quarter + 1 if args.late_step_min is None else args.late_step_min,
        hi if args.late_step_max is None else args.late_step_max,
    )
    for name, (a, b) in (("early", early), ("late", late)):
        if a > b:
            raise BadInputError(
                f"{name} window {a}..{b} is empty ({name}_step_max is below {name}_step_min)"
            )
    return early, late


def _window_texts(
    ctx: ToolContext, field: str, window: tuple[int, int], cap: int
) -> tuple[list[str], int]:
    """Up to `cap` non-empty texts of the window (a deterministic pseudo-random subset, each
    cut to MAX_NGRAM_TEXT_CHARS so one huge text cannot flood memory) and the number of
    non-empty texts the window has."""
    where = f"step BETWEEN ? AND ? AND coalesce(length({field}), 0) > 0"
    total = int(fetch_one(ctx.con, f"SELECT count(*) FROM samples WHERE {where}", list(window))[0])
    rows = ctx.con.execute(
        f"SELECT left({field}, {MAX_NGRAM_TEXT_CHARS}) FROM samples WHERE {where} "
        f"ORDER BY md5(coalesce(sample_id, '') || '#' || row_idx::VARCHAR) LIMIT {int(cap)}",
        list(window),
    ).fetchall()
    return [r[0] for r in rows], total


def _ngram(g: EmergingNgram) -> RisingNgram:
    return RisingNgram(
        ngram=g.ngram,
        count_early=g.count_before,
        count_late=g.count_after,
        per_million_early=g.per_million_before,
        per_million_late=g.per_million_after,
        z=g.z,
    )


@tool("emerging")
def emerging(ctx: ToolContext, args: EmergingInput) -> EmergingOutput:
    """What rose most between an early and a late window of steps, without naming a symptom:
    unigrams and bigrams ranked by log-odds z-score (informative Dirichlet prior), and semantic
    clusters of texts whose share grew most (needs the semantic extra). Default windows: the
    first and last quarter of the run's steps. Use it to discover a tic or a new kind of
    answer, then turn the top n-gram or cluster into a behaviour spec for `detect`."""
    early, late = _windows(ctx, args)
    texts_early, n_early = _window_texts(ctx, args.field, early, args.max_texts)
    texts_late, n_late = _window_texts(ctx, args.field, late, args.max_texts)
    if not texts_early or not texts_late:
        empty = "early" if not texts_early else "late"
        window = early if not texts_early else late
        raise BadInputError(
            f"no {args.field} texts in the {empty} window (steps {window[0]}..{window[1]})"
        )
    grams = emerging_ngrams(texts_early, texts_late, top=args.top, min_count=args.min_count)
    clusters: list[RisingCluster] | None = None
    if args.clusters == 0:
        note = "skipped (clusters=0)"
    else:
        try:
            clusters, note = _rising_clusters(ctx, args, early, late)
        except SemanticExtraMissingError as exc:
            note = f"skipped: {exc}"
    return EmergingOutput(
        field=args.field,
        early=early,
        late=late,
        texts_early=n_early,
        texts_late=n_late,
        tokens_early=grams.tokens_before,
        tokens_late=grams.tokens_after,
        rising=[_ngram(g) for g in grams.rising],
        falling=[_ngram(g) for g in grams.falling[:10]],
        clusters=clusters,
        cluster_note=note,
        ngram_texts=(len(texts_early), len(texts_late)),
    )


def _rising_clusters(
    ctx: ToolContext, args: EmergingInput, early: tuple[int, int], late: tuple[int, int]
) -> tuple[list[RisingCluster], str]:
    """Cluster the early and late texts of the run's stratified sample together (spherical
    k-means) and rank clusters by how much their share grew from early to late."""
    from rootcause.behaviour.semantic import semantic_index

    index = semantic_index(ctx, args.field)
    sample = index.sample
    steps = sample.steps[sample.has_text]
    rows = sample.text_rows
    in_early = (steps >= early[0]) & (steps <= early[1])
    in_late = (steps >= late[0]) & (steps <= late[1]) & ~in_early
    n_e, n_l = int(in_early.sum()), int(in_late.sum())
    if min(n_e, n_l) < 10:
        return [], f"too few sampled texts to cluster ({n_e} early, {n_l} late)"
    chosen = rows[in_early | in_late]
    is_late = in_late[in_early | in_late]
    vectors = index.vectors(chosen)
    k = max(2, min(args.clusters, (n_e + n_l) // 20))
    fit = kmeans(vectors, k, seed=0)
    count_e = np.bincount(fit.labels[~is_late], minlength=k)
    count_l = np.bincount(fit.labels[is_late], minlength=k)
    share_e, share_l = count_e / n_e, count_l / n_l
    pooled = (count_e + count_l) / (n_e + n_l)
    se = np.sqrt(np.maximum(pooled * (1 - pooled) * (1 / n_e + 1 / n_l), 1e-12))
    z = (share_l - share_e) / se
    order = [c for c in np.argsort(-(share_l - share_e), kind="stable") if share_l[c] > share_e[c]]
    texts = fetch_texts(ctx.store, args.field, chosen)
    tokens = [tokenize(t) for t in texts]
    chosen_steps = steps[in_early | in_late]
    out: list[RisingCluster] = []
    for c in order[:5]:
        members = np.flatnonzero(fit.labels == c)
        others = np.flatnonzero(fit.labels != c)
        terms = emerging_ngrams(
            [tokens[i] for i in others],
            [tokens[i] for i in members],
            top=3,
            min_count=2,
            orders=(1,),
        ).rising
        late_members = members[is_late[members]]
        closest = late_members[np.argsort(-(vectors[late_members] @ fit.centroids[c]))[:2]]
        ids = _sample_ids(ctx, chosen[closest])
        out.append(
            RisingCluster(
                cluster=int(c),
                terms=[t.ngram for t in terms],
                early=int(count_e[c]),
                late=int(count_l[c]),
                share_early=float(share_e[c]),
                share_late=float(share_l[c]),
                growth=float(share_l[c] - share_e[c]),
                z=float(z[c]),
                examples=[
                    ClusterExample(
                        sample_id=ids.get(int(chosen[i])),
                        step=int(chosen_steps[i]),
                        text=texts[i][:MAX_EXAMPLE_CHARS],
                        chars=len(texts[i]),
                    )
                    for i in closest
                ],
            )
        )
    note = (
        f"k={k} on {n_e:,} early and {n_l:,} late texts of the stratified sample "
        f"(fraction {sample.fraction:.3g}, embedder {index.embedder.key})"
    )
    return out, note


def _sample_ids(ctx: ToolContext, rows: Any) -> dict[int, str | None]:
    if len(rows) == 0:
        return {}
    found = ctx.con.execute(
        "SELECT row_idx, sample_id FROM samples WHERE row_idx IN "
        f"({', '.join(str(int(r)) for r in rows)})"
    ).fetchall()
    return {int(r): s for r, s in found}
