"""One whole systematic investigation of the quirk run, watched, shared by the tests that need
an uninterrupted report or its event stream to compare with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rootcause.core.report import Report
from rootcause.investigate.events import InvestigationEvent, JsonlEventWriter
from rootcause.investigate.job import Outcome, investigate
from rootcause.store.workspace import Workspace
from tests.conftest import LabRun


@dataclass
class Watched:
    outcome: Outcome
    events: list[InvestigationEvent]
    events_file: Path


@pytest.fixture(scope="session")
def systematic_whole(quirk_run: LabRun, tmp_path_factory: pytest.TempPathFactory) -> Watched:
    base = tmp_path_factory.mktemp("whole")
    writer = JsonlEventWriter(base / "events.jsonl")
    events: list[InvestigationEvent] = []

    def watch(event: InvestigationEvent) -> None:
        events.append(event)
        writer(event)

    outcome = investigate(
        Workspace(quirk_run.workspace),
        run=quirk_run.run,
        symptom=quirk_run.key["symptom"],
        on_event=watch,
    )
    writer.close()
    return Watched(outcome, events, base / "events.jsonl")


def comparable(report: Report) -> dict[str, Any]:
    """A report without what differs between runs of the same investigation: its id, times
    (stats, meta) and where its plots are."""
    data = report.model_dump(mode="json")
    for key in ("id", "stats", "meta", "plots"):
        data.pop(key)
    for e in data["evidence"]:
        e["plot"] = e["plot"] and Path(e["plot"]).name
    return data
