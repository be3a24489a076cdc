"""A lab run as a job of the seam: typed events, `--events` JSON Lines, and a cancel that keeps
nothing of the run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rootcause.core.jobs import CancelToken
from rootcause.lab.job import (
    LabCancelled,
    LabCancelledError,
    LabEvent,
    LabFinished,
    LabStarted,
    NewRunRequest,
    StepsSimulated,
    parse_lab_event,
    start_lab,
)
from tests.conftest import CliResult


def _request(tmp_path: Path) -> NewRunRequest:
    return NewRunRequest(
        "no_bug", 3, tmp_path / "run", tmp_path / "key.json", steps=30, groups=2, group_size=2
    )


def test_a_lab_job_tells_its_steps_and_its_result(tmp_path: Path) -> None:
    seen: list[LabEvent] = []
    result = start_lab(_request(tmp_path), on_event=seen.append).wait()
    assert isinstance(seen[0], LabStarted) and seen[0].kind == "new" and seen[0].bug == "no_bug"
    steps = [e for e in seen if isinstance(e, StepsSimulated)]
    assert steps and steps[-1].done == steps[-1].total == 30
    assert isinstance(seen[-1], LabFinished) and seen[-1].samples == result.samples == 30 * 2 * 2
    assert {e.run_dir for e in seen} == {str(result.run_dir)}


@pytest.mark.parametrize("existed", [False, True])
def test_a_cancelled_lab_run_keeps_nothing(tmp_path: Path, existed: bool) -> None:
    request = _request(tmp_path)
    if existed:
        request.out_dir.mkdir()
    cancel = CancelToken()
    cancel.cancel()
    seen: list[LabEvent] = []
    with pytest.raises(LabCancelledError):
        start_lab(request, on_event=seen.append, cancel=cancel).wait()
    assert isinstance(seen[-1], LabCancelled)
    assert request.out_dir.exists() == existed
    assert not existed or not any(request.out_dir.iterdir())
    assert not request.answer_key.exists()


def test_a_failed_lab_run_leaves_a_folder_it_did_not_write_alone(tmp_path: Path) -> None:
    request = _request(tmp_path)
    request.out_dir.mkdir()
    (request.out_dir / "mine.txt").write_text("the user's")
    with pytest.raises(Exception, match="not an empty folder"):
        start_lab(request).wait()
    assert (request.out_dir / "mine.txt").read_text() == "the user's"


def test_lab_events_file_reads_back(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    events = tmp_path / "events.jsonl"
    args = ["--bug", "no_bug", "--seed", "3", "--answer-key", str(tmp_path / "key.json")]
    sizes = ["--steps", "30", "--groups", "2", "--group-size", "2"]
    done = cli("lab", "new", str(tmp_path / "run"), *args, *sizes, "--events", str(events))
    assert done.code == 0, done.err
    parsed = [parse_lab_event(line) for line in events.read_text().splitlines()]
    assert parsed[0].type == "lab_started" and parsed[-1].type == "lab_finished"
    inside = cli("lab", "new", str(tmp_path / "r2"), *args, "--events", str(tmp_path / "r2" / "e"))
    assert inside.code == 2 and "--events" in inside.err
