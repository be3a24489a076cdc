"""Benchmark: every tool on a lab run of about 1M samples, with pandas baselines.

Each tool is called cold (a fresh context: the run's columns are loaded again), which is what a
single `rootcause tool` call pays. Prevalence and selection pressure are also done the way a
user would in a notebook with pandas, in the same run, and the ratio is printed.

    python tools/bench_tools.py [--run DIR] [--steps 1000] [--groups 128] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from rootcause.lab import new_run
from rootcause.store.ingest import ingest_run
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from rootcause.tools.context import ToolContext
from rootcause.tools.registry import call_tool, load_all

#: Bootstrap replicates the pandas baseline actually runs (its per-replicate cost is printed).
PANDAS_REPS = 20


def _timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def tool_calls(key: dict[str, Any], overview: Any) -> list[tuple[str, dict[str, Any]]]:
    behavior = key["detector_hint"]
    component = overview.components[0]
    persona = next(iter(overview.personas))
    calls = [
        ("overview", {}),
        ("samples", {"behavior": behavior, "limit": 5}),
        ("sql", {"query": "SELECT persona, count(*) FROM samples GROUP BY 1"}),
        ("detect", {"behavior": behavior}),
        ("detect", {"symptom": key["symptom"]}),
        ("prevalence", {"behavior": behavior}),
        ("compare_traces", {"behavior": behavior, "a": persona}),
        ("onset", {"behavior": behavior}),
        ("selection_pressure", {"behavior": behavior}),
        ("counterfactual", {"behavior": behavior, "remove": [component]}),
        ("reward_contrast", {"behavior": behavior}),
        ("enrichment", {"behavior": behavior}),
        ("config_history", {}),
        ("config_diff", {"commit": overview.deployments[-1].commit}),
        ("event_alignment", {"behavior": behavior}),
        ("cot_exposure", {}),
        ("emerging", {}),
    ]
    known = load_all()
    return [(name, args) for name, args in calls if name in known]


def pandas_prevalence(db: Path, pattern: str) -> float:
    import duckdb
    import pandas as pd

    start = time.perf_counter()
    con = duckdb.connect(str(db), read_only=True)
    df: pd.DataFrame = con.sql("SELECT step, persona, completion FROM samples").df()
    con.close()
    df["hit"] = df["completion"].str.contains(pattern, regex=True)
    df.groupby([df["step"] // 25, "persona"])["hit"].mean()
    return time.perf_counter() - start


def pandas_pressure(db: Path, pattern: str) -> tuple[float, float]:
    """Point estimate of per-component Price pressure with pandas groupby, plus the cost of
    PANDAS_REPS group-bootstrap replicates; returns (seconds for the estimate, per replicate)."""
    import duckdb
    import pandas as pd

    start = time.perf_counter()
    con = duckdb.connect(str(db), read_only=True)
    df: pd.DataFrame = con.sql("SELECT row_idx, group_id, completion FROM samples").df()
    rewards = con.sql("PIVOT rewards ON component USING first(value)").df()
    con.close()
    df = df.merge(rewards, on="row_idx")
    components = [c for c in rewards.columns if c != "row_idx"]
    df[components] = df[components].fillna(0.0)
    df["b"] = df["completion"].str.contains(pattern, regex=True).astype(float)
    df["r"] = df[components].sum(axis=1)
    g = df.groupby("group_id")
    centred = df[["b", "r", *components]] - g[["b", "r", *components]].transform("mean")
    sd = g["r"].transform("std", ddof=0).replace(0, np.nan)
    size = g["b"].transform("size")
    terms = centred[components].mul(centred["b"] / (sd * size), axis=0).fillna(0.0)
    terms["group_id"] = df["group_id"]
    per_group = terms.groupby("group_id").sum()
    per_group.mean()
    estimate = time.perf_counter() - start
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(PANDAS_REPS):
        pick = rng.integers(0, len(per_group), len(per_group))
        per_group.iloc[pick].mean()
    return estimate, (time.perf_counter() - start) / PANDAS_REPS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="an existing lab run (its key beside it)")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=128)
    parser.add_argument("--keep", type=Path, help="keep the generated run here")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="rootcause-bench-tools-"))
    run = args.run or folder / "run"
    key_path = run.with_name(run.name + ".key.json")
    if not run.exists():
        secs, _ = _timed(
            lambda: new_run(
                bug="persona_reward_quirk",
                seed=11,
                out_dir=run,
                answer_key=key_path,
                steps=args.steps,
                groups=args.groups,
            )
        )
        print(f"lab run written in {secs:.1f} s")
    key = json.loads(key_path.read_text())
    workspace = Workspace(folder / "ws")
    secs, ingested = _timed(lambda: ingest_run(run, workspace))
    with RunStore(ingested.db_path) as store:
        overview = store.overview()
    print(
        f"machine: {os.cpu_count()} cores; run: {overview.samples:,} samples; ingest {secs:.1f} s"
    )
    print(f"\n{'tool':22s} {'seconds (cold)':>15s}")
    timings: dict[str, float] = {}
    for name, call_args in tool_calls(key, overview):
        with RunStore(ingested.db_path) as store:
            ctx = ToolContext(store, folder / "calls", make_plots=False)
            secs, _ = _timed(lambda: call_tool(ctx, name, call_args))  # noqa: B023
        label = name if name != "detect" or "behavior" in call_args else "detect (symptom)"
        timings[label] = secs
        print(f"{label:22s} {secs:15.2f}")
    pattern = r"(?i)\b(?:" + "|".join(key["detector_hint"].split(":", 1)[1].split(",")) + r")s?\b"
    theirs = pandas_prevalence(ingested.db_path, pattern)
    print(
        f"\nprevalence: rootcause {timings['prevalence']:.2f} s vs pandas {theirs:.2f} s "
        f"({theirs / timings['prevalence']:.1f}x)"
    )
    estimate, per_rep = pandas_pressure(ingested.db_path, pattern)
    projected = estimate + 1000 * per_rep
    print(
        f"selection pressure: rootcause {timings['selection_pressure']:.2f} s with 1000 "
        f"bootstrap replicates and slices; pandas {estimate:.2f} s for the point estimate alone, "
        f"{per_rep * 1000:.0f} ms per replicate (measured over {PANDAS_REPS}), so about "
        f"{projected:.0f} s with 1000 ({projected / timings['selection_pressure']:.0f}x)"
    )
    if args.keep is None and args.run is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
