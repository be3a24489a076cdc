"""Scoring changes in RL frameworks' own config files (TRL `GRPOConfig`, verl trainer config,
and any registered framework's).

A config repo of a TRL or verl run holds the trainer's config, not `rewards/*.yaml`; a change
to what it says about rewards is a scoring change of a component all the same. Which files are
a framework's configs and which of their keys decide rewards is the framework plugin's config
semantics (`rootcause.store.framework.ConfigSemantics`; TRL's and verl's are in
`rootcause.store.framework_config`): the first framework, in detection order, that recognises
either side of the file says its effects.
"""

from __future__ import annotations

import logging

from rootcause.core.config_effects import Effect
from rootcause.history.structural import FileDiff
from rootcause.store.framework import ConfigSemantics
from rootcause.store.frameworks import config_semantics

log = logging.getLogger(__name__)


def _semantics_for(f: FileDiff) -> ConfigSemantics | None:
    docs = [d for d in (f.old_doc, f.new_doc) if isinstance(d, dict)]
    for name, semantics in config_semantics():
        try:
            if any(semantics.recognises(d) for d in docs):
                return semantics
        except Exception as exc:  # a registered plugin's own code must not stop the history
            log.warning("framework %s failed to read %s as its config: %s", name, f.path, exc)
    return None


def is_framework_config(f: FileDiff) -> bool:
    """Whether either side of the file is a config of a framework with config semantics."""
    return _semantics_for(f) is not None


def framework_effects(f: FileDiff) -> list[Effect]:
    """The effects of a change to a framework's config file (see the module docstring)."""
    semantics = _semantics_for(f)
    if semantics is None:
        return []
    try:
        return semantics.effects(f.path, f.old_doc, f.new_doc, f.changes)
    except Exception as exc:  # a registered plugin's own code: its changes stay `other`
        log.warning("framework config semantics failed on %s: %s", f.path, exc)
        return [Effect("other", f.path, c.describe(), f.path) for c in f.changes]
