"""One investigation as a job with its own folder in the workspace.

investigations/<id>/spec.json           what was asked
investigations/<id>/report.json|md      the report (written atomically)
investigations/<id>/evidence.jsonl      every tool call's evidence record
investigations/<id>/plots/              PNG plots named after their evidence ids
investigations/<id>/error.json          why the job stopped, when it failed
investigations/<id>/cancelled.json      where it stopped, when it was cancelled
investigations/<id>/checkpoints.sqlite  LangGraph checkpoints (resume with the id)
investigations/<id>/lock                the one process writing the folder

The job announces itself on the event stream (`investigation_started`, then finished, failed or
cancelled); `rootcause.investigate.handle` runs it in a thread for faces that watch and cancel.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from rootcause.core import jobs
from rootcause.core.disk import DiskFullError, is_disk_full, remove_dead_temps
from rootcause.core.errors import BadInputError, LocatedError, RootcauseError
from rootcause.core.report import Report
from rootcause.investigate.brain import Brain
from rootcause.investigate.cancel import CancelToken, JobCancelled
from rootcause.investigate.events import (
    EventSink,
    EventStream,
    InvestigationCancelled,
    InvestigationEvent,
    InvestigationFailed,
    InvestigationFinished,
    InvestigationStarted,
    PhaseStarted,
)
from rootcause.investigate.folder import (
    CHECKPOINTS,
    ERROR,
    REPORT_JSON,
    REPORT_MARKDOWN,
    SPEC,
    FolderLock,
    clear_status,
    record_cancelled,
)
from rootcause.investigate.llm.config import LLMOptions
from rootcause.investigate.memo import memo_module
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
from rootcause.store.ingest import IngestResult, ingest_run
from rootcause.store.options import IngestOptions
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace, guard_output
from rootcause.tools.context import ToolContext

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
    #: The module that defines (and registers) the brain's memo.
    memo: str


BRAINS: dict[str, BrainKind] = {
    "systematic": BrainKind(
        SystematicOptions, _systematic, "rootcause.investigate.systematic.memo"
    ),
    "llm": BrainKind(LLMOptions, _llm, "rootcause.investigate.llm.memo"),
}
for _name, _kind in BRAINS.items():
    memo_module(_name, _kind.memo)


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


@dataclass
class InvestigationRequest:
    """What to investigate and how: the arguments of `investigate`, as one value a face can
    build and hand to `start_investigation`.

    `options` configure the brain (its options model; the ones set are kept in the spec, so a
    resumed job runs with them too, `disabled_tools` included; on a resume, the ones set here
    replace the stored ones). An option the brain does not take is refused, given or stored.
    `api_key` goes to the brain and is never written anywhere. `ingest_options` left unset are
    those of the run's earlier ingest. `outputs` are files the caller will write afterwards
    (option name -> path); they are refused before the investigation starts if they lie inside
    the run folder or its config repo."""

    run: Path | None = None
    symptom: str | None = None
    behavior: str | None = None
    brain: str | Brain = "systematic"
    resume: str | None = None
    run_format: str = "auto"
    options: BrainOptions | None = None
    api_key: str | None = field(default=None, repr=False)
    ingest_options: IngestOptions | None = None
    outputs: Mapping[str, Path] | None = None


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
    cancel: CancelToken | None = None,
) -> Outcome:
    """Run (or resume) an investigation and return its report (see `InvestigationRequest`
    for the arguments and `run_investigation` for the rest)."""
    request = InvestigationRequest(
        run=run,
        symptom=symptom,
        behavior=behavior,
        brain=brain,
        resume=resume,
        run_format=run_format,
        options=options,
        api_key=api_key,
        ingest_options=ingest_options,
        outputs=outputs,
    )
    return run_investigation(workspace, request, on_event, cancel)


def run_investigation(
    workspace: Workspace,
    request: InvestigationRequest,
    on_event: EventSink | None = None,
    cancel: jobs.CancelToken | None = None,
) -> Outcome:
    """Run (or resume) the investigation `request` asks for, in this thread.

    `on_event` receives the typed event stream; `cancel` stops the job between steps, tool
    calls and model turns (`JobCancelled`). Once the job has its folder, a failure is recorded
    there as `error.json` and a cancel (or Ctrl-C) as `cancelled.json`; one process at a time
    may write a folder (`FolderBusyError`)."""
    stream = EventStream(on_event)
    try:
        spec, the_brain, ingested = _prepare(workspace, request)
        # Whatever token was given, the job checks one that raises `JobCancelled`.
        token = cancel if isinstance(cancel, CancelToken) else CancelToken(cancel)
        return _run_in_folder(workspace, spec, the_brain, ingested, stream, token)
    except JobCancelled:
        raise
    except Exception as exc:
        resumable = bool(getattr(exc, "resumable", False))
        stream(InvestigationFailed(error=type(exc).__name__, message=str(exc), resumable=resumable))
        raise


def _prepare(
    workspace: Workspace, request: InvestigationRequest
) -> tuple[InvestigationSpec, Brain, IngestResult]:
    """The spec (new, or stored and updated for a resume), the brain and the ingested run."""
    r = request
    if r.resume is not None:
        spec = load_spec(workspace, r.resume)
        try:
            stored = parse_options(_model_of(r.brain, spec.brain), spec.brain, spec.options)
        except BadInputError as exc:  # a stored option the brain does not take
            where = workspace.investigations_dir / r.resume / SPEC
            raise LocatedError(str(exc), where) from None
        chosen = override(stored, r.options, spec.brain)
    else:
        if r.run is None or not r.symptom:
            raise BadInputError("investigate needs a run and a --symptom")
        name = r.brain if isinstance(r.brain, str) else r.brain.name
        chosen = override(_model_of(r.brain, name)(), r.options, name)
        spec = InvestigationSpec(
            id="pending",
            run=str(r.run.expanduser().resolve()),
            run_format=r.run_format,
            symptom=r.symptom,
            behavior=r.behavior,
            brain=name,
            created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        )
    spec.options = stored_form(chosen)
    the_brain = r.brain if isinstance(r.brain, Brain) else make_brain(spec.brain, chosen, r.api_key)
    ingested = ingest_run(Path(spec.run), workspace, fmt=spec.run_format, options=r.ingest_options)
    _guard_outputs(ingested, r.outputs or {})
    if r.resume is None:
        spec.id = new_id(ingested.source.run_id)
    return spec, the_brain, ingested


def _model_of(brain: str | Brain, name: str) -> type[BrainOptions]:
    """The options model of the brain that runs; a brain passed as an object under a name of
    its own takes the common options only."""
    if isinstance(brain, Brain) and name not in BRAINS:
        return BrainOptions
    return options_model(name)


def _run_in_folder(
    workspace: Workspace,
    spec: InvestigationSpec,
    the_brain: Brain,
    ingested: IngestResult,
    stream: EventStream,
    cancel: CancelToken,
) -> Outcome:
    """Run the protocol in the investigation's folder, holding its lock."""
    folder = workspace.ensure(workspace.investigations_dir / spec.id)
    stream.investigation = spec.id
    resumed = (folder / SPEC).exists()
    with FolderLock(folder):
        remove_dead_temps(folder)  # left by an attempt that was killed or ran out of disk
        if not resumed:
            write_atomic(folder / SPEC, spec.model_dump_json(indent=2) + "\n")
        clear_status(folder)  # how an earlier attempt ended
        stream(InvestigationStarted(run=spec.run, folder=str(folder), resumed=resumed, spec=spec))
        phase = _PhaseTracker()
        stream.subscribe(phase)
        try:
            _run_protocol(the_brain, spec, ingested, folder, stream, cancel, resumed)
        except (JobCancelled, KeyboardInterrupt) as exc:
            record_cancelled(folder, spec.id, phase.last)
            stream(InvestigationCancelled(phase=phase.last, resume=spec.id))
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise JobCancelled(spec.id, phase.last) from None
        except Exception as exc:
            if not is_disk_full(exc):
                _record_error(folder, exc, spec.id)
                raise
            full = DiskFullError(folder, resume=spec.id)
            _record_error(folder, full, spec.id)
            raise full from exc
    report = Report.model_validate_json((folder / REPORT_JSON).read_text())
    outcome = Outcome(folder, report, folder / REPORT_JSON, folder / REPORT_MARKDOWN)
    stream(
        InvestigationFinished(
            verdict=report.verdict,
            summary=report.summary,
            findings=report.findings,
            stats=report.stats,
            report_json=str(outcome.json_path),
            report_markdown=str(outcome.markdown_path),
        )
    )
    return outcome


