"""Lab runs for the scan tests, generated once per session, and one local scan of them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from rootcause.scan import CheckOptions, ScanResult, scan
from rootcause.store.workspace import Workspace
from tests.conftest import LabRun, make_lab_run


@dataclass
class Fleet:
    """Lab runs of several bug ids side by side, a broken run among them, and a workspace."""

    root: Path
    cot: LabRun
    quirk: LabRun
    clean: LabRun
    broken: Path
    workspace: Workspace

    @property
    def pattern(self) -> str:
        return str(self.root / "labs" / "*" / "run")

    def labelled(self) -> dict[str, LabRun]:
        return {str(r.run): r for r in (self.cot, self.quirk, self.clean)}


def cause_step(lab: LabRun) -> int:
    """The step from which the cause's commit was live (from the run's manifest)."""
    manifest = yaml.safe_load((lab.run / "run.yaml").read_text())
    commit = lab.key["causes"][0]["commit"]
    return next(int(d["step"]) for d in manifest["deployments"] if commit.startswith(d["commit"]))


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory, quirk_run: LabRun) -> Fleet:
    """The session's persona quirk run (linked in), a CoT-exposure run and a no-bug run."""
    root = tmp_path_factory.mktemp("fleet")
    labs = {
        name: make_lab_run(root / "labs" / name, bug, seed)
        for name, bug, seed in (("cot", "cot_exposure", 1), ("clean", "no_bug", 1))
    }
    (root / "labs" / "quirk").symlink_to(quirk_run.run.parent, target_is_directory=True)
    labs["quirk"] = LabRun(quirk_run.run.resolve(), quirk_run.key, quirk_run.workspace)
    broken = root / "labs" / "zz-broken" / "run"
    broken.mkdir(parents=True)
    (broken / "run.yaml").write_text("format: rootcause-run/1\nrun_id: [unclosed\n")
    return Fleet(root, labs["cot"], labs["quirk"], labs["clean"], broken, Workspace(root / "ws"))


@pytest.fixture(scope="session")
def local_scan(fleet: Fleet) -> ScanResult:
    """The fleet scanned by the local process pool (two workers), every check."""
    options = CheckOptions(behaviors=[str(fleet.quirk.hint)])
    return scan([fleet.pattern], fleet.workspace, options, out=fleet.root / "scan", workers=2)
