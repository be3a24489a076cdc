"""`/help`: the commands (each usage on its line, its description under it), the face's keys,
and the tools; or one command's usage and arguments. Lines are wrapped to `HELP_WIDTH` with
their indent kept, so help reads in an 80-column terminal."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rootcause.chat.command import ChatCommand, commands, session_commands
from rootcause.core.errors import BadInputError
from rootcause.tools.arguments import tool_help
from rootcause.tools.registry import get_tool

#: Columns help text is wrapped to (an 80-column terminal, less the block's border).
HELP_WIDTH = 74
#: The shortest head of a tool's description kept in `/help` (shorter ones go on).
MIN_HEAD = 30
#: The widest name of a two-column help table; a longer one has its description below it.
NAME_COLUMN = 24


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
        return "\n".join(_one_command(known[key]))
    session = session_commands()
    lines = ["Session commands:"]
    for c in session:
        lines += [f"  {c.usage}", *_wrapped(c.summary, "      ")]
    if keys:
        lines += ["", "Keys:", *_table(keys)]
    lines += [
        "",
        *_wrapped("Tools (/help NAME gives the whole description and the arguments):"),
    ]
    own = {c.name for c in session}
    tools = [c for c in known.values() if c.name not in own]
    lines += _table([(f"/{c.name}", first_sentence(c.summary)) for c in tools])
    lines += [
        "",
        *_wrapped(
            "Free text goes to the chat agent when a model is configured. Tab completes names "
            "and the run's components, personas, sources, envs and commits."
        ),
    ]
    return "\n".join(lines)


def _one_command(command: ChatCommand) -> list[str]:
    """A command's usage, then a tool's whole description and arguments (a command that
    reads its words itself, as `/diff` does, its summary), its ARG=VALUE arguments and
    notes."""
    lines = [command.usage, ""]
    if command.tool is not None and not command.bare:
        lines += _reflowed(tool_help(get_tool(command.tool)))
    else:
        lines += _wrapped(command.summary)
    if command.arguments:
        lines += ["", *(f"  {a.name}=  {a.what}" for a in command.arguments)]
    if command.notes:
        lines += ["", *command.notes]
    return lines
