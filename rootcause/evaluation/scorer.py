"""Scoring an investigation report against its answer key (pure functions, no I/O).

Definitions (a *scenario* here is one investigated run; with `--repeats` each repeat counts):

- A finding **matches** a cause when kind and id are equal and, for a `config_change` cause
  (and for any cause whose key carries a commit when the finding names one too), the commits
  are equal: full sha, or a finding commit that is a prefix of at least 7 characters.
- **top-1**: the rank-1 finding matches some cause. Over bug scenarios only (not `no_bug`).
- **hit@3**: some match among the first 3 findings. Bug scenarios only.
- **MRR**: 1 / rank of the first matching finding, 0 if none. Bug scenarios only.
- **null specificity**: the share of `no_bug` scenarios whose report names no cause (verdict
  `no_cause_found`, `inconclusive` or `symptom_not_found`).
- **absent right**: on a scenario asked with a symptom the run does not show (an answer key
  marked `absent`), whether the verdict is `symptom_not_found`; nothing else is scored there.
  Elsewhere `symptom_not_found` names no cause, so it is a miss on a bug scenario.
- **multi-cause precision at full recall**: for scenarios with two or more causes
  (`two_bugs`), the precision of the shortest ranked prefix that matches every cause (matching
  findings / prefix length); 0 if some cause is never matched.
- **commit accuracy**: among findings that name the kind and id of a cause whose key carries a
  commit, the share whose commit is right (a missing commit is wrong).
- **chance**: a ranker that orders the candidates (reward components + data sources + deployed
  commits, from the run's overview) at random: top-1 = k / n, hit@3 = P(one of k causes among
  3 of n), MRR = E[1 / rank of the first of k causes], with k causes and n candidates.
- **cost**: wall time, tool calls, tokens in and out, and dollars, from the report's stats.

An `inconclusive` report names no cause: its findings (kept for the reader, e.g. what a
stopped investigation had supported) are not scored, so it is a miss on a bug scenario and
not a false accusation on a `no_bug` one; `inconclusive` counts how many there were.

A scenario whose investigation failed counts as a miss everywhere (and as wrong in null
specificity) and is counted under `errors`. Flags are kept per scenario (`Flags`), so every
metric can be recomputed from stored flags without re-running (`metrics_from_flags`).
"""

from __future__ import annotations

from math import comb
from typing import Any

from pydantic import BaseModel, Field

from rootcause.core.report import Finding, Report

MIN_PREFIX = 7
#: Verdicts that name no cause.
NO_CAUSE_NAMED = ("no_cause_found", "inconclusive", "symptom_not_found")


class Cause(BaseModel):
    """One true cause as an answer key states it."""

    kind: str
    id: str
    commit: str | None = None
    slice: dict[str, str] | None = None


class FindingFlag(BaseModel):
    """How one ranked finding compares with the causes."""

    rank: int
    kind: str
    id: str
    commit: str | None = None
    cause: int | None = Field(None, description="index of the cause it matches, if any")
    names_cause: int | None = Field(None, description="index of a cause with its kind and id")
    commit_checked: bool = False
    commit_right: bool = False


class Flags(BaseModel):
    """Everything the metrics need about one scenario; stored with its result."""

    bug: str
    causes: int
    verdict: str | None = None
    findings: list[FindingFlag] = Field(default_factory=list)
    candidates: int | None = None
    error: str | None = None
    absent: bool = False  # asked with a symptom the run does not show


class Metrics(BaseModel):
    """One scenario's metrics; None where a metric does not apply to it."""

    top1: float | None = None
    hit3: float | None = None
    mrr: float | None = None
    null_specificity: float | None = None
    multi_precision: float | None = None
    commit_checked: int = 0
    commit_right: int = 0
    chance_top1: float | None = None
    chance_hit3: float | None = None
    chance_mrr: float | None = None
    absent_right: float | None = None


def commits_equal(finding: str | None, cause: str | None) -> bool:
    """Full sha equality, or the finding's commit is a prefix (>= 7 chars) of the cause's."""
    if not finding or not cause:
        return False
    f, c = finding.lower(), cause.lower()
    return f == c or (len(f) >= MIN_PREFIX and c.startswith(f))


