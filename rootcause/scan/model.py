"""Typed data of a scan: what to scan (`ScanSpec`), one run's task and result, and an alert.

Everything here crosses process (and, with Ray, machine) boundaries, so it is plain pydantic:
a worker gets a `RunTask` and returns a `RunResult`; only the driver writes files.
"""

from __future__ import annotations

import hashlib
from typing import Literal

import orjson
from pydantic import BaseModel, Field, field_validator

from rootcause.core.evidence import Evidence

#: A registered check's name (`rootcause.scan.checks`).
CheckName = str
Severity = Literal["info", "low", "medium", "high"]
#: Severity order: `info` rows are listed but are not alerts (e.g. a CoT monitor configured to
#: read the reasoning from the first step on, as designed).
SEVERITY_RANK: dict[str, int] = {"info": 0, "low": 1, "medium": 2, "high": 3}
SCAN_FORMAT = "rootcause-scan/1"


def is_alert(severity: str, threshold: Severity = "low") -> bool:
    """Whether a row of this severity is an alert at `threshold` (info rows never are)."""
    rank = SEVERITY_RANK[severity]
    return rank >= max(SEVERITY_RANK[threshold], 1)


class CheckOptions(BaseModel):
    """What each run is checked for; the same for every run of a scan."""

    checks: list[CheckName] = Field(default_factory=lambda: default_checks())
    behaviors: list[str] = Field(default_factory=list)
    clusters: int = Field(0, ge=0, le=30, description="Semantic clusters (0: n-grams only).")
    fmt: str = "auto"
    skip_bad_lines: bool | None = None

    @field_validator("checks")
    @classmethod
    def _registered(cls, names: list[str]) -> list[str]:
        from rootcause.scan.checks import load_checks

        known = load_checks()
        for name in names:
            if name not in known:
                raise ValueError(f"unknown check {name!r} (known: {', '.join(known)})")
        return names

    def key(self) -> str:
        """A short digest of the options and of the checks' versions: results made under
        other options, or by an older version of a check, are not reused."""
        from rootcause.scan.checks import load_checks

        versions = {name: check.version for name, check in load_checks().items()}
        payload = orjson.dumps(
            {**self.model_dump(mode="json"), "versions": versions}, option=orjson.OPT_SORT_KEYS
        )
        return hashlib.sha256(payload).hexdigest()[:16]


def chosen_checks(names: list[str] | None) -> list[str]:
    """The checks `--check` names (once each), or the defaults; an unknown name is one line
    listing the registered ones."""
    from rootcause.core.errors import BadInputError
    from rootcause.scan.checks import load_checks

    known = load_checks()
    for name in names or []:
        if name not in known:
            raise BadInputError(f"--check {name}: choose one of {', '.join(known)}")
    return list(dict.fromkeys(names or default_checks()))


def default_checks() -> list[str]:
    """The checks run when none is named (a per-behaviour check joins them when a
    `--behavior` is given)."""
    from rootcause.scan.checks import load_checks

    return [name for name, check in load_checks().items() if check.default]


class ScanSpec(BaseModel):
    """A scan as asked: run paths or globs, the checks, and how to execute."""

    format: str = SCAN_FORMAT
    patterns: list[str]
    runs: list[str] = Field(default_factory=list, description="The runs the patterns matched.")
    options: CheckOptions = Field(default_factory=CheckOptions)
    workers: int | None = None
    ray: bool = False
    ray_address: str | None = None
    workspace: str
    created: str = ""


class RunTask(BaseModel):
    """Everything a worker needs to scan one run (no shared writable state)."""

    run: str
    workspace: str
    options: CheckOptions
    fingerprint: str | None = None
    versions: str


class Alert(BaseModel):
    """One row of the alert table."""

    run: str
    run_id: str
    check: CheckName
    subject: str = Field(description="The grader, n-gram, cluster or behaviour spec.")
    component: str | None = Field(None, description="The grader or the pushing component.")
    severity: Severity
    first_step: int | None = None
    share: float | None = Field(None, description="Share of samples showing it.")
    evidence: str = Field(description="Evidence id within the run's result.")
    command: str = Field(description="The `rootcause tool` call that reproduces the evidence.")
    detail: str = ""
    example: str | None = Field(None, description="An example text, quoted as data.")
    behavior: str | None = Field(
        None, description="The behaviour spec the alert measured (what triage investigates)."
    )

    def key(self) -> tuple[str, str, str]:
        """What makes an alert the same alert again (a watch raises each key once)."""
        return (self.check, self.subject, self.component or "")


RunStatus = Literal["ok", "error"]


class RunResult(BaseModel):
    """One run scanned: its alerts and the evidence they cite, or its one-line error."""

    run: str
    run_id: str | None = None
    status: RunStatus
    error: str | None = None
    fingerprint: str | None = None
    versions: str
    options_key: str
    samples: int = 0
    steps: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = Field(
        default_factory=dict,
        description="Seconds by phase: setup (the worker's imports, once), ingest (or the check "
        "that it is unchanged), open (the run's store and its counts), and each check by name "
        "(`cpu:NAME`: the CPU seconds the worker spent in it, every thread).",
    )
    alerts: list[Alert] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    #: Set by the driver: taken from an earlier scan instead of run again.
    reused: bool = False

    def alert_count(self, threshold: Severity = "low") -> int:
        return sum(1 for a in self.alerts if is_alert(a.severity, threshold))


class ScanSummary(BaseModel):
    """Counts over a finished scan."""

    format: str = SCAN_FORMAT
    runs: int
    scanned: int
    reused: int
    errors: int
    alerts: int
    by_severity: dict[str, int]
    by_check: dict[str, int]
    samples: int
    seconds: float
    executor: str
