"""Benchmark: a whole investigation (systematic brain) on a 50k-sample and a 1M-sample lab run.

Prints wall time, tool calls and whether the top finding is the seeded cause, for each size,
beside the time it took to simulate and ingest the run; and the time to characterise the
symptom (every candidate measured on the whole run) with the exact and a paraphrased symptom:
lexical only, and with the semantic step cold (pieces embedded) and warm (from the cache).

    python tools/bench_investigate.py [--large-only | --small-only] [--lexical-only] [--keep DIR]

`--lexical-only` leaves out the semantic characterisations (and the model load), which take
minutes on a 1M run under load and do not change with the lexical measuring.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from rootcause.behaviour.proposal import propose_detector
from rootcause.investigate.job import investigate
from rootcause.lab import new_run
from rootcause.store.ingest import ingest_run
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from rootcause.tools.context import ToolContext

#: A paraphrase of the tic symptom that avoids the tic's own words.
PARAPHRASE = "The model keeps dropping an oddly themed word into otherwise ordinary replies."

SIZES = {"50k": (200, 32), "1M": (1000, 128)}


def bench(label: str, folder: Path, semantic: bool) -> None:
    steps, groups = SIZES[label]
    run, key_path = folder / f"run-{label}", folder / f"run-{label}.key.json"
    if not run.exists():
        start = time.perf_counter()
        new_run(
            bug="persona_reward_quirk",
            seed=21,
            out_dir=run,
            answer_key=key_path,
            steps=steps,
            groups=groups,
        )
        print(f"[{label}] lab run written in {time.perf_counter() - start:.1f} s")
    key = json.loads(key_path.read_text())
    workspace = Workspace(folder / f"ws-{label}")
    start = time.perf_counter()
    ingested = ingest_run(run, workspace)
    ingest_s = time.perf_counter() - start
    characterise(label, ingested.db_path, key["symptom"], semantic)
    start = time.perf_counter()
    outcome = investigate(workspace, run=run, symptom=key["symptom"])
    wall = time.perf_counter() - start
    report = outcome.report
    top = report.findings[0] if report.findings else None
    cause = key["causes"][0]
    right = top is not None and (top.kind, top.id) == (cause["kind"], cause["id"])
    print(
        f"[{label}] {ingested.source.run_id}: ingest {ingest_s:.1f} s; investigation "
        f"{wall:.1f} s wall, {report.stats.tool_calls} tool calls; top finding "
        f"{top.kind + ' ' + top.id if top else 'none'} ({'seeded cause' if right else 'WRONG'})"
    )


def load_model() -> None:
    """Time loading the MiniLM model (imports included), which a process does once, so the
    characterisation figures below leave it out."""
    from rootcause.search.embedders import MiniLMEmbedder

    start = time.perf_counter()
    MiniLMEmbedder().embed(["warm-up"])
    print(f"MiniLM model loaded (once per process) in {time.perf_counter() - start:.1f} s")


def characterise(label: str, db_path: Path, symptom: str, with_semantic: bool) -> None:
    """Time `propose_detector` lexical-only, semantic cold (the run's pieces embedded) and
    semantic warm (from the workspace cache), each in a fresh context."""
    modes = [("lexical", False)]
    modes += [("semantic", True), ("semantic warm", True)] if with_semantic else []
    for name, text in (("exact", symptom), ("paraphrase", PARAPHRASE)):
        for mode, semantic in modes:
            with RunStore(db_path) as store:
                ctx = ToolContext(store, db_path.parent / "bench-calls", make_plots=False)
                start = time.perf_counter()
                found = propose_detector(ctx, text, semantic=semantic)
                took = time.perf_counter() - start
            chosen = found.chosen.spec if found.chosen else "not found"
            print(
                f"[{label}] characterise {name} symptom, {mode}: {took:.1f} s, "
                f"{len(found.candidates)} candidates -> {chosen[:80]}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-only", action="store_true")
    parser.add_argument("--large-only", action="store_true")
    parser.add_argument("--lexical-only", action="store_true", help="no semantic characterising")
    parser.add_argument("--keep", type=Path, help="keep runs and workspaces in this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="rootcause-bench-inv-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores")
    if not args.lexical_only:
        load_model()
    labels = ["50k"] if args.small_only else ["1M"] if args.large_only else ["50k", "1M"]
    for label in labels:
        bench(label, folder, semantic=not args.lexical_only)
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
