"""A fix verified by intervention: on a run made by `rootcause lab`, re-simulate it with the
config patch (as `rootcause lab rerun --fix` does) and compare the behaviour's rate at the end.

The lab rebuilds a run from its bug, seed and sizes, which live only in the run's answer key, so
the key is needed to re-simulate: given with `--lab-key`, or found where the lab's eval cache
and `lab new` callers keep it, `key.json` beside the run folder. A key counts only if it names
this run folder (`lab.run_dir`). The re-simulated run uses the original's random streams, so a
difference comes from the patch. Both runs are measured with the investigation's own detector.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from rootcause.behaviour.frame import run_frame
from rootcause.behaviour.matching import behavior_hits
from rootcause.core.errors import BadInputError
from rootcause.lab.api import read_key, rerun
from rootcause.store.ingest import ingest_run
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from rootcause.tools.context import ToolContext

#: Where the lab's callers keep a run's key: beside the run folder.
KEY_BESIDE_RUN = "key.json"
#: The workspace that measures a run re-simulated inside the main workspace (beside it).
MEASURE_WORKSPACE = "measure-workspace"
#: "The end" of a run: this share of its last steps.
END_SHARE = 0.25


class EndRate(BaseModel):
    """The behaviour's rate over the last steps of one run."""

    run: str
    step_min: int
    step_max: int
    samples: int
    hits: int
    rate: float


class Verification(BaseModel):
    key: str
    rerun_dir: str
    patched_commits: int
    behavior: str
    direction: str
    without_fix: EndRate
    with_fix: EndRate
    seconds: float

    @property
    def improved(self) -> bool:
        """The fix moved the end rate against the symptom (down for a rise, up for a fall)."""
        change = self.with_fix.rate - self.without_fix.rate
        return change < 0 if self.direction == "up" else change > 0

    def text(self) -> str:
        a, b = self.without_fix, self.with_fix
        return (
            f"rate of {self.behavior} over steps {a.step_min}..{a.step_max}: {a.rate:.2%} "
            f"({a.hits:,}/{a.samples:,}) without the fix, {b.rate:.2%} ({b.hits:,}/{b.samples:,}) "
            f"with it, re-simulated in {self.rerun_dir} ({self.patched_commits} config commits "
            "patched)"
        )


def find_lab_key(run_root: Path, given: Path | None) -> Path | None:
    """The answer key of the lab run at `run_root`: `given` (which must name this run), else a
    `key.json` beside the run folder that names it, else None (not a lab run we can rebuild)."""
    root = run_root.resolve()
    if given is not None:
        key = read_key(given)
        if _run_dir(key) != root:
            raise BadInputError(f"--lab-key {given}: the key is for {_run_dir(key)}, not {root}")
        return given
    beside = root.parent / KEY_BESIDE_RUN
    if not beside.is_file():
        return None
    try:
        key = read_key(beside)
    except BadInputError:
        return None
    return beside if _run_dir(key) == root else None


def _run_dir(key: dict[str, object]) -> Path | None:
    lab = key.get("lab")
    run_dir = lab.get("run_dir") if isinstance(lab, dict) else None
    return Path(str(run_dir)).resolve() if run_dir else None


def end_rate(workspace: Workspace, run: Path, behavior: str) -> EndRate:
    """The behaviour's rate over the last `END_SHARE` of the run's steps."""
    ingest = ingest_run(run, workspace)
    with RunStore(ingest.db_path) as store:
        ctx = ToolContext(store, ingest.db_path.parent / "tool-calls", make_plots=False)
        steps = run_frame(ctx).step
        hits = behavior_hits(ctx, behavior)
    lo, hi = int(steps.min()), int(steps.max())
    first = hi - int(np.floor((hi - lo + 1) * END_SHARE)) + 1
    tail = steps >= first
    return EndRate(
        run=str(run),
        step_min=first,
        step_max=hi,
        samples=int(tail.sum()),
        hits=int(hits[tail].sum()),
        rate=float(hits[tail].mean()) if tail.any() else float("nan"),
    )


def resimulate(
    workspace: Workspace,
    run: Path,
    key: Path,
    patch: Path,
    out_dir: Path,
    behavior: str,
    direction: str,
) -> Verification:
    """Re-simulate the lab run with `patch` into `out_dir` and measure both ends. A run
    re-simulated inside the workspace (a fix's default folder) is measured in a workspace of
    its own beside it: a workspace never ingests a run that lies inside it."""
    started = time.perf_counter()
    result = rerun(key, patch, out_dir)
    measure = workspace
    if result.run_dir.resolve().is_relative_to(workspace.root):
        measure = Workspace(out_dir.parent / MEASURE_WORKSPACE)
    return Verification(
        key=str(key),
        rerun_dir=str(result.run_dir),
        patched_commits=result.patched_commits,
        behavior=behavior,
        direction=direction,
        without_fix=end_rate(workspace, run, behavior),
        with_fix=end_rate(measure, result.run_dir, behavior),
        seconds=round(time.perf_counter() - started, 2),
    )
