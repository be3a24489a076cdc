"""Caps on what rootcause reads whole, so a hostile input costs bounded memory and time.

Files that are read into memory in one piece (an Inspect `.eval` zip member, an overlay or
deployments file, `run.yaml`) go through `read_capped` or `read_member`: a file that is not a
regular file (a FIFO would block for ever, `/dev/zero` never ends) is refused in one line, and
one larger than the cap stops with a line naming it and the option that raises the cap. Zip
members are checked against their declared size and again while they are decompressed, so a
zip bomb that lies about its size stops at the cap too.

The cap is `--max-read-mb` (before the command name) or `ROOTCAUSE_MAX_READ_MB` on the command
line, `ReadLimits.set_max_read_mb` from Python; the default is `DEFAULT_MAX_READ_MB`.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from rootcause.core.errors import LocatedError

#: The default cap, in MB (2**20 bytes), on one file or zip member read whole.
DEFAULT_MAX_READ_MB = 512
_CHUNK = 1 << 20


class ReadLimits:
    """The cap in force for this process (set once by the CLI, read by every reader)."""

    max_read_bytes: int = DEFAULT_MAX_READ_MB << 20

    @classmethod
    def set_max_read_mb(cls, megabytes: float) -> None:
        """Set the cap; a cap below 1 KB or not a number is refused."""
        if not megabytes * (1 << 20) >= 1024:
            raise LocatedError(f"must be at least 0.001, got {megabytes}", "--max-read-mb")
        cls.max_read_bytes = int(megabytes * (1 << 20))


class TooLargeError(LocatedError):
    """A file or zip member is larger than the read cap."""


def _cap_text(limit: int) -> str:
    return f"{limit / (1 << 20):g} MB"


def too_large(where: str | Path, limit: int) -> TooLargeError:
    """The one-line error for a file or member over the cap, saying how to raise it."""
    return TooLargeError(
        f"larger than the read cap of {_cap_text(limit)} (raise it with --max-read-mb)", where
    )


def check_regular(path: Path, what: str = "file") -> os.stat_result:
    """The file's status; a FIFO, device, socket or folder is refused in one line (reading a
    FIFO blocks until a writer comes, a device such as /dev/zero never ends)."""
    try:
        status = path.stat()
    except OSError as exc:
        raise LocatedError(f"cannot read the {what}: {exc.strerror or exc}", path) from None
    if not stat.S_ISREG(status.st_mode):
        kind = _kind(status.st_mode)
        raise LocatedError(f"the {what} is {kind}, not a regular file", path)
    return status


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a file"


def read_capped(path: Path, what: str = "file", limit: int | None = None) -> bytes:
    """The bytes of a regular file no larger than the cap (checked before and while reading,
    as the file may grow)."""
    limit = ReadLimits.max_read_bytes if limit is None else limit
    status = check_regular(path, what)
    if status.st_size > limit:
        raise too_large(path, limit)
    try:
        with path.open("rb") as stream:
            data = stream.read(limit + 1)
    except OSError as exc:
        raise LocatedError(f"cannot read the {what}: {exc.strerror or exc}", path) from None
    if len(data) > limit:
        raise too_large(path, limit)
    return data


def read_member(archive: zipfile.ZipFile, name: str, where: str, limit: int | None = None) -> bytes:
    """One zip member, decompressed in chunks and stopped at the cap: the declared size is
    checked first, then the bytes actually produced (a zip bomb may declare a small size)."""
    limit = ReadLimits.max_read_bytes if limit is None else limit
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise too_large(where, limit)
    parts: list[bytes] = []
    total = 0
    with archive.open(info) as stream:
        while chunk := stream.read(min(_CHUNK, limit + 1 - total)):
            total += len(chunk)
            if total > limit:
                raise too_large(where, limit)
            parts.append(chunk)
    return b"".join(parts)
