"""Benchmark `rootcause lab new`: wall time, samples/s and peak memory per run size.

Each case runs in a fresh subprocess so peak RSS is per case. Usage:
    python tools/bench_lab.py            # default size (200 steps x 32 groups x 8)
    python tools/bench_lab.py --large    # also ~1M samples (1000 steps x 128 groups x 8)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CASE = r"""
import json, resource, sys, time
from pathlib import Path
from rootcause.lab.api import new_run
bug, steps, groups, gs, fmt, out = sys.argv[1:7]
t0 = time.perf_counter()
o = Path(out)
r = new_run(bug, 7, o / "run", o / "key.json", int(steps), int(groups), int(gs), fmt)
dt = time.perf_counter() - t0
size = sum(p.stat().st_size for p in (Path(out) / "run" / "samples").iterdir())
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"samples": r.samples, "seconds": dt, "rss_mb": rss, "samples_mb": size / 2**20}))
"""


def run_case(bug: str, steps: int, groups: int, group_size: int, fmt: str) -> dict[str, float]:
    """Time one `new_run` in a subprocess; return its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        args = [bug, str(steps), str(groups), str(group_size), fmt, tmp]
        done = subprocess.run(
            [sys.executable, "-c", CASE, *args], capture_output=True, text=True, check=True
        )
        result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large", action="store_true", help="also run a ~1M-sample case")
    parser.add_argument("--bug", default="persona_reward_quirk")
    opts = parser.parse_args()
    cases = [(200, 32, 8, "jsonl.gz"), (200, 32, 8, "parquet")]
    if opts.large:
        cases.append((1000, 128, 8, "jsonl.gz"))
    print(f"{'steps x groups x size':>22} {'format':>9} {'samples':>9} {'seconds':>8} "
          f"{'samples/s':>10} {'peak MB':>8} {'out MB':>7}")  # fmt: skip
    for steps, groups, gs, fmt in cases:
        r = run_case(opts.bug, steps, groups, gs, fmt)
        shape = f"{steps} x {groups} x {gs}"
        print(
            f"{shape:>22} {fmt:>9} {int(r['samples']):>9} {r['seconds']:>8.1f} "
            f"{r['samples'] / r['seconds']:>10.0f} {r['rss_mb']:>8.0f} {r['samples_mb']:>7.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
