"""The hostile-input suite: one small test per attack of issue 24, fixtures made in the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rootcause.core.limits import ReadLimits


@pytest.fixture(autouse=True)
def _reset_read_cap() -> Iterator[None]:
    saved = ReadLimits.max_read_bytes
    yield
    ReadLimits.max_read_bytes = saved
