"""Shared fixtures for the lab tests: small runs, generated once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from rootcause.lab.api import RunResult, new_run

STEPS, GROUPS = 60, 24
SEED = int(__import__("os").environ.get("LAB_TEST_SEED", "11"))


@pytest.fixture(scope="session")
def lab_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RunResult]:
    """One small run per bug id (same seed), keyed by bug id."""
    from rootcause.lab.catalogue import BUG_IDS

    root = tmp_path_factory.mktemp("lab")
    out = {}
    for bug in BUG_IDS:
        out[bug] = new_run(bug, SEED, root / bug / "run", root / bug / "key.json", STEPS, GROUPS)
    return out


def run_dir(result: RunResult) -> Path:
    """The run folder of a result."""
    return result.run_dir
