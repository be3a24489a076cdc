"""Scoring changes in RL frameworks' own config files (TRL `GRPOConfig`, verl trainer config).

A config repo of a TRL or verl run holds the trainer's config, not `rewards/*.yaml`; a change
to what it says about rewards is a scoring change of a component all the same:

- TRL: a name added to or removed from `reward_funcs` adds or removes that component (the
  column TRL logs for it, see `rootcause.store.framework_config`); a `reward_weights` change
  is a weight change of the component at that position.
- verl: a change under `custom_reward_function` (path, name, reward_kwargs), `reward_model`
  or `reward_manager` changes the dumped `score` (reward kwargs are its params);
  `reward_model.overlong_buffer` changes DAPO's `overlong_reward`.

Every other key of such a file is an `other` effect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rootcause.history.structural import FileDiff, KeyChange, fmt_value
from rootcause.store.framework_config import (
    TRL_KEYS,
    is_verl_config,
    trl_reward_names,
    trl_section,
    trl_weights,
    verl_component_of,
)

if TYPE_CHECKING:  # links imports this module to dispatch to it
    from rootcause.history.links import Effect, EffectKind


def is_framework_config(f: FileDiff) -> bool:
    """Whether either side of the file is a TRL GRPO config or a verl trainer config."""
    docs = [d for d in (f.old_doc, f.new_doc) if isinstance(d, dict)]
    return any(trl_section(d) is not None or is_verl_config(d) for d in docs)


def framework_effects(f: FileDiff) -> list[Effect]:
    """The effects of a change to a TRL or verl config file (see the module docstring)."""
    docs = [d for d in (f.old_doc, f.new_doc) if isinstance(d, dict)]
    if any(trl_section(d) is not None for d in docs):
        return _trl_effects(f)
    return [_verl_change(f.path, c) for c in f.changes]


def _trl_effects(f: FileDiff) -> list[Effect]:
    from rootcause.history.links import Effect

    old, new = _trl_components(f.old_doc), _trl_components(f.new_doc)
    out: list[Effect] = []
    for name, weight in new.items():
        if name not in old:
            detail = f"added to reward_funcs (weight {fmt_value(weight)})"
            out.append(Effect("component_added", name, detail, f.path))
        elif old[name] != weight:
            detail = f"weight {fmt_value(old[name])} → {fmt_value(weight)}"
            out.append(Effect("weight", name, detail, f.path))
    out += [
        Effect("component_removed", name, "removed from reward_funcs", f.path)
        for name in old
        if name not in new
    ]
    reward_keys = (*TRL_KEYS, "reward_model_name_or_path")
    for change in f.changes:
        if not any(part in reward_keys for part in change.path):
            out.append(Effect("other", f.path, change.describe(), f.path))
    return out


def _trl_components(doc: Any) -> dict[str, float | None]:
    """Component -> weight (None when the weights do not line up with the functions)."""
    section = trl_section(doc)
    if section is None:
        return {}
    weights = trl_weights(doc)
    if weights is not None:
        return dict(weights)
    return dict.fromkeys(trl_reward_names(section) or [], None)


def _verl_change(path: str, change: KeyChange) -> Effect:
    from rootcause.history.links import Effect

    component = verl_component_of(change.path)
    if component is None:
        return Effect("other", path, change.describe(), path)
    params = "reward_kwargs" in change.path or "overlong_buffer" in change.path
    kind: EffectKind = "params" if params else "component_other"
    return Effect(kind, component, change.describe(), path)