def matches(finding: Finding | FindingFlag, cause: Cause) -> bool:
    """The matching rule of the module docstring."""
    if finding.kind != cause.kind or finding.id != cause.id:
        return False
    if cause.kind == "config_change" or (cause.commit and finding.commit):
        return commits_equal(finding.commit, cause.commit)
    return True


def causes_of(key: dict[str, Any]) -> list[Cause]:
    return [Cause.model_validate(c) for c in key.get("causes") or []]


def flag(
    report: Report | None, key: dict[str, Any], candidates: int | None, error: str | None = None
) -> Flags:
    """Compare a report (None if the investigation failed) with its answer key."""
    causes = causes_of(key)
    out = Flags(bug=str(key.get("bug")), causes=len(causes), candidates=candidates, error=error)
    out.absent = bool(key.get("absent"))
    if report is None:
        return out
    out.verdict = report.verdict
    if report.verdict in ("inconclusive", "symptom_not_found") or out.absent:
        return out  # names no cause: nothing to score
    out.findings = [
        _flag_one(FindingFlag(rank=f.rank, kind=f.kind, id=f.id, commit=f.commit), causes)
        for f in sorted(report.findings, key=lambda f: f.rank)
    ]
    return out


def reflag(flags: Flags, causes: list[Cause]) -> Flags:
    """The same findings compared again with `causes` (re-scoring a stored result)."""
    out = flags.model_copy(deep=True)
    out.causes = len(causes)
    out.findings = [_flag_one(f, causes) for f in out.findings]
    return out


def _flag_one(f: FindingFlag, causes: list[Cause]) -> FindingFlag:
    named = next((i for i, c in enumerate(causes) if c.kind == f.kind and c.id == f.id), None)
    checked = named is not None and bool(causes[named].commit)
    return f.model_copy(
        update={
            "cause": next((i for i, c in enumerate(causes) if matches(f, c)), None),
            "names_cause": named,
            "commit_checked": checked,
            "commit_right": checked
            and named is not None
            and commits_equal(f.commit, causes[named].commit),
        }
    )


def chance(causes: int, candidates: int | None) -> tuple[float | None, ...]:
    """Top-1, hit@3 and MRR of a random ordering of `candidates` with `causes` right ones."""
    n, k = candidates, causes
    if not n or k <= 0:
        return None, None, None
    k = min(k, n)
    top1 = k / n
    hit3 = 1 - comb(n - k, min(3, n)) / comb(n, min(3, n))
    # P(first right one at rank r) = C(n - r, k - 1) / C(n, k)
    mrr = sum(comb(n - r, k - 1) / comb(n, k) / r for r in range(1, n - k + 2))
    return top1, hit3, mrr


def metrics_from_flags(flags: Flags) -> Metrics:
    """One scenario's metrics from its stored flags."""
    m = Metrics()
    if flags.absent:
        m.absent_right = float(flags.error is None and flags.verdict == "symptom_not_found")
        return m
    first = min((i for i, f in enumerate(flags.findings) if f.cause is not None), default=None)
    if flags.causes == 0:
        m.null_specificity = float(flags.error is None and flags.verdict in NO_CAUSE_NAMED)
        return m
    m.top1 = float(first == 0)
    m.hit3 = float(first is not None and first < 3)
    m.mrr = 0.0 if first is None else 1.0 / (first + 1)
    if flags.causes >= 2:
        m.multi_precision = _precision_at_full_recall(flags)
    m.commit_checked = sum(f.commit_checked for f in flags.findings)
    m.commit_right = sum(f.commit_right for f in flags.findings)
    m.chance_top1, m.chance_hit3, m.chance_mrr = chance(flags.causes, flags.candidates)
    return m


def _precision_at_full_recall(flags: Flags) -> float:
    seen: set[int] = set()
    hits = 0
    for i, f in enumerate(flags.findings):
        if f.cause is not None:
            hits += 1
            seen.add(f.cause)
        if len(seen) == flags.causes:
            return hits / (i + 1)
    return 0.0


def score(
    report: Report | None, key: dict[str, Any], candidates: int | None, error: str | None = None
) -> tuple[Flags, Metrics]:
    """Flags and metrics of one scenario."""
    flags = flag(report, key, candidates, error)
    return flags, metrics_from_flags(flags)
