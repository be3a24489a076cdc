"""The same per-run task on Ray (a local Ray with two CPUs, started once for this module)
gives the same alert table as the local process pool."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rootcause.scan import ScanResult, scan
from tests.scan.conftest import Fleet

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _rows(result: ScanResult) -> list[dict]:
    return sorted(
        (a.model_dump() for r in result.results for a in r.alerts),
        key=lambda a: (a["run"], a["check"], a["subject"], a["evidence"]),
    )


def test_ray_and_local_give_the_same_table(
    local_ray: None, fleet: Fleet, local_scan: ScanResult
) -> None:
    on_ray = scan(
        [fleet.pattern],
        fleet.workspace,
        local_scan.spec.options,
        out=fleet.root / "scan-ray",
        ray=True,
        reuse=False,
    )
    assert on_ray.summary.executor == "ray" and on_ray.summary.scanned == 4
    assert _rows(on_ray) == _rows(local_scan)
    errors = {r.run: r.error for r in on_ray.results if r.status == "error"}
    assert errors == {r.run: r.error for r in local_scan.results if r.status == "error"}
