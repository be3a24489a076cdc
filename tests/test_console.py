"""The CLI's consoles: diagnostics on stderr stay one line each off a terminal."""

from __future__ import annotations

import pytest


def test_stderr_lines_are_not_wrapped_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from rootcause.cli.common import stderr_console

    line = "note: " + "x" * 150
    stderr_console().print(line)
    assert capsys.readouterr().err == line + "\n"
