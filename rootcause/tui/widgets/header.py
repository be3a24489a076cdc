"""The header: the run (id, samples, steps, components), the brain and model, what the app is
doing, and the model's budget used (tokens, tool calls, dollars)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from rootcause.core.untrusted import label

if TYPE_CHECKING:
    from rootcause.core.run import RunOverview


#: The status when nothing runs.
READY = "ready"


class RunHeader(Static):
    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.run = "rootcause chat"
        self.brain = ""
        self.session = ""
        self.status = "opening…"
        self.usage = ""

    def set_run(self, overview: RunOverview, brain: str, session: str) -> None:
        self.run = (
            f"run {label(overview.run_id)} · {overview.samples:,} samples · "
            f"{overview.steps} steps · {len(overview.components)} components"
        )
        self.brain = brain
        self.session = session
        self.redraw()

    def set_status(self, status: str) -> None:
        self.status = status
        self.redraw()

    def set_usage(self, tokens_in: int, tokens_out: int, cost_usd: float, tool_calls: int) -> None:
        self.usage = (
            f"{tokens_in:,} in / {tokens_out:,} out tokens · {tool_calls} tool calls · "
            f"${cost_usd:.4f}"
        )
        self.redraw()

    def redraw(self) -> None:
        busy = not self.status.startswith(("ready", "opening"))
        line2 = [(self.status, "bold yellow" if busy else "green")]
        if self.usage:
            line2 += [("  ·  ", ""), (self.usage, "")]
        if self.session:
            line2 += [("  ·  ", ""), (f"session {self.session}", "dim")]
        self.update(
            Content.assemble(
                ("rootcause ", "bold"),
                self.run,
                (f" · {self.brain}" if self.brain else "", ""),
                "\n",
                *line2,
            )
        )
