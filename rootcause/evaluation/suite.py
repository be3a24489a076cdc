"""Eval suites: which lab scenarios to investigate (bug ids x seeds x lab sizes).

A suite is a YAML file, or a folder of them (read in name order and concatenated):

    name: dev
    defaults: {steps: 200, groups: 32, group_size: 8}
    scenarios:
      - bug: all                 # every bug id in the catalogue, or one id, or a list of ids
        seeds: [1, 2, 3]         # or `seed: 4`
      - bug: [no_bug, two_bugs]
        seeds: [4]
        steps: 60                # any lab option overrides the defaults for this entry
      - bug: persona_reward_quirk
        seeds: [1]
        symptoms: ["..."]        # asked with these symptoms instead of the key's, one
                                 # scenario each (`<bug>-s<seed>-p<i>`)
        absent_symptoms: ["..."] # symptoms the run does not show: the right verdict is
                                 # `symptom_not_found` (`<bug>-s<seed>-a<i>`)

Errors are one line naming the file and the field (`suite.yaml: scenarios[1].bug: ...`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rootcause.core.errors import LocatedError
from rootcause.lab.catalogue import BUG_IDS
from rootcause.store.paths import shown_name, utf8_name

DEFAULT_SIZE = {"steps": 200, "groups": 32, "group_size": 8}


class SuiteError(LocatedError):
    """A suite file that cannot be used as given."""


class LabOptions(BaseModel):
    """How a lab run is generated (besides bug and seed); part of the cache key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: int = Field(200, ge=30)
    groups: int = Field(32, ge=2)
    group_size: int = Field(8, ge=2)
    samples_format: str = Field("jsonl.gz", pattern=r"^(jsonl\.gz|parquet)$")


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bug: str | list[str]
    seeds: list[int] | None = None
    seed: int | None = None
    steps: int | None = Field(None, ge=30)
    groups: int | None = Field(None, ge=2)
    group_size: int | None = Field(None, ge=2)
    samples_format: str | None = Field(None, pattern=r"^(jsonl\.gz|parquet)$")
    symptoms: list[str] | None = Field(None, min_length=1)
    absent_symptoms: list[str] | None = Field(None, min_length=1)

    @field_validator("bug")
    @classmethod
    def _known(cls, value: str | list[str]) -> str | list[str]:
        names = [value] if isinstance(value, str) else value
        if not names:
            raise ValueError("needs at least one bug id")
        for name in names:
            if name != "all" and name not in BUG_IDS:
                raise ValueError(f"unknown bug {name!r} (known: all, {', '.join(BUG_IDS)})")
        return value

    def bugs(self) -> list[str]:
        names = [self.bug] if isinstance(self.bug, str) else self.bug
        out: list[str] = []
        for name in names:
            out += list(BUG_IDS) if name == "all" else [name]
        return out

    def seed_list(self) -> list[int]:
        return list(self.seeds or []) + ([self.seed] if self.seed is not None else [])


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    defaults: LabOptions = Field(default_factory=LabOptions)
    scenarios: list[_Entry]


class Scenario(BaseModel):
    """One lab run to investigate: a bug, a seed and how the run is generated."""

    model_config = ConfigDict(frozen=True)

    id: str
    bug: str
    seed: int
    options: LabOptions
    source: str = ""
    symptom: str | None = None  # None: the answer key's symptom
    absent: bool = False  # the symptom is not in the run: right is `symptom_not_found`


class Suite(BaseModel):
    """Scenarios in order, with the files they came from."""

    name: str
    files: list[str]
    scenarios: list[Scenario]


def scenario_id(bug: str, seed: int, options: LabOptions) -> str:
    """`bug-s<seed>`, plus the size (and format) when they are not the lab's defaults."""
    sid = f"{bug}-s{seed}"
    size = (options.steps, options.groups, options.group_size)
    if size != tuple(DEFAULT_SIZE.values()):
        sid += f"-{size[0]}x{size[1]}x{size[2]}"
    if options.samples_format != "jsonl.gz":
        sid += f"-{options.samples_format}"
    return sid


def _field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "(top level)"


def _read_text(path: Path) -> str:
    """The suite file as text; not UTF-8 is a located error (byte and line)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SuiteError(f"cannot read: {exc.strerror or exc}", shown_name(path)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise SuiteError(f"not valid UTF-8 (byte 0x{bad})", shown_name(path), line) from None


def _read_file(path: Path) -> tuple[str | None, list[Scenario]]:
    try:
        raw: Any = yaml.safe_load(_read_text(path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        raise SuiteError(f"not valid YAML: {getattr(exc, 'problem', exc)}", path, line) from None
    if not isinstance(raw, dict):
        raise SuiteError("a suite is a mapping with a `scenarios` list", path)
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(
            p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("str", "list")))
        )
        msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        raise SuiteError(f"{_field(loc)}: {msg.removeprefix('Value error, ')}", path) from None
    out: list[Scenario] = []
    for i, entry in enumerate(parsed.scenarios):
        seeds = entry.seed_list()
        if not seeds:
            raise SuiteError(f"scenarios[{i}]: give `seeds: [..]` or `seed: N`", path)
        overrides = {
            k: v
            for k, v in entry.model_dump(include=set(LabOptions.model_fields)).items()
            if v is not None
        }
        options = parsed.defaults.model_copy(update=overrides)
        asked: list[tuple[str, str | None, bool]] = []
        asked += [(f"-p{k}", text, False) for k, text in enumerate(entry.symptoms or [], 1)]
        asked += [(f"-a{k}", text, True) for k, text in enumerate(entry.absent_symptoms or [], 1)]
        for bug in entry.bugs():
            for seed in seeds:
                sid = scenario_id(bug, seed, options)
                for suffix, symptom, absent in asked or [("", None, False)]:
                    out.append(
                        Scenario(
                            id=sid + suffix,
                            bug=bug,
                            seed=seed,
                            options=options,
                            source=str(path),
                            symptom=symptom,
                            absent=absent,
                        )
                    )
    return parsed.name, out


def load_suite(path: Path) -> Suite:
    """Read a suite file or folder; duplicated scenarios are an error."""
    if not utf8_name(path):
        raise SuiteError("the path is not valid UTF-8; rename it", shown_name(path))
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        for file in files:
            if not utf8_name(file.name):
                raise SuiteError("the file name is not valid UTF-8; rename it", shown_name(file))
        if not files:
            raise SuiteError("no *.yaml suite files in this folder", path)
    elif path.is_file():
        files = [path]
    else:
        raise SuiteError("no such suite file or folder", path)
    name: str | None = None
    scenarios: list[Scenario] = []
    seen: dict[str, str] = {}
    for file in files:
        file_name, found = _read_file(file)
        name = name or file_name
        for scn in found:
            if scn.id in seen:
                raise SuiteError(
                    f"scenario {scn.id} is listed twice (also in {seen[scn.id]})", file
                )
            seen[scn.id] = str(file)
            scenarios.append(scn)
    if not scenarios:
        raise SuiteError("the suite lists no scenarios", path)
    default_name = path.stem if path.is_file() else path.name
    return Suite(name=name or default_name, files=[str(f) for f in files], scenarios=scenarios)
