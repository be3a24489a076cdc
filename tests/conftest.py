"""Shared fixtures: small runs written the way users and foreign trainers write them."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import git
import pytest
import yaml

from rootcause.cli.main import main


def write_jsonl(path: Path, rows: list[Any], gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r) + "\n" for r in rows)
    if gz:
        path.write_bytes(gzip.compress(text.encode(), mtime=0))
    else:
        path.write_text(text)
    return path


def sample_rows(steps: int = 4, groups: int = 2, size: int = 3) -> list[dict[str, Any]]:
    rows = []
    for step in range(steps):
        for g in range(groups):
            for i in range(size):
                persona = "nerdy" if g == 0 else "plain"
                goblin = step >= 2 and i == 0
                rows.append(
                    {
                        "step": step,
                        "sample_id": f"s-{step}-{g}-{i}",
                        "group_id": f"g-{step}-{g}",
                        "split": "train",
                        "data_source": "math_v2" if g == 0 else "chat_mix",
                        "persona": persona,
                        "env": "chat",
                        "prompt": f"prompt {g}",
                        "reasoning": "let me think",
                        "completion": "a goblin appears" if goblin else "a plain answer",
                        "rewards": {
                            "helpfulness_rm": 0.5 + 0.1 * i,
                            "nerdy_style": 0.9 if goblin else 0.1,
                        },
                        "reward_total": 1.0,
                        "advantage": 0.1 * (i - 1),
                        "grader_inputs": {"helpfulness_rm": "a plain answer"},
                        "meta": {"temperature": 1.0},
                        "custom_key": {"kept": True},
                    }
                )
    return rows


def make_config_repo(path: Path) -> list[str]:
    """A config repo with two commits; returns their shas, oldest first."""
    repo = git.Repo.init(path)
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Test")
        cw.set_value("user", "email", "test@example.com")
    shas = []
    (path / "rewards").mkdir(parents=True)
    for weight, message in ((1.0, "add helpfulness rm"), (0.5, "tune nerdy style weight")):
        (path / "rewards" / "helpfulness_rm.yaml").write_text(
            yaml.safe_dump({"name": "helpfulness_rm", "weight": 1.0, "inputs": ["completion"]})
        )
        (path / "rewards" / "nerdy_style.yaml").write_text(
            yaml.safe_dump(
                {"name": "nerdy_style", "weight": weight, "applies_to": {"persona": ["nerdy"]}}
            )
        )
        repo.index.add(["rewards/helpfulness_rm.yaml", "rewards/nerdy_style.yaml"])
        shas.append(repo.index.commit(message).hexsha)
    repo.close()
    return shas


@pytest.fixture
def native_run(tmp_path: Path) -> Path:
    """A native run with a git config repo and two deployments."""
    run = tmp_path / "run"
    run.mkdir()
    shas = make_config_repo(run / "configs")
    manifest = {
        "format": "rootcause-run/1",
        "run_id": "nerdy-v3",
        "title": "Nerdy personality RL run",
        "config_repo": "configs",
        "deployments": [{"step": 0, "commit": shas[0][:7]}, {"step": 2, "commit": shas[1]}],
    }
    (run / "run.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    rows = sample_rows()
    write_jsonl(run / "samples" / "a.jsonl", rows[:12])
    write_jsonl(run / "samples" / "b.jsonl.gz", rows[12:], gz=True)
    write_jsonl(
        run / "metrics.jsonl",
        [{"step": s, "name": "kl", "value": 0.01 * s} for s in range(4)],
    )
    return run


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Callable[..., CliResult]:
    """Run `rootcause ARGS...` in-process with a workspace under tmp_path."""

    def run(*args: str, workspace: Path | None = None) -> CliResult:
        ws = workspace or tmp_path / "ws"
        capsys.readouterr()
        try:
            main(["--workspace", str(ws), *args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(autouse=True)
def _reset_global_options() -> Iterator[None]:
    from rootcause.cli.app import GlobalOptions

    saved = (GlobalOptions.debug, GlobalOptions.workspace)
    yield
    GlobalOptions.debug, GlobalOptions.workspace = saved


class LabRun:
    """A small lab run ingested once per test session; `key` is its answer key."""

    def __init__(self, run: Path, key: dict[str, Any], workspace: Path):
        self.run, self.key, self.workspace = run, key, workspace

    @property
    def culprit(self) -> str:
        return str(self.key["causes"][0]["id"])

    @property
    def hint(self) -> str:
        return str(self.key["detector_hint"])


def make_lab_run(base: Path, bug: str, seed: int) -> LabRun:
    """A small lab run (80 steps x 24 groups x 8) with its key kept beside, not inside, it."""
    from rootcause.lab import new_run

    result = new_run(
        bug=bug,
        seed=seed,
        out_dir=base / "run",
        answer_key=base / "key.json",
        steps=80,
        groups=24,
        group_size=8,
    )
    return LabRun(result.run_dir, result.key, base / "ws")


@pytest.fixture(scope="session")
def quirk_run(tmp_path_factory: pytest.TempPathFactory) -> LabRun:
    """A persona reward quirk (the goblin case), small enough for tests."""
    return make_lab_run(tmp_path_factory.mktemp("quirk"), "persona_reward_quirk", 3)


@pytest.fixture(scope="session")
def cot_pressure_run(tmp_path_factory: pytest.TempPathFactory) -> LabRun:
    """A CoT monitor penalty that hides a hack the policy keeps doing, small enough for tests."""
    return make_lab_run(tmp_path_factory.mktemp("cotpressure"), "cot_pressure_obfuscation", 3)
