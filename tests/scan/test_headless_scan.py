"""The scan library loads no face (rich, textual, typer) and no Ray until asked for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MODULES = [
    "rootcause.scan",
    "rootcause.scan.checks",
    "rootcause.scan.executors",
    "rootcause.scan.folder",
    "rootcause.scan.runner",
    "rootcause.scan.table",
    "rootcause.scan.task",
    "rootcause.scan.watch",
]


def test_scan_modules_load_no_face_and_no_ray() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'rich', 'textual', 'typer', 'ray'})\n"
        "assert not loaded, loaded\n"
    )
    root = Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
