"""The registry of run formats and auto-detection."""

from __future__ import annotations

from pathlib import Path

from rootcause.core.errors import BadInputError, RunFormatError
from rootcause.store.importers.inspect_eval import InspectEvalReader
from rootcause.store.importers.nemo_rl import NemoRlReader
from rootcause.store.importers.prime_rl import PrimeRlReader
from rootcause.store.importers.trl import TrlReader
from rootcause.store.importers.verl import VerlReader
from rootcause.store.importers.vf_eval import VfEvalReader
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
    "prime-rl": PrimeRlReader(),
    "vf-eval": VfEvalReader(),
    "inspect": InspectEvalReader(),
    "wandb-table": WandbTableReader(),
}


#: W&B tables hold copies of what a trainer also logs in its own files (TRL's completions,
#: verl's generations): found beside another format they are named in a note, not read.
SECONDARY = frozenset({"wandb-table"})


def detected(path: Path) -> list[str]:
    """The formats whose reader recognises `path`, in detection order."""
    return [name for name, reader in READERS.items() if reader.detect(path)]


def reader_for(path: Path, fmt: str = "auto") -> RunReader:
    """The reader named `fmt`, or the one whose `detect` accepts `path`: the native manifest
    first; a folder holding logs of several foreign formats is refused (reading one would
    silently ignore the others), W&B tables beside another format aside (see `SECONDARY`)."""
    if fmt != "auto":
        if fmt not in READERS:
            names = ", ".join(["auto", *READERS])
            raise BadInputError(f"unknown format {fmt!r}; choose one of {names}")
        return READERS[fmt]
    if READERS["native"].detect(path):
        return READERS["native"]
    found = detected(path)
    primary = [name for name in found if name not in SECONDARY] or found
    if len(primary) > 1:
        raise RunFormatError(
            f"logs of several formats here ({', '.join(primary)}): each is a run of its own; "
            "point at one run's folder, or choose one with --format",
            path,
        )
    if primary:
        return READERS[primary[0]]
    known = ", ".join(READERS)
    raise RunFormatError(
        f"not a run: no run.yaml, and nothing recognised as one of the formats {known}", path
    )


def other_formats_note(path: Path, reader: RunReader) -> list[str]:
    """A note naming the formats also found at `path` that `reader` does not read."""
    if reader.name == "native":
        return []
    others = [name for name in detected(path) if name not in (reader.name, "native")]
    if not others:
        return []
    return [
        f"this folder also holds logs of the format {', '.join(others)}, not read (format "
        f"{reader.name} chosen); --format {others[0]} reads them as a run of their own"
    ]
