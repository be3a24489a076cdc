"""Markdown tables of an eval: one row per bug id and a total, chance beside each rate."""

from __future__ import annotations

from collections.abc import Mapping

from rootcause.evaluation.aggregate import Summary

COLUMNS = (
    "bug",
    "n",
    "top-1",
    "hit@3",
    "MRR",
    "null spec.",
    "multi prec.",
    "commit acc.",
    "chance top-1",
    "absent right",
    "inconcl.",
    "not found",
    "errors",
    "wall s",
    "tool calls",
    "tokens",
    "cost $",
)


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _row(name: str, s: Summary) -> list[str]:
    tokens = s.tokens_in + s.tokens_out
    return [
        name,
        str(s.scenarios),
        _rate(s.top1),
        _rate(s.hit3),
        _rate(s.mrr),
        _rate(s.null_specificity),
        _rate(s.multi_precision),
        _rate(s.commit_accuracy),
        _rate(s.chance_top1),
        _rate(s.absent_right),
        str(s.inconclusive),
        str(s.not_found),
        str(s.errors),
        "–" if s.wall_s_mean is None else f"{s.wall_s_mean:.1f}",
        "–" if s.tool_calls_mean is None else f"{s.tool_calls_mean:.0f}",
        f"{tokens:,}",
        f"{s.cost_usd:.2f}",
    ]


def markdown_table(summary: Summary, per_bug: Mapping[str, Summary]) -> str:
    """Per-bug rows then the total; rates are means over the scenarios they apply to,
    `absent right` is the share of absent-symptom scenarios ending `symptom_not_found`,
    `inconcl.` and `not found` count inconclusive and symptom_not_found verdicts (no cause
    named), wall time and tool calls are
    means per scenario, tokens and cost are totals."""
    rows = [_row(f"`{bug}`", s) for bug, s in per_bug.items()]
    rows.append(_row("**all**", summary))
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(COLUMNS))) + "|",
        *("| " + " | ".join(r) + " |" for r in rows),
    ]
    return "\n".join(lines) + "\n"
