"""W&B table JSON: `{"columns": [...], "data": [[...], ...]}` (README, "Foreign logs").

A logged `wandb.Table` is written under the run's `files/media/table/` as
`<key>_<wandb step>_<hash>.table.json` holding `columns` and `data`; tables in artifacts also
carry `_type: "table"`, `ncols`, `nrows` and `column_types`. Point at one such file, or at a
folder (a W&B run folder, `media/table/`) to read every `*.table.json` under it.

Columns map to canonical fields by name, case-insensitively, first alias wins: step (`step`,
`_step`, `global_step`, `train/global_step`), prompt (`prompt`, `input`, `query`, `question`),
completion (`completion`, `output`, `response`, `generation`), reasoning (`reasoning`,
`thinking`), reference (`reference`, `gts`, `ground_truth`, `solution`), reward_total
(`reward_total`, `reward`, `score`, `total_reward`), advantage (`advantage`, `advantages`),
group_id (`group_id`, `uid`) and the labels by their own names. Columns named `reward/<name>`
or `rewards/<name>` are reward components; when there are none, every other all-numeric column
is one (the layout TRL logs: one column per reward function). Everything else is kept in
`extras`. A step written as a string of digits (older TRL) is read as a number; a table without
a step column takes the W&B step from its file name. verl's `val/generations` table (one row
per step with `input_i, output_i, score_i` per sample) is unpivoted to one sample per triple,
in the `validation` split (verl logs it from `_validate`).

Tables are told apart by their key (`completions`, `val/generations`: the file name without
`_<step>_<hash>`, under `media/table/`). A row a table logs again in a later file of the same
key (verl's `val/generations` and OpenRLHF re-log every earlier row each time) is read once; a
table without a completion column is skipped with a note; a file whose rows equal the key's
previous file's but for the step (TRL's batch logged again when `num_iterations > 1`, or once
more under the same step when training ends) is left out and counted; rows without a group id
are grouped in TRL's blocks where they fall in them (`wandb_groups`); `--table KEY` reads one
key only. A folder holding several W&B run folders is refused: each is a run of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from rootcause.core.errors import RunFormatError
from rootcause.core.limits import read_capped
from rootcause.store.importers import is_number, keep_extra, shown_path
from rootcause.store.importers.messages import render_conversation
from rootcause.store.importers.run_config import configured_generations
from rootcause.store.importers.wandb_groups import group_table_blocks
from rootcause.store.jsonl import parse_line
from rootcause.store.records import NUMBER_FIELDS
from rootcause.store.source import LoadContext, RunSource

TABLE_SUFFIX = ".table.json"
#: `<key>_<step>_<hash>.table.json`, the name W&B gives a table it writes for a run.
MEDIA_NAME = re.compile(r"^.+_(\d+)_[0-9a-f]+\.table\.json$")
#: A W&B run folder: `run-YYYYMMDD_HHMMSS-<id>` (or `offline-run-...`).
RUN_FOLDER = re.compile(r"^(?:offline-)?run-\d{8}_\d{6}-\w+$")
#: `_type`s of JSON that points at a table instead of holding one.
_REFERENCE_TYPES = ("table-file", "incremental-table-file", "partitioned-table", "joined-table")

ALIASES: dict[str, tuple[str, ...]] = {
    "step": ("step", "_step", "global_step", "train/global_step"),
    "prompt": ("prompt", "input", "query", "question"),
    "completion": ("completion", "output", "response", "generation"),
    "reasoning": ("reasoning", "thinking"),
    "reference": ("reference", "gts", "ground_truth", "solution"),
    "reward_total": ("reward_total", "reward", "score", "total_reward"),
    "advantage": ("advantage", "advantages"),
    "sample_id": ("sample_id",),
    "group_id": ("group_id", "uid"),
    "split": ("split",),
    "data_source": ("data_source",),
    "persona": ("persona",),
    "env": ("env",),
}
_COMPONENT = re.compile(r"^rewards?/(.+)$", re.IGNORECASE)
_WIDE = re.compile(r"^(input|output|score)_(\d+)$")


@dataclass
class TableLayout:
    """Which column index plays which part of a sample."""

    fields: dict[str, int] = field(default_factory=dict)
    components: dict[str, int] = field(default_factory=dict)
    #: verl's wide layout: (input, output, score) column indexes per sample.
    wide: list[tuple[int | None, int, int | None]] = field(default_factory=list)

    def used(self) -> set[int]:
        wide = {i for triple in self.wide for i in triple if i is not None}
        return set(self.fields.values()) | set(self.components.values()) | wide


def _numeric_column(rows: list[list[Any]], index: int) -> bool:
    values = [row[index] for row in rows if len(row) > index and row[index] is not None]
    return bool(values) and all(is_number(v) for v in values)


def table_layout(columns: list[str], rows: list[list[Any]]) -> TableLayout:
    """Decide the layout of a table from its column names (and, for bare rewards, its values)."""
    layout = TableLayout()
    lowered = {name.lower(): i for i, name in reversed(list(enumerate(columns)))}
    for canonical, aliases in ALIASES.items():
        for alias in aliases:
            if alias in lowered and lowered[alias] not in layout.fields.values():
                layout.fields[canonical] = lowered[alias]
                break
    if "completion" not in layout.fields:
        wide: dict[int, dict[str, int]] = {}
        for i, name in enumerate(columns):
            match = _WIDE.match(name)
            if match:
                wide.setdefault(int(match.group(2)), {})[match.group(1)] = i
        layout.wide = [
            (parts.get("input"), parts["output"], parts.get("score"))
            for _, parts in sorted(wide.items())
            if "output" in parts
        ]
    taken = layout.used()
    for i, name in enumerate(columns):
        match = _COMPONENT.match(name)
        if match and i not in taken:
            layout.components[match.group(1)] = i
    if not layout.components:
        for i, name in enumerate(columns):
            if i not in taken and _numeric_column(rows, i):
                layout.components[name] = i
    return layout


def _step_value(value: Any) -> Any:
    """Older TRL logs the step as a string; read digit strings as integers."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def table_records(
    columns: list[str], row: list[Any], layout: TableLayout, file_step: int | None
) -> Iterator[dict[str, Any]]:
    """The sample records of one table row (several for verl's wide layout)."""
    base: dict[str, Any] = {name: row[i] for name, i in layout.fields.items()}
    base["step"] = _step_value(base["step"]) if "step" in base else file_step
    rewards = {name: row[i] for name, i in layout.components.items() if row[i] is not None}
    if rewards:
        base["rewards"] = rewards
    used = layout.used()
    for i, name in enumerate(columns):
        if i not in used:
            keep_extra(base, name, row[i])
    if not layout.wide:
        yield base
        return
    for number, (prompt, output, score) in enumerate(layout.wide, start=1):
        record = dict(base)
        record["prompt"] = None if prompt is None else row[prompt]
        record["completion"] = row[output]
        record["reward_total"] = None if score is None else row[score]
        if record.get("split") is None:  # verl logs this layout from `_validate` only
            record["split"] = "validation"
        keep_extra(record, "table_sample", number)
        yield record


