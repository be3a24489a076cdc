"""Types of the native run format `rootcause-run/1` and of what we know about an ingested run."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RUN_FORMAT: Literal["rootcause-run/1"] = "rootcause-run/1"

SampleField = Literal[
    "step",
    "sample_id",
    "group_id",
    "split",
    "data_source",
    "persona",
    "env",
    "prompt",
    "reasoning",
    "completion",
    "reference",
    "rewards",
    "reward_total",
    "advantage",
    "grader_inputs",
    "meta",
]

#: Slices a behaviour can be split by; each is a text column of the samples table.
SLICE_FIELDS: tuple[str, ...] = ("persona", "data_source", "env", "split")


class Deployment(BaseModel):
    """A config commit that went live at `step` and stayed live until the next deployment."""

    model_config = ConfigDict(extra="forbid")

    step: int = Field(ge=0)
    commit: str = Field(min_length=4)


class RunManifest(BaseModel):
    """`run.yaml` of a native run."""

    model_config = ConfigDict(extra="allow")

    format: Literal["rootcause-run/1"] = RUN_FORMAT
    run_id: str = Field(min_length=1)
    title: str | None = None
    config_repo: str | None = None
    deployments: list[Deployment] = Field(default_factory=list)


class DeploymentInfo(BaseModel):
    """A deployment resolved against the config repository."""

    step: int
    commit: str
    message: str | None = None
    author: str | None = None
    committed_at: str | None = None


class RunOverview(BaseModel):
    """What is in an ingested run, at a glance."""

    run_id: str
    title: str | None
    format: str
    source: str
    samples: int
    groups: int
    first_step: int | None
    last_step: int | None
    steps: int
    personas: dict[str, int]
    data_sources: dict[str, int]
    envs: dict[str, int]
    splits: dict[str, int]
    components: list[str]
    graders_with_inputs: list[str]
    has_reasoning: bool
    has_advantage: bool
    metrics: list[str]
    config_repo: str | None
    deployments: list[DeploymentInfo]
    notes: list[str]
