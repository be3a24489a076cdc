"""`watch` over a run folder that grows step file by step file: the first alert comes within a
few steps of the seeded onset, names its step and evidence, and the run is never written."""

from __future__ import annotations

import gzip
import json
import shutil
from collections import defaultdict
from pathlib import Path

from rootcause.scan import CheckOptions
from rootcause.scan.watch import WatchAlert, WatchState, watch_once
from rootcause.store.workspace import Workspace
from tests.scan.conftest import Fleet, cause_step

#: How many steps past the onset the first alert may come (the run arrives a step at a time).
WITHIN_STEPS = 3


def _steps(run: Path) -> dict[int, list[bytes]]:
    """The lab run's sample lines, by step."""
    lines: dict[int, list[bytes]] = defaultdict(list)
    for shard in sorted((run / "samples").glob("*.jsonl.gz")):
        for line in gzip.decompress(shard.read_bytes()).splitlines():
            lines[json.loads(line)["step"]].append(line + b"\n")
    return lines


def _snapshot(folder: Path) -> dict[str, int]:
    """Every file under `folder` with its modification time."""
    return {
        str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()
    }


def test_watch_alerts_within_a_few_steps_of_the_onset(fleet: Fleet, tmp_path: Path) -> None:
    onset = cause_step(fleet.cot)
    live = tmp_path / "live"
    live.mkdir()
    shutil.copy(fleet.cot.run / "run.yaml", live / "run.yaml")
    shutil.copytree(fleet.cot.run / "configs", live / "configs")
    steps = _steps(fleet.cot.run)
    state = WatchState(live, Workspace(tmp_path / "ws"), CheckOptions(checks=["cot_exposure"]))

    def grow(upto: int) -> list[WatchAlert]:
        for step in range(upto + 1):
            path = live / "samples" / f"step-{step:05d}.jsonl"
            if not path.exists():
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(b"".join(steps[step]))
        return watch_once(state)

    # half the steps before the onset arrive at once, then the rest step file by step file
    arrived: list[tuple[int, WatchAlert]] = []
    schedule = [onset // 2, *range(onset - 2, onset + WITHIN_STEPS + 1)]
    for upto in schedule:
        arrived += [(upto, a) for a in grow(upto)]
        if arrived:
            break
    assert arrived, f"no alert by step {onset + WITHIN_STEPS}"
    upto, first = arrived[0]
    assert state.last_ingest is not None and state.last_ingest.appended  # new files only
    assert onset <= upto <= onset + WITHIN_STEPS
    assert first.alert.check == "cot_exposure" and first.alert.component == fleet.cot.culprit
    assert first.alert.first_step == onset and first.last_step == upto
    assert first.evidence is not None and first.evidence.id == first.alert.evidence
    before = _snapshot(live)
    assert grow(upto) == []  # nothing new, nothing raised again
    assert [a.alert.key() for a in grow(upto + 5)] == []  # the same alert is not raised twice
    after = _snapshot(live)
    assert {k: after[k] for k in before} == before  # the run is only read
    added = {f"samples/step-{s:05d}.jsonl" for s in range(upto + 1, upto + 6)}
    assert set(after) == set(before) | added


def test_cli_watch_prints_json_runs_on_alert_and_stops_on_ctrl_c(
    cli, fleet: Fleet, tmp_path: Path, monkeypatch
) -> None:
    import rootcause.scan.watch as watch_module

    real = watch_module.watch_once
    calls = [0]

    def once_then_ctrl_c(state: WatchState) -> list[WatchAlert]:
        calls[0] += 1
        if calls[0] > 1:
            raise KeyboardInterrupt
        return real(state)

    monkeypatch.setattr(watch_module, "watch_once", once_then_ctrl_c)
    received = tmp_path / "received.json"
    hook = f"sh -c 'cat > {received}'"
    result = cli(
        "watch", str(fleet.cot.run), "--check", "cot_exposure", "--json", "--interval", "0.01",
        "--on-alert", hook, workspace=fleet.workspace.root,
    )  # fmt: skip
    assert result.code == 130, result.err
    (line,) = result.out.splitlines()
    alert = json.loads(line)["alert"]
    assert alert["component"] == fleet.cot.culprit
    assert alert["first_step"] == cause_step(fleet.cot)
    assert json.loads(received.read_text())["alert"] == alert
    bad = cli("watch", str(tmp_path / "nope"), workspace=fleet.workspace.root)
    assert bad.code == 2 and "no such file" in bad.err