def read_table(path: Path, shown: str) -> tuple[list[str], list[Any]]:
    """Parse a table file into (columns, rows); errors name the file and what is missing."""
    try:
        doc = parse_line(read_capped(path, "W&B table"))  # a FIFO or a huge file: one line
    except ValueError as exc:
        raise RunFormatError(f"not a W&B table: {exc}", shown) from None
    except OSError as exc:
        raise RunFormatError(f"cannot read: {exc.strerror or exc}", shown) from None
    if not isinstance(doc, dict):
        raise RunFormatError(
            "not a W&B table: expected a JSON object with 'columns' and 'data'", shown
        )
    if doc.get("_type") in _REFERENCE_TYPES:
        target = doc.get("path") or doc.get("artifact_path") or "the table file"
        raise RunFormatError(f"this only refers to a W&B table; point at {target}", shown)
    columns, data = doc.get("columns"), doc.get("data")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise RunFormatError("not a W&B table: missing 'columns' (a list of column names)", shown)
    if not isinstance(data, list):
        raise RunFormatError("not a W&B table: missing 'data' (a list of rows)", shown)
    return columns, data


def _table_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(
        (p for p in path.rglob(f"*{TABLE_SUFFIX}") if p.is_file()),
        key=lambda p: (_file_step(p) or 0, str(p)),
    )


def _file_step(path: Path) -> int | None:
    match = MEDIA_NAME.match(path.name)
    return int(match.group(1)) if match else None


