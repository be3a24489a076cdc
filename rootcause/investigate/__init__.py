"""The investigation: a LangGraph protocol driven by a pluggable brain, a hypothesis ledger,
the report (`rootcause-report/1`), the typed event stream and the job API the faces call.

    start_investigation(workspace, InvestigationRequest(...)) -> InvestigationHandle
    investigate(workspace, run=..., symptom=...) -> Outcome        (blocking, same code)
    list_investigations(workspace) -> [InvestigationSummary]

The names load on first use, so importing this package stays light (no LangGraph, no tools).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rootcause.investigate.cancel import CancelToken, JobCancelled
    from rootcause.investigate.events import InvestigationEvent, parse_event
    from rootcause.investigate.folder import InvestigationSummary, list_investigations
    from rootcause.investigate.handle import InvestigationHandle, start_investigation
    from rootcause.investigate.job import InvestigationRequest, Outcome, investigate

_WHERE = {
    "CancelToken": "cancel",
    "JobCancelled": "cancel",
    "InvestigationEvent": "events",
    "parse_event": "events",
    "InvestigationSummary": "folder",
    "list_investigations": "folder",
    "InvestigationHandle": "handle",
    "start_investigation": "handle",
    "InvestigationRequest": "job",
    "Outcome": "job",
    "investigate": "job",
}

__all__ = [
    "CancelToken",
    "InvestigationEvent",
    "InvestigationHandle",
    "InvestigationRequest",
    "InvestigationSummary",
    "JobCancelled",
    "Outcome",
    "investigate",
    "list_investigations",
    "parse_event",
    "start_investigation",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"rootcause.investigate.{_WHERE[name]}"), name)
    raise AttributeError(name)
