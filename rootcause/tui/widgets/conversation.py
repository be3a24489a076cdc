"""The conversation pane: blocks in order, anchored to the bottom until the user scrolls up.

Streamed text is collected and written to the current Markdown block about ten times a
second (each write lays the block out again, so writing every token would fall behind); a tool
call closes the current block and the next text starts a new one. Old blocks are pruned past
`MAX_BLOCKS`, so a long session stays responsive (its transcript keeps everything).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.containers import VerticalScroll
from textual.widget import Widget

from rootcause.tui.widgets.blocks import (
    AgentBlock,
    MilestoneLine,
    NoticeBlock,
    ToolBlockView,
    UserBlock,
)

if TYPE_CHECKING:
    from rootcause.investigate.chat.entries import Notice, ToolBlock

#: Blocks kept on screen; older ones are removed (the session's transcript keeps them).
MAX_BLOCKS = 400
#: Seconds between writes of streamed text.
FLUSH_INTERVAL_S = 0.1


class Conversation(VerticalScroll):
    """Mounts blocks, streams text into Markdown in batches, finds a block by evidence id."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._pending: list[str] = []
        self._stream: AgentBlock | None = None
        self._tools: dict[tuple[str, str | None], ToolBlockView] = {}
        self.flushes = 0

    def on_mount(self) -> None:
        self.anchor()
        self.set_interval(FLUSH_INTERVAL_S, self.flush)

    # -- blocks ------------------------------------------------------------------------------
    def _add(self, widget: Widget) -> None:
        self.mount(widget)
        self._prune()

    def _prune(self) -> None:
        excess = len(self.children) - MAX_BLOCKS
        if excess > 0:
            old = list(self.children[:excess])
            self._tools = {k: v for k, v in self._tools.items() if v not in old}
            self.remove_children(old)

    def user(self, text: str) -> None:
        """What the user typed; the view follows the conversation again from here."""
        self.close_stream()
        self._add(UserBlock(text))
        self.anchor()

    def notice(self, notice: Notice) -> None:
        self.close_stream()
        self._add(NoticeBlock(notice))

    def error(self, text: str, hint: str | None = None) -> None:
        """An error block of the app itself (a worker that failed)."""
        self.close_stream()
        shown = f"✗ {text}" + (f"\n  → {hint}" if hint else "")
        self._add(MilestoneLine(shown, "error"))

    def remedy(self, markdown: str) -> None:
        """What `/fix` or `/filter` wrote, as Markdown."""
        self.close_stream()
        block = AgentBlock(markdown)
        block.add_class("remedy")
        self._add(block)

    def milestone(self, text: str, level: str = "info") -> None:
        self.close_stream()
        self._add(MilestoneLine(text, level))

    # -- streamed and whole text ---------------------------------------------------------------
    def delta(self, text: str) -> None:
        self._pending.append(text)

    def flush(self) -> None:
        """Write the text that streamed in since the last flush."""
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        self.flushes += 1
        if self._stream is None:
            self._stream = AgentBlock()
            self._add(self._stream)
        self._stream.add(text)

    def agent_text(self, text: str) -> None:
        """A whole reply: it completes the block that streamed it, or becomes one."""
        self.flush()
        if self._stream is not None:
            self._stream.finish(text)
        else:
            self._add(AgentBlock(text))
        self._stream = None

    def close_stream(self) -> None:
        self.flush()
        self._stream = None

    # -- tool calls --------------------------------------------------------------------------
    def tool_started(
        self, owner: str, tool: str, evidence_id: str | None, arguments: dict[str, Any]
    ) -> ToolBlockView:
        self.close_stream()
        view = ToolBlockView(tool, evidence_id, arguments, owner)
        if evidence_id is not None:
            self._tools[(owner, evidence_id)] = view
        self._add(view)
        return view

    def _view(
        self, owner: str, tool: str, evidence_id: str | None, arguments: dict[str, Any]
    ) -> ToolBlockView:
        view = self._tools.get((owner, evidence_id)) if evidence_id is not None else None
        if view is None or view.tool != tool:
            view = self.tool_started(owner, tool, evidence_id, arguments)
        return view

    def tool_block(self, owner: str, entry: ToolBlock) -> None:
        self._view(owner, entry.tool, entry.evidence_id, entry.arguments).fill(entry)

    def tool_recorded(
        self,
        owner: str,
        tool: str,
        evidence_id: str,
        arguments: dict[str, Any],
        summary: str,
        figures: dict[str, Any],
    ) -> None:
        self._view(owner, tool, evidence_id, arguments).fill_recorded(summary, figures)

    def tool_failed(self, owner: str, tool: str, evidence_id: str | None, error: str) -> None:
        self._view(owner, tool, evidence_id, {}).fail_recorded(error)

    def find(self, owner: str, evidence_id: str) -> ToolBlockView | None:
        return self._tools.get((owner, evidence_id))

    def show(self, owner: str, evidence_id: str) -> bool:
        """Scroll to the block of an evidence id and open it; False if it is not on screen."""
        view = self.find(owner, evidence_id)
        if view is None:
            return False
        view.collapsed = False
        self.release_anchor()
        self.scroll_to_widget(view, top=True, animate=False)
        view.add_class("flash")
        self.set_timer(1.5, lambda: view.remove_class("flash"))
        return True
