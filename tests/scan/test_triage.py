"""Fleet triage: a scan's alerts that name a behaviour are investigated, the most severe first,
at most N; each row has the verdict, top cause and report; a second triage of the same scan
folder reuses the investigations it finished."""

from __future__ import annotations

import json
from pathlib import Path

from rootcause.fleet import triage
from rootcause.fleet.triage import TRIAGE_JSON
from rootcause.scan import ScanResult
from tests.scan.conftest import Fleet


def test_the_most_severe_alert_is_investigated_and_names_the_cause(
    fleet: Fleet, local_scan: ScanResult
) -> None:
    seen: list[int] = []
    (row,) = triage(local_scan, fleet.workspace, max_investigations=1,
                    on_progress=lambda p: seen.append(p.done))  # fmt: skip
    assert seen == [1]
    assert row.run == str(fleet.quirk.run) and row.severity == "high"
    assert row.behavior == str(fleet.quirk.hint) and row.check == "behavior"
    assert row.verdict == "cause_found" and row.error is None
    assert row.top_cause is not None and fleet.quirk.culprit in row.top_cause
    assert row.report is not None and Path(row.report).is_file()
    stored = json.loads((local_scan.folder / TRIAGE_JSON).read_text())
    assert stored[0]["investigation"] == row.investigation
    investigations = sorted(p.name for p in fleet.workspace.investigations_dir.iterdir())
    (again,) = triage(local_scan, fleet.workspace, max_investigations=1)
    assert again == row  # reused, not run again
    assert sorted(p.name for p in fleet.workspace.investigations_dir.iterdir()) == investigations
    assert triage(local_scan, fleet.workspace, max_investigations=0) == []


def test_cli_triage_says_when_nothing_is_left_to_investigate(cli, fleet: Fleet) -> None:
    ws = fleet.workspace.root
    bad = cli("scan", str(fleet.clean.run), "--investigate", "--max-investigations", "-1",
              workspace=ws)  # fmt: skip
    assert bad.code == 2 and "--max-investigations -1" in bad.err
    done = cli("scan", str(fleet.clean.run), "--investigate", "--max-investigations", "0",
               workspace=ws)  # fmt: skip
    assert done.code == 0 and "triage: no alert names a behaviour" in done.err
