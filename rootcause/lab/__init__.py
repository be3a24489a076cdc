"""The lab: a small but real RL simulator that writes runs with seeded bugs.

`new_run` writes a run folder in the native format (`rootcause-run/1`) plus an answer key kept
outside it; `rerun` re-simulates a run from its answer key with a patch applied to the config
repository, so a proposed fix can be checked by intervention. Only the lab and evaluation code
may read answer keys.
"""

from __future__ import annotations

from rootcause.lab.api import RunResult, new_run, rerun
from rootcause.lab.catalogue import CATALOGUE, BugSpec

__all__ = ["CATALOGUE", "BugSpec", "RunResult", "new_run", "rerun"]
