"""Benchmark: ingest and a prevalence query on a synthetic 1M-sample run, beside pandas.

Prints, in one run: ingest throughput from `.jsonl.gz` and from Parquet (each in its own
process, with its peak memory), and the rate of a regex per step split by persona, done by
rootcause's DuckDB store and the way a user would in a notebook (pandas read +
`str.contains` + groupby), with the ratio.

    python tools/bench_ingest.py [--samples 1000000] [--keep DIR]

With `--scaling 1,5,20` it instead ingests the same text shape at those multiples of 10,000
long samples (one `.jsonl.gz` file per multiple), each in a fresh process, beside DuckDB's own
`CREATE TABLE AS SELECT * FROM read_json(...)` of the same files, and prints time, peak RSS
and their ratios: peak memory should not grow with the input.

    python tools/bench_ingest.py --scaling 1,5,20 [--words 400]
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
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

PATTERN = r"(?i)\b(?:goblin|gremlin)s?\b"
BEHAVIOR = "terms:goblin,gremlin"
WORDS = np.array(
    [
        *("the", "a", "answer", "solve", "step", "then", "we", "so", "because", "result"),
        *("value", "check", "note", "goblin", "gremlin", "clearly", "indeed", "math"),
        *("proof", "sum", "integer", "prime", "factor", "list", "item", "table"),
    ]
)


def make_rows(n: int, seed: int = 0) -> pa.Table:
    """A synthetic run: 250 steps, groups of 8, four personas, realistic text lengths."""
    rng = np.random.default_rng(seed)
    step = np.repeat(np.arange(250), -(-n // 250))[:n]
    group = np.arange(n) // 8
    persona = np.array(["nerdy", "plain", "pirate", "formal"])[rng.integers(0, 4, n)]
    source = np.array(["math_v2", "chat_mix", "code"])[rng.integers(0, 3, n)]
    idx = rng.integers(0, len(WORDS), (n, 40))
    # Make the behaviour rarer: replace creature words most of the time.
    creature = (idx == 13) | (idx == 14)
    keep = rng.random((n, 40)) < step[:, None] / 2500
    idx[creature & ~keep] = 0
    completion = [" ".join(row) for row in WORDS[idx]]
    rewards = rng.random((n, 3))
    return pa.table(
        {
            "step": step,
            "sample_id": [f"s-{i}" for i in range(n)],
            "group_id": [f"g-{g}" for g in group],
            "persona": persona,
            "data_source": source,
            "env": np.full(n, "chat"),
            "prompt": [f"question {g % 5000}" for g in group],
            "completion": completion,
            "rewards": pa.StructArray.from_arrays(
                [pa.array(rewards[:, i]) for i in range(3)], names=["helpful", "style", "format"]
            ),
            "reward_total": rewards.sum(axis=1),
            "advantage": rng.standard_normal(n),
        }
    )


def write_run(folder: Path, table: pa.Table, kind: str) -> Path:
    run = folder / f"run-{kind}"
    (run / "samples").mkdir(parents=True)
    (run / "run.yaml").write_text(f"format: rootcause-run/1\nrun_id: bench-{kind}\n")
    if kind == "parquet":
        pq.write_table(table, run / "samples" / "part-0.parquet", row_group_size=100_000)
    else:
        with gzip.open(run / "samples" / "part-0.jsonl.gz", "wb", compresslevel=1) as out:
            for batch in table.to_batches(100_000):
                out.write(b"".join(orjson.dumps(r) + b"\n" for r in batch.to_pylist()))
    return run


def _child(code: str, *args: str) -> dict[str, float]:
    """Run `code` in a fresh interpreter; it prints one JSON object. Adds peak RSS in MB."""
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
    wrapper = code + "\nimport json as _j\n"
    wrapper += "_hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
    wrapper += "_out['peak_mb'] = int(_hwm.split()[1]) / 1024\n"
    wrapper += "print(_j.dumps(_out))\n"
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *args], capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


INGEST = """
import sys, time
from pathlib import Path
from rootcause.store.ingest import ingest_run
from rootcause.store.workspace import Workspace
t = time.perf_counter()
result = ingest_run(Path(sys.argv[1]), Workspace(Path(sys.argv[2])), force=True)
_out = {"seconds": time.perf_counter() - t, "db": str(result.db_path)}
"""

# The same SQL the toolset runs for a `terms:` behaviour (substring prefilter, then the regex).
QUERY = """
import sys, time, duckdb
from rootcause.behaviour.behavior import parse_behavior
from rootcause.behaviour.matching import behavior_sql
expr, params = behavior_sql(parse_behavior(sys.argv[2]))
con = duckdb.connect(sys.argv[1], read_only=True)
t = time.perf_counter()
rows = con.execute(
    f"SELECT step, persona, avg(({expr})::INT) AS rate FROM samples GROUP BY ALL ORDER BY ALL",
    params,
).fetchall()
_out = {"seconds": time.perf_counter() - t, "groups": len(rows)}
"""

PANDAS = """
import sys, time
import pandas as pd
t = time.perf_counter()
df = pd.read_parquet(sys.argv[1], columns=["step", "persona", "completion"])
read = time.perf_counter() - t
df["hit"] = df["completion"].str.contains(sys.argv[2], regex=True)
rates = df.groupby(["step", "persona"])["hit"].mean()
_out = {"seconds": time.perf_counter() - t, "read_seconds": read, "groups": len(rates)}
"""

PANDAS_JSONL = """
import sys, time
import pandas as pd
t = time.perf_counter()
df = pd.read_json(sys.argv[1], lines=True, compression="gzip")
_out = {"seconds": time.perf_counter() - t, "rows": len(df)}
"""


# --- scaling: peak memory at 1x, 5x and 20x the same text shape (issue 24, issue 27) ---

#: Samples per file; a size of Nx is N files of the same shape.
FILE_SAMPLES = 10_000

DUCKDB_CTAS = """
import sys, time, duckdb
t = time.perf_counter()
con = duckdb.connect(sys.argv[2])
files = sys.argv[1] + "/samples/*.jsonl.gz"
con.execute(f"CREATE TABLE samples AS SELECT * FROM read_json('{files}')")
rows = con.execute("SELECT count(*) FROM samples").fetchall()[0][0]
_out = {"seconds": time.perf_counter() - t, "rows": rows}
"""


def write_long_run(folder: Path, files: int, words: int, seed: int = 0) -> Path:
    """A native run of `files` `.jsonl.gz` files of FILE_SAMPLES samples, each with a
    completion of `words` words (about 6 characters a word) and a prompt of a tenth of that:
    the same text shape whatever the number of files."""
    run = folder / f"run-{files}x"
    (run / "samples").mkdir(parents=True)
    (run / "run.yaml").write_text(f"format: rootcause-run/1\nrun_id: scale-{files}x\n")
    rng = np.random.default_rng(seed)
    for part in range(files):
        n = FILE_SAMPLES
        idx = rng.integers(0, len(WORDS), (n, words))
        text = [" ".join(row) for row in WORDS[idx]]
        rewards = rng.random((n, 3)).tolist()
        path = run / "samples" / f"part-{part:05d}.jsonl.gz"
        with gzip.open(path, "wb", compresslevel=1) as out:
            for i in range(n):
                row = {
                    "step": part * 10 + i // 1000,
                    "group_id": f"g-{part}-{i // 8}",
                    "persona": ("nerdy", "plain", "pirate", "formal")[i % 4],
                    "prompt": text[(i // 8) * 8][: words * 6 // 10],
                    "completion": text[i],
                    "rewards": {"helpful": rewards[i][0], "style": rewards[i][1]},
                }
                out.write(orjson.dumps(row) + b"\n")
    return run


def scaling(folder: Path, sizes: list[int], words: int) -> None:
    """Ingest each size in a fresh process beside DuckDB's own CTAS of the same files."""
    print(f"\nscaling: {FILE_SAMPLES:,} samples of {words} words per 1x, sizes {sizes}")
    rows = []
    for size in sizes:
        run = write_long_run(folder, size, words)
        mb = sum(p.stat().st_size for p in (run / "samples").iterdir()) / 1e6
        ours = _child(INGEST, str(run), str(folder / f"ws-{size}x"))
        base = _child(DUCKDB_CTAS, str(run), str(folder / f"ctas-{size}x.duckdb"))
        rows.append((size, mb, ours, base))
        shutil.rmtree(run)
    first = rows[0][2]["peak_mb"]
    print(
        "| size | samples | gz MB | ingest s | peak MB | DuckDB CTAS s | CTAS peak MB "
        "| time ratio | peak ratio | peak vs 1x |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, mb, ours, base in rows:
        print(
            f"| {size}x | {size * FILE_SAMPLES:,} | {mb:,.0f} | {ours['seconds']:.1f} | "
            f"{ours['peak_mb']:,.0f} | {base['seconds']:.1f} | {base['peak_mb']:,.0f} | "
            f"{ours['seconds'] / base['seconds']:.2f} | "
            f"{ours['peak_mb'] / base['peak_mb']:.2f} | {ours['peak_mb'] / first:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="keep the synthetic runs in this folder")
    parser.add_argument(
        "--scaling",
        type=lambda text: [int(x) for x in text.split(",")],
        metavar="1,5,20",
        help="instead: peak memory of ingest at these multiples of 10,000 long samples",
    )
    parser.add_argument("--words", type=int, default=400, help="words per completion (--scaling)")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="rootcause-bench-"))
    if args.scaling:
        print(f"machine: {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
        scaling(folder, args.scaling, args.words)
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
        return
    n = args.samples
    print(f"machine: {os.cpu_count()} cores; samples: {n:,}")
    t = time.perf_counter()
    table = make_rows(n)
    runs = {kind: write_run(folder, table, kind) for kind in ("parquet", "jsonl.gz")}
    del table
    print(f"synthetic run written in {time.perf_counter() - t:.1f} s to {folder}")

    print("\ningest (rootcause, whole run into DuckDB, fresh process each)")
    results = {}
    for kind, run in runs.items():
        res = _child(INGEST, str(run), str(folder / "ws"))
        results[kind] = res
        print(
            f"  {kind:9s} {res['seconds']:7.2f} s  {n / res['seconds']:>10,.0f} samples/s  "
            f"peak {res['peak_mb']:,.0f} MB"
        )
    parquet_file = str(runs["parquet"] / "samples" / "part-0.parquet")
    jsonl_file = str(runs["jsonl.gz"] / "samples" / "part-0.jsonl.gz")
    base = _child(PANDAS_JSONL, jsonl_file)
    print(
        f"  pandas read_json(lines=True) of the .jsonl.gz: {base['seconds']:.2f} s, "
        f"peak {base['peak_mb']:,.0f} MB (ratio rootcause/pandas time: "
        f"{results['jsonl.gz']['seconds'] / base['seconds']:.2f}x)"
    )

    print(f"\nprevalence query: rate of {BEHAVIOR} per step, split by persona")
    ours = _child(QUERY, str(results["parquet"]["db"]), BEHAVIOR)
    theirs = _child(PANDAS, parquet_file, PATTERN)
    print(f"  rootcause (DuckDB)         {ours['seconds']:6.2f} s  ({ours['groups']} cells)")
    print(
        f"  pandas (read+contains+gb)  {theirs['seconds']:6.2f} s  ({theirs['groups']} cells; "
        f"read alone {theirs['read_seconds']:.2f} s, peak {theirs['peak_mb']:,.0f} MB)"
    )
    print(f"  speed-up: {theirs['seconds'] / ours['seconds']:.1f}x")
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
