"""The README's event tables follow the typed event unions of each job (investigation, scan,
eval, ingest, lab, index): a type added to a union and not to its table (or the reverse) fails
here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import pytest

from rootcause.evaluation.events import EvalEvent
from rootcause.investigate.events import InvestigationEvent
from rootcause.lab.job import LabEvent
from rootcause.scan.events import ScanEvent
from rootcause.search.index_job import IndexEvent
from rootcause.store.ingest_job import IngestEvent

README = Path(__file__).parents[1] / "README.md"


def _types(union: Any) -> set[str]:
    members = get_args(get_args(union)[0])  # Annotated[A | B | ..., discriminator]
    return {m.model_fields["type"].default for m in members}


def _table(header: str) -> set[str]:
    """The first cells (`type`) of the README table whose header row starts with `header`."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(re.findall(r"`([a-z_]+)`", line.split("|")[1])[0])
    return set(rows)


@pytest.mark.parametrize(
    ("header", "union"),
    [
        ("| `type` | when |", InvestigationEvent),
        ("| `type` (scan,", ScanEvent),
        ("| `type` (eval,", EvalEvent),
        ("| `type` (ingest,", IngestEvent),
        ("| `type` (lab,", LabEvent),
        ("| `type` (index,", IndexEvent),
    ],
)
def test_readme_event_table_follows_the_union(header: str, union: Any) -> None:
    assert _table(header) == _types(union)
