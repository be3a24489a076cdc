"""The reward weights live at each sample's step: from the deployed config where it names
every component, else recovered by regressing logged totals on the components per deployment
window (and said so), else 1.0 with a warning."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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
    """The weights of every deployment window and the window of each sample."""

    components: tuple[str, ...]
    window_of: npt.NDArray[np.intp]  # (n,) index into `windows`
    windows: tuple[WindowWeights, ...]

    def rows(self, keep: npt.NDArray[np.bool_]) -> FloatArray:
        """The weights of the `keep` samples: one row of C weights when a single window holds
        them all (the product with an (n, C) reward matrix broadcasts to the same numbers as
        with the full matrix, which at 10M samples is 240 MB), else an (n_keep, C) matrix."""
        table = np.array([[w.weights[c] for c in self.components] for w in self.windows])
        window = self.window_of[keep]
        if window.size and np.all(window == window[0]):
            return table[window[0]]
        return table[window]

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
    windows = []
    for i, (start, commit) in enumerate(zip(starts, commits, strict=True)):
        end = starts[i + 1] if i + 1 < len(starts) else None
        rows = window_of == i
        config = configured.get(commit or "", {})
        weights, source, r2 = _window_weights(frame, rows, config)
        windows.append(WindowWeights(start, end, commit, weights, source, r2))
    return LiveWeights(frame.components, window_of, tuple(windows))


def _window_weights(
    frame: RunFrame, rows: np.ndarray, config: dict[str, float]
) -> tuple[dict[str, float], str, float | None]:
    components = frame.components
    every = bool(rows.all())  # then no copies of the reward columns
    scored = np.any(np.isfinite(frame.rewards if every else frame.rewards[rows]), axis=0)
    present = [c for j, c in enumerate(components) if bool(np.asarray(scored)[j])]
    missing = [c for c in present if c not in config]
    weights = {c: config.get(c, 1.0) for c in components}
    if not present:
        return weights, "no components scored here", None
    if not missing:
        return weights, "config", None
    logged = rows & frame.reward_total_logged & np.isfinite(frame.reward_total)
    if logged.sum() >= 2 * len(components) + 2:
        total, rewards = (
            (frame.reward_total, frame.rewards)
            if logged.all()
            else (frame.reward_total[logged], frame.rewards[logged])
        )
        (fit,) = fit_weights(total, rewards, list(components))
        for c in missing:
            value = fit.weights.get(c, float("nan"))
            weights[c] = round(float(value), 6) if np.isfinite(value) else 1.0
        return weights, "regression" if not config else "config+regression", fit.r2
    return weights, "assumed 1.0", None
