"""Scan every run for pathologies and watch live ones (headless library API).

    from rootcause.scan import CheckOptions, scan, scan_resume
    result = scan(["runs/*"], Workspace.resolve(), CheckOptions(behaviors=["terms:goblin"]))
    for alert in result.alerts: ...

    job = start_scan(ScanRequest(runs=["runs/*"], workspace=Workspace.resolve()))
    for event in job.events(): ...      # typed events (`rootcause.scan.events`)
    result = job.wait()

The per-run task is one function (`rootcause.scan.task.scan_run`), run by a local process
pool or by Ray (`rootcause.scan.executors`); the driver alone writes the scan folder.
"""

from rootcause.scan.events import ScanEvent, parse_scan_event
from rootcause.scan.job import (
    ScanCancelledError,
    ScanJob,
    ScanRequest,
    run_scan,
    scan,
    scan_resume,
    start_scan,
)
from rootcause.scan.model import (
    Alert,
    CheckOptions,
    RunResult,
    ScanSpec,
    ScanSummary,
    Severity,
)
from rootcause.scan.runner import ScanProgress, ScanResult

__all__ = [
    "Alert",
    "CheckOptions",
    "RunResult",
    "ScanCancelledError",
    "ScanEvent",
    "ScanJob",
    "ScanProgress",
    "ScanRequest",
    "ScanResult",
    "ScanSpec",
    "ScanSummary",
    "Severity",
    "parse_scan_event",
    "run_scan",
    "scan",
    "scan_resume",
    "start_scan",
]
