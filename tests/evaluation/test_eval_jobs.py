"""An eval as a job of the seam: cancel, and a bad `--events` path (its `--events` file is
checked on the tiny eval's run, in test_eval_e2e)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rootcause.core.jobs import CancelToken
from rootcause.evaluation.api import EvalCancelledError, EvalRequest, start_eval
from rootcause.evaluation.events import EvalCancelled, EvalEvent, StageStarted
from rootcause.store.workspace import Workspace
from tests.conftest import CliResult
from tests.evaluation.test_eval_e2e import TINY


def test_cancelled_eval_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    request = EvalRequest(TINY, Workspace(tmp_path / "ws"), out_dir=out)
    token = CancelToken()

    def cancel_at_first_stage(event: EvalEvent) -> None:
        if isinstance(event, StageStarted):
            token.cancel()  # subscribed before the job starts: nothing is handed out

    job = start_eval(request, cancel_at_first_stage, cancel=token)
    with pytest.raises(EvalCancelledError, match="prepare stage"):
        job.wait()
    events = list(job.events())
    assert [e.type for e in events] == ["eval_started", "stage_started", "eval_cancelled"]
    assert isinstance(events[-1], EvalCancelled) and events[-1].stage == "prepare"
    assert not out.exists()


@pytest.mark.parametrize("where", ["a-file/events.jsonl", "a-folder"])
def test_eval_bad_events_path_is_one_line(
    cli: Callable[..., CliResult], tmp_path: Path, where: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    (tmp_path / "a-folder").mkdir()
    out = tmp_path / "out"
    result = cli("eval", "--suite", str(TINY), "--out", str(out), "--events", str(tmp_path / where))
    assert result.code == 2, result.err
    (line,) = result.err.strip().splitlines()
    assert line.startswith("error: --events ") and not out.exists()
