"""Seeded bugs are registered objects, one module each: the catalogue, `lab list` and the
suites read the registry, indices (which seed each bug's random streams) never repeat, and a
second registration of an id is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

import rootcause.lab.bugs as bugs_package
from rootcause.lab.bugs import BUGS, load_bugs, seeded_bug
from rootcause.lab.catalogue import BUG_IDS, CATALOGUE, bug_index


def test_the_catalogue_is_the_registry_one_module_per_bug() -> None:
    registered = load_bugs()
    assert [spec.id for spec in CATALOGUE] == list(registered) == list(BUG_IDS)
    assert sorted(spec.index for spec in CATALOGUE) == list(range(len(CATALOGUE)))
    modules = {p.stem for p in Path(bugs_package.__file__).parent.glob("*.py")} - {"__init__"}
    assert modules == set(BUG_IDS)
    for spec in CATALOGUE:
        assert spec.seed.__module__ == f"rootcause.lab.bugs.{spec.id}"
        assert bug_index(spec.id) == spec.index and spec.summary and spec.cause_kind


def test_a_bug_id_or_index_registered_twice_is_refused() -> None:
    load_bugs()
    with pytest.raises(ValueError, match="registered twice"):
        seeded_bug("no_bug", index=99, summary="again", cause_kind="none")(lambda setup: None)
    with pytest.raises(ValueError, match="registered twice"):
        seeded_bug("brand_new", index=0, summary="clash", cause_kind="none")(lambda setup: None)
    assert "brand_new" not in BUGS


def test_the_readme_lists_every_bug_in_registry_order() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("| bug id | mechanism | cause kind |", 1)[1].split("\n\n", 1)[0]
    rows = [line.split("|")[1:4] for line in table.splitlines()[2:]]
    assert [r[0].strip().strip("`") for r in rows] == list(BUG_IDS)
    assert [r[2].strip() for r in rows] == [spec.cause_kind for spec in CATALOGUE]
