"""Slash commands: one per registry tool, with the arguments `rootcause tool` takes
(`/prevalence behavior=terms:goblin by=persona`), plus the session's own commands
(`/investigate`, `/detect`, `/diff`, `/report`, `/fix`, `/filter`, `/export`, `/help`, `/quit`).
`/fix` and `/filter` are the remedy's (`rootcause.remedy`, a layer above this one): a face
hands the engine their handlers; their names, usage and arguments are here, for help and
completion.

This module reads commands and says what they are; `completion.py` completes them and the
engine runs them. Nothing here loads a face.
"""

from __future__ import annotations

import difflib
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rootcause.core.errors import BadInputError
from rootcause.tools.arguments import split_words, tool_help
from rootcause.tools.registry import get_tool, load_all, parse_tool_words

#: Columns help text is wrapped to (an 80-column terminal, less the block's border).
HELP_WIDTH = 74
#: The shortest head of a tool's description kept in `/help` (shorter ones go on).
MIN_HEAD = 30
#: The widest name of a two-column help table; a longer one has its description below it.
NAME_COLUMN = 24

_NAME = re.compile(r"/([A-Za-z_][A-Za-z0-9_-]*)")
_ARGUMENT_WORD = re.compile(r"^(--[A-Za-z]|[A-Za-z][A-Za-z0-9_-]*=)")


@dataclass(frozen=True)
class CommandInfo:
    """A slash command as help and completion show it."""

    name: str
    usage: str
    summary: str
    #: The registry tool it calls, if it is one.
    tool: str | None = None


#: The fields a `/filter` slice may name.
SLICE_FIELDS = ("persona", "data_source", "env", "split")

#: The arguments of `/fix` and `/filter` (name, what it is), for help and completion.
REMEDY_ARGUMENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "fix": (
        ("out", "the output folder (default: fix/ in the investigation's folder)"),
        ("key", "a lab run's answer key, to verify the fix (default: key.json beside the run)"),
    ),
    "filter": (
        ("behavior", "the behaviour spec whose hits are removed (terms:, regex:, words:)"),
        ("out", "the output folder"),
        ("format", "parquet (default) or jsonl"),
        ("slice", "FIELD=VALUE: only samples of one persona, data_source, env or split"),
    ),
}

#: The session's own commands; every registry tool is a command too.
BUILTINS: dict[str, CommandInfo] = {
    c.name: c
    for c in (
        CommandInfo(
            "investigate",
            "/investigate SYMPTOM",
            "Run the whole protocol on SYMPTOM with the configured brain (the systematic "
            "brain when no model is configured); hypotheses fill the board.",
        ),
        CommandInfo(
            "resume",
            "/resume [INVESTIGATION_ID]",
            "Finish an investigation that was cancelled or stopped, from its checkpoint "
            "(default: this session's last one cancelled).",
        ),
        CommandInfo(
            "detect",
            "/detect SYMPTOM  or  /detect behavior=SPEC",
            "Propose a detector from a symptom in plain words (or preview a behaviour spec): "
            "rates, hits and near misses.",
            tool="detect",
        ),
        CommandInfo(
            "diff",
            "/diff A [B]",
            "What config commit A changed against its parent, or from A to B (a structural "
            "diff, and the step each went live).",
            tool="config_diff",
        ),
        CommandInfo("report", "/report", "Show the last investigation's report (Report tab)."),
        CommandInfo(
            "fix",
            "/fix [INVESTIGATION_ID] [out=DIR] [key=PATH]",
            "Write the fix of an investigation's top finding (default: the session's latest "
            "with a cause): a config patch, the filtered samples and, on lab runs, the "
            "re-simulation with the answer key PATH (default DIR: fix/ in the investigation's "
            "folder, in the workspace).",
        ),
        CommandInfo(
            "filter",
            "/filter behavior=SPEC out=DIR [format=parquet|jsonl] [slice=FIELD=VALUE]",
            "Write the run's samples without the behaviour's hits (SFT data) and a manifest "
            "of what was removed where; slice= (repeatable) keeps to one persona, source, "
            "env or split.",
        ),
        CommandInfo(
            "export",
            "/export [PATH]",
            "Write the session as Markdown with its plots (default: the session's folder).",
        ),
        CommandInfo("help", "/help [COMMAND]", "The commands, or one command's arguments."),
        CommandInfo("quit", "/quit", "Leave (the session is kept; --resume ID reopens it)."),
    )
}


def commands() -> dict[str, CommandInfo]:
    """Every slash command by name: the session's own, then one per registry tool."""
    found = dict(BUILTINS)
    for name, spec in sorted(load_all().items()):
        if name not in found:
            found[name] = CommandInfo(name, f"/{name} [ARG=VALUE ...]", spec.summary, tool=name)
    return found


@dataclass(frozen=True)
class SlashCommand:
    """A typed command: its name, its words (as a shell cuts them) and the raw text after
    the name."""

    name: str
    words: list[str]
    rest: str

    @property
    def info(self) -> CommandInfo:
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
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=1)
        maybe = f"; did you mean /{close[0]}?" if close else ""
        raise BadInputError(f"unknown command /{name}{maybe} (/help lists them)")
    rest = stripped[match.end() :].strip()
    return SlashCommand(name, split_words(rest) if rest else [], rest)


