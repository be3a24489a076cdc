"""TRL GRPO completion logs: `completions/completions_{step:05d}.parquet` (DESIGN 3.3).

`GRPOTrainer.log` (with `log_completions=True`) writes one Parquet file per logging step from a
pandas frame with columns `step, prompt, completion`, then one column per reward function
(named after the function, or the reward model's name), then any `log_extra` columns, then
`advantage`. There is no group id and no total: samples are grouped by (step, prompt) and the
total is derived as the plain sum of the components, as TRL does with its default weights.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from rootcause.core.errors import RunFormatError
from rootcause.store.importers import numbered_files, shown_path
from rootcause.store.source import LoadContext, RunSource
from rootcause.store.table_sql import is_number_type
from rootcause.store.tables import TableLoader, TableMapping

logger = logging.getLogger(__name__)

COMPLETIONS_DIR = "completions"
FILE_PATTERN = re.compile(r"^completions_(\d+)\.parquet$")

#: Columns with a canonical meaning; every other numeric column is a reward function's score.
_FIELDS = {"step": "step", "prompt": "prompt", "completion": "completion", "advantage": "advantage"}


def trl_mapping(columns: dict[str, str]) -> TableMapping:
    """Map one completions file: the fixed columns by name, numeric others as components.

    Non-numeric columns (strings from `log_extra`, images) are kept in `extras`.
    """
    rewards = {
        name: name for name, kind in columns.items() if name not in _FIELDS and is_number_type(kind)
    }
    return TableMapping(fields=dict(_FIELDS), reward_columns=rewards)


def _completion_files(folder: Path) -> list[Path]:
    return numbered_files(folder.iterdir(), FILE_PATTERN)


def _locate(path: Path) -> tuple[Path, Path] | None:
    """(run root, completions folder) for a TRL output folder or its `completions/` folder."""
    if not path.is_dir():
        return None
    sub = path / COMPLETIONS_DIR
    if sub.is_dir() and any(FILE_PATTERN.match(p.name) for p in sub.iterdir()):
        return path, sub
    if any(FILE_PATTERN.match(p.name) for p in path.iterdir()):
        # Pointed at `completions/` itself: the run is the trainer's output folder above it.
        return (path.parent if path.name == COMPLETIONS_DIR else path), path
    return None


class TrlReader:
    """Reads a TRL GRPO output folder (or its `completions/` folder)."""

    name = "trl"
    #: A reward function returns None for samples it does not score, which TRL logs as NaN;
    #: the advantage is computed by TRL itself, so NaN there is a fault.
    nan_means_missing = frozenset({"rewards"})

    def detect(self, path: Path) -> bool:
        return _locate(path) is not None

    def describe(self, path: Path) -> RunSource:
        located = _locate(path)
        if located is None:
            raise RunFormatError(
                "not a TRL run: no completions/completions_<step>.parquet files", path
            )
        root, folder = located
        files = _completion_files(folder)
        return RunSource(format=self.name, root=root, run_id=root.name, files=files)

    def load(self, source: RunSource, ctx: LoadContext) -> None:
        ctx.flush()
        loader = TableLoader(ctx)
        for path in source.files:
            rows = loader.load_parquet(path, shown_path(path, source.root), trl_mapping)
            logger.debug("loaded %d rows from %s", rows, path)
            ctx.loaded(rows)
