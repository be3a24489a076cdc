"""Read a `.gz` file quickly, with the standard library's bytes and errors.

Python 3.11's `gzip` reader feeds zlib 8 KB of input at a time and checks each piece in
Python: in an ingest of long samples that took more time than zlib itself. `GzipStream` gives
zlib 1 MB at a time (and takes at most 4 MB out per call, so a bomb cannot burst memory) and
returns exactly the bytes `gzip.open(path).read(size)` would. Whatever it cannot read cleanly
(a corrupt or truncated member, padding or junk after the last one) is left to `gzip`: the
file is read again up to the same place and `gzip` goes on from there, so the errors (type
and text) and the data read before them are the standard library's own.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from types import TracebackType

#: Compressed bytes handed to zlib at a time.
READ_BLOCK = 1 << 20
#: Most decompressed bytes taken out of zlib per call.
OUT_BLOCK = 4 << 20
#: zlib's window bits for a gzip header and trailer (CRC and size checked).
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class _NotClean(Exception):
    """The fast reader met something only `gzip` should judge."""


class GzipStream:
    """`read(size)` of a gzip file's decompressed bytes, as `gzip.open(path, "rb")` gives."""

    def __init__(self, path: Path):
        self._path = path
        self._raw = path.open("rb")
        self._decompressor = zlib.decompressobj(_GZIP_WBITS)
        self._fed = False
        self._finished = False
        self._buffer = bytearray()
        #: Decompressed bytes returned so far (where `gzip` takes over, if it must).
        self._given = 0
        self._fallback: gzip.GzipFile | None = None

    def read(self, size: int) -> bytes:
        """Up to `size` bytes (fewer only at the end of the file)."""
        if self._fallback is not None:
            return self._fallback.read(size)
        try:
            data = self._read(size)
        except (zlib.error, _NotClean):
            return self._fall_back(size)
        self._given += len(data)
        return data

    def _read(self, size: int) -> bytes:
        buffer = self._buffer
        while len(buffer) < size and not self._finished:
            buffer += self._piece()
        if len(buffer) <= size:
            data = bytes(buffer)
            buffer.clear()
            return data
        with memoryview(buffer) as view, view[:size] as head:
            data = bytes(head)
        del buffer[:size]
        return data

    def _piece(self) -> bytes:
        """The next decompressed bytes (maybe none); raises where the file is not clean."""
        decompressor = self._decompressor
        if decompressor.eof:  # a member ended: another may follow
            rest = decompressor.unused_data or self._raw.read(READ_BLOCK)
            if not rest:
                self._finished = True
                return b""
            self._decompressor = zlib.decompressobj(_GZIP_WBITS)
            return self._decompressor.decompress(rest, OUT_BLOCK)
        data = decompressor.unconsumed_tail or self._raw.read(READ_BLOCK)
        if not data:
            if self._fed:
                raise _NotClean  # the file ends inside a member
            self._finished = True  # an empty file: `gzip` reads it as empty too
            return b""
        self._fed = True
        return decompressor.decompress(data, OUT_BLOCK)

    def _fall_back(self, size: int) -> bytes:
        """Let `gzip` read on from the bytes already given (and judge what follows)."""
        stream = gzip.open(self._path, "rb")  # noqa: SIM115 (closed by `close`)
        self._fallback = stream
        self._buffer = bytearray()
        skip = self._given
        while skip:
            got = stream.read(min(skip, OUT_BLOCK))
            if not got:
                break
            skip -= len(got)
        return stream.read(size)

    def close(self) -> None:
        self._raw.close()
        if self._fallback is not None:
            self._fallback.close()

    def __enter__(self) -> GzipStream:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
