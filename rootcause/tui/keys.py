"""The app's keys: its bindings (shown in the footer), the table `/help` prints, and typing
that lands on the prompt whatever has the focus.

The prompt keeps the focus: the conversation never takes it, a click on a block opens it
without moving the focus, and a printable key typed while a table or the board has the focus
(after F2, a click or Shift+Tab) moves the focus back to the prompt with the character typed,
so no typed text is ever lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.binding import Binding, BindingType

if TYPE_CHECKING:
    from textual import events
    from textual.app import App

#: The app's bindings; the footer shows those with a description (one entry for F1-F4).
APP_BINDINGS: list[BindingType] = [
    Binding("ctrl+q", "quit", "Quit", priority=True),
    Binding("escape", "cancel", "Cancel"),
    Binding("ctrl+up", "block(-1)", "Block", key_display="^↑↓"),
    Binding("ctrl+down", "block(1)", "Next block", show=False),
    Binding("ctrl+o", "open_block", "Open"),
    Binding("ctrl+home", "scroll('ctrl+home')", "Top", show=False),
    Binding("ctrl+end", "scroll('ctrl+end')", "End", show=False),
    Binding("f1", "tab('chat')", "Tabs", key_display="F1-4"),
    Binding("f2", "tab('evidence')", "Evidence", show=False),
    Binding("f3", "tab('config')", "Config", show=False),
    Binding("f4", "tab('report')", "Report", show=False),
    Binding("ctrl+b", "toggle_board", "Board"),
]

#: Keys the prompt takes itself (scrolling the conversation from the prompt).
PROMPT_SCROLL_KEYS = ("pageup", "pagedown")

#: What `/help` lists under "Keys" (keys, what they do).
KEY_TABLE: list[tuple[str, str]] = [
    ("Enter", "send; Shift+Enter or Ctrl+J: a new line"),
    ("Up / Down", "the prompt history (in the completion menu: move)"),
    ("Tab", "take the highlighted completion"),
    ("PageUp / PageDown", "scroll the conversation a page"),
    ("Ctrl+Home / Ctrl+End", "the start / the end of the conversation"),
    ("Ctrl+Up / Ctrl+Down", "step to the previous / next tool block"),
    ("Ctrl+O", "open or close the tool block stepped to"),
    ("1-9", "with the prompt empty: investigate suggestion N of the first screen, or reading N"),
    ("Enter (prompt empty)", "investigate reading 1 of a symptom that fits more than one"),
    ("F1 F2 F3 F4", "the Chat, Evidence, Config and Report tabs"),
    ("Enter (Evidence, Config)", "show the row; Space picks a second commit"),
    ("Ctrl+B", "show or hide the hypotheses board"),
    ("Esc", "cancel the running turn or investigation; close the menu"),
    ("Ctrl+P", "the command palette"),
    ("Ctrl+Q", "quit (the session is kept; its id is printed)"),
]


def bound(app: App[Any], key: str) -> bool:
    """True when a binding of the focused widget, its parents, the screen or the app takes
    `key` (so the key is left to it)."""
    return any(key in bindings.key_to_bindings for _, bindings in app.screen._modal_binding_chain)


def typed_elsewhere(app: App[Any], event: events.Key, prompt_id: str = "prompt") -> bool:
    """A printable key that no binding takes, typed while something else than the prompt has
    the focus: True if it was moved to the prompt (focus and character)."""
    from textual.widgets import TextArea

    if not event.is_printable or not event.character:
        return False
    prompts = app.screen.query(f"#{prompt_id}")
    if not prompts:
        return False
    prompt = prompts.first()
    if not isinstance(prompt, TextArea) or app.focused is prompt or bound(app, event.key):
        return False
    prompt.focus()
    prompt.insert(event.character)
    event.stop()
    event.prevent_default()
    return True
