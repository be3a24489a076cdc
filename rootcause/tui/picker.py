"""The screen `rootcause chat` opens with no run: the workspace's sessions (newest first, each
named by its run and its first investigation) and its ingested runs; picking one opens it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from rootcause.chat.catalog import RunSummary, SessionSummary
from rootcause.chat.settings import OpenRequest
from rootcause.core.untrusted import inline, label


class PickerScreen(Screen[OpenRequest]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "app.quit", "Quit", priority=True)]

    def __init__(self, sessions: list[SessionSummary], runs: list[RunSummary]) -> None:
        super().__init__()
        self.sessions = sessions
        self.runs = runs
        self.choices: dict[str, OpenRequest] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(Content.styled("rootcause chat: open a session or a run", "bold"))
            if not self.sessions and not self.runs:
                yield Static(
                    Content(
                        "This workspace has no runs or sessions yet: rootcause chat RUN opens "
                        "one (make demo creates a demo run)."
                    )
                )
            options: list[Option | None] = []
            for s in reversed(self.sessions):
                key = f"session:{s.id}"
                self.choices[key] = OpenRequest(resume=s.id)
                title = inline(s.title, 70) if s.title else "(no investigation yet)"
                options.append(
                    Option(
                        Content.assemble((label(s.run_id), "bold"), f"  {title}  ", (s.id, "dim")),
                        id=key,
                    )
                )
            if options and self.runs:
                options.append(None)
            for r in self.runs:
                key = f"run:{r.source}"
                self.choices[key] = OpenRequest(run=r.source)
                options.append(
                    Option(
                        Content.assemble(("run ", "dim"), (r.run_id, "bold"), f"  {r.source}"),
                        id=key,
                    )
                )
            yield OptionList(*options, id="picker-list")
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        choice = self.choices.get(event.option.id or "")
        if choice is not None:
            self.dismiss(choice)
