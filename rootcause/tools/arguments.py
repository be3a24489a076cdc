"""Tool arguments as words, for every face that takes them typed: `rootcause tool NAME ...`,
and slash commands such as `/prevalence behavior=terms:goblin by=persona`.

Words: `--name VALUE`, `--name=VALUE`, `name=value`, a bare `--flag` (true) and `--no-flag`
(false) for booleans; a list argument takes repeated words and comma-separated values
(`--remove a --remove b` or `--remove a,b`). Names may use `-` or `_`. Values stay text here:
the tool's input model converts and checks them, so a bad value is reported by the same
one-line message whichever face it came from. `describe_arguments` and `help_lines` say what
a tool takes, from the same model.
"""

from __future__ import annotations

import re
import shlex
import textwrap
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from rootcause.core.errors import BadInputError
from rootcause.tools.base import Tool

#: Words read as a boolean value after a bare `--flag` (anything else is the next argument).
_BOOL_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0"})
#: Width a tool's description is wrapped to in its help.
HELP_WIDTH = 96
_NAME_VALUE = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)=(.*)$", re.DOTALL)


@dataclass(frozen=True)
class ArgumentHelp:
    """What one argument is, as `--help` shows it."""

    name: str
    option: str
    kind: str
    required: bool
    default: Any
    description: str
    flag: bool
    repeatable: bool


def _without_none(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def _is_list(info: FieldInfo) -> bool:
    return typing.get_origin(_without_none(info.annotation)) is list


def _is_flag(info: FieldInfo) -> bool:
    return _without_none(info.annotation) is bool


def _type_text(annotation: Any) -> str:
    inner = _without_none(annotation)
    origin = typing.get_origin(inner)
    if origin is Literal:
        return "|".join(str(v) for v in typing.get_args(inner))
    if origin is list:
        (item,) = typing.get_args(inner) or (str,)
        return f"{_type_text(item)},..."
    names = {int: "INT", float: "NUMBER", str: "TEXT", bool: "BOOL"}
    return names.get(inner, getattr(inner, "__name__", str(inner)).upper())


def _bounds_text(info: FieldInfo) -> str:
    """`2..200`, `>= 0`, `> 0, <= 120`, `at most 20,000 chars`: what pydantic will check."""
    ge = gt = le = None
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge):
            ge = item.ge
        elif isinstance(item, annotated_types.Gt):
            gt = item.gt
        elif isinstance(item, annotated_types.Le):
            le = item.le
        elif isinstance(item, annotated_types.MaxLen):
            return f"at most {item.max_length:,} chars"
    if ge is not None and le is not None:
        return f"{ge}..{le}"
    parts = [f"{op} {v}" for op, v in ((">=", ge), (">", gt), ("<=", le)) if v is not None]
    return ", ".join(parts)


def describe_arguments(model: type[BaseModel]) -> list[ArgumentHelp]:
    """Every argument of an input model, in its order."""
    out = []
    for name, info in model.model_fields.items():
        bounds = _bounds_text(info)
        kind = _type_text(info.annotation) + (f" ({bounds})" if bounds else "")
        out.append(
            ArgumentHelp(
                name=name,
                option="--" + name.replace("_", "-"),
                kind=kind,
                required=info.is_required(),
                default=None if info.default is PydanticUndefined else info.default,
                description=" ".join((info.description or "").split()),
                flag=_is_flag(info),
                repeatable=_is_list(info),
            )
        )
    return out


def help_lines(model: type[BaseModel]) -> list[str]:
    """The arguments of an input model as plain text lines: the option (`--x/--no-x` for a
    flag), its type, whether it is required or its default, and its description."""
    lines = []
    for arg in describe_arguments(model):
        option = f"{arg.option}/--no-{arg.option[2:]}" if arg.flag else f"{arg.option} {arg.kind}"
        if arg.required:
            when = "required"
        elif arg.default is None:
            when = "optional"
        else:
            when = f"default {arg.default}"
        if arg.repeatable:
            when += "; repeat it or separate values with commas"
        lines.append(f"  {option}  [{when}]")
        lines += textwrap.wrap(
            arg.description, HELP_WIDTH, initial_indent=" " * 6, subsequent_indent=" " * 6
        )
    return lines


def tool_help(spec: Tool[Any, Any]) -> list[str]:
    """What a tool does (its description, as the model reads it) and the arguments it takes."""
    lines = textwrap.wrap(" ".join(spec.description.split()), width=HELP_WIDTH)
    lines += ["", "Arguments (--NAME VALUE, --NAME=VALUE or NAME=VALUE):"]
    return lines + (help_lines(spec.input_model) or ["  (none)"])


def split_words(text: str) -> list[str]:
    """A command line cut into words as a shell would (quotes group words)."""
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise BadInputError(f"cannot read the arguments: {exc}") from None


class _Reader:
    """Walks the words once, collecting values per field."""

    def __init__(self, model: type[BaseModel], words: Sequence[str]):
        self.fields = model.model_fields
        self.words = list(words)
        self.args: dict[str, Any] = {}
        self.at = 0

    def read(self) -> dict[str, Any]:
        while self.at < len(self.words):
            word = self.words[self.at]
            self.at += 1
            if word.startswith("--") and len(word) > 2:
                self._option(word)
            elif match := _NAME_VALUE.match(word):
                self._set(self._field(match.group(1), match.group(1)), match.group(2))
            else:
                raise BadInputError(
                    f"unexpected word {word!r}; give arguments as --NAME VALUE or NAME=VALUE"
                )
        return self.args

    def _option(self, word: str) -> None:
        name, eq, inline = word[2:].partition("=")
        key = name.replace("-", "_")
        base = key.removeprefix("no_")
        negated = base != key and key not in self.fields and not eq
        if negated and base in self.fields and _is_flag(self.fields[base]):
            self._set(base, False)
            return
        key = self._field(key, word.partition("=")[0])
        if eq:
            self._set(key, inline)
        elif _is_flag(self.fields[key]):
            following = self.words[self.at] if self.at < len(self.words) else ""
            if following.lower() in _BOOL_WORDS:
                self.at += 1
                self._set(key, following)
            else:
                self._set(key, True)
        elif self.at < len(self.words) and not self.words[self.at].startswith("--"):
            self._set(key, self.words[self.at])
            self.at += 1
        else:
            raise BadInputError(f"argument '{key}' needs a value ({word} VALUE or {word}=VALUE)")

    def _field(self, key: str, shown: str) -> str:
        key = key.replace("-", "_")
        if key not in self.fields:
            known = ", ".join(self.fields) or "no arguments"
            raise BadInputError(f"unknown argument {shown}; this tool takes {known}")
        return key

    def _set(self, key: str, value: Any) -> None:
        if _is_list(self.fields[key]):
            items = self.args.setdefault(key, [])
            items += [p.strip() for p in str(value).split(",") if p.strip()]
            return
        if key in self.args:
            raise BadInputError(f"argument '{key}' given twice")
        self.args[key] = value


def parse_arguments(model: type[BaseModel], words: Sequence[str]) -> dict[str, Any]:
    """The arguments in `words`, by field name, as given (text, `True`/`False` for a bare flag,
    a list for a list argument): `model.model_validate` converts and checks them."""
    return _Reader(model, words).read()
