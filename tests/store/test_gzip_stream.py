"""The fast gzip reader gives what `gzip.open(path).read(size)` gives: the same bytes in the
same reads, and the same error (type and text) at the same read, on clean and broken files."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

from rootcause.store import gzip_stream
from rootcause.store.gzip_stream import GzipStream


def _reads(opened: object, size: int) -> tuple[list[bytes], str | None]:
    """Every read of `size` until the end, and the error that stopped them (if any)."""
    out: list[bytes] = []
    try:
        while True:
            data = opened.read(size)  # type: ignore[attr-defined]
            if not data:
                return out, None
            out.append(data)
    except Exception as exc:  # BadGzipFile, EOFError, zlib.error: whichever gzip raises
        return out, f"{type(exc).__name__}: {exc}"


def _text(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    words = [b"goblin", b"answer", b"step", b"the", b"prime", b"\n"]
    return b" ".join(rng.choice(words) for _ in range(n))


def _cases() -> dict[str, bytes]:
    one = gzip.compress(_text(60_000, 1))
    two = gzip.compress(_text(40_000, 2))
    cut = one[: len(one) // 2]
    crc = bytearray(one)
    crc[-6] ^= 0xFF  # the CRC in the trailer
    return {
        "clean": one,
        "two members": one + two,
        "empty": b"",
        "zero padding": one + b"\0" * 100,
        "junk after": one + b"not gzip",
        "truncated": cut,
        "truncated second member": one + two[: len(two) // 3],
        "bad crc": bytes(crc),
        "not gzip": b"plain text\n" * 50,
        "header only": one[:5],
    }


@pytest.mark.parametrize("size", [4_096, 70_000, 1 << 20])
def test_the_same_reads_and_errors_as_gzip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    monkeypatch.setattr(gzip_stream, "READ_BLOCK", 1_000)  # many pieces, members split across
    monkeypatch.setattr(gzip_stream, "OUT_BLOCK", 3_000)
    for name, content in _cases().items():
        path = tmp_path / f"{name.replace(' ', '_')}.jsonl.gz"
        path.write_bytes(content)
        with gzip.open(path, "rb") as standard, GzipStream(path) as fast:
            want, got = _reads(standard, size), _reads(fast, size)
        assert got == want, name
        assert want[1] is None or name not in ("clean", "two members", "empty", "zero padding")
