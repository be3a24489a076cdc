"""Benchmark: `rootcause scan` (CoT exposure + emerging checks) over N lab runs of 51,200
samples, with 1 and 2 local workers and with Ray on 2 CPUs, side by side in one run; then the
watch's delay from a step file appearing to its alert.

Runs are simulated and ingested once before the timings (ingest is reported on its own), so
each configuration times the checks over every run (`reuse=False`), its executor's start-up
included. Ray needs the ray extra.

    python tools/bench_scan.py [--runs 20] [--keep DIR] [--no-ray]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from rootcause.lab import new_run
from rootcause.scan import CheckOptions, scan
from rootcause.scan.watch import WatchState, watch_once
from rootcause.store.ingest import ingest_run
from rootcause.store.workspace import Workspace

#: Bug ids the runs cycle through (every one has something for a check to see or not).
BUGS = ("cot_exposure", "persona_reward_quirk", "no_bug", "sycophancy_rm", "contaminated_source")
STEPS, GROUPS = 200, 32  # x 8 = 51,200 samples per run
OPTIONS = CheckOptions(checks=["cot_exposure", "emerging"])


def prepare(folder: Path, n: int, workspace: Workspace) -> list[Path]:
    """Simulate (or reuse) `n` lab runs and ingest them; print the time per run."""
    runs, t_lab, t_ingest = [], 0.0, 0.0
    for i in range(n):
        bug = BUGS[i % len(BUGS)]
        run = folder / "runs" / f"{i:02d}-{bug}" / "run"
        if not run.exists():
            start = time.perf_counter()
            new_run(bug=bug, seed=100 + i, out_dir=run, answer_key=run.parent / "key.json",
                    steps=STEPS, groups=GROUPS)  # fmt: skip
            t_lab += time.perf_counter() - start
        start = time.perf_counter()
        ingest_run(run, workspace)
        t_ingest += time.perf_counter() - start
        runs.append(run)
    print(f"{n} runs of {STEPS * GROUPS * 8:,} samples: simulated in {t_lab:.0f} s, ingested "
          f"in {t_ingest:.0f} s ({t_ingest / n:.1f} s per run)")  # fmt: skip
    return runs


def time_scan(label: str, runs: list[Path], workspace: Workspace, out: Path, **how: object) -> None:
    start = time.perf_counter()
    result = scan([str(r) for r in runs], workspace, OPTIONS, out=out, reuse=False, **how)
    wall = time.perf_counter() - start
    samples = result.summary.samples
    task_s = sum(r.seconds for r in result.results)
    print(
        f"| {label} | {len(runs)} | {wall:.1f} | {len(runs) / wall * 60:.1f} | "
        f"{samples / wall:,.0f} | {task_s / len(runs):.1f} | {result.summary.alerts} |"
    )


def watch_delay(run: Path, folder: Path) -> None:
    """Grow a copy of a CoT-exposure run to the step before its leak, then time from writing
    the leak step's file to the alert (one `watch_once`, no polling interval)."""
    key = json.loads((run.parent / "key.json").read_text())
    onset = int(key["onset_step"])
    lines: dict[int, list[bytes]] = defaultdict(list)
    for shard in sorted((run / "samples").glob("*.jsonl.gz")):
        for line in gzip.decompress(shard.read_bytes()).splitlines():
            lines[json.loads(line)["step"]].append(line + b"\n")
    live = folder / "live"
    shutil.rmtree(live, ignore_errors=True)
    (live / "samples").mkdir(parents=True)
    shutil.copy(run / "run.yaml", live / "run.yaml")
    shutil.copytree(run / "configs", live / "configs")
    for step in range(onset):
        (live / "samples" / f"step-{step:05d}.jsonl").write_bytes(b"".join(lines[step]))
    state = WatchState(live, Workspace(folder / "ws-watch"), OPTIONS)
    start = time.perf_counter()
    watch_once(state)
    quiet = time.perf_counter() - start
    start = time.perf_counter()
    (live / "samples" / f"step-{onset:05d}.jsonl").write_bytes(b"".join(lines[onset]))
    alerts = [a for a in watch_once(state) if a.alert.check == "cot_exposure"]
    delay = time.perf_counter() - start
    said = "NO ALERT"
    if alerts:
        said = f"alert on {alerts[0].alert.component} from step {alerts[0].alert.first_step}"
    print(
        f"watch: {onset} steps seen before the leak ({quiet:.1f} s for that look); step "
        f"{onset} file written -> {said} in {delay:.1f} s (add up to one --interval)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="keep runs and workspaces in this folder")
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--watch-only", action="store_true", help="only the watch's delay")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="rootcause-bench-scan-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores")
    workspace = Workspace(folder / "ws")
    runs = prepare(folder, args.runs, workspace)
    if args.watch_only:
        watch_delay(runs[0], folder)
        return
    print("| executor | runs | wall s | runs/min | samples/s | s per run (task) | alerts |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    time_scan("local, 1 worker", runs, workspace, folder / "scan-1", workers=1)
    time_scan("local, 2 workers", runs, workspace, folder / "scan-2", workers=2)
    if not args.no_ray:
        import ray

        start = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        started = time.perf_counter() - start
        time_scan(f"Ray, 2 CPUs (+{started:.0f} s start)", runs, workspace, folder / "scan-ray",
                  ray=True)  # fmt: skip
        ray.shutdown()
    watch_delay(runs[0], folder)
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
