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


def collapse(con: duckdb.DuckDBPyConnection, texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Each text normalised as `NORMALISE_SQL` does, but with its leading and trailing space
    (at most one each) kept; nulls as empty texts. Non-ASCII texts (a byte of 0x80 or more)
    go through DuckDB. Few byte-sized temporaries, none filled first and overwritten: each
    costs fresh pages on every call, about as much as the passes themselves."""
    arr = _as_large_strings(texts)
    body, offsets = _bytes_and_offsets(arr)
    flat = np.take(_LOOKUP, body)
    space = flat == _SPACE
    drop = np.empty(flat.shape[0], dtype=bool)  # byte i is a space after a space...
    drop[:1] = False
    np.logical_and(space[1:], space[:-1], out=drop[1:])
    firsts = offsets[1:-1]
    drop[firsts[(firsts > 0) & (firsts < flat.shape[0])]] = False  # ...of the same text
    dropped = np.flatnonzero(drop)
    new_offsets = offsets - np.concatenate([[0], np.cumsum(_per_text(dropped, offsets))])
    out: pa.Array = pa.LargeStringArray.from_buffers(
        len(arr), pa.py_buffer(new_offsets), pa.py_buffer(flat[np.logical_not(drop, out=drop)])
    )
    if body.shape[0] and int(body.max()) >= 0x80:
        exotic = pa.array(_per_text(np.flatnonzero(body >= 0x80), offsets) > 0)
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
    """The tiles of `n_words` words of every text of `collapsed` (the output of `collapse`)."""
    arr = _as_large_strings(collapsed)
    body, offsets = _bytes_and_offsets(arr)
    starts, ends = _word_bounds(body, offsets)
    words = _per_text(starts, offsets)
    text, place = _numbered(words // n_words)  # a text of w words has w // N whole tiles
    heads = (np.cumsum(words) - words)[text] + place * n_words  # each tile's first word
    lengths = (ends - starts)[heads[:, None] + np.arange(n_words)[None, :]]
    first = np.argmax(lengths, axis=1)  # the longest word (the first of equals)
    lengths[np.arange(heads.shape[0]), first] = -1
    second = np.argmax(lengths, axis=1)
    key_a = heads + np.minimum(first, second)  # the two in text order, each cut on its own
    key_b = heads + np.maximum(first, second)  # (no array of both to take them apart from)
    return Tiles(
        text=text,
        place=place,
        tile=_slices(body, starts[heads], ends[heads + n_words - 1]),
        key_a=_slices(body, starts[key_a], ends[key_a]),
        key_b=_slices(body, starts[key_b], ends[key_b]),
        words=words,
    )
