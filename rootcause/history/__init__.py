"""Reward and data config history: commits, when each went live, and semantic diffs.

Read-only over the user's git repository (see `rootcause.store.config_repo`). Imports only
`core` and `store`; the tools layer builds on it.
"""

from rootcause.core.config_effects import Effect
from rootcause.history.links import (
    changes_touching,
    component_inputs,
    component_of,
    effects,
    files_for_component,
    touched_names,
)
from rootcause.history.structural import FileDiff, KeyChange, diff_file, diff_values
from rootcause.history.timeline import CommitDiff, CommitInfo, ConfigHistory, open_history

__all__ = [
    "CommitDiff",
    "CommitInfo",
    "ConfigHistory",
    "Effect",
    "FileDiff",
    "KeyChange",
    "changes_touching",
    "component_inputs",
    "component_of",
    "diff_file",
    "diff_values",
    "effects",
    "files_for_component",
    "open_history",
    "touched_names",
]
