"""Normalised text and word tiles for many texts at once, vectorised over Arrow buffers.

The CoT exposure check compares texts after one normalisation, DuckDB's
`trim(regexp_replace(lower(x), '[\\s\\p{P}\\p{S}]+', ' ', 'g'))`: lower case, every run of
whitespace, punctuation and symbols turned into one space. That regex runs at about 30 MB/s
in DuckDB, and a check normalises tens of megabytes per run, so the same result is computed
here for ASCII texts with one byte translation (`bytes.translate`) and a few numpy passes over
the bytes; a text with any non-ASCII character is normalised by DuckDB itself, so the result
is the same for every text. Only the leading and trailing space are left in place (at most
one each: `collapse`), which no whole-word match can tell apart.

For ASCII, the regex's separators are exactly tab, line feed, form feed, carriage return,
space and the 32 ASCII punctuation characters (RE2's `\\s` has no vertical tab; every other
control character is neither punctuation nor a symbol), and `lower` changes only A-Z (both
checked against DuckDB by the tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rootcause.behaviour.frame import IntArray

#: The ASCII bytes DuckDB's normalising regex turns into a space.
SEPARATORS = b"\t\n\x0c\r !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_TRANSLATE = bytes.maketrans(_UPPER + SEPARATORS, _UPPER.lower() + b" " * len(SEPARATORS))
_SPACE = ord(" ")
#: `_TRANSLATE` as a lookup table: `np.take` maps the bytes in one pass, where
#: `bytes.translate` needs a copy of them first.
_LOOKUP = np.frombuffer(_TRANSLATE, dtype=np.uint8)

#: DuckDB's normalisation of a column `x`, the reference the fast path reproduces.
NORMALISE_SQL = r"trim(regexp_replace(lower(coalesce(x, '')), '[\s\p{P}\p{S}]+', ' ', 'g'))"


def _as_large_strings(texts: pa.Array | pa.ChunkedArray) -> pa.LargeStringArray:
    """One contiguous large-string array, nulls as empty texts."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks() if texts.num_chunks else pa.array([], pa.large_string())
    out = pc.fill_null(texts.cast(pa.large_string()), "")
    assert isinstance(out, pa.LargeStringArray)
    return out


def _bytes_and_offsets(texts: pa.LargeStringArray) -> tuple[np.ndarray, IntArray]:
    """The texts' bytes (from the first text's) and their offsets into them."""
    raw = np.frombuffer(texts.buffers()[1], dtype=np.int64)
    offsets = raw[texts.offset : texts.offset + len(texts) + 1]
    lo, hi = int(offsets[0]), int(offsets[-1])
    data = texts.buffers()[2]
    body = np.frombuffer(data, dtype=np.uint8, count=hi - lo, offset=lo) if hi > lo else None
    return (body if body is not None else np.zeros(0, np.uint8)), offsets - lo


def _per_text(positions: IntArray, offsets: IntArray) -> IntArray:
    """How many of the sorted byte `positions` fall within each text (`offsets` bound them)."""
    return np.diff(np.searchsorted(positions, offsets))


#: Bytes of text worked on at once (whole texts; a longer text alone). numpy asks the kernel
#: for huge pages for an array of 4 MB or more, and on this kind of machine faulting those in
#: costs several times the work done on them (about 3 ms per MB, against 0.4 ms for small
#: pages, and 0.01 ms for memory already in use): the temporaries of a part stay far below
#: that, and the allocator hands the same memory to the next part.
PART_BYTES = 1 << 20


def _parts(offsets: IntArray, size: int) -> list[tuple[int, int]]:
    """Consecutive ranges [i, j) of the texts that `offsets` bound, of about `size` bytes
    each (at least one text each), covering every text."""
    bounds, count = [0], offsets.shape[0] - 1
    while bounds[-1] < count:
        i = bounds[-1]
        j = int(np.searchsorted(offsets, offsets[i] + size, side="right")) - 1
        bounds.append(min(max(j, i + 1), count))
    return list(pairwise(bounds))


