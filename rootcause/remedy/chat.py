"""`/fix` and `/filter` in a chat session: the remedy's chat commands, whole (name, usage,
arguments, completion, handler), registered when this module is imported.

The chat engine lives below the remedy (`chat/` does not import `remedy/`), so a face that
offers them imports this module. Each runs in the worker that submitted the command (the
re-simulation of a fix takes seconds) and ends in one block: the fix's Markdown, or the
filter's counts and where it wrote. Bad input raises `BadInputError`, which the engine shows
as a one-line error block.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rootcause.chat.command import (
    Argument,
    ChatCommand,
    SlashCommand,
    chat_command,
    command_words,
)
from rootcause.chat.completion import BEHAVIOR_PREFIXES
from rootcause.chat.entries import RemedyResult, Working
from rootcause.chat.names import RunNames
from rootcause.core.errors import BadInputError
from rootcause.core.run import SLICE_FIELDS

if TYPE_CHECKING:
    from rootcause.chat.engine import ChatEngine
    from rootcause.remedy.filter import FilterResult

FORMATS = ("parquet", "jsonl")


def _path(value: str) -> Path:
    return Path(value).expanduser()


def run_fix(engine: ChatEngine, command: SlashCommand) -> None:
    """`/fix [INVESTIGATION_ID] [out=DIR] [key=PATH]`: the fix of an investigation's top
    finding (default: the session's latest investigation that found a cause), verified on a
    lab run with its answer key PATH (default: key.json beside the run folder)."""
    from rootcause.remedy.fix import FixRequest, write_fix

    words = command_words(command)
    if len(words.bare) > 1:
        raise BadInputError(
            "/fix takes one investigation id: /fix [INVESTIGATION_ID] [out=DIR] [key=PATH]"
        )
    if words.bare:
        investigation = words.bare[0]
    elif engine.causes:
        investigation = engine.causes[-1]
    else:
        raise BadInputError(
            "no investigation of this session has found a cause yet; "
            "/fix INVESTIGATION_ID fixes another one"
        )
    out, key = words.one("out"), words.one("key")
    request = FixRequest(
        investigation=investigation,
        out=_path(out) if out else None,
        lab_key=_path(key) if key else None,
    )
    engine.emit(Working(f"/fix {investigation}: the patch, the filter and the re-simulation"))
    result = write_fix(engine.workspace, request)
    engine.emit(RemedyResult(command="fix", text=result.markdown()))


def run_filter(engine: ChatEngine, command: SlashCommand) -> None:
    """`/filter behavior=SPEC out=DIR [format=parquet|jsonl] [slice=FIELD=VALUE ...]`: the
    session's run without the behaviour's hits."""
    from rootcause.remedy.filter import FilterRequest, filter_samples

    usage = "/filter behavior=SPEC out=DIR [format=parquet|jsonl] [slice=FIELD=VALUE]"
    words = command_words(command)
    if words.bare:
        raise BadInputError(f"/filter takes ARG=VALUE words, not {words.bare[0]!r}: {usage}")
    behavior, out = words.one("behavior"), words.one("out")
    if not behavior or not out:
        missing = "behavior=" if not behavior else "out="
        raise BadInputError(f"/filter needs {missing}: {usage}")
    fmt = words.one("format") or "parquet"
    if fmt not in FORMATS:
        raise BadInputError(f"format={fmt}: write parquet or jsonl")
    slices: dict[str, str] = {}
    for given in words.values.get("slice", []):
        field, eq, level = given.partition("=")
        if not eq or field not in SLICE_FIELDS or not level:
            fields = ", ".join(SLICE_FIELDS)
            raise BadInputError(
                f"slice={given}: write slice=FIELD=VALUE with FIELD one of {fields}"
            )
        slices[field] = level
    request = FilterRequest(
        run=Path(engine.chat.meta.run),
        behavior=behavior,
        out=_path(out),
        format=fmt,
        slices=slices,
        run_format=engine.settings.run_format,
    )
    engine.emit(Working(f"/filter {behavior}"))
    result = filter_samples(engine.workspace, request)
    engine.emit(RemedyResult(command="filter", text=filter_markdown(result)))


def filter_markdown(result: FilterResult) -> str:
    """The filter's block: what it kept and removed, by persona, and where it wrote."""
    m = result.manifest
    where = ", ".join(f"{k}={v}" for k, v in m.slices.items())
    lines = [
        "## Filtered samples",
        "",
        f"Detector `{m.detector}`" + (f" on {where}" if where else "") + ": "
        f"kept {m.kept:,} of {m.samples_in_scope:,} samples, removed {m.removed:,}.",
        "",
    ]
    removed = [c for c in m.by_persona if c.removed]
    if removed:
        lines += ["| persona | kept | removed |", "| --- | ---: | ---: |"]
        lines += [f"| {c.level} | {c.kept:,} | {c.removed:,} |" for c in removed]
        lines.append("")
    lines += [f"- samples: `{result.data_path}`", f"- manifest: `{result.manifest_path}`"]
    return "\n".join(lines)


def _investigations(names: RunNames, typed: str, before: list[str]) -> list[tuple[str, str]]:
    if any("=" not in w for w in before):
        return []  # the investigation is given already
    return [(i, "investigation with a cause") for i in names.investigations]


def _behaviour_prefixes(names: RunNames, typed: str, before: list[str]) -> list[tuple[str, str]]:
    return [(p, "behaviour spec") for p in BEHAVIOR_PREFIXES]


def _formats(names: RunNames, typed: str, before: list[str]) -> list[tuple[str, str]]:
    return [(f, "") for f in FORMATS]


def _slices(names: RunNames, typed: str, before: list[str]) -> list[tuple[str, str]]:
    """`FIELD=` while the field is typed, then `FIELD=VALUE` for the run's values."""
    field, eq, _ = typed.partition("=")
    if not eq:
        return [(f"{f}=", "slice field") for f in SLICE_FIELDS]
    return [(f"{field}={v}", field) for v in names.level(field)]


FIX = chat_command(
    ChatCommand(
        "fix",
        "/fix [INVESTIGATION_ID] [out=DIR] [key=PATH]",
        "Write the fix of an investigation's top finding (default: the session's latest "
        "with a cause): a config patch, the filtered samples and, on lab runs, the "
        "re-simulation with the answer key PATH (default DIR: fix/ in the investigation's "
        "folder, in the workspace).",
        run_fix,
        arguments=(
            Argument("out", "the output folder (default: fix/ in the investigation's folder)"),
            Argument(
                "key",
                "a lab run's answer key, to verify the fix (default: key.json beside the run)",
            ),
        ),
        bare=_investigations,
        rank=60,
    )
)
FILTER = chat_command(
    ChatCommand(
        "filter",
        "/filter behavior=SPEC out=DIR [format=parquet|jsonl] [slice=FIELD=VALUE]",
        "Write the run's samples without the behaviour's hits (SFT data) and a manifest "
        "of what was removed where; slice= (repeatable) keeps to one persona, source, "
        "env or split.",
        run_filter,
        arguments=(
            Argument(
                "behavior",
                "the behaviour spec whose hits are removed (terms:, regex:, words:)",
                _behaviour_prefixes,
            ),
            Argument("out", "the output folder"),
            Argument("format", "parquet (default) or jsonl", _formats),
            Argument(
                "slice",
                "FIELD=VALUE: only samples of one persona, data_source, env or split",
                _slices,
                repeats=True,
            ),
        ),
        rank=61,
    )
)
