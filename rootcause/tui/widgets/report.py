"""The Report tab: the Markdown report of the last investigation that concluded."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown

NO_REPORT = "_No report yet: `/investigate SYMPTOM` runs an investigation; its report shows here._"


class ReportTab(VerticalScroll):
    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.path: Path | None = None

    def compose(self) -> ComposeResult:
        yield Markdown(NO_REPORT, id="report-markdown")

    def load(self, path: Path) -> None:
        """Show the report at `path` (one line saying so if it cannot be read)."""
        self.path = path
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            text = f"_Cannot read {path}: {exc.strerror or exc}_"
        self.query_one("#report-markdown", Markdown).update(text)
        self.scroll_home(animate=False)
