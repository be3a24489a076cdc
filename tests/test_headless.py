"""Headless packages load neither textual nor rich (nor typer): checked in a fresh process,
with every headless module a job or a tool call loads imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEADLESS = [
    "rootcause.core.jobs",
    "rootcause.investigate",
    "rootcause.investigate.job",
    "rootcause.investigate.handle",
    "rootcause.investigate.events",
    "rootcause.investigate.folder",
    "rootcause.investigate.protocol",
    "rootcause.investigate.report",
    "rootcause.investigate.systematic.brain",
    "rootcause.investigate.llm.brain",
    "rootcause.tools",
    "rootcause.tools.registry",
    "rootcause.store",
    "rootcause.store.ingest",
    "rootcause.remedy.filter",
    "rootcause.remedy.fix",
    "rootcause.remedy.chat",
    "rootcause.investigate.effects",
    "rootcause.chat.engine",
    "rootcause.chat.agent",
    "rootcause.chat.sessions",
    "rootcause.chat.opening",
    "rootcause.chat.catalog",
    "rootcause.chat.completion",
    "rootcause.chat.export",
    "rootcause.scan",
    "rootcause.scan.checks",
    "rootcause.scan.executors",
    "rootcause.scan.events",
    "rootcause.scan.folder",
    "rootcause.scan.job",
    "rootcause.scan.runner",
    "rootcause.scan.table",
    "rootcause.scan.task",
    "rootcause.scan.watch",
    "rootcause.fleet",
    "rootcause.evaluation.api",
    "rootcause.evaluation.events",
]


def test_headless_packages_load_no_face() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {HEADLESS!r}:\n"
        "    importlib.import_module(name)\n"
        "from rootcause.tools.registry import load_all\n"
        "load_all()\n"
        "from rootcause.investigate import start_investigation, list_investigations\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'rich', 'textual', 'typer', 'ray'})\n"
        "assert not loaded, loaded\n"
    )
    root = Path(__file__).parents[1]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
