"""What a run's logged configuration says about its groups: `num_generations`.

Trainers log no group size beside their samples; W&B does: with `report_to="wandb"` every
field of the trainer's config (TRL's `GRPOConfig` among them) is in the run folder's
`files/config.yaml` as `{key: {value: ...}}`. `trainer_state.json` does not hold it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

#: Where a W&B run's config lies relative to a TRL output folder or a W&B run folder.
CONFIG_PATTERNS = ("files/config.yaml", "wandb/*run-*/files/config.yaml")


def configured_generations(root: Path) -> tuple[int, str] | None:
    """`num_generations` from the newest W&B config under `root`, and that file (relative)."""
    found: list[Path] = []
    for pattern in CONFIG_PATTERNS:
        found += sorted(root.glob(pattern))
    for config in reversed(found):
        try:
            doc = yaml.safe_load(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        entry = doc.get("num_generations") if isinstance(doc, dict) else None
        value = entry.get("value") if isinstance(entry, dict) else entry
        if type(value) is int and value >= 1:
            return value, config.relative_to(root).as_posix()
    return None
