"""Validate sample records (JSON objects) and buffer them as Arrow batches.

Used by every reader whose rows arrive as mappings: native JSONL, verl dumps, W&B tables.
A record follows DESIGN 3.1: `step` and `completion` are required, known fields are typed,
and unknown keys are kept in `extras` as JSON, never dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import pyarrow as pa

from rootcause.store.schema import GRADER_INPUTS_ARROW, REWARDS_ARROW, SAMPLES_ARROW


class RecordError(ValueError):
    """A record breaks the sample format; the caller adds the file and line."""


_TEXT_FIELDS = ("prompt", "reasoning", "completion", "reference")
_LABEL_FIELDS = ("split", "data_source", "persona", "env")
_ID_FIELDS = ("sample_id", "group_id")
_NUMBER_FIELDS = ("reward_total", "advantage")
_KNOWN = frozenset(
    (
        "step",
        "rewards",
        "grader_inputs",
        "meta",
        *_TEXT_FIELDS,
        *_LABEL_FIELDS,
        *_ID_FIELDS,
        *_NUMBER_FIELDS,
    )
)
#: Every top-level key a record gives a meaning to; importers keep other keys out of their way.
KNOWN_FIELDS = _KNOWN


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)


def _step(value: Any) -> int:
    if type(value) is int:
        step = value
    elif type(value) is float and value.is_integer():
        step = int(value)
    elif value is None:
        raise RecordError("missing required field 'step'")
    else:
        raise RecordError(f"field 'step' must be an integer, got {_type_name(value)} {value!r}")
    if step < 0:
        raise RecordError(f"field 'step' must be >= 0, got {step}")
    return step


def _number(field: str, value: Any) -> float | None:
    if value is None:
        return None
    if type(value) in (int, float):
        number = float(value)
        return None if math.isnan(number) else number
    raise RecordError(f"field '{field}' must be a number, got {_type_name(value)}")


def _text(field: str, value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    raise RecordError(f"field '{field}' must be a string, got {_type_name(value)}")


def _ident(field: str, value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    raise RecordError(f"field '{field}' must be a string or integer, got {_type_name(value)}")


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class RecordBuffer:
    """Accumulates validated records column by column and flushes Arrow batches to `sink`.

    `sink(samples, rewards, grader_inputs)` receives three Arrow tables per flush.
    """

    def __init__(
        self,
        sink: Callable[[pa.Table, pa.Table, pa.Table], None],
        first_row_idx: int = 0,
        batch_rows: int = 50_000,
    ):
        self._sink = sink
        self._batch_rows = batch_rows
        self.next_row_idx = first_row_idx
        self._reset()

    def _reset(self) -> None:
        self._columns: dict[str, list[Any]] = {name: [] for name in SAMPLES_ARROW.names}
        self._rewards: tuple[list[int], list[str], list[float | None]] = ([], [], [])
        self._inputs: tuple[list[int], list[str], list[str | None]] = ([], [], [])

    def add(self, record: Mapping[str, Any], source_file: str, source_row: int) -> None:
        """Validate one record and buffer it; raises `RecordError` naming the bad field."""
        if not isinstance(record, Mapping):
            raise RecordError(f"expected a JSON object, got {_type_name(record)}")
        step = _step(record.get("step"))
        completion = record.get("completion")
        if completion is None:
            raise RecordError("missing required field 'completion'")
        values: dict[str, Any] = {"step": step}
        for field in _TEXT_FIELDS:
            values[field] = _text(field, record.get(field))
        for field in _LABEL_FIELDS:
            values[field] = _text(field, record.get(field))
        for field in _ID_FIELDS:
            values[field] = _ident(field, record.get(field))
        for field in _NUMBER_FIELDS:
            values[field] = _number(field, record.get(field))
        rewards = self._mapping(record.get("rewards"), "rewards")
        reward_values = [(k, _number(f"rewards.{k}", v)) for k, v in rewards.items()]
        inputs = self._mapping(record.get("grader_inputs"), "grader_inputs")
        input_values = [(k, _text(f"grader_inputs.{k}", v)) for k, v in inputs.items()]
        meta = record.get("meta")
        if meta is not None and not isinstance(meta, Mapping):
            raise RecordError(f"field 'meta' must be an object, got {_type_name(meta)}")
        extras = {k: v for k, v in record.items() if k not in _KNOWN}

        row_idx = self.next_row_idx
        self.next_row_idx += 1
        columns = self._columns
        for field, value in values.items():
            columns[field].append(value)
        columns["row_idx"].append(row_idx)
        columns["meta"].append(_json(meta) if meta else None)
        columns["extras"].append(_json(extras) if extras else None)
        columns["source_file"].append(source_file)
        columns["source_row"].append(source_row)
        columns["reward_total_logged"].append(None)
        for name, number in reward_values:
            self._rewards[0].append(row_idx)
            self._rewards[1].append(str(name))
            self._rewards[2].append(number)
        for name, text in input_values:
            if text is not None:
                self._inputs[0].append(row_idx)
                self._inputs[1].append(str(name))
                self._inputs[2].append(text)
        if len(columns["row_idx"]) >= self._batch_rows:
            self.flush()

    @staticmethod
    def _mapping(value: Any, field: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise RecordError(f"field '{field}' must be an object, got {_type_name(value)}")
        return value

    def flush(self) -> None:
        """Hand the buffered rows to the sink as Arrow tables."""
        if not self._columns["row_idx"]:
            return
        samples = pa.Table.from_pydict(self._columns, schema=SAMPLES_ARROW)
        rewards = pa.Table.from_arrays(
            [
                pa.array(col, type=f.type)
                for col, f in zip(self._rewards, REWARDS_ARROW, strict=True)
            ],
            schema=REWARDS_ARROW,
        )
        inputs = pa.Table.from_arrays(
            [
                pa.array(col, type=f.type)
                for col, f in zip(self._inputs, GRADER_INPUTS_ARROW, strict=True)
            ],
            schema=GRADER_INPUTS_ARROW,
        )
        self._reset()
        self._sink(samples, rewards, inputs)
