"""End-to-end investigations on small lab runs: report contract, grounding, resume, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rootcause.core.report import Report
from rootcause.investigate.events import (
    InvestigationEvent,
    InvestigationFinished,
    InvestigationStarted,
    PhaseStarted,
    ToolCalled,
)
from rootcause.investigate.job import investigate
from rootcause.investigate.ledger import Ledger
from rootcause.investigate.state import InvestigationState
from rootcause.investigate.systematic import SystematicBrain
from rootcause.investigate.toolbox import Toolbox
from rootcause.search.embedders import SEMANTIC_ENV
from rootcause.store.workspace import Workspace
from tests.conftest import LabRun, make_lab_run
from tests.investigate.conftest import Watched, comparable
from tests.investigate.events_contract import assert_event_contract, read_events_file


def _investigate(cli, lab: LabRun, tmp_path: Path, *extra: str):
    return cli(
        "investigate",
        str(lab.run),
        "--symptom",
        lab.key["symptom"],
        "--json",
        str(tmp_path / "report.json"),
        "--markdown",
        str(tmp_path / "report.md"),
        *extra,
        workspace=lab.workspace,
    )


def test_report_contract_and_seeded_cause(cli, quirk_run: LabRun, tmp_path: Path) -> None:
    result = _investigate(cli, quirk_run, tmp_path, "--events", str(tmp_path / "events.jsonl"))
    assert result.code == 0, result.err
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["format"] == "rootcause-report/1"
    assert report["verdict"] == "cause_found"
    for key in ("run_id", "symptom", "behavior", "findings", "hypotheses", "evidence", "stats"):
        assert key in report
    assert set(report["stats"]) >= {"wall_s", "tool_calls", "tokens_in", "tokens_out", "cost_usd"}
    top = report["findings"][0]
    cause = quirk_run.key["causes"][0]
    assert (top["kind"], top["id"], top["commit"]) == (cause["kind"], cause["id"], cause["commit"])
    assert top["slice"] == cause["slice"]
    assert set(top) >= {
        "rank",
        "kind",
        "id",
        "commit",
        "slice",
        "confidence",
        "mechanism",
        "evidence",
        "fix",
    }
    # Every cited evidence id was produced by a tool call recorded in the report.
    produced = {e["id"] for e in report["evidence"]}
    for finding in report["findings"]:
        assert finding["evidence"] and set(finding["evidence"]) <= produced
        assert finding["grounded"] is True
    for h in report["hypotheses"]:
        assert h["status"] in ("supported", "refuted", "inconclusive")
        assert set(h["evidence"]) <= produced
    markdown = (tmp_path / "report.md").read_text()
    assert "## Verdict: cause found" in markdown and "![" in markdown
    assert "investigation" in result.out and "report:" in result.out
    # Progress went to stderr, one line per event; the same stream went to --events.
    assert "hypothesis" in result.err and "phase      propose" in result.err
    events = read_events_file(tmp_path / "events.jsonl")
    assert_event_contract(events, Report.model_validate(report))


def test_systematic_event_contract(systematic_whole: Watched) -> None:
    events, report = systematic_whole.events, systematic_whole.outcome.report
    assert_event_contract(events, report)
    started = events[0]
    assert isinstance(started, InvestigationStarted) and not started.resumed
    assert started.spec.symptom == report.symptom
    phases = [(e.phase, e.hypothesis) for e in events if isinstance(e, PhaseStarted)]
    tested = [("test", h.id) for h in report.hypotheses]
    assert phases == [
        ("characterise", None),
        ("propose", None),
        *tested,
        ("conclude", None),
        ("report", None),
    ]
    settled = next(e for e in events if e.type == "detector_settled")
    assert settled.behavior == report.behavior
    finished = events[-1]
    assert isinstance(finished, InvestigationFinished)
    assert finished.report_json == str(systematic_whole.outcome.json_path)
    # The JSONL file holds the same stream, one event per line.
    in_file = read_events_file(systematic_whole.events_file)
    assert [e.model_dump() for e in in_file] == [e.model_dump() for e in events]


def test_mechanism_numbers_come_from_evidence(cli, quirk_run: LabRun, tmp_path: Path) -> None:
    _investigate(cli, quirk_run, tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    top = report["findings"][0]
    evidence = {e["id"]: e for e in report["evidence"]}
    pressure = next(e for e in evidence.values() if e["tool"] == "selection_pressure")
    value = pressure["figures"][f"pressure[{top['id']}]"]
    assert f"{value:.3g}" in top["mechanism"] and pressure["id"] in top["mechanism"]


def test_fail_on_cause_exits_3(cli, quirk_run: LabRun, tmp_path: Path) -> None:
    assert _investigate(cli, quirk_run, tmp_path, "--fail-on-cause").code == 3


def test_behavior_override(cli, quirk_run: LabRun, tmp_path: Path) -> None:
    result = _investigate(cli, quirk_run, tmp_path, "--behavior", quirk_run.hint)
    assert result.code == 0, result.err
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["behavior"]["spec"] == quirk_run.hint
    assert report["behavior"]["basis"] == "given with --behavior"


@pytest.fixture(scope="session")
def null_run(tmp_path_factory: pytest.TempPathFactory) -> LabRun:
    return make_lab_run(tmp_path_factory.mktemp("null"), "no_bug", 5)


def test_no_bug_is_no_cause_found(cli, null_run: LabRun, tmp_path: Path) -> None:
    result = _investigate(cli, null_run, tmp_path, "--fail-on-cause")
    assert result.code == 0, result.err
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["verdict"] == "no_cause_found" and report["findings"] == []
    assert "no cause found" in report["summary"]


class Killed(Exception):
    """Stands in for the process dying in the middle of a step."""


class DyingBrain(SystematicBrain):
    """Dies once, in the middle of testing its third hypothesis."""

    def __init__(self) -> None:
        self.tested = 0

    def test(self, box: Toolbox, state: InvestigationState, ledger: Ledger, hid: str) -> None:
        self.tested += 1
        if self.tested == 3:
            box.call("overview")  # a side effect the resumed step repeats
            raise Killed
        super().test(box, state, ledger, hid)


def test_killed_job_resumes_to_the_same_report(
    quirk_run: LabRun, systematic_whole: Watched, tmp_path: Path
) -> None:
    symptom = quirk_run.key["symptom"]
    workspace = Workspace(tmp_path / "b")
    with pytest.raises(Killed):
        investigate(workspace, run=quirk_run.run, symptom=symptom, brain=DyingBrain())
    (folder,) = [p for p in workspace.investigations_dir.iterdir() if p.is_dir()]
    assert not (folder / "report.json").exists()
    assert json.loads((folder / "error.json").read_text())["error"] == "Killed"
    # Checkpoints live in the investigation's folder; one begun before that (its state in
    # the workspace's shared file) resumes from there.
    shared = workspace.investigations_dir / "checkpoints.sqlite"
    (folder / "checkpoints.sqlite").rename(shared)
    events: list[InvestigationEvent] = []
    resumed = investigate(workspace, resume=folder.name, on_event=events.append)
    assert resumed.report.id == folder.name
    assert not (folder / "error.json").exists()
    # It went on from the checkpoint: the symptom was not characterised a second time.
    assert isinstance(events[0], InvestigationStarted) and events[0].resumed
    assert not any(isinstance(e, ToolCalled) and e.tool in ("detect", "overview") for e in events)
    assert any(isinstance(e, PhaseStarted) and e.hypothesis == "H3" for e in events)
    assert comparable(resumed.report) == comparable(systematic_whole.outcome.report)


def test_bad_investigate_input(cli, quirk_run: LabRun) -> None:
    no_symptom = cli("investigate", str(quirk_run.run), workspace=quirk_run.workspace)
    assert no_symptom.code == 2 and "--symptom" in no_symptom.err
    unknown = cli("investigate", "--resume", "nope-123", workspace=quirk_run.workspace)
    assert unknown.code == 2 and "no such investigation" in unknown.err
    brain = cli(
        "investigate",
        str(quirk_run.run),
        "--symptom",
        "x",
        "--brain",
        "oracle",
        workspace=quirk_run.workspace,
    )
    assert brain.code == 2 and "unknown brain 'oracle'" in brain.err
    inside = quirk_run.run / "events.jsonl"
    events = cli(
        "investigate",
        str(quirk_run.run),
        "--symptom",
        "x",
        "--events",
        str(inside),
        workspace=quirk_run.workspace,
    )
    assert events.code == 2 and "--events" in events.err and "only reads" in events.err
    assert not inside.exists()


def test_the_lexical_path_names_the_same_detector_and_cause(
    systematic_whole: Watched, quirk_run: LabRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One answer with or without the semantic extra: the quirk's symptom (quoted words) read
    on the lexical path (ROOTCAUSE_SEMANTIC=off) gives the detector and top cause the
    semantic path gave, and both reports show the detector's precision check."""
    monkeypatch.setenv(SEMANTIC_ENV, "off")
    lexical = investigate(
        Workspace(quirk_run.workspace), run=quirk_run.run, symptom=quirk_run.key["symptom"]
    ).report
    semantic = systematic_whole.outcome.report
    assert lexical.behavior is not None and semantic.behavior is not None
    assert lexical.behavior.spec == semantic.behavior.spec
    top = [(f.kind, f.id, f.commit) for f in (lexical.findings[0], semantic.findings[0])]
    cause = quirk_run.key["causes"][0]
    assert top[0] == top[1] == (cause["kind"], cause["id"], cause["commit"])
    assert lexical.behavior.check[0].startswith("precision check: ")
    assert "stand out in meaning" in semantic.behavior.check[0]
    assert "stand out in meaning" not in lexical.behavior.check[0]
