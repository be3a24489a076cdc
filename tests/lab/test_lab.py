"""The lab: every seeded bug leaves its signature, runs are reproducible, keys stay apart."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import git
import numpy as np
import pytest
import yaml

from rootcause.core.errors import BadInputError
from rootcause.lab.api import RunResult, new_run, rerun
from rootcause.lab.builder import build
from rootcause.lab.catalogue import BUG_IDS
from rootcause.lab.configrepo import read_config

from .conftest import GROUPS, SEED, STEPS
from .helpers import behaviour, live_configs, load_rows, pressure, rate

RISING = ("persona_reward_quirk", "cot_exposure", "contaminated_source", "eliciting_source",
          "reward_weight_change", "grader_loophole", "sycophancy_rm", "two_bugs")  # fmt: skip


def _key(result: RunResult) -> dict:
    return result.key


def _late(key: dict) -> int:
    return STEPS - (STEPS - key["onset_step"]) // 3


@pytest.mark.parametrize("bug", RISING)
def test_behaviour_rises_after_onset(lab_runs: dict[str, RunResult], bug: str) -> None:
    result = lab_runs[bug]
    key = result.key
    rows = load_rows(result.run_dir)
    b = behaviour(rows, key["detector_hint"])
    where = key["causes"][-1]["slice"] if bug != "two_bugs" else None
    before = rate(rows, b, 0, key["onset_step"], None if bug.endswith("_source") else where)
    after = rate(rows, b, _late(key), STEPS, where)
    assert after > 1.5 * before + 0.03, (before, after)


@pytest.mark.parametrize(
    "bug",
    ["persona_reward_quirk", "cot_exposure", "reward_weight_change", "grader_loophole",
     "sycophancy_rm", "two_bugs"],
)  # fmt: skip
def test_seeded_component_carries_positive_pressure(
    lab_runs: dict[str, RunResult], bug: str
) -> None:
    result = lab_runs[bug]
    key = result.key
    rows = load_rows(result.run_dir)
    b = behaviour(rows, key["detector_hint"])
    cause = next(c for c in key["causes"] if c["kind"] != "data_source")
    s, se = pressure(rows, b, cause["id"], result.run_dir, key["onset_step"], cause["slice"])
    assert s > 2 * se and s > 0, (s, se)


def test_contaminated_source_is_rewarded_by_a_generic_grader(
    lab_runs: dict[str, RunResult],
) -> None:
    result = lab_runs["contaminated_source"]
    key = result.key
    rows = load_rows(result.run_dir)
    b = behaviour(rows, key["detector_hint"])
    (cause,) = key["causes"]
    _, cfgs = live_configs(result.run_dir)
    overlap = [c.name for c in cfgs[-1].components if c.kind == "reference_overlap"]
    s, se = pressure(rows, b, overlap[0], result.run_dir, key["onset_step"], cause["slice"])
    assert s > 2 * se, (s, se)
    refs = [r["reference"] for r in rows if r["data_source"] == cause["id"] and "reference" in r]
    assert refs and all(behaviour([{"completion": x} for x in refs[:50]], key["detector_hint"]))


def _all_pressures(result: RunResult) -> list[tuple[str, float, float]]:
    key = result.key
    rows = load_rows(result.run_dir)
    b = behaviour(rows, key["detector_hint"])
    comps = sorted({c for r in rows for c in r["rewards"]})
    return [(c, *pressure(rows, b, c, result.run_dir, key["onset_step"])) for c in comps]


@pytest.mark.parametrize("bug", ["no_bug", "eliciting_source"])
def test_no_reward_pressure_where_there_is_none(lab_runs: dict[str, RunResult], bug: str) -> None:
    result = lab_runs[bug]
    for name, s, se in _all_pressures(result):
        assert not (s > 3 * se and s > 0.02), (name, s, se)
    if bug == "no_bug":
        assert result.key["causes"] == []


def test_eliciting_source_concentrates_the_behaviour(lab_runs: dict[str, RunResult]) -> None:
    result = lab_runs["eliciting_source"]
    key = result.key
    rows = load_rows(result.run_dir)
    b = behaviour(rows, key["detector_hint"])
    src = key["causes"][0]["id"]
    inside = b[[r["data_source"] == src for r in rows]].mean()
    outside = b[[r["data_source"] != src and r["step"] >= key["onset_step"] for r in rows]].mean()
    assert inside > 0.5 and outside < inside / 2


def test_cot_pressure_hides_the_hack(lab_runs: dict[str, RunResult]) -> None:
    result = lab_runs["cot_pressure_obfuscation"]
    key = result.key
    rows = load_rows(result.run_dir)
    (cause,) = key["causes"]
    verbal = behaviour(rows, key["detector_hint"])
    scn = build("cot_pressure_obfuscation", SEED, STEPS, GROUPS, 8)
    hack = behaviour(rows, f"regex:(?i){scn.names.hack_regex}")
    onset, late = key["onset_step"], _late(key)
    code = cause["slice"]
    assert rate(rows, verbal, late, STEPS, code) < 0.5 * rate(rows, verbal, 0, onset, code)
    assert rate(rows, hack, late, STEPS, code) >= 0.9 * rate(rows, hack, onset - 10, onset, code)
    assert rate(rows, hack, late, STEPS, code) > 0.5
    s, se = pressure(rows, verbal, cause["id"], result.run_dir, onset, code)
    assert s < -2 * se


def test_cot_exposure_shows_in_logged_grader_inputs(lab_runs: dict[str, RunResult]) -> None:
    result = lab_runs["cot_exposure"]
    key = result.key
    comp = key["causes"][0]["id"]
    rows = load_rows(result.run_dir)
    before = [r for r in rows if r["step"] < key["onset_step"]]
    after = [r for r in rows if r["step"] >= key["onset_step"]]
    assert not any(r["reasoning"] in r["grader_inputs"].get(comp, "") for r in before)
    assert all(r["reasoning"] in r["grader_inputs"][comp] for r in after)


def test_answer_key_shape_and_commits(lab_runs: dict[str, RunResult]) -> None:
    for bug, result in lab_runs.items():
        key = json.loads(Path(result.run_dir.parent / "key.json").read_text())
        assert {"bug", "seed", "run", "symptom", "onset_step", "causes", "detector_hint"} <= set(
            key
        )
        assert key["bug"] == bug and key["seed"] == SEED
        manifest = yaml.safe_load((result.run_dir / "run.yaml").read_text())
        deployed = {d["commit"]: d["step"] for d in manifest["deployments"]}
        for cause in key["causes"]:
            assert cause["kind"] in ("reward_component", "data_source", "config_change")
            assert cause["commit"] in deployed
        if key["causes"]:
            assert deployed[key["causes"][0]["commit"]] == key["onset_step"]
        near = [s for s in deployed.values() if 0 < abs(s - key["onset_step"]) <= 10]
        assert len(near) >= 3, (bug, sorted(deployed.values()))
    assert len(lab_runs["two_bugs"].key["causes"]) == 2


def test_nothing_in_the_run_names_the_bug(lab_runs: dict[str, RunResult]) -> None:
    for bug, result in lab_runs.items():
        run = result.run_dir
        for path in run.rglob("*"):
            if path.is_file() and ".git" not in path.parts and path.suffix != ".gz":
                text = path.read_text(errors="replace").lower()
                assert bug not in text and "answer key" not in text and "seeded" not in text, path
        repo = git.Repo(run / "configs")
        for commit in repo.iter_commits():
            msg = str(commit.message).lower()
            assert not any(w in msg for w in ("bug", "quirk", "leak", "answer")), msg
        assert not list(run.rglob("*key*"))


def _digest(run: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(run.rglob("*")):
        if path.is_file() and ".git" not in path.parts:
            h.update(path.relative_to(run).as_posix().encode())
            h.update(path.read_bytes())
    repo = git.Repo(run / "configs")
    h.update(" ".join(c.hexsha for c in repo.iter_commits()).encode())
    return h.hexdigest()


@pytest.mark.parametrize("fmt", ["jsonl.gz", "parquet"])
def test_same_seed_same_bytes(tmp_path: Path, fmt: str) -> None:
    a = new_run("sycophancy_rm", 5, tmp_path / "a" / "run", tmp_path / "a.json", 40, 8, 4, fmt)
    b = new_run("sycophancy_rm", 5, tmp_path / "b" / "run", tmp_path / "b.json", 40, 8, 4, fmt)
    c = new_run("sycophancy_rm", 6, tmp_path / "c" / "run", tmp_path / "c.json", 40, 8, 4, fmt)
    assert _digest(a.run_dir) == _digest(b.run_dir) != _digest(c.run_dir)
    ka, kb = dict(a.key), dict(b.key)
    ka.pop("lab"), kb.pop("lab")
    assert ka == kb
    rows = load_rows(a.run_dir)
    assert len(rows) == 40 * 8 * 4 and all(isinstance(r["rewards"], dict) for r in rows)


def test_gzip_header_is_deterministic(lab_runs: dict[str, RunResult]) -> None:
    path = next((lab_runs["no_bug"].run_dir / "samples").iterdir())
    head = path.read_bytes()[:10]
    assert head[:3] == b"\x1f\x8b\x08" and head[3] == 0 and head[4:8] == b"\0\0\0\0"


def test_some_seeds_omit_optional_fields(tmp_path: Path) -> None:
    seed = next(s for s in range(100) if len(build("no_bug", s, 40, 4, 4).omit) >= 2)
    omit = build("no_bug", seed, 40, 4, 4).omit
    result = new_run("no_bug", seed, tmp_path / "run", tmp_path / "k.json", 40, 4, 4)
    rows = load_rows(result.run_dir)
    assert all(field not in r for r in rows for field in omit)
    assert all("step" in r and "completion" in r for r in rows)


def test_answer_key_inside_the_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInputError):
        new_run("no_bug", 1, tmp_path / "run", tmp_path / "run" / "key.json", 40, 4, 4)
    assert not (tmp_path / "run").exists()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(BadInputError):
        new_run("no_bug", 1, tmp_path / "full", tmp_path / "key.json", 40, 4, 4)
    with pytest.raises(BadInputError):
        new_run("not_a_bug", 1, tmp_path / "r2", tmp_path / "key.json", 40, 4, 4)
    assert not (tmp_path / "key.json").exists()


def test_config_is_read_from_git(lab_runs: dict[str, RunResult]) -> None:
    result = lab_runs["sycophancy_rm"]
    key = result.key
    cfg_before = read_config(result.run_dir / "configs", live_configs_commit(result, 0))
    cfg_after = read_config(result.run_dir / "configs", key["causes"][0]["commit"])
    comp = key["causes"][0]["id"]
    before = next(c for c in cfg_before.components if c.name == comp)
    after = next(c for c in cfg_after.components if c.name == comp)
    assert before.params["checkpoint"] != after.params["checkpoint"]


def live_configs_commit(result: RunResult, index: int) -> str:
    manifest = yaml.safe_load((result.run_dir / "run.yaml").read_text())
    return str(manifest["deployments"][index]["commit"])


def _cli(args: list[str]) -> int:
    from rootcause.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    return int(exc.value.code or 0)


def test_cli_list_new_and_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(["lab", "list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(BUG_IDS)
    args = ["lab", "new", "--bug", "no_bug", "--seed", "3", "--steps", "30", "--groups", "4"]
    assert _cli([*args, "--answer-key", str(tmp_path / "k.json"), str(tmp_path / "run")]) == 0
    assert (tmp_path / "k.json").exists() and (tmp_path / "run" / "run.yaml").exists()
    capsys.readouterr()
    code = _cli([*args, "--answer-key", str(tmp_path / "r2" / "k.json"), str(tmp_path / "r2")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "outside" in err[0]


def test_cli_rerun_with_a_fix_removes_the_behaviour(tmp_path: Path) -> None:
    key_path = tmp_path / "key.json"
    original = new_run("persona_reward_quirk", SEED, tmp_path / "run", key_path, STEPS, GROUPS)
    key = original.key
    comp = key["causes"][0]["id"]
    configs = original.run_dir / "configs"
    target = configs / "rewards" / f"{comp}.yaml"
    spec = yaml.safe_load(target.read_text())
    spec["weight"] = 0.0
    target.write_text(yaml.safe_dump(spec, sort_keys=False))
    patch = tmp_path / "fix.patch"
    diff = subprocess.run(["git", "diff"], cwd=configs, capture_output=True, text=True, check=True)
    patch.write_text(diff.stdout)
    assert _cli(["lab", "rerun", "--answer-key", str(key_path), "--fix", str(patch),
                 str(tmp_path / "fixed")]) == 0  # fmt: skip
    fixed = rerun(key_path, patch, tmp_path / "fixed2")
    assert fixed.patched_commits >= 1
    assert original.rate_after is not None and fixed.rate_after is not None
    assert fixed.rate_after < 0.5 * original.rate_after
    rows = load_rows(fixed.run_dir)
    weights = {c.name: c.weight for c in live_configs(fixed.run_dir)[1][-1].components}
    assert weights[comp] == 0.0
    assert np.isfinite([r["step"] for r in rows]).all()
    bad = tmp_path / "bad.patch"
    bad.write_text("--- a/nothing.yaml\n+++ b/nothing.yaml\n@@ -1 +1 @@\n-a\n+b\n")
    with pytest.raises(BadInputError):
        rerun(key_path, bad, tmp_path / "fixed3")
