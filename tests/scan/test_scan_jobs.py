"""A scan as a job of the seam: its typed events (and `--events PATH`), cancel, and resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rootcause.core.jobs import CancelToken
from rootcause.scan import (
    CheckOptions,
    ScanCancelledError,
    ScanRequest,
    parse_scan_event,
    scan_resume,
    start_scan,
)
from rootcause.scan.events import (
    RunFinished,
    RunStarted,
    ScanAlert,
    ScanCancelled,
    ScanEvent,
    ScanFinished,
    ScanStarted,
)
from rootcause.scan.folder import ALERTS_JSON, RUNS
from tests.scan.conftest import Fleet

COT_ONLY = CheckOptions(checks=["cot_exposure"])


def _read_events(path: Path) -> list[ScanEvent]:
    lines = path.read_text().splitlines()
    assert lines and all(line.strip() for line in lines)
    return [parse_scan_event(line) for line in lines]


def test_cli_scan_writes_its_events(cli, fleet: Fleet, tmp_path: Path) -> None:
    out, events_path = tmp_path / "scan", tmp_path / "deep" / "events.jsonl"
    result = cli(
        "scan", str(fleet.cot.run), str(fleet.clean.run), "--check", "cot_exposure",
        "--workers", "1", "--rescan", "--out", str(out), "--events", str(events_path),
        workspace=fleet.workspace.root,
    )  # fmt: skip
    assert result.code == 0, result.err
    events = _read_events(events_path)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert {e.scan for e in events} == {str(out.resolve())}
    started, finished = events[0], events[-1]
    assert isinstance(started, ScanStarted) and isinstance(finished, ScanFinished)
    assert (started.runs, started.reused, started.resumed) == (2, 0, False)
    assert started.spec.options.checks == ["cot_exposure"]
    # Each run: started, its alert rows, then finished; the alerts are the table's rows.
    runs = [str(fleet.cot.run), str(fleet.clean.run)]
    assert [e.run for e in events if isinstance(e, RunStarted)] == runs
    done = [e for e in events if isinstance(e, RunFinished)]
    assert [(e.run, e.done, e.total, e.status, e.reused) for e in done] == [
        (runs[0], 1, 2, "ok", False),
        (runs[1], 2, 2, "ok", False),
    ]
    assert done[-1].alerts_total == finished.summary.alerts >= 1
    alerts = [e.alert.model_dump(mode="json") for e in events if isinstance(e, ScanAlert)]
    assert alerts == json.loads((out / ALERTS_JSON).read_text())
    assert "result" not in json.loads(events_path.read_text().splitlines()[2 + len(alerts)])
    assert finished.alerts_json == str(out.resolve() / ALERTS_JSON)


def test_cancelled_scan_keeps_its_finished_runs_and_resumes(fleet: Fleet, tmp_path: Path) -> None:
    out = tmp_path / "cancelled"
    runs = [str(fleet.cot.run), str(fleet.clean.run)]
    request = ScanRequest(
        runs=runs, workspace=fleet.workspace, options=COT_ONLY, out=out, workers=1, reuse=False
    )

    token = CancelToken()

    def cancel_when_first_run_starts(event: ScanEvent) -> None:
        if isinstance(event, RunStarted):
            token.cancel()  # subscribed before the job starts: no run can slip past it

    job = start_scan(request, cancel_when_first_run_starts, cancel=token)
    with pytest.raises(ScanCancelledError) as cancelled:
        job.wait()
    assert f"--resume {out.resolve()}" in str(cancelled.value)
    events = list(job.events())
    # The run under way when the cancel came finished and was kept; no other was started.
    assert [e.run for e in events if isinstance(e, RunStarted)] == runs[:1]
    last = events[-1]
    assert isinstance(last, ScanCancelled)
    assert (last.done, last.total, last.resume) == (1, 2, str(out.resolve()))
    assert len(list((out / RUNS).glob("*.json"))) == 1 and not (out / ALERTS_JSON).exists()
    assert not (out / "lock").exists()

    resumed = scan_resume(out, workers=1)
    # The kept run is reused (the other may be too, from the workspace's cache).
    assert resumed.summary.runs == 2 and resumed.summary.reused >= 1
    assert resumed.summary.errors == 0 and (out / ALERTS_JSON).exists()


def test_job_started_after_the_fact_replays_every_event(fleet: Fleet, tmp_path: Path) -> None:
    request = ScanRequest(
        runs=[str(fleet.cot.run)], workspace=fleet.workspace, options=COT_ONLY,
        out=tmp_path / "one", workers=1,
    )  # fmt: skip
    job = start_scan(request)
    result = job.wait()
    seen: list[ScanEvent] = []
    job.subscribe(seen.append)
    assert seen == list(job.events()) and isinstance(seen[-1], ScanFinished)
    assert seen[-1].summary == result.summary


@pytest.mark.parametrize("where", ["a-file/events.jsonl", "a-folder"])
def test_cli_scan_bad_events_path_is_one_line(
    cli, fleet: Fleet, tmp_path: Path, where: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    (tmp_path / "a-folder").mkdir()
    out = tmp_path / "never"
    result = cli(
        "scan", str(fleet.cot.run), "--check", "cot_exposure", "--workers", "1",
        "--out", str(out), "--events", str(tmp_path / where), workspace=fleet.workspace.root,
    )  # fmt: skip
    assert result.code == 2, result.err
    (line,) = result.err.strip().splitlines()
    assert line.startswith("error: --events ") and "Traceback" not in result.err
    assert not out.exists()
    inside = cli(
        "scan", str(fleet.cot.run), "--check", "cot_exposure",
        "--events", str(fleet.cot.run / "events.jsonl"), workspace=fleet.workspace.root,
    )  # fmt: skip
    assert inside.code == 2 and "only reads" in inside.err
