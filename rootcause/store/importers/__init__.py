"""Readers for foreign RL logs: TRL GRPO completions, verl rollout dumps, NeMo-RL step logs,
prime-rl rollouts, Inspect AI logs, W&B tables.

Each module holds one `RunReader` that maps its format onto the canonical sample tables
(README, "Foreign logs") without dropping anything: fields with a canonical meaning are mapped,
numeric reward signals become reward components, and everything else lands in `extras`.
Lineage is the file relative to the run root and the 1-based line or row in it.

This package module holds the small helpers the readers share.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from rootcause.core.limits import check_regular
from rootcause.store.jsonl import UnreadableFileError, iter_json_lines, parse_line
from rootcause.store.records import KNOWN_FIELDS, RecordError
from rootcause.store.source import LoadContext

#: Prefix for a foreign key whose name would otherwise collide with a canonical record key.
SOURCE_KEY_PREFIX = "source:"


def is_number(value: object) -> bool:
    """A JSON number (booleans excluded)."""
    return type(value) in (int, float)


def shown_path(path: Path, root: Path) -> str:
    """How lineage names `path`: relative to the run root, with forward slashes."""
    return path.relative_to(root).as_posix()


def numbered_files(paths: Iterable[Path], pattern: re.Pattern[str]) -> list[Path]:
    """Files whose name matches `pattern`, ordered by its first group as a number, then name;
    a FIFO or device by such a name is refused in one line (reading it would block or never
    end)."""
    keyed = []
    for path in paths:
        match = pattern.match(path.name)
        if match and path.exists() and not path.is_dir() and not path.is_file():
            check_regular(path, "log file")
        if match and path.is_file():
            keyed.append((int(match.group(1)), str(path), path))
    return [path for *_, path in sorted(keyed)]


def keep_extra(record: dict[str, Any], key: str, value: Any) -> None:
    """Keep a foreign key in the record so it lands in `extras`, never on a canonical field."""
    name = key if key not in KNOWN_FIELDS and key not in record else SOURCE_KEY_PREFIX + key
    record[name] = value


def load_json_lines(
    ctx: LoadContext,
    path: Path,
    shown: str,
    to_record: Callable[[Mapping[str, Any]], Mapping[str, Any]],
) -> None:
    """Stream a JSON-lines file into `ctx`, one record per line, errors located by line.

    `to_record` maps one parsed JSON object onto a sample record (the native format) and may raise
    `RecordError` naming the foreign field at fault; lines that are not JSON objects are
    reported by the record buffer.
    """
    ctx.place = (shown, None)
    lines = iter_json_lines(path, shown)
    while True:
        try:
            line, raw = next(lines)
        except StopIteration:
            return
        except UnreadableFileError as exc:  # a truncated .jsonl.gz: skipped from the break on
            ctx.bad_file(shown, exc.detail)
            return
        ctx.place = (shown, line)
        try:
            obj = parse_line(raw)
        except ValueError as exc:
            ctx.bad_line(shown, line, str(exc))
            continue
        if isinstance(obj, Mapping):
            try:
                obj = to_record(obj)
            except RecordError as exc:
                ctx.bad_line(shown, line, str(exc))
                continue
        ctx.add_record(obj, shown, line)
