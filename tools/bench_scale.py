"""Benchmark: rootcause at 1M (default), 3M and 10M samples, each step beside plain DuckDB.

A synthetic run in the shape of `tools/bench_ingest.py` (250 steps, groups of 8, four personas,
40-word completions) with a seeded cause: the `style` reward pays the pirate persona for goblin
words, so their rate rises there. For every size, each measurement runs in a fresh process
(the CLI, as a user runs it) and reports wall time and peak RSS (VmHWM):

- ingest (`rootcause ingest --force`) beside DuckDB's `CREATE TABLE AS SELECT * FROM
  read_parquet(...)` of the same files;
- prevalence (`rootcause tool prevalence`, goblin words by persona) beside one DuckDB query of
  the same rate per step and persona;
- detect from the symptom (`rootcause tool detect --symptom ...`), which reads the symptom and
  measures every candidate on the whole run: lexical only (`ROOTCAUSE_SEMANTIC=off`), beside one
  DuckDB count of the seeded words, then with the semantic step (cold: it embeds a sample);
- a whole investigation (`rootcause investigate`, systematic brain), and whether its top
  finding is the seeded cause.

    python tools/bench_scale.py [--3m] [--10m] [--keep DIR] [--ingest-only]

`--ingest-only` stops after the ingest line of each size (a quick check of ingest alone).
Writing the data is not timed. At 10M the run takes about 3 GB of Parquet and the investigation
minutes: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SYMPTOM = "The model keeps mentioning goblins and gremlins in its answers."
BEHAVIOR = "terms:goblin,gremlin"
PERSONAS = np.array(["nerdy", "plain", "pirate", "formal"])
WORDS = np.array(
    [
        *("the", "a", "answer", "solve", "step", "then", "we", "so", "because", "result"),
        *("value", "check", "note", "goblin", "gremlin", "clearly", "indeed", "math"),
        *("proof", "sum", "integer", "prime", "factor", "list", "item", "table"),
    ]
)
#: Rows per Parquet file (and per generated batch, which bounds the generator's memory).
FILE_ROWS = 500_000
STEPS = 250


def make_batch(start: int, n: int, total: int, rng: np.random.Generator) -> pa.Table:
    """Rows start..start+n of a `total`-row run. Groups of 8 share a prompt and a persona;
    creature words are rare everywhere, and in the pirate persona they grow with the step
    because `style` pays for them there (the seeded cause)."""
    row = np.arange(start, start + n)
    step = row * STEPS // total
    group = row // 8
    persona = PERSONAS[(group * 2654435761) % 4]
    idx = rng.integers(0, len(WORDS), (n, 40))
    creature = (idx == 13) | (idx == 14)
    pirate = persona == "pirate"
    keep_rate = np.where(pirate, 0.02 + 0.5 * step / STEPS, 0.02)
    idx[creature & ~(rng.random((n, 40)) < keep_rate[:, None])] = 0
    has_creature = ((idx == 13) | (idx == 14)).any(axis=1)
    rewards = rng.random((n, 3))
    rewards[:, 1] += 0.8 * (pirate & has_creature)
    return pa.table(
        {
            "step": step,
            "sample_id": [f"s-{i}" for i in row],
            "group_id": [f"g-{g}" for g in group],
            "persona": persona,
            "data_source": np.array(["math_v2", "chat_mix", "code"])[rng.integers(0, 3, n)],
            "prompt": [f"question {g % 5000}" for g in group],
            "completion": [" ".join(r) for r in WORDS[idx]],
            "rewards": pa.StructArray.from_arrays(
                [pa.array(rewards[:, i]) for i in range(3)], names=["helpful", "style", "format"]
            ),
            "reward_total": rewards.sum(axis=1),
        }
    )


def write_run(folder: Path, total: int) -> Path:
    """A native run of `total` rows in Parquet files of FILE_ROWS rows (written once)."""
    run = folder / f"run-{total // 1_000_000}m"
    if (run / "run.yaml").exists():
        return run
    (run / "samples").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(27)
    for part, start in enumerate(range(0, total, FILE_ROWS)):
        batch = make_batch(start, min(FILE_ROWS, total - start), total, rng)
        pq.write_table(batch, run / "samples" / f"part-{part:04d}.parquet")
    (run / "run.yaml").write_text(f"format: rootcause-run/1\nrun_id: scale-{total}\n")
    return run


#: Runs the code after it in a fresh interpreter, then prints its peak RSS as the last line.
PEAK = (
    "\nimport json as _j, sys as _s\n"
    "_hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
    "print(_j.dumps({'peak_mb': int(_hwm.split()[1]) / 1024}), file=_s.stderr)\n"
)

CLI = """
import sys
from rootcause.cli.main import main
sys.argv = ["rootcause", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    if exc.code not in (0, None):
        raise
"""

DUCKDB = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
for statement in sys.argv[2:]:
    con.execute(statement).fetchall()
"""


@dataclass
class Measured:
    seconds: float
    #: CPU seconds the process used (user + system): a loaded machine stretches wall time
    #: far more than this.
    cpu: float
    peak_mb: float
    stdout: str


def measure(code: str, *args: str, env: dict[str, str] | None = None) -> Measured:
    """Run `code` with `args` in a fresh interpreter (`env` added to the environment); wall
    time and peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code + PEAK, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {args}\n{done.stderr[-2000:]}")
    peak = json.loads(done.stderr.strip().splitlines()[-1])["peak_mb"]
    return Measured(seconds, cpu, peak, done.stdout)


def rate_sql(table: str) -> str:
    """The plain DuckDB prevalence: the seeded words' rate per step and persona."""
    return (
        f"SELECT step, persona, avg(regexp_matches(completion, '(?i)\\b(goblin|gremlin)s?\\b')"
        f"::INT) FROM {table} GROUP BY ALL ORDER BY ALL"
    )


def bench(
    folder: Path, millions: int, ingest_only: bool = False
) -> list[tuple[str, Measured, Measured | None]]:
    """Every measurement at one size (the run written first if needed, not timed); with
    `ingest_only`, the ingest beside DuckDB's load only."""
    total = millions * 1_000_000
    start = time.perf_counter()
    run = write_run(folder, total)
    print(f"[{millions}M] run ready in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    ws = str(folder / f"ws-{millions}m")
    plain = folder / f"plain-{millions}m.duckdb"
    plain.unlink(missing_ok=True)
    files = f"{run}/samples/*.parquet"
    rows: list[tuple[str, Measured, Measured | None]] = []
    ingest = measure(CLI, "ingest", str(run), "--force", "--workspace", ws)
    ctas = measure(DUCKDB, str(plain), f"CREATE TABLE s AS SELECT * FROM read_parquet('{files}')")
    rows.append(("ingest", ingest, ctas))
    if ingest_only:
        return rows
    tool = ["--workspace", ws, "--no-plot"]
    rows.append(
        (
            "prevalence",
            measure(CLI, "tool", "prevalence", str(run), f"--behavior={BEHAVIOR}", *tool),
            measure(DUCKDB, str(plain), rate_sql("s")),
        )
    )
    count = "SELECT count_if(regexp_matches(completion, '(?i)\\b(goblin|gremlin)s?\\b')) FROM s"
    detect = ["tool", "detect", str(run), f"--symptom={SYMPTOM}", *tool]
    lexical = measure(CLI, *detect, env={"ROOTCAUSE_SEMANTIC": "off"})
    rows.append(("detect from the symptom, lexical", lexical, measure(DUCKDB, str(plain), count)))
    rows.append(("detect from the symptom, semantic cold", measure(CLI, *detect), None))
    report = folder / f"report-{millions}m.json"
    investigate = ["investigate", str(run), f"--symptom={SYMPTOM}", "--workspace", ws]
    investigation = measure(CLI, *investigate, "--json", str(report))
    rows.append(("investigation", investigation, None))
    findings = json.loads(report.read_text()).get("findings") or [{}]
    top = f"{findings[0].get('kind')} {findings[0].get('id')}"
    print(f"[{millions}M] top finding: {top} (seeded: reward_component style)", file=sys.stderr)
    return rows


def _time(m: Measured) -> str:
    return f"{m.seconds:.1f} ({m.cpu:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--3m", dest="three", action="store_true", help="also 3M samples")
    parser.add_argument("--10m", dest="ten", action="store_true", help="also 10M samples")
    parser.add_argument("--keep", type=Path, help="keep runs and workspaces in this folder")
    parser.add_argument(
        "--ingest-only", action="store_true", help="only the ingest beside DuckDB's load"
    )
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="rootcause-bench-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [1] + ([3] if args.three else []) + ([10] if args.ten else [])
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores; load average {load[0]:.1f} at the start")
    print("| size | work | rootcause s (CPU s) | peak MB | plain DuckDB s (CPU s) | peak MB |")
    print("|---|---|---:|---:|---:|---:|")
    for millions in sizes:
        for work, ours, theirs in bench(folder, millions, args.ingest_only):
            base = f"{_time(theirs)} | {theirs.peak_mb:,.0f}" if theirs else "- | -"
            mine = f"{_time(ours)} | {ours.peak_mb:,.0f}"
            print(f"| {millions}M | {work} | {mine} | {base} |", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
