"""The conversation pane: blocks in order, anchored to the bottom until the user scrolls up.

Streamed text is collected and written to the current Markdown block about ten times a
second (each write lays the block out again, so writing every token would fall behind); a tool
call closes the current block and the next text starts a new one. Old blocks are pruned past
`MAX_BLOCKS`, so a long session stays responsive (its transcript keeps everything).

The pane never takes the focus (the prompt keeps it, so typed text is never lost): the app
scrolls it from the prompt's keys, and a block cursor (`step`, `toggle`) steps between the
tool blocks and opens one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from rootcause.tui.widgets.blocks import (
    AgentBlock,
    MilestoneLine,
    NoticeBlock,
    ToolBlockView,
    UserBlock,
    plain,
)

if TYPE_CHECKING:
    from rootcause.chat.entries import Notice, ToolBlock

#: Blocks kept on screen; older ones are removed (the session's transcript keeps them).
MAX_BLOCKS = 400
#: Seconds between writes of streamed text.
FLUSH_INTERVAL_S = 0.1


class Conversation(VerticalScroll, can_focus=False):
    """Mounts blocks, streams text into Markdown in batches, finds a block by evidence id."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        #: The tool block the block cursor is on (Ctrl+Up/Down), if any.
        self.selected: ToolBlockView | None = None
        self._pending: list[str] = []
        self._stream: AgentBlock | None = None
        self._tools: dict[tuple[str, str | None], ToolBlockView] = {}
        self.flushes = 0
        #: Counts the times the view was sent back to following the end; a block's scroll to
        #: its top, deferred until it is laid out open, is dropped when this moved meanwhile
        #: (the user sent more, so the end is what they look at).
        self._follows = 0

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
            if self.selected in old:
                self.selected = None
            self.remove_children(old)

    def user(self, text: str) -> None:
        """What the user typed; the view follows the conversation again from here."""
        self.close_stream()
        self.select(None)
        self._add(UserBlock(text))
        self.follow()

    def follow(self) -> None:
        """Follow the end again: new blocks keep the view at the bottom."""
        self._follows += 1
        self.anchor()

    def welcome(self, text: str) -> None:
        """The first screen of a new session (the run, and what to start with)."""
        self._add(Static(plain(text), id="welcome", classes="welcome"))

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

    def tool_block(self, owner: str, entry: ToolBlock, live: bool = True) -> None:
        """A session call's result. What the user asked for by a slash command shows open
        (and, live, scrolled to its top); the chat agent's own calls stay collapsed."""
        view = self._view(owner, entry.tool, entry.evidence_id, entry.arguments)
        view.fill(entry)
        if entry.asked and entry.ok:
            if live:
                self.reveal(view)
            else:
                view.collapsed = False

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

    def interrupted(self) -> None:
        """Mark every tool block still waiting for its result as not finished."""
        for view in self.tool_views():
            view.interrupted()

    def find(self, owner: str, evidence_id: str) -> ToolBlockView | None:
        return self._tools.get((owner, evidence_id))

    def show(self, owner: str, evidence_id: str) -> bool:
        """Scroll to the block of an evidence id and open it; False if it is not on screen."""
        view = self.find(owner, evidence_id)
        if view is None:
            return False
        self.reveal(view)
        view.add_class("flash")
        self.set_timer(1.5, lambda: view.remove_class("flash"))
        return True

    def reveal(self, view: ToolBlockView) -> None:
        """Open a block and scroll its top into view (once it is laid out open)."""
        view.collapsed = False
        self.release_anchor()
        self.call_after_refresh(self._scroll_to_top_of, view, self._follows)

    def _scroll_to_top_of(self, view: ToolBlockView, follows: int) -> None:
        if view.is_attached and follows == self._follows:
            self.scroll_to_widget(view, top=True, animate=False, immediate=True)

    # -- keyboard: scrolling and the block cursor --------------------------------------------
    def scroll_by_key(self, key: str) -> None:
        """PageUp/PageDown a page, Ctrl+Home/Ctrl+End to the first or last block (the end
        follows new blocks again)."""
        if key in ("pageup", "ctrl+home"):
            # Release the anchor the way a user's scroll does: an anchored view jumps back to
            # the end at its next layout (a tab shown again, a new block), undoing the key.
            self.release_anchor()
        if key == "pageup":
            self.scroll_page_up(animate=False)
        elif key == "pagedown":
            self.scroll_page_down(animate=False)
        elif key == "ctrl+home":
            self.scroll_home(animate=False)
        elif key == "ctrl+end":
            self.follow()

    def tool_views(self) -> list[ToolBlockView]:
        return [c for c in self.children if isinstance(c, ToolBlockView)]

    def step(self, delta: int) -> ToolBlockView | None:
        """Move the block cursor to the previous (-1) or next (+1) tool block; from none, to
        the newest. The block is scrolled into view."""
        views = self.tool_views()
        if not views:
            return None
        if self.selected in views:
            at = views.index(self.selected) + delta
            at = min(max(at, 0), len(views) - 1)
        else:
            at = len(views) - 1
        self.select(views[at])
        return views[at]

    def select(self, view: ToolBlockView | None) -> None:
        if self.selected is not None:
            self.selected.remove_class("selected")
        self.selected = view
        if view is not None:
            view.add_class("selected")
            self.release_anchor()
            self.scroll_to_widget(view, animate=False, immediate=True)

    def toggle(self) -> ToolBlockView | None:
        """Open the block under the cursor (scrolled to its top), or close it."""
        view = self.selected if self.selected in self.tool_views() else self.step(-1)
        if view is None:
            return None
        if view.collapsed:
            self.reveal(view)
        else:
            view.collapsed = True
            self.scroll_to_widget(view, animate=False, immediate=True)
        return view
