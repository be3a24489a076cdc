"""Typed brain options: one model per brain, defaults written once and shown by `--help`, and
an option that does not apply to the brain refused in one line (given, or stored in a spec)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import typer

from rootcause.cli.brain_flags import LLM_PANEL
from rootcause.cli.main import app
from rootcause.core.errors import BadInputError
from rootcause.investigate.job import BRAINS, investigate, options_model
from rootcause.investigate.llm.config import LLMOptions
from rootcause.investigate.options import (
    BrainOptions,
    SystematicOptions,
    override,
    parse_options,
    shown_default,
    stored_form,
)
from rootcause.investigate.state import InvestigationSpec
from rootcause.store.workspace import Workspace
from tests.conftest import CliResult, LabRun


def _one_line(result: CliResult) -> str:
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--model", "gpt-4.1"], "--model"),
        (["--base-url", "http://localhost:8000/v1"], "--base-url"),
        (["--max-turns", "5"], "--max-turns"),
        (["--wall-time", "60"], "--wall-time"),
        (["--no-stream"], "--stream"),
        (["--api-key", "sk-test"], "--api-key"),
    ],
)
def test_an_llm_option_for_the_systematic_brain_is_refused(
    cli: Callable[..., CliResult], quirk_run: LabRun, tmp_path: Path, args: list[str], flag: str
) -> None:
    ws = tmp_path / "ws"
    result = cli("investigate", str(quirk_run.run), "--symptom", "goblins", *args, workspace=ws)
    line = _one_line(result)
    assert line.startswith(f"error: {flag}: not an option of the systematic brain"), line
    assert "sk-test" not in line
    assert not (ws / "investigations").exists()  # refused before anything ran


def test_bad_option_values_and_tools_are_refused_by_name(
    cli: Callable[..., CliResult], quirk_run: LabRun
) -> None:
    run = str(quirk_run.run)
    zero = cli("investigate", run, "--symptom", "x", "--brain", "llm", "--max-turns", "0")
    assert _one_line(zero).startswith("error: --max-turns: Input should be greater than")
    tools = cli("investigate", run, "--symptom", "x", "--disable-tools", "overview,telepathy")
    assert "--disable-tools: unknown tool 'telepathy'" in _one_line(tools)


def _help_entries(text: str) -> dict[str, str]:
    """Each option's help text, wrapped lines joined, keyed by the option's first flag."""
    entries: dict[str, str] = {}
    flag = None
    for line in text.splitlines():
        stripped = line.strip()
        if line.startswith("  -") and stripped.startswith("--"):
            flag = stripped.split()[0]
            entries[flag] = stripped
        elif flag is not None and stripped:
            entries[flag] += " " + stripped
    return {k: " ".join(v.split()) for k, v in entries.items()}


def test_every_llm_option_in_help_shows_the_model_default(
    cli: Callable[..., CliResult],
) -> None:
    entries = _help_entries(cli("investigate", "--help").out)
    command = typer.main.get_command(app).commands["investigate"]  # type: ignore[attr-defined]
    llm_params = [p for p in command.params if getattr(p, "rich_help_panel", "") == LLM_PANEL]
    assert len(llm_params) >= 10
    for param in llm_params:
        help_text = entries[param.opts[0]]
        if param.name == "api_key":  # passed next to the options, never stored in them
            assert "never stored" in help_text
            continue
        if param.name == "ensemble":  # how many investigations, not an option of one
            assert "independent investigations" in help_text
            continue
        assert param.name in LLMOptions.model_fields, param.name  # the CLI's are the model's
        info = LLMOptions.model_fields[param.name]
        default = shown_default(info.get_default(call_default_factory=True))
        if default is None:  # no value to show: the description says what happens instead
            assert (info.description or "")[1:] in help_text, help_text
        else:
            assert f"(default {default})" in help_text, help_text
    assert "(default 80)" in entries["--max-turns"]
    assert "(default 2,000,000)" in entries["--max-tokens"]


def test_resume_refuses_an_option_the_brain_does_not_take(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    folder = ws / "investigations" / "old-run-1"
    folder.mkdir(parents=True)
    spec = InvestigationSpec(
        id="old-run-1",
        run=str(tmp_path / "run"),
        symptom="goblins",
        brain="systematic",
        created="2026-11-01T00:00:00+0000",
        options={"disabled_tools": ["counterfactual"], "model": "gpt-4.1"},
    )
    (folder / "spec.json").write_text(spec.model_dump_json(indent=2))
    line = _one_line(cli("investigate", "--resume", "old-run-1", workspace=ws))
    assert str(folder / "spec.json") in line
    assert "model: not an option of the systematic brain" in line
    spec.options = {"disabled_tools": ["counterfactual"]}
    (folder / "spec.json").write_text(spec.model_dump_json(indent=2))
    given = cli("investigate", "--resume", "old-run-1", "--max-turns", "9", workspace=ws)
    assert _one_line(given).startswith("error: --max-turns: not an option of the systematic")


def test_the_job_refuses_options_of_another_brain(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="model: not an option of the systematic brain"):
        investigate(
            Workspace(tmp_path / "ws"),
            run=tmp_path / "run",
            symptom="goblins",
            options=LLMOptions(model="gpt-4.1"),
        )
    assert not (tmp_path / "ws").exists()


def test_every_brain_has_a_strict_options_model() -> None:
    assert options_model("systematic") is SystematicOptions
    assert options_model("llm") is LLMOptions
    for kind in BRAINS.values():
        assert issubclass(kind.options, BrainOptions)
        assert kind.options.model_config.get("extra") == "forbid"
        assert not any("key" in name or "secret" in name for name in kind.options.model_fields)
    with pytest.raises(BadInputError, match="unknown brain 'oracle'"):
        options_model("oracle")


def test_parse_names_the_option_and_lists_what_the_brain_takes() -> None:
    with pytest.raises(BadInputError) as unknown:
        parse_options(SystematicOptions, "systematic", {"max_turns": 3})
    assert str(unknown.value) == (
        "max_turns: not an option of the systematic brain (its options: disabled_tools)"
    )
    with pytest.raises(BadInputError, match=r"^--brain-option max_turns: Input should be"):
        parse_options(LLMOptions, "llm", {"max_turns": "many"}, lambda n: f"--brain-option {n}")
    typed = parse_options(LLMOptions, "llm", {"max_turns": "7", "stream": "true"})
    assert (typed.max_turns, typed.stream) == (7, True)


def test_stored_form_keeps_what_was_set_and_reads_back() -> None:
    options = LLMOptions(model="qwen3", max_turns=50, disabled_tools=["sql", "sql", "onset"])
    stored = stored_form(options)
    assert stored == {"model": "qwen3", "max_turns": 50, "disabled_tools": ["sql", "onset"]}
    assert LLMOptions.model_validate(stored) == options
    # a spec written before the options were typed (only the given names) reads the same way
    assert LLMOptions.model_validate({"max_turns": 50}).max_turns == 50
    assert stored_form(SystematicOptions()) == {}


def test_override_replaces_only_what_is_given() -> None:
    stored = LLMOptions(model="qwen3", max_turns=50)
    merged = override(stored, LLMOptions(max_turns=90, stream=True), "llm")
    assert stored_form(merged) == {"model": "qwen3", "max_turns": 90, "stream": True}
    assert override(stored, None, "llm") is stored
    with pytest.raises(BadInputError, match=r"^model: not an option of the systematic brain"):
        override(SystematicOptions(), LLMOptions(model="x"), "systematic")


def test_options_load_without_the_sdk_or_the_protocol() -> None:
    code = (
        "import sys\n"
        "import rootcause.cli.main, rootcause.investigate.options\n"
        "from rootcause.investigate.llm.config import LLMOptions\n"
        "LLMOptions(max_turns=3)\n"
        "heavy = [m for m in ('agents', 'langgraph', 'openai') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
