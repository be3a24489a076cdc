"""Stream JSON-lines files (plain or gzip) with located errors.

Files are read in chunks of whole lines, so memory stays bounded whatever the file size;
`iter_line_chunks` gives each chunk with the number of its first line, and `iter_json_lines`
gives single lines.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from rootcause.core.errors import RunFormatError
from rootcause.store.gzip_stream import GzipStream

#: A single line longer than this is refused rather than buffered.
MAX_LINE_BYTES = 256 * 1024 * 1024
#: Bytes read at a time (a chunk of whole lines is parsed, staged and moved on at once).
CHUNK_BYTES = 16 * 1024 * 1024
_NON_FINITE = re.compile(rb"NaN|Infinity")


class UnreadableFileError(RunFormatError):
    """A compressed file breaks off or is corrupt (a truncated `.jsonl.gz` of a killed writer).

    The whole lines before the break (`lines_read`) were given out already; a reader under
    `--skip-bad-lines` reports the file as skipped from there (`LoadContext.bad_file`)."""

    def __init__(self, cause: BaseException, shown_as: str, lines_read: int):
        self.lines_read = lines_read
        kept = f"; lines 1-{lines_read} were read" if lines_read else ""
        super().__init__(f"not a valid gzip file ({cause}){kept}", shown_as)


def open_bytes(path: Path) -> IO[bytes] | GzipStream:
    """Open a file for binary reading, transparently gunzipping `.gz` files (as `gzip` does,
    faster: see `rootcause.store.gzip_stream`)."""
    if path.suffix == ".gz":
        return GzipStream(path)
    return path.open("rb")


def parse_line(raw: bytes) -> Any:
    """Parse one JSON value; raises ValueError with a readable message.

    Python's `json.dumps` writes `NaN` and `Infinity` (verl dumps and W&B tables do), and a
    number past the range of a double reads as infinity; orjson refuses both, so such text is
    parsed again by the standard library and the validators downstream name the field that
    holds the non-finite number.
    """
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        error = exc
    if _NON_FINITE.search(raw) or "infinity" in error.msg:
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            pass
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as uexc:
        bad = raw[uexc.start : uexc.start + 1].hex()
        raise ValueError(f"not valid UTF-8 (byte 0x{bad} at column {uexc.start + 1})") from None
    raise ValueError(f"invalid JSON: {error.msg} (column {error.colno})") from None


def iter_line_chunks(
    path: Path, shown_as: str, chunk_bytes: int | None = None
) -> Iterator[tuple[int, bytes]]:
    """Yield (number of the chunk's first line, chunk of whole lines ending in a newline).

    Only the chunk given out is kept while the caller works on it (no copy of the block it
    was cut from): a caller that drops it before asking for the next holds one chunk at a
    time."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    first_line = 1
    pending = b""
    try:
        with open_bytes(path) as stream:
            while True:
                block = stream.read(chunk_bytes)
                if not block:
                    break
                cut = block.rfind(b"\n") + 1
                if cut == 0:
                    pending += block
                    if len(pending) > MAX_LINE_BYTES:
                        raise RunFormatError(
                            f"line longer than {MAX_LINE_BYTES} bytes", shown_as, first_line
                        )
                    continue
                chunk = _whole_lines(pending, block, cut)
                pending = block[cut:]
                del block
                yield first_line, chunk
                first_line += chunk.count(b"\n")
                del chunk
    except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise UnreadableFileError(exc, shown_as, first_line - 1) from None
    except OSError as exc:
        raise RunFormatError(f"cannot read: {exc.strerror or exc}", shown_as) from None
    if pending:
        yield first_line, pending + b"\n"


def _whole_lines(pending: bytes, block: bytes, cut: int) -> bytes:
    """`pending + block[:cut]`, copied once (not at all when it is the whole block)."""
    if not pending and cut == len(block):
        return block
    return b"".join((pending, memoryview(block)[:cut]))


def split_lines(first_line: int, chunk: bytes) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for the non-blank lines of a chunk."""
    for number, raw in enumerate(chunk.split(b"\n"), start=first_line):
        if raw.strip():
            yield number, raw


def iter_json_lines(path: Path, shown_as: str) -> Iterator[tuple[int, bytes]]:
    """Yield (1-based line number, raw line) for the non-blank lines of a file."""
    for first_line, chunk in iter_line_chunks(path, shown_as):
        yield from split_lines(first_line, chunk)
