"""Try a relative choice rule for symptom readings on a candidate dump, without reading again.

Reads `tools/bench_reading.py --dump FILE` output. For each reading, the rule takes the
candidate whose examples stand out most in meaning toward the symptom (meaning z) when that
z reaches a floor, its cosine similarity reaches a floor, and it leads the next *distinct*
candidate (hits overlapping less than `--distinct` Jaccard) by a margin; otherwise the reading
keeps what rootcause chose. A reading is right as in `bench_reading`: its detector overlaps the
seeded behaviour's hits by at least `--overlap`, or, for a `no_bug` or absent symptom, nothing is
chosen. It prints the readings right, and the absent and `no_bug` symptoms read as something,
for every setting of a grid, best first: the question it answers is whether *any* setting
reads paraphrases better without reading absent symptoms as present.

    python tools/reading_sweep.py /tmp/readings.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Z_FLOORS = (1.5, 1.8, 2.0, 2.2, 2.5)
COSINE_FLOORS = (0.15, 0.18, 0.2, 0.22)
MARGINS = (0.0, 0.3, 0.5, 0.8, 1.0)


@dataclass
class Candidate:
    """One dumped candidate: its spec, hits, meaning toward the symptom (None: not scored)
    and overlap with the seeded behaviour's hits (None: nothing seeded)."""

    spec: str
    hits: int
    similarity: float | None
    meaning_z: float | None
    overlap: float | None


@dataclass
class Reading:
    """One dumped reading: its candidates and their hits."""

    id: str
    no_cause: bool
    chosen: str | None
    candidates: list[Candidate]
    hits: list[np.ndarray]


@dataclass
class Outcome:
    """What one setting reads: right, and absent or no-bug symptoms read as something."""

    right: int
    of: int
    null_read: int
    z_floor: float
    cosine_floor: float
    margin: float


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = int((a | b).sum())
    return float((a & b).sum() / union) if union else 0.0


def load(path: Path) -> list[Reading]:
    packed = np.load(path.with_name(path.name + ".hits.npz"))
    readings = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        cands = [
            Candidate(c["spec"], c["hits"], c["similarity"], c["meaning_z"], c["overlap"])
            for c in row["candidates"]
        ]
        hits = [np.unpackbits(packed[f"{row['id']}/{i}"]).astype(bool) for i in range(len(cands))]
        readings.append(Reading(row["id"], row["no_cause"], row["chosen"], cands, hits))
    return readings


def _pick(
    r: Reading, z_floor: float, cos_floor: float, margin: float, distinct: float
) -> str | None:
    meaning = {i: c.meaning_z for i, c in enumerate(r.candidates) if c.meaning_z is not None}
    order = sorted((i for i in meaning if r.candidates[i].hits >= 5), key=lambda i: -meaning[i])
    if not order:
        return r.chosen
    top = r.candidates[order[0]]
    nxt = next((i for i in order[1:] if _jaccard(r.hits[order[0]], r.hits[i]) < distinct), None)
    lead = meaning[order[0]] - (meaning[nxt] if nxt is not None else 0.0)
    close = (top.similarity or 0.0) >= cos_floor
    if meaning[order[0]] >= z_floor and lead >= margin and close:
        return top.spec
    return r.chosen


def outcome(
    readings: list[Reading], setting: tuple[float, float, float], args: argparse.Namespace
) -> Outcome:
    z_floor, cos_floor, margin = setting
    right = null_read = of = 0
    for r in readings:
        spec = _pick(r, z_floor, cos_floor, margin, args.distinct)
        if r.no_cause:
            null_read += spec is not None
            continue
        of += 1
        overlap = next((c.overlap for c in r.candidates if c.spec == spec), None)
        right += overlap is not None and overlap >= args.overlap
    return Outcome(right, of, null_read, z_floor, cos_floor, margin)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dump", type=Path, help="a `bench_reading.py --dump` file")
    parser.add_argument("--overlap", type=float, default=0.3, help="Jaccard that counts as right")
    parser.add_argument(
        "--distinct", type=float, default=0.5, help="Jaccard below which two differ"
    )
    parser.add_argument("--most", type=int, default=15, help="settings shown")
    args = parser.parse_args()
    readings = load(args.dump)
    nulls = sum(r.no_cause for r in readings)
    baseline = outcome(readings, (np.inf, np.inf, np.inf), args)
    print(
        f"rootcause's own choice: {baseline.right}/{baseline.of} right, "
        f"{baseline.null_read}/{nulls} absent or no-bug symptoms read as something"
    )
    grid = itertools.product(Z_FLOORS, COSINE_FLOORS, MARGINS)
    found = [outcome(readings, s, args) for s in grid]
    found.sort(key=lambda o: (-o.right, o.null_read))
    for o in found[: args.most]:
        print(
            f"z>={o.z_floor:.1f} cos>={o.cosine_floor:.2f} lead>={o.margin:.1f}: "
            f"{o.right}/{o.of} right, {o.null_read}/{nulls} absent or no-bug read as something"
        )
    clean = [o for o in found if o.null_read <= baseline.null_read]
    if clean:
        best = clean[0]
        print(
            f"best without reading more absent or no-bug symptoms: {best.right}/{best.of} "
            f"(z>={best.z_floor:.1f} cos>={best.cosine_floor:.2f} lead>={best.margin:.1f})"
        )


if __name__ == "__main__":
    main()
