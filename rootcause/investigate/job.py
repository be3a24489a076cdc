"""One investigation as a job with its own folder in the workspace.

investigations/<id>/spec.json       what was asked
investigations/<id>/report.json|md  the report (written atomically)
investigations/<id>/evidence.jsonl  every tool call's evidence record
investigations/<id>/plots/          PNG plots named after their evidence ids
investigations/<id>/error.json      why the job stopped, when it failed
investigations/checkpoints.sqlite   LangGraph checkpoints (resume with the id)
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
import traceback
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from rootcause.core.errors import BadInputError, LocatedError, RootcauseError
from rootcause.core.report import Report
from rootcause.investigate.brain import Brain
from rootcause.investigate.protocol import Protocol
from rootcause.investigate.report import build_report, write_atomic, write_report
from rootcause.investigate.state import InvestigationSpec, InvestigationState
from rootcause.investigate.toolbox import EventSink
from rootcause.store.ingest import IngestResult, ingest_run
from rootcause.store.options import IngestOptions
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace, guard_output
from rootcause.tools.context import ToolContext

CHECKPOINTS = "checkpoints.sqlite"

logger = logging.getLogger(__name__)


def _systematic(options: dict[str, Any], api_key: str | None) -> Brain:
    from rootcause.investigate.systematic import SystematicBrain

    return SystematicBrain()


def _llm(options: dict[str, Any], api_key: str | None) -> Brain:
    from rootcause.investigate.llm import LLMBrain

    return LLMBrain(options, api_key).connect()


#: Brains by name; each entry builds one from the spec's options (plain data, no secrets) and
#: an API key that is never stored.
BrainFactory = Callable[[dict[str, Any], str | None], Brain]
BRAINS: dict[str, BrainFactory] = {"systematic": _systematic, "llm": _llm}


@dataclass
class Outcome:
    """A finished investigation: its folder, report, and where the files are."""

    folder: Path
    report: Report
    json_path: Path
    markdown_path: Path


def new_id(run_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", run_id).strip("-.")[:40] or "run"
    return f"{slug}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def make_brain(
    name: str, options: dict[str, Any] | None = None, api_key: str | None = None
) -> Brain:
    if name not in BRAINS:
        raise BadInputError(f"unknown brain {name!r}; choose one of {', '.join(BRAINS)}")
    return BRAINS[name](options or {}, api_key)


def investigate(
    workspace: Workspace,
    run: Path | None = None,
    symptom: str | None = None,
    behavior: str | None = None,
    brain: str | Brain = "systematic",
    resume: str | None = None,
    run_format: str = "auto",
    on_event: EventSink | None = None,
    disabled_tools: Collection[str] = (),
    options: dict[str, Any] | None = None,
    api_key: str | None = None,
    ingest_options: IngestOptions | None = None,
    outputs: Mapping[str, Path] | None = None,
) -> Outcome:
    """Run (or resume) an investigation and return its report.

    `disabled_tools` names tools the brain may not call (an ablation); they are kept in the
    spec's options, so a resumed job runs without them too. `options` configure the brain
    (plain data kept in the spec; on a resume, given ones override the stored ones); `api_key`
    goes to the brain and is never written anywhere. `ingest_options` left unset are those of
    the run's earlier ingest. `outputs` are files the caller will write afterwards (option
    name -> path); they are refused before the investigation starts if they lie inside the
    run folder or its config repo.

    Once the job has its folder, any failure is recorded there as `error.json`."""
    given = {k: v for k, v in (options or {}).items() if v is not None}
    if resume is not None:
        spec = _load_spec(workspace, resume)
        spec.options = {**spec.options, **given}
    else:
        if run is None or not symptom:
            raise BadInputError("investigate needs a run and a --symptom")
        spec = InvestigationSpec(
            id="pending",
            run=str(run.expanduser().resolve()),
            run_format=run_format,
            symptom=symptom,
            behavior=behavior,
            brain=brain if isinstance(brain, str) else brain.name,
            created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            options={"disabled_tools": sorted(set(disabled_tools))} if disabled_tools else {},
        )
        spec.options.update(given)
    the_brain = brain if isinstance(brain, Brain) else make_brain(spec.brain, spec.options, api_key)
    ingested = ingest_run(Path(spec.run), workspace, fmt=spec.run_format, options=ingest_options)
    _guard_outputs(ingested, outputs or {})
    if resume is None:
        spec.id = new_id(ingested.source.run_id)
    folder = workspace.ensure(workspace.investigations_dir / spec.id)
    if resume is None:
        write_atomic(folder / "spec.json", spec.model_dump_json(indent=2) + "\n")
    try:
        _run_protocol(the_brain, spec, ingested, folder, workspace, on_event, resume)
    except (Exception, KeyboardInterrupt) as exc:
        _record_error(folder, exc, spec.id)
        raise
    (folder / "error.json").unlink(missing_ok=True)  # from an earlier attempt, now resumed
    report = Report.model_validate_json((folder / "report.json").read_text())
    return Outcome(folder, report, folder / "report.json", folder / "report.md")


def _guard_outputs(ingested: IngestResult, outputs: Mapping[str, Path]) -> None:
    source = ingested.source
    run_folder = source.root if source.root.is_dir() else source.root.parent
    for option, path in outputs.items():
        guard_output(path, [run_folder, source.config_repo], option)


def _run_protocol(
    the_brain: Brain,
    spec: InvestigationSpec,
    ingested: IngestResult,
    folder: Path,
    workspace: Workspace,
    on_event: EventSink | None,
    resume: str | None,
) -> None:
    checkpoints = workspace.investigations_dir / CHECKPOINTS
    with RunStore(ingested.db_path) as store, ToolContext(store, folder) as ctx:

        def finish(state: InvestigationState) -> None:
            report = build_report(state, ingested.source.run_id, folder)
            write_report(report, folder)
            lines = b"".join(
                orjson.dumps(e.model_dump(mode="json")) + b"\n" for e in state.evidence
            )
            write_atomic(folder / "evidence.jsonl", lines.decode())

        disabled = [str(t) for t in spec.options.get("disabled_tools", [])]
        protocol = Protocol(the_brain, ctx, checkpoints, finish, on_event, disabled)
        initial = None if resume is not None else InvestigationState(spec=spec)
        if resume is not None and Protocol.saved_state(checkpoints, spec.id) is None:
            initial = InvestigationState(spec=spec)
        protocol.run(spec.id, initial)


def _load_spec(workspace: Workspace, investigation_id: str) -> InvestigationSpec:
    path = workspace.investigations_dir / investigation_id / "spec.json"
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", investigation_id) or not path.is_file():
        raise BadInputError(
            f"--resume {investigation_id}: no such investigation in {workspace.investigations_dir}"
        )
    return InvestigationSpec.model_validate_json(path.read_text())


def _record_error(folder: Path, exc: BaseException, investigation_id: str) -> None:
    """Why the job stopped, in `error.json`: the error's kind and message, its place when it
    names one, and the traceback when the error was not a deliberate one. An error marked
    `resumable` (the model server failed; the checkpoint of the last finished step is kept)
    gets the way to continue added to its one line."""
    payload: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, LocatedError):
        payload.update(path=exc.path, line=exc.line)
    if isinstance(exc, RootcauseError) and getattr(exc, "resumable", False):
        hint = f"the checkpoint is kept: continue with --resume {investigation_id}"
        exc.args = (f"{exc}; {hint}", *exc.args[1:])
        payload.update(message=str(exc), resume=investigation_id)
    if not isinstance(exc, RootcauseError | KeyboardInterrupt):
        payload["traceback"] = "".join(traceback.format_exception(exc))
    try:
        write_atomic(folder / "error.json", json.dumps(payload, indent=2) + "\n")
    except OSError as write_error:  # never hide the job's own error behind this one
        logger.warning("could not write %s: %s", folder / "error.json", write_error)
