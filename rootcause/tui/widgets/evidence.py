"""The Evidence tab: a table of the session's evidence records (the session's own tool calls
and those of its investigations) and, for the one opened, its full output and plot.

Ids are unique in the session: the session's own records keep theirs (`E5`), an
investigation's carry its number (`I2:E5`: evidence E5 of investigation 2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from rootcause.core.untrusted import args_text, figures_text, inline
from rootcause.tui.widgets.blocks import plain
from rootcause.tui.widgets.plot import PlotView

if TYPE_CHECKING:
    from rootcause.chat.entries import ToolBlock
    from rootcause.core.evidence import Evidence
    from rootcause.tools.plotting import PlotSpec

OPEN_HINT = "Enter on a row shows its full output and plot."
#: Figures shown in the table's column.
TABLE_FIGURES = 3
#: The table's columns and their widths (None: as wide as the text).
COLUMNS = (("id", 7), ("tool", 18), ("behaviour", 22), ("key figures", 34), ("summary", None))


@dataclass
class EvidenceRow:
    """One record: who made it (`""`: the session; else an investigation), and either the
    session's whole block or an investigation's record."""

    owner: str
    source: str
    evidence_id: str
    tool: str
    arguments: dict[str, Any]
    figures: dict[str, Any]
    summary: str
    block: ToolBlock | None = None

    @property
    def key(self) -> str:
        return f"{self.owner}:{self.evidence_id}"

    @property
    def shown_id(self) -> str:
        return shown_id(self.owner, self.evidence_id)

    @property
    def behavior(self) -> str:
        """The behaviour the record measures (a detector's, or the one it was given)."""
        value = self.figures.get("behavior") or self.arguments.get("behavior") or ""
        return str(value)


def shown_id(owner: str, evidence_id: str) -> str:
    """An evidence id unique in the session: `I2:E5` for investigation 2's E5."""
    return f"I{owner[1:]}:{evidence_id}" if owner.startswith("#") else evidence_id


class EvidenceTab(Vertical):
    """The table, and the detail of the row opened (Enter)."""

    class Open(Message):
        """Show this record in full (an investigation's: run it again from its arguments)."""

        def __init__(self, row: EvidenceRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: dict[str, EvidenceRow] = {}

    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable(
            id="evidence-table", cursor_type="row", zebra_stripes=True
        )
        for name, width in COLUMNS:
            table.add_column(name, width=width)
        yield table
        with VerticalScroll(id="evidence-detail"):
            yield Static(plain(OPEN_HINT), classes="detail-note")

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#evidence-table", DataTable)

    def add_block(self, entry: ToolBlock) -> None:
        if entry.evidence_id is None or entry.error is not None:
            return
        row = EvidenceRow(
            owner="",
            source="session",
            evidence_id=entry.evidence_id,
            tool=entry.tool,
            arguments=entry.arguments,
            figures=dict(entry.figures),
            summary=entry.text.splitlines()[0] if entry.text else "",
            block=entry,
        )
        self._add(row)

    def add_record(self, owner: str, source: str, evidence: Evidence) -> None:
        row = EvidenceRow(
            owner=owner,
            source=source,
            evidence_id=evidence.id,
            tool=evidence.tool,
            arguments=evidence.args,
            figures=dict(evidence.figures),
            summary=evidence.summary,
        )
        self._add(row)

    def _add(self, row: EvidenceRow) -> None:
        if row.key in self.rows:
            return
        self.rows[row.key] = row
        others = {k: v for k, v in row.figures.items() if k != "behavior"}
        figures = figures_text(others, limit=TABLE_FIGURES)
        self.table.add_row(
            row.shown_id,
            row.tool,
            inline(row.behavior, 40) or "-",
            inline(figures, 80),
            inline(row.summary, 200),
            key=row.key,
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.rows.get(str(event.row_key.value))
        if row is not None:
            self.post_message(self.Open(row))

    def show(self, row: EvidenceRow, text: str, plot: PlotSpec | None, note: str = "") -> None:
        """Show one record: its arguments, full output (or `note` while it is computed) and
        its plot."""
        detail = self.query_one("#evidence-detail", VerticalScroll)
        detail.remove_children()
        head = f"{row.shown_id} {row.tool} ({row.source}) {args_text(row.arguments)}"
        widgets: list[Any] = [Static(plain(head), classes="detail-head")]
        if note:
            widgets.append(Static(plain(note), classes="detail-note"))
        widgets.append(Static(plain(text), classes="tool-output"))
        if plot is not None:
            widgets.append(PlotView(plot, classes="tool-plot"))
        detail.mount_all(widgets)
        detail.scroll_home(animate=False)
