"""Paths inside a run as rootcause must treat them: names it can store, links that leave it."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from rootcause.core.errors import RunFormatError

#: How many symlinks a note names before it only counts them.
SHOWN_LINKS = 3


def shown_name(path: Path | str) -> str:
    """A path as text that can always be printed (undecodable bytes as `\\xNN`)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def utf8_name(path: Path | str) -> bool:
    """Whether a path's bytes are valid UTF-8 (so it can be stored and printed as text)."""
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check_file_names(root: Path, files: Iterable[Path]) -> None:
    """Refuse a run folder or input file whose name is not UTF-8: lineage stores the names
    as text, so such a file cannot be named in results (rename it)."""
    if not utf8_name(root):
        raise RunFormatError("the folder name is not valid UTF-8; rename it", shown_name(root))
    for path in files:
        relative = path.relative_to(root) if path != root else Path(path.name)
        if not utf8_name(relative):
            raise RunFormatError(
                "the file name is not valid UTF-8; rename it", shown_name(relative)
            )


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def outside_links(root: Path, files: Iterable[Path]) -> list[tuple[str, Path]]:
    """(file as shown, where it really is) for inputs that a symlink takes out of `root`."""
    real_root = root.resolve()
    found = []
    for path in files:
        real = path.resolve()
        if not _is_within(real, real_root):
            shown = path.relative_to(root).as_posix() if _is_within(path, root) else str(path)
            found.append((shown, real))
    return found


def outside_links_note(root: Path, files: Iterable[Path]) -> str | None:
    """A note naming the inputs read through symlinks that point outside the run folder."""
    links = outside_links(root, files)
    if not links:
        return None
    shown = ", ".join(f"{name} -> {target}" for name, target in links[:SHOWN_LINKS])
    more = f" and {len(links) - SHOWN_LINKS} more" if len(links) > SHOWN_LINKS else ""
    count = (
        "1 input file is a symlink" if len(links) == 1 else f"{len(links)} input files are symlinks"
    )
    return f"{count} to a place outside the run folder, read anyway: {shown}{more}"
