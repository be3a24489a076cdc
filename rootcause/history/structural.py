"""Semantic diffs of config files: key paths with old → new for YAML/JSON/TOML, lines otherwise.

A structural diff says what a person would say about a config change ("weight 0.5 → 1.0",
"inputs: + reasoning") instead of which lines moved, so formatting-only edits (reindenting,
reordering keys, comments) produce no change at all. Files that do not parse fall back to a
unified line diff, which is also what every other text file gets.
"""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from rootcause.core.config_effects import MAX_VALUE_CHARS as MAX_VALUE_CHARS
from rootcause.core.config_effects import fmt_value as fmt_value
from rootcause.store.config_repo import load_yaml

ChangeOp = Literal["changed", "added", "removed", "list"]


def _load_yaml(text: str) -> Any:
    """A YAML document by libyaml when it is there (several times faster: a CoT check reads
    every reward file of every deployed commit); a document it refuses is read again by the
    pure-Python loader, so an error says what it always said."""
    try:
        return load_yaml(text)
    except yaml.YAMLError:
        return yaml.safe_load(text)


#: Parsers by file suffix; a file with another suffix is diffed line by line.
PARSERS: dict[str, Callable[[str], Any]] = {
    ".yaml": _load_yaml,
    ".yml": _load_yaml,
    ".json": json.loads,
    ".toml": tomllib.loads,
}
#: Most lines of a unified diff kept per file.
MAX_DIFF_LINES = 60

_MISSING = object()


@dataclass(frozen=True)
class KeyChange:
    """One change at a key path (`params.threshold`, `inputs`, `sources.web_forum.weight`).

    `op` is `changed` (old → new), `added` / `removed` (a key), or `list` (items added to or
    removed from a list of scalars, in `added_items` / `removed_items`; `old`/`new` hold the
    whole lists).
    """

    path: tuple[str, ...]
    op: ChangeOp
    old: Any = None
    new: Any = None
    added_items: tuple[Any, ...] = ()
    removed_items: tuple[Any, ...] = ()

    @property
    def key(self) -> str:
        return ".".join(self.path) or "(document)"

    def describe(self, limit: int | None = MAX_VALUE_CHARS) -> str:
        """`weight 0.5 → 1.0`, `inputs: + reasoning`, `+ params.bonus: 0.3`, `- kind: rm`;
        each value cut at `limit` characters (None: whole)."""

        def value(v: Any) -> str:
            return fmt_value(v, limit)

        if self.op == "changed":
            return f"{self.key} {value(self.old)} → {value(self.new)}"
        if self.op == "added":
            return f"+ {self.key}: {value(self.new)}"
        if self.op == "removed":
            return f"- {self.key}: {value(self.old)}"
        parts = [f"+ {value(v)}" for v in self.added_items]
        parts += [f"- {value(v)}" for v in self.removed_items]
        return f"{self.key}: {', '.join(parts) or 'reordered'}"


@dataclass
class FileDiff:
    """How one file differs between two commits."""

    path: str
    status: Literal["added", "removed", "modified"]
    structural: bool
    changes: list[KeyChange] = field(default_factory=list)
    line_diff: list[str] = field(default_factory=list)
    note: str | None = None
    old_doc: Any = None
    new_doc: Any = None

    @property
    def title(self) -> str:
        """The file and what happened to it as a whole: `rewards/x.yaml (new file)`."""
        what = {"added": " (new file)", "removed": " (file removed)", "modified": ""}
        note = f" ({self.note})" if self.note and not self.structural else ""
        return self.path + what[self.status] + note

    def body(self, limit: int | None = MAX_VALUE_CHARS) -> list[str]:
        """The changes under the file's title, one per line (values cut at `limit`, None:
        whole): key changes, or unified diff lines for a file that is not structured."""
        if not self.structural:
            return list(self.line_diff)
        if self.status == "removed":
            return []
        return [c.describe(limit) for c in self.changes] or [
            "formatting only (no structural change)"
        ]

    def lines(self) -> list[str]:
        """One line per change, each prefixed with the file path."""
        if self.structural:
            head = f"{self.path}: " + ("(new file) " if self.status == "added" else "")
            if self.status == "removed":
                return [f"{self.path}: (file removed)"]
            return [head + c.describe() for c in self.changes] or [
                f"{self.path}: formatting only (no structural change)"
            ]
        out = [f"{self.path}: ({self.status}{'; ' + self.note if self.note else ''})"]
        return out + [f"  {line}" for line in self.line_diff]


def parse_config(path: str, text: str | None) -> tuple[bool, Any, str | None]:
    """(structured?, document, error) for a file's text; not structured when the suffix has no
    parser or the text does not parse (error says why)."""
    suffix = path[path.rfind(".") :].lower() if "." in path else ""
    parser = PARSERS.get(suffix)
    if parser is None or text is None:
        return parser is not None, None, None
    try:
        return True, parser(text), None
    except (yaml.YAMLError, json.JSONDecodeError, tomllib.TOMLDecodeError, ValueError) as exc:
        return False, None, f"does not parse as {suffix[1:].upper()}: {str(exc).splitlines()[0]}"


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def diff_values(old: Any, new: Any, path: tuple[str, ...] = ()) -> list[KeyChange]:
    """Structural changes from `old` to `new`: mappings key by key (sorted), lists of scalars
    as item sets (order kept), lists of mappings index by index when their lengths agree,
    anything else as a whole value."""
    if old == new and type(old) is type(new):
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[KeyChange] = []
        for key in sorted(set(old) | set(new), key=str):
            a, b = old.get(key, _MISSING), new.get(key, _MISSING)
            sub = (*path, str(key))
            if a is _MISSING:
                out.append(KeyChange(sub, "added", new=b))
            elif b is _MISSING:
                out.append(KeyChange(sub, "removed", old=a))
            else:
                out += diff_values(a, b, sub)
        return out
    if isinstance(old, list) and isinstance(new, list):
        if all(_is_scalar(v) for v in [*old, *new]):
            added = tuple(v for v in new if v not in old)
            removed = tuple(v for v in old if v not in new)
            return [KeyChange(path, "list", old, new, added, removed)]
        if len(old) == len(new):
            return [c for i, (a, b) in enumerate(zip(old, new, strict=True))
                    for c in diff_values(a, b, (*path, f"[{i}]"))]  # fmt: skip
    return [KeyChange(path, "changed", old, new)]


def line_diff(old: str | None, new: str | None, path: str) -> list[str]:
    """Unified diff lines (one line of context, no headers), at most MAX_DIFF_LINES."""
    lines = list(
        difflib.unified_diff((old or "").splitlines(), (new or "").splitlines(), n=1, lineterm="")
    )[2:]
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"… ({len(lines) - MAX_DIFF_LINES} more diff lines)"]
    return lines


def diff_file(path: str, old: str | None, new: str | None) -> FileDiff:
    """Diff one file's texts (None: the file does not exist on that side)."""
    status: Literal["added", "removed", "modified"] = (
        "added" if old is None else "removed" if new is None else "modified"
    )
    ok_old, doc_old, err_old = parse_config(path, old)
    ok_new, doc_new, err_new = parse_config(path, new)
    if ok_old and ok_new:
        base = {} if doc_old is None else doc_old  # missing or empty file
        head = {} if doc_new is None else doc_new
        changes = [] if new is None else diff_values(base, head)
        return FileDiff(path, status, True, changes, old_doc=doc_old, new_doc=doc_new)
    return FileDiff(
        path, status, False, line_diff=line_diff(old, new, path), note=err_new or err_old
    )