def table_key(path: Path, root: Path) -> str:
    """The key a table was logged under: `completions` for
    `files/media/table/completions_20_<hash>.table.json`, `val/generations` for a nested one."""
    match = MEDIA_NAME.match(path.name)
    stem = path.name[: match.start(1) - 1] if match else path.name.removesuffix(TABLE_SUFFIX)
    folder = shown_path(path.parent, root) if path.parent != root else ""
    name = f"{folder}/{stem}" if folder and folder != "." else stem
    for prefix in ("files/media/table/", "media/table/", "table/"):
        if prefix in f"/{name}":
            return f"/{name}".split(prefix, 1)[1]
    return name


def _run_folders(path: Path, files: list[Path]) -> list[str]:
    """The W&B run folders (below `path`) the table files lie in."""
    if any(RUN_FOLDER.match(folder.name) for folder in (path, *path.parents)):
        return []
    found = set()
    for file in files:
        for part in file.relative_to(path).parts[:-1]:
            if RUN_FOLDER.match(part):
                found.add(part)
                break
    return sorted(found)


def _run_id(path: Path) -> str:
    """A file's name without the suffix; a folder's W&B run folder name, else its own name."""
    if path.is_file():
        return path.name.removesuffix(TABLE_SUFFIX).removesuffix(".json")
    for folder in (path, *path.parents):
        if RUN_FOLDER.match(folder.name):
            return folder.name
    return path.name


class WandbTableReader:
    """Reads one W&B `*.table.json` file, or every one under a folder."""

    #: The format name, set by its framework (`rootcause.store.builtin_frameworks`).
    name: str
    #: W&B writes NaN for an empty numeric cell (a pandas NaN, a value not logged).
    nan_means_missing = frozenset(NUMBER_FIELDS)
    appendable = False

    def detect(self, path: Path) -> bool:
        if path.is_file():
            return path.name.endswith(TABLE_SUFFIX)
        return path.is_dir() and next(path.rglob(f"*{TABLE_SUFFIX}"), None) is not None

    def describe(self, path: Path) -> RunSource:
        files = _table_files(path)
        if not files:
            raise RunFormatError(f"no W&B table files (*{TABLE_SUFFIX})", path)
        runs = _run_folders(path, files) if path.is_dir() else []
        if len(runs) > 1:
            raise RunFormatError(
                f"{len(runs)} W&B runs in this folder ({', '.join(runs)}); each is a run of its "
                "own: point at one run folder",
                path,
            )
        root = path if path.is_dir() else path.parent
        return RunSource(
            format=self.name,
            root=root,
            run_id=_run_id(path),
            files=files,
            facts={"num_generations": configured_generations(root)},
        )

    def load(self, source: RunSource, ctx: LoadContext) -> None:
        chosen = ctx.overlay.table
        keys = {path: table_key(path, source.root) for path in source.files}
        if chosen is not None and chosen not in keys.values():
            known = ", ".join(sorted(set(keys.values())))
            raise RunFormatError(f"no W&B table {chosen!r}; tables here: {known}", source.root)
        reading = _Reading(strict=chosen is not None or len(source.files) == 1)
        for path in source.files:
            if chosen is None or keys[path] == chosen:
                reading.read(ctx, path, shown_path(path, source.root), keys[path])
        ctx.notes += reading.notes(chosen, set(keys.values()))
        ctx.notes += group_table_blocks(ctx, source.facts.get("num_generations"))
        if reading.samples == 0 and reading.unrelated:
            raise RunFormatError(
                "no W&B table with a completion column (one of "
                f"{', '.join(ALIASES['completion'])})",
                source.root,
            )


def _files(count: int) -> str:
    return "1 file logs" if count == 1 else f"{count} files log"


