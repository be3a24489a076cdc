"""Investigations as jobs: started in a thread, watched, cancelled, resumed to the same report,
listed with their status; one writer per folder; Ctrl-C in the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from rootcause.investigate import (
    CancelToken,
    InvestigationRequest,
    JobCancelled,
    list_investigations,
    start_investigation,
)
from rootcause.investigate.events import (
    InvestigationCancelled,
    InvestigationEvent,
    InvestigationFailed,
    ToolCalled,
)
from rootcause.investigate.folder import FolderBusyError, FolderLock
from rootcause.investigate.job import investigate
from rootcause.investigate.state import InvestigationState
from rootcause.investigate.systematic import SystematicBrain
from rootcause.investigate.toolbox import Toolbox
from rootcause.store.workspace import Workspace
from tests.conftest import LabRun
from tests.investigate.conftest import Watched, comparable

#: Tool calls before the cancel (characterise makes about ten).
CANCEL_AFTER = 4


def test_cancel_resume_same_report_and_list(
    quirk_run: LabRun, systematic_whole: Watched, tmp_path: Path
) -> None:
    workspace = Workspace(quirk_run.workspace)  # the run is ingested there already
    token = CancelToken()
    calls: list[ToolCalled] = []

    def cancel_after_some_calls(event: InvestigationEvent) -> None:
        if isinstance(event, ToolCalled):
            calls.append(event)
            if len(calls) == CANCEL_AFTER:
                token.cancel()

    request = InvestigationRequest(run=quirk_run.run, symptom=quirk_run.key["symptom"])
    handle = start_investigation(workspace, request, cancel_after_some_calls, cancel=token)
    with pytest.raises(JobCancelled) as cancelled:
        handle.wait()
    events = list(handle.events())
    assert handle.done and isinstance(events[-1], InvestigationCancelled)
    investigation_id = handle.id
    assert investigation_id and cancelled.value.investigation == investigation_id
    assert f"--resume {investigation_id}" in str(cancelled.value)
    # The call that was under way finished; no other started.
    assert len(calls) == CANCEL_AFTER
    folder = workspace.investigations_dir / investigation_id
    stop = json.loads((folder / "cancelled.json").read_text())
    assert stop["phase"] == "characterise" and stop["resume"] == investigation_id
    assert not (folder / "report.json").exists() and not (folder / "lock").exists()
    (listed,) = [s for s in list_investigations(workspace) if s.id == investigation_id]
    assert (listed.status, listed.verdict) == ("cancelled", None)

    resumed = investigate(workspace, resume=investigation_id)
    assert comparable(resumed.report) == comparable(systematic_whole.outcome.report)
    assert not (folder / "cancelled.json").exists()
    (listed,) = [s for s in list_investigations(workspace) if s.id == investigation_id]
    assert (listed.status, listed.verdict) == ("finished", resumed.report.verdict)
    assert listed.symptom == quirk_run.key["symptom"] and listed.brain == "systematic"


class Broken(Exception):
    """A brain bug."""


class BrokenBrain(SystematicBrain):
    def characterise(self, box: Toolbox, state: InvestigationState) -> None:
        raise Broken("the brain broke")


class WaitingBrain(SystematicBrain):
    """Holds its first step until the test lets it go."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.go_on = threading.Event()

    def characterise(self, box: Toolbox, state: InvestigationState) -> None:
        self.entered.set()
        assert self.go_on.wait(60), "the test never let the brain go on"
        box.cancel.check()


