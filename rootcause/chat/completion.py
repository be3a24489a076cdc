"""Completing slash commands as they are typed: command names, argument names, and argument
values that name something in the run (components, personas, sources, envs, deployed commits)
or one of an argument's fixed choices (`by=persona|data_source|env|split`).

`complete(text, names)` looks at the word being typed at the end of `text` and returns what it
could become; each completion replaces the text from `start` on with `value`.
"""

from __future__ import annotations

import shlex
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic.fields import FieldInfo

from rootcause.chat.command import ChatCommand, commands
from rootcause.chat.names import RunNames
from rootcause.tools.registry import get_tool

#: Most completions offered at once.
MAX_COMPLETIONS = 40
#: The beginnings of the behaviour grammar, offered for `behavior=`.
BEHAVIOR_PREFIXES = ("terms:", "regex:", "semantic:", "words:>", "words:<")


@dataclass(frozen=True)
class Completion:
    """Replace the text from `start` on with `value`; `label` and `help` are what a face shows."""

    start: int
    value: str
    label: str
    help: str = ""


def _choices(info: FieldInfo) -> list[str]:
    """The fixed values of a Literal argument (or a list or optional of one)."""
    annotation: Any = info.annotation
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            rest = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = rest[0] if len(rest) == 1 else None
        elif origin is list:
            annotation = typing.get_args(annotation)[0]
        else:
            break
    if typing.get_origin(annotation) is Literal:
        return [str(v) for v in typing.get_args(annotation)]
    return []


def _values(tool: str, argument: str, words: list[str], names: RunNames) -> list[tuple[str, str]]:
    """What `argument` of `tool` may be set to: (value, what it is)."""
    fields = get_tool(tool).input_model.model_fields
    info = fields.get(argument)
    if info is None:
        return []
    fixed = _choices(info)
    if fixed:
        return [(v, "") for v in fixed]
    named = {
        "persona": (names.personas, "persona"),
        "data_source": (names.sources, "data source"),
        "env": (names.envs, "env"),
        "component": (names.components, "component"),
        "remove": (names.components, "component"),
        "scored_by": (names.components, "component"),
        "touching": (names.components + names.sources, "component or source"),
    }
    if argument in named:
        values, what = named[argument]
        return [(v, what) for v in values]
    if argument in ("commit", "base"):
        return list(names.commits)
    if argument in ("a", "b", "level"):
        by = _given(words, "by") or _default(fields.get("by"))
        level = by if by in ("persona", "data_source", "env", "split") else "persona"
        return [(v, level) for v in names.level(level)]
    if argument == "behavior":
        return [(p, "behaviour spec") for p in BEHAVIOR_PREFIXES]
    return []


def _given(words: list[str], argument: str) -> str | None:
    for word in words:
        name, eq, value = word.partition("=")
        if eq and name.lstrip("-").replace("-", "_") == argument:
            return value
    return None


def _default(info: FieldInfo | None) -> str | None:
    value = None if info is None else info.default
    return value if isinstance(value, str) else None


def _quoted(value: str) -> str:
    return value if value and shlex.quote(value) == value else shlex.quote(value)


def _matching(
    candidates: Iterable[tuple[str, str]], typed: str, start: int, before: str = ""
) -> list[Completion]:
    typed_lower = typed.lower()
    found = [
        Completion(start, before + _quoted(value), value, help)
        for value, help in candidates
        if value.lower().startswith(typed_lower) and value != typed
    ]
    return found[:MAX_COMPLETIONS]


def _last_word(text: str) -> tuple[int, str]:
    start = max(text.rfind(" "), text.rfind("\n")) + 1
    return start, text[start:]


def complete(text: str, names: RunNames) -> list[Completion]:
    """What the word being typed at the end of `text` could become (none for free text)."""
    if not text.startswith("/"):
        return []
    known = commands()
    if " " not in text:
        typed = text[1:].lower()
        return [
            Completion(0, f"/{c.name} ", f"/{c.name}", c.summary)
            for c in known.values()
            if c.name.startswith(typed)
        ][:MAX_COMPLETIONS]
    command = known.get(text[1:].split(" ", 1)[0].replace("-", "_"))
    if command is None:
        return []
    start, word = _last_word(text)
    words = text[1:].split()[1:]
    before = words[:-1] if word else words
    if command.arguments:
        return _declared(command, word, start, before, names)
    if command.bare is not None and "=" not in word:
        return _matching(command.bare(names, word, before), word, start)
    if command.tool is None:
        return []
    return _tool_arguments(command.tool, word, start, words, names)


def _declared(
    command: ChatCommand, word: str, start: int, before: list[str], names: RunNames
) -> list[Completion]:
    """Completions of a command's declared ARG=VALUE arguments: their names, then their
    values; its bare words first where it takes them."""
    argument, eq, value = word.partition("=")
    if eq:
        key = argument.lstrip("-").replace("-", "_")
        declared = next((a for a in command.arguments if a.name == key), None)
        if declared is None or declared.values is None:
            return []
        return _matching(declared.values(names, value, before), value, start, f"{argument}=")
    used = {w.partition("=")[0].lstrip("-").replace("-", "_") for w in before if "=" in w}
    offered = [(f"{a.name}=", a.what) for a in command.arguments if a.name not in used or a.repeats]
    # Argument names end in `=`: inserted as they are, never quoted.
    found = [Completion(c.start, c.label, c.label, c.help) for c in _matching(offered, word, start)]
    if command.bare is not None:
        found = _matching(command.bare(names, word, before), word, start) + found
    return found[:MAX_COMPLETIONS]


def _tool_arguments(
    tool: str, word: str, start: int, words: list[str], names: RunNames
) -> list[Completion]:
    """Completions of a registry tool's arguments: names from its input model, then values
    (fixed choices, or the run's names)."""
    argument, eq, value = word.partition("=")
    if eq:
        key = argument.lstrip("-").replace("-", "_")
        head, comma, last = value.rpartition(",")
        prefix = f"{argument}={head}{comma}"
        return _matching(_values(tool, key, words, names), last, start, prefix)
    used = {w.partition("=")[0].lstrip("-").replace("-", "_") for w in words if "=" in w}
    fields = get_tool(tool).input_model.model_fields
    offered = [
        (f"{n}=", (f.description or "").split(". ")[0])
        for n, f in fields.items()
        if n not in used or typing.get_origin(f.annotation) is list
    ]
    found = _matching(offered, word, start)
    # Argument names end in `=`: inserted as they are, never quoted.
    return [Completion(c.start, c.label, c.label, c.help) for c in found]