@dataclass
class _Reading:
    """Reads table files one after another, each row once per table key."""

    strict: bool
    samples: int = 0
    repeated: dict[str, int] = field(default_factory=dict)
    unrelated: dict[str, list[str]] = field(default_factory=dict)
    seen: dict[str, set[bytes]] = field(default_factory=dict)
    #: Samples whose prompt or completion was a list of chat messages, by table key.
    conversational: dict[str, int] = field(default_factory=dict)
    #: Per key, the previous file's rows without their step, and the (files, rows) left out
    #: as the same batch logged again.
    last_content: dict[str, list[bytes]] = field(default_factory=dict)
    last_steps: dict[str, list[Any]] = field(default_factory=dict)
    relabelled: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: Per key, the (files, rows) left out as the previous file logged again under its own step.
    relogged: dict[str, tuple[int, int]] = field(default_factory=dict)

    def read(self, ctx: LoadContext, path: Path, shown: str, key: str) -> None:
        ctx.place = (shown, None)
        columns, rows = read_table(path, shown)
        layout = table_layout(columns, [r for r in rows if isinstance(r, list)])
        if "completion" not in layout.fields and not layout.wide:
            if self.strict:
                names = ", ".join(ALIASES["completion"])
                raise RunFormatError(f"no completion column (one of {names})", shown)
            self.unrelated.setdefault(key, columns)
            return
        file_step = _file_step(path)
        if "step" not in layout.fields and file_step is None:
            raise RunFormatError(
                "no step column (step, _step, global_step) and no W&B step in the file name",
                shown,
            )
        if self._relabelled(key, layout, rows):
            return
        earlier = self.seen.setdefault(key, set())
        here: set[bytes] = set()
        for number, row in enumerate(rows, start=1):
            if not isinstance(row, list) or len(row) != len(columns):
                cells = len(row) if isinstance(row, list) else "no"
                ctx.bad_line(shown, number, f"row has {cells} cells, expected {len(columns)}")
                continue
            step = None if "step" in layout.fields else file_step
            identity = orjson.dumps([step, row], option=orjson.OPT_SERIALIZE_NUMPY)
            if identity in earlier:
                self.repeated[key] = self.repeated.get(key, 0) + 1
                continue
            here.add(identity)
            for record in table_records(columns, row, layout, file_step):
                if render_conversation(record):
                    self.conversational[key] = self.conversational.get(key, 0) + 1
                ctx.add_record(record, shown, number)
                self.samples += 1
        earlier |= here

    def _relabelled(self, key: str, layout: TableLayout, rows: list[Any]) -> bool:
        """Whether this file logs the rows of the key's previous file again: under a new step
        (TRL logs its last generation batch at each logging step until it generates anew:
        `num_iterations > 1`) or under the same step (TRL logs its last batch once more when
        training ends); such a file is counted and left out."""
        at = layout.fields.get("step")
        if at is None:
            return False
        listed = [row for row in rows if isinstance(row, list)]
        unstepped = [[c for i, c in enumerate(row) if i != at] for row in listed]
        content = [orjson.dumps(row, option=orjson.OPT_SERIALIZE_NUMPY) for row in unstepped]
        steps = [_step_value(row[at]) if len(row) > at else None for row in listed]
        same_rows = bool(content) and content == self.last_content.get(key)
        same_step = steps == self.last_steps.get(key)
        self.last_content[key], self.last_steps[key] = content, steps
        if not same_rows:
            return False
        counts = self.relogged if same_step else self.relabelled
        files, count = counts.get(key, (0, 0))
        counts[key] = (files + 1, count + len(content))
        return True

    def notes(self, chosen: str | None, keys: set[str]) -> list[str]:
        out = []
        for key, (files, count) in sorted(self.relabelled.items()):
            out.append(
                f"{key}: {_files(files)} the previous file's rows again under a new step "
                f"({count:,} rows left out): TRL logs its last generation batch at every logging "
                "step until it generates anew (num_iterations > 1)"
            )
        for key, (files, count) in sorted(self.relogged.items()):
            out.append(
                f"{key}: {_files(files)} the previous file's rows again under the same step "
                f"({count:,} rows left out), as TRL logs its last generation batch once more "
                "when training ends"
            )
        if chosen is not None and len(keys) > 1:
            others = ", ".join(sorted(keys - {chosen}))
            out.append(f"table {chosen!r} chosen (--table or the overlay); skipped: {others}")
        for key, count in sorted(self.repeated.items()):
            out.append(
                f"{count} rows repeated from earlier logs of the same table left out ({key}: "
                "the same step and cells logged again, as verl's val/generations and OpenRLHF "
                "re-log every earlier row and TRL its last batch)"
            )
        for key, count in sorted(self.conversational.items()):
            out.append(
                f"{key}: {count:,} samples log prompt or completion as chat messages: read as "
                "'role: text' lines and the assistant's reply text"
            )
        if self.unrelated:
            shown = "; ".join(
                f"{key} (columns {', '.join(cols[:5])})"
                for key, cols in sorted(self.unrelated.items())
            )
            out.append(f"W&B tables skipped, no completion column: {shown}")
        return out
