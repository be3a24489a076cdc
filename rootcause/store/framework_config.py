"""What RL frameworks' own config files say about reward components.

- TRL `GRPOConfig` (the YAML `trl grpo --config` reads, or any YAML/JSON/TOML holding its
  keys): `reward_funcs` lists the reward functions (registry names or dotted import paths; the
  logged column is the function's name, the last dotted part), preceded by the reward model when
  `reward_model_name_or_path` is set (its column is the model id's last path part);
  `reward_weights` is aligned with that list, and every weight is 1.0 when it is absent.
- verl's trainer config (Hydra YAML): `custom_reward_function` (path, name, reward_kwargs),
  `reward_model` and `reward_manager` decide the score a sample gets, which verl dumps as
  `score` (the `score` component); `reward_model.overlong_buffer` decides DAPO's
  `overlong_reward`.

Both the ingest (weights at each deployed commit) and the config history (which component a
change is about) read configs through this module, so they agree: `TrlConfig` and `VerlConfig`
are the config semantics of the `trl` and `verl` framework plugins. For the history:

- TRL: a name added to or removed from `reward_funcs` adds or removes that component; a
  `reward_weights` change is a weight change of the component at that position.
- verl: a change under `custom_reward_function` (path, name, reward_kwargs), `reward_model`
  or `reward_manager` changes the dumped `score` (reward kwargs are its params);
  `reward_model.overlong_buffer` changes DAPO's `overlong_reward`.

Every other key of such a file is an `other` effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rootcause.core.config_effects import ConfigChange, Effect, EffectKind, fmt_value

#: Keys whose presence makes a mapping a TRL GRPO config.
TRL_KEYS = ("reward_funcs", "reward_weights")
#: Top-level keys of a verl trainer config that decide rewards.
VERL_REWARD_KEYS = ("custom_reward_function", "reward_model", "reward_manager")
#: Top-level keys that mark a verl trainer config.
VERL_MARKERS = (*VERL_REWARD_KEYS, "actor_rollout_ref", "algorithm")
#: The component verl dumps as the sample's score.
VERL_SCORE = "score"
#: DAPO's overlong penalty, dumped as its own reward_extra_info key.
VERL_OVERLONG = "overlong_reward"


def _callable_name(entry: str) -> str:
    """The column TRL logs for a reward_funcs entry: a model id's last path part, else a
    function's name (the last part of a dotted import path)."""
    if "/" in entry:
        return entry.rstrip("/").split("/")[-1]
    return entry.rsplit(".", 1)[-1]


def trl_section(doc: Any) -> dict[str, Any] | None:
    """The mapping that holds TRL's reward keys: the document, or one mapping inside it."""
    if not isinstance(doc, dict):
        return None
    if any(k in doc for k in TRL_KEYS):
        return doc
    for value in doc.values():
        if isinstance(value, dict) and any(k in value for k in TRL_KEYS):
            return value
    return None


def trl_reward_names(section: dict[str, Any]) -> list[str] | None:
    """Reward columns in TRL's order (the reward model first), or None when not listed."""
    funcs = section.get("reward_funcs")
    if isinstance(funcs, str):
        funcs = [funcs]
    names: list[str] = []
    model = section.get("reward_model_name_or_path")
    if isinstance(model, str) and model:
        names.append(model.rstrip("/").split("/")[-1])
    if isinstance(funcs, list):
        names += [_callable_name(str(f)) for f in funcs]
    return names or None


def trl_weights(doc: Any) -> dict[str, float] | None:
    """Component -> weight from a GRPO config (1.0 each when `reward_weights` is absent)."""
    section = trl_section(doc)
    if section is None:
        return None
    names = trl_reward_names(section)
    if names is None:
        return None
    weights = section.get("reward_weights")
    if weights is None:
        return dict.fromkeys(names, 1.0)
    if not isinstance(weights, list) or len(weights) != len(names):
        return None
    if not all(isinstance(w, int | float) and not isinstance(w, bool) for w in weights):
        return None
    return {name: float(w) for name, w in zip(names, weights, strict=True)}


def is_verl_config(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and any(k in doc for k in VERL_REWARD_KEYS)
        and any(k in doc for k in VERL_MARKERS)
    )


def verl_component_of(path: tuple[str, ...]) -> str | None:
    """The component a change at `path` of a verl config scores differently, if any."""
    if not path or path[0] not in VERL_REWARD_KEYS:
        return None
    if path[0] == "reward_model" and len(path) > 1 and path[1] == "overlong_buffer":
        return VERL_OVERLONG
    return VERL_SCORE


def weights_at_key(doc: Any, key: str | None) -> dict[str, float] | None:
    """Weights named by an overlay: at a dotted `key` (a name -> weight mapping, or a list
    aligned with TRL's reward_funcs), else TRL's own keys, else a `weights` mapping."""
    if key is None:
        found = trl_weights(doc)
        if found is not None:
            return found
        key = "weights"
    node: Any = doc
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, dict):
        pairs = {str(k): v for k, v in node.items()}
    elif isinstance(node, list):
        section = trl_section(doc)
        names = trl_reward_names(section) if section is not None else None
        if names is None or len(names) != len(node):
            return None
        pairs = dict(zip(names, node, strict=True))
    else:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pairs.values()):
        return None
    return {k: float(v) for k, v in pairs.items()}


class TrlConfig:
    """Config semantics of TRL's `GRPOConfig` (`reward_funcs`, `reward_weights`)."""

    def recognises(self, doc: Any) -> bool:
        return trl_section(doc) is not None

    def weights(self, doc: Any) -> dict[str, float] | None:
        return trl_weights(doc)

    def effects(
        self, path: str, old_doc: Any, new_doc: Any, changes: Sequence[ConfigChange]
    ) -> list[Effect]:
        old, new = _trl_components(old_doc), _trl_components(new_doc)
        out: list[Effect] = []
        for name, weight in new.items():
            if name not in old:
                detail = f"added to reward_funcs (weight {fmt_value(weight)})"
                out.append(Effect("component_added", name, detail, path))
            elif old[name] != weight:
                detail = f"weight {fmt_value(old[name])} → {fmt_value(weight)}"
                out.append(Effect("weight", name, detail, path))
        out += [
            Effect("component_removed", name, "removed from reward_funcs", path)
            for name in old
            if name not in new
        ]
        reward_keys = (*TRL_KEYS, "reward_model_name_or_path")
        for change in changes:
            if not any(part in reward_keys for part in change.path):
                out.append(Effect("other", path, change.describe(), path))
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


class VerlConfig:
    """Config semantics of verl's trainer config (the reward keys decide `score`)."""

    def recognises(self, doc: Any) -> bool:
        return is_verl_config(doc)

    def weights(self, doc: Any) -> dict[str, float] | None:
        return None  # verl dumps one score; its config weighs no components

    def effects(
        self, path: str, old_doc: Any, new_doc: Any, changes: Sequence[ConfigChange]
    ) -> list[Effect]:
        return [_verl_change(path, c) for c in changes]


def _verl_change(path: str, change: ConfigChange) -> Effect:
    component = verl_component_of(change.path)
    if component is None:
        return Effect("other", path, change.describe(), path)
    params = "reward_kwargs" in change.path or "overlong_buffer" in change.path
    kind: EffectKind = "params" if params else "component_other"
    return Effect(kind, component, change.describe(), path)