class _PhaseTracker:
    """The last step the protocol started: where a cancelled job stopped."""

    def __init__(self) -> None:
        self.last = "characterise"

    def __call__(self, event: InvestigationEvent) -> None:
        if isinstance(event, PhaseStarted):
            self.last = event.phase


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
    on_event: EventSink,
    cancel: CancelToken,
    resumed: bool,
) -> None:
    checkpoints = checkpoint_path(folder)
    with RunStore(ingested.db_path) as store, ToolContext(store, folder) as ctx:

        def finish(state: InvestigationState) -> None:
            report = build_report(state, ingested.source.run_id, folder)
            write_report(report, folder)
            lines = b"".join(
                orjson.dumps(e.model_dump(mode="json")) + b"\n" for e in state.evidence
            )
            write_atomic(folder / "evidence.jsonl", lines.decode())

        disabled = [str(t) for t in spec.options.get("disabled_tools", [])]
        protocol = Protocol(the_brain, ctx, checkpoints, finish, on_event, disabled, cancel)
        fresh = not resumed or Protocol.saved_state(checkpoints, spec.id) is None
        initial = InvestigationState(spec=spec) if fresh else None
        protocol.run(spec.id, initial)


def checkpoint_path(folder: Path) -> Path:
    """The investigation's own checkpoint file; an investigation begun before each had its own
    resumes from the workspace's shared file if its state is there."""
    own, shared = folder / CHECKPOINTS, folder.parent / CHECKPOINTS
    if not own.exists() and Protocol.saved_state(shared, folder.name) is not None:
        return shared
    return own


def load_spec(workspace: Workspace, investigation_id: str) -> InvestigationSpec:
    path = workspace.investigations_dir / investigation_id / SPEC
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
    if not isinstance(exc, RootcauseError):
        payload["traceback"] = "".join(traceback.format_exception(exc))
    try:
        write_atomic(folder / ERROR, json.dumps(payload, indent=2) + "\n")
    except RootcauseError as write_error:  # never hide the job's own error behind this one
        logger.warning("%s", write_error)