def test_list_running_failed_and_one_writer(quirk_run: LabRun, tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    symptom = quirk_run.key["symptom"]
    failed: list[InvestigationEvent] = []
    with pytest.raises(Broken):
        investigate(
            workspace,
            run=quirk_run.run,
            symptom=symptom,
            brain=BrokenBrain(),
            on_event=failed.append,
        )
    assert isinstance(failed[-1], InvestigationFailed) and failed[-1].error == "Broken"

    brain = WaitingBrain()
    request = InvestigationRequest(run=quirk_run.run, symptom=symptom, brain=brain)
    handle = start_investigation(workspace, request)
    try:
        assert brain.entered.wait(60)
        statuses = {s.status: s for s in list_investigations(workspace)}
        assert set(statuses) == {"failed", "running"}
        assert statuses["failed"].error == "the brain broke"
        running = statuses["running"]
        assert running.id == handle.id and not handle.done
        # A second writer of the same folder is refused, naming the one that holds it.
        with pytest.raises(FolderBusyError, match=f"process {os.getpid()}"):
            investigate(workspace, resume=running.id)
    finally:
        handle.cancel()
        brain.go_on.set()
    with pytest.raises(JobCancelled):
        handle.wait()
    assert {s.status for s in list_investigations(workspace)} == {"failed", "cancelled"}


def test_folder_lock_is_released(tmp_path: Path) -> None:
    with FolderLock(tmp_path):
        assert (tmp_path / "lock").read_text().strip() == str(os.getpid())
        with pytest.raises(FolderBusyError):
            FolderLock(tmp_path).acquire()
    assert not (tmp_path / "lock").exists()
    with FolderLock(tmp_path):
        pass


#: The real CLI, with one gate for the test: the job stops at its third tool call until the
#: Ctrl-C has reached the command (its handle is cancelled), so the signal always lands
#: mid-job however loaded the machine is (a job that raced to its end made this test flaky).
CTRL_C_GATE = """
import signal, sys, threading
# A terminal delivers Ctrl-C; a test run started in the background (`make test &`) inherits
# SIGINT ignored, and Python then never raises KeyboardInterrupt. Take it back as a terminal has it.
signal.signal(signal.SIGINT, signal.default_int_handler)
from rootcause.cli.main import main
from rootcause.cli.progress import StderrProgress
from rootcause.investigate.events import ToolCalled
from rootcause.investigate.handle import InvestigationHandle

cancelled = threading.Event()
cancel, show = InvestigationHandle.cancel, StderrProgress.__call__

def cancel_and_open(self):
    cancel(self)
    cancelled.set()

def show_then_wait(self, event):
    show(self, event)
    if isinstance(event, ToolCalled) and event.evidence_id == "E3":
        self.console.file.flush()
        cancelled.wait(600)

InvestigationHandle.cancel = cancel_and_open
StderrProgress.__call__ = show_then_wait
main(sys.argv[1:])
"""


def test_ctrl_c_cancels_and_says_how_to_resume(quirk_run: LabRun) -> None:
    """The real CLI in a process of its own: SIGINT once the third tool call has begun."""
    workspace = quirk_run.workspace
    command = [
        sys.executable,
        "-c",
        CTRL_C_GATE,
        "--workspace",
        str(workspace),
        "investigate",
        str(quirk_run.run),
        "--symptom",
        quirk_run.key["symptom"],
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    with subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    ) as proc:
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("tool") and " E3 " in line:
                proc.send_signal(signal.SIGINT)
                break
        out, rest = proc.communicate(timeout=300)
    err = "".join(lines) + rest
    assert proc.returncode == 130, err
    assert "cancelling at the next step" in err
    (summary,) = [s for s in list_investigations(Workspace(workspace)) if f"--resume {s.id}" in err]
    assert summary.status == "cancelled" and "cancelled" in err
    assert "Traceback" not in err and out == ""


def test_evidence_ids_never_repeat(tmp_path: Path) -> None:
    from rootcause.core.evidence import Evidence
    from rootcause.tools.context import EvidenceLog

    log = EvidenceLog(tmp_path / "evidence.jsonl")
    for evidence_id in ("E1", "E3", "E2"):  # a gap and an order a count would get wrong
        log.add(Evidence(id=evidence_id, tool="overview", args={}))
    assert log.next_id() == "E4"
    assert EvidenceLog(tmp_path / "evidence.jsonl").next_id() == "E4"  # read back from disk
    assert EvidenceLog().next_id() == "E1"
