"""One systematic investigation of the quirk run and its fix, shared by the remedy tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from rootcause.investigate.job import Outcome, investigate
from rootcause.remedy.fix import FixRequest, FixResult, write_fix
from rootcause.store.workspace import Workspace
from tests.conftest import LabRun
from tests.remedy.helpers import tree_state


@dataclass
class QuirkFix:
    lab: LabRun
    outcome: Outcome
    fix: FixResult
    repo_before: dict[str, tuple[str, int]]
    run_before: dict[str, tuple[str, int]]


@pytest.fixture(scope="session")
def quirk_fix(quirk_run: LabRun, tmp_path_factory: pytest.TempPathFactory) -> QuirkFix:
    workspace = Workspace(quirk_run.workspace)
    outcome = investigate(workspace, run=quirk_run.run, symptom=quirk_run.key["symptom"])
    run_before = tree_state(quirk_run.run)
    repo_before = tree_state(quirk_run.run / "configs")
    out = tmp_path_factory.mktemp("fix") / "out"
    fix = write_fix(workspace, FixRequest(investigation=outcome.report.id, out=out))
    return QuirkFix(quirk_run, outcome, fix, repo_before, run_before)
