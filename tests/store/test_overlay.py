"""The run overlay: `rootcause.yaml` next to a foreign log folder, `--overlay PATH` from outside,
or the same keys as options, attach what the logs lack (issue 14, build 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import git
import pandas as pd
import yaml

from tests.conftest import make_config_repo, write_jsonl
from tests.store.helpers import assert_one_line, tree_digest


def write_trl(root: Path) -> Path:
    """TRL's `GRPOTrainer.log` frame: step, prompt, completion, one column per reward
    function, `log_extra` columns, advantage (trl/trainer/grpo_trainer.py, `log`)."""
    folder = root / "grpo" / "completions"
    folder.mkdir(parents=True)
    for step in (0, 1, 2, 3):
        n = 8
        prompts = [f"persona: {'nerdy' if i < 4 else 'plain'}\nQ{step}-{i // 4}" for i in range(n)]
        pd.DataFrame(
            {
                "step": [step] * n,
                "prompt": prompts,
                "completion": [
                    "<think>let me see</think> a goblin" if i % 4 == 0 else "fine" for i in range(n)
                ],
                "format_reward": [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0],
                "style_reward": [0.9, 0.1, 0.2, 0.3, 0.5, 0.5, 0.5, 0.5],
                "length": [10.0 + i for i in range(n)],
                "dataset": ["gsm8k"] * 4 + ["chat"] * 4,
                "difficulty": ["easy", "hard"] * 4,
                "advantage": [0.5, -0.5, 0.5, -0.5, 0.5, 0.5, -0.5, -0.5],
            }
        ).to_parquet(folder / f"completions_{step:05d}.parquet")
    return folder.parent


def db(result: Any) -> duckdb.DuckDBPyConnection:
    assert result.code == 0, result.err
    return duckdb.connect(result.json()["database"], read_only=True)


def test_overlay_file_next_to_the_logs(cli: Any, tmp_path: Path) -> None:
    run = write_trl(tmp_path)
    (run / "rootcause.yaml").write_text(
        yaml.safe_dump(
            {
                "run_id": "nerdy-grpo",
                "title": "Nerdy GRPO",
                "labels": {
                    "persona": {"from": "prompt", "regex": r"persona: (\w+)"},
                    "data_source": {"from": "column", "column": "dataset"},
                    "env": {"value": "chat"},
                },
                "components": {"exclude": ["length"]},
                "weights": {"format_reward": 1.0, "style_reward": 0.3},
                "reasoning": "think_tags",
                "group_size": 4,
            }
        )
    )
    before = tree_digest(run)
    data = cli("overview", str(run), "--json").json()
    assert (data["run_id"], data["title"]) == ("nerdy-grpo", "Nerdy GRPO")
    assert data["personas"] == {"nerdy": 16, "plain": 16}
    assert data["data_sources"] == {"chat": 16, "gsm8k": 16}
    assert data["envs"] == {"chat": 32}
    assert data["components"] == ["format_reward", "style_reward"]
    assert data["groups"] == 8 and data["has_reasoning"]
    assert any("overlay read from" in n and "rootcause.yaml" in n for n in data["notes"])
    assert any(
        "not reward components (overlay), kept as extras: length" in n for n in data["notes"]
    )
    con = db(cli("ingest", str(run), "--json"))
    row = con.execute(
        "SELECT reasoning, completion, reward_total, extras FROM samples ORDER BY row_idx LIMIT 1"
    ).fetchone()
    assert row is not None
    assert row[:3] == ("let me see", "a goblin", 1.0 + 0.3 * 0.9)
    assert json.loads(row[3])["length"] == 10.0
    assert tree_digest(run) == before  # the run folder is only read


def test_overlay_from_outside_with_config_repo_and_deployment_file(
    cli: Any, tmp_path: Path
) -> None:
    run = write_trl(tmp_path)
    shas = make_config_repo(tmp_path / "configs")
    outside = tmp_path / "overlays"
    outside.mkdir()
    # The commit live at each step, as a training loop might log it; repeats collapse.
    (outside / "live.txt").write_text(
        "step,commit\n" + "".join(f"{s},{shas[0 if s < 2 else 1][:8]}\n" for s in range(4))
    )
    (outside / "run.yaml").write_text(
        yaml.safe_dump({"config_repo": "../configs", "deployments": {"file": "live.txt"}})
    )
    data = cli("overview", str(run), "--overlay", str(outside / "run.yaml"), "--json").json()
    assert [(d["step"], d["commit"]) for d in data["deployments"]] == [(0, shas[0]), (2, shas[1])]
    assert data["config_repo"] == str(tmp_path / "configs")
    history = cli("tool", "config_history", str(run), "--json")
    assert history.code == 0, history.err
    # The same deployments as STEP:COMMIT pairs on the command line.
    pairs = f"0:{shas[0][:7]},3:{shas[1][:7]}"
    data = cli("overview", str(run), "--deployments", pairs, "--json").json()
    assert [d["step"] for d in data["deployments"]] == [0, 3]


def test_overlay_joins_the_fingerprint(cli: Any, tmp_path: Path) -> None:
    run = write_trl(tmp_path)
    overlay = run / "rootcause.yaml"
    overlay.write_text("run_id: first\n")
    assert cli("ingest", str(run), "--json").json()["reused"] is False
    assert cli("ingest", str(run), "--json").json()["reused"] is True
    overlay.write_text("run_id: second\n")
    again = cli("ingest", str(run), "--json").json()
    assert (again["reused"], again["run_id"]) == (False, "second")


def test_options_are_kept_with_the_run_until_forgotten(cli: Any, tmp_path: Path) -> None:
    run = write_trl(tmp_path)
    label = r"persona=prompt:persona: (\w+)"
    assert cli("ingest", str(run), "--label", label, "--group-size", "4").code == 0
    data = cli("overview", str(run), "--json").json()
    assert data["personas"] == {"nerdy": 16, "plain": 16} and data["groups"] == 8
    # A further key merges with the stored ones; --forget-overlay drops them.
    data = cli("overview", str(run), "--title", "T", "--json").json()
    assert data["title"] == "T" and data["personas"]
    data = cli("overview", str(run), "--forget-overlay", "--json").json()
    assert (data["title"], data["personas"]) == (None, {})


def test_bad_overlay_is_one_line(cli: Any, tmp_path: Path) -> None:
    run = write_trl(tmp_path)
    overlay = run / "rootcause.yaml"
    overlay.write_text("labels:\n  mood: {from: prompt, regex: 'x'}\n")
    assert_one_line(cli("overview", str(run)), 2, "rootcause.yaml", "labels", "mood")
    overlay.write_text("group_size: 0\n")
    assert_one_line(cli("overview", str(run)), 2, "rootcause.yaml", "group_size")
    overlay.write_text("weights: {nope: 1}\n")
    assert_one_line(cli("overview", str(run)), 2, "overlay weights", "'nope'")
    overlay.unlink()
    assert_one_line(cli("overview", str(run), "--label", "persona"), 2, "--label")
    assert_one_line(cli("overview", str(run), "--weights", "a=x"), 2, "--weights")
    bad_regex = cli("overview", str(run), "--label", "persona=prompt:(?<=x)y")
    assert_one_line(bad_regex, 2, "labels.persona")
    missing = cli("overview", str(run), "--label", "persona=column:nope")
    assert_one_line(missing, 2, "labels.persona", "'nope'", "difficulty")


def test_group_size_and_reasoning_regex_on_a_verl_dump(cli: Any, tmp_path: Path) -> None:
    folder = tmp_path / "rollouts"
    lines = [
        {"input": f"q{i // 3}", "output": f"<scratch>hm {i}</scratch>ok", "gts": "4",
         "score": float(i % 2), "step": 1}
        for i in range(6)
    ]  # fmt: skip
    write_jsonl(folder / "1.jsonl", lines)
    result = cli(
        "ingest", str(folder), "--group-size", "3", "--reasoning", "regex:<scratch>(.*?)</scratch>",
        "--json",
    )  # fmt: skip
    con = db(result)
    rows = con.execute("SELECT group_id, reasoning, completion FROM samples ORDER BY row_idx")
    got = rows.fetchall()
    assert [g for g, _, _ in got] == ["1.jsonl#0"] * 3 + ["1.jsonl#1"] * 3
    assert got[0][1:] == ("hm 0", "ok")


def test_overlay_config_repo_must_be_a_repository(cli: Any, tmp_path: Path) -> None:
    run = write_trl(tmp_path)
    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    result = cli("overview", str(run), "--config-repo", str(plain))
    assert_one_line(result, 2, "config_repo", "not a git repository")
    git.Repo.init(tmp_path / "empty").close()
    result = cli("overview", str(run), "--config-repo", str(tmp_path / "empty"), "--json")
    assert result.code == 0, result.err


def test_the_option_grammar_is_the_stores_own() -> None:
    """`--deployments`, `--label`, `--weights`, `--components` text reads into the same overlay
    keys a file has, without the CLI (the store owns the grammar)."""
    import pytest

    from rootcause.core.errors import BadInputError
    from rootcause.store.overlay_text import overlay_from_options

    overlay = overlay_from_options(
        {
            "deployments": "0:abcd123,40:beef456",
            "label": ["persona=prompt:persona: (\\w+)"],
            "weights": "style=0.5, answer=1",
            "components": "style,answer",
            "exclude_components": "kl",
        }
    )
    assert overlay is not None
    assert [(d.step, d.commit) for d in overlay.deployments.items] == [
        (0, "abcd123"),
        (40, "beef456"),
    ]
    assert overlay_from_options({}) is None
    with pytest.raises(BadInputError, match="--weights 'style': expected NAME=NUMBER"):
        overlay_from_options({"weights": "style"})
    with pytest.raises(BadInputError, match="--label 'persona': expected NAME=SOURCE:VALUE"):
        overlay_from_options({"label": ["persona"]})
