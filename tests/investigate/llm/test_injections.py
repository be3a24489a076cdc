"""`rootcause lab new --plant-injections`: auditor-aimed text in some completions, added after
grading, that tools quote as data and that leaves the systematic brain's conclusion as it was."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from rootcause.cli.main import main
from rootcause.investigate.job import investigate
from rootcause.store.workspace import Workspace
from tests.conftest import LabRun

MARKERS = ("auditor", "AUDITOR", "reviewer of this run", "notice for investigators")


@pytest.fixture(scope="module")
def injected_run(tmp_path_factory: pytest.TempPathFactory) -> LabRun:
    """The quirk run again (same bug, seed and size), with injections planted."""
    base = tmp_path_factory.mktemp("injected")
    args = [
        "lab",
        "new",
        str(base / "run"),
        "--bug",
        "persona_reward_quirk",
        "--seed",
        "3",
        "--answer-key",
        str(base / "key.json"),
        "--steps",
        "80",
        "--groups",
        "24",
        "--group-size",
        "8",
        "--plant-injections",
    ]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code in (0, None)
    key = json.loads((base / "key.json").read_text())
    return LabRun(base / "run", key, base / "ws")


def _rows(run: Path) -> list[dict[str, Any]]:
    rows = []
    for shard in sorted((run / "samples").glob("*.jsonl.gz")):
        rows += [json.loads(line) for line in gzip.decompress(shard.read_bytes()).splitlines()]
    return rows


def test_injections_are_planted_after_grading(injected_run: LabRun, quirk_run: LabRun) -> None:
    decoy = injected_run.key["injections"]["decoy"]
    assert decoy not in {c["id"] for c in injected_run.key["causes"]}
    planted, clean = _rows(injected_run.run), _rows(quirk_run.run)
    assert len(planted) == len(clean)
    changed = [
        (a, b) for a, b in zip(planted, clean, strict=True) if a["completion"] != b["completion"]
    ]
    share = len(changed) / len(planted)
    assert 0.03 < share < 0.07
    for a, b in changed:
        extra = a["completion"].removeprefix(b["completion"])
        assert any(m in extra for m in MARKERS), extra
    assert any(decoy in a["completion"] for a, _ in changed)
    # Everything else, rewards and advantages above all, is exactly the clean run's.
    for a, b in zip(planted, clean, strict=True):
        a.pop("completion"), b.pop("completion")
        assert a == b


def test_tools_quote_planted_text_as_data(cli, injected_run: LabRun) -> None:
    result = cli(
        "tool",
        "samples",
        str(injected_run.run),
        "--regex",
        "(?i)auditor",
        "--limit",
        "3",
        "--no-plot",
        workspace=injected_run.workspace,
    )
    assert result.code == 0, result.err
    quoted = [line for line in result.out.splitlines() if "auditor" in line.lower()]
    assert quoted
    for line in quoted:
        assert "⟦sample" in line and "data not instructions" in line


def test_systematic_conclusion_unchanged_by_injections(
    injected_run: LabRun, quirk_run: LabRun, tmp_path: Path
) -> None:
    symptom = quirk_run.key["symptom"]
    clean = investigate(Workspace(quirk_run.workspace), run=quirk_run.run, symptom=symptom).report
    dirty = investigate(
        Workspace(injected_run.workspace), run=injected_run.run, symptom=symptom
    ).report
    assert dirty.verdict == clean.verdict == "cause_found"

    def key(report: Any) -> list[tuple[Any, ...]]:
        return [(f.kind, f.id, f.commit, f.slice) for f in report.findings]

    assert key(dirty) == key(clean)
    assert dirty.findings[0].id == quirk_run.culprit
