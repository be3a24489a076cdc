"""`rootcause eval` end to end on three small lab scenarios, then re-scoring and ablations on
the same cached runs."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rootcause.cli.main import main
from rootcause.evaluation.runner import InvestigateTask
from tests.conftest import CliResult

TINY = Path(__file__).with_name("tiny.yaml")


@dataclass
class TinyEval:
    workspace: Path
    out: Path
    data: dict[str, Any]
    events: Path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyEval:
    base = tmp_path_factory.mktemp("eval")
    ws, out, js = base / "ws", base / "out", base / "eval.json"
    events = base / "events.jsonl"
    args = ["--workspace", str(ws), "eval", "--suite", str(TINY), "--out", str(out)]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--json", str(js), "--events", str(events)])
        raise SystemExit(0)
    assert exit_info.value.code in (0, None)
    return TinyEval(ws, out, json.loads(js.read_text()), events)


def test_json_has_summary_per_bug_and_scenarios(tiny: TinyEval) -> None:
    data = tiny.data
    summary = data["summary"]
    for field in ("scenarios", "top1", "hit3", "mrr", "null_specificity", "chance_top1"):
        assert field in summary
    assert summary["scenarios"] == 3 and summary["errors"] == 0
    assert summary["bug_scenarios"] == 2 and summary["null_scenarios"] == 1
    assert set(data["per_bug"]) == {"persona_reward_quirk", "no_bug", "reward_weight_change"}
    assert 0 < summary["chance_top1"] < 0.2
    assert summary["tool_calls_mean"] > 0 and summary["wall_s_mean"] > 0
    for s in data["scenarios"]:
        assert s["flags"]["candidates"] > 0 and s["investigation"]
        assert s["flags"]["findings"] or s["verdict"] == "no_cause_found"
    # the systematic brain finds the two seeded bugs of this suite
    assert summary["top1"] == 1.0
    files = {p.name for p in tiny.out.iterdir()}
    assert {"spec.json", "summary.json", "results.md", "scenarios"} <= files
    assert len(list((tiny.out / "scenarios").glob("*.json"))) == 3
    assert "| `persona_reward_quirk` |" in (tiny.out / "results.md").read_text()


def test_eval_events_file_follows_the_stages(tiny: TinyEval) -> None:
    from rootcause.evaluation.events import (
        EvalFinished,
        EvalStarted,
        LabRunPrepared,
        StageStarted,
        TrialInvestigated,
        parse_eval_event,
    )

    text = tiny.events.read_text()
    events = [parse_eval_event(line) for line in text.splitlines()]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert {e.eval for e in events} == {str(tiny.out)}
    started, finished = events[0], events[-1]
    assert isinstance(started, EvalStarted) and isinstance(finished, EvalFinished)
    assert (started.suite, started.brain, started.scenarios) == ("tiny", "systematic", 3)
    stages = [(e.stage, e.total) for e in events if isinstance(e, StageStarted)]
    assert stages == [("prepare", 3), ("investigate", 3)]
    prepared = [e for e in events if isinstance(e, LabRunPrepared)]
    assert [e.done for e in prepared] == [1, 2, 3] and not any(e.error for e in prepared)
    trials = [e for e in events if isinstance(e, TrialInvestigated)]
    assert [e.done for e in trials] == [1, 2, 3]
    scenarios = {s["id"]: s["investigation"] for s in tiny.data["scenarios"]}
    assert {e.trial: e.investigation for e in trials} == scenarios
    assert finished.summary.model_dump(mode="json") == tiny.data["summary"]
    assert finished.results_markdown == str(tiny.out / "results.md")
    # The stream names the scenarios, never where their answer keys are.
    assert "key.json" not in text


def test_investigator_never_gets_the_answer_key(tiny: TinyEval) -> None:
    assert not any("key" in name for name in InvestigateTask.model_fields)
    for s in tiny.data["scenarios"]:
        run = Path(s["run_dir"])
        key_path = run.parent / "key.json"
        assert key_path.is_file()
        assert not any(p.name == "key.json" for p in run.rglob("*"))
        spec_text = (Path(s["report_path"]).parent / "spec.json").read_text()
        spec = json.loads(spec_text)
        assert str(key_path) not in spec_text and "key.json" not in spec_text
        assert spec["run"] == str(run) and set(spec["options"]) <= {"disabled_tools"}
        key = json.loads(key_path.read_text())
        assert spec["symptom"] == key["symptom"]
        for cause in key["causes"]:  # neither the culprit's commit nor the bug id is given
            assert cause["commit"] not in spec_text
        assert key["bug"] not in spec_text


def test_rescore_from_stored_flags_without_rerunning(
    tiny: TinyEval,
    cli: Callable[..., CliResult],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import rootcause.evaluation.runner as runner

    def no_investigation(*_: Any, **__: Any) -> Any:
        raise AssertionError("re-scoring must not run anything")

    monkeypatch.setattr(runner, "run_eval", no_investigation)
    monkeypatch.setattr(runner, "investigate_task", no_investigation)
    copy = tmp_path / "copy"
    shutil.copytree(tiny.out, copy)
    result = cli("eval", "--rescore", str(copy), "--json", "-", workspace=tiny.workspace)
    assert result.code == 0, result.err
    assert result.json()["summary"] == tiny.data["summary"]
    # a changed key (here: the quirk's cause renamed) changes the score, still without a rerun
    path = next((copy / "scenarios").glob("persona_reward_quirk*.json"))
    stored = json.loads(path.read_text())
    stored["causes"][0]["id"] = "someone_else"
    path.write_text(json.dumps(stored))
    result = cli("eval", "--rescore", str(copy), "--json", "-", workspace=tiny.workspace)
    assert result.json()["per_bug"]["persona_reward_quirk"]["top1"] == 0.0
    assert json.loads((copy / "summary.json").read_text())["summary"]["top1"] == 0.5


def test_disabled_tools_are_recorded_and_the_brain_degrades(
    tiny: TinyEval, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    suite = tmp_path / "one.yaml"
    suite.write_text(
        "defaults: {steps: 60, groups: 16, group_size: 8}\n"
        "scenarios:\n  - {bug: reward_weight_change, seed: 2}\n"
    )
    out = tmp_path / "out"
    result = cli(
        "eval",
        "--suite",
        str(suite),
        "--disable-tools",
        "counterfactual,event_alignment",
        "--out",
        str(out),
        "--markdown",
        "-",
        workspace=tiny.workspace,
    )
    assert result.code == 0, result.err
    assert "tools disabled: counterfactual, event_alignment" in result.out
    spec = json.loads((out / "spec.json").read_text())
    assert spec["disabled_tools"] == ["counterfactual", "event_alignment"]
    (scenario,) = [json.loads(p.read_text()) for p in (out / "scenarios").glob("*.json")]
    assert scenario["error"] is None  # the systematic brain goes on without them
    inv = Path(scenario["report_path"]).parent
    assert json.loads((inv / "spec.json").read_text())["options"] == {
        "disabled_tools": ["counterfactual", "event_alignment"]
    }
    tools = {json.loads(line)["tool"] for line in (inv / "evidence.jsonl").open()}
    assert "selection_pressure" in tools
    assert not tools & {"counterfactual", "event_alignment"}
    # without event alignment no change is traced: the weight change is not pinned to a commit
    assert all(f["commit"] is None for f in scenario["flags"]["findings"])


def _timeless(table: str) -> str:
    """An eval table without its timings (the wall time of the eval and per scenario)."""
    lines = re.sub(r"\d+ s wall", "N s wall", table).splitlines()
    header = next(line for line in lines if line.startswith("| bug |"))
    wall = [cell.strip() for cell in header.split("|")].index("wall s")
    out = []
    for line in lines:
        cells = line.split("|")
        out.append("|".join(cells[:wall] + cells[wall + 1 :]) if line.startswith("|") else line)
    return "\n".join(out)


def test_run_suite_from_python_returns_the_table_the_cli_prints(tiny: TinyEval) -> None:
    from rootcause.evaluation.api import EvalProgress, EvalRequest, run_suite
    from rootcause.store.workspace import Workspace

    progress: list[EvalProgress] = []
    out = tiny.workspace.parent / "from-python"
    request = EvalRequest(TINY, Workspace(tiny.workspace), out_dir=out)
    result = run_suite(request, on_progress=progress.append)
    assert result.folder == out and (out / "results.md").read_text() == result.markdown()
    assert _timeless(result.markdown()) == _timeless((tiny.out / "results.md").read_text())
    assert result.to_json()["summary"]["top1"] == tiny.data["summary"]["top1"]
    assert progress[0] == EvalProgress("prepare", 0, 3)
    investigated = [p for p in progress if p.stage == "investigate"]
    assert [p.done for p in investigated] == [0, 1, 2, 3]
    assert {p.label for p in investigated[1:]} == {s["id"] for s in tiny.data["scenarios"]}
