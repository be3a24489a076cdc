"""Benchmark: the pressure bootstrap (`bootstrap_cells`) with every group's weight drawn in
every replicate, against large near-normal cells drawn from their aggregated moments.

Pressure-like inputs: groups of 8, five columns (a total and four components), 8 personas x
9 step windows, a binary behaviour at `--rate`. Each size runs both ways in this process, 1000
replicates, and prints the seconds and how many groups were drawn from their normal limit.

    python tools/bench_bootstrap.py [--groups 128000,1250000] [--rate 0.3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rootcause.analysis import _groups
from rootcause.analysis._groups import bootstrap_cells, group_index


def inputs(n_groups: int, rate: float) -> tuple[_groups.GroupIndex, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = n_groups * 8
    behaviour = (rng.random(n) < rate).astype(float)
    rewards = rng.normal(size=(n, 5))
    rewards[:, 0] += 0.3 * behaviour
    gi = group_index(np.repeat(np.arange(n_groups), 8))
    values = gi.centred(rewards) * gi.centred(behaviour)[:, None]
    cell = np.repeat(rng.integers(0, 8, n_groups) * 9 + np.arange(n_groups) * 9 // n_groups, 8)
    return gi, cell, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", default="128000,1250000", help="comma-separated sizes")
    parser.add_argument("--rate", type=float, default=0.3, help="the behaviour's rate")
    args = parser.parse_args()
    normal_min = _groups.NORMAL_MIN_GROUPS
    for n_groups in (int(g) for g in args.groups.split(",")):
        gi, cell, values = inputs(n_groups, args.rate)
        for label, minimum in (("every group drawn", 10**12), ("aggregated", normal_min)):
            _groups.NORMAL_MIN_GROUPS = minimum
            start = time.perf_counter()
            sums = bootstrap_cells(gi, cell, 72, values, 1000, np.random.default_rng(1))
            took = time.perf_counter() - start
            print(f"{n_groups:>10,} groups, {label:>17}: {took:6.2f} s  ({sums.method})")
    _groups.NORMAL_MIN_GROUPS = normal_min


if __name__ == "__main__":
    main()
