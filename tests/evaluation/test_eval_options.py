"""`rootcause eval` takes the brain's options typed: a name the brain does not take, or a value
that does not fit, stops the eval in one line before any lab run is generated."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult

TINY = Path(__file__).with_name("tiny.yaml")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--brain-option", "telepathy=1"], "--brain-option telepathy: not an option of the"),
        (["--brain-option", "max_turns=9"], "--brain-option max_turns: not an option of the"),
        (["--model", "gpt-4.1"], "--model: not an option of the systematic brain"),
        (["--base-url", "http://localhost:8000/v1"], "--base-url: not an option of the"),
        (["--brain", "llm", "--brain-option", "max_turns=many"], "--brain-option max_turns: "),
        (["--brain", "llm", "--brain-option", "api_key=sk-x"], "--brain-option api_key: not an"),
        (
            ["--brain-option", "disabled_tools=sql"],
            "--brain-option disabled_tools: give the tools as --disable-tools",
        ),
        (["--brain-option", "max_turns"], "expected NAME=VALUE"),
    ],
)
def test_a_brain_option_the_brain_does_not_take_exits_2(
    cli: Callable[..., CliResult], tmp_path: Path, args: list[str], message: str
) -> None:
    ws = tmp_path / "ws"
    result = cli("eval", "--suite", str(TINY), *args, workspace=ws)
    assert result.code == 2, (result.out, result.err)
    (line,) = result.err.strip().splitlines()
    assert line.startswith("error: --") and message in line, line
    assert "sk-x" not in line
    assert not (ws / "eval-cache").exists() and not (ws / "evals").exists()
