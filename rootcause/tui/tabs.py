"""The board's and the tabs' part of the chat app: a hypothesis picked on the board shows its
evidence; the Config and Evidence tabs read what they show through tool calls that record no
evidence (in worker threads that only post messages)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App

from rootcause.core.errors import RootcauseError
from rootcause.tools.plotting import drawable
from rootcause.tui.messages import Peeked, PeekFailed
from rootcause.tui.widgets.board import HypothesisBoard
from rootcause.tui.widgets.configtab import ConfigTab
from rootcause.tui.widgets.conversation import Conversation
from rootcause.tui.widgets.evidence import EvidenceRow, EvidenceTab
from rootcause.tui.widgets.report import ReportTab

if TYPE_CHECKING:
    from pathlib import Path

    from rootcause.chat.engine import ChatEngine


class TabsMixin(App[int]):
    """The board's and the tabs' part of `ChatApp`."""

    engine: ChatEngine | None

    if TYPE_CHECKING:

        def changed(self) -> None: ...

        def action_tab(self, tab: str) -> None: ...

    def on_hypothesis_board_show_evidence(self, message: HypothesisBoard.ShowEvidence) -> None:
        item = message.item
        if not item.evidence:
            self.notify(f"{item.id} cites no evidence yet.")
            return
        self.action_tab("chat")
        conversation = self.query_one(Conversation)
        if not conversation.show(item.owner if item.owner != "chat" else "", item.evidence[0]):
            self.notify(f"{item.evidence[0]} is no longer on screen: see the Evidence tab (F2).")
        self.changed()

    def on_hypothesis_board_redrawn(self, message: HypothesisBoard.Redrawn) -> None:
        self.query_one("#board-empty").display = not self.query_one(HypothesisBoard).items
        self.changed()

    def load_config(self) -> None:
        self.peek("config-history", "config_history", {"limit": 500})

    @work(thread=True, group="peek", exit_on_error=False)
    def peek(self, purpose: str, tool: str, args: dict[str, Any], key: str = "") -> None:
        assert self.engine is not None
        try:
            result = self.engine.peek(tool, args)
        except RootcauseError as exc:
            self.post_message(PeekFailed(purpose, str(exc), key))
            return
        self.post_message(Peeked(purpose, result, key))

    def on_peeked(self, message: Peeked) -> None:
        if not self.query(ConfigTab):
            return  # the app is closing: its tabs are gone
        result = message.output
        if message.purpose == "config-history":
            self.query_one(ConfigTab).show_history(result.output)
        elif message.purpose == "config-diff":
            self.query_one(ConfigTab).show_diff(result.output)
        elif message.purpose == "evidence":
            tab = self.query_one(EvidenceTab)
            row = tab.rows.get(message.key)
            if row is not None:
                text = result.text.split("\n", 1)[1] if "\n" in result.text else result.text
                plot = drawable(result.output.plot_spec())
                tab.show(row, text, plot, "shown again from its arguments")
        self.changed()

    def on_peek_failed(self, message: PeekFailed) -> None:
        if not self.query(ConfigTab):
            return  # the app is closing: its tabs are gone
        if message.purpose.startswith("config"):
            self.query_one(ConfigTab).show_missing(message.error)
        else:
            self.notify(message.error, severity="error")
        self.changed()

    def on_config_tab_diff_request(self, message: ConfigTab.DiffRequest) -> None:
        args = {"commit": message.commit}
        if message.base:
            args["base"] = message.base
        self.peek("config-diff", "config_diff", args)

    def on_evidence_tab_open(self, message: EvidenceTab.Open) -> None:
        row: EvidenceRow = message.row
        tab = self.query_one(EvidenceTab)
        if row.block is not None:
            tab.show(row, row.block.text, row.block.plot)
            return
        tab.show(row, row.summary, None, "running it again from its arguments…")
        self.peek("evidence", row.tool, dict(row.arguments), row.key)

    def report_path(self) -> Path | None:
        return self.query_one(ReportTab).path
