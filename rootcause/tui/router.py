"""Where each update of the chat engine goes on screen: the conversation, the board, the
evidence and report tabs, the header. Live updates and replayed entries take the same path,
so a resumed session looks as it did."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from rootcause.chat.entries import (
    AgentText,
    InvestigationUpdate,
    LedgerChange,
    Notice,
    ReadingChoice,
    RemedyResult,
    ShowReport,
    TextDelta,
    ToolBlock,
    ToolStarted,
    Update,
    UsageLive,
    UsageTotals,
    UserMessage,
    Working,
)
from rootcause.chat.readings import choice_lines
from rootcause.chat.transcript import hypothesis_line
from rootcause.core.untrusted import inline
from rootcause.investigate.events import (
    DetectorSettled,
    EvidenceRecorded,
    HypothesisChanged,
    InvestigationCancelled,
    InvestigationFailed,
    InvestigationFinished,
    InvestigationStarted,
    ModelTurn,
    PhaseStarted,
    ToolCalled,
    ToolFailed,
)
from rootcause.tui.widgets.board import HypothesisBoard
from rootcause.tui.widgets.conversation import Conversation
from rootcause.tui.widgets.evidence import EvidenceTab
from rootcause.tui.widgets.header import READY, RunHeader
from rootcause.tui.widgets.report import ReportTab

if TYPE_CHECKING:
    from textual.app import App

#: The board's group of the chat agent's own ledger.
CHAT_LEDGER = "chat"


def investigation_owner(number: int) -> str:
    return f"#{number}"


class Router:
    """Applies updates to the widgets of one app."""

    def __init__(self, app: App[int]) -> None:
        self.app = app
        self.symptoms: dict[int, str] = {}
        self.tool_calls: dict[int, int] = {}
        #: Investigations under way: number -> id.
        self.running: dict[int, str] = {}
        #: What the engine said it is busy with (None: idle).
        self.working: str | None = None

    def resume_command(self, investigation: str) -> str:
        """The command that finishes an investigation, runnable as printed."""
        workspace = shlex.quote(str(self.app.workspace.root))  # type: ignore[attr-defined]
        return f"rootcause --workspace {workspace} investigate --resume {investigation}"

    def running_work(self) -> str:
        """What is running, in words (for Ctrl+Q's message)."""
        if self.running:
            number, ident = max(self.running.items())
            return f"investigation {number} ({ident})"
        return self.working or "the running turn"

    @property
    def conversation(self) -> Conversation:
        return self.app.query_one(Conversation)

    @property
    def board(self) -> HypothesisBoard:
        return self.app.query_one(HypothesisBoard)

    @property
    def header(self) -> RunHeader:
        return self.app.query_one(RunHeader)

    @property
    def evidence(self) -> EvidenceTab:
        return self.app.query_one(EvidenceTab)

    def show_report(self, path: Path, switch: bool) -> None:
        self.app.query_one(ReportTab).load(path)
        if switch:
            self.app.query_one("#tabs").active = "report"  # type: ignore[attr-defined]

    def _reload_report(self, live: bool) -> None:
        """A fix appends its section to the report: show the report shown again."""
        tab = self.app.query_one(ReportTab)
        if live and tab.path is not None:
            tab.load(tab.path)

    def settle_replay(self) -> None:
        """After a reopened session's entries: what was still running when the app closed
        did not finish. Its tool blocks say so, and each investigation gets a line with the
        command that finishes it, so nothing shows as running."""
        self.conversation.interrupted()
        for number, ident in sorted(self.running.items()):
            self.board.testing(investigation_owner(number), None)
            self.conversation.milestone(
                f"✗ Investigation {number} ({ident}) did not finish: the app closed while it "
                f"ran. /resume {ident} finishes it (or: {self.resume_command(ident)})",
                "error",
            )
        self.running.clear()

    def apply(self, update: Update, live: bool = True) -> None:
        conversation = self.conversation
        match update:
            case UserMessage():
                conversation.user(update.text)
            case AgentText():
                conversation.agent_text(update.text)
            case TextDelta():
                conversation.delta(update.text)
            case ToolStarted():
                conversation.tool_started(
                    update.owner, update.tool, update.evidence_id, update.arguments
                )
            case ToolBlock():
                conversation.tool_block(update.owner, update, live)
                self.evidence.add_block(update)
            case Notice():
                conversation.notice(update)
            case RemedyResult():
                conversation.remedy(update.text)
                self._reload_report(live)
            case ReadingChoice():
                conversation.milestone("\n".join(choice_lines(update)), "choice")
                self.app.keyed_choice = len(update.options)  # type: ignore[attr-defined]
            case LedgerChange():
                self.board.change(CHAT_LEDGER, "chat ledger", update.event)
                conversation.milestone(f"◆ {hypothesis_line(update.event)}", "ledger")
            case InvestigationUpdate():
                self._investigation(update, live)
            case UsageTotals() | UsageLive():
                self.header.set_usage(
                    update.tokens_in, update.tokens_out, update.cost_usd, update.tool_calls
                )
            case Working():
                self.working = update.what
                self.header.set_status(
                    f"working: {update.what} (Esc cancels)" if update.what else READY
                )
            case ShowReport():
                self.show_report(update.path, switch=True)

    def _investigation(self, update: InvestigationUpdate, live: bool) -> None:
        n, e = update.number, update.event
        owner = investigation_owner(n)
        conversation = self.conversation
        match e:
            case InvestigationStarted():
                self.symptoms[n] = e.spec.symptom
                self.running[n] = e.investigation
                conversation.milestone(
                    f"▶ Investigation {n} ({e.spec.brain} brain): {inline(e.spec.symptom, 200)}",
                    "start",
                )
            case PhaseStarted():
                what = f"{e.phase} {e.hypothesis}" if e.hypothesis else e.phase
                if live:
                    self.header.set_status(f"investigation {n}: {what} (Esc cancels)")
                if e.phase == "test":
                    self.board.testing(owner, e.hypothesis)
            case DetectorSettled():
                b = e.behavior
                text = (
                    f"◆ detector settled: {inline(b.spec, 120)} ({b.direction}), rate "
                    f"{_pct(b.rate_early)} in the first tenth → {_pct(b.rate_late)} in the last"
                    if b
                    else "◆ no detector settled"
                )
                conversation.milestone(text, "detector")
            case ToolCalled():
                conversation.tool_started(owner, e.tool, e.evidence_id, e.arguments)
            case EvidenceRecorded():
                r = e.evidence
                self.tool_calls[n] = self.tool_calls.get(n, 0) + 1
                conversation.tool_recorded(owner, r.tool, r.id, r.args, r.summary, r.figures)
                self.evidence.add_record(owner, f"investigation {n}", r)
            case ToolFailed():
                conversation.tool_failed(owner, e.tool, e.evidence_id, e.error)
            case HypothesisChanged():
                group = f"investigation {n}: {inline(self.symptoms.get(n, ''), 40)}"
                self.board.change(owner, group, e)
            case ModelTurn():
                self.header.set_usage(
                    e.tokens_in_total,
                    e.tokens_out_total,
                    e.cost_usd_total,
                    self.tool_calls.get(n, 0),
                )
            case InvestigationFinished():
                self.running.pop(n, None)
                self.board.testing(owner, None)
                conversation.milestone(_verdict(n, e), f"verdict {e.verdict}")
                self.show_report(Path(e.report_markdown), switch=False)
            case InvestigationFailed():
                ident = self.running.pop(n, None)
                hint = (
                    f"the checkpoint is kept: /resume {ident} here, or {self.resume_command(ident)}"
                    if e.resumable and ident
                    else None
                )
                conversation.notice(
                    Notice(level="error", text=f"investigation {n} failed: {e.message}", hint=hint)
                )
            case InvestigationCancelled():
                self.running.pop(n, None)
                conversation.notice(
                    Notice(
                        level="info",
                        text=f"investigation {n} cancelled in {e.phase}",
                        hint=f"/resume {e.resume} finishes it here, or in a shell:\n"
                        f"    {self.resume_command(e.resume)}",
                    )
                )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _verdict(n: int, e: InvestigationFinished) -> str:
    lines = [f"■ Investigation {n}: {e.verdict.replace('_', ' ')}. {inline(e.summary, 600)}"]
    for f in e.findings:
        where = ", ".join(f"{k}={v}" for k, v in (f.slice or {}).items())
        commit = f" @ {f.commit[:10]}" if f.commit else ""
        lines.append(
            f"  {f.rank}. {f.kind} {inline(f.id, 80)}{commit}"
            + (f" ({inline(where, 60)})" if where else "")
            + f", confidence {f.confidence:.2f}"
        )
    lines.append("  The report is in the Report tab (F4).")
    return "\n".join(lines)
