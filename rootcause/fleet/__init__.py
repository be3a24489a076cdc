"""Fleet triage: a scan's alerts, each investigated (`triage`)."""

from rootcause.fleet.triage import TriageProgress, TriageRow, triage

__all__ = ["TriageProgress", "TriageRow", "triage"]
