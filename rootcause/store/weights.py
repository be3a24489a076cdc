"""The reward weights live at each step, decided once at ingest and said in a note.

In order of precedence: weights the overlay fixes; weights it reads from a config file at each
deployed commit; weights the config repo configures (`rewards/*.yaml`, a TRL GRPO config);
and, for components still without one, weights fitted from the logged advantage (as GRPO
trainers computed it from the weighted components) when no total was logged, or when the
overlay asks for a fit. The result is stored per deployed commit in `config_weights`; the key
"" holds the weights of steps no deployment covers (all of them when there are none).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import duckdb
import numpy as np

from rootcause.core.errors import BadInputError
from rootcause.core.run import DeploymentInfo
from rootcause.store.overlay import WeightsSpec
from rootcause.store.sql import fetch_value
from rootcause.store.weight_fit import FittedWeights, fit_from_advantages, fit_from_totals

#: The config_weights key of steps before the first deployment (or of a run without any).
NO_COMMIT = ""
#: A window needs this many informative groups per component for a fit of its own.
GROUPS_PER_COMPONENT = 4


@dataclass
class WeightPlan:
    """Weights by commit ("" for steps no deployment covers) and how they were decided."""

    by_commit: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Window:
    start: int
    end: int | None
    commit: str


def _windows(deployments: list[DeploymentInfo]) -> list[_Window]:
    ordered = sorted(deployments, key=lambda d: d.step)
    windows = []
    if not ordered or ordered[0].step > 0:
        windows.append(_Window(0, ordered[0].step if ordered else None, NO_COMMIT))
    for i, d in enumerate(ordered):
        end = ordered[i + 1].step if i + 1 < len(ordered) else None
        windows.append(_Window(d.step, end, d.commit))
    return windows


def plan_weights(
    con: duckdb.DuckDBPyConnection,
    table: str,
    deployments: list[DeploymentInfo],
    configured: dict[str, dict[str, float]],
    spec: WeightsSpec | None,
) -> WeightPlan:
    """Decide the weights of every window of the run loaded into `table` (+ `rewards`).

    `configured` holds what the config repo (or the overlay's config file) gives per commit."""
    components = [str(r[0]) for r in con.execute(
        "SELECT DISTINCT component FROM rewards ORDER BY 1").fetchall()]  # fmt: skip
    plan = WeightPlan({c: dict(w) for c, w in configured.items()})
    windows = _windows(deployments)
    if spec is not None and spec.kind == "fixed":
        unknown = [name for name in spec.fixed if name not in components]
        if unknown:
            raise BadInputError(
                f"overlay weights: {', '.join(map(repr, unknown))} not a reward component "
                f"(components: {', '.join(components) or 'none'})"
            )
        for w in windows:
            plan.by_commit[w.commit] = {**plan.by_commit.get(w.commit, {}), **spec.fixed}
        plan.notes.append(f"weights fixed by the overlay: {spec.describe()}")
    elif spec is not None and spec.kind == "config":
        plan.notes.append(f"weights read from {spec.describe()} at each deployed commit")
    if not components:
        return plan
    want_fit = spec is not None and spec.kind == "fit"
    missing = [
        w for w in windows if any(c not in plan.by_commit.get(w.commit, {}) for c in components)
    ]
    if not want_fit and not (missing and _no_total_logged(con, table)):
        return plan
    _fit_windows(con, table, windows if want_fit else missing, components, plan, want_fit)
    return plan


def _no_total_logged(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return not fetch_value(con, f"SELECT count(reward_total) > 0 FROM {table}")


def _fit_windows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    windows: list[_Window],
    components: list[str],
    plan: WeightPlan,
    replace: bool,
) -> None:
    data = _FitData.load(con, table, components)
    if data is None:
        plan.notes.append(
            "weights: no total and no advantage logged, so components without a configured "
            "weight count 1.0 (give them with the overlay's weights)"
        )
        return
    overall = data.fit(None)
    for w in windows:
        rows = (data.steps >= w.start) & (data.steps < (w.end if w.end is not None else 2**62))
        if not rows.any():  # no sample logged at these steps: nothing to weigh
            continue
        fitted = overall if rows.all() else data.fit(rows)
        if fitted is None or fitted.groups < GROUPS_PER_COMPONENT * len(components):
            fitted = overall
        where = f"from step {w.start}" + (f" ({w.commit[:10]})" if w.commit else "")
        if fitted is None or not fitted.trusted:
            quality = "" if fitted is None else f" (R² {fitted.r2:.2f})"
            plan.notes.append(
                f"weights {where}: the logged {data.basis} is not explained by a weighted sum of "
                f"the components{quality}; components without a configured weight count 1.0"
            )
            continue
        config = plan.by_commit.get(w.commit, {})
        weights = fitted.weights if fitted.absolute else _scaled(fitted.weights, config)
        chosen = weights if replace else {**weights, **config}
        plan.by_commit[w.commit] = chosen
        plan.notes.append(
            f"weights {where} fitted from the logged {data.basis}: {fitted.describe()}"
        )
        small = [c for c, v in weights.items() if abs(v) < 1e-3 and c not in config]
        if small:
            plan.notes.append(
                f"{', '.join(small)}: weight about 0 in the fit, so logged but not rewarded; "
                "leave it out with the overlay's components.exclude if it is not a reward"
            )


def _scaled(weights: dict[str, float], config: dict[str, float]) -> dict[str, float]:
    """Relative weights put on the scale of the configured ones they share, if any."""
    shared = [c for c in config if c in weights and weights[c] != 0]
    if not shared:
        return weights
    num = sum(config[c] * weights[c] for c in shared)
    den = sum(weights[c] ** 2 for c in shared)
    factor = num / den if den else 1.0
    return {c: round(v * factor, 6) for c, v in weights.items()}


@dataclass
class _FitData:
    """Rows with their group, step, component rewards and the logged basis (advantage, else
    total). Fitted from advantages, the rows are kept in (group, `row_idx`) order, the order
    the fit reads a group's rows in, so no fit sorts or copies them again."""

    groups: np.ndarray
    steps: np.ndarray
    rewards: np.ndarray
    basis_values: np.ndarray
    names: list[str]
    basis: str

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, table: str, names: list[str]) -> _FitData | None:
        """The rows with an advantage or a total, read in batches placed by their (dense)
        `row_idx`: DuckDB holds one batch at a time under the ingest's memory cap. A group is
        its logged id, else its (step, prompt), numbered here from a 64-bit hash of that key
        (DuckDB's window numbering sorted every key string at once and ran out of the
        ingest's memory at a million samples). Memory: some 60 + 8 x components bytes a row."""
        size = int(fetch_value(con, f"SELECT coalesce(max(row_idx) + 1, 0) FROM {table}") or 0)
        keys, steps = np.zeros(size, dtype=np.uint64), np.zeros(size, dtype=np.int64)
        advantages, totals = np.full(size, np.nan), np.full(size, np.nan)
        present = np.zeros(size, dtype=bool)
        for batch in _batches(
            con,
            "SELECT row_idx, CASE WHEN group_id IS NULL THEN hash(step, coalesce(prompt, '')) "
            f"ELSE hash(group_id) END AS grp, step, advantage, reward_total FROM {table} "
            "WHERE advantage IS NOT NULL OR reward_total IS NOT NULL",
        ):
            idx = batch["row_idx"]
            present[idx], keys[idx], steps[idx] = True, batch["grp"], batch["step"]
            advantages[idx], totals[idx] = batch["advantage"], batch["reward_total"]
        if not present.any():
            return None
        basis = "advantage" if np.isfinite(advantages).any() else "total"
        values = advantages if basis == "advantage" else totals
        del advantages, totals
        if not present.all():  # (copies: only when some rows log neither)
            keys, steps, values = keys[present], steps[present], values[present]
        if basis == "advantage":  # one sort: the rows in key order, groups numbered in it
            order = np.argsort(keys, kind="stable")
            keys = keys[order]
            groups = np.cumsum(np.r_[False, keys[1:] != keys[:-1]])
            del keys
            steps, values = steps[order], values[order]
        else:  # the totals' fit needs no groups: rows stay in `row_idx` order
            del keys
            groups, order = np.zeros(len(steps), dtype=np.int64), None
        # Where each row_idx lands in the kept order: the reward matrix is filled in place.
        position = np.full(size, -1, dtype=np.int64)
        kept = np.flatnonzero(present)
        position[kept if order is None else kept[order]] = np.arange(len(kept))
        del kept, order, present
        matrix = np.full((len(steps), len(names)), np.nan)
        for batch in _batches(
            con,
            "SELECT row_idx, list_position(?::VARCHAR[], component) - 1 AS col, value "
            "FROM rewards WHERE value IS NOT NULL AND list_contains(?::VARCHAR[], component)",
            [names, names],
        ):
            at = position[batch["row_idx"]]
            ok = at >= 0
            matrix[at[ok], batch["col"][ok]] = batch["value"][ok]
        return cls(groups.astype(np.int64, copy=False), steps, matrix, values, names, basis)

    def fit(self, rows: np.ndarray | None) -> FittedWeights | None:
        """The fit over the rows `rows` selects (None: all of them, with no copy)."""
        pick = (lambda a: a) if rows is None else (lambda a: a[rows])
        if self.basis == "advantage":
            return fit_from_advantages(
                pick(self.groups), pick(self.rewards), pick(self.basis_values), self.names
            )
        return fit_from_totals(pick(self.rewards), pick(self.basis_values), self.names)


#: Rows per batch read from DuckDB while loading the fit's data.
_BATCH_ROWS = 1_000_000


def _batches(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
) -> Iterator[dict[str, np.ndarray]]:
    """The query's rows as numpy columns, a batch at a time (NULL numbers as NaN)."""
    reader = con.sql(sql, params=params or None).to_arrow_reader(_BATCH_ROWS)
    for batch in reader:
        yield {
            name: column.to_numpy(zero_copy_only=False)
            for name, column in zip(batch.schema.names, batch.columns, strict=True)
        }
