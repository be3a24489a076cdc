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


def collapse(con: duckdb.DuckDBPyConnection, texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Each text normalised as `NORMALISE_SQL` does, but with its leading and trailing space
    (at most one each) kept; nulls as empty texts. Non-ASCII texts go through DuckDB."""
    arr = _as_large_strings(texts)
    body, offsets = _bytes_and_offsets(arr)
    flat = np.frombuffer(body.tobytes().translate(_TRANSLATE), dtype=np.uint8)
    space = flat == _SPACE
    doubled = space[1:] & space[:-1]  # byte i + 1 is a space after a space...
    ends = offsets[1:-1]
    doubled[ends[(ends > 0) & (ends < flat.shape[0])] - 1] = False  # ...of the same text
    drop = np.flatnonzero(doubled) + 1
    keep = np.ones(flat.shape[0], dtype=bool)
    keep[drop] = False
    new_offsets = offsets - np.concatenate([[0], np.cumsum(_per_text(drop, offsets))])
    out: pa.Array = pa.LargeStringArray.from_buffers(
        len(arr), pa.py_buffer(new_offsets), pa.py_buffer(flat[keep])
    )
    exotic = pc.invert(pc.string_is_ascii(arr))
    if pc.any(exotic).as_py():
        out = pc.replace_with_mask(out, exotic, _duckdb_normalised(con, arr.filter(exotic)))
    return out


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
    tile: pa.Array
    key_a: pa.Array
    key_b: pa.Array
    words: IntArray


def _word_bounds(flat: np.ndarray, offsets: IntArray) -> tuple[IntArray, IntArray]:
    """Start and end (exclusive) of every space-separated word, in order."""
    word = flat != _SPACE
    first = np.zeros(flat.shape[0] + 1, dtype=bool)
    first[offsets] = True  # a text's first and (below) last byte bound its words
    before = np.ones(flat.shape[0], dtype=bool)
    before[1:] = ~word[:-1]
    after = np.ones(flat.shape[0], dtype=bool)
    after[:-1] = ~word[1:]
    starts = np.flatnonzero(word & (before | first[:-1]))
    ends = np.flatnonzero(word & (after | first[1:])) + 1
    return starts, ends


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
    """The tiles of `n_words` words of every text of `collapsed` (the output of `collapse`)."""
    arr = _as_large_strings(collapsed)
    body, offsets = _bytes_and_offsets(arr)
    starts, ends = _word_bounds(body, offsets)
    words = _per_text(starts, offsets)
    text, place = _numbered(words // n_words)  # a text of w words has w // N whole tiles
    heads = (np.cumsum(words) - words)[text] + place * n_words  # each tile's first word
    members = heads[:, None] + np.arange(n_words)[None, :]
    lengths = (ends - starts)[members]
    first = np.argmax(lengths, axis=1)  # the longest word (the first of equals)
    lengths[np.arange(heads.shape[0]), first] = -1
    second = np.argmax(lengths, axis=1)
    keys = heads[:, None] + np.sort(np.stack([first, second], axis=1), axis=1)
    data = body  # the strings below refer to these bytes (no copy)
    key_words = _slices(data, starts[keys.reshape(-1)], ends[keys.reshape(-1)])
    return Tiles(
        text=text,
        place=place,
        tile=_slices(data, starts[heads], ends[heads + n_words - 1]),
        key_a=key_words.take(pa.array(np.arange(0, 2 * heads.shape[0], 2))),
        key_b=key_words.take(pa.array(np.arange(1, 2 * heads.shape[0], 2))),
        words=words,
    )
