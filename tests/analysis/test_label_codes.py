"""Labels handed to the statistics as integer codes encode exactly as the same labels written
out as strings (levels present, sorted, `<missing>` among them), so the tools never build or
sort a string per row."""

from __future__ import annotations

import numpy as np
import pytest

from rootcause.analysis._common import MISSING_LABEL, encode_labels, labels_from_codes
from rootcause.analysis.prevalence import concentration


@pytest.mark.parametrize("seed", range(6))
def test_codes_encode_as_their_strings_do(seed: int) -> None:
    rng = np.random.default_rng(seed)
    names = ("zeta", "alpha", "<lt", "Mid", "beta", "unused")
    codes = rng.integers(-1, len(names) - 1, size=500)  # "unused" never appears
    if seed % 2:
        codes[codes == -1] = 0  # sometimes nothing is missing
    strings = np.array([*names, MISSING_LABEL])[codes]
    fast, slow = labels_from_codes(codes, names), encode_labels(strings)
    assert fast.names == slow.names and np.array_equal(fast.codes, slow.codes)
    assert encode_labels(fast, 500) is fast
    hits = rng.random(500) < 0.3
    assert concentration(hits, fast) == concentration(hits, strings)
