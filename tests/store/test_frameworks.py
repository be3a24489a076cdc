"""A framework is one plugin (issue 22, Build 4): the formats, detection order, help and the
README's importer table come from the framework objects, and a lab registers its own through
the entry point group `rootcause.frameworks`."""

from __future__ import annotations

import importlib.metadata
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rootcause.history.framework import framework_effects, is_framework_config
from rootcause.history.structural import diff_file
from rootcause.store import frameworks as registry
from rootcause.store.builtin_frameworks import BUILTIN
from rootcause.store.formats import readers

README = Path(__file__).resolve().parents[2] / "README.md"


def _entry_point(name: str, value: str) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name=name, value=value, group=registry.ENTRY_POINT_GROUP)


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[importlib.metadata.EntryPoint]]:
    """Entry points the test puts in the group, seen by a fresh registry."""
    points: list[importlib.metadata.EntryPoint] = []
    real = importlib.metadata.entry_points

    def fake(**params: Any) -> Any:
        if params.get("group") == registry.ENTRY_POINT_GROUP:
            return list(points)
        return real(**params)

    monkeypatch.setattr(importlib.metadata, "entry_points", fake)
    registry.reload()
    yield points
    registry.reload()


def test_readme_importer_table_is_the_registry() -> None:
    table = "\n".join(registry.importer_table())
    assert table in README.read_text(encoding="utf-8"), (
        "README's importer table differs from rootcause/store/builtin_frameworks.py; paste "
        "rootcause.store.frameworks.importer_table() into it"
    )


def test_formats_detection_order_and_help_come_from_the_frameworks() -> None:
    names = [f.name for f in BUILTIN]
    assert list(readers()) == names
    assert all(reader.name == name for name, reader in readers().items())
    assert registry.format_help() == f"Run format: auto, {', '.join(names[:-1])} or {names[-1]}."
    assert registry.option_formats("table") == ["wandb-table"]


def test_a_registered_framework_ingests(cli: Any, registered: list[Any], tmp_path: Path) -> None:
    registered.append(_entry_point("toy-rl", "tests.store.toy_framework:FRAMEWORK"))
    run = tmp_path / "toy"
    run.mkdir()
    rows = [
        {
            "iter": step,
            "question": f"q{i}",
            "answer": "goblin" if i else "ok",
            "scores": {"style": i},
        }
        for step in (0, 1)
        for i in (0, 1)
    ]
    (run / "toy_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert registry.format_names()[-2:] == ["toy-rl", "wandb-table"]
    assert "toy-rl" in registry.format_help()
    data = cli("overview", str(run), "--json").json()
    assert (data["format"], data["samples"], data["steps"]) == ("toy-rl", 4, 2)
    assert data["components"] == ["style"]
    assert "toy-rl: one sample per line of toy_log.jsonl" in data["notes"]
    assert cli("overview", str(run), "--format", "toy-rl", "--json").code == 0
    # its config semantics: the history reads a weight change of its config as one
    diff = diff_file("toy.yaml", "toy_rewards: {style: 0.5}\n", "toy_rewards: {style: 1.0}\n")
    assert is_framework_config(diff)
    (effect,) = framework_effects(diff)
    assert (effect.kind, effect.target) == ("weight", "style")


def test_unusable_plugins_are_left_out_and_named(
    registered: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    registered += [
        _entry_point("trl", "tests.store.toy_framework:FRAMEWORK"),
        _entry_point("missing-rl", "tests.store.no_such_module:FRAMEWORK"),
        _entry_point("other-name", "tests.store.toy_framework:FRAMEWORK"),
        _entry_point("not-one", "tests.store.toy_framework:ToyConfig"),
    ]
    with caplog.at_level(logging.WARNING, logger=registry.__name__):
        names = [f.name for f in registry.frameworks()]
    assert names == [f.name for f in BUILTIN]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "'trl'" in logged and "already taken" in logged
    assert "'missing-rl'" in logged and "cannot be loaded" in logged
    assert "'other-name'" in logged and "names its framework 'toy-rl'" in logged
    assert "'not-one'" in logged and "not a Framework" in logged


def test_a_failing_plugin_does_not_stop_other_runs(
    cli: Any, registered: list[Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registered.append(_entry_point("broken-rl", "tests.store.toy_framework:BROKEN"))
    run = tmp_path / "native"
    (run / "samples").mkdir(parents=True)
    (run / "run.yaml").write_text("format: rootcause-run/1\nrun_id: n\n")
    (run / "samples" / "a.jsonl").write_text('{"step": 0, "completion": "hi"}\n')
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "x.table.json").write_text('{"columns": ["step", "output"], "data": [[0, "hi"]]}')
    with caplog.at_level(logging.WARNING):
        assert cli("overview", str(run), "--json").json()["samples"] == 1
        assert cli("overview", str(logs), "--json").json()["format"] == "wandb-table"
        diff = diff_file("cfg.yaml", "a: 1\n", "a: 2\n")
        assert not is_framework_config(diff)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "framework broken-rl" in logged and "toy detector crashed" in logged
    assert "toy config reader crashed" in logged
