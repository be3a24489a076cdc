"""The command palette (Ctrl+P): the slash commands, which it puts in the prompt, and the
app's own actions."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from rootcause.tui.app import ChatApp


class SlashCommands(Provider):
    """Every slash command (registry tools included) and the app's actions."""

    @property
    def chat(self) -> ChatApp:
        from rootcause.tui.app import ChatApp

        assert isinstance(self.app, ChatApp)
        return self.app

    def _entries(self) -> list[tuple[str, str, object]]:
        from rootcause.chat.command import commands

        found: list[tuple[str, str, object]] = [
            (f"/{c.name}", c.summary, partial(self.chat.insert_command, c.name))
            for c in commands().values()
        ]
        found += [
            ("Cancel the running turn", "Esc", self.chat.action_cancel),
            ("Show the hypotheses board", "Ctrl+B toggles it", self.chat.action_toggle_board),
            ("Show the evidence", "F2", partial(self.chat.action_tab, "evidence")),
            ("Show the config history", "F3", partial(self.chat.action_tab, "config")),
            ("Show the report", "F4", partial(self.chat.action_tab, "report")),
        ]
        return found

    async def discover(self) -> Hits:
        for name, help_text, callback in self._entries():
            yield DiscoveryHit(name, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)  # type: ignore[arg-type]
