"""Scan's CoT screening of graders with no logged inputs needs an effect that survives the
answer held fixed (issue 24, item 9): a grader whose score tracks answer quality, which
longer reasoning also buys, is a note; one that reads the reasoning is still an alert."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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
