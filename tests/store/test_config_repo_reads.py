"""A config repo's weights read once per contents (blob id), with each full commit id
resolved once, are the weights that reading every file at every commit gave; a name that
moves (a branch) is resolved again each time."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import git
import pytest
import yaml

from rootcause.store.config_repo import (
    MAX_CONFIG_BYTES,
    REWARDS_DIR,
    STRUCTURED_SUFFIXES,
    ConfigRepo,
    load_yaml,
    open_config_repo,
)
from rootcause.store.frameworks import config_semantics

#: The repository's files at each commit (None removes a file).
COMMITS: list[dict[str, str | None]] = [
    {
        "rewards/a.yaml": "name: a\nweight: 1.0\n",
        "rewards/a_copy.yaml": "name: a\nweight: 1.0\n",  # the same blob as a.yaml
        "rewards/b.yml": "weight: 2\n",  # named by its file
        "rewards/sub/c.json": '{"name": "c", "weight": 0.5}',
        "rewards/notes.txt": "weight: 9\n",
        "trainer.yaml": "grpo:\n  reward_funcs: [a, d]\n  reward_weights: [3.0, 4.0]\n",
    },
    {"rewards/a.yaml": "name: a\nweight: 1.5\n", "rewards/bad.yaml": "a: [1, 2\n"},
    {"rewards/bad.yaml": None, "rewards/b.yml": "weight: true\n", "README.md": "configs\n"},
    {"trainer.yaml": "grpo:\n  reward_funcs: [a, e]\n", "rewards/a.yaml": "- not a mapping\n"},
]


def _commit_all(path: Path) -> list[str]:
    repo = git.Repo.init(path)
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Test")
        cw.set_value("user", "email", "test@example.com")
    shas = []
    for i, files in enumerate(COMMITS):
        for name, text in files.items():
            file = path / name
            if text is None:
                repo.index.remove([name], working_tree=True)
                continue
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(text)
            repo.index.add([name])
        shas.append(repo.index.commit(f"commit {i}").hexsha)
    repo.close()
    return shas


def _read_at_each_commit(repo: ConfigRepo, rev: str) -> dict[str, float]:
    """The weights as they were read before: every file at `rev` read and parsed again."""
    weights: dict[str, float] = {}
    for file in repo.list_files(rev, REWARDS_DIR):
        if not file.endswith((".yaml", ".yml", ".json")):
            continue
        try:
            doc: Any = load_yaml(repo.read_text(rev, file) or "")
        except yaml.YAMLError:
            continue
        if not isinstance(doc, dict):
            continue
        weight = doc.get("weight")
        if isinstance(weight, int | float) and not isinstance(weight, bool):
            weights[str(doc.get("name") or Path(file).stem)] = float(weight)
    semantics = [s for _name, s in config_semantics()]
    for item in repo.commit(rev).tree.traverse():
        path = str(item.path)
        if not isinstance(item, git.Blob) or not path.endswith(STRUCTURED_SUFFIXES):
            continue
        if path.startswith(REWARDS_DIR + "/") or item.size > MAX_CONFIG_BYTES:
            continue
        doc = repo.document(rev, path)
        reader = next((s for s in semantics if s.recognises(doc)), None)
        for name, weight in ((reader.weights(doc) if reader else None) or {}).items():
            weights.setdefault(name, weight)
    return weights


def test_weights_read_once_per_contents_are_those_read_at_each_commit(tmp_path: Path) -> None:
    shas = _commit_all(tmp_path / "configs")
    expected = []
    for sha in shas:
        with open_config_repo(tmp_path / "configs") as fresh:
            expected.append(_read_at_each_commit(fresh, sha))
    assert expected[0] == {"a": 1.0, "b": 2.0, "c": 0.5, "d": 4.0}
    with open_config_repo(tmp_path / "configs") as repo:  # one reader for every commit, both ways
        assert [repo.reward_weights(sha) for sha in shas] == expected
        assert [repo.reward_weights(sha) for sha in reversed(shas)] == expected[::-1]


def test_a_file_that_is_not_yaml_is_said_at_each_commit_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shas = _commit_all(tmp_path / "configs")
    with open_config_repo(tmp_path / "configs") as repo, caplog.at_level(logging.WARNING):
        repo.reward_weights(shas[1])
        repo.reward_weights(shas[1])
    said = [r.getMessage() for r in caplog.records if "not valid YAML" in r.getMessage()]
    assert (
        said == [f"rewards/bad.yaml at {shas[1][:10]} is not valid YAML; its weight is unknown"] * 2
    )


def test_a_branch_is_resolved_again_when_it_moves(tmp_path: Path) -> None:
    shas = _commit_all(tmp_path / "configs")
    with open_config_repo(tmp_path / "configs") as repo:
        branch = git.Repo(tmp_path / "configs").active_branch.name
        assert repo.commit(branch).hexsha == shas[-1]
        assert repo.commit(shas[0]).hexsha == shas[0]
        moved = git.Repo(tmp_path / "configs")
        (tmp_path / "configs" / "more.yaml").write_text("x: 1\n")
        moved.index.add(["more.yaml"])
        newer = moved.index.commit("more").hexsha
        moved.close()
        assert repo.commit(branch).hexsha == newer
        assert repo.commit(shas[0][:7]).hexsha == shas[0]
