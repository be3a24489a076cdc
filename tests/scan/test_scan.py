"""`rootcause scan` over lab runs of several bug ids, with a broken run among them."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from rootcause.scan import CheckOptions, ScanProgress, ScanResult, scan, scan_resume
from rootcause.scan.folder import ALERTS_JSON, ALERTS_MARKDOWN, ALERTS_PARQUET, ERRORS, RUNS
from rootcause.scan.model import is_alert
from tests.scan.conftest import Fleet, cause_step


def _alerts(result: ScanResult, run: Path, check: str) -> list:
    return [
        a
        for r in result.results
        if r.run == str(run)
        for a in r.alerts
        if a.check == check and is_alert(a.severity)
    ]


def test_cot_exposure_flags_the_grader_at_its_first_step_and_nowhere_else(
    fleet: Fleet, local_scan: ScanResult
) -> None:
    (alert,) = _alerts(local_scan, fleet.cot.run, "cot_exposure")
    assert alert.component == fleet.cot.culprit
    assert alert.first_step == cause_step(fleet.cot)
    assert alert.severity == "high" and alert.share is not None and alert.share > 0
    cot = next(r for r in local_scan.results if r.run == str(fleet.cot.run))
    evidence = {e.id: e for e in cot.evidence}
    assert evidence[alert.evidence].tool == "cot_exposure"
    assert alert.command.startswith(f"rootcause tool cot_exposure {fleet.cot.run} --component ")
    for lab in (fleet.quirk, fleet.clean):
        assert _alerts(local_scan, lab.run, "cot_exposure") == []


def test_emerging_surfaces_the_persona_quirks_tic(fleet: Fleet, local_scan: ScanResult) -> None:
    tics = {t.strip() for t in fleet.quirk.hint.removeprefix("terms:").split(",")}
    found = _alerts(local_scan, fleet.quirk.run, "emerging")
    assert found, "no emerging alert on the persona quirk run"
    named = {w for a in found for w in a.subject.split()}
    assert named & tics
    assert all(a.example and "data not instructions" in a.example for a in found)


def test_given_behaviour_names_its_pusher(fleet: Fleet, local_scan: ScanResult) -> None:
    (alert,) = _alerts(local_scan, fleet.quirk.run, "behavior")
    assert alert.component == fleet.quirk.culprit and alert.severity == "high"
    assert alert.first_step is not None


def test_broken_run_is_recorded_and_the_rest_scanned(fleet: Fleet, local_scan: ScanResult) -> None:
    folder = local_scan.folder
    errors = json.loads((folder / ERRORS).read_text())
    assert [e["run"] for e in errors] == [str(fleet.broken)]
    assert "\n" not in errors[0]["error"] and "run.yaml" in errors[0]["error"]
    assert local_scan.summary.runs == 4 and local_scan.summary.errors == 1
    assert len(list((folder / RUNS).glob("*.json"))) == 4
    rows = json.loads((folder / ALERTS_JSON).read_text())
    table = pq.read_table(folder / ALERTS_PARQUET).to_pylist()
    assert sorted(r["evidence"] + r["run"] for r in rows) == sorted(
        r["evidence"] + r["run"] for r in table
    )
    assert len(rows) == sum(len(r.alerts) for r in local_scan.results)
    assert "zz-broken" in (folder / ALERTS_MARKDOWN).read_text()


def test_rerun_reuses_unchanged_runs(fleet: Fleet, local_scan: ScanResult) -> None:
    again = scan(
        [fleet.pattern],
        fleet.workspace,
        local_scan.spec.options,
        out=fleet.root / "scan-again",
        workers=1,
    )
    assert again.summary.reused == 3 and again.summary.errors == 1
    assert _table(again) == _table(local_scan)


def _table(result: ScanResult) -> list[dict]:
    return sorted(
        (a.model_dump() for r in result.results for a in r.alerts),
        key=lambda a: (a["run"], a["check"], a["subject"], a["evidence"]),
    )


class Killed(BaseException):
    """Stands for the process being killed once the first run's result is written."""


def test_killed_scan_resumes_and_skips_finished_runs(fleet: Fleet, tmp_path: Path) -> None:
    options = CheckOptions(checks=["cot_exposure"])
    out = tmp_path / "killed"
    runs = [str(fleet.cot.run), str(fleet.clean.run)]

    def kill_after_first(progress: ScanProgress) -> None:
        if progress.result is not None:
            raise Killed

    with pytest.raises(Killed):
        scan(runs, fleet.workspace, options, out=out, workers=1, on_progress=kill_after_first)
    assert len(list((out / RUNS).glob("*.json"))) == 1
    assert not (out / ALERTS_JSON).exists()
    resumed = scan_resume(out, workers=1)
    assert resumed.summary.reused == 1 and resumed.summary.scanned == 1
    fresh = scan(runs, fleet.workspace, options, out=tmp_path / "fresh", workers=1, reuse=False)
    assert _table(resumed) == _table(fresh)


def test_cli_scan_fail_on_alert_and_bad_input(cli, fleet: Fleet, tmp_path: Path) -> None:
    ws = fleet.workspace.root
    out = tmp_path / "cli-scan"
    table = tmp_path / "table.json"
    args = ("scan", str(fleet.cot.run), "--check", "cot_exposure", "--workers", "1")
    result = cli(*args, "--out", str(out), "--json", str(table), "--fail-on-alert", workspace=ws)
    assert result.code == 3, result.err
    assert "cot_exposure" in result.out and fleet.cot.culprit in result.out
    assert json.loads(table.read_text())
    calm = cli(*args, "--out", str(out), "--fail-on-alert", "--threshold", "high", workspace=ws)
    assert calm.code == 3  # the grader's exposure is high
    clean = cli("scan", str(fleet.clean.run), "--check", "cot_exposure", "--workers", "1",
                "--fail-on-alert", workspace=ws)  # fmt: skip
    assert clean.code == 0, clean.err
    bad = cli("scan", str(fleet.cot.run), "--check", "nope", workspace=ws)
    assert bad.code == 2 and "--check nope" in bad.err
    inside = cli(*args, "--json", str(fleet.cot.run / "t.json"), workspace=ws)
    assert inside.code == 2 and "only reads" in inside.err


def test_input_fingerprint_follows_files_and_the_overlay(native_run: Path) -> None:
    from rootcause.scan.task import input_fingerprint

    options = CheckOptions()
    first = input_fingerprint(native_run, options)
    assert input_fingerprint(native_run, options) == first
    (native_run / "rootcause.yaml").write_text("title: renamed\n")
    with_overlay = input_fingerprint(native_run, options)
    assert with_overlay != first
    (native_run / "samples" / "c.jsonl").write_text(
        (native_run / "samples" / "a.jsonl").read_text()
    )
    grown = input_fingerprint(native_run, options)
    assert grown != with_overlay
    assert input_fingerprint(native_run, CheckOptions(skip_bad_lines=True)) != grown
