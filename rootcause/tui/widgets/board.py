"""The hypotheses board: every hypothesis on one line (status, candidate, confidence, cited
evidence), updated live from the events, grouped by who keeps it (the chat's ledger, or an
investigation), the newest group first and what holds first in a group. Selecting one asks
the app to show its evidence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from rootcause.core.untrusted import inline

if TYPE_CHECKING:
    from rootcause.investigate.events import HypothesisChanged

#: How each status shows.
STATUS_STYLES = {
    "open": "dim",
    "testing": "bold yellow",
    "supported": "bold green",
    "refuted": "red",
    "inconclusive": "yellow",
}
#: Which hypotheses come first in a group: what holds, then what is being worked on, then what
#: fell (by confidence, then id, within a status).
STATUS_ORDER = {"supported": 0, "testing": 1, "open": 2, "inconclusive": 3, "refuted": 4}
#: Seconds to gather changes before the list is drawn again (an investigation sends dozens
#: at once).
REDRAW_DELAY_S = 0.05


@dataclass
class BoardItem:
    owner: str
    group: str
    id: str
    kind: str
    candidate: str
    commit: str | None
    status: str
    confidence: float
    evidence: list[str]

    @property
    def key(self) -> str:
        return f"{self.owner}:{self.id}"


class HypothesisBoard(OptionList):
    """The board (see the module doc)."""

    class Redrawn(Message):
        """The board shows the latest changes."""

    class ShowEvidence(Message):
        """The user picked a hypothesis: show the evidence it cites."""

        def __init__(self, item: BoardItem) -> None:
            super().__init__()
            self.item = item

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: dict[str, BoardItem] = {}
        self.groups: dict[str, str] = {}
        self._dirty = False

    def change(self, owner: str, group: str, event: HypothesisChanged) -> None:
        """A hypothesis proposed or a result recorded."""
        self.groups.setdefault(owner, group)
        self.items[f"{owner}:{event.id}"] = BoardItem(
            owner=owner,
            group=group,
            id=event.id,
            kind=event.kind,
            candidate=event.candidate,
            commit=event.commit,
            status=event.status,
            confidence=event.confidence,
            evidence=list(event.evidence),
        )
        self._schedule()

    def testing(self, owner: str, hypothesis_id: str | None) -> None:
        """An investigation started testing one hypothesis (the others it tested are done)."""
        for item in self.items.values():
            if item.owner == owner and item.status == "testing":
                item.status = "open"
            if item.owner == owner and item.id == hypothesis_id and item.status == "open":
                item.status = "testing"
        self._schedule()

    def _schedule(self) -> None:
        if not self._dirty:
            self._dirty = True
            self.set_timer(REDRAW_DELAY_S, self.redraw)

    def redraw(self) -> None:
        self._dirty = False
        highlighted = self.highlighted_option.id if self.highlighted_option else None
        self.clear_options()
        options: list[Option | None] = []
        for owner, group in reversed(self.groups.items()):
            members = sorted((i for i in self.items.values() if i.owner == owner), key=_board_order)
            if not members:
                continue
            if options:
                options.append(None)
            options.append(Option(Content.styled(group, "bold"), id=f"{owner}:", disabled=True))
            options += [Option(_prompt(i), id=i.key) for i in members]
        self.add_options(options)
        if highlighted is not None and highlighted in self._ids():
            self.highlighted = self.get_option_index(highlighted)
        self.post_message(self.Redrawn())

    def _ids(self) -> set[str]:
        return {f"{owner}:" for owner in self.groups} | set(self.items)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        item = self.items.get(event.option.id or "")
        if item is not None:
            self.post_message(self.ShowEvidence(item))


def _board_order(item: BoardItem) -> tuple[int, float, int, str]:
    number = int(item.id[1:]) if item.id[1:].isdigit() else 0
    return (STATUS_ORDER.get(item.status, len(STATUS_ORDER)), -item.confidence, number, item.id)


#: Evidence ids a board line names before `+N`.
CITED_SHOWN = 2


def candidate_text(item: BoardItem) -> str:
    """The candidate, with its commit unless the candidate is that commit."""
    name = inline(item.candidate, 24)
    commit = (item.commit or "")[:8]
    if not commit or commit.startswith(item.candidate[:8]) or item.candidate.startswith(commit):
        return name[:10] if item.kind == "config_change" else name
    return f"{name}@{commit}"


def _prompt(item: BoardItem) -> Content:
    """One line: id, status, confidence, candidate, cited evidence."""
    cited = " ".join(item.evidence[:CITED_SHOWN]) if item.evidence else "-"
    if len(item.evidence) > CITED_SHOWN:
        cited += f" +{len(item.evidence) - CITED_SHOWN}"
    return Content.assemble(
        (f"{item.id} ", "bold"),
        (f"{item.status:<9}", STATUS_STYLES.get(item.status, "")),
        f" {item.confidence:.2f} {candidate_text(item)} ",
        (cited, "dim"),
    )
