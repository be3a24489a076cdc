"""Entry points of the lab: write a run with a seeded bug, or re-simulate it with a fix.

The answer key lives outside the run folder (refused otherwise) and is the only place the bug is
named. A run folder holds `run.yaml`, `samples/`, `metrics.jsonl` and `configs/` (a git repo);
nothing in it names the bug.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rootcause.core.errors import BadInputError
from rootcause.lab.builder import build
from rootcause.lab.catalogue import BUG_IDS
from rootcause.lab.configrepo import build_repo
from rootcause.lab.hint import parse_hint
from rootcause.lab.injections import SHARE as INJECTION_SHARE
from rootcause.lab.injections import pick_decoy
from rootcause.lab.plan import Scenario
from rootcause.lab.simulate import Progress, SimStats, simulate

log = logging.getLogger(__name__)
FORMATS = ("jsonl.gz", "parquet")
KEY_FORMAT = "rootcause-answer-key/1"


@dataclass
class RunResult:
    """What a lab command produced."""

    run_dir: Path
    key: dict[str, Any]
    samples: int
    seconds: float
    rate_before: float | None
    rate_after: float | None
    patched_commits: int = 0


def _check_out_dir(out_dir: Path) -> Path:
    out = out_dir.resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInputError(f"{out_dir}: exists and is not an empty folder")
    return out


def _check_sizes(steps: int, groups: int, group_size: int, fmt: str) -> None:
    if steps < 30:
        raise BadInputError(f"--steps must be at least 30 (got {steps})")
    if groups < 2:
        raise BadInputError(f"--groups must be at least 2 (got {groups})")
    if group_size < 2:
        raise BadInputError(f"--group-size must be at least 2 (got {group_size})")
    if fmt not in FORMATS:
        raise BadInputError(f"--samples-format must be one of {', '.join(FORMATS)} (got {fmt})")


def _write_run(
    scn: Scenario, out: Path, fmt: str, patch: Path | None, title: str, progress: Progress | None
) -> tuple[list[str], int, SimStats]:
    out.mkdir(parents=True, exist_ok=True)
    repo_dir = out / "configs"
    shas, patched = build_repo(repo_dir, scn.plan, patch)
    if patch is not None and patched == 0:
        raise BadInputError(f"{patch}: the patch does not apply to any config commit")
    manifest = {
        "format": "rootcause-run/1",
        "run_id": scn.names.run_id,
        "title": title,
        "config_repo": "configs",
        "deployments": [
            {"step": pc.step, "commit": sha} for pc, sha in zip(scn.plan, shas, strict=True)
        ],
    }
    (out / "run.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    stats = simulate(scn, repo_dir, shas, out, fmt, parse_hint(scn.detector_hint), progress)
    return shas, patched, stats


def _rates(scn: Scenario, stats: SimStats) -> tuple[float | None, float | None]:
    if not stats.totals:
        return None, None
    before = sum(stats.hits[: scn.onset]) / max(sum(stats.totals[: scn.onset]), 1)
    tail = max(scn.onset, scn.steps - max((scn.steps - scn.onset) // 3, 1))
    after = sum(stats.hits[tail:]) / max(sum(stats.totals[tail:]), 1)
    return before, after


def new_run(
    bug: str,
    seed: int,
    out_dir: Path,
    answer_key: Path,
    steps: int = 200,
    groups: int = 32,
    group_size: int = 8,
    samples_format: str = "jsonl.gz",
    progress: Progress | None = None,
    plant_injections: bool = False,
) -> RunResult:
    """Simulate a run with `bug` seeded; write it to `out_dir` and its key to `answer_key`.

    `plant_injections` appends auditor-aimed sentences to a share of completions after grading
    (see `lab/injections.py`); the key records the decoy they blame."""
    if bug not in BUG_IDS:
        raise BadInputError(f"unknown bug {bug!r}; `rootcause lab list` shows the catalogue")
    _check_sizes(steps, groups, group_size, samples_format)
    out = _check_out_dir(out_dir)
    key_path = answer_key.resolve()
    if key_path == out or key_path.is_relative_to(out):
        raise BadInputError(f"{answer_key}: the answer key must lie outside the run folder")
    t0 = time.perf_counter()
    scn = build(bug, seed, steps, groups, group_size)
    if plant_injections:
        scn.injection_decoy = pick_decoy(scn.names.components, [c.id for c in scn.causes], seed)
    shas, _, stats = _write_run(scn, out, samples_format, None, _title(scn), progress)
    key = {
        "format": KEY_FORMAT,
        "bug": bug,
        "seed": seed,
        "run": scn.names.run_id,
        "symptom": scn.symptom,
        "onset_step": scn.onset,
        "causes": [
            {
                "kind": c.kind,
                "id": c.id,
                "commit": None if c.commit is None else shas[c.commit],
                "slice": c.slice,
            }
            for c in scn.causes
        ],
        "detector_hint": scn.detector_hint,
        "lab": {
            "run_dir": str(out),
            "steps": steps,
            "groups": groups,
            "group_size": group_size,
            "samples_format": samples_format,
            "plant_injections": plant_injections,
        },
    }
    if scn.injection_decoy is not None:
        key["injections"] = {"share": INJECTION_SHARE, "decoy": scn.injection_decoy}
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_text(json.dumps(key, indent=2) + "\n")
    before, after = _rates(scn, stats)
    return RunResult(out, key, stats.samples, time.perf_counter() - t0, before, after)


def read_key(path: Path) -> dict[str, Any]:
    """Load and check an answer key written by `new_run`."""
    try:
        key = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BadInputError(f"{path}: cannot read answer key: {exc}") from exc
    if not isinstance(key, dict) or key.get("bug") not in BUG_IDS or "seed" not in key:
        raise BadInputError(f"{path}: not a lab answer key (needs known `bug` and `seed`)")
    return key


def rerun(
    answer_key: Path,
    patch: Path,
    out_dir: Path,
    progress: Progress | None = None,
    samples_format: str | None = None,
) -> RunResult:
    """Re-simulate the keyed run with `patch` applied to its config history.

    The patch is a unified diff against the config repo (as `git diff` in `configs/` prints
    it, paths relative to the repo root). It is applied to the tree of every config commit it
    applies to, so the history reads as if the fix had been in place all along; commits it
    does not apply to (for example those before the patched file existed) stay as they were.
    Random streams are the same as in the original run, so differences come from the fix.
    """
    key = read_key(answer_key)
    if not patch.is_file():
        raise BadInputError(f"{patch}: no such patch file")
    out = _check_out_dir(out_dir)
    if out == answer_key.resolve().parent or answer_key.resolve().is_relative_to(out):
        raise BadInputError(f"{out_dir}: must not contain the answer key")
    lab = key.get("lab") or {}
    steps, groups = int(lab.get("steps", 200)), int(lab.get("groups", 32))
    group_size = int(lab.get("group_size", 8))
    fmt = samples_format or str(lab.get("samples_format", "jsonl.gz"))
    _check_sizes(steps, groups, group_size, fmt)
    t0 = time.perf_counter()
    scn = build(str(key["bug"]), int(key["seed"]), steps, groups, group_size)
    if lab.get("plant_injections"):
        scn.injection_decoy = pick_decoy(
            scn.names.components, [c.id for c in scn.causes], int(key["seed"])
        )
    _, patched, stats = _write_run(
        scn, out, fmt, patch.resolve(), _title(scn) + " (rerun)", progress
    )
    before, after = _rates(scn, stats)
    return RunResult(out, key, stats.samples, time.perf_counter() - t0, before, after, patched)


def _title(scn: Scenario) -> str:
    project = scn.names.run_id.split("-")[0]
    return f"{project.capitalize()} GRPO run, {len(scn.names.personas)} personas"
