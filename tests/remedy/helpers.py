"""Helpers of the remedy tests: a fingerprint of every file under a folder, samples as rows."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path
from typing import Any


def tree_state(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under `root` (the config repo's .git included): content hash and mtime."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[str(path.relative_to(root))] = (digest, path.stat().st_mtime_ns)
    return out


def run_rows(run: Path) -> list[dict[str, Any]]:
    """The samples of a lab run (gzip JSON Lines shards), in file order."""
    rows = []
    for shard in sorted((run / "samples").glob("*.jsonl.gz")):
        with gzip.open(shard, "rt") as lines:
            rows += [json.loads(line) for line in lines if line.strip()]
    return rows
