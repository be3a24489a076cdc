"""A session's entries as Markdown: the transcript kept in its folder and `/export`.

Tool output is text written by tools (sample text in it is already quoted as data) and goes in
fenced blocks; names and arguments go through the sanitiser. Plots are linked as images: by
`plot_link`, which maps a PNG's path to the link the document uses (the export copies them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from rootcause.chat.entries import (
    AgentText,
    ChatEntry,
    InvestigationUpdate,
    LedgerChange,
    Notice,
    ReadingChoice,
    RemedyResult,
    ToolBlock,
    UsageTotals,
    UserMessage,
)
from rootcause.chat.readings import choice_lines
from rootcause.core.untrusted import args_text, figures_text, inline
from rootcause.investigate.events import (
    DetectorSettled,
    EvidenceRecorded,
    HypothesisChanged,
    InvestigationCancelled,
    InvestigationFailed,
    InvestigationFinished,
    InvestigationStarted,
    ToolFailed,
)

PlotLink = Callable[[str], str | None]


def fence(text: str) -> str:
    """`text` in a code fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}\n{text}\n{ticks}"


def _relative_link(folder: Path) -> PlotLink:
    def link(png: str) -> str | None:
        try:
            return str(Path(png).relative_to(folder))
        except ValueError:
            return png

    return link


def hypothesis_line(e: HypothesisChanged) -> str:
    commit = f" @ {e.commit[:10]}" if e.commit else ""
    head = f"{e.id} {e.kind} {inline(e.candidate, 80)}{commit}"
    if e.change == "proposed":
        return f"{head} proposed: {inline(e.statement, 200)}"
    cited = f" [{', '.join(e.evidence)}]" if e.evidence else ""
    note = f"; {inline(e.note, 200)}" if e.note else ""
    return f"{head}: {e.status} ({e.confidence:.2f}){cited}{note}"


def _tool(entry: ToolBlock, link: PlotLink) -> str:
    where = f" (investigation {entry.owner})" if entry.owner else ""
    ident = entry.evidence_id or "refused"
    head = f"**{ident} `{entry.tool}`**{where} {args_text(entry.arguments)}".rstrip()
    if entry.error:
        hint = f"\n\n{entry.hint}" if entry.hint else ""
        return f"{head}: failed\n\n{fence(entry.error)}{hint}"
    parts = [head, fence(entry.text) if entry.text else ""]
    if entry.figures and not entry.text:
        parts.append(figures_text(entry.figures))
    target = link(entry.plot_png) if entry.plot_png else None
    if target:
        parts.append(f"![{entry.tool} {ident}]({target})")
    return "\n\n".join(p for p in parts if p)


def _investigation(entry: InvestigationUpdate) -> str:
    e = entry.event
    n = entry.number
    match e:
        case InvestigationStarted():
            return f"**Investigation {n}** `{e.investigation}` of: {inline(e.spec.symptom)}"
        case DetectorSettled():
            spec = f"`{e.behavior.spec}` ({e.behavior.direction})" if e.behavior else "none"
            return f"_investigation {n}: detector {spec}_"
        case EvidenceRecorded():
            r = e.evidence
            return f"_investigation {n}: {r.id} `{r.tool}`: {inline(r.summary, 200)}_"
        case ToolFailed():
            return f"_investigation {n}: `{e.tool}` failed: {inline(e.error, 200)}_"
        case HypothesisChanged():
            return f"_investigation {n}: {hypothesis_line(e)}_"
        case InvestigationFinished():
            findings = "".join(
                f"\n{f.rank}. {f.kind} {inline(f.id, 80)} (confidence {f.confidence:.2f})"
                for f in e.findings
            )
            return (
                f"**Investigation {n}: {e.verdict}.** {inline(e.summary, 1000)}{findings}\n\n"
                f"Report: {e.report_markdown}"
            )
        case InvestigationFailed():
            return f"**Investigation {n} failed:** {inline(e.message, 500)}"
        case InvestigationCancelled():
            return f"**Investigation {n} cancelled** in {e.phase}; resume it with `{e.resume}`"
    return ""


def entry_markdown(entry: ChatEntry, folder: Path, plot_link: PlotLink | None = None) -> str:
    """One entry as Markdown ("" for entries a transcript leaves out)."""
    link = plot_link or _relative_link(folder)
    match entry:
        case UserMessage():
            return "> **you:** " + entry.text.replace("\n", "\n> ")
        case AgentText() | RemedyResult():
            return entry.text
        case ToolBlock():
            return _tool(entry, link)
        case Notice():
            hint = f" {entry.hint}" if entry.hint else ""
            if entry.level == "help":
                return fence(entry.text)
            return f"_{entry.level}: {entry.text}{hint}_"
        case InvestigationUpdate():
            return _investigation(entry)
        case LedgerChange():
            return f"_ledger: {hypothesis_line(entry.event)}_"
        case ReadingChoice():
            return fence("\n".join(choice_lines(entry)))
        case UsageTotals():
            return ""
    return ""
