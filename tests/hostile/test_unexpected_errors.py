"""Faults that ended in `unexpected ...`, exit 1, are each one located line (issue 24, item 8)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from rootcause.chat.catalog import SessionMeta
from rootcause.chat.entries import UserMessage
from rootcause.chat.sessions import ChatSession
from rootcause.store.workspace import Workspace
from tests.conftest import sample_rows, write_jsonl

REPO = Path(__file__).resolve().parents[2]


def _run(base: Path, manifest: dict[str, Any] | None = None) -> Path:
    run = base / "run"
    write_jsonl(run / "samples" / "a.jsonl", sample_rows(steps=2))
    doc = {"format": "rootcause-run/1", "run_id": "r", **(manifest or {})}
    (run / "run.yaml").write_text(yaml.safe_dump(doc))
    return run


def _one_line(r: Any, *words: str) -> None:
    lines = r.err.strip().splitlines()
    assert r.code == 2 and len(lines) == 1, r.err
    assert "unexpected" not in lines[0] and all(w in lines[0] for w in words), lines[0]


def test_a_config_repo_symlink_loop(cli: Any, tmp_path: Path) -> None:
    run = _run(tmp_path, {"config_repo": "loop"})
    (run / "loop").symlink_to("loop")
    _one_line(cli("overview", str(run), "--json"), "loop", "symlink loop")


def test_a_config_repo_symlink_loop_in_the_overlay(cli: Any, tmp_path: Path) -> None:
    run = _run(tmp_path)
    (run / "a").symlink_to("b")
    (run / "b").symlink_to("a")
    (run / "rootcause.yaml").write_text("config_repo: a\n")
    _one_line(cli("overview", str(run), "--json"), "symlink loop")


def test_a_bad_config_repo_in_the_overlay_names_the_overlay(cli: Any, tmp_path: Path) -> None:
    run = _run(tmp_path)
    (run / "rootcause.yaml").write_text("config_repo: nowhere\n")
    r = cli("overview", str(run), "--json")
    _one_line(r, "rootcause.yaml: config_repo", "does not exist")
    assert "run.yaml" not in r.err


@pytest.mark.parametrize("value", ["1e23", "100000000000000000000000", "1.0e+23"])
def test_an_absurd_group_size(cli: Any, tmp_path: Path, value: str) -> None:
    run = _run(tmp_path)
    (run / "rootcause.yaml").write_text(f"group_size: {value}\n")
    _one_line(cli("overview", str(run), "--json"), "rootcause.yaml", "group_size")
    (run / "rootcause.yaml").unlink()
    # As an option: one line of ours, or click's usage error (also exit 2) for a non-integer.
    r = cli("overview", str(run), "--json", "--group-size", value)
    assert r.code == 2 and "--group-size" in r.err and "unexpected" not in r.err


def test_a_workspace_name_that_is_not_utf8_creates_nothing(tmp_path: Path) -> None:
    run = _run(tmp_path)
    name = os.fsencode(tmp_path) + b"/ws\xff"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [sys.executable, "-m", "rootcause", "--workspace", name, "overview", str(run)]
    done = subprocess.run(args, env=env, capture_output=True, cwd=tmp_path)
    err = done.stderr.decode("utf-8", "replace").strip().splitlines()
    assert done.returncode == 2 and len(err) == 1 and "not valid UTF-8" in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_chat_resume_skips_a_line_that_is_not_utf8(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    workspace = Workspace(tmp_path / "ws")
    meta = SessionMeta(id="s-1", run=str(tmp_path), run_id="r", created="2026-01-01T00:00:00")
    session = ChatSession.create(workspace, meta)
    session.append(UserMessage(text="first"))
    with session.events_path.open("ab") as out:
        out.write(b'{"type": "user", "text": "\xff\xfe"}\n')
    session.append(UserMessage(text="second"))
    with caplog.at_level(logging.WARNING):
        texts = [e.text for e in ChatSession.open(workspace, "s-1").entries()]  # type: ignore[union-attr]
    assert texts == ["first", "second"]
    assert "events.jsonl:2: skipped: not valid UTF-8 (byte 0xff)" in caplog.text
