"""The catalogue of seeded bugs: stable ids and one-line descriptions, read from the registry
of `lab/bugs/` (one module per bug).

The ids are part of the public interface (answer keys and eval suites refer to them), and each
bug's index seeds its random streams, so neither ever changes.
"""

from __future__ import annotations

from rootcause.lab.bugs import BugSpec, load_bugs

CATALOGUE: tuple[BugSpec, ...] = tuple(load_bugs().values())

BUG_IDS: tuple[str, ...] = tuple(spec.id for spec in CATALOGUE)


def bug_index(bug: str) -> int:
    """The bug's stable index (used to derive per-bug random streams)."""
    return load_bugs()[bug].index
