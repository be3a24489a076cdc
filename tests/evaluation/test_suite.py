"""Suite files: what they expand to, and one-line errors naming the file and the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rootcause.evaluation.suite import load_suite
from rootcause.lab.catalogue import BUG_IDS
from tests.conftest import CliResult

REPO = Path(__file__).resolve().parents[2]


def test_dev_suite_covers_every_bug_with_three_seeds() -> None:
    suite = load_suite(REPO / "evals" / "dev")
    assert len(suite.scenarios) >= 30
    for bug in BUG_IDS:
        seeds = {s.seed for s in suite.scenarios if s.bug == bug}
        assert len(seeds) >= 3, bug


def test_folder_concatenates_files_and_overrides_defaults(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "name: mine\ndefaults: {steps: 60}\nscenarios:\n  - {bug: no_bug, seeds: [1, 2]}\n"
    )
    (tmp_path / "b.yml").write_text(
        "scenarios:\n  - {bug: all, seed: 5, groups: 4, samples_format: parquet}\n"
    )
    suite = load_suite(tmp_path)
    assert suite.name == "mine"
    assert [s.id for s in suite.scenarios[:2]] == ["no_bug-s1-60x32x8", "no_bug-s2-60x32x8"]
    assert len(suite.scenarios) == 2 + len(BUG_IDS)
    last = suite.scenarios[-1]
    assert (last.options.steps, last.options.groups, last.options.samples_format) == (
        200,
        4,
        "parquet",
    )


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("scenarios:\n  - {bug: goblin_bug, seeds: [1]}\n", "scenarios[0].bug: unknown bug"),
        ("scenarios:\n  - {bug: no_bug}\n", "scenarios[0]: give `seeds"),
        ("scenarios:\n  - {bug: no_bug, seeds: [1], stepz: 9}\n", "scenarios[0].stepz"),
        ("scenarios:\n  - {bug: no_bug, seeds: [one]}\n", "scenarios[0].seeds[0]"),
        ("defaults: {steps: 3}\nscenarios: []\n", "defaults.steps"),
        ("scenarios: [\n", "not valid YAML"),
        ("- just a list\n", "a mapping with a `scenarios` list"),
        (
            "scenarios:\n  - {bug: no_bug, seeds: [1]}\n  - {bug: no_bug, seed: 1}\n",
            "no_bug-s1 is listed twice",
        ),
    ],
)
def test_bad_suite_is_one_line_naming_file_and_field(
    cli: Callable[..., CliResult], tmp_path: Path, text: str, field: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = cli("eval", "--suite", str(path))
    assert result.code == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert str(path) in lines[0] and field in lines[0], lines[0]


def test_missing_suite_and_unknown_tool(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    result = cli("eval", "--suite", str(tmp_path / "nope.yaml"))
    assert result.code == 2 and "no such suite" in result.err
    suite = tmp_path / "ok.yaml"
    suite.write_text("scenarios:\n  - {bug: no_bug, seeds: [1]}\n")
    result = cli("eval", "--suite", str(suite), "--disable-tools", "overview,telepathy")
    assert result.code == 2 and "unknown tool 'telepathy'" in result.err
    result = cli("eval", "--suite", str(suite), "--brain", "oracle")
    assert result.code == 2 and "unknown brain" in result.err
    result = cli("eval")
    assert result.code == 2 and "--suite" in result.err


def test_repeats_get_their_own_ids(tmp_path: Path) -> None:
    from rootcause.evaluation.runner import trials

    path = tmp_path / "s.yaml"
    path.write_text("scenarios:\n  - {bug: no_bug, seeds: [1]}\n")
    suite = load_suite(path)
    assert [t[0] for t in trials(suite, 1)] == ["no_bug-s1"]
    assert [(t[0], t[2]) for t in trials(suite, 2)] == [("no_bug-s1-r1", 1), ("no_bug-s1-r2", 2)]


def test_symptoms_and_absent_symptoms_expand_to_scenarios(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "scenarios:\n  - bug: no_bug\n    seeds: [1]\n"
        "    symptoms: [it talks oddly, it got chatty]\n    absent_symptoms: [it got rude]\n"
    )
    suite = load_suite(tmp_path)
    got = [(s.id, s.symptom, s.absent) for s in suite.scenarios]
    assert got == [
        ("no_bug-s1-p1", "it talks oddly", False),
        ("no_bug-s1-p2", "it got chatty", False),
        ("no_bug-s1-a1", "it got rude", True),
    ]


def test_paraphrase_suite_asks_every_bug_twice_and_has_absent_symptoms() -> None:
    suite = load_suite(REPO / "evals" / "paraphrase")
    for bug in BUG_IDS:
        asked = {s.symptom for s in suite.scenarios if s.bug == bug and not s.absent}
        assert len(asked) >= 2, bug
    assert any(s.absent for s in suite.scenarios)
