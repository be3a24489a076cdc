"""Columns of a run as numpy arrays (aligned on `row_idx`), loaded once per tool context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from rootcause.analysis._common import MISSING_LABEL, labels_from_codes
from rootcause.analysis._common import Labels as EncodedLabels
from rootcause.behaviour.context import RunContext
from rootcause.core import untrusted
from rootcause.core.errors import BadInputError
from rootcause.core.run import SLICE_FIELDS

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Most slice levels an error lists.
MAX_LEVELS_LISTED = 20


@dataclass(frozen=True)
class Labels:
    """A categorical column: integer codes (-1 for missing) and the level names."""

    codes: IntArray
    names: tuple[str, ...]

    def as_strings(self) -> npt.NDArray[np.str_]:
        """One label per row as a fixed-width string array (missing: `MISSING_LABEL`)."""
        names = np.array([*self.names, MISSING_LABEL])
        return names[self.codes]

    def encoded(self, keep: npt.NDArray[np.bool_] | None = None) -> EncodedLabels:
        """The rows' labels (those in `keep`) as the statistics take them: sorted levels and
        codes, the same as encoding `as_strings()` would give, from the integer codes alone
        (no string per row, no sort of millions of strings)."""
        codes = self.codes if keep is None else self.codes[keep]
        return labels_from_codes(codes, self.names)


def _labels(column: pa.ChunkedArray) -> Labels:
    encoded = pc.dictionary_encode(column.combine_chunks())
    codes = encoded.indices.fill_null(-1).to_numpy().astype(np.int64)
    return Labels(codes, tuple(str(v) for v in encoded.dictionary.to_pylist()))


@dataclass(frozen=True)
class RewardColumns:
    """Reward-side columns of a run: loaded only by the tools that need them."""

    components: tuple[str, ...]
    rewards: FloatArray  # (n, C), NaN where a component did not score the sample
    reward_total: FloatArray  # NaN where unknown
    reward_total_logged: npt.NDArray[np.bool_]
    advantage: FloatArray  # NaN where not logged

    def subset(self, mask: npt.NDArray[np.bool_]) -> RewardColumns:
        return RewardColumns(
            self.components,
            self.rewards[mask],
            self.reward_total[mask],
            self.reward_total_logged[mask],
            self.advantage[mask],
        )


class RunFrame:
    """The numeric view of a run used by the statistics tools: steps, groups and slices at
    once; the reward columns (the costly part on a large run) on first use."""

    def __init__(
        self,
        n: int,
        step: IntArray,
        slices: dict[str, Labels],
        load_group: Callable[[], Labels],
        load_rewards: Callable[[], RewardColumns],
    ):
        self.n, self.step, self.slices = n, step, slices
        self._load_group = load_group
        self._load_rewards = load_rewards

    @cached_property
    def group(self) -> Labels:
        """Prompt groups (GRPO groups): `group_id`, else (step, prompt)."""
        return self._load_group()

    @cached_property
    def reward_columns(self) -> RewardColumns:
        return self._load_rewards()

    @property
    def components(self) -> tuple[str, ...]:
        return self.reward_columns.components

    @property
    def rewards(self) -> FloatArray:
        return self.reward_columns.rewards

    @property
    def reward_total(self) -> FloatArray:
        return self.reward_columns.reward_total

    @property
    def reward_total_logged(self) -> npt.NDArray[np.bool_]:
        return self.reward_columns.reward_total_logged

    @property
    def advantage(self) -> FloatArray:
        return self.reward_columns.advantage

    def subset(self, mask: npt.NDArray[np.bool_]) -> RunFrame:
        """The same view restricted to the rows where `mask` is true."""
        if mask.all():
            return self

        def cut(labels: Labels) -> Labels:
            return Labels(labels.codes[mask], labels.names)

        return RunFrame(
            n=int(mask.sum()),
            step=self.step[mask],
            slices={name: cut(labels) for name, labels in self.slices.items()},
            load_group=lambda: cut(self.group),
            load_rewards=lambda: self.reward_columns.subset(mask),
        )

    def slice(self, by: str) -> Labels:
        if by not in self.slices:
            raise BadInputError(f"unknown slice {by!r}; choose one of {', '.join(self.slices)}")
        return self.slices[by]

    def level_mask(self, by: str, level: str) -> npt.NDArray[np.bool_]:
        """The rows of one slice level (`by`=persona, `level`=nerdy); a level the run does not
        have is bad input that lists the ones it has."""
        labels = self.slice(by)
        if level not in labels.names:
            shown = untrusted.labels(sorted(labels.names)[:MAX_LEVELS_LISTED])
            more = len(labels.names) - MAX_LEVELS_LISTED
            extra = f" and {more} more" if more > 0 else ""
            raise BadInputError(f"no {by} named {level!r} in this run; it has {shown}{extra}")
        return labels.codes == labels.names.index(level)

    def component_index(self, name: str) -> int:
        if name not in self.components:
            known = untrusted.labels(self.components)
            raise BadInputError(f"unknown reward component {name!r}; known: {known}")
        return self.components.index(name)


def run_frame(ctx: RunContext) -> RunFrame:
    """The run's frame (once per context); reward columns load when first read."""
    return ctx.memo("frame", lambda: _load_frame(ctx))


