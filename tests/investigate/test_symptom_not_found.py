"""An investigation whose symptom is not in the run says so (`symptom_not_found`, exit 0 even
with --fail-on-cause) and suggests what the run does show; one that tested nothing is
`inconclusive`, never `no_cause_found`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rootcause.core.report import BehaviorSummary, Hypothesis, Report
from rootcause.investigate.ledger import Ledger
from rootcause.investigate.state import InvestigationSpec, InvestigationState
from rootcause.investigate.systematic import SystematicBrain
from rootcause.investigate.systematic.memo import SystematicMemo
from tests.tools.planted import CHEER, TIC, Planted, write_planted


@pytest.fixture(scope="module")
def tic_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("notfound")
    behaviours = [
        Planted("tic", TIC, rewarded="creature_bonus", late_rate=0.35),
        Planted("cheer", CHEER, onset=0.3, late_rate=0.3),
    ]
    return write_planted(root / "runs", behaviours, steps=30, groups=6).run


@pytest.mark.parametrize(
    "asked",
    [
        ("--symptom", "It keeps forecasting thunderstorms and snowfall."),
        ("--behavior", "terms:thunderstorm,snowfall"),
    ],
)
def test_absent_symptom_is_not_found_with_suggestions(
    cli, tic_run: Path, tmp_path: Path, asked: tuple[str, str]
) -> None:
    result = cli(
        "investigate",
        str(tic_run),
        "--symptom",
        "It keeps forecasting thunderstorms and snowfall.",
        *(asked if asked[0] == "--behavior" else ()),
        "--json",
        str(tmp_path / "report.json"),
        "--markdown",
        str(tmp_path / "report.md"),
        "--fail-on-cause",
        workspace=tmp_path / "ws",
    )
    assert result.code == 0, result.err
    assert "symptom_not_found" in result.out and "--behavior" in result.out
    report = Report.model_validate(json.loads((tmp_path / "report.json").read_text()))
    assert report.verdict == "symptom_not_found"
    assert report.behavior is None and not report.findings and not report.hypotheses
    assert any("goblin" in s.behavior or "troll" in s.behavior for s in report.suggestions)
    markdown = (tmp_path / "report.md").read_text()
    assert "## Verdict: symptom not found" in markdown and "`--behavior '" in markdown


def test_nothing_tested_is_inconclusive() -> None:
    spec = InvestigationSpec(id="i", run="r", symptom="s", created="now")
    state = InvestigationState(spec=spec, memo=SystematicMemo())
    state.behavior = BehaviorSummary(spec="terms:goblin", basis="b", direction="up")
    state.hypotheses = [
        Hypothesis(id="H1", kind="reward_component", target="x", statement="x rewards it")
    ]
    SystematicBrain().conclude(None, state, Ledger(state))  # type: ignore[arg-type]
    assert state.verdict == "inconclusive"
    assert "no hypothesis" in state.summary and "tested" in state.summary