def _wrapped(text: str, indent: str = "", first: str | None = None) -> list[str]:
    """`text` wrapped to `HELP_WIDTH`, every line after the first under `indent`."""
    return textwrap.wrap(
        text,
        HELP_WIDTH,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [indent.rstrip()]


def _reflowed(lines: list[str]) -> list[str]:
    """Lines wrapped for another width: consecutive lines of one indent are one paragraph
    (an argument's `--NAME` line stays a line of its own)."""
    out: list[str] = []
    paragraph: list[str] = []
    indent = ""

    def flush() -> None:
        if paragraph:
            out.extend(_wrapped(" ".join(paragraph), indent))
            paragraph.clear()

    for line in lines:
        stripped = line.strip()
        own = line[: len(line) - len(stripped)]
        if not stripped or stripped.startswith("--") or own != indent:
            flush()
        indent = own
        if not stripped:
            out.append("")
        elif stripped.startswith("--"):
            out.extend(_wrapped(stripped, own + "    ", first=own))
        else:
            paragraph.append(stripped)
    flush()
    return out


def first_sentence(text: str, limit: int = 150) -> str:
    """The head of a description up to its first `:`, `;`, `?` or sentence end outside
    parentheses (a tool's is written for a model, and long); past `limit` characters it is
    cut at a word, with `…`."""
    depth = 0
    for at, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth or char not in ".:;?" or text[at + 1 : at + 2] not in (" ", ""):
            continue
        if char == "." and text[max(0, at - 3) : at] in ("e.g", "i.e"):
            continue
        if at >= MIN_HEAD:
            text = text[:at] + (char if char in ".?" else "")
            break
    if len(text) <= limit:
        return text
    return text[: text.rfind(" ", 0, limit)].rstrip(",;:") + "…"


def _table(rows: Sequence[tuple[str, str]]) -> list[str]:
    """Two columns: a name (padded to the longest up to `NAME_COLUMN`) and its description
    wrapped under the description column; a longer name puts its description on the next
    line."""
    width = min(max(len(name) for name, _ in rows), NAME_COLUMN) if rows else 0
    lines: list[str] = []
    under = " " * (width + 4)
    for name, what in rows:
        if len(name) > width:
            lines += [f"  {name}", *_wrapped(what, under)]
        else:
            lines += _wrapped(what, under, first=f"  {name:<{width}}  ")
    return lines


def _argument_words(words: list[str]) -> bool:
    return any(_ARGUMENT_WORD.match(w) for w in words)


def tool_call(command: SlashCommand) -> tuple[str, dict[str, Any]]:
    """The registry tool a command calls and its arguments (as words give them; the tool's
    input model checks them)."""
    info = command.info
    if info.tool is None:
        raise BadInputError(f"/{command.name} does not call a tool")
    words = command.words
    if command.name == "detect" and words and not _argument_words(words):
        return "detect", {"symptom": command.rest}
    if command.name == "diff" and not _argument_words(words):
        if not 1 <= len(words) <= 2:
            raise BadInputError("/diff takes one commit (against its parent) or two: /diff A [B]")
        if len(words) == 1:
            return "config_diff", {"commit": words[0]}
        return "config_diff", {"commit": words[1], "base": words[0]}
    return info.tool, parse_tool_words(info.tool, words)


def help_text(name: str | None = None, keys: Sequence[tuple[str, str]] = ()) -> str:
    """All commands (each usage on its line, its description under it), the tools, and the
    face's `keys` (keys, what they do) if given; or one command's usage (a tool's
    arguments). Lines are wrapped to `HELP_WIDTH` with their indent kept, so help reads
    in an 80-column terminal."""
    known = commands()
    if name:
        key = name.lstrip("/").replace("-", "_")
        if key not in known:
            raise BadInputError(f"/help {name}: no such command (/help lists them)")
        info = known[key]
        lines = [info.usage, ""]
        if info.tool is not None and key != "diff":
            lines += _reflowed(tool_help(get_tool(info.tool)))
        else:
            lines += _wrapped(info.summary)
        if key in REMEDY_ARGUMENTS:
            lines += ["", *(f"  {n}=  {what}" for n, what in REMEDY_ARGUMENTS[key])]
        if key == "detect":
            lines += ["", "With plain words and no ARG=VALUE, the words are the symptom."]
        return "\n".join(lines)
    lines = ["Session commands:"]
    for c in BUILTINS.values():
        lines += [f"  {c.usage}", *_wrapped(c.summary, "      ")]
    if keys:
        lines += ["", "Keys:", *_table(keys)]
    lines += [
        "",
        *_wrapped("Tools (/help NAME gives the whole description and the arguments):"),
    ]
    tools = [c for c in known.values() if c.name not in BUILTINS]
    lines += _table([(f"/{c.name}", first_sentence(c.summary)) for c in tools])
    lines += [
        "",
        *_wrapped(
            "Free text goes to the chat agent when a model is configured. Tab completes names "
            "and the run's components, personas, sources, envs and commits."
        ),
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class RemedyWords:
    """The words of `/fix` or `/filter`: bare words, and ARG=VALUE values by argument (an
    argument may repeat, as `slice=` does)."""

    bare: list[str]
    values: dict[str, list[str]]

    def one(self, name: str) -> str | None:
        """The value of an argument given at most once."""
        given = self.values.get(name, [])
        if len(given) > 1:
            raise BadInputError(f"{name}= is given {len(given)} times; give it once")
        return given[0] if given else None


def remedy_words(command: SlashCommand) -> RemedyWords:
    """Split the words of `/fix` or `/filter`; an argument it does not take is one line
    naming the ones it does."""
    known = [name for name, _ in REMEDY_ARGUMENTS[command.name]]
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
    return RemedyWords(bare, values)
