"""`/fix` and `/filter` in a chat session: the remedy's handlers for the chat engine.

The engine lives below the remedy (`investigate/` does not import `remedy/`), so a face hands
these handlers to it (`ChatEngine(..., handlers=REMEDY_HANDLERS)`). Each runs in the worker
that submitted the command (the re-simulation of a fix takes seconds) and ends in one block:
the fix's Markdown, or the filter's counts and where it wrote. Bad input raises
`BadInputError`, which the engine shows as a one-line error block.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rootcause.chat.commands import SLICE_FIELDS, SlashCommand, remedy_words
from rootcause.chat.entries import RemedyResult, Working
from rootcause.core.errors import BadInputError

if TYPE_CHECKING:
    from rootcause.chat.engine import ChatEngine, CommandHandler
    from rootcause.remedy.filter import FilterResult

FORMATS = ("parquet", "jsonl")


def _path(value: str) -> Path:
    return Path(value).expanduser()


def run_fix(engine: ChatEngine, command: SlashCommand) -> None:
    """`/fix [INVESTIGATION_ID] [out=DIR] [key=PATH]`: the fix of an investigation's top
    finding (default: the session's latest investigation that found a cause), verified on a
    lab run with its answer key PATH (default: key.json beside the run folder)."""
    from rootcause.remedy.fix import FixRequest, write_fix

    words = remedy_words(command)
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
    words = remedy_words(command)
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


#: The handlers a face gives the chat engine.
REMEDY_HANDLERS: dict[str, CommandHandler] = {"fix": run_fix, "filter": run_filter}
