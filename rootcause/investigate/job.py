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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from rootcause.core.errors import BadInputError, LocatedError, RootcauseError
from rootcause.core.report import Report
from rootcause.investigate.brain import Brain
from rootcause.investigate.llm.config import LLMOptions
from rootcause.investigate.options import (
    BrainOptions,
    SystematicOptions,
    override,
    parse_options,
    stored_form,
)
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


def _systematic(options: BrainOptions, api_key: str | None) -> Brain:
    from rootcause.investigate.systematic import SystematicBrain

    return SystematicBrain()


def _llm(options: BrainOptions, api_key: str | None) -> Brain:
    from rootcause.investigate.llm import LLMBrain

    assert isinstance(options, LLMOptions)
    return LLMBrain(options, api_key).connect()


@dataclass(frozen=True)
class BrainKind:
    """A brain by name: the model of its options and how to build one from them and an API
    key that is never stored."""

    options: type[BrainOptions]
    build: Callable[[BrainOptions, str | None], Brain]


BRAINS: dict[str, BrainKind] = {
    "systematic": BrainKind(SystematicOptions, _systematic),
    "llm": BrainKind(LLMOptions, _llm),
}


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


def options_model(name: str) -> type[BrainOptions]:
    """The options model of the brain called `name`."""
    if name not in BRAINS:
        raise BadInputError(f"unknown brain {name!r}; choose one of {', '.join(BRAINS)}")
    return BRAINS[name].options


def make_brain(name: str, options: BrainOptions | None = None, api_key: str | None = None) -> Brain:
    model = options_model(name)
    return BRAINS[name].build(override(model(), options, name), api_key)


def investigate(
    workspace: Workspace,
    run: Path | None = None,
    symptom: str | None = None,
    behavior: str | None = None,
    brain: str | Brain = "systematic",
    resume: str | None = None,
    run_format: str = "auto",
    on_event: EventSink | None = None,
    options: BrainOptions | None = None,
    api_key: str | None = None,
    ingest_options: IngestOptions | None = None,
    outputs: Mapping[str, Path] | None = None,
) -> Outcome:
    """Run (or resume) an investigation and return its report.

    `options` configure the brain (its options model; the ones set are kept in the spec, so a
    resumed job runs with them too, `disabled_tools` included; on a resume, the ones set here
    replace the stored ones). An option the brain does not take is refused, given or stored.
    `api_key` goes to the brain and is never written anywhere. `ingest_options` left unset are
    those of the run's earlier ingest. `outputs` are files the caller will write afterwards
    (option name -> path); they are refused before the investigation starts if they lie inside
    the run folder or its config repo.

    Once the job has its folder, any failure is recorded there as `error.json`."""
    if resume is not None:
        spec = load_spec(workspace, resume)
        try:
            stored = parse_options(_model_of(brain, spec.brain), spec.brain, spec.options)
        except BadInputError as exc:  # a stored option the brain does not take
            where = workspace.investigations_dir / resume / "spec.json"
            raise LocatedError(str(exc), where) from None
        chosen = override(stored, options, spec.brain)
    else:
        if run is None or not symptom:
            raise BadInputError("investigate needs a run and a --symptom")
        name = brain if isinstance(brain, str) else brain.name
        chosen = override(_model_of(brain, name)(), options, name)
        spec = InvestigationSpec(
            id="pending",
            run=str(run.expanduser().resolve()),
            run_format=run_format,
            symptom=symptom,
            behavior=behavior,
            brain=name,
            created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        )
    spec.options = stored_form(chosen)
    the_brain = brain if isinstance(brain, Brain) else make_brain(spec.brain, chosen, api_key)
    ingested = ingest_run(Path(spec.run), workspace, fmt=spec.run_format, options=ingest_options)
    _guard_outputs(ingested, outputs or {})
    if resume is None:
        spec.id = new_id(ingested.source.run_id)
    folder = workspace.ensure(workspace.investigations_dir / spec.id)
    if resume is None:
        write_atomic(folder / "spec.json", spec.model_dump_json(indent=2) + "\n")
    try:
        _run_protocol(the_brain, spec, chosen, ingested, folder, workspace, on_event, resume)
    except (Exception, KeyboardInterrupt) as exc:
        _record_error(folder, exc, spec.id)
        raise
    (folder / "error.json").unlink(missing_ok=True)  # from an earlier attempt, now resumed
    report = Report.model_validate_json((folder / "report.json").read_text())
    return Outcome(folder, report, folder / "report.json", folder / "report.md")


def _model_of(brain: str | Brain, name: str) -> type[BrainOptions]:
    """The options model of the brain that runs; a brain passed as an object under a name of
    its own takes the common options only."""
    if isinstance(brain, Brain) and name not in BRAINS:
        return BrainOptions
    return options_model(name)


def _guard_outputs(ingested: IngestResult, outputs: Mapping[str, Path]) -> None:
    source = ingested.source
    run_folder = source.root if source.root.is_dir() else source.root.parent
    for option, path in outputs.items():
        guard_output(path, [run_folder, source.config_repo], option)


def _run_protocol(
    the_brain: Brain,
    spec: InvestigationSpec,
    options: BrainOptions,
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

        protocol = Protocol(the_brain, ctx, checkpoints, finish, on_event, options.disabled_tools)
        initial = None if resume is not None else InvestigationState(spec=spec)
        if resume is not None and Protocol.saved_state(checkpoints, spec.id) is None:
            initial = InvestigationState(spec=spec)
        protocol.run(spec.id, initial)


def load_spec(workspace: Workspace, investigation_id: str) -> InvestigationSpec:
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
