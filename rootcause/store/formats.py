"""The run formats and auto-detection, derived from the framework registry
(`rootcause.store.frameworks`): a format is a framework's reader, in detection order."""

from __future__ import annotations

import logging
from pathlib import Path

from rootcause.core.errors import BadInputError, RunFormatError
from rootcause.store.framework import BUILTIN_ORIGIN, Framework
from rootcause.store.frameworks import BUILTIN, NATIVE, framework, frameworks
from rootcause.store.source import RunReader

log = logging.getLogger(__name__)


def readers() -> dict[str, RunReader]:
    """Format name -> reader, in detection order: the native manifest first, then the foreign
    layouts from the most specific to the broadest, registered frameworks before W&B tables."""
    return {f.name: f.reader() for f in frameworks()}


def builtin_reader(name: str) -> RunReader:
    """The reader of a built-in format, without reading the registered plugins."""
    return next(f for f in BUILTIN if f.name == name).reader()


def _secondary() -> frozenset[str]:
    """Formats holding copies of what a trainer also logs in its own files (W&B tables of
    TRL's completions, verl's generations): found beside another format they are named in a
    note, not read."""
    return frozenset(f.name for f in frameworks() if f.secondary)


def _detects(framework: Framework, path: Path) -> bool:
    """Whether the framework's reader recognises `path`; a registered (third-party) reader
    that fails while looking is said in a warning and taken as not recognising it."""
    if framework.origin == BUILTIN_ORIGIN:
        return framework.reader().detect(path)
    try:
        return bool(framework.reader().detect(path))
    except Exception as exc:  # a plugin's own code: its failure must not stop other formats
        log.warning("framework %s (%s) failed to look at %s: %s", framework.name,
                    framework.origin, path, exc)  # fmt: skip
        return False


def detected(path: Path) -> list[str]:
    """The formats whose reader recognises `path`, in detection order."""
    return [f.name for f in frameworks() if _detects(f, path)]


def reader_for(path: Path, fmt: str = "auto") -> RunReader:
    """The reader named `fmt`, or the one whose `detect` accepts `path`: the native manifest
    first; a folder holding logs of several foreign formats is refused (reading one would
    silently ignore the others), secondary formats beside another format aside."""
    if fmt != "auto":
        chosen = framework(fmt)
        if chosen is None:
            names = ", ".join(["auto", *readers()])
            raise BadInputError(f"unknown format {fmt!r}; choose one of {names}")
        return chosen.reader()
    native = builtin_reader(NATIVE)
    if native.detect(path):
        return native  # the other readers (and plugins) are not loaded for a native run
    known = readers()
    found = detected(path)
    secondary = _secondary()
    primary = [name for name in found if name not in secondary] or found
    if len(primary) > 1:
        raise RunFormatError(
            f"logs of several formats here ({', '.join(primary)}): each is a run of its own; "
            "point at one run's folder, or choose one with --format",
            path,
        )
    if primary:
        return known[primary[0]]
    raise RunFormatError(
        f"not a run: no run.yaml, and nothing recognised as one of the formats {', '.join(known)}",
        path,
    )


def other_formats_note(path: Path, reader: RunReader) -> list[str]:
    """A note naming the formats also found at `path` that `reader` does not read."""
    if reader.name == NATIVE:
        return []
    others = [name for name in detected(path) if name not in (reader.name, NATIVE)]
    if not others:
        return []
    return [
        f"this folder also holds logs of the format {', '.join(others)}, not read (format "
        f"{reader.name} chosen); --format {others[0]} reads them as a run of their own"
    ]