def collapse(con: duckdb.DuckDBPyConnection, texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Each text normalised as `NORMALISE_SQL` does, but with its leading and trailing space
    (at most one each) kept; nulls as empty texts. Non-ASCII texts (a byte of 0x80 or more)
    go through DuckDB. Worked on in parts of `PART_BYTES`, into one buffer."""
    arr = _as_large_strings(texts)
    body, offsets = _bytes_and_offsets(arr)
    data = pa.allocate_buffer(body.shape[0])  # Arrow's memory: no huge pages asked for
    out = np.frombuffer(data, dtype=np.uint8)
    new_offsets = np.zeros(offsets.shape[0], dtype=np.int64)
    exotic = np.zeros(offsets.shape[0] - 1, dtype=bool)
    for i, j in _parts(offsets, PART_BYTES):
        lo, hi, start = int(offsets[i]), int(offsets[j]), int(new_offsets[i])
        part, bounds = body[lo:hi], offsets[i : j + 1] - lo
        lengths = _collapse_into(part, bounds, out[start : start + hi - lo])
        new_offsets[i + 1 : j + 1] = start + np.cumsum(lengths)
        if part.shape[0] and int(part.max()) >= 0x80:
            exotic[i:j] = _per_text(np.flatnonzero(part >= 0x80), bounds) > 0
    kept = int(new_offsets[-1])
    result: pa.Array = pa.LargeStringArray.from_buffers(
        len(arr), pa.py_buffer(new_offsets), data.slice(0, kept) if kept else pa.py_buffer(b"")
    )
    if exotic.any():
        mask = pa.array(exotic)
        result = pc.replace_with_mask(result, mask, _duckdb_normalised(con, arr.filter(mask)))
    return result


def _collapse_into(body: np.ndarray, offsets: IntArray, out: np.ndarray) -> IntArray:
    """The texts of `body` (`offsets` bound them) mapped by `_LOOKUP`, each run of spaces
    within a text cut to one, written to the start of `out`; each text's new length."""
    flat = np.take(_LOOKUP, body, mode="clip")  # every byte is an index of the table
    space = flat == _SPACE
    drop = np.empty(flat.shape[0], dtype=bool)  # byte i is a space after a space...
    drop[:1] = False
    np.logical_and(space[1:], space[:-1], out=drop[1:])
    firsts = offsets[1:-1]
    drop[firsts[(firsts > 0) & (firsts < flat.shape[0])]] = False  # ...of the same text
    dropped = np.flatnonzero(drop)
    np.compress(np.logical_not(drop, out=drop), flat, out=out[: flat.shape[0] - dropped.shape[0]])
    return np.diff(offsets) - _per_text(dropped, offsets)


def _duckdb_normalised(con: duckdb.DuckDBPyConnection, texts: pa.Array) -> pa.Array:
    """`NORMALISE_SQL` over `texts`, in their order (the reference, for non-ASCII texts)."""
    table = pa.table({"i": pa.array(range(len(texts)), pa.int64()), "x": texts})
    name = "_rootcause_texts_to_normalise"
    con.register(name, table)
    try:
        result = con.sql(f"SELECT {NORMALISE_SQL} AS n FROM {name} ORDER BY i").to_arrow_table()
    finally:
        con.unregister(name)
    return result.column("n").combine_chunks().cast(pa.large_string())


@dataclass(frozen=True)
class Tiles:
    """The tiles of N consecutive words of each text (tiles start every N words, from word 0;
    what DuckDB's `list_transform(range(0, len(w) - N + 1, N), ...)` over the words gives):
    the text each tile is of, its place among that text's tiles, its words joined by one
    space, and the two longest of its words (in bytes; the first on a tie), in text order, to
    screen texts that cannot hold it. `words` is each text's number of words."""

    text: IntArray
    place: IntArray
    tile: pa.ChunkedArray
    key_a: pa.ChunkedArray
    key_b: pa.ChunkedArray
    words: IntArray


def _word_bounds(flat: np.ndarray, offsets: IntArray) -> tuple[IntArray, IntArray]:
    """Start and end (exclusive) of every space-separated word, in order: the non-empty gaps
    between consecutive cuts, where a cut is a space (one byte wide) or a text's bound (none
    wide; before a space at the same place). Worked on the cuts (about one per word), not on
    every byte: a third of the time of marking each byte's neighbours."""
    spaces = np.flatnonzero(flat == _SPACE)
    at = np.searchsorted(spaces, offsets) + np.arange(offsets.shape[0])  # bounds among cuts
    is_space = np.ones(spaces.shape[0] + offsets.shape[0], dtype=bool)
    is_space[at] = False
    begin = np.empty(is_space.shape[0], dtype=np.int64)
    begin[at] = offsets
    begin[is_space] = spaces
    gap_start, gap_end = (begin + is_space)[:-1], begin[1:]
    word = gap_end > gap_start
    return gap_start[word], gap_end[word]


def _slices(data: np.ndarray, starts: IntArray, ends: IntArray) -> pa.Array:
    """The byte ranges [start, end) of `data` as strings (ranges in order, not overlapping)."""
    bounds = np.empty(2 * starts.shape[0] + 1, dtype=np.int64)
    bounds[0:-1:2], bounds[1:-1:2] = starts, ends
    bounds[-1] = ends[-1] if ends.shape[0] else 0
    spans = pa.LargeStringArray.from_buffers(
        2 * starts.shape[0], pa.py_buffer(bounds), pa.py_buffer(data)
    )
    return spans.take(pa.array(np.arange(0, 2 * starts.shape[0], 2)))


def _numbered(counts: IntArray) -> tuple[IntArray, IntArray]:
    """For `counts[i]` items of each owner i: each item's owner and its number among its
    owner's items, in owner order (one entry per item, not per word: a tenth the work of
    numbering every word and keeping every N-th)."""
    owner = np.repeat(np.arange(counts.shape[0]), counts)
    return owner, np.arange(owner.shape[0]) - (np.cumsum(counts) - counts)[owner]


def tiles_of(collapsed: pa.Array, n_words: int) -> Tiles:
    """The tiles of `n_words` words of every text of `collapsed` (the output of `collapse`),
    cut in parts of about `PART_BYTES` (a tile never spans two texts)."""
    arr = _as_large_strings(collapsed)
    body, offsets = _bytes_and_offsets(arr)
    parts = [_part_tiles(body, offsets, i, j, n_words) for i, j in _parts(offsets, PART_BYTES)]
    strings = pa.large_string()
    return Tiles(
        text=np.concatenate([p.text for p in parts] or [np.zeros(0, np.int64)]),
        place=np.concatenate([p.place for p in parts] or [np.zeros(0, np.int64)]),
        tile=pa.chunked_array([c for p in parts for c in p.tile.chunks], strings),
        key_a=pa.chunked_array([c for p in parts for c in p.key_a.chunks], strings),
        key_b=pa.chunked_array([c for p in parts for c in p.key_b.chunks], strings),
        words=np.concatenate([p.words for p in parts] or [np.zeros(0, np.int64)]),
    )


def _part_tiles(body: np.ndarray, offsets: IntArray, i: int, j: int, n_words: int) -> Tiles:
    """The tiles of texts i..j-1 (`text` counts from i)."""
    lo = int(offsets[i])
    data, bounds = body[lo : int(offsets[j])], offsets[i : j + 1] - lo
    starts, ends = _word_bounds(data, bounds)
    words = _per_text(starts, bounds)
    text, place = _numbered(words // n_words)  # a text of w words has w // N whole tiles
    heads = (np.cumsum(words) - words)[text] + place * n_words  # each tile's first word
    lengths = (ends - starts)[heads[:, None] + np.arange(n_words)[None, :]]
    first = np.argmax(lengths, axis=1)  # the longest word (the first of equals)
    lengths[np.arange(heads.shape[0]), first] = -1
    second = np.argmax(lengths, axis=1)
    key_a = heads + np.minimum(first, second)  # the two in text order, each cut on its own
    key_b = heads + np.maximum(first, second)  # (no array of both to take them apart from)
    return Tiles(
        text=text + i,
        place=place,
        tile=pa.chunked_array([_slices(data, starts[heads], ends[heads + n_words - 1])]),
        key_a=pa.chunked_array([_slices(data, starts[key_a], ends[key_a])]),
        key_b=pa.chunked_array([_slices(data, starts[key_b], ends[key_b])]),
        words=words,
    )
