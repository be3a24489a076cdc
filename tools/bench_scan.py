"""Benchmark: `rootcause scan` (CoT exposure + emerging checks) over N lab runs of 51,200
samples: each check's speed on a rescan beside a plain DuckDB regex over the same ingested
texts, the share of fixed costs in a fresh scan and in a rescan from the command line, then
the executors (1 and 2 local workers, Ray on 2 CPUs) side by side, and the watch's delay from
a step file appearing to its alert.

Runs are simulated and ingested once before the timings (ingest is reported on its own).
Each check's time comes from the scan's own per-run timings (`RunResult.timings`): samples
per second of check time, one worker. Fixed costs are everything but the checks (process
start, imports, ingest or its reuse, opening each run, writing the scan folder): the wall
time of `rootcause scan` run as a command, minus its checks' seconds. The command runs with
rootcause's bytecode compiled once into a cache of the bench's own, as an installed package
has it (without it, as under PYTHONDONTWRITEBYTECODE, every command compiled rootcause's
modules again: 0.1-0.2 s of its imports); one untimed rescan first fills the cache with the
libraries' bytecode. Ray needs the ray extra.

    python tools/bench_scan.py [--runs 20] [--keep DIR] [--no-ray] [--checks-only]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import rootcause
from rootcause.lab import new_run
from rootcause.scan import CheckOptions, RunResult, scan
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


#: The baseline: a case-insensitive whole-word regex over every completion (what a check
#: that pushes its per-sample work into one DuckDB query could at best run at).
BASELINE_REGEX = r"(?i)\bsummary\W+details\b"


def check_speeds(runs: list[Path], workspace: Workspace, out: Path) -> None:
    """Each check's samples/s on a rescan of the ingested runs (one worker, in this process),
    beside the baseline regex over the same texts."""
    shutil.rmtree(out, ignore_errors=True)
    result = scan([str(r) for r in runs], workspace, OPTIONS, out=out, reuse=False, workers=1)
    samples = sum(r.samples for r in result.results)
    dbs = [workspace_db(workspace, r) for r in result.results]
    baseline = regex_seconds(dbs)
    print(f"\nchecks on a rescan ({len(runs)} runs, {samples:,} samples, one worker; the "
          f"worker's imports once: {sum(r.timings.get('setup', 0) for r in result.results):.1f} s, "
          "not in the checks)")  # fmt: skip
    print("| check | s per run | samples/s | CPU s per run | samples per CPU-s | x regex CPU |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in OPTIONS.checks:
        wall = sum(r.timings.get(name, 0.0) for r in result.results)
        cpu = sum(r.timings.get(f"cpu:{name}", 0.0) for r in result.results)
        _speed_row(name, wall, cpu, samples, len(runs), baseline[1])
    label = "baseline: DuckDB `regexp_matches(completion, ...)`"
    _speed_row(label, baseline[0], baseline[1], samples, len(runs), baseline[1])


def _speed_row(label: str, wall: float, cpu: float, samples: int, runs: int, base: float) -> None:
    """One row: seconds and CPU seconds per run, samples per second of each, and the CPU
    time as a multiple of the baseline's."""
    print(
        f"| {label} | {wall / runs:.3f} | {samples / wall:,.0f} | {cpu / runs:.3f} | "
        f"{samples / cpu:,.0f} | {cpu / base:.1f} |"
    )


def workspace_db(workspace: Workspace, result: RunResult) -> Path:
    """The DuckDB file a scanned run was read from."""
    return next((workspace.root / "runs").glob(f"{result.run_id}-*/run.duckdb"))


def regex_seconds(dbs: list[Path]) -> tuple[float, float]:
    """Seconds and CPU seconds for the baseline regex over every run's ingested completions
    (one query per run on its already open store)."""
    import duckdb

    seconds = cpu = 0.0
    for db in dbs:
        con = duckdb.connect(str(db), read_only=True)
        start, used = time.perf_counter(), time.process_time()
        con.execute(
            "SELECT count(*) FILTER (WHERE regexp_matches(completion, ?)) FROM samples",
            [BASELINE_REGEX],
        ).fetchall()
        seconds += time.perf_counter() - start
        cpu += time.process_time() - used
        con.close()
    return seconds, cpu


def command_env(runs: list[Path], workspace: Path, folder: Path) -> dict[str, str]:
    """The environment of the timed commands: the rootcause this script imported first on the
    path (not one in the current folder), bytecode cached in `folder/pycache` (rootcause's
    compiled now, the libraries' by one untimed rescan: with PYTHONPYCACHEPREFIX set, Python
    reads no bytecode from the `__pycache__` folders, the installed libraries' included)."""
    code = Path(rootcause.__file__).parent.parent
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")])
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    compile_all = [sys.executable, "-m", "compileall", "-q", str(code / "rootcause")]
    subprocess.run(compile_all, check=True, capture_output=True, env=env)
    run_scan_command(runs, workspace, folder / "cli-warm-up", env, "--rescan")
    return env


def run_scan_command(
    runs: list[Path], workspace: Path, out: Path, env: dict[str, str], *extra: str
) -> float:
    """Run `rootcause scan` as a command (one worker) into `out`; its wall seconds."""
    words = [sys.executable, "-m", "rootcause", "scan", *map(str, runs), "--workspace",
             str(workspace), "--out", str(out), "--workers", "1", "--check", "cot_exposure",
             "--check", "emerging", *extra]  # fmt: skip
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(words, check=True, capture_output=True, cwd=out.parent, env=env)
    return time.perf_counter() - start


def fixed_costs(
    label: str, runs: list[Path], workspace: Path, out: Path, env: dict[str, str], *extra: str
) -> None:
    """`rootcause scan` as a command (one worker): its wall time, the checks' share of it,
    and where the rest goes."""
    wall = run_scan_command(runs, workspace, out, env, *extra)
    results = [RunResult.model_validate_json(p.read_bytes()) for p in (out / "runs").glob("*.json")]
    phases = {k: sum(r.timings.get(k, 0.0) for r in results) for k in ("setup", "ingest", "open")}
    checks = sum(r.timings.get(c, 0.0) for r in results for c in OPTIONS.checks)  # wall
    outside = wall - sum(r.seconds for r in results)
    print(f"| {label} | {wall:.1f} | {checks:.1f} | {wall - checks:.1f} "
          f"({(wall - checks) / wall:.0%}) | {outside:.1f} | {phases['setup']:.1f} | "
          f"{phases['ingest']:.1f} | {phases['open']:.1f} |")  # fmt: skip


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
    parser.add_argument(
        "--checks-only", action="store_true", help="only the checks' speeds and fixed costs"
    )
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="rootcause-bench-scan-"))
    folder.mkdir(parents=True, exist_ok=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores; load average {load}")
    workspace = Workspace(folder / "ws")
    runs = prepare(folder, args.runs, workspace)
    if args.watch_only:
        watch_delay(runs[0], folder)
        return
    check_speeds(runs, workspace, folder / "scan-checks")
    print("\n`rootcause scan` as a command, one worker; fixed = wall - checks")
    print("| scan | wall s | checks s | fixed s (share) | process, imports, folder s | "
          "set-up s | ingest s | open s |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    shutil.rmtree(folder / "ws-fresh", ignore_errors=True)
    env = command_env(runs, workspace.root, folder)
    fresh, rescan = folder / "cli-fresh", folder / "cli-rescan"
    fixed_costs("fresh (new workspace: ingest)", runs, folder / "ws-fresh", fresh, env)
    fixed_costs("rescan (ingested)", runs, workspace.root, rescan, env, "--rescan")
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.checks_only:
        return
    print()
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
