"""A folder holding logs of several formats (issue 22): refused, never one read and the rest
silently ignored; with --format the chosen one is read and a note names the others."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from tests.store.helpers import assert_one_line
from tests.store.test_nemo_rl import write_step
from tests.store.test_prime_rl import write_run

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "inspect"


def _mixed(root: Path) -> Path:
    """An Inspect log, NeMo-RL step logs and prime-rl rollouts in one folder."""
    folder = write_run(root / "mixed")
    for log in (FIXTURES / "json").glob("*.json"):
        shutil.copy(log, folder / log.name)
    write_step(folder, 1, ["q1-a", "q1-b"], np.random.default_rng(0))
    return folder


def test_mixed_formats_are_refused(cli: Any, tmp_path: Path) -> None:
    folder = _mixed(tmp_path)
    result = cli("ingest", str(folder))
    assert_one_line(result, 2, "logs of several formats here", "nemo-rl", "prime-rl", "inspect")


def test_chosen_format_notes_the_others(cli: Any, tmp_path: Path) -> None:
    folder = _mixed(tmp_path)
    result = cli("ingest", str(folder), "--format", "inspect", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["samples"] == 6
    assert any(
        "also holds logs of the format nemo-rl, prime-rl, not read (format inspect chosen)" in n
        for n in data["notes"]
    )
