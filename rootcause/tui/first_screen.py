"""The first screen of a new session, as a part of the chat app: the run in a few lines and
its top emerging behaviours as numbered suggestions (found off the UI thread); a digit typed in
the empty prompt investigates one, until the first turn is sent. The same keys take a reading
of an open choice (`chat.readings`), and Enter in the empty prompt takes its first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.widgets import Static

from rootcause.tui.messages import Suggested
from rootcause.tui.widgets.blocks import plain
from rootcause.tui.widgets.conversation import Conversation
from rootcause.tui.widgets.prompt import PromptBar, PromptInput

if TYPE_CHECKING:
    from rootcause.chat.engine import ChatEngine
    from rootcause.chat.welcome import Suggestion


class FirstScreenMixin(App[int]):
    """The first screen's part of `ChatApp`."""

    engine: ChatEngine | None
    busy: bool
    turns_done: int
    suggestions: list[Suggestion]
    #: Readings of the open choice (keys 1-N and Enter take one until a turn is sent).
    keyed_choice: int = 0
    #: The first screen has its suggestions (or knows there are none).
    welcomed: bool = False

    if TYPE_CHECKING:

        def changed(self) -> None: ...

    def welcome(self) -> None:
        from rootcause.chat.welcome import run_lines

        assert self.engine is not None
        lines = [*run_lines(self.engine.overview), "", "Finding the run's emerging behaviours…"]
        self.query_one(Conversation).welcome("\n".join(lines))
        self.find_suggestions()

    @work(thread=True, group="peek", exit_on_error=False)
    def find_suggestions(self) -> None:
        from rootcause.chat.welcome import suggest

        assert self.engine is not None
        self.post_message(Suggested(suggest(self.engine)))

    def on_suggested(self, message: Suggested) -> None:
        from rootcause.chat.welcome import run_lines

        if self.engine is None or not self.query("#welcome"):
            return
        found = list(message.suggestions)
        keyed = self.turns_done == 0 and not self.busy  # digits start them until a turn
        self.suggestions = found if keyed else []
        self.welcomed = True
        lines = [*run_lines(self.engine.overview), ""]
        if found and keyed:
            lines.append("What rose in the run (press its number, prompt empty, to investigate):")
            lines += [f"  {n}  {s.line}" for n, s in enumerate(found, 1)]
        elif found:
            lines.append("What rose in the run (/investigate one):")
            lines += [f"  -  {s.line}" for s in found]
        else:
            lines.append("The run shows no emerging behaviour to suggest.")
        lines += ["", "Or describe a symptom: /investigate SYMPTOM.  /help lists everything."]
        self.query_one("#welcome", Static).update(plain("\n".join(lines)))
        self.changed()

    def start_suggestion(self, number: int) -> bool:
        """Key N with the prompt empty: investigate reading N of an open choice, else
        suggestion N (True: there was one)."""
        if self.busy:
            return False
        if self.keyed_choice:
            return 1 <= number <= self.keyed_choice and self._send(f"/reading {number}")
        if not 1 <= number <= len(self.suggestions):
            return False
        return self._send(self.suggestions[number - 1].command)

    def take_first_reading(self) -> bool:
        """Enter with the prompt empty: reading 1 of an open choice (True: there was one)."""
        return bool(self.keyed_choice) and not self.busy and self._send("/reading 1")

    def _send(self, command: str) -> bool:
        self.query_one(PromptBar).set_text(command)
        self.query_one(PromptInput).action_submit()
        return True
