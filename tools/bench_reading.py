"""How often the symptom is read as the seeded behaviour, without investigating: a fast
measure for trying changes to the reading (issue: paraphrased symptoms).

Reads an eval results folder (`rootcause eval ... --out DIR`): for each scenario, its cached
run and the lab's answer key. The reading (`propose_detector`, semantic step on unless
`--lexical`) is right when its detector's hits overlap the key's `detector_hint` hits by at
least `--overlap` (Jaccard), or, for a scenario with no seeded behaviour (`no_bug`) or an
absent symptom, when no detector is chosen. The answer keys are read here only, by this
script, never by the investigator.

    python tools/bench_reading.py /tmp/eval-para --workspace /tmp/ws-dev-sem --only s1-

`--dump FILE` also writes every candidate of every reading (JSON Lines: its spec, tier,
similarity and meaning z, rates, and its hits' overlap with the seeded behaviour's) and the
candidates' hits (packed bits, `FILE.hits.npz`), for `tools/reading_sweep.py` to try choice
rules on without reading the symptoms again.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rootcause.behaviour.matching import behavior_hits
from rootcause.behaviour.proposal import Proposal, propose_detector
from rootcause.search.embedders import SEMANTIC_ENV
from rootcause.store.ingest import ingest_run
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from rootcause.tools.context import ToolContext


@dataclass
class ReadingResult:
    """One scenario: its id, whether the reading was right, the chosen detector and its
    overlap with the seeded behaviour's hits (None: nothing chosen or nothing seeded), and
    (with `--dump`) every candidate and its hits."""

    scenario: str
    right: bool
    chosen: str | None
    overlap: float | None
    dumped: dict[str, object] | None = None
    hits: dict[str, np.ndarray] | None = None


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = int((a | b).sum())
    return float((a & b).sum() / union) if union else 0.0


def read_one(
    path: Path, workspace: Workspace, semantic: bool, min_overlap: float, dump: bool = False
) -> ReadingResult:
    scenario = json.loads(path.read_text())
    run_dir = Path(scenario["run_dir"])
    key = json.loads((run_dir.parent / "key.json").read_text())
    report = json.loads(Path(scenario["report_path"]).read_text())
    seeded = key.get("detector_hint")
    no_cause = bool(scenario["flags"].get("absent")) or scenario["bug"] == "no_bug"
    db = ingest_run(run_dir, workspace).db_path
    with RunStore(db) as store:
        ctx = ToolContext(store, db.parent / "bench-reading", make_plots=False)
        proposal = propose_detector(ctx, report["symptom"], semantic=semantic)
        chosen = proposal.chosen
        overlap = None
        if chosen is not None and seeded and not no_cause:
            overlap = _jaccard(behavior_hits(ctx, chosen.spec), behavior_hits(ctx, seeded))
        result = ReadingResult(scenario["id"], False, chosen.spec if chosen else None, overlap)
        if dump:
            _dump_candidates(ctx, result, proposal, seeded, no_cause, scenario)
    result.right = chosen is None if no_cause else overlap is not None and overlap >= min_overlap
    return result


def _dump_candidates(
    ctx: ToolContext,
    result: ReadingResult,
    proposal: Proposal,
    seeded: str | None,
    no_cause: bool,
    scenario: dict[str, object],
) -> None:
    """Every candidate and suggestion of the reading, with its hits and their overlap with
    the seeded behaviour's (None when nothing is seeded)."""
    seeded_hits = behavior_hits(ctx, seeded) if seeded else None
    shown = {c.spec for c in proposal.candidates}
    rows: list[dict[str, object]] = []
    hits: dict[str, np.ndarray] = {}
    for c in [*proposal.candidates, *(s for s in proposal.suggestions if s.spec not in shown)]:
        bits = behavior_hits(ctx, c.spec)
        hits[str(len(rows))] = np.packbits(bits)
        overlap = None if seeded_hits is None else _jaccard(bits, seeded_hits)
        rows.append(
            {
                "spec": c.spec,
                "tier": c.tier,
                "similarity": c.similarity,
                "meaning_z": c.meaning_z,
                "hits": c.hits,
                "z": c.z,
                "overlap": overlap,
            }
        )
    result.dumped = {
        "id": result.scenario,
        "bug": scenario["bug"],
        "no_cause": no_cause,
        "chosen": result.chosen,
        "candidates": rows,
    }
    result.hits = hits


def _write_dump(path: Path, results: list[ReadingResult]) -> None:
    """The readings' candidates as JSON Lines at `path`, their hits in `path`.hits.npz (key
    "<scenario>/<candidate index>")."""
    path.write_text("".join(json.dumps(r.dumped) + "\n" for r in results if r.dumped))
    arrays: dict[str, Any] = {
        f"{r.scenario}/{i}": bits for r in results for i, bits in (r.hits or {}).items()
    }
    np.savez_compressed(path.with_name(path.name + ".hits.npz"), **arrays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="an eval results folder (--out of eval)")
    parser.add_argument("--workspace", type=Path, required=True, help="the eval's workspace")
    parser.add_argument("--only", default="", help="scenarios whose id contains this")
    parser.add_argument("--lexical", action="store_true", help="turn the semantic step off")
    parser.add_argument("--overlap", type=float, default=0.3, help="Jaccard that counts as right")
    parser.add_argument("--dump", type=Path, help="write every candidate here (JSON Lines)")
    args = parser.parse_args()
    if args.lexical:
        os.environ[SEMANTIC_ENV] = "off"
    workspace = Workspace(args.workspace)
    started = time.perf_counter()
    results = []
    for path in sorted((args.results / "scenarios").glob("*.json")):
        if args.only in path.stem:
            r = read_one(path, workspace, not args.lexical, args.overlap, args.dump is not None)
            results.append(r)
            shown = "-" if r.overlap is None else f"{r.overlap:.2f}"
            print(f"{'right' if r.right else 'WRONG'}  {r.scenario:40} {shown:>5}  {r.chosen}")
    if args.dump is not None:
        _write_dump(args.dump, results)
    right = sum(r.right for r in results)
    print(
        f"reading right: {right}/{len(results)} "
        f"({right / max(len(results), 1):.2f}) in {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
