"""The registry of run formats and auto-detection."""

from __future__ import annotations

from pathlib import Path

from rootcause.core.errors import BadInputError, RunFormatError
from rootcause.store.importers.nemo_rl import NemoRlReader
from rootcause.store.importers.trl import TrlReader
from rootcause.store.importers.verl import VerlReader
from rootcause.store.importers.wandb import WandbTableReader
from rootcause.store.native import NativeReader
from rootcause.store.source import RunReader

#: Auto-detection tries these in order: the native manifest first, then the foreign layouts
#: from the most specific (TRL's `completions/` folder) to the broadest (any `*.table.json`).
READERS: dict[str, RunReader] = {
    "native": NativeReader(),
    "trl": TrlReader(),
    "verl": VerlReader(),
    "nemo-rl": NemoRlReader(),
    "wandb-table": WandbTableReader(),
}


def reader_for(path: Path, fmt: str = "auto") -> RunReader:
    """The reader named `fmt`, or the first whose `detect` accepts `path`."""
    if fmt != "auto":
        if fmt not in READERS:
            names = ", ".join(["auto", *READERS])
            raise BadInputError(f"unknown format {fmt!r}; choose one of {names}")
        return READERS[fmt]
    for reader in READERS.values():
        if reader.detect(path):
            return reader
    known = ", ".join(READERS)
    raise RunFormatError(
        f"not a run: no run.yaml, and nothing recognised as one of the formats {known}", path
    )
