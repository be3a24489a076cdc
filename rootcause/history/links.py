"""Which reward components and data sources a config file or change is about.

Convention (README, "The config repository"): `rewards/<component>.yaml` holds one component
(`name`, `weight`, `applies_to`, `inputs`, `kind`, `params`) and `data/mixture.yaml` the data
sources under `sources` (a weight or a mapping with `weight`) and persona weights under
`personas`. Any other layout still works: a component is linked to every file named after it
or mentioning it.
Changes are summarised as `Effect`s: "weight of X 0.5 → 1.0", "X now sees reasoning", "source
Y added", which is what a person aligning config changes with a behaviour wants to read.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from rootcause.core.config_effects import Effect, EffectKind
from rootcause.history.framework import framework_effects, is_framework_config
from rootcause.history.structural import FileDiff, KeyChange, fmt_value, parse_config
from rootcause.history.timeline import CommitDiff, CommitInfo, ConfigHistory

REWARDS_PREFIX = "rewards/"
MIXTURE_KEYS = ("sources", "personas")

_REWARD_KEYS: dict[str, EffectKind] = {
    "weight": "weight",
    "inputs": "inputs",
    "applies_to": "applies_to",
    "kind": "kind",
    "params": "params",
}
#: Grader inputs that expose the policy's chain of thought.
REASONING_INPUT = "reasoning"


def component_of(path: str, doc: Any) -> str | None:
    """The reward component a `rewards/*` file configures (its `name`, else the file stem)."""
    if not path.startswith(REWARDS_PREFIX):
        return None
    if isinstance(doc, dict) and doc.get("name"):
        return str(doc["name"])
    return PurePosixPath(path).stem


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


def files_for_component(history: ConfigHistory, name: str, rev: str | None = None) -> list[str]:
    """Files at `rev` (default: the last deployed commit) named after `name` or mentioning it."""
    at = rev or history.latest()
    if at is None:
        return []
    out = []
    for path in history.repo.list_files(at):
        stem = PurePosixPath(path).stem
        text = history.repo.read_text(at, path) or ""
        if stem == name or _mentions(text, name):
            out.append(path)
    return out


def changes_touching(history: ConfigHistory, component: str) -> list[CommitInfo]:
    """Commits (oldest first) that changed a file linked to `component` on either side."""
    touched = []
    for info in history.commits():
        if component in touched_names(history.diff(info.sha), [component]):
            touched.append(info)
    return touched


def touched_names(diff: CommitDiff, names: list[str]) -> set[str]:
    """Which of `names` (components, sources) a diff touches: their effects, or a changed file
    named after or mentioning them in a changed line or key."""
    found = {e.target for e in effects(diff)} & set(names)
    for f in diff.files:
        stem = PurePosixPath(f.path).stem
        text = "\n".join(f.lines())
        found |= {n for n in names if stem == n or _mentions(text, n)}
    return found


def effects(diff: CommitDiff) -> list[Effect]:
    """The meaningful changes of a diff (see module docstring); other files as `other`."""
    out: list[Effect] = []
    for f in diff.files:
        if f.structural and f.path.startswith(REWARDS_PREFIX):
            out += _reward_effects(f)
        elif f.structural and is_framework_config(f):
            out += framework_effects(f)
        elif f.structural and isinstance(f.new_doc or f.old_doc, dict) and _is_mixture(f):
            out += _mixture_effects(f)
        elif f.structural:
            out += [Effect("other", f.path, c.describe(), f.path) for c in f.changes]
            if f.status != "modified":
                out.append(Effect("other", f.path, f"file {f.status}", f.path))
        else:
            changed = sum(1 for line in f.line_diff if line[:1] in "+-")
            out.append(Effect("other", f.path, f"{f.status} ({changed} lines changed)", f.path))
    return out


def _reward_effects(f: FileDiff) -> list[Effect]:
    name = component_of(f.path, f.new_doc if f.status != "removed" else f.old_doc) or f.path
    if f.status == "removed":
        return [Effect("component_removed", name, "component removed", f.path)]
    if f.status == "added":
        doc = f.new_doc if isinstance(f.new_doc, dict) else {}
        inputs = doc.get("inputs") or []
        shown = ", ".join(
            f"{k}={fmt_value(doc[k])}" for k in ("kind", "weight", "inputs") if k in doc
        )
        sees = isinstance(inputs, list) and REASONING_INPUT in inputs
        return [Effect("component_added", name, f"component added ({shown})", f.path, sees)]
    return [_reward_change(name, f.path, c) for c in f.changes]


def _reward_change(name: str, path: str, change: KeyChange) -> Effect:
    head = change.path[0] if change.path else ""
    kind = _REWARD_KEYS.get(head, "component_other")
    sees = kind == "inputs" and (
        REASONING_INPUT in change.added_items
        or (change.op in ("changed", "added") and _has_reasoning(change.new))
    )
    return Effect(kind, name, change.describe(), path, sees)


def _has_reasoning(value: Any) -> bool:
    return value == REASONING_INPUT or (isinstance(value, list) and REASONING_INPUT in value)


def _is_mixture(f: FileDiff) -> bool:
    docs = [d for d in (f.old_doc, f.new_doc) if isinstance(d, dict)]
    return any(k in d for d in docs for k in MIXTURE_KEYS)


def _weight(value: Any) -> Any:
    return value.get("weight", value) if isinstance(value, dict) else value


def _mixture_effects(f: FileDiff) -> list[Effect]:
    out: list[Effect] = []
    for change in f.changes:
        if not change.path or change.path[0] not in MIXTURE_KEYS:
            out.append(Effect("other", f.path, change.describe(), f.path))
            continue
        section = change.path[0]
        if len(change.path) == 1:  # the whole section appeared or went
            old = change.old if isinstance(change.old, dict) else {}
            new = change.new if isinstance(change.new, dict) else {}
            subs = [KeyChange((section, k), "added", new=new[k]) for k in new if k not in old]
            subs += [KeyChange((section, k), "removed", old=old[k]) for k in old if k not in new]
            out += [_mixture_change(f.path, c) for c in subs]
        else:
            out.append(_mixture_change(f.path, change))
    return out


def _mixture_change(path: str, change: KeyChange) -> Effect:
    section, name = change.path[0], change.path[1]
    if section == "personas":
        old, new = fmt_value(change.old), fmt_value(change.new)
        detail = {"added": f"persona added (weight {new})", "removed": "persona removed"}
        return Effect("persona_weight", name, detail.get(change.op, f"weight {old} → {new}"), path)
    if len(change.path) == 2 and change.op == "added":
        return Effect(
            "source_added", name, f"source added (weight {fmt_value(_weight(change.new))})", path
        )
    if len(change.path) == 2 and change.op == "removed":
        return Effect("source_removed", name, "source removed", path)
    if len(change.path) == 2 or change.path[2] == "weight":
        old, new = _weight(change.old), _weight(change.new)
        return Effect("source_weight", name, f"weight {fmt_value(old)} → {fmt_value(new)}", path)
    return Effect("other", name, change.describe(), path)


#: (path, blob id) -> the component a `rewards/*` file configures and the inputs it lists
#: (None: not parseable or no component). Content-addressed, so shared by every repository.
_INPUTS_BY_BLOB: dict[tuple[str, str], tuple[str, list[str]] | None] = {}
_INPUTS_BY_BLOB_MAX = 100_000


def component_inputs(history: ConfigHistory, rev: str) -> dict[str, list[str]]:
    """Component -> the inputs its grader sees (`inputs` list) at `rev`, for every parseable
    `rewards/*` file (a component without an `inputs` key maps to an empty list: unknown).
    Each file is read and parsed once per contents (its blob id), not once per commit."""
    out: dict[str, list[str]] = {}
    for path, blob_id in history.repo.blob_ids(rev, REWARDS_PREFIX.rstrip("/")):
        key = (path, blob_id)
        if key not in _INPUTS_BY_BLOB:
            if len(_INPUTS_BY_BLOB) >= _INPUTS_BY_BLOB_MAX:
                _INPUTS_BY_BLOB.clear()
            _INPUTS_BY_BLOB[key] = _inputs_of(path, history.repo.blob_text(blob_id))
        found = _INPUTS_BY_BLOB[key]
        if found is not None:
            out[found[0]] = list(found[1])
    return out


def _inputs_of(path: str, text: str) -> tuple[str, list[str]] | None:
    """The component a `rewards/*` file configures and the inputs it lists ([]: no `inputs`
    key), or None when it does not parse or names no component."""
    ok, doc, _ = parse_config(path, text)
    name = component_of(path, doc)
    if not ok or name is None or not isinstance(doc, dict):
        return None
    inputs = doc.get("inputs")
    return name, [str(v) for v in inputs] if isinstance(inputs, list) else []
