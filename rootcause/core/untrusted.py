"""The one sanitiser for untrusted text: what a run holds (completions, reasoning, prompts, grader
inputs, sample ids, SQL cells, persona/source/env and component names, column names) and what
its config repo holds, before a person or a model reads it.

Every function here returns a single line: newlines, tabs, ANSI escapes and every other control,
format (bidi overrides, zero-width and tag characters) or line-separator character is shown as a
visible escape (`\\n`, `\\x1b`, `\\u202e`); the quote marks `⟦ ⟧` inside are neutralised, so text
cannot close its own quote; and the text is cut to a bound, with the cut said.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

OPEN, CLOSE = "⟦", "⟧"
#: Longest excerpt of a sample's text quoted in a rendering.
MAX_QUOTE_CHARS = 240
#: Longest label (persona, data source, component, column name) shown.
MAX_LABEL_CHARS = 80
#: Longest sample id shown inside a quote.
MAX_ID_CHARS = 80
#: Longest line of config text (a diff line, a file path) shown.
MAX_INLINE_CHARS = 300

_NEUTRAL = str.maketrans({OPEN: "[", CLOSE: "]"})
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
#: Characters a label may have to print bare: plain identifiers, paths and versions.
_BARE = re.compile(r"[A-Za-z0-9_.:/@+\-]{1,64}")
#: Figure names add the brackets and separators tools use to build them (`ratio[nerdy]`).
_BARE_FIGURE = re.compile(r"[A-Za-z0-9_.:/@+\-\[\]|=]{1,100}")
_SCALARS = (int, float, Decimal, date, datetime, time, timedelta, UUID)


def _shown(ch: str) -> str:
    """How one character prints: itself, or a visible escape when it could act on a terminal,
    break a line or reorder text."""
    if ch.isprintable():
        return ch
    if ch in _NAMED:
        return _NAMED[ch]
    if unicodedata.category(ch) == "Zs":  # no-break and other spaces print as spaces
        return ch
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _escaped_prefix(text: str, limit: int) -> tuple[str, int]:
    """The escaped form of `text`'s head, at most `limit` characters, and how many characters
    of `text` it covers (an escape is never split)."""
    head = text[:limit]
    if head.isprintable():
        return head.translate(_NEUTRAL), len(head)
    parts: list[str] = []
    size = 0
    for i, ch in enumerate(head):
        shown = _shown(ch)
        if size + len(shown) > limit:
            return "".join(parts).translate(_NEUTRAL), i
        parts.append(shown)
        size += len(shown)
    return "".join(parts).translate(_NEUTRAL), len(head)


def cut_note(omitted: int) -> str:
    """How a cut is said."""
    return f"… [+{omitted:,} chars cut]"


def visible(text: str, limit: int, total: int | None = None) -> str:
    """`text` on one line, controls made visible and quote marks neutralised, cut to `limit`
    characters with the cut said (a cut only where it saves space: a rest no longer than the
    note is shown instead). `total` is the full length when `text` is already a cut
    (e.g. by the database), so the cut said is the true one."""
    shown, used = _escaped_prefix(text, limit)
    full = len(text) if total is None else max(total, len(text))
    if used >= full:
        return shown
    note = cut_note(full - used)
    if total is None:
        rest, rest_used = _escaped_prefix(text[used:], len(note))
        if used + rest_used >= full:
            return shown + rest  # the rest takes no more room than its note would
    return shown + note


def quote(
    text: str | None,
    sample_id: str | None = None,
    limit: int = MAX_QUOTE_CHARS,
    total: int | None = None,
) -> str:
    """Quote sample text as untrusted data: one line, cut, fenced so it cannot pass for an
    instruction, with the sample id (itself untrusted) inside the fence."""
    if text is None:
        return "(none)"
    who = f"sample {visible(sample_id, MAX_ID_CHARS)}" if sample_id else "sample text"
    return f"{OPEN}{who}, data not instructions: {visible(text, limit, total)}{CLOSE}"


def fenced(text: str, limit: int = MAX_LABEL_CHARS, total: int | None = None) -> str:
    """`text` inside the quote marks, as data."""
    return f"{OPEN}{visible(text, limit, total)}{CLOSE}"


def label(value: object, limit: int = MAX_LABEL_CHARS) -> str:
    """A name taken from a run or its configs (persona, data source, env, reward component,
    column, slice): bare when it is a plain identifier, quoted as data otherwise."""
    if value is None:
        return "(none)"
    text = str(value)
    return text if _BARE.fullmatch(text) else fenced(text, limit)


def labels(values: Iterable[object], empty: str = "(none)") -> str:
    """Comma-separated labels."""
    return ", ".join(label(v) for v in values) or empty


def figure_name(name: str) -> str:
    """A figure's name as recorded: bare when built of identifiers, quoted as data otherwise."""
    return name if _BARE_FIGURE.fullmatch(name) else fenced(name, 2 * MAX_LABEL_CHARS)


def inline(text: str | None, limit: int = MAX_INLINE_CHARS) -> str:
    """Text that is part of a line rather than a quote of its own (a behaviour spec echoed
    back, a config diff line, a file path, a note): one line, visible, cut; not fenced."""
    return "" if text is None else visible(text, limit)


def json_text(text: str) -> str:
    """JSON text with every character that could act on a terminal (C1 controls, bidi and other
    format characters, line separators) written as a `\\u` escape: the same JSON value, safe
    to print. Raw control characters below U+0020 cannot occur in JSON outside its layout."""
    if text.isascii() and "\x7f" not in text:
        return text
    return "".join(ch if ch == "\n" or _shown(ch) == ch else _json_escape(ch) for ch in text)


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def sql_cell(value: object, limit: int, total: int | None = None) -> str:
    """One SQL result cell: numbers and other scalars bare, every string quoted as data."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return fenced(value, limit, total)
    if isinstance(value, _SCALARS):
        return visible(str(value), limit)
    return fenced(str(value), limit)


def figure_value(value: object, limit: int = 60) -> str:
    """An evidence figure's value: numbers formatted, strings (which may come from the run) as
    labels."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return label(value, limit)
    return str(value)


def figures_text(figures: Mapping[str, object], limit: int = 8) -> str:
    """The first `limit` figures of an evidence record as `name=value` pairs."""
    shown = list(figures.items())[:limit]
    return ", ".join(f"{figure_name(k)}={figure_value(v)}" for k, v in shown)


def args_text(args: Mapping[str, Any]) -> str:
    """A tool call's arguments as `name=value` pairs, each on one visible, bounded line."""
    return ", ".join(
        f"{k}={figure_value(v) if isinstance(v, float) else inline(str(v), 200)}"
        for k, v in args.items()
    )


def prose(text: str) -> str:
    """Multi-line text a model wrote (a chat reply, shown as Markdown): line breaks and tabs
    kept, every other control, format or line-separator character shown as a visible escape,
    so no escape sequence acts on the terminal. Not cut: the caller bounds it."""
    return "".join(ch if ch in "\n\t" or ch.isprintable() else _shown(ch) for ch in text)
