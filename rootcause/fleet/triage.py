"""Fleet triage: after a scan, an investigation of each alert that names a behaviour, the most
severe first and at most `max_investigations`, with the alert's behaviour as the detector (the
scan already measured it; the user's words are the alert's). Each row says the verdict, the top
cause and where the report is; `triage.json` in the scan folder keeps them (written through a
temporary file), so a triage run again reuses the investigations it finished.

This layer sits above both the scan and the investigators: neither imports the other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
from pydantic import BaseModel, TypeAdapter

from rootcause.core.errors import RootcauseError
from rootcause.investigate.job import investigate
from rootcause.scan.folder import write_atomic
from rootcause.scan.model import SEVERITY_RANK, Alert, Severity, is_alert
from rootcause.scan.runner import ScanResult
from rootcause.scan.table import sorted_alerts
from rootcause.store.options import IngestOptions
from rootcause.store.workspace import Workspace

logger = logging.getLogger(__name__)

TRIAGE_JSON = "triage.json"


class TriageRow(BaseModel):
    """One alert and what its investigation found (or why there is none)."""

    run: str
    run_id: str
    check: str
    subject: str
    severity: str
    behavior: str
    investigation: str | None = None
    verdict: str | None = None
    top_cause: str | None = None
    confidence: float | None = None
    report: str | None = None
    error: str | None = None

    def key(self) -> tuple[str, str]:
        return (self.run, self.behavior)


@dataclass(frozen=True)
class TriageProgress:
    """`done` of `total` investigations finished; `row` the one just done."""

    done: int
    total: int
    row: TriageRow | None = None


def triage(
    result: ScanResult,
    workspace: Workspace,
    max_investigations: int = 3,
    threshold: Severity = "low",
    on_progress: Callable[[TriageProgress], None] | None = None,
) -> list[TriageRow]:
    """Investigate the scan's alerts (see the module doc); returns the rows in order."""
    chosen = _chosen(result.alerts, max_investigations, threshold)
    path = result.folder / TRIAGE_JSON
    done = {row.key(): row for row in _read(path) if row.verdict is not None}
    rows: list[TriageRow] = []
    for alert in chosen:
        assert alert.behavior is not None
        row = done.get((alert.run, alert.behavior)) or _investigated(
            alert, workspace, result.spec.options.fmt, result.spec.options.skip_bad_lines
        )
        rows.append(row)
        write_atomic(path, _dump(rows), result.folder)
        if on_progress is not None:
            on_progress(TriageProgress(len(rows), len(chosen), row))
    return rows


def _chosen(alerts: list[Alert], most: int, threshold: Severity) -> list[Alert]:
    """Alerts at or above `threshold` naming a behaviour, most severe first, one per (run,
    behaviour), at most `most`."""
    seen: set[tuple[str, str]] = set()
    chosen: list[Alert] = []
    for alert in sorted_alerts(alerts):
        if alert.behavior is None or not is_alert(alert.severity, threshold):
            continue
        if (alert.run, alert.behavior) in seen:
            continue
        seen.add((alert.run, alert.behavior))
        chosen.append(alert)
    chosen.sort(key=lambda a: -SEVERITY_RANK[a.severity])
    return chosen[: max(most, 0)]


def _investigated(
    alert: Alert, workspace: Workspace, fmt: str, skip_bad_lines: bool | None
) -> TriageRow:
    assert alert.behavior is not None
    row = TriageRow(
        run=alert.run,
        run_id=alert.run_id,
        check=alert.check,
        subject=alert.subject,
        severity=alert.severity,
        behavior=alert.behavior,
    )
    symptom = f"{alert.subject} (a {alert.severity} {alert.check} alert of a scan: {alert.detail})"
    try:
        outcome = investigate(
            workspace,
            run=Path(alert.run),
            symptom=symptom,
            behavior=alert.behavior,
            run_format=fmt,
            ingest_options=IngestOptions(skip_bad_lines=skip_bad_lines),
        )
    except RootcauseError as exc:
        logger.info("triage of %s in %s failed: %s", alert.subject, alert.run, exc)
        return row.model_copy(update={"error": str(exc)})
    report = outcome.report
    top = report.findings[0] if report.findings else None
    return row.model_copy(
        update={
            "investigation": report.id,
            "verdict": report.verdict,
            "top_cause": None if top is None else f"{top.kind} {top.id}",
            "confidence": None if top is None else top.confidence,
            "report": str(outcome.markdown_path),
        }
    )


_ROWS = TypeAdapter(list[TriageRow])


def _read(path: Path) -> list[TriageRow]:
    """The rows of an earlier triage of this scan folder (none if unreadable)."""
    try:
        return _ROWS.validate_json(path.read_bytes())
    except (OSError, ValueError):
        return []


def _dump(rows: list[TriageRow]) -> bytes:
    return orjson.dumps([r.model_dump(mode="json") for r in rows], option=orjson.OPT_INDENT_2)
