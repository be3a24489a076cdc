"""`monitorability`: a CoT monitor's recall, specificity and g-mean^2 across an event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import LabRun


def hack_pattern(run: Path) -> str:
    """The pattern of the code grader that checks the harness summary (the hack's outcome)."""
    for path in sorted((run / "configs" / "rewards").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if doc.get("kind") == "regex_check" and doc["applies_to"].get("env"):
            return str(doc["params"]["pattern"])
    raise AssertionError("no harness-summary grader in the lab run")


def _monitorability(cli: Any, lab: LabRun, *args: str) -> dict[str, Any]:
    result = cli(
        "tool",
        "monitorability",
        str(lab.run),
        "--outcome",
        f"regex:(?i){hack_pattern(lab.run)}",
        "--monitor",
        lab.hint,
        *args,
        "--json",
        "--no-plot",
        workspace=lab.workspace,
    )
    assert result.code == 0, result.err
    data: dict[str, Any] = result.json()
    return data


def _changes(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["metric"]: c for c in data["changes"]}


def test_monitor_penalty_hides_the_hack_it_does_not_stop(
    cli: Any, cot_pressure_run: LabRun
) -> None:
    cause = cot_pressure_run.key["causes"][0]
    data = _monitorability(cli, cot_pressure_run, "--event", cause["commit"][:10])
    assert data["split_step"] == cot_pressure_run.key["onset_step"]
    changes = _changes(data)
    for metric in ("recall", "gmean2"):
        assert changes[metric]["clear_of_zero"] and changes[metric]["change_high"] < 0
    rate = changes["outcome_rate"]
    assert not (rate["clear_of_zero"] and rate["change"] < 0)
    assert data["reading"] == "reasoning_stopped_saying_it"
    assert len(data["windows"]) >= 10
    assert all(0 <= w["outcome_rate"] <= 1 for w in data["windows"])


def test_no_drop_without_cot_pressure(cli: Any, cot_pressure_run: LabRun) -> None:
    """Before the monitor existed the hack was there and nothing pressed on the reasoning: a
    split inside those steps shows no fall of monitorability."""
    onset = int(cot_pressure_run.key["onset_step"])
    data = _monitorability(
        cli, cot_pressure_run, "--step-max", str(onset - 1), "--event", str(onset // 2)
    )
    changes = _changes(data)
    assert not (changes["recall"]["clear_of_zero"] and changes["recall"]["change"] < 0)
    assert data["reading"] != "reasoning_stopped_saying_it"


def test_outcome_as_a_reward_and_bad_events(cli: Any, cot_pressure_run: LabRun) -> None:
    lab = cot_pressure_run
    doc = next(
        yaml.safe_load(p.read_text())
        for p in sorted((lab.run / "configs" / "rewards").glob("*.yaml"))
        if yaml.safe_load(p.read_text()).get("kind") == "regex_check"
        and yaml.safe_load(p.read_text())["applies_to"].get("env")
    )
    base = ["tool", "monitorability", str(lab.run), "--monitor", lab.hint, "--no-plot"]
    ok = cli(*base, "--outcome", f"reward:{doc['name']}>0.5", "--event",
             str(lab.key["onset_step"]), "--json", workspace=lab.workspace)  # fmt: skip
    assert ok.code == 0, ok.err
    assert ok.json()["reading"] == "reasoning_stopped_saying_it"
    bad = cli(*base, "--outcome", "reward:nope", workspace=lab.workspace)
    assert bad.code == 2 and "unknown reward component 'nope'" in bad.err
    bad = cli(*base, "--outcome", "terms:x", "--event", "deadbeef", workspace=lab.workspace)
    assert bad.code == 2 and "not a step or a deployed commit" in bad.err
    bad = cli(*base, "--outcome", "judge:does it cheat?", workspace=lab.workspace)
    assert bad.code == 2 and "LLM judge" in bad.err


def test_outcome_as_a_flag_on_a_native_run(cli: Any, native_run: Path) -> None:
    base = ["tool", "monitorability", str(native_run), "--monitor", "terms:goblin", "--no-plot"]
    ok = cli(*base, "--outcome", "flag:custom_key.kept", "--json")
    assert ok.code == 0, ok.err
    data = ok.json()
    assert data["before_steps"] == [0, 1] and data["after_steps"] == [3, 3]
    assert all(w["outcome_rate"] == 1.0 for w in data["windows"])
    missing = cli(*base, "--outcome", "flag:nope")
    assert missing.code == 2 and "no sample has this key" in missing.err
