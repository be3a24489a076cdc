"""The Config tab: the run's config commits with the step each went live; pick one (against
its parent) or two to see the structural diff, coloured."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from rootcause.core.untrusted import inline
from rootcause.tools.builtin.config_diff import ConfigDiffOutput, diff_title
from rootcause.tui.widgets.blocks import plain

HELP = "Enter: the commit against its parent · Space: pick two commits, then Enter compares them"
MARK = "●"
#: Longest change shown (whole config values wrap; a hostile megabyte value does not).
MAX_SHOWN_CHARS = 4000


class ConfigTab(Vertical):
    """Commits (from `config_history`) and the diff picked (from `config_diff`)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("space", "mark", "Pick", show=True)]

    class DiffRequest(Message):
        def __init__(self, commit: str, base: str | None) -> None:
            super().__init__()
            self.commit = commit
            self.base = base

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.commits: list[str] = []
        self.marked: list[str] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static(plain(HELP), classes="hint")
        table: DataTable[str] = DataTable(id="config-table", cursor_type="row")
        table.add_columns(" ", "commit", "live at", "date", "message", "touches")
        yield table
        with VerticalScroll(id="config-diff"):
            yield Static(plain("Loading the config history…"), id="diff-text")

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#config-table", DataTable)

    def show_history(self, output: Any) -> None:
        """Fill the table from a `config_history` output (oldest first)."""
        self.loaded = True
        table = self.table
        table.clear()
        self.commits = [c.sha for c in output.commits]
        for c in output.commits:
            live = ", ".join(str(s) for s in c.live_steps) or "never"
            touches = ", ".join([*c.components, *c.sources])
            table.add_row(
                "",
                c.sha[:10],
                live,
                c.date[:10],
                inline(c.message, 70),
                inline(touches, 50),
                key=c.sha,
            )
        self._text(plain(f"{len(self.commits)} commits. {HELP}."))

    def show_missing(self, message: str) -> None:
        self.loaded = True
        self._text(plain(message))

    def _text(self, content: Content) -> None:
        self.query_one("#diff-text", Static).update(content)

    def _highlighted(self) -> str | None:
        table = self.table
        if not self.commits or table.cursor_row < 0:
            return None
        return self.commits[min(table.cursor_row, len(self.commits) - 1)]

    def action_mark(self) -> None:
        sha = self._highlighted()
        if sha is None:
            return
        if sha in self.marked:
            self.marked.remove(sha)
        else:
            self.marked = [*self.marked[-1:], sha]
        for commit in self.commits:
            self.table.update_cell(commit, self.table.ordered_columns[0].key, self._mark(commit))

    def _mark(self, sha: str) -> str:
        return MARK if sha in self.marked else ""

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if len(self.marked) == 2:
            older, newer = sorted(self.marked, key=self.commits.index)
            self.post_message(self.DiffRequest(newer, older))
            return
        sha = str(event.row_key.value)
        self.post_message(self.DiffRequest(sha, None))

    def show_diff(self, output: ConfigDiffOutput) -> None:
        """Show a `config_diff` output: each file's title once, its changes under it with
        whole values (wrapped, never cut), coloured: removed and old values in red, added
        and new values in green."""
        parts = [Content.styled(diff_title(output), "bold"), Content("")]
        for f in output.files:
            parts.append(Content.styled(inline(f.title, MAX_SHOWN_CHARS), "bold cyan"))
            parts += [change_line(change) for change in f.changes]
        if output.effects:
            parts += [Content.styled("\nin short:", "bold")]
            parts += [Content(f"  * {e.line()}") for e in output.effects]
        self._text(Content("\n").join(parts))
        self.query_one("#config-diff", VerticalScroll).scroll_home(animate=False)


def change_line(change: str) -> Content:
    """One change of a file, indented and coloured: `+ key: value` green, `- key: value` red,
    `key old → new` with old red and new green; unified diff lines by their first mark."""
    shown = inline(change, MAX_SHOWN_CHARS)
    style = {"+": "green", "-": "red", "@": "cyan"}.get(shown[:1])
    if style is not None:
        return Content.styled("  " + shown, style)
    if shown[:1].isspace():
        return Content.styled("  " + shown, "dim")
    before, arrow, after = shown.rpartition(" → ")
    if not arrow:
        return Content("  " + shown)
    key, space, old = before.partition(" ")
    return Content.assemble("  " + key + space, (old, "red"), " → ", (after, "green"))
