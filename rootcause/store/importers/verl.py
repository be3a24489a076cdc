"""verl rollout dumps: `{rollout_data_dir}/{step}.jsonl` (DESIGN 3.3).

`RayPPOTrainer._dump_generations` writes one JSON object per line with `input` (decoded
prompt), `output` (decoded response), `gts` (the ground truth), `score` (the sequence's summed
token-level score) and `step`, plus every key of the reward function's `reward_extra_info`
with one value per sample. Validation dumps (`validation_data_dir`) have the same layout.

Mapping: input -> prompt, output -> completion, gts -> reference (JSON text when it is not a
string), score -> reward_total. Each numeric (or boolean, as 0/1) `reward_extra_info` value
becomes a reward component named by its key, except `reward`, verl's copy of the total in
validation dumps. Keys named like a label (`data_source`, `split`, `persona`, `env`,
`sample_id`, `group_id`) fill that label and `uid` (verl's prompt-group id) fills `group_id`;
everything else is kept in `extras`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from rootcause.core.errors import RunFormatError
from rootcause.store.importers import (
    is_number,
    keep_extra,
    load_json_lines,
    numbered_files,
    shown_path,
)
from rootcause.store.records import RecordError, non_finite_name
from rootcause.store.source import LoadContext, RunSource

FILE_PATTERN = re.compile(r"^(\d+)\.jsonl(?:\.gz)?$")

_TEXT = {"input": "prompt", "output": "completion"}
_LABELS = frozenset(("split", "data_source", "persona", "env", "sample_id", "group_id"))
#: Numeric keys that are not reward components: the step, and verl's copy of the total.
_NOT_COMPONENTS = frozenset(("step", "reward"))


def _check_text(key: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise RecordError(f"field '{key}' must be a string, got {type(value).__name__}")


def _finite(key: str, value: float) -> float:
    """A JSON number (or boolean) as a finite float, or a `RecordError` naming verl's key."""
    try:
        number = float(value)
    except OverflowError:
        raise RecordError(f"field '{key}' is out of range, got {value}") from None
    if not math.isfinite(number):
        raise RecordError(f"field '{key}' must be a finite number, got {non_finite_name(number)}")
    return number


def verl_record(obj: Mapping[str, Any], file_step: int) -> dict[str, Any]:
    """One dumped line as a sample record (see the module docstring for the mapping)."""
    record: dict[str, Any] = {"step": obj.get("step", file_step)}
    for key, field in _TEXT.items():
        record[field] = _check_text(key, obj.get(key))
    if record["completion"] is None:
        raise RecordError("missing required field 'output'")
    score = obj.get("score")
    if score is not None and not is_number(score):
        raise RecordError(f"field 'score' must be a number, got {type(score).__name__}")
    record["reward_total"] = score if score is None else _finite("score", score)
    gts = obj.get("gts")
    record["reference"] = gts if gts is None or isinstance(gts, str) else orjson.dumps(gts).decode()
    rewards: dict[str, float] = {}
    for key, value in obj.items():
        if key in _TEXT or key in ("step", "score", "gts"):
            continue
        if key in _LABELS and isinstance(value, str | int) and not isinstance(value, bool):
            record[key] = value
        elif key == "uid" and isinstance(value, str) and "group_id" not in obj:
            record["group_id"] = value
        elif key not in _NOT_COMPONENTS and (is_number(value) or isinstance(value, bool)):
            rewards[key] = _finite(key, value)
        else:
            keep_extra(record, key, value)
    if rewards:
        record["rewards"] = rewards
    return record


class VerlReader:
    """Reads a verl `rollout_data_dir` (or `validation_data_dir`) of `<step>.jsonl` files."""

    name = "verl"
    #: `_dump_generations` writes only keys with a value for every sample, so a NaN score or
    #: extra-info value is a failed computation, not a missing one.
    nan_means_missing: frozenset[str] = frozenset()
    appendable = False

    def detect(self, path: Path) -> bool:
        return path.is_dir() and any(FILE_PATTERN.match(p.name) for p in path.iterdir())

    def describe(self, path: Path) -> RunSource:
        files = numbered_files(path.iterdir(), FILE_PATTERN) if path.is_dir() else []
        if not files:
            raise RunFormatError("not a verl rollout dump: no <step>.jsonl files", path)
        return RunSource(format=self.name, root=path, run_id=path.name, files=files)

    def load(self, source: RunSource, ctx: LoadContext) -> None:
        for path in source.files:
            match = FILE_PATTERN.match(path.name)
            assert match is not None
            to_record = partial(verl_record, file_step=int(match.group(1)))
            load_json_lines(ctx, path, shown_path(path, source.root), to_record)
