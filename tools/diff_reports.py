"""Compare two investigation reports (`rootcause investigate --json`): every finding, hypothesis
and evidence figure, number by number, so a speed change can show it changed no result.

    python tools/diff_reports.py BEFORE.json AFTER.json [--rtol 1e-9]

Keys that differ between runs by design are skipped (wall time, ids, plot paths, the
investigation folder). Numbers are equal when identical or within `--rtol` (relative) and 1e-15
(absolute); those within tolerance but not identical are counted apart. Exit 1 on any
difference.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

#: Keys whose values differ from run to run by design (the report's own `id` is its folder).
SKIPPED = {"wall_s", "plot", "plots", "created", "started", "finished", "timings"}
ABS_TOL = 1e-15


def differences(before: Any, after: Any, rtol: float, path: str = "") -> tuple[list[str], int]:
    """(differences, numbers equal only within tolerance) between two JSON values."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        close = 0
        for key in sorted(set(before) | set(after)):
            if key in SKIPPED or (path == "" and key == "id"):
                continue
            if key not in before or key not in after:
                out.append(f"{path}/{key}: only in {'after' if key in after else 'before'}")
                continue
            found, near = differences(before[key], after[key], rtol, f"{path}/{key}")
            out += found
            close += near
        return out, close
    if isinstance(before, list) and isinstance(after, list):
        out = [f"{path}: {len(before)} items != {len(after)}"] if len(before) != len(after) else []
        close = 0
        for i, (b, a) in enumerate(zip(before, after, strict=False)):
            found, near = differences(b, a, rtol, f"{path}[{i}]")
            out += found
            close += near
        return out, close
    numbers = (int, float)
    if isinstance(before, numbers) and isinstance(after, numbers) and not isinstance(before, bool):
        if before == after or (math.isnan(before) and math.isnan(after)):
            return [], 0
        if math.isclose(before, after, rel_tol=rtol, abs_tol=ABS_TOL):
            return [], 1
        return [f"{path}: {before!r} != {after!r}"], 0
    if before != after and not (isinstance(before, str) and "/investigations/" in before):
        return [f"{path}: {str(before)[:200]!r} != {str(after)[:200]!r}"], 0
    return [], 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rtol", type=float, default=1e-9, help="relative tolerance")
    args = parser.parse_args()
    before, after = (json.loads(p.read_text()) for p in (args.before, args.after))
    found, close = differences(before, after, args.rtol)
    print(f"{len(found)} differences; {close} numbers equal only within rtol {args.rtol:g}")
    for line in found[:100]:
        print(line)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
