"""Validate sample records (JSON objects) and buffer them as Arrow batches.

Used by every reader whose rows arrive as mappings: native JSONL, verl dumps, W&B tables.
A record follows the native format (README, "The native run format"): `step` and `completion`
are required, known fields are typed, and unknown keys are kept in `extras` as JSON, never
dropped.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from typing import Any

import orjson
import pyarrow as pa

from rootcause.store.schema import MAX_STEP

#: Arrow schema of a batch appended to the staging samples table (as `schema.SAMPLES_DDL`).
SAMPLES_ARROW = pa.schema(
    [
        ("row_idx", pa.int64()),
        ("sample_id", pa.string()),
        ("step", pa.int64()),
        ("group_id", pa.string()),
        ("split", pa.string()),
        ("data_source", pa.string()),
        ("persona", pa.string()),
        ("env", pa.string()),
        ("prompt", pa.string()),
        ("reasoning", pa.string()),
        ("completion", pa.string()),
        ("reference", pa.string()),
        ("reward_total", pa.float64()),
        ("advantage", pa.float64()),
        ("meta", pa.string()),
        ("extras", pa.string()),
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("reward_total_logged", pa.bool_()),
    ]
)

REWARDS_ARROW = pa.schema(
    [("row_idx", pa.int64()), ("component", pa.string()), ("value", pa.float64())]
)
GRADER_INPUTS_ARROW = pa.schema(
    [("row_idx", pa.int64()), ("component", pa.string()), ("text", pa.string())]
)


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
#: Numeric fields a reader may declare as "NaN means no value" (`RunReader.nan_means_missing`).
NUMBER_FIELDS = ("rewards", *_NUMBER_FIELDS)


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
    if step > MAX_STEP:
        raise RecordError(f"field 'step' is out of range (at most 2**63-1), got {step}")
    return step


def non_finite_name(number: float) -> str:
    """How JSON writers spell a non-finite number."""
    if math.isnan(number):
        return "NaN"
    return "Infinity" if number > 0 else "-Infinity"


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


def _object_json(field: str, value: Mapping[str, Any]) -> str:
    """JSON text of `meta` or the extras, naming the key whose value cannot be stored."""
    try:
        return _json(value)
    except TypeError as exc:  # e.g. an integer past 64 bits, which JSON itself allows
        for key, item in value.items():
            try:
                _json(item)
            except TypeError:
                where = f"{field}.{key}" if field else str(key)
                raise RecordError(f"field '{where}' cannot be stored: {exc}") from None
        raise RecordError(f"field '{field or 'extras'}' cannot be stored: {exc}") from None


class RecordBuffer:
    """Accumulates validated records column by column and flushes Arrow batches to `sink`.

    `sink(samples, rewards, grader_inputs)` receives three Arrow tables per flush. Numbers
    must be finite; NaN is refused too, except in the fields of `nan_means_missing` (a subset
    of `NUMBER_FIELDS`), where it is read as no value and counted in `missing_nan`.
    """

    def __init__(
        self,
        sink: Callable[[pa.Table, pa.Table, pa.Table], None],
        first_row_idx: int = 0,
        batch_rows: int = 50_000,
        nan_means_missing: Collection[str] = (),
        batch_chars: int = 32 * 1024 * 1024,
    ):
        self._sink = sink
        self._batch_rows = batch_rows
        #: A batch is handed on once its text (prompt, completion, meta, grader inputs...)
        #: reaches this many characters, so long samples do not pile up in memory.
        self._batch_chars = batch_chars
        self.next_row_idx = first_row_idx
        self._nan_missing = frozenset(nan_means_missing)
        #: NaN values read as missing, by field (`rewards.<name>`, `reward_total`, `advantage`).
        self.missing_nan: Counter[str] = Counter()
        self._record_nan: list[str] = []
        self._reset()

    def _number(self, field: str, value: Any, kind: str) -> float | None:
        """A finite number, or None; `kind` is the field's entry in `NUMBER_FIELDS`."""
        if value is None:
            return None
        if type(value) not in (int, float):
            raise RecordError(f"field '{field}' must be a number, got {_type_name(value)}")
        try:
            number = float(value)
        except OverflowError:
            raise RecordError(f"field '{field}' is out of range, got {value}") from None
        if math.isfinite(number):
            return number
        if math.isnan(number) and kind in self._nan_missing:
            self._record_nan.append(field)
            return None
        name = non_finite_name(number)
        raise RecordError(f"field '{field}' must be a finite number, got {name}")

    def _reset(self) -> None:
        self._columns: dict[str, list[Any]] = {name: [] for name in SAMPLES_ARROW.names}
        self._rewards: tuple[list[int], list[str], list[float | None]] = ([], [], [])
        self._inputs: tuple[list[int], list[str], list[str | None]] = ([], [], [])
        self._chars = 0

    def add(self, record: Mapping[str, Any], source_file: str, source_row: int) -> None:
        """Validate one record and buffer it; raises `RecordError` naming the bad field."""
        if not isinstance(record, Mapping):
            raise RecordError(f"expected a JSON object, got {_type_name(record)}")
        self._record_nan.clear()
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
        rewards = self._mapping(record.get("rewards"), "rewards")
        reward_values = [
            (k, self._number(f"rewards.{k}", v, "rewards")) for k, v in rewards.items()
        ]
        for field in _NUMBER_FIELDS:
            values[field] = self._number(field, record.get(field), field)
        inputs = self._mapping(record.get("grader_inputs"), "grader_inputs")
        input_values = [(k, _text(f"grader_inputs.{k}", v)) for k, v in inputs.items()]
        meta = record.get("meta")
        if meta is not None and not isinstance(meta, Mapping):
            raise RecordError(f"field 'meta' must be an object, got {_type_name(meta)}")
        extras = {k: v for k, v in record.items() if k not in _KNOWN}
        meta_json = _object_json("meta", meta) if meta else None
        extras_json = _object_json("", extras) if extras else None

        self.missing_nan.update(self._record_nan)
        row_idx = self.next_row_idx
        self.next_row_idx += 1
        columns = self._columns
        for field, value in values.items():
            columns[field].append(value)
        columns["row_idx"].append(row_idx)
        columns["meta"].append(meta_json)
        columns["extras"].append(extras_json)
        columns["source_file"].append(source_file)
        columns["source_row"].append(source_row)
        columns["reward_total_logged"].append(values["reward_total"] is not None)
        for name, number in reward_values:
            self._rewards[0].append(row_idx)
            self._rewards[1].append(str(name))
            self._rewards[2].append(number)
        for name, text in input_values:
            if text is not None:
                self._inputs[0].append(row_idx)
                self._inputs[1].append(str(name))
                self._inputs[2].append(text)
        self._chars += sum(len(v) for v in values.values() if type(v) is str)
        self._chars += len(meta_json or "") + len(extras_json or "")
        self._chars += sum(len(text) for _, text in input_values if text is not None)
        if len(columns["row_idx"]) >= self._batch_rows or self._chars >= self._batch_chars:
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
