"""Files read whole are capped (--max-read-mb) and must be regular files (issue 24, items 2-3)."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import sample_rows, write_jsonl


def _write_eval(path: Path, members: dict[str, bytes], stored: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        header = {"eval": {"task": "t", "created": "2026-01-01T00:00:00"}}
        zf.writestr("header.json", json.dumps(header))
    return path


def _sample(i: int, pad: int = 0) -> bytes:
    doc = {"id": i, "epoch": 1, "input": "q" + " " * pad, "output": {"completion": "a"}}
    return json.dumps(doc).encode()


def test_a_zip_bomb_member_stops_at_the_read_cap(cli: Any, tmp_path: Path) -> None:
    # 3 MB of spaces deflate to a few KB: the member is far larger than its archive.
    logs = tmp_path / "evals"
    _write_eval(logs / "a.eval", {"samples/1_epoch_1.json": _sample(1, pad=3 << 20)})
    assert (logs / "a.eval").stat().st_size < 100_000
    r = cli("--max-read-mb", "1", "overview", str(logs), "--json")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1
    assert "a.eval!samples/1_epoch_1.json" in r.err and "--max-read-mb" in r.err
    assert "read cap of 1 MB" in r.err


def test_a_zip_member_that_lies_about_its_size_is_one_located_line(
    cli: Any, tmp_path: Path
) -> None:
    # A member whose bytes do not match its CRC (a corrupt or forged archive): exit 2, not 1.
    logs = tmp_path / "evals"
    path = _write_eval(
        logs / "a.eval",
        {"samples/1_epoch_1.json": _sample(1), "samples/2_epoch_1.json": _sample(2)},
        stored=True,
    )
    data = bytearray(path.read_bytes())
    at = data.index(b'"input"')
    data[at + 1] = ord("X")
    path.write_bytes(bytes(data))
    r = cli("overview", str(logs), "--json")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1
    assert "samples/1_epoch_1.json" in r.err and "unexpected" not in r.err
    skipping = cli("overview", str(logs), "--json", "--skip-bad-lines")
    assert skipping.code == 0, skipping.err
    assert skipping.json()["samples"] == 1 and "skipped 1 bad lines" in skipping.err


def _native_run(base: Path, overlay: dict[str, Any]) -> Path:
    run = base / "run"
    write_jsonl(run / "samples" / "a.jsonl", sample_rows(steps=2))
    (run / "run.yaml").write_text(yaml.safe_dump({"format": "rootcause-run/1", "run_id": "r"}))
    (run / "rootcause.yaml").write_text(yaml.safe_dump(overlay))
    return run


def test_a_deployments_file_larger_than_the_cap_is_refused(cli: Any, tmp_path: Path) -> None:
    big = tmp_path / "live.txt"
    big.write_text("0 3f2a9c1\n" * 200_000)  # 2 MB
    run = _native_run(tmp_path, {"deployments": {"file": str(big)}})
    r = cli("--max-read-mb", "1", "overview", str(run), "--json")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1
    assert "live.txt" in r.err and "--max-read-mb" in r.err


def test_a_deployments_fifo_or_device_is_refused_at_once(cli: Any, tmp_path: Path) -> None:
    fifo = tmp_path / "live.fifo"
    os.mkfifo(fifo)  # opening it for reading would block for ever
    for path, kind in ((fifo, "a FIFO"), (Path("/dev/zero"), "a device")):
        run = _native_run(tmp_path / kind.replace(" ", "_"), {"deployments": {"file": str(path)}})
        r = cli("overview", str(run), "--json")
        assert r.code == 2 and len(r.err.strip().splitlines()) == 1
        assert f"is {kind}, not a regular file" in r.err and str(path) in r.err


def test_the_read_cap_is_in_the_help(cli: Any) -> None:
    r = cli("--help")
    assert "--max-read-mb" in r.out and "default: 512" in " ".join(r.out.split())


def test_a_fifo_among_the_sample_files_is_refused_not_waited_on(cli: Any, tmp_path: Path) -> None:
    run = _native_run(tmp_path, {})
    os.mkfifo(run / "samples" / "b.jsonl")
    r = cli("overview", str(run), "--json")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1
    assert "samples/b.jsonl: the sample file is a FIFO" in r.err


def test_a_fifo_among_a_foreign_framework_s_step_files_is_refused(cli: Any, tmp_path: Path) -> None:
    logs = tmp_path / "rollouts"  # verl's {rollout_data_dir}/{step}.jsonl
    write_jsonl(logs / "1.jsonl", [{"input": "q", "output": "a", "score": 1.0, "step": 1}])
    os.mkfifo(logs / "2.jsonl")
    r = cli("overview", str(logs), "--json")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1
    assert "2.jsonl: the log file is a FIFO" in r.err
