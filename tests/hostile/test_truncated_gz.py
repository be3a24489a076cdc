"""A truncated `.jsonl.gz` (a killed writer, a cut copy) is skipped and counted under
`--skip-bad-lines`, and named in one line without it, by every importer that reads
compressed JSON lines, not only the native one (issue 24, item 7)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.store import test_nemo_rl, test_prime_rl


def _compress(files: list[Path], cut: Path) -> str:
    """Gzip `files` in place (`NAME.gz`), the one at `cut` cut in half; its name as shown."""
    for path in files:
        data = gzip.compress(path.read_bytes())
        if path == cut:
            data = data[: len(data) // 2]
        path.with_name(path.name + ".gz").write_bytes(data)
        path.unlink()
    return cut.name + ".gz"


def _nemo_rl(base: Path) -> tuple[Path, str, int]:
    logs = base / "logs"
    rng = np.random.default_rng(0)
    for step in (1, 2, 3):
        test_nemo_rl.write_step(logs, step, [f"q{step}-a", f"q{step}-b"], rng)
    files = sorted(logs.glob("*.jsonl"))
    return logs, _compress(files, logs / "train_data_step3.jsonl"), 24


def _prime_rl(base: Path) -> tuple[Path, str, int]:
    out = test_prime_rl.write_run(base)
    files = sorted(out.rglob("traces.jsonl"))
    cut = out / "rollouts" / "step_1" / "eval" / "all" / "traces.jsonl"
    return out, "step_1/eval/all/" + _compress(files, cut), 16


@pytest.mark.parametrize("make", [_nemo_rl, _prime_rl], ids=["nemo-rl", "prime-rl"])
def test_a_truncated_gz_is_skipped_and_counted_by_every_importer(
    cli: Any, tmp_path: Path, make: Any
) -> None:
    run, shown, whole = make(tmp_path)
    strict = cli("overview", str(run), "--json")
    lines = strict.err.strip().splitlines()
    assert strict.code == 2 and len(lines) == 1, strict.err
    assert shown in lines[0] and "not a valid gzip file" in lines[0]
    r = cli("overview", str(run), "--json", "--skip-bad-lines")
    assert r.code == 0, r.err
    assert 0 < r.json()["samples"] < whole
    assert "skipped 1 bad lines" in r.err and shown in r.err
