"""Benchmark: CLI start-up (`--help`, `tool --help`, `tool overview` on a 50k and a 1M run).

Each figure is the median of N fresh processes (wall time, and the CPU time the process used,
which a loaded machine disturbs less). Baselines are timed in the same run, interleaved with
the commands: `python -c pass` (the interpreter alone) and `python -c "import duckdb"` (one
library every command that reads a run needs). `--compare TREE` times the same commands
against another checkout (e.g. the main branch) in the same run, as a before/after.

The runs are ingested first (not timed), so `tool overview` is the reuse path a second call
takes. Children write bytecode to a cache of their own (PYTHONPYCACHEPREFIX) and are run once
before timing, as an installed package has its bytecode compiled at install time.

    python tools/bench_startup.py [--runs 15] [--small RUN] [--large RUN] [--no-large]
                                  [--keep DIR] [--compare TREE]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Timing:
    """Medians over the fresh processes of one command."""

    wall: float
    cpu: float


def child_env(tree: Path, pycache: Path) -> dict[str, str]:
    """The environment of a timed process: `tree` first on the path, bytecode cached apart."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(tree)
    env["PYTHONPYCACHEPREFIX"] = str(pycache / tree.name)
    pycache.mkdir(parents=True, exist_ok=True)
    return env


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh process (its output discarded; a failure is fatal).
    It runs in the bytecode cache's folder: `python -m` puts the working folder first on the
    path, which must not shadow the tree given by PYTHONPATH."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        env=env,
        cwd=Path(env["PYTHONPYCACHEPREFIX"]).parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {err.strip()[:500]}")
    return wall, usage.ru_utime + usage.ru_stime


def check_tree(tree: Path, env: dict[str, str]) -> None:
    """Refuse to time a tree the child would not import (an editable install elsewhere)."""
    code = "import rootcause; print(rootcause.__file__)"
    cwd = Path(env["PYTHONPYCACHEPREFIX"]).parent
    found = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()
    if not Path(found).is_relative_to(tree):
        raise SystemExit(f"a child imports {found}, not the tree {tree}")


def measure(cases: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, Timing]:
    """Each case `runs` times, interleaved (round-robin) so load changes hit every case alike;
    one untimed warm-up each first."""
    for argv, env in cases.values():
        run_once(argv, env)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, (argv, env) in cases.items():
            samples[name].append(run_once(argv, env))
    return {
        name: Timing(statistics.median(w for w, _ in s), statistics.median(c for _, c in s))
        for name, s in samples.items()
    }


def lab_run(folder: Path, name: str, steps: int, groups: int) -> Path:
    """A persona-quirk lab run (made once; kept under `folder`)."""
    run = folder / name
    if not run.exists():
        from rootcause.lab import new_run

        start = time.perf_counter()
        key = folder / f"{name}.key.json"
        new_run(
            bug="persona_reward_quirk",
            seed=11,
            out_dir=run,
            answer_key=key,
            steps=steps,
            groups=groups,
        )
        print(f"lab run {name} written in {time.perf_counter() - start:.0f} s", flush=True)
    return run


def ingest(run: Path, workspace: Path) -> int:
    """Ingest `run` (or find it ingested) and return its sample count."""
    from rootcause.store.ingest import ingest_run
    from rootcause.store.workspace import Workspace

    start = time.perf_counter()
    result = ingest_run(run, Workspace(workspace))
    with result.open() as store:
        samples = store.overview().samples
    print(f"{run.name}: {samples:,} samples, ingest {time.perf_counter() - start:.1f} s")
    return samples


def commands(
    workspace: Path, runs: dict[str, Path], pycache: Path, compare: Path | None
) -> dict[str, tuple[list[str], dict[str, str]]]:
    """The timed command lines (name -> argv, environment): the baselines, then each command
    against this tree and, with `compare`, against that checkout."""
    py = sys.executable
    cases = {
        "python -c pass": ([py, "-c", "pass"], child_env(ROOT, pycache)),
        "python -c 'import duckdb'": ([py, "-c", "import duckdb"], child_env(ROOT, pycache)),
    }
    base = [py, "-m", "rootcause", "--workspace", str(workspace)]
    trees = {"this tree": ROOT, **({"compare": compare.resolve()} if compare else {})}
    for tree_label, tree in trees.items():
        env = child_env(tree, pycache)
        check_tree(tree, env)
        cases[f"--help [{tree_label}]"] = ([*base, "--help"], env)
        cases[f"tool --help [{tree_label}]"] = ([*base, "tool", "--help"], env)
        for label, run in runs.items():
            argv = [*base, "tool", "overview", str(run)]
            cases[f"tool overview {label} [{tree_label}]"] = (argv, env)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per figure")
    parser.add_argument("--small", type=Path, help="an existing run of about 50k samples")
    parser.add_argument("--large", type=Path, help="an existing run of about 1M samples")
    parser.add_argument("--no-large", action="store_true", help="skip the 1M-sample run")
    parser.add_argument("--keep", type=Path, help="keep the generated runs and workspace here")
    parser.add_argument("--compare", type=Path, help="another checkout to time the same way")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="rootcause-bench-startup-"))
    folder.mkdir(parents=True, exist_ok=True)
    workspace, pycache = folder / "ws", folder / "pycache"
    runs = {"50k": args.small or lab_run(folder, "run-50k", 200, 32)}
    if not args.no_large:
        runs["1M"] = args.large or lab_run(folder, "run-1m", 1000, 128)
    sizes = {label: ingest(run, workspace) for label, run in runs.items()}

    cases = commands(workspace, runs, pycache, args.compare)
    load = os.getloadavg()
    timings = measure(cases, args.runs)
    load_after = os.getloadavg()
    print(
        f"\nmachine: {os.cpu_count()} cores ({platform.machine()}), Python "
        f"{platform.python_version()}; load average (1 min) {load[0]:.1f} before, "
        f"{load_after[0]:.1f} after; runs: "
        + ", ".join(f"{label} {n:,} samples" for label, n in sizes.items())
    )
    print(f"median of {args.runs} fresh processes each\n")
    interpreter, duckdb = timings["python -c pass"], timings["python -c 'import duckdb'"]
    print(f"{'command':40s} {'wall s':>7s} {'cpu s':>6s} {'/ python':>9s} {'/ duckdb':>9s}")
    for name, t in timings.items():
        print(
            f"{name:40s} {t.wall:7.3f} {t.cpu:6.3f} {t.wall / interpreter.wall:8.1f}x "
            f"{t.wall / duckdb.wall:8.2f}x"
        )
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
