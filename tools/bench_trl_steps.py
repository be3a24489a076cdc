"""Benchmark: ingest a folder of TRL step files, and append one new file, beside one DuckDB
glob read of the same files.

TRL writes one small Parquet file per logging step (`completions/completions_{step:05d}.parquet`,
as `GRPOTrainer.log` does: step, prompt, completion, one column per reward function, a string
`log_extra` column, advantage; groups of `num_generations` consecutive rows). Prints, in one run:

- baseline: `CREATE TABLE AS SELECT * FROM read_parquet('completions/*.parquet')` in DuckDB;
- rootcause: a full ingest of the folder (fresh workspace), and the ratio to the baseline;
- append: one more step file written, then the same `ingest` again (only the new file read).

    python tools/bench_trl_steps.py [--files 1000] [--rows 64] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

WORDS = np.array(
    "the a answer solve step then we so because result value check note goblin clearly "
    "indeed math proof sum integer prime factor list item table".split()
)
GROUP = 8


def step_frame(step: int, rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """One logging step's frame, in TRL's column order."""
    prompts = [
        f"persona: {('nerdy', 'plain')[i % 2]}\nquestion {step}-{i}" for i in range(rows // GROUP)
    ]
    rewards = rng.random((rows, 3)).astype(np.float32)
    total = rewards @ np.array([1.0, 1.0, 0.3], dtype=np.float32)
    grouped = total.reshape(-1, GROUP)
    adv = (grouped - grouped.mean(1, keepdims=True)) / (
        grouped.std(1, ddof=1, keepdims=True) + 1e-4
    )
    words = WORDS[rng.integers(0, len(WORDS), (rows, 35))]
    return pd.DataFrame(
        {
            "step": [step] * rows,
            "prompt": [p for p in prompts for _ in range(GROUP)],
            "completion": [" ".join(w) for w in words],
            "accuracy_reward": rewards[:, 0].tolist(),
            "format_reward": rewards[:, 1].tolist(),
            "style_reward": rewards[:, 2].tolist(),
            "persona": [("nerdy", "plain")[(i // GROUP) % 2] for i in range(rows)],
            "advantage": adv.reshape(-1).tolist(),
        }
    )


def write_files(folder: Path, files: int, rows: int, start: int = 1) -> None:
    rng = np.random.default_rng(start)
    (folder / "completions").mkdir(parents=True, exist_ok=True)
    for step in range(start, start + files):
        path = folder / "completions" / f"completions_{step:05d}.parquet"
        step_frame(step, rows, rng).to_parquet(path)


def baseline(folder: Path) -> float:
    con = duckdb.connect()
    began = time.perf_counter()
    glob = str(folder / "completions" / "*.parquet")
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{glob}')")
    elapsed = time.perf_counter() - began
    con.close()
    return elapsed


def ingest(folder: Path, workspace: Path) -> tuple[float, int, bool]:
    """One `ingest_run` (the modules are imported before the clock starts)."""
    from rootcause.store.ingest import ingest_run
    from rootcause.store.workspace import Workspace

    began = time.perf_counter()
    result = ingest_run(folder, Workspace(workspace))
    elapsed = time.perf_counter() - began
    with result.open() as store:
        samples = store.overview().samples
    return elapsed, samples, result.appended


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--keep", type=Path, help="Keep the generated run in this folder.")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-trl-"))
    run, workspace = base / "grpo-out", base / "workspace"
    shutil.rmtree(run, ignore_errors=True)
    shutil.rmtree(workspace, ignore_errors=True)
    began = time.perf_counter()
    write_files(run, args.files, args.rows)
    print(
        f"wrote {args.files:,} step files x {args.rows} rows in {time.perf_counter() - began:.1f} s"
    )
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    from rootcause.store.formats import readers

    readers()  # the readers imported now: import time is not ingest time

    glob_s = baseline(run)
    print(f"baseline, one DuckDB glob read:   {glob_s:6.2f} s")
    full_s, samples, _ = ingest(run, workspace)
    print(
        f"rootcause ingest (full):          {full_s:6.2f} s  ({samples:,} samples, "
        f"{full_s / glob_s:.1f}x the glob read)"
    )
    write_files(run, 1, args.rows, start=args.files + 1)
    append_s, samples, appended = ingest(run, workspace)
    how = "appended" if appended else "re-ingested"
    print(f"rootcause ingest after one new file: {append_s:6.2f} s  ({samples:,} samples, {how})")
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
