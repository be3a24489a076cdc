"""The prompt: multi-line (Enter sends, Shift+Enter or Ctrl+J inserts a newline), Up/Down walk
the history kept across sessions, and slash commands are completed as they are typed (a menu
above the prompt; Tab takes the highlighted completion, Up/Down move in the menu, Esc closes
it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, TextArea
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from rootcause.chat.completion import Completion

Completer = Callable[[str], "list[Completion]"]
#: Completions shown at once (the menu scrolls).
MENU_ROWS = 8
PLACEHOLDER = "Ask about the run, or type / for commands (Enter sends, Shift+Enter newline)"


class PromptInput(TextArea):
    """The text area of the prompt; the bar around it handles completion and history."""

    # Shown in the footer. The keys are handled in `_on_key`, in order with the typed text:
    # a priority binding would run before the keys typed just before it reach the widget.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Send"),
        Binding("shift+enter", "newline", "Newline", show=False),
        Binding("pageup", "scroll_conversation('pageup')", "Scroll", key_display="PgUp/Dn"),
        Binding("pagedown", "scroll_conversation('pagedown')", "Scroll", show=False),
    ]

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, compact=True, placeholder=PLACEHOLDER)
        self.bar: PromptBar | None = None

    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        if key == "enter":
            self.action_submit()
        elif key in ("shift+enter", "ctrl+j"):
            self.action_newline()
        elif key == "tab" and self.bar is not None and self.bar.menu_open:
            self.bar.accept()
        elif key in ("pageup", "pagedown"):
            await self.action_scroll_conversation(key)
        elif key.isdigit() and key != "0" and not self.text and self._suggested(int(key)):
            pass
        else:
            return  # TextArea's own handler takes it
        event.stop()
        event.prevent_default()

    def action_submit(self) -> None:
        text = self.text
        if not text.strip():
            take = getattr(self.app, "take_first_reading", None)
            if take is not None:
                take()  # Enter with the prompt empty takes an open choice's first reading
            return
        self.post_message(self.Submitted(text))

    def action_newline(self) -> None:
        self.insert("\n")

    def _suggested(self, number: int) -> bool:
        """A digit typed in the empty prompt starts suggestion `number` of the first screen,
        if there is one (True: taken)."""
        start = getattr(self.app, "start_suggestion", None)
        return bool(start(number)) if start is not None else False

    async def action_scroll_conversation(self, key: str) -> None:
        """PageUp/PageDown scroll the conversation, not the (short) prompt."""
        await self.app.run_action(f"scroll({key!r})")

    def action_cursor_up(self, select: bool = False) -> None:
        bar = self.bar
        if bar is not None and not select:
            if bar.menu_open:
                bar.move(-1)
                return
            if self.cursor_location[0] == 0:
                bar.history_step(-1)
                return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        bar = self.bar
        if bar is not None and not select:
            if bar.menu_open:
                bar.move(1)
                return
            if self.cursor_location[0] == self.document.line_count - 1:
                bar.history_step(1)
                return
        super().action_cursor_down(select)


class PromptBar(Vertical):
    """The completion menu and the prompt under it."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.completer: Completer | None = None
        self.history: list[str] = []
        self._history_at: int | None = None
        self._draft = ""
        self._completions: list[Completion] = []
        self._quiet = False

    def compose(self) -> ComposeResult:
        menu = OptionList(id="completions")
        menu.display = False
        menu.can_focus = False
        yield menu
        prompt = PromptInput(id="prompt")
        prompt.bar = self
        yield prompt

    @property
    def input(self) -> PromptInput:
        return self.query_one(PromptInput)

    @property
    def menu(self) -> OptionList:
        return self.query_one("#completions", OptionList)

    @property
    def menu_open(self) -> bool:
        return bool(self.menu.display)

    # -- text ------------------------------------------------------------------------------
    def set_text(self, text: str) -> None:
        prompt = self.input
        self._quiet = True
        prompt.load_text(text)
        prompt.move_cursor(prompt.document.end)
        self._quiet = False
        self.refresh_completions()

    def take(self) -> str:
        """The text sent: cleared, added to the history."""
        text = self.input.text
        self._history_at = None
        self.set_text("")
        self.close_menu()
        return text

    # -- history ---------------------------------------------------------------------------
    def history_step(self, step: int) -> None:
        if not self.history:
            return
        if self._history_at is None:
            if step > 0:
                return
            self._draft = self.input.text
            at = len(self.history) - 1
        else:
            at = self._history_at + step
        if at >= len(self.history):
            self._history_at = None
            self.set_text(self._draft)
            return
        self._history_at = max(at, 0)
        self.set_text(self.history[self._history_at])
        self.close_menu()

    # -- completion ------------------------------------------------------------------------
    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if not self._quiet:
            self.refresh_completions()

    def refresh_completions(self) -> None:
        prompt = self.input
        row, column = prompt.cursor_location
        if self.completer is None or row != prompt.document.line_count - 1:
            self.close_menu()
            return
        before = prompt.get_text_range((0, 0), (row, column))
        self._completions = self.completer(before) if before.startswith("/") else []
        menu = self.menu
        menu.clear_options()
        if not self._completions:
            self.close_menu()
            return
        menu.add_options(
            Option(Content.assemble((c.label, "bold"), ("  " + c.help[:70], "dim")))
            for c in self._completions
        )
        menu.highlighted = 0
        menu.styles.height = min(len(self._completions), MENU_ROWS) + 2
        menu.display = True

    def close_menu(self) -> None:
        self.menu.display = False
        self._completions = []

    def move(self, step: int) -> None:
        menu = self.menu
        count = len(self._completions)
        if count:
            menu.highlighted = ((menu.highlighted or 0) + step) % count

    def accept(self) -> None:
        """Put the highlighted completion in place of the word being typed."""
        if not self.menu_open or not self._completions:
            return
        choice = self._completions[self.menu.highlighted or 0]
        prompt = self.input
        row, column = prompt.cursor_location
        before = prompt.get_text_range((0, 0), (row, column))
        after = prompt.get_text_range((row, column), prompt.document.end)
        self.set_text(before[: choice.start] + choice.value + after)
        prompt.move_cursor(_location(before[: choice.start] + choice.value))
        self.refresh_completions()


def _location(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines) - 1, len(lines[-1])
