"""The reward weights live at each sample's step: from the deployed config where it names
every component, else recovered by regressing logged totals on the components per deployment
window (and said so), else 1.0 with a warning."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rootcause.analysis.regression import fit_weights
from rootcause.behaviour.frame import FloatArray, RunFrame, run_frame
from rootcause.tools.context import ToolContext


@dataclass(frozen=True)
class WindowWeights:
    """Weights over one deployment window [start, end) and where they came from."""

    start: int
    end: int | None
    commit: str | None
    weights: dict[str, float]
    source: str  # "config", "regression", "config+regression", "assumed 1.0" or none scored
    r2: float | None = None


@dataclass(frozen=True)
class LiveWeights:
    matrix: FloatArray  # (n, C) per sample
    windows: tuple[WindowWeights, ...]

    @property
    def source(self) -> str:
        """One phrase for reports: how the weights were obtained across windows."""
        kinds = sorted({w.source for w in self.windows})
        return " / ".join(kinds)


def live_weights(ctx: ToolContext) -> LiveWeights:
    return ctx.memo("live_weights", lambda: _live_weights(ctx, run_frame(ctx)))


def _live_weights(ctx: ToolContext, frame: RunFrame) -> LiveWeights:
    deployments = ctx.con.execute("SELECT step, commit FROM deployments ORDER BY step").fetchall()
    configured: dict[str, dict[str, float]] = {}
    for commit, component, weight in ctx.con.execute(
        "SELECT commit, component, weight FROM config_weights"
    ).fetchall():
        configured.setdefault(commit, {})[component] = float(weight)
    starts = [int(s) for s, _ in deployments]
    commits: list[str | None] = [c for _, c in deployments]
    if not starts or starts[0] > int(frame.step.min(initial=0)):
        starts.insert(0, int(frame.step.min(initial=0)))
        commits.insert(0, None)
    window_of = np.searchsorted(np.array(starts), frame.step, side="right") - 1
    matrix = np.ones((frame.n, len(frame.components)))
    windows = []
    for i, (start, commit) in enumerate(zip(starts, commits, strict=True)):
        end = starts[i + 1] if i + 1 < len(starts) else None
        rows = window_of == i
        config = configured.get(commit or "", {})
        weights, source, r2 = _window_weights(frame, rows, config)
        matrix[rows] = [weights[c] for c in frame.components]
        windows.append(WindowWeights(start, end, commit, weights, source, r2))
    return LiveWeights(matrix, tuple(windows))


def _window_weights(
    frame: RunFrame, rows: np.ndarray, config: dict[str, float]
) -> tuple[dict[str, float], str, float | None]:
    components = frame.components
    present = [c for j, c in enumerate(components) if np.isfinite(frame.rewards[rows, j]).any()]
    missing = [c for c in present if c not in config]
    weights = {c: config.get(c, 1.0) for c in components}
    if not present:
        return weights, "no components scored here", None
    if not missing:
        return weights, "config", None
    logged = rows & frame.reward_total_logged & np.isfinite(frame.reward_total)
    if logged.sum() >= 2 * len(components) + 2:
        (fit,) = fit_weights(frame.reward_total[logged], frame.rewards[logged], list(components))
        for c in missing:
            value = fit.weights.get(c, float("nan"))
            weights[c] = round(float(value), 6) if np.isfinite(value) else 1.0
        return weights, "regression" if not config else "config+regression", fit.r2
    return weights, "assumed 1.0", None
