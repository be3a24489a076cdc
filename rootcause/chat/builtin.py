"""The session's own slash commands, each one `ChatCommand` registered here: `/investigate`,
`/resume`, `/detect`, `/diff`, `/report`, `/export`, `/help`, `/quit`; and the handler of every
registry tool's command (`call_registry_tool`). Each handler runs in the worker that
submitted the command and reports through `engine.emit`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rootcause.chat.command import ChatCommand, SlashCommand, chat_command, commands
from rootcause.chat.entries import Notice, ShowReport, Working
from rootcause.chat.export import export_session
from rootcause.chat.names import RunNames
from rootcause.chat.readings import offer_or_investigate
from rootcause.core.errors import BadInputError
from rootcause.tools.registry import parse_tool_words

if TYPE_CHECKING:
    from rootcause.chat.engine import ChatEngine

_ARGUMENT_WORD = re.compile(r"^(--[A-Za-z]|[A-Za-z][A-Za-z0-9_-]*=)")


def _argument_words(words: list[str]) -> bool:
    return any(_ARGUMENT_WORD.match(w) for w in words)


def tool_call(command: SlashCommand) -> tuple[str, dict[str, Any]]:
    """The registry tool a command calls and its arguments (as its words give them; the
    tool's input model checks them)."""
    spec = command.spec
    if spec.tool is None:
        raise BadInputError(f"/{command.name} does not call a tool")
    if spec.tool_arguments is not None:
        return spec.tool, spec.tool_arguments(command)
    return spec.tool, parse_tool_words(spec.tool, command.words)


def call_tool_command(engine: ChatEngine, command: SlashCommand) -> None:
    """`/TOOL ...`: the tool's call in the session, its block open."""
    tool, args = tool_call(command)
    engine.emit(Working(f"/{command.name}"))
    engine.call_tool(tool, args, asked=True)


def run_investigate(engine: ChatEngine, command: SlashCommand) -> None:
    """`/investigate SYMPTOM`: the investigation, or first a choice between the symptom's
    readings when it fits more than one behaviour (`chat.readings`)."""
    if not command.rest:
        raise BadInputError("/investigate needs a symptom: /investigate SYMPTOM")
    offer_or_investigate(engine, command.rest)


def run_resume(engine: ChatEngine, command: SlashCommand) -> None:
    """`/resume [ID]`: finish a cancelled or stopped investigation from its checkpoint."""
    from rootcause.investigate.job import InvestigationRequest

    if len(command.words) > 1:
        raise BadInputError("/resume takes one investigation id: /resume [INVESTIGATION_ID]")
    if command.words:
        ident = command.words[0]
    elif engine.cancelled:
        ident = engine.cancelled[-1]
    else:
        raise BadInputError(
            "no investigation of this session was cancelled; /resume ID finishes another"
        )
    if not (engine.workspace.investigations_dir / ident).is_dir():
        raise BadInputError(f"/resume {ident}: no such investigation in {engine.workspace.root}")
    s = engine.settings
    request = InvestigationRequest(
        resume=ident, brain=engine.brain(), options=s.options, api_key=s.api_key
    )
    engine.run_investigation(request)


def detect_arguments(command: SlashCommand) -> dict[str, Any]:
    """`/detect SYMPTOM` (plain words are the symptom) or `/detect behavior=SPEC ...`."""
    words = command.words
    if words and not _argument_words(words):
        return {"symptom": command.rest}
    return parse_tool_words("detect", words)


def diff_arguments(command: SlashCommand) -> dict[str, Any]:
    """`/diff A [B]`: commit A against its parent, or from A to B."""
    words = command.words
    if _argument_words(words):
        return parse_tool_words("config_diff", words)
    if not 1 <= len(words) <= 2:
        raise BadInputError("/diff takes one commit (against its parent) or two: /diff A [B]")
    return {"commit": words[0]} if len(words) == 1 else {"commit": words[1], "base": words[0]}


def run_report(engine: ChatEngine, command: SlashCommand) -> None:
    if engine.last_report is None or not engine.last_report.exists():
        raise BadInputError("no investigation has concluded in this session yet")
    engine.emit(ShowReport(engine.last_report))


def run_export(engine: ChatEngine, command: SlashCommand) -> None:
    target = Path(command.rest).expanduser() if command.rest else None
    source = engine.ingested.source
    protected = [source.root if source.root.is_dir() else source.root.parent]
    if source.config_repo is not None:
        protected.append(source.config_repo)
    path = export_session(engine.chat, list(engine.chat.entries()), target, protected)
    engine.emit(Notice(level="info", text=f"exported the session to {path}"))


def run_help(engine: ChatEngine, command: SlashCommand) -> None:
    from rootcause.chat.help import help_text

    engine.emit(Notice(level="help", text=help_text(command.rest or None, engine.keys)))


def run_quit(engine: ChatEngine, command: SlashCommand) -> None:
    """A face leaves on `/quit` itself (its `face_action`); an engine without one says how."""
    engine.emit(Notice(level="info", text="Ctrl+Q leaves the app"))


def _commits(names: RunNames, typed: str, before: list[str]) -> list[tuple[str, str]]:
    return list(names.commits)


def _command_names(names: RunNames, typed: str, before: list[str]) -> list[tuple[str, str]]:
    return [(c.name, c.summary) for c in commands().values()]


for _command in (
    ChatCommand(
        "investigate",
        "/investigate SYMPTOM",
        "Run the whole protocol on SYMPTOM with the configured brain (the systematic "
        "brain when no model is configured); hypotheses fill the board.",
        run_investigate,
    ),
    ChatCommand(
        "resume",
        "/resume [INVESTIGATION_ID]",
        "Finish an investigation that was cancelled or stopped, from its checkpoint "
        "(default: this session's last one cancelled).",
        run_resume,
    ),
    ChatCommand(
        "detect",
        "/detect SYMPTOM  or  /detect behavior=SPEC",
        "Propose a detector from a symptom in plain words (or preview a behaviour spec): "
        "rates, hits and near misses.",
        call_tool_command,
        tool="detect",
        tool_arguments=detect_arguments,
        notes=("With plain words and no ARG=VALUE, the words are the symptom.",),
    ),
    ChatCommand(
        "diff",
        "/diff A [B]",
        "What config commit A changed against its parent, or from A to B (a structural "
        "diff, and the step each went live).",
        call_tool_command,
        tool="config_diff",
        tool_arguments=diff_arguments,
        bare=_commits,
    ),
    ChatCommand(
        "report", "/report", "Show the last investigation's report (Report tab).", run_report
    ),
    ChatCommand(
        "export",
        "/export [PATH]",
        "Write the session as Markdown with its plots (default: the session's folder).",
        run_export,
        rank=80,
    ),
    ChatCommand(
        "help",
        "/help [COMMAND]",
        "The commands, or one command's arguments.",
        run_help,
        bare=_command_names,
        rank=90,
    ),
    ChatCommand(
        "quit",
        "/quit",
        "Leave (the session is kept; --resume ID reopens it).",
        run_quit,
        aliases=("exit", "q"),
        face_action="quit",
        rank=99,
    ),
):
    chat_command(_command)
