"""An eval's results on disk, and re-scoring them without re-running anything.

    <folder>/spec.json             suite, brain, options, repeats, ablations, machine, timing
    <folder>/scenarios/<id>.json   one per scenario (and repeat): findings, causes, match flags
    <folder>/summary.json          {"summary": ..., "per_bug": ...}
    <folder>/results.md            the Markdown table

Every file is written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from rootcause.core.disk import written_via_temp
from rootcause.core.errors import BadInputError
from rootcause.evaluation.aggregate import Summary, per_bug, summarize
from rootcause.evaluation.runner import TrialResult
from rootcause.evaluation.scorer import metrics_from_flags, reflag
from rootcause.evaluation.suite import Scenario
from rootcause.evaluation.tables import markdown_table

RESULTS_FORMAT = "rootcause-eval/1"
#: The Markdown table in a results folder.
RESULTS_MARKDOWN = "results.md"


class EvalSpec(BaseModel):
    """What was evaluated, how, where and how long it took."""

    format: str = RESULTS_FORMAT
    suite: str
    suite_files: list[str]
    scenarios: list[Scenario]
    brain: str
    #: The brain options that were set, as the options model's JSON (`disabled_tools` apart).
    brain_options: dict[str, Any] = Field(default_factory=dict)
    repeats: int = 1
    disabled_tools: list[str] = Field(default_factory=list)
    workers: int = 1
    started: str = ""
    wall_s: float = 0.0
    machine: dict[str, Any] = Field(default_factory=dict)


class EvalResult(BaseModel):
    """An eval's scores; `folder` is where its results were written (not part of them)."""

    spec: EvalSpec
    summary: Summary
    per_bug: dict[str, Summary]
    scenarios: list[TrialResult]
    folder: Path | None = Field(None, exclude=True)

    def to_json(self) -> dict[str, Any]:
        """The `--json` object: summary, per_bug and scenarios."""
        return {
            "summary": self.summary.model_dump(mode="json"),
            "per_bug": {k: v.model_dump(mode="json") for k, v in self.per_bug.items()},
            "scenarios": [s.model_dump(mode="json") for s in self.scenarios],
            "spec": self.spec.model_dump(mode="json"),
        }

    def markdown(self) -> str:
        s = self.spec
        ablation = f", tools disabled: {', '.join(s.disabled_tools)}" if s.disabled_tools else ""
        head = (
            f"Eval of the `{s.brain}` brain on suite `{s.suite}`: {self.summary.scenarios} "
            f"scenario(s) x {s.repeats} repeat(s){ablation}; {s.wall_s:.0f} s wall on "
            f"{s.machine.get('cpus', '?')} CPU(s) with {s.workers} worker(s).\n\n"
        )
        return head + markdown_table(self.summary, self.per_bug)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
    }


def build_result(spec: EvalSpec, scenarios: list[TrialResult]) -> EvalResult:
    return EvalResult(
        spec=spec, summary=summarize(scenarios), per_bug=per_bug(scenarios), scenarios=scenarios
    )


def write_text(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder."""
    with written_via_temp(path) as tmp:
        tmp.write_text(text)


def check_out_dir(folder: Path) -> None:
    """An eval folder is new, empty, or an earlier eval's folder (which is replaced)."""
    if folder.exists() and not folder.is_dir():
        raise BadInputError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / "spec.json").is_file():
        raise BadInputError(f"{folder}: not empty and not an eval results folder")


def write_results(folder: Path, result: EvalResult) -> None:
    """Write the eval's spec, per-scenario files, summary and table into `folder`."""
    check_out_dir(folder)
    scen_dir = folder / "scenarios"
    keep = {f"{s.id}.json" for s in result.scenarios}
    if scen_dir.is_dir():
        for old in scen_dir.glob("*.json"):
            if old.name not in keep:
                old.unlink()
    for s in result.scenarios:
        write_text(scen_dir / f"{s.id}.json", s.model_dump_json(indent=2) + "\n")
    summary = {"summary": result.summary.model_dump(mode="json")}
    summary["per_bug"] = {k: v.model_dump(mode="json") for k, v in result.per_bug.items()}
    write_text(folder / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_text(folder / RESULTS_MARKDOWN, result.markdown())
    write_text(folder / "spec.json", result.spec.model_dump_json(indent=2) + "\n")


def load_results(folder: Path) -> EvalResult:
    """Read an eval folder and re-score it from its stored findings, causes and flags."""
    spec_path = folder / "spec.json"
    if not spec_path.is_file():
        raise BadInputError(f"{folder}: not an eval results folder (no spec.json)")
    try:
        spec = EvalSpec.model_validate_json(spec_path.read_text())
    except ValidationError as exc:
        raise BadInputError(f"{spec_path}: not an eval spec: {exc.errors()[0]['msg']}") from None
    order = {f"{s.id}": i for i, s in enumerate(spec.scenarios)}
    scenarios = []
    for path in sorted((folder / "scenarios").glob("*.json")):
        try:
            trial = TrialResult.model_validate_json(path.read_text())
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise BadInputError(f"{path}: {where}: {err['msg']}") from None
        trial.flags = reflag(trial.flags, trial.causes)
        trial.metrics = metrics_from_flags(trial.flags)
        scenarios.append(trial)
    scenarios.sort(key=lambda t: (order.get(t.scenario, len(order)), t.repeat))
    return build_result(spec, scenarios)