def in_row_order(ctx: RunContext, columns: str) -> pa.Table:
    """`columns` of every sample in `row_idx` order. A plain scan gives the rows in the order
    they were stored, which is `row_idx` order for an ingested run: that is checked, and the
    rows are sorted only when it does not hold (at 10M samples DuckDB's ORDER BY costs more
    than reading the columns)."""
    table = ctx.con.sql(f"SELECT row_idx, {columns} FROM samples").to_arrow_table()
    rows = table.column("row_idx").to_numpy()
    if rows.shape[0] > 1 and not bool(np.all(rows[1:] > rows[:-1])):
        table = table.take(pc.sort_indices(table, [("row_idx", "ascending")]))
    return table.drop_columns(["row_idx"])


def _load_frame(ctx: RunContext) -> RunFrame:
    arrow = in_row_order(ctx, f"step, {', '.join(SLICE_FIELDS)}")

    def load_group() -> Labels:
        return _labels(in_row_order(ctx, "group_id").column("group_id"))

    return RunFrame(
        n=arrow.num_rows,
        step=arrow.column("step").to_numpy().astype(np.int64),
        slices={name: _labels(arrow.column(name)) for name in SLICE_FIELDS},
        load_group=load_group,
        load_rewards=lambda: _load_rewards(ctx, arrow.num_rows),
    )


def _load_rewards(ctx: RunContext, n: int) -> RewardColumns:
    table = in_row_order(ctx, "reward_total, reward_total_logged, advantage")
    names = [
        str(r[0]) for r in ctx.con.execute("SELECT DISTINCT component FROM rewards").fetchall()
    ]
    names.sort()
    matrix = np.full((n, len(names)), np.nan)
    # One component at a time (DuckDB filters the long table): a quarter of the memory of
    # reading every (row, component, value) at once, and half the time at 10M samples.
    for j, name in enumerate(names):
        scores = ctx.con.sql(
            "SELECT row_idx, value FROM rewards WHERE component = $name", params={"name": name}
        ).to_arrow_table()
        values = scores.column("value").to_numpy(zero_copy_only=False)
        matrix[scores.column("row_idx").to_numpy(), j] = np.asarray(values, dtype=np.float64)
    return RewardColumns(
        components=tuple(names),
        rewards=matrix,
        reward_total=_floats(table.column("reward_total")),
        reward_total_logged=np.asarray(
            table.column("reward_total_logged").fill_null(False).to_numpy(), dtype=bool
        ),
        advantage=_floats(table.column("advantage")),
    )


def _floats(column: pa.ChunkedArray) -> FloatArray:
    return np.asarray(column.fill_null(np.nan).to_numpy(), dtype=np.float64)
