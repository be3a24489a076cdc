"""Streaming writers for samples and metrics: memory stays bounded by one step's rows.

JSONL shards are gzip-compressed deterministically (mtime 0, no file name in the header) and the
compression runs on a background thread, overlapping with the simulation of the next step (zlib
releases the GIL). Parquet shards get one row group per step, with `rewards` and
`grader_inputs` as map columns.
"""

from __future__ import annotations

import queue
import threading
import zlib
from pathlib import Path
from typing import Any

import orjson

ROWS_PER_SHARD = 100_000
_GZ_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # gzip, deflate, mtime 0, OS unknown


class _GzipShard:
    """A deterministic gzip member written from a compressor thread."""

    def __init__(self, path: Path, level: int = 3) -> None:
        self.fh = path.open("wb")
        self.fh.write(_GZ_HEADER)
        self.comp = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
        self.crc = 0
        self.size = 0

    def write(self, data: bytes) -> None:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        self.fh.write(self.comp.compress(data))

    def close(self) -> None:
        self.fh.write(self.comp.flush())
        self.fh.write(
            self.crc.to_bytes(4, "little") + (self.size & 0xFFFFFFFF).to_bytes(4, "little")
        )
        self.fh.close()


class SampleWriter:
    """Write sample rows step by step into `samples/part-NNNNN.<fmt>` shards."""

    def __init__(self, folder: Path, fmt: str, omit: tuple[str, ...]) -> None:
        self.folder = folder
        self.fmt = fmt
        self.omit = omit
        self.shard = -1
        self.rows_in_shard = ROWS_PER_SHARD
        self._gz: _GzipShard | None = None
        self._pq: Any = None
        self._schema: Any = None
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, daemon=True)
        self._thread.start()
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Queue one step's rows (may start a new shard first)."""
        if self._error is not None:
            raise self._error
        if self.rows_in_shard >= ROWS_PER_SHARD:
            self.shard += 1
            self.rows_in_shard = 0
            self._queue.put(("open", self.shard))
        self.rows_in_shard += len(rows)
        if self.fmt == "parquet":
            self._queue.put(("rows", rows))
        else:
            self._queue.put(("rows", b"".join(orjson.dumps(r) + b"\n" for r in rows)))

    def close(self) -> None:
        """Flush everything and wait for the writer thread."""
        self._queue.put(("stop", None))
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        try:
            while True:
                op, payload = self._queue.get()
                if op == "open":
                    self._close_shard()
                    name = f"part-{payload:05d}." + (
                        "parquet" if self.fmt == "parquet" else "jsonl.gz"
                    )
                    if self.fmt == "parquet":
                        self._open_parquet(self.folder / name)
                    else:
                        self._gz = _GzipShard(self.folder / name)
                elif op == "rows":
                    if self._gz is not None:
                        self._gz.write(payload)
                    else:
                        self._write_parquet(payload)
                else:
                    self._close_shard()
                    return
        except BaseException as exc:  # surfaced on the main thread
            self._error = exc
            while True:  # drain so the producer never blocks
                op, _ = self._queue.get()
                if op == "stop":
                    return

    def _close_shard(self) -> None:
        if self._gz is not None:
            self._gz.close()
            self._gz = None
        if self._pq is not None:
            self._pq.close()
            self._pq = None

    def _open_parquet(self, path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        fields = [
            ("step", pa.int64()),
            ("sample_id", pa.string()),
            ("group_id", pa.string()),
            ("split", pa.string()),
            ("data_source", pa.string()),
            ("persona", pa.string()),
            ("env", pa.string()),
            ("prompt", pa.string()),
            ("reasoning", pa.string()),
            ("completion", pa.string()),
            ("reference", pa.string()),
            ("rewards", pa.map_(pa.string(), pa.float64())),
            ("reward_total", pa.float64()),
            ("advantage", pa.float64()),
            ("grader_inputs", pa.map_(pa.string(), pa.string())),
            ("meta", pa.struct([("num_tokens", pa.int64())])),
        ]
        self._schema = pa.schema([pa.field(n, t) for n, t in fields if n not in self.omit])
        self._pq = pq.ParquetWriter(path, self._schema, compression="zstd")

    def _write_parquet(self, rows: list[dict[str, Any]]) -> None:
        import pyarrow as pa

        cols = {f.name: [r.get(f.name) for r in rows] for f in self._schema}
        self._pq.write_table(pa.Table.from_pydict(cols, schema=self._schema))


class MetricsWriter:
    """`metrics.jsonl`: one `{"step", "name", "value"}` line per metric and step."""

    def __init__(self, path: Path) -> None:
        self.fh = path.open("wb")

    def write(self, step: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.fh.write(orjson.dumps({"step": step, "name": name, "value": round(value, 6)}))
            self.fh.write(b"\n")

    def close(self) -> None:
        self.fh.close()
