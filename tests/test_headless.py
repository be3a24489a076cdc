"""Headless packages load neither textual nor rich (nor typer): checked in a fresh process,
with every headless module a job or a tool call loads imported. And the CLI starts light:
its help, a tool's help, listing the tools and `tool overview` load none of the heavy
modules (the statistics, plotting, semantic and LLM stacks, the chat, the TUI)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from rootcause.cli.main import COMMANDS, app, command_listing, command_word, register_commands
from rootcause.store.ingest import ingest_run
from rootcause.store.workspace import Workspace

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


#: What start-up must not load: each costs a tenth of a second to seconds to import, and none
#: is needed to print help, list the tools or call `overview` (issue 27, fast start-up).
HEAVY = (
    "scipy",
    "sklearn",
    "ruptures",
    "matplotlib",
    "torch",
    "chromadb",
    "sentence_transformers",
    "agents",
    "openai",
    "litellm",
    "langgraph",
    "textual",
    "rootcause.chat",
    "rootcause.tui",
    "rootcause.investigate.llm.brain",
)

#: What else a start-up command must not load, beyond `HEAVY`: `--help` lists the commands
#: without building their options (whose help is read from pydantic models, the formats'
#: entry points), and `tool overview` of a stored run reads it with DuckDB alone and prints
#: plain text.
LIGHTER = {
    "--help": ("pydantic", "numpy", "pyarrow", "duckdb", "git", "yaml", "rich"),
    "tool overview RUN --no-plot": ("numpy", "pyarrow", "rich"),
}

#: Runs `rootcause ARGS` in this process, then writes the names of the loaded modules.
_LOADED = (
    "import json, sys\n"
    "from rootcause.cli.main import main\n"
    "out, args = sys.argv[1], sys.argv[2:]\n"
    "try:\n"
    "    main(args)\n"
    "except SystemExit as exc:\n"
    "    assert not exc.code, f'exit {exc.code}'\n"
    "with open(out, 'w') as f:\n"
    "    json.dump(sorted(sys.modules), f)\n"
)


@pytest.mark.parametrize(
    "words",
    [
        ["--help"],
        ["tool", "--help"],
        ["tool", "overview", "--help"],
        ["tool", "list"],
        ["tool", "overview", "RUN", "--no-plot"],
    ],
    ids=" ".join,
)
def test_start_up_loads_no_heavy_module(words: list[str], native_run: Path, tmp_path: Path) -> None:
    out, workspace = tmp_path / "modules.json", tmp_path / "ws"
    if "RUN" in words:  # ingested first: what every call after the first does is timed
        ingest_run(native_run, Workspace(workspace))
    args = [
        "--workspace",
        str(workspace),
        *(str(native_run) if w == "RUN" else w for w in words),
    ]
    done = subprocess.run(
        [sys.executable, "-c", _LOADED, str(out), *args],
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(out.read_text())
    avoided = HEAVY + LIGHTER.get(" ".join(words), ())
    heavy = sorted({m for m in loaded for h in avoided if m == h or m.startswith(h + ".")})
    assert not heavy, heavy
    tools = [m for m in loaded if m.startswith("rootcause.tools.builtin.")]
    if words[:2] == ["tool", "overview"]:
        assert tools == ["rootcause.tools.builtin.run"]  # the one tool's module, not every tool's
    commands = [m for m in loaded if m.removeprefix("rootcause.cli.") in COMMANDS.values()]
    if words[0] == "tool":
        assert commands == ["rootcause.cli.tool"]  # the one command's module


def test_the_command_table_names_each_command_with_its_module() -> None:
    """Every command any module of `rootcause.cli` registers is in the table, under its module
    (a command module left out of it would never be imported, and its command never offered)."""
    import rootcause.cli

    for module in pkgutil.iter_modules(rootcause.cli.__path__, "rootcause.cli."):
        importlib.import_module(module.name)
    registered = {
        c.name or (c.callback.__name__ if c.callback else ""): c.callback.__module__
        for c in app.registered_commands
        if c.callback is not None
    }
    registered |= {g.name or "": "rootcause.cli.lab" for g in app.registered_groups}
    assert registered == {name: f"rootcause.cli.{m}" for name, m in COMMANDS.items()}


def test_the_listing_is_the_help_typer_prints_from_the_built_commands() -> None:
    """`rootcause --help` lists the commands without building them: its text is the one typer
    prints once every command is built (names, help, order, the root's own options)."""
    register_commands(["--help"])

    def help_text(command: typer.core.TyperGroup) -> str:
        with typer.Context(command, info_name="rootcause") as ctx:
            return command.get_help(ctx)

    built = typer.main.get_command(app)
    assert isinstance(built, typer.core.TyperGroup)
    listed = command_listing()
    assert help_text(listed) == help_text(built)
    assert list(listed.commands) == list(built.commands) == list(COMMANDS)
    assert all(not c.params for c in listed.commands.values())  # listed, not built


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["--workspace", "chat", "tool", "overview"], "tool"),
        (["-v", "--max-read-mb=3", "lab", "new"], "lab"),
        (["--debug", "--", "scan"], "scan"),
        (["--help"], None),
    ],
)
def test_the_command_word_comes_after_the_global_options(args: list[str], command: str) -> None:
    assert command_word(args) == command
