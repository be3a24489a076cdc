"""Scan's CoT screening of graders with no logged inputs needs an effect that survives the
answer held fixed (issue 24, item 9): a grader whose score tracks answer quality, which
longer reasoning also buys, is a note; one that reads the reasoning is still an alert."""

from __future__ import annotations

from pathlib import Path

import git
import numpy as np
import pytest
import yaml

from rootcause.scan import CheckOptions, scan
from rootcause.scan.model import is_alert
from rootcause.store.workspace import Workspace
from tests.conftest import write_jsonl

STEPS, GROUPS, SIZE = 12, 8, 8


def _run(base: Path) -> Path:
    """Math answers: longer reasoning is more often right (42); `unit_test` scores only the
    answer, `cot_judge` reads the reasoning (its length) though no input is logged."""
    rng = np.random.default_rng(7)
    rows = []
    for step in range(STEPS):
        for g in range(GROUPS):
            for _ in range(SIZE):
                words = int(rng.integers(5, 120))
                right = rng.random() < words / 120
                answer = "42" if right else f"{40 + int(rng.integers(0, 2))}"
                rows.append(
                    {
                        "step": step,
                        "group_id": f"g-{step}-{g}",
                        "prompt": f"question {g}",
                        "reasoning": " ".join(["think"] * words),
                        "completion": f"The answer is {answer}.",
                        "rewards": {
                            "unit_test": 1.0 if right else 0.0,
                            "cot_judge": words / 120 + float(rng.normal(0, 0.1)),
                        },
                    }
                )
    run = base / "run"
    write_jsonl(run / "samples" / "a.jsonl", rows)
    (run / "run.yaml").write_text(yaml.safe_dump({"format": "rootcause-run/1", "run_id": "m"}))
    return run


def test_answer_quality_is_a_note_and_reading_the_reasoning_an_alert(tmp_path: Path) -> None:
    run = _run(tmp_path)
    options = CheckOptions(checks=["cot_exposure"])
    result = scan([str(run)], Workspace(tmp_path / "ws"), options, workers=1)
    (scanned,) = result.results
    assert scanned.status == "ok", scanned.error
    rows = {a.subject: a for a in scanned.alerts}
    assert rows["unit_test"].severity == "info" and not is_alert(rows["unit_test"].severity)
    assert "answer quality may explain it" in rows["unit_test"].detail
    assert is_alert(rows["cot_judge"].severity)
    assert "with the answer held fixed" in rows["cot_judge"].detail


def _graders_repo(path: Path) -> list[str]:
    """Two commits: `monitor` and `audit` list reasoning from the first; `rm` from the second."""
    repo = git.Repo.init(path)
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Test")
        cw.set_value("user", "email", "test@example.com")
    (path / "rewards").mkdir(parents=True)
    shas = []
    for rm_inputs in (["completion"], ["reasoning", "completion"]):
        for name, inputs in (
            ("monitor", ["reasoning"]),
            ("audit", ["reasoning", "completion"]),
            ("rm", rm_inputs),
        ):
            spec = {"name": name, "weight": 1.0, "inputs": inputs}
            (path / "rewards" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
        repo.index.add([f"rewards/{n}.yaml" for n in ("monitor", "audit", "rm")])
        shas.append(repo.index.commit(f"rm inputs: {rm_inputs}").hexsha)
    repo.close()
    return shas


def _sparse_monitor_run(base: Path) -> Path:
    """`monitor` reads the reasoning by design but grades only code prompts, the first of
    which comes at step 2; `rm` starts reading it at step 3 (its config changes there);
    `audit` is configured to read it from step 0 but receives it only from step 3."""
    run = base / "run"
    shas = _graders_repo(run / "configs")
    rows = []
    for step in range(6):
        for g in range(4):
            code = g == 0 and step >= 2
            for i in range(4):
                reasoning = (
                    f"at step {step} in group {g} sample {i} I first check the bounds of the "
                    f"loop and then the empty input case number {step * 16 + g * 4 + i}"
                )
                completion = f"def f(xs): return xs[{i}]" if code else f"answer {i}"
                seen = f"Reasoning: {reasoning}\nAnswer: {completion}"
                inputs = {"rm": seen if step >= 3 else completion}
                inputs["audit"] = inputs["rm"]
                rewards = {"rm": 0.1 * i, "audit": 0.5}
                if code:
                    inputs["monitor"], rewards["monitor"] = reasoning, 0.0
                rows.append(
                    {
                        "step": step,
                        "group_id": f"g-{step}-{g}",
                        "env": "code" if code else "chat",
                        "prompt": f"question {g}",
                        "reasoning": reasoning,
                        "completion": completion,
                        "rewards": rewards,
                        "grader_inputs": inputs,
                    }
                )
    write_jsonl(run / "samples" / "a.jsonl", rows)
    manifest = {
        "format": "rootcause-run/1",
        "run_id": "sparse-monitor",
        "config_repo": "configs",
        "deployments": [{"step": 0, "commit": shas[0]}, {"step": 3, "commit": shas[1]}],
    }
    (run / "run.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return run


def test_a_monitor_first_logged_after_the_first_step_is_info_and_a_change_still_high(
    tmp_path: Path,
) -> None:
    """A first leak after the run's first step is a change only when samples tested before it
    had no reasoning; with nothing tested before, it is where the inputs start (issue 24)."""
    run = _sparse_monitor_run(tmp_path)
    options = CheckOptions(checks=["cot_exposure"])
    result = scan([str(run)], Workspace(tmp_path / "ws"), options, workers=1)
    (scanned,) = result.results
    assert scanned.status == "ok", scanned.error
    rows = {a.subject: a for a in scanned.alerts}
    assert rows["monitor"].severity == "info", rows["monitor"].detail
    assert "nothing tested before" in rows["monitor"].detail
    for name in ("rm", "audit"):
        assert rows[name].severity == "high", rows[name].detail
        assert rows[name].first_step == 3
        assert "none in the 48 tested samples before" in rows[name].detail


def test_leak_free_samples_before_the_first_leak_are_weighed_at_the_leak_rate() -> None:
    """(1 - rate)^n: a few leak-free samples before the first leak of a grader that leaks half
    the time are chance (no change, `info` for a grader configured so from the start); many
    are a change (`high`); none are no evidence either way."""
    from rootcause.scan.checks.cot_exposure import _cot_severity, onset_p_value
    from rootcause.tools.builtin.cot import GraderExposure

    def grader(before: int) -> GraderExposure:
        return GraderExposure(
            component="monitor", static=True, static_from_step=0, config_inputs=["reasoning"],
            inputs_logged=100 + before, examined=100 + before, tested=100 + before,
            leaked=50, leak_rate=50 / (100 + before), leak_rate_since_first=0.5,
            first_step=5, first_tested_step=1 if before else 5, tested_before_first=before,
        )  # fmt: skip

    assert onset_p_value(grader(0)) == 1.0
    assert onset_p_value(grader(2)) == pytest.approx((1 - 50 / 102) ** 2)
    few = _cot_severity(grader(2), first_step=0, tests=1)
    assert few is not None and few[0] == "info" and "too few to tell a change" in few[1]
    many = _cot_severity(grader(20), first_step=0, tests=1)
    assert many is not None and many[0] == "high" and "from step 5 on" in many[1]
