"""The run overlay: what a foreign log folder does not say about its run, given from outside.

A `rootcause.yaml` next to the logs (or `--overlay PATH`), and the same keys as command-line
options, attach to a run as it lies on disk what an investigation needs and the logs lack:

```yaml
run_id: nerdy-grpo
title: Nerdy persona GRPO run
config_repo: ../configs                       # relative to this file
deployments: ["0:3f2a9c1", "140:9bc1d07"]      # or [{step, commit}], or {file: live.txt}
labels:
  persona: {from: prompt, regex: 'persona: (\\w+)'}
  data_source: {from: column, column: dataset}
components: {exclude: [length]}              # or {include: [...]}, or a list to include
weights: {format_reward: 1, accuracy: 1, style: 0.3}   # or fit, or {from: config, file: ...}
reasoning: think_tags                         # or {regex: '<scratch>(.*?)</scratch>'}
group_size: 8
table: completions                            # W&B: which table key to read
checkpoints: [mockllm/ckpt-100, mockllm/ckpt-200]  # Inspect: logs in training order
```

The overlay is part of the run's identity (its resolved form joins the fingerprint), and the run
folder stays read-only: the overlay is only ever read. `RunOverlay.over` merges keys given on
the command line over those of a file (and over those stored with an earlier ingest).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rootcause.core.errors import BadInputError, LocatedError
from rootcause.core.limits import read_capped
from rootcause.core.run import SLICE_FIELDS, Deployment
from rootcause.store.workspace import real_path

#: The file an overlay is found in, next to a log folder.
OVERLAY_NAME = "rootcause.yaml"

LabelSource = Literal["prompt", "completion", "reasoning", "reference", "column", "value"]
_TEXT_SOURCES = ("prompt", "completion", "reasoning", "reference")
_PAIR = re.compile(r"^\s*(\d+)\s*[:=]\s*([0-9A-Za-z_./-]{4,})\s*$")


class LabelRule(BaseModel):
    """Where a label's value comes from: a regex over a text field (its first group, else the
    whole match), a column the importer kept in `extras`, or one value for every sample."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: LabelSource = Field(alias="from")
    regex: str | None = None
    column: str | None = None
    value: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _implied_source(cls, data: Any) -> Any:
        if isinstance(data, dict) and "from" not in data and "source" not in data:
            for key in ("column", "value"):
                if key in data:
                    return {**data, "from": key}
        return data

    @model_validator(mode="after")
    def _complete(self) -> LabelRule:
        if self.source in _TEXT_SOURCES:
            if not self.regex:
                raise ValueError(f"a label from {self.source} needs a regex")
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex {self.regex!r} does not compile: {exc}") from None
        elif self.source == "column" and not self.column:
            raise ValueError("a label from a column needs `column`")
        elif self.source == "value" and self.value is None:
            raise ValueError("a constant label needs `value`")
        return self

    def describe(self) -> str:
        if self.source in _TEXT_SOURCES:
            return f"{self.source} regex '{self.regex}'"
        if self.source == "column":
            return f"column {self.column!r}"
        return f"the value {self.value!r}"


class ComponentFilter(BaseModel):
    """Which numeric columns are reward components: only `include` (when given), never
    `exclude`; the others are kept as extras."""

    model_config = ConfigDict(extra="forbid")

    include: list[str] | None = None
    exclude: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _list_means_include(cls, data: Any) -> Any:
        return {"include": data} if isinstance(data, list) else data

    def keeps(self, name: str) -> bool:
        if name in self.exclude:
            return False
        return self.include is None or name in self.include


