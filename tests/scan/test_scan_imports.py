"""What `rootcause scan` loads: the default checks take their statistics from scipy.special
and their change points from `rootcause.analysis._pelt`, so a scan imports neither
scipy.stats nor ruptures (half a second each, per worker), nor the other heavy stacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.scan.conftest import Fleet
from tests.test_headless import _LOADED, HEAVY

#: Modules a scan with the default checks must not load: what start-up must not (but
#: scipy.special, which the checks' statistics use), and no part of the investigation.
NOT_FOR_A_SCAN = (
    *(m for m in HEAVY if m != "scipy" and not m.startswith("rootcause.investigate")),
    "scipy.stats",
    "scipy.signal",
    "scipy.spatial",
    "rootcause.investigate",
)


def _scan(code: str, fleet: Fleet, tmp_path: Path) -> tuple[Path, Path]:
    """Rescan the fleet's CoT run with `code` (ending in `_LOADED`) as the process; returns the
    file of the modules it loaded and the scan's folder."""
    out, folder = tmp_path / "modules.json", tmp_path / "scan"
    args = ["--workspace", str(fleet.workspace.root), "scan", str(fleet.cot.run), "--workers",
            "1", "--out", str(folder), "--rescan"]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", code, str(out), *args],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return out, folder


def test_a_scan_loads_neither_scipy_stats_nor_ruptures(fleet: Fleet, tmp_path: Path) -> None:
    out, folder = _scan(_LOADED, fleet, tmp_path)
    loaded = json.loads(out.read_text())
    heavy = sorted({m for m in loaded for h in NOT_FOR_A_SCAN if m == h or m.startswith(h + ".")})
    assert not heavy, heavy
    # the statistics ran: an emerging n-gram's onset (PELT and its tests), the CoT check
    alerts = json.loads((folder / "alerts.json").read_text())
    assert any(a["check"] == "emerging" and a["first_step"] is not None for a in alerts)
    assert any(a["check"] == "cot_exposure" for a in alerts)


#: Makes `import pandas` fail as it does where pandas is not installed.
_WITHOUT_PANDAS = (
    "import sys\n"
    "class _NoPandas:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name == 'pandas' or name.startswith('pandas.'):\n"
    "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
    "sys.meta_path.insert(0, _NoPandas())\n"
)


def test_a_scan_runs_without_pandas(fleet: Fleet, tmp_path: Path) -> None:
    """pandas is not a dependency of rootcause (pyarrow uses it when it is installed): the
    worker's set-up must not need it."""
    _, folder = _scan(_WITHOUT_PANDAS + _LOADED, fleet, tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    assert (summary["scanned"], summary["errors"]) == (1, 0)
    assert summary["alerts"] > 0
