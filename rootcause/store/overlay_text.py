"""The run overlay as command-line text: the mini-grammars of `--deployments`, `--label`,
`--weights`, `--components`, `--reasoning` and the rest, read into a `RunOverlay` (the same
keys an overlay file has). The CLI only declares the options and hands their values here; a
bad value is one line naming its option.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rootcause.core.errors import BadInputError

if TYPE_CHECKING:  # the overlay models load when options are read, not when the CLI starts
    from rootcause.store.overlay import RunOverlay

#: `STEP:COMMIT,...` (a deployments value that is not a file name).
_PAIRS = re.compile(r"^\s*\d+\s*:\s*[0-9A-Za-z_./-]{4,}\s*(,\s*\d+\s*:\s*[0-9A-Za-z_./-]{4,}\s*)*$")


def split_names(text: str) -> list[str]:
    """A comma-separated list of names, blanks and repeats dropped, in the order given."""
    return list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))


def overlay_from_options(values: Mapping[str, Any]) -> RunOverlay | None:
    """The overlay the options' values give (None: none given), by option name without
    dashes (`run_id`, `deployments`, `label`, `weights`, `exclude_components`, ...)."""
    from rootcause.store.overlay import RunOverlay, overlay_value

    overlay = RunOverlay()
    for key, value in _overlay_keys(values).items():
        overlay = overlay_value(key, value, "--" + key.replace("_", "-")).over(overlay)
    if values.get("exclude_components"):
        excluded = split_names(values["exclude_components"])
        include = overlay.components.include if overlay.components else None
        overlay = overlay.model_copy(
            update={"components": overlay_value(
                "components", {"include": include, "exclude": excluded}, "--exclude-components"
            ).components}
        )  # fmt: skip
    return None if overlay.is_empty() else overlay


def _overlay_keys(values: Mapping[str, Any]) -> dict[str, Any]:
    """Overlay keys in the overlay file's own form, from the options' text."""
    keys: dict[str, Any] = {}
    for key in ("run_id", "title", "group_size", "table"):
        if values.get(key) is not None:
            keys[key] = values[key]
    if values.get("config_repo") is not None:
        keys["config_repo"] = str(Path(values["config_repo"]).expanduser().resolve())
    deployments = values.get("deployments")
    if deployments is not None:
        if _PAIRS.match(deployments):
            keys["deployments"] = [p.strip() for p in deployments.split(",")]
        else:
            keys["deployments"] = {"file": str(Path(deployments).expanduser().resolve())}
    if values.get("label"):
        keys["labels"] = dict(_label(text) for text in values["label"])
    if values.get("components"):
        keys["components"] = {"include": split_names(values["components"])}
    if values.get("checkpoints"):
        keys["checkpoints"] = split_names(values["checkpoints"])
    if values.get("weights") is not None:
        keys["weights"] = _weights(values["weights"])
    if values.get("reasoning") is not None:
        text = values["reasoning"]
        keys["reasoning"] = {"regex": text[len("regex:") :]} if text.startswith("regex:") else text
    return keys


def _label(text: str) -> tuple[str, dict[str, str]]:
    """`NAME=SOURCE:VALUE` -> (NAME, the label's source)."""
    name, sep, spec = text.partition("=")
    source, colon, value = spec.partition(":")
    if not sep or not colon:
        raise BadInputError(
            f"--label {text!r}: expected NAME=SOURCE:VALUE, e.g. 'persona=prompt:persona: (\\w+)'"
        )
    field = {"column": "column", "value": "value"}.get(source, "regex")
    return name.strip(), {"from": source, field: value}


def _weights(text: str) -> Any:
    """`fit`, `config:PATH[#KEY]` or `NAME=W,...`."""
    if text == "fit":
        return "fit"
    if text.startswith("config:"):
        file, _, key = text[len("config:") :].partition("#")
        return {"from": "config", "file": file, **({"key": key} if key else {})}
    fixed: dict[str, float] = {}
    for part in split_names(text):
        name, sep, number = part.partition("=")
        try:
            fixed[name.strip()] = float(number)
        except ValueError:
            raise BadInputError(
                f"--weights {part!r}: expected NAME=NUMBER, fit, or config:PATH"
            ) from None
        if not sep:
            raise BadInputError(f"--weights {part!r}: expected NAME=NUMBER, fit, or config:PATH")
    return fixed