class WeightsSpec(BaseModel):
    """Component weights: `fixed` numbers, read from a config `file` in the config repo at each
    deployed commit (`key`: a dotted path to a name -> weight mapping or a list aligned with
    `reward_funcs`), or `fit` from the logged advantage (or total)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: Literal["fixed", "config", "fit"] = Field(alias="from")
    fixed: dict[str, float] = Field(default_factory=dict)
    file: str | None = None
    key: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if data == "fit":
            return {"from": "fit"}
        if isinstance(data, dict) and "from" not in data and "kind" not in data:
            return {"from": "fixed", "fixed": data}
        return data

    @model_validator(mode="after")
    def _complete(self) -> WeightsSpec:
        if self.kind == "config" and not self.file:
            raise ValueError("weights from a config need `file` (a path in the config repo)")
        if self.kind == "fixed" and not self.fixed:
            raise ValueError("give at least one weight (name: number)")
        return self

    def describe(self) -> str:
        if self.kind == "fixed":
            return ", ".join(f"{k} {v:g}" for k, v in self.fixed.items())
        if self.kind == "config":
            return f"{self.file}" + (f" ({self.key})" if self.key else "")
        return "fitted"


class ReasoningSpec(BaseModel):
    """How to split reasoning out of the completion: `<think>...</think>` tags (a completion
    that only closes the tag, as templates that open it in the prompt write, counts too), or a
    regex whose first group is the reasoning."""

    model_config = ConfigDict(extra="forbid")

    think_tags: bool = False
    regex: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"think_tags": True} if data == "think_tags" else data

    @model_validator(mode="after")
    def _one(self) -> ReasoningSpec:
        if self.think_tags == (self.regex is not None):
            raise ValueError("give either think_tags or a regex")
        if self.regex is not None:
            try:
                pattern = re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex {self.regex!r} does not compile: {exc}") from None
            if pattern.groups < 1:
                raise ValueError("the reasoning regex needs a group around the reasoning")
        return self


class DeploymentsSpec(BaseModel):
    """Which config commit was live from which step: a list, or a file read at each ingest
    (lines of `STEP COMMIT`, `STEP:COMMIT`, CSV `step,commit` or JSON lines; consecutive steps
    with the same commit are one deployment)."""

    model_config = ConfigDict(extra="forbid")

    items: list[Deployment] | None = None
    file: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, list):
            return {"items": [_deployment_item(item) for item in data]}
        if isinstance(data, str):
            return {"file": data}
        return data


def _deployment_item(item: Any) -> Any:
    if isinstance(item, str):
        match = _PAIR.match(item)
        if match is None:
            raise ValueError(f"{item!r} is not STEP:COMMIT")
        return {"step": int(match.group(1)), "commit": match.group(2)}
    return item


#: The largest group size accepted (a larger one is a typo, and overflows the tables).
MAX_GROUP_SIZE = 1_000_000


class RunOverlay(BaseModel):
    """Every key an overlay may give; None (or absent) means "not said here"."""

    model_config = ConfigDict(extra="forbid")

    run_id: str | None = Field(None, min_length=1)
    title: str | None = None
    config_repo: str | None = None
    deployments: DeploymentsSpec | None = None
    labels: dict[str, LabelRule] | None = None
    components: ComponentFilter | None = None
    weights: WeightsSpec | None = None
    reasoning: ReasoningSpec | None = None
    group_size: int | None = Field(None, ge=1, le=MAX_GROUP_SIZE)
    table: str | None = None
    #: Inspect: the checkpoints in training order, by `eval.model` or log file name.
    checkpoints: list[str] | None = None

    @field_validator("checkpoints")
    @classmethod
    def _checkpoint_names(cls, names: list[str] | None) -> list[str] | None:
        if names is not None:
            if not names or any(not n.strip() for n in names):
                raise ValueError("checkpoints must be a list of non-empty names")
            if len(set(names)) < len(names):
                raise ValueError("checkpoints names a checkpoint twice")
        return names

    @field_validator("labels")
    @classmethod
    def _label_names(cls, labels: dict[str, LabelRule] | None) -> dict[str, LabelRule] | None:
        for name in labels or {}:
            if name not in SLICE_FIELDS:
                raise ValueError(f"label {name!r} is not one of {', '.join(SLICE_FIELDS)}")
        return labels

    def over(self, base: RunOverlay | None) -> RunOverlay:
        """These keys where given, `base`'s elsewhere (labels merge name by name)."""
        if base is None:
            return self
        given = self.model_dump(exclude_none=True, by_alias=True)
        merged = base.model_dump(exclude_none=True, by_alias=True)
        if "labels" in given and "labels" in merged:
            given["labels"] = {**merged["labels"], **given["labels"]}
        return RunOverlay.model_validate({**merged, **given})

    def is_empty(self) -> bool:
        return not self.model_dump(exclude_none=True)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)

    @classmethod
    def from_json(cls, value: object) -> RunOverlay | None:
        """An overlay stored by an earlier ingest, or None when absent or unreadable."""
        if not isinstance(value, dict):
            return None
        try:
            return cls.model_validate(value)
        except ValidationError:
            return None

    def rebased(self, base_dir: Path) -> RunOverlay:
        """Paths (config_repo, a deployments file) made absolute against `base_dir`."""
        update: dict[str, Any] = {}
        if self.config_repo is not None:
            update["config_repo"] = str(_absolute(self.config_repo, base_dir))
        if self.deployments is not None and self.deployments.file is not None:
            path = str(_absolute(self.deployments.file, base_dir))
            update["deployments"] = DeploymentsSpec(file=path)
        return self.model_copy(update=update)


def _absolute(path: str, base_dir: Path) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else real_path(base_dir / candidate)


def _error_text(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def parse_overlay(doc: Any, where: str | Path) -> RunOverlay:
    """Validate an overlay document; a bad key is one error naming `where` and the key."""
    if doc is None:
        return RunOverlay()
    if not isinstance(doc, dict):
        raise LocatedError("an overlay must be a YAML mapping of keys (run_id, labels, ...)", where)
    try:
        return RunOverlay.model_validate(doc)
    except ValidationError as exc:
        raise LocatedError(f"overlay key {_error_text(exc)}", where) from None


def read_overlay(path: Path) -> RunOverlay:
    """Read an overlay file; its relative paths are taken from the file's folder."""
    try:
        text = read_capped(path, "overlay").decode("utf-8")
    except UnicodeDecodeError:
        raise LocatedError("not valid UTF-8", path) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or "could not parse"
        raise LocatedError(f"not valid YAML: {problem}", path, line) from None
    return parse_overlay(doc, path).rebased(path.parent)


def find_overlay(given: Path, root: Path) -> Path | None:
    """`rootcause.yaml` next to the logs: in the folder given (or the given file's folder),
    else in the run's root folder."""
    first = given if given.is_dir() else given.parent
    for folder in dict.fromkeys((first, root)):
        candidate = folder / OVERLAY_NAME
        # Anything by that name but a folder is the overlay: a FIFO or device is then refused
        # in one line when read, not passed over in silence.
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return None


def overlay_value(key: str, value: Any, where: str) -> RunOverlay:
    """A one-key overlay from a command-line value; errors name the option `where`."""
    try:
        return RunOverlay.model_validate({key: value})
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise BadInputError(f"{where}: {message}") from None
