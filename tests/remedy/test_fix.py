"""`rootcause fix`: a patch that applies on a clone, the repo untouched, the fix verified."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import yaml

from rootcause.core.report import Finding
from rootcause.remedy.patch import config_patch
from tests.conftest import make_config_repo, sample_rows, write_jsonl
from tests.remedy.conftest import QuirkFix
from tests.remedy.helpers import tree_state


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def test_patch_applies_on_a_clone_and_the_repo_is_untouched(
    quirk_fix: QuirkFix, tmp_path: Path
) -> None:
    fix, repo = quirk_fix.fix, quirk_fix.lab.run / "configs"
    culprit = quirk_fix.lab.culprit
    assert fix.finding.id == culprit and fix.patch.action == "drop_component"
    assert fix.patch_path is not None and fix.patch_path.read_text() == fix.patch.diff
    assert f"rewards/{culprit}.yaml" in fix.patch_path.read_text()
    assert tree_state(repo) == quirk_fix.repo_before  # HEAD, index, work tree, mtimes
    assert tree_state(quirk_fix.lab.run) == quirk_fix.run_before
    assert _git(repo, "status", "--porcelain") == ""
    assert _git(repo, "rev-parse", "HEAD").strip() == fix.patch.head
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "--quiet", str(repo), str(clone))
    _git(clone, "apply", "--check", str(fix.patch_path))
    _git(clone, "apply", str(fix.patch_path))
    assert not (clone / "rewards" / f"{culprit}.yaml").exists()


def test_resimulation_lowers_the_final_rate(quirk_fix: QuirkFix) -> None:
    v = quirk_fix.fix.verification
    assert v is not None, quirk_fix.fix.verification_note
    assert v.direction == "up" and v.patched_commits > 0
    assert v.with_fix.rate < 0.5 * v.without_fix.rate
    assert v.with_fix.samples == v.without_fix.samples > 0
    report_md = quirk_fix.outcome.markdown_path.read_text()
    assert report_md.count("## Fix") == 1 and f"{v.with_fix.rate:.2%}" in report_md
    assert report_md.startswith("# rootcause report")
    saved = json.loads((quirk_fix.fix.out / "fix.json").read_text())
    assert saved["verification"]["with_fix"]["rate"] == v.with_fix.rate


def test_fix_filters_the_behaviour_out(quirk_fix: QuirkFix) -> None:
    manifest = quirk_fix.fix.filtered
    assert manifest is not None
    table = pq.read_table(quirk_fix.fix.out / "filtered" / manifest.output)
    assert table.num_rows == manifest.kept == manifest.samples_in_scope - manifest.removed
    assert manifest.removed > 0 and manifest.detector == quirk_fix.outcome.report.behavior.spec


def _copy_investigation(quirk_fix: QuirkFix, new_id: str, **changes: Any) -> None:
    source = quirk_fix.outcome.folder
    target = source.parent / new_id
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("lock", "*.sqlite"))
    report = json.loads((target / "report.json").read_text())
    spec = json.loads((target / "spec.json").read_text())
    report["id"] = spec["id"] = new_id
    for key, value in changes.items():
        if key == "run":
            report["meta"]["run"] = spec["run"] = value
        else:
            report[key] = value
    (target / "report.json").write_text(json.dumps(report))
    (target / "spec.json").write_text(json.dumps(spec))


def test_fix_bad_input(cli: Any, quirk_fix: QuirkFix, tmp_path: Path) -> None:
    lab, ws = quirk_fix.lab, quirk_fix.lab.workspace
    bare = tmp_path / "bare"
    write_jsonl(bare / "samples" / "a.jsonl", sample_rows())
    (bare / "run.yaml").write_text(yaml.safe_dump({"format": "rootcause-run/1", "run_id": "b"}))
    _copy_investigation(quirk_fix, "nocause-1", verdict="no_cause_found", findings=[])
    _copy_investigation(quirk_fix, "norepo-1", run=str(bare))
    a_file = tmp_path / "taken.txt"  # issue 24: an existing file as --out
    a_file.write_text("mine")
    cases = [
        (["nope-123"], "unknown investigation 'nope-123'"),
        (["nocause-1", "--out", str(tmp_path / "a")], "names no cause"),
        (["norepo-1", "--out", str(tmp_path / "b")], "has no config repo"),
        ([quirk_fix.outcome.report.id, "--out", str(lab.run / "fix")], "only reads"),
        ([quirk_fix.outcome.report.id, "--out", str(ws / "fix")], "only reads"),
        ([quirk_fix.outcome.report.id, "--out", str(a_file)], "exists and is not a folder"),
    ]
    for args, message in cases:
        result = cli("fix", *args, workspace=ws)
        assert result.code == 2, (args, result.err)
        assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert not (lab.run / "fix").exists()


def _finding(kind: str, target: str, commit: str | None = None) -> Finding:
    return Finding(
        rank=1, kind=kind, id=target, commit=commit, confidence=0.5, mechanism="m",
        evidence=["E1"], fix=f"do something about {target}",
    )  # fmt: skip


def test_config_change_is_reverted_on_top_of_head(tmp_path: Path) -> None:
    repo = tmp_path / "configs"
    shas = make_config_repo(repo)  # the second commit changes nerdy_style's weight 1.0 -> 0.5
    patch = config_patch(repo, _finding("config_change", "nerdy_style", shas[1]))
    assert patch.action == "revert_change" and patch.files == ["rewards/nerdy_style.yaml"]
    assert patch.diff is not None and "-weight: 0.5" in patch.diff and "+weight: 1.0" in patch.diff
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "--quiet", str(repo), str(clone))
    (tmp_path / "fix.patch").write_text(patch.diff)
    _git(clone, "apply", str(tmp_path / "fix.patch"))
    assert yaml.safe_load((clone / "rewards" / "nerdy_style.yaml").read_text())["weight"] == 1.0

    persona = config_patch(repo, _finding("persona", "nerdy"))
    assert persona.action == "manual" and persona.diff is None
    assert "a human must change this: do something about nerdy" in persona.description

    (repo / "rewards" / "nerdy_style.yaml").write_text("name: nerdy_style\nweight: 0.7\n")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "retune")
    moved = config_patch(repo, _finding("config_change", "nerdy_style", shas[1]))
    assert moved.action == "manual" and "does not revert cleanly" in moved.description
