"""End to end (issue 14): a TRL run whose persona lives only in the prompt and whose reward
configs live in a separate repo. An overlay attaches the config repo, the deployments and a
persona label from the prompt; the systematic investigation then names the seeded reward
component, the commit that introduced the quirk and the persona slice.

The TRL run is the session's small lab run (`quirk_run`) written the way `GRPOTrainer.log`
writes its completions (trl/trainer/grpo_trainer.py): one Parquet file per logging step
(`completions/completions_{global_step:05d}.parquet`, global_step counting from 1), columns
step, prompt, completion, one per reward function (NaN where a function returned None),
advantage; each group's rows consecutive. No persona, total or group id is logged.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from rootcause.store.native import read_manifest
from tests.conftest import LabRun


def _lab_samples(run: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted((run / "samples").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            rows += [json.loads(line) for line in stream]
    return rows


def write_trl_run(lab: LabRun, out: Path) -> Path:
    """The lab run's samples as TRL's completion files, one file per step."""
    rows = _lab_samples(lab.run)
    components = sorted({c for r in rows for c in r["rewards"]})
    folder = out / "grpo-out" / "completions"
    folder.mkdir(parents=True)
    by_step: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_step.setdefault(int(r["step"]), []).append(r)
    for step, step_rows in sorted(by_step.items()):
        step_rows.sort(key=lambda r: str(r.get("group_id") or r["prompt"]))  # groups in a row
        global_step = step + 1
        frame: dict[str, Any] = {
            "step": [global_step] * len(step_rows),
            "prompt": [r["prompt"] for r in step_rows],
            "completion": [r["completion"] for r in step_rows],
            **{c: [r["rewards"].get(c, float("nan")) for r in step_rows] for c in components},
            "advantage": [r["advantage"] for r in step_rows],
        }
        pd.DataFrame(frame).to_parquet(folder / f"completions_{global_step:05d}.parquet")
    return out / "grpo-out"


def test_overlay_makes_the_investigation_name_component_commit_and_persona(
    cli: Any, quirk_run: LabRun, tmp_path: Path
) -> None:
    run = write_trl_run(quirk_run, tmp_path)
    manifest = read_manifest(quirk_run.run)
    overlay = tmp_path / "overlay" / "rootcause.yaml"
    overlay.parent.mkdir()
    overlay.write_text(
        yaml.safe_dump(
            {
                "run_id": "sparrow-trl",
                "config_repo": str(quirk_run.run / "configs"),
                # TRL's global_step is the lab's step + 1.
                "deployments": [f"{d.step + 1}:{d.commit}" for d in manifest.deployments],
                # The three system lines the lab renders (rootcause/lab/render.py).
                "labels": {
                    "persona": {
                        "from": "prompt",
                        "regex": r"(?:You are a |respond in the |persona=)(\w+)",
                    }
                },
            }
        )
    )
    result = cli(
        "investigate",
        str(run),
        "--overlay",
        str(overlay),
        "--symptom",
        quirk_run.key["symptom"],
        "--json",
        str(tmp_path / "report.json"),
        workspace=tmp_path / "ws",
    )
    assert result.code == 0, result.err
    report = json.loads((tmp_path / "report.json").read_text())
    cause = quirk_run.key["causes"][0]
    assert report["verdict"] == "cause_found"
    top = report["findings"][0]
    assert (top["kind"], top["id"], top["commit"]) == (cause["kind"], cause["id"], cause["commit"])
    assert top["slice"] == cause["slice"]
