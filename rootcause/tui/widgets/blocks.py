"""The blocks of the conversation: what the user typed, the agent's Markdown, tool calls
(collapsible: collapsed when they succeeded, open when they failed), notices and an
investigation's milestones.

Text that comes from the run or a tool is shown as plain text (never read as markup), so a
sample that contains `[bold]` or an escape sequence stays data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.content import Content
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import Collapsible, Markdown, Static

from rootcause.core.untrusted import args_text, figures_text, inline
from rootcause.tui.widgets.plot import PlotView

if TYPE_CHECKING:
    from rootcause.chat.entries import Notice, ToolBlock

#: Characters of a tool's first output line shown in its collapsed title.
TITLE_SUMMARY_CHARS = 90


def plain(text: str) -> Content:
    """`text` as content with no markup read in it."""
    return Content(text)


class UserBlock(Static):
    """What the user typed."""

    def __init__(self, text: str) -> None:
        super().__init__(plain(f"› {text}"), classes="user")


class AgentBlock(Markdown):
    """A Markdown block of the agent's reply; streamed text is appended to it in batches."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text, classes="agent")
        self.source_text = text

    def add(self, fragment: str) -> None:
        self.source_text += fragment
        self.append(fragment)

    def finish(self, text: str) -> None:
        """The whole reply: replaces what streamed in if it differs."""
        if text != self.source_text:
            self.source_text = text
            self.update(text)


class NoticeBlock(Static):
    """An error (with what to do next), a piece of information, or help text."""

    def __init__(self, notice: Notice) -> None:
        text = notice.text if notice.level == "help" else f"{_glyph(notice.level)} {notice.text}"
        if notice.hint:
            text += f"\n  → {notice.hint}"
        super().__init__(plain(text), classes=f"notice {notice.level}")


class MilestoneLine(Static):
    """One line of an investigation's progress (started, detector, verdict...)."""

    def __init__(self, text: str, level: str = "info") -> None:
        super().__init__(plain(text), classes=f"milestone {level}")


def _glyph(level: str) -> str:
    return {"error": "✗", "info": "•"}.get(level, "")


def tool_title(
    tool: str, evidence_id: str | None, arguments: dict[str, Any], status: str, summary: str = ""
) -> str:
    """The one line a tool block shows collapsed, as markup (names from the run escaped): id,
    tool and status first (so a narrow pane still shows how the call went), then arguments
    and summary."""
    ident = evidence_id or "—"
    args = args_text(arguments)
    head = f"[b]{escape(f'{ident} {tool}')}[/b] [{_status_style(status)}]{escape(status)}[/]"
    middle = f" {escape(args)}" if args else ""
    tail = f"  [dim]{escape(summary[:TITLE_SUMMARY_CHARS])}[/dim]" if summary else ""
    return head + middle + tail


def _status_style(status: str) -> str:
    if status.startswith("✗"):
        return "bold red"
    if status.startswith("…"):
        return "yellow"
    return "green"


class ToolBlockView(Collapsible):
    """A tool call. It opens as soon as the call starts (title only, collapsed) and is filled
    in when the result arrives: the output and plot for a success (collapsed), the error and
    what to do next for a failure (open)."""

    def __init__(
        self, tool: str, evidence_id: str | None, arguments: dict[str, Any], owner: str
    ) -> None:
        self.tool = tool
        self.evidence_id = evidence_id
        self.arguments = dict(arguments)
        self.owner = owner
        self.entry: ToolBlock | None = None
        self._waiting: list[tuple[str, tuple[Any, ...]]] = []
        self._ready = False
        #: False until the call's result (or failure) is shown.
        self.finished = False
        super().__init__(title=self._title_for("… running"), collapsed=True, classes="tool")
        # A click on the title opens the block without taking the focus from the prompt
        # (Ctrl+Up/Down and Ctrl+O step between blocks and open one from the keyboard).
        self._title.can_focus = False

    def scroll_visible(self, *args: Any, **kwargs: Any) -> None:
        """Do nothing: the conversation places its blocks (an opened block's top, or the end
        it follows). Collapsible scrolls itself into view after each opening, a refresh later;
        by then the user may have sent more, and that scroll would stop the view following."""

    def on_mount(self) -> None:
        self._ready = True
        waiting, self._waiting = self._waiting, []
        for name, args in waiting:
            getattr(self, name)(*args)

    def _later(self, name: str, *args: Any) -> bool:
        """Keep a call for when the block is mounted (its body exists then)."""
        if self._ready:
            return False
        self._waiting.append((name, args))
        return True

    def interrupted(self) -> None:
        """A call that never finished (the app closed while it ran): said in its title, so a
        reopened session shows nothing still running."""
        if self._later("interrupted"):
            return
        if not self.finished:
            self.finished = True
            self.title = self._title_for("✗ not finished", "the app closed while it ran")

    def _title_for(self, status: str, summary: str = "") -> str:
        ident = self.evidence_id
        if ident is not None and self.owner.startswith("#"):
            ident = f"I{self.owner[1:]}:{ident}"  # unique in the session: investigation 2's E5
        return tool_title(self.tool, ident, self.arguments, status, summary)

    def fill(self, entry: ToolBlock) -> None:
        """Show the call's result (a session call: full output and plot)."""
        if self._later("fill", entry):
            return
        self.finished = True
        self.entry = entry
        self.arguments = entry.arguments or self.arguments
        self.evidence_id = entry.evidence_id or self.evidence_id
        contents = self.query_one(Collapsible.Contents)
        if entry.error is not None:
            self.add_class("failed")
            self.title = self._title_for("✗ failed", inline(entry.error, TITLE_SUMMARY_CHARS))
            body = entry.error + (f"\n→ {entry.hint}" if entry.hint else "")
            contents.mount(Static(plain(body), classes="tool-error"))
            self.collapsed = False
            return
        first = entry.text.splitlines()[0] if entry.text else ""
        self.title = self._title_for("✓", first)
        widgets: list[Widget] = [Static(plain(entry.text or "(no output)"), classes="tool-output")]
        if entry.plot is not None:
            widgets.append(PlotView(entry.plot, classes="tool-plot"))
        contents.mount_all(widgets)

    def fill_recorded(self, summary: str, figures: dict[str, Any]) -> None:
        """Show an investigation's call: its summary and key figures (the Evidence tab
        shows the full output again from its arguments)."""
        if self._later("fill_recorded", summary, figures):
            return
        self.finished = True
        self.title = self._title_for("✓", summary)
        text = summary + (f"\n{figures_text(figures)}" if figures else "")
        self.query_one(Collapsible.Contents).mount(Static(plain(text), classes="tool-output"))

    def fail_recorded(self, error: str) -> None:
        if self._later("fail_recorded", error):
            return
        self.finished = True
        self.add_class("failed")
        self.title = self._title_for("✗ failed", inline(error, TITLE_SUMMARY_CHARS))
        self.query_one(Collapsible.Contents).mount(Static(plain(error), classes="tool-error"))
        self.collapsed = False
