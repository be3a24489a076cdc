"""Scan every run for pathologies and watch live ones (headless library API).

    from rootcause.scan import CheckOptions, scan, scan_resume
    result = scan(["runs/*"], Workspace.resolve(), CheckOptions(behaviors=["terms:goblin"]))
    for alert in result.alerts: ...

The per-run task is one function (`rootcause.scan.task.scan_run`), run by a local process
pool or by Ray (`rootcause.scan.executors`); the driver alone writes the scan folder.
"""

from rootcause.scan.model import (
    Alert,
    CheckOptions,
    RunResult,
    ScanSpec,
    ScanSummary,
    Severity,
)
from rootcause.scan.runner import ScanProgress, ScanResult, scan, scan_resume

__all__ = [
    "Alert",
    "CheckOptions",
    "RunResult",
    "ScanProgress",
    "ScanResult",
    "ScanSpec",
    "ScanSummary",
    "Severity",
    "scan",
    "scan_resume",
]
