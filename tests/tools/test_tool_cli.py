"""`rootcause tool`: per-tool help from the input model, booleans that turn off, repeated list
options, `name=value` words, and bad values that name their argument; the built-in tools
found by their modules' `@tool("NAME")` lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import Field

from rootcause.tools import builtin
from rootcause.tools.arguments import describe_arguments
from rootcause.tools.base import REGISTRY, Tool, ToolInput, ToolOutput
from rootcause.tools.context import ToolContext
from rootcause.tools.registry import (
    DiscoveryError,
    _check_registered,
    builtin_tools,
    load_all,
    tool_names,
)


@pytest.mark.parametrize("name", sorted(load_all()))
def test_every_tool_has_help(cli, name: str) -> None:
    result = cli("tool", name, "--help")
    assert result.code == 0, result.err
    assert result.out.startswith(f"Usage: rootcause tool {name} RUN")
    spec = load_all()[name]
    assert spec.summary.split()[0] in result.out
    for arg in describe_arguments(spec.input_model):
        assert f"  {arg.option}" in result.out
        assert arg.description, f"{name}.{arg.name} has no description"
        assert arg.description.split()[0] in result.out


def test_help_after_the_run_and_for_the_command(cli, tmp_path: Path) -> None:
    after = cli("tool", "onset", str(tmp_path / "no-such-run"), "--by", "persona", "--help")
    assert after.code == 0 and "--level TEXT" in after.out
    command = cli("tool", "--help")
    assert command.code == 0 and "rootcause tool list" in command.out
    unknown = cli("tool", "crystal_ball", "--help")
    assert unknown.code == 2 and "unknown tool 'crystal_ball'" in unknown.err


class ShoutInput(ToolInput):
    loud: bool = Field(True, description="Shout.")
    words: list[str] = Field(default_factory=list, description="What to shout.")


class ShoutOutput(ToolOutput):
    loud: bool
    words: list[str]


def _shout(ctx: ToolContext, args: ShoutInput) -> ShoutOutput:
    return ShoutOutput(loud=args.loud, words=args.words)


@pytest.fixture
def shout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tool with a boolean and a list argument, registered for one test."""
    load_all()
    spec = Tool("shout", "Shout the words.", ShoutInput, ShoutOutput, _shout)
    monkeypatch.setitem(REGISTRY, "shout", spec)


@pytest.mark.usefixtures("shout")
def test_booleans_turn_off_and_lists_repeat(cli, native_run: Path) -> None:
    def run(*words: str) -> dict[str, object]:
        result = cli("tool", "shout", str(native_run), *words, "--json", "--no-plot")
        assert result.code == 0, result.err
        data: dict[str, object] = result.json()
        return data

    assert run()["loud"] is True
    assert run("--no-loud")["loud"] is False
    assert run("--loud", "false")["loud"] is False
    assert run("loud=no")["loud"] is False
    assert run("--loud")["loud"] is True
    repeated = run("--words", "a", "--words", "b,c", "words=d")["words"]
    assert repeated == ["a", "b", "c", "d"]
    helped = cli("tool", "shout", "--help")
    assert "--loud/--no-loud  [default True]" in helped.out
    assert "repeat it or separate values with commas" in helped.out


def test_name_value_words_and_bad_values(cli, native_run: Path) -> None:
    words = cli(
        "tool", "prevalence", str(native_run), "behavior=terms:goblin", "by=data_source",
        "--step-max=2", "--json", "--no-plot",
    )  # fmt: skip
    assert words.code == 0, words.err
    data = words.json()
    assert data["by"] == "data_source" and data["step_range"] == [0, 2]
    bad = cli("tool", "prevalence", str(native_run), "--behavior", "terms:x", "--bins", "lots")
    assert bad.code == 2
    assert bad.err.strip() == (
        "error: tool prevalence: argument 'bins': Input should be a valid integer, unable to "
        "parse string as an integer"
    )
    missing = cli("tool", "prevalence", str(native_run), "--behavior")
    assert missing.code == 2 and "argument 'behavior' needs a value" in missing.err


def test_every_builtin_module_is_found_with_its_tools_without_importing_one() -> None:
    """Each module of `tools/builtin/` is found, its tools named without importing it, and
    each name is the tool that module registers."""
    code = (
        "import sys\n"
        "from rootcause.tools.registry import builtin_tools, tool_names\n"
        "names = tool_names()\n"
        "loaded = [m for m in sys.modules if m.startswith('rootcause.tools.builtin.')]\n"
        "assert not loaded, loaded\n"
        "print(','.join(names))\n"
    )
    root = Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    found = builtin_tools()
    assert done.stdout.strip().split(",") == sorted(found) == tool_names()
    folder = Path(builtin.__file__).parent
    assert set(found.values()) == {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    specs = load_all()
    assert {name: specs[name].fn.__module__ for name in found} == {
        name: f"rootcause.tools.builtin.{module}" for name, module in found.items()
    }


def test_a_tool_its_module_does_not_name_is_a_discovery_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load_all()

    def loud(ctx: ToolContext, args: ShoutInput) -> ShoutOutput:
        return _shout(ctx, args)

    loud.__module__ = "rootcause.tools.builtin.run"  # as if run.py registered it some other way
    monkeypatch.setitem(REGISTRY, "loud", Tool("loud", "Loud.", ShoutInput, ShoutOutput, loud))
    with pytest.raises(DiscoveryError, match=r"'loud' of rootcause\.tools\.builtin\.run is not"):
        _check_registered.__wrapped__()


def test_a_new_module_is_found_and_a_module_without_a_tool_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Adding a tool is one file: discovery reads its `@tool("NAME")` lines. A module that
    names no tool, or a name given twice, is refused with the file named."""
    monkeypatch.setattr(builtin, "__path__", [str(tmp_path)])
    (tmp_path / "shout.py").write_text(
        'from rootcause.tools.base import tool\n\n\n@tool("shout_once")\ndef shout_once(): ...\n'
        '\n\n@tool("shout_twice")\ndef shout_twice(): ...\n'
    )
    assert builtin_tools.__wrapped__() == {"shout_once": "shout", "shout_twice": "shout"}
    (tmp_path / "echo.py").write_text('@tool("shout_once")\ndef shout_once(): ...\n')
    with pytest.raises(DiscoveryError, match=r"shout\.py: tool 'shout_once' is also defined"):
        builtin_tools.__wrapped__()
    (tmp_path / "echo.py").unlink()
    (tmp_path / "helper.py").write_text("def helper() -> None: ...\n")
    with pytest.raises(DiscoveryError, match=r"helper\.py: defines no tool"):
        builtin_tools.__wrapped__()
