"""A scan check is one registered object: the CLI's choices, the defaults, the options' key and
the README's table follow the registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rootcause.scan.checks import SCAN_CHECKS, load_checks, scan_check
from rootcause.scan.model import CheckOptions, default_checks
from tests.conftest import CliResult


def test_defaults_validation_and_key_follow_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    checks = load_checks()
    assert default_checks() == [n for n, c in checks.items() if c.default]
    assert all(c.run.__module__ == f"rootcause.scan.checks.{n}" for n, c in checks.items())
    with pytest.raises(ValueError, match="unknown check 'nope'"):
        CheckOptions(checks=["nope"])
    before = CheckOptions().key()
    bumped = checks["emerging"]
    monkeypatch.setitem(SCAN_CHECKS, "emerging", type(bumped)(**{**vars(bumped), "version": 99}))
    assert CheckOptions().key() != before  # an older version's results are not reused
    with pytest.raises(ValueError, match="registered twice"):
        scan_check("emerging", version=1, summary="again")(lambda check: None)


def test_an_unknown_check_names_the_registered_ones(cli: Callable[..., CliResult]) -> None:
    result = cli("scan", "x", "--check", "no")
    assert result.code == 2 and "Traceback" not in result.err
    assert all(name in result.err for name in load_checks())


def test_the_readme_table_lists_every_check() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("| check | version | default | looks for |", 1)[1].split("\n\n", 1)[0]
    rows = [[cell.strip() for cell in line.split("|")[1:5]] for line in table.splitlines()[2:]]
    checks = load_checks()
    assert [r[0].strip("`") for r in rows] == list(checks)
    assert [int(r[1]) for r in rows] == [c.version for c in checks.values()]
    assert [r[3] for r in rows] == [c.summary for c in checks.values()]
