"""Emerging: an n-gram (or semantic cluster) whose log-odds z is clear of noise after a
Bonferroni correction over every n-gram that could have been scored (at most two per token:
unigrams and bigrams); `medium` when `onset` finds a significant upward change point (its step
is the first step), `low` otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rootcause.analysis.distributions import norm_isf
from rootcause.behaviour.frame import run_frame
from rootcause.behaviour.matching import behavior_hits, match_bits
from rootcause.core.untrusted import quote
from rootcause.scan.checks import ALPHA, RunCheck, scan_check
from rootcause.tools.builtin.emerging import EmergingInput, emerging
from rootcause.tools.builtin.prevalence import OnsetInput, onset

#: Most emerging alerts per run (n-grams that share a word count as one).
MAX_EMERGING = 3
#: Longest example text kept in an alert.
EXAMPLE_CHARS = 240


def ngram_pattern(ngram: str) -> str:
    """A case-insensitive whole-word regex for an n-gram (its words, any gap of non-words)."""
    words = [re.escape(w) for w in ngram.split()]
    return r"(?i)\b" + r"\W+".join(words) + r"\b"


def z_bar(tests: int) -> float:
    """The two-sided z a statistic must exceed to be clear of noise among `tests` tests."""
    return norm_isf(ALPHA / (2 * max(tests, 1)))


@dataclass
class _Rising:
    label: str
    words: set[str]
    z: float
    related: list[str] = field(default_factory=list)


def _grouped(rising: Sequence[Any], bar: float) -> list[_Rising]:
    """Rising n-grams clear of the bar, strongest first; an n-gram that contains another's
    words, or whose words another contains ("bottom", "line", "bottom line"), joins it, and
    the longer names the group."""
    kept: list[_Rising] = []
    for g in rising:
        if g.z <= bar:
            continue
        words = set(g.ngram.split())
        same = [k for k in kept if k.words <= words or words <= k.words]
        if not same:
            kept.append(_Rising(g.ngram, words, g.z))
            continue
        into = same[0]
        for other in same[1:]:
            into.related += [other.label, *other.related]
            kept.remove(other)
        if len(words) > len(into.words):
            into.related.append(into.label)
            into.label, into.words = g.ngram, words
        else:
            into.related.append(g.ngram)
    return kept[:MAX_EMERGING]


@scan_check(
    "emerging",
    version=2,
    summary="n-grams (and semantic clusters) rising clear of noise",
)
def emerging_check(check: RunCheck) -> None:
    """Rising n-grams (and, with `clusters`, semantic clusters) clear of noise."""
    args = EmergingInput(clusters=check.options.clusters)
    result = check.run_tool(emerging, args)
    out = result.output
    bar = z_bar(2 * (out.tokens_early + out.tokens_late))
    groups = _grouped(out.rising, bar)
    # every group's matches in one scan of the texts, kept for `onset` and the example
    match_bits(check.ctx, [f"regex:{ngram_pattern(g.label)}" for g in groups])
    for group in groups:
        behavior = f"regex:{ngram_pattern(group.label)}"
        onset_args = OnsetInput(behavior=behavior)
        onset_result = check.run_tool(onset, onset_args)
        onset_out = onset_result.output
        found = onset_out.onset_step
        related = f" (with {', '.join(group.related)})" if group.related else ""
        check.alert(
            "emerging",
            onset_result if found is not None else result,
            onset_args if found is not None else args,
            subject=group.label,
            behavior=behavior,
            severity="medium" if found is not None else "low",
            first_step=found,
            share=onset_out.rate_after,
            detail=f"rising n-gram{related}: z={group.z:.1f} (bar {bar:.1f}), steps "
            f"{out.early[0]}..{out.early[1]} vs {out.late[0]}..{out.late[1]}; "
            f"found by {result.evidence.id}",
            example=_example(check, behavior, out.late[0]),
        )
    clusters = out.clusters or []
    cluster_bar = z_bar(len(clusters))
    for c in clusters:
        if c.z <= cluster_bar:
            continue
        first = c.examples[0] if c.examples else None
        check.alert(
            "emerging",
            result,
            args,
            subject="cluster: " + ", ".join(c.terms),
            severity="low",
            share=c.share_late,
            detail=f"semantic cluster share {c.share_early:.1%} -> {c.share_late:.1%}, "
            f"z={c.z:.1f} (bar {cluster_bar:.1f})",
            example=None if first is None else quote(first.text[:EXAMPLE_CHARS], first.sample_id),
        )


def _example(check: RunCheck, behavior: str, late_from: int) -> str | None:
    """The latest completion (last step, then first row) from `late_from` on that shows the
    n-gram's behaviour, quoted as data (its matches are kept: no second scan)."""
    hits = behavior_hits(check.ctx, behavior)
    steps = run_frame(check.ctx).step
    rows = np.flatnonzero(hits & (steps >= late_from))
    if rows.size == 0:
        return None
    last = rows[steps[rows] == steps[rows].max()][0]
    row = check.ctx.con.execute(
        "SELECT sample_id, completion FROM samples WHERE row_idx = ?", [int(last)]
    ).fetchall()[0]
    return quote(str(row[1])[:EXAMPLE_CHARS], row[0], total=len(str(row[1])))
