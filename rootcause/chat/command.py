"""A slash command is one object (`ChatCommand`): its name, usage, summary, arguments (with
what completes their values), what completes its bare words, and its handler. Commands are
registered (`chat_command`) where they are built: the session's own in `builtin.py`, `/fix`
and `/filter` by the remedy (a layer above; a face that imports `rootcause.remedy.chat` has
them), and every registry tool is a command of its own (`commands()`). Help, completion and
the engine read the registry; nothing lists commands again.

This module reads what was typed (`parse_command`) and splits a command's ARG=VALUE words
(`command_words`). Nothing here loads a face.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rootcause.chat.names import RunNames
from rootcause.core.errors import BadInputError
from rootcause.tools.arguments import split_words
from rootcause.tools.registry import load_all

if TYPE_CHECKING:
    from rootcause.chat.engine import ChatEngine

_NAME = re.compile(r"/([A-Za-z_][A-Za-z0-9_-]*)")

#: Runs a command in the worker that submitted it; it emits its blocks through `engine.emit`
#: and raises `BadInputError` (one line) for words it cannot take.
CommandHandler = Callable[["ChatEngine", "SlashCommand"], None]
#: What a value (or a bare word) may be, given the run's names, what is typed of it so far and
#: the command's words before it: (value, what it is).
ValueSource = Callable[[RunNames, str, list[str]], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class Argument:
    """An ARG=VALUE a command takes (`out=DIR`), and what completes its value."""

    name: str
    what: str
    values: ValueSource | None = None
    #: Given more than once (`slice=` per field).
    repeats: bool = False


@dataclass(frozen=True)
class ChatCommand:
    """One slash command (see the module doc). `tool`: the registry tool it calls, whose
    input model gives its arguments; `bare`: what completes its words that are not
    ARG=VALUE; `aliases`: other names typed for it; `notes`: lines `/help NAME` adds."""

    name: str
    usage: str
    summary: str
    handler: CommandHandler
    tool: str | None = None
    arguments: tuple[Argument, ...] = ()
    bare: ValueSource | None = None
    aliases: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    #: Done by the face itself, at once, even while a turn runs (`/quit`).
    face_action: str | None = None
    #: Where `/help` lists it: lower first, ties in registration order.
    rank: int = 50
    #: The arguments of `tool` from the command's words, when they are not the tool's own
    #: ARG=VALUE words (`/diff A B`); None: `parse_tool_words`.
    tool_arguments: Callable[[SlashCommand], dict[str, Any]] | None = None


#: The registered commands in the order they were registered (help lists them so).
COMMANDS: dict[str, ChatCommand] = {}


def chat_command(command: ChatCommand) -> ChatCommand:
    """Register `command` (once: a second registration of its name is a bug)."""
    if command.name in COMMANDS and COMMANDS[command.name] is not command:
        raise ValueError(f"chat command /{command.name} is registered twice")
    COMMANDS[command.name] = command
    return command


def tool_command(name: str) -> ChatCommand:
    """A registry tool as a command: `/NAME ARG=VALUE ...`."""
    from rootcause.chat.builtin import call_tool_command

    return ChatCommand(
        name, f"/{name} [ARG=VALUE ...]", get_summary(name), call_tool_command, tool=name
    )


def get_summary(tool: str) -> str:
    return load_all()[tool].summary


def commands() -> dict[str, ChatCommand]:
    """Every slash command by name: the registered ones, then one per registry tool."""
    import rootcause.chat.builtin  # noqa: F401  (registers the session's own commands)

    found = dict(COMMANDS)
    for name in sorted(load_all()):
        if name not in found:
            found[name] = tool_command(name)
    return found


def session_commands() -> list[ChatCommand]:
    """The registered commands (not the tools), in registration order."""
    import rootcause.chat.builtin  # noqa: F401

    return sorted(COMMANDS.values(), key=lambda c: c.rank)


@dataclass(frozen=True)
class SlashCommand:
    """A typed command: its name, its words (as a shell cuts them) and the raw text after
    the name."""

    name: str
    words: list[str]
    rest: str

    @property
    def spec(self) -> ChatCommand:
        return commands()[self.name]


def is_command(text: str) -> bool:
    return text.lstrip().startswith("/")


def parse_command(text: str) -> SlashCommand:
    """The command in `text` (which starts with `/`); an unknown name or words that do not
    parse are one line saying what to type instead."""
    stripped = text.strip()
    match = _NAME.match(stripped)
    if match is None:
        raise BadInputError(f"{stripped.split()[0]!r} is not a command; /help lists them")
    name = match.group(1).replace("-", "_")
    known = commands()
    aliases = {alias: c.name for c in known.values() for alias in c.aliases}
    name = aliases.get(name, name)
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=1)
        maybe = f"; did you mean /{close[0]}?" if close else ""
        raise BadInputError(f"unknown command /{name}{maybe} (/help lists them)")
    rest = stripped[match.end() :].strip()
    return SlashCommand(name, split_words(rest) if rest else [], rest)


def face_action(text: str) -> str | None:
    """The face's own action for `text` (`quit` for `/quit`, `/exit`, `/q`), if it is one;
    read without loading the tools (a face asks before its engine is open)."""
    match = _NAME.match(text.strip())
    if match is None:
        return None
    import rootcause.chat.builtin  # noqa: F401

    name = match.group(1).replace("-", "_")
    found = [c for c in COMMANDS.values() if name == c.name or name in c.aliases]
    return found[0].face_action if found else None


@dataclass(frozen=True)
class CommandWords:
    """A command's words: bare words, and ARG=VALUE values by argument (an argument may
    repeat, as `slice=` does)."""

    bare: list[str]
    values: dict[str, list[str]]

    def one(self, name: str) -> str | None:
        """The value of an argument given at most once."""
        given = self.values.get(name, [])
        if len(given) > 1:
            raise BadInputError(f"{name}= is given {len(given)} times; give it once")
        return given[0] if given else None


def command_words(command: SlashCommand) -> CommandWords:
    """Split a command's words by its declared arguments; an argument it does not take is
    one line naming the ones it does."""
    known = [a.name for a in command.spec.arguments]
    bare: list[str] = []
    values: dict[str, list[str]] = {}
    for word in command.words:
        name, eq, value = word.partition("=")
        key = name.lstrip("-").replace("-", "_")
        if not eq:
            bare.append(word)
        elif key not in known:
            takes = ", ".join(f"{k}=" for k in known)
            raise BadInputError(f"/{command.name} takes no {key}= (it takes {takes})")
        else:
            values.setdefault(key, []).append(value)
    return CommandWords(bare, values)
