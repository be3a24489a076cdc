"""Small numpy helpers for the lab tests: load rows, detect, and measure selection pressure."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rootcause.lab.configrepo import LiveConfig, read_config
from rootcause.lab.hint import parse_hint


def load_rows(run: Path) -> list[dict[str, Any]]:
    """All sample rows of a run folder."""
    rows: list[dict[str, Any]] = []
    for path in sorted((run / "samples").iterdir()):
        if path.name.endswith(".jsonl.gz"):
            with gzip.open(path) as fh:
                rows.extend(json.loads(line) for line in fh)
        else:
            import pyarrow.parquet as pq

            for row in pq.read_table(path).to_pylist():
                row["rewards"] = dict(row["rewards"])
                row["grader_inputs"] = dict(row["grader_inputs"])
                rows.append(row)
    return rows


def behaviour(rows: list[dict[str, Any]], hint: str) -> np.ndarray:
    """0/1 per row: does the row show the hinted behaviour."""
    h = parse_hint(hint)
    return np.array(h.match_all([r.get(h.field) or "" for r in rows]), dtype=float)


def live_configs(run: Path) -> tuple[list[int], list[LiveConfig]]:
    """Deployment steps and the config live from each."""
    manifest = yaml.safe_load((run / "run.yaml").read_text())
    steps = [d["step"] for d in manifest["deployments"]]
    cfgs = [read_config(run / "configs", d["commit"]) for d in manifest["deployments"]]
    return steps, cfgs


def weights_at(run: Path) -> dict[int, dict[str, float]]:
    """Component weights live at every step seen in the deployments (step -> name -> w)."""
    steps, cfgs = live_configs(run)
    out = {}
    for s, cfg in zip(steps, cfgs, strict=True):
        out[s] = {c.name: c.weight for c in cfg.components}
    return out


def pressure(
    rows: list[dict[str, Any]],
    b: np.ndarray,
    component: str,
    run: Path,
    first_step: int,
    where: dict[str, str] | None = None,
) -> tuple[float, float]:
    """Mean over groups of sum_i w_c (r_ci - mean r_c)(b_i - mean b) / sd(R), and its SE.

    R is recomputed from the logged components with the live weights, so the helper does not
    rely on optional fields.
    """
    dsteps = sorted(weights_at(run).items())
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        if r["step"] < first_step:
            continue
        if where and any(r.get(k) != v for k, v in where.items()):
            continue
        groups[(r["step"], r.get("group_id") or r["prompt"])].append(i)
    vals = []
    for (step, _), idx in groups.items():
        w = next(ws for s, ws in reversed(dsteps) if s <= step)
        if component not in w:
            continue
        total = np.array(
            [sum(w.get(c, 0.0) * v for c, v in rows[i]["rewards"].items()) for i in idx]
        )
        sd = total.std()
        if sd < 1e-9:
            continue
        rc = np.array([rows[i]["rewards"].get(component, 0.0) for i in idx]) * w[component]
        bb = b[idx]
        vals.append(float(((rc - rc.mean()) * (bb - bb.mean())).sum() / sd))
    if len(vals) < 2:
        return 0.0, float("inf")
    arr = np.array(vals)
    return float(arr.mean()), float(arr.std(ddof=1) / np.sqrt(len(arr)))


def rate(
    rows: list[dict[str, Any]], b: np.ndarray, lo: int, hi: int, where: dict[str, str] | None = None
) -> float:
    """Behaviour rate over steps [lo, hi) (optionally in a slice)."""
    m = np.array(
        [
            lo <= r["step"] < hi and (not where or all(r.get(k) == v for k, v in where.items()))
            for r in rows
        ]
    )
    return float(b[m].mean()) if m.any() else float("nan")
