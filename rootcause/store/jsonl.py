"""Stream JSON-lines files (plain or gzip) as (line number, object), with located errors."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from rootcause.core.errors import RunFormatError

#: A single line longer than this is refused rather than buffered.
MAX_LINE_BYTES = 256 * 1024 * 1024


def open_bytes(path: Path) -> IO[bytes]:
    """Open a file for binary reading, transparently gunzipping `.gz` files."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return path.open("rb")


def parse_line(raw: bytes) -> Any:
    """Parse one JSON line; raises ValueError with a readable message."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as uexc:
            bad = raw[uexc.start : uexc.start + 1].hex()
            raise ValueError(f"not valid UTF-8 (byte 0x{bad} at column {uexc.start + 1})") from None
        raise ValueError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None


def iter_json_lines(path: Path, shown_as: str) -> Iterator[tuple[int, bytes]]:
    """Yield (1-based line number, raw line) for non-blank lines; I/O errors name the file."""
    try:
        with open_bytes(path) as stream:
            for number, raw in enumerate(stream, start=1):
                if len(raw) > MAX_LINE_BYTES:
                    raise RunFormatError(f"line longer than {MAX_LINE_BYTES} bytes", shown_as, number)
                if raw.strip():
                    yield number, raw
    except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise RunFormatError(f"not a valid gzip file ({exc})", shown_as) from None
    except OSError as exc:
        raise RunFormatError(f"cannot read: {exc.strerror or exc}", shown_as) from None
