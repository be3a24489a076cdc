"""Helpers for the store's tests: one-line errors, untouched run folders, and the verdict of a
plain-symptom investigation of a fixture."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def tree_digest(root: Path) -> str:
    """A hash of every name, link target and file's bytes under `root` (links not followed)."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(os.fsencode(root)):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            path = os.path.join(folder, name)
            digest.update(path)
            if os.path.islink(path):
                digest.update(b"->" + os.fsencode(os.readlink(path)))
            else:
                with open(path, "rb") as stream:
                    digest.update(hashlib.sha256(stream.read()).digest())
    return digest.hexdigest()


def assert_one_line(result: Any, code: int, *needles: str) -> str:
    """The command failed with `code` and one line on stderr holding every needle."""
    assert result.code == code, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def plain_symptom_verdict(cli: Any, run: Path, out: Path, *options: str) -> tuple[str, str, str]:
    """Investigate `run` with a plain symptom ("the model keeps mentioning goblins") through
    the CLI: (verdict, top finding's kind, its id); kind and id are "" with no finding."""
    report = out / "report.json"
    result = cli(
        "investigate",
        str(run),
        *options,
        "--symptom",
        "the model keeps mentioning goblins",
        "--json",
        str(report),
    )
    assert result.code == 0, result.err
    found = json.loads(report.read_text())
    top = found["findings"][0] if found["findings"] else {"kind": "", "id": ""}
    return found["verdict"], top["kind"], top["id"]
