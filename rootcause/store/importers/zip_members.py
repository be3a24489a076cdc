"""Read zip members whatever their compression, zstd (method 93) included.

Inspect AI writes every member of an `.eval` log with zstd (`zipfile_compress_kwargs` in
inspect_ai/_util/zipfile.py, through the `zipfile_zstd` patch before Python 3.14), which the
standard library's `zipfile` cannot open before 3.14 ("That compression method is not
supported"). Members stored or deflated are read by `zipfile`; a zstd member's bytes are read
from its local header and decompressed with `zstandard`, across frames (Inspect splits large
members into several), then checked against the size and CRC the zip records. Every member
is held to the read cap (`--max-read-mb`): its declared size first, then the bytes produced.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from rootcause.core.limits import ReadLimits, too_large
from rootcause.core.limits import read_member as read_capped_member

ZIP_ZSTANDARD = 93
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_CHUNK = 1 << 20


class MemberError(ValueError):
    """A member cannot be read: unknown method, corrupt data, size or CRC mismatch."""


def read_member(archive: zipfile.ZipFile, name: str, where: str | None = None) -> bytes:
    """The decompressed bytes of member `name` (see the module docstring), no larger than the
    read cap (`core.limits`; TooLargeError names `where`, the member's place for the user)."""
    info = archive.getinfo(name)
    limit = ReadLimits.max_read_bytes
    if info.file_size > limit:
        raise too_large(where or name, limit)
    if info.compress_type != ZIP_ZSTANDARD:
        try:
            return read_capped_member(archive, name, where or name)
        except NotImplementedError as exc:
            raise MemberError(f"{name}: {exc} (method {info.compress_type})") from exc
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise MemberError(f"{name}: unreadable zip member ({exc})") from exc
    data = _unzstd(_raw_member(archive, info), info.file_size, name)
    if zlib.crc32(data) != info.CRC:
        raise MemberError(f"{name}: CRC mismatch, the member is corrupt")
    return data


def _raw_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The compressed bytes of `info`, found after its local file header."""
    stream = archive.fp
    if stream is None:
        raise MemberError(f"{info.filename}: the archive is closed")
    stream.seek(info.header_offset)
    header = stream.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
        raise MemberError(f"{info.filename}: bad local file header")
    fields = _LOCAL_HEADER.unpack(header)
    name_length, extra_length = fields[-2], fields[-1]
    stream.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    raw = stream.read(info.compress_size)
    if len(raw) != info.compress_size:
        raise MemberError(f"{info.filename}: truncated ({len(raw)} of {info.compress_size} bytes)")
    return raw


def _unzstd(raw: bytes, size: int, name: str) -> bytes:
    import zstandard

    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw), read_across_frames=True)
    out = bytearray()
    try:
        while chunk := reader.read(_CHUNK):
            out += chunk
            if len(out) > size:
                raise MemberError(f"{name}: more data than the {size:,} bytes the zip records")
    except zstandard.ZstdError as exc:
        raise MemberError(f"{name}: not valid zstd data ({exc})") from exc
    if len(out) != size:
        raise MemberError(f"{name}: {len(out):,} bytes, the zip records {size:,}")
    return bytes(out)
