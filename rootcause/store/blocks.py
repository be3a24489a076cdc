"""Groups of a log that writes each group as consecutive rows, and batches it writes twice.

GRPO trainers that log no group id still write a prompt's completions together: TRL repeats
each prompt `num_generations` times in a row and logs the batch in that order, as NeMo-RL does.
Such a log is read in blocks of G rows per file, with G found from the rows themselves: the
smallest G whose blocks each hold one prompt and whose advantages sum to zero in every block
(they are centred within the group), judged on the files whose advantages are not all zero
(blocks of any size pass in a file of zeros, as once a behaviour saturates), or, when the
advantages cannot tell (not logged, all zero, or normalised over the batch), the largest G
whose blocks each hold one prompt. Files whose rows do not fall in such blocks (TRL writes
eval completions under the train file's name) are reported and grouped by prompt instead.

TRL also writes the same generation batch again at each logging step until it generates anew
(`num_iterations > 1`, or logging more often than generating); a block equal to one of the
previous file is such a repeat.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
#: Relative tolerance of "the advantages of a block sum to zero" (float32 logs).
_ZERO_SUM = 1e-3


@dataclass
class BlockGrouping:
    """The group size found (None: none fits), how, and the files it does not fit."""

    size: int | None
    method: str
    regular: set[int] = field(default_factory=set)
    irregular: list[int] = field(default_factory=list)


def _file_bounds(file_index: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """(file ids, first row of each file, rows in each file) for rows sorted by file."""
    starts = np.flatnonzero(np.r_[True, file_index[1:] != file_index[:-1]])
    counts = np.diff(np.r_[starts, len(file_index)])
    return file_index[starts], starts, counts


def _passing_files(
    file_index: IntArray, prompts: IntArray, advantages: NDArray[np.float64] | None, size: int
) -> set[int]:
    """Files whose rows fall in blocks of `size` with one prompt each (and advantages summing
    to zero, when given)."""
    files, starts, counts = _file_bounds(file_index)
    ok: set[int] = set()
    for file, start, count in zip(files, starts, counts, strict=True):
        if count % size:
            continue
        block_prompts = prompts[start : start + count].reshape(-1, size)
        if not (block_prompts == block_prompts[:, :1]).all():
            continue
        if advantages is not None:
            block = advantages[start : start + count].reshape(-1, size)
            sums = np.abs(block.sum(axis=1))
            scale = np.maximum(np.abs(block).sum(axis=1), 1.0)
            if not (sums <= _ZERO_SUM * scale).all():
                continue
        ok.add(int(file))
    return ok


def _telling_files(file_index: IntArray, advantages: NDArray[np.float64]) -> set[int]:
    """Files with at least one non-zero advantage."""
    files, starts, counts = _file_bounds(file_index)
    return {
        int(file)
        for file, start, count in zip(files, starts, counts, strict=True)
        if np.abs(advantages[start : start + count]).max(initial=0.0) > 0
    }


def detect_blocks(
    file_index: IntArray,
    prompts: IntArray,
    advantages: NDArray[np.float64] | None,
    given: int | None = None,
) -> BlockGrouping:
    """Find the group size of rows sorted by (file, row); `prompts` are prompt hashes and
    `advantages` the logged advantages (None when not logged). `given` skips the search."""
    files, _, counts = _file_bounds(file_index)
    if len(files) == 0:
        return BlockGrouping(None, "no rows")
    informative = advantages is not None and bool(np.abs(advantages).max(initial=0.0) > 0)
    if given is not None:
        regular = _passing_files(file_index, prompts, None, given)
        return _grouping(given, "given", regular, files)
    values, freq = np.unique(counts, return_counts=True)
    modal = int(values[np.argmax(freq)])
    candidates = [g for g in range(2, modal + 1) if modal % g == 0]
    need = (len(files) + 1) // 2
    if informative:
        assert advantages is not None
        # A file whose advantages are all zero (a saturated behaviour: every group scored
        # alike) passes the zero-sum test at any size: only the other files choose the size.
        telling = _telling_files(file_index, advantages)
        for size in candidates:
            regular = _passing_files(file_index, prompts, advantages, size)
            if len(regular & telling) >= (len(telling) + 1) // 2:
                return _grouping(size, "advantage", regular, files)
    for size in reversed(candidates):
        regular = _passing_files(file_index, prompts, None, size)
        if len(regular) >= need:
            return _grouping(size, "prompt", regular, files)
    return BlockGrouping(None, "none", set(), [int(f) for f in files])


def _grouping(size: int, method: str, regular: set[int], files: IntArray) -> BlockGrouping:
    irregular = [int(f) for f in files if int(f) not in regular]
    return BlockGrouping(size, method, regular, irregular)


def block_hashes(row_hashes: NDArray[np.uint64], size: int) -> NDArray[np.uint64]:
    """One hash per block of `size` consecutive rows (order inside the block counts)."""
    weights = np.arange(1, size + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return (row_hashes.reshape(-1, size) * weights).sum(axis=1, dtype=np.uint64)


def repeated_blocks(
    block_file: IntArray, hashes: NDArray[np.uint64], previous: dict[int, set[int]] | None = None
) -> NDArray[np.bool_]:
    """Which blocks equal a block of the file just before theirs (in `block_file` order, or
    the hashes in `previous` for the file before the first)."""
    by_file: dict[int, set[int]] = dict(previous or {})
    for file, value in zip(block_file.tolist(), hashes.tolist(), strict=True):
        by_file.setdefault(file, set()).add(value)
    order = sorted(by_file)
    before = {f: by_file.get(order[i - 1], set()) if i else set() for i, f in enumerate(order)}
    return np.array(
        [
            value in before[file]
            for file, value in zip(block_file.tolist(), hashes.tolist(), strict=True)
        ],
        dtype=bool,
    )
