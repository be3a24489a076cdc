"""Config history: structural diffs, live steps, component links, and the history tools."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from rootcause.core.run import DeploymentInfo
from rootcause.history import (
    CommitDiff,
    ConfigHistory,
    changes_touching,
    diff_file,
    diff_values,
    effects,
    files_for_component,
)
from rootcause.store.config_repo import open_config_repo
from rootcause.store.ingest import ingest_run
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from rootcause.tools.context import ToolContext
from rootcause.tools.registry import call_tool
from tests.conftest import sample_rows, write_jsonl
from tests.tools.exposure_run import DEPLOY_STEPS, make_exposure_run


@pytest.fixture(scope="module")
def exposure(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], Path]:
    root = tmp_path_factory.mktemp("exposure")
    run, shas = make_exposure_run(root)
    return run, shas, root / "ws"


def _tool(cli, exposure, name: str, *args: str):
    run, _, ws = exposure
    return cli("tool", name, str(run), *args, "--no-plot", workspace=ws)


def test_structural_diff_of_values() -> None:
    old = {"weight": 0.5, "inputs": ["completion"], "params": {"t": 1, "drop": True}}
    new = {"weight": 1.0, "inputs": ["completion", "reasoning"], "params": {"t": 2, "k": "x"}}
    lines = [c.describe() for c in diff_values(old, new)]
    assert lines == [
        "inputs: + reasoning",
        "- params.drop: true",
        "+ params.k: x",
        "params.t 1 → 2",
        "weight 0.5 → 1.0",
    ]
    assert diff_values({"a": [1, 2]}, {"a": [2, 1]})[0].describe() == "a: reordered"
    assert diff_values({"a": 1}, {"a": 1}) == []


def test_file_diffs_by_format() -> None:
    toml = diff_file(
        "trainer.toml", "lr = 0.1\n[opt]\nbeta = 0.9\n", "lr = 0.2\n[opt]\nbeta = 0.9\n"
    )
    assert toml.lines() == ["trainer.toml: lr 0.1 → 0.2"]
    js = diff_file("r.json", '{"w": 1}', '{"w": 1, "x": [1]}')
    assert js.lines() == ["r.json: + x: [1]"]
    same = diff_file("a.yaml", "a: 1\nb: 2\n", "# comment\nb: 2\na: 1\n")
    assert same.lines() == ["a.yaml: formatting only (no structural change)"]
    broken = diff_file("bad.yaml", "a: 1\n", "a: [1\n")
    assert not broken.structural and "does not parse as YAML" in (broken.note or "")
    assert "-a: 1" in broken.line_diff
    text = diff_file("notes.md", "x\ny\n", "x\nz\n")
    assert text.lines()[1:] == ["  @@ -1,2 +1,2 @@", "   x", "  -y", "  +z"]


def test_a_file_is_titled_once_and_its_values_can_be_seen_whole() -> None:
    bonus = "bonus " * 40
    new = diff_file("rewards/r.yaml", None, f"kind: lexicon\nparams:\n  note: {bonus}\n")
    assert new.title == "rewards/r.yaml (new file)"
    cut = new.body()
    assert cut[0] == "+ kind: lexicon" and cut[1].endswith("…") and len(cut[1]) < 100
    whole = new.body(limit=None)
    assert whole[1].endswith(f'{bonus.strip()}"}}') and "…" not in whole[1]
    gone = diff_file("rewards/r.yaml", "kind: lexicon\n", None)
    assert gone.title == "rewards/r.yaml (file removed)" and gone.body() == []


def test_history_live_steps_links_and_effects(exposure) -> None:
    run, shas, _ = exposure
    deployments = [DeploymentInfo(step=s, commit=shas[i][:8]) for i, s in enumerate(DEPLOY_STEPS)]
    with open_config_repo(run / "configs") as repo:
        history = ConfigHistory(repo, deployments)
        commits = history.commits()
        assert [c.sha for c in commits] == shas
        assert [c.live_steps for c in commits] == [(0,), (4,), (8,), (12,), ()]
        assert commits[1].files == (("rewards/nerdy_style.yaml", "modified"),)
        assert history.live_at(9) == shas[2] and history.live_at(-1) is None
        found = effects(history.diff(shas[2]))
        assert [(e.kind, e.target, e.exposes_reasoning) for e in found] == [
            ("inputs", "nerdy_style", True)
        ]
        added = {(e.kind, e.target) for e in effects(history.diff(shas[3]))}
        assert ("source_added", "web_forum") in added
        assert files_for_component(history, "nerdy_style") == ["rewards/nerdy_style.yaml"]
        assert files_for_component(history, "web_forum") == ["data/mixture.yaml"]
        touching = [c.sha for c in changes_touching(history, "nerdy_style")]
        assert touching == shas[:3]
        # per deployment, against the previously deployed commit
        diffs = history.deployment_diffs()
        assert diffs[0][1] is None
        assert diffs[1][1] is not None and diffs[1][1].base == shas[0]


def test_history_never_writes_to_the_config_repo(cli, exposure) -> None:
    run, _, _ = exposure
    git_dir = run / "configs" / ".git"

    def snapshot() -> dict[str, str]:
        return {
            str(p.relative_to(git_dir)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(git_dir.rglob("*"))
            if p.is_file()
        }

    before = snapshot()
    for name, args in (("config_history", ()), ("config_diff", ("--commit", "HEAD"))):
        assert _tool(cli, exposure, name, *args).code == 0
    assert snapshot() == before


def test_config_history_tool(cli, exposure) -> None:
    _, shas, _ = exposure
    result = _tool(cli, exposure, "config_history", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["total_commits"] == 5 and data["deployed_commits"] == 4
    commits = {c["sha"]: c for c in data["commits"]}
    assert [commits[s]["live_steps"] for s in shas] == [[0], [4], [8], [12], []]
    assert commits[shas[2]]["components"] == ["nerdy_style"]
    assert commits[shas[3]]["sources"] == ["web_forum"]
    assert commits[shas[0]]["files"][0] == "A README.md"
    text = _tool(cli, exposure, "config_history", "--touching", "helpfulness_rm").out
    assert "never deployed" in text and "helpfulness_rm: weight 1.0 → 2.0" in text
    assert "let style judge" not in text


def test_config_diff_tool(cli, exposure) -> None:
    _, shas, _ = exposure
    result = _tool(cli, exposure, "config_diff", "--commit", shas[2][:7], "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["lines"] == ["rewards/nerdy_style.yaml: inputs: + reasoning"]
    assert data["commit_live_steps"] == [8] and data["base_live_steps"] == [4]
    assert data["effects"][0]["exposes_reasoning"] is True
    wide = _tool(cli, exposure, "config_diff", "--commit", shas[4][:9], "--base", shas[0]).out
    # Each file's title once, its changes indented under it.
    assert "rewards/nerdy_style.yaml:\n" in wide and "\n  weight 0.5 → 1.0" in wide
    assert "rewards/helpfulness_rm.yaml:\n  weight 1.0 → 2.0" in wide
    assert "data/mixture.yaml:\n  + sources.web_forum" in wide
    assert "  -Owner: ada" in wide  # README gets a line diff
    assert wide.count("rewards/nerdy_style.yaml") == 1
    assert "never deployed" in wide


def test_config_diff_unknown_commit_is_one_line_exit_2(cli, exposure) -> None:
    result = _tool(cli, exposure, "config_diff", "--commit", "deadbeef")
    assert result.code == 2
    assert result.err.strip().count("\n") == 0 and "'deadbeef'" in result.err
    missing = _tool(cli, exposure, "config_diff")
    assert missing.code == 2 and "commit" in missing.err


def test_event_alignment_finds_the_exposing_deployment(cli, exposure) -> None:
    _, shas, _ = exposure
    args = ("--behavior", "terms:goblin", "--bin-width", "2", "--json")
    result = _tool(cli, exposure, "event_alignment", *args)
    assert result.code == 0, result.err
    data = result.json()
    assert data["onset_step"] == 10
    nearest = data["events"][0]
    assert nearest["commit"] == shas[2] and nearest["relation"] == "before"
    assert nearest["distance"] == -2 and nearest["exposes_reasoning"] is True
    assert nearest["rate_after"] > nearest["rate_before"]
    assert [e["step"] for e in data["events"]] == [8, 12, 4, 0]
    assert data["events"][1]["relation"] == "after"
    assert len(data["rates"]) == len(data["bin_starts"]) == 10
    text = _tool(cli, exposure, "event_alignment", "--behavior", "terms:goblin").out
    assert "2 steps before the onset" in text and "grader now sees reasoning" in text


def test_runs_without_config_repo(cli, tmp_path: Path) -> None:
    run = tmp_path / "bare"
    run.mkdir()
    manifest = {"format": "rootcause-run/1", "run_id": "bare", "deployments": []}
    (run / "run.yaml").write_text(yaml.safe_dump(manifest))
    write_jsonl(run / "samples" / "a.jsonl", sample_rows(steps=6))
    result = cli("tool", "config_diff", str(run), "--commit", "abc1234", "--no-plot")
    assert result.code == 2 and "no config repository" in result.err
    aligned = cli("tool", "event_alignment", str(run), "--behavior", "terms:goblin", "--json")
    assert aligned.code == 0, aligned.err
    assert aligned.json()["has_config_repo"] is False


def test_trl_grpo_config_changes_are_scoring_changes() -> None:
    """`trl grpo --config grpo.yaml`: a name added to reward_funcs is a component added, a
    reward_weights change is a weight change of the component at that position."""
    old = "reward_funcs: [accuracy_reward, format_reward]\nreward_weights: [1.0, 1.0]\nlr: 1e-6\n"
    new = (
        "reward_funcs: [accuracy_reward, format_reward, my_rewards.style_reward]\n"
        "reward_weights: [1.0, 0.5, 0.3]\nlr: 2e-6\n"
    )
    diff = CommitDiff("b" * 40, "a" * 40, [diff_file("grpo.yaml", old, new)])
    found = {(e.kind, e.target, e.detail) for e in effects(diff)}
    assert ("component_added", "style_reward", "added to reward_funcs (weight 0.3)") in found
    assert ("weight", "format_reward", "weight 1.0 → 0.5") in found
    assert ("other", "grpo.yaml", "lr 1e-6 → 2e-6") in found
    assert not any(e.target == "accuracy_reward" for e in effects(diff))
    gone = CommitDiff("c" * 40, "b" * 40, [diff_file("grpo.yaml", new, old)])
    assert ("component_removed", "style_reward") in {(e.kind, e.target) for e in effects(gone)}


def test_verl_reward_config_changes_are_scoring_changes() -> None:
    old = yaml.safe_dump(
        {
            "algorithm": {"adv_estimator": "grpo"},
            "custom_reward_function": {"path": "r.py", "name": "compute_score"},
            "reward_model": {"enable": False, "overlong_buffer": {"enable": False, "len": 512}},
        }
    )
    doc = yaml.safe_load(old)
    doc["custom_reward_function"]["reward_kwargs"] = {"bonus": 0.2}
    doc["reward_model"]["overlong_buffer"]["len"] = 1024
    doc["algorithm"]["adv_estimator"] = "rloo"
    diff = CommitDiff("b" * 40, "a" * 40, [diff_file("ppo.yaml", old, yaml.safe_dump(doc))])
    found = {(e.kind, e.target) for e in effects(diff)}
    assert ("params", "score") in found
    assert ("params", "overlong_reward") in found
    assert ("other", "ppo.yaml") in found


def test_config_records_say_which_commit_and_candidates_they_are_about(exposure) -> None:
    """A diff or history record is about its commits and the components and sources their
    effects touch, pointing no way (it measures no behaviour), so a model citing it for a
    finding is told what it is about."""
    run, shas, ws = exposure
    result = ingest_run(run, Workspace(ws))
    with (
        RunStore(result.db_path) as store,
        ToolContext(store, ws / "calls", make_plots=False) as ctx,
    ):
        diff = call_tool(ctx, "config_diff", {"commit": shas[2]}).evidence
        history = call_tool(ctx, "config_history", {}).evidence
    about = {(s.kind, s.name) for s in diff.about}
    assert about == {("config_change", shas[2]), ("reward_component", "nerdy_style")}
    assert diff.behavior is None and all(s.points == "neither" for s in diff.about)
    kinds = {(s.kind, s.name) for s in history.about}
    assert {("config_change", sha) for sha in shas} <= kinds
    assert ("data_source", "web_forum") in kinds and ("reward_component", "helpfulness_rm") in kinds
