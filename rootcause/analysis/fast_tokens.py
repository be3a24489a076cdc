"""The word tokens of a long lower-cased ASCII text, as `re.findall` with `ngrams._TOKEN` gives
them, about three times faster.

`_TOKEN` is `[a-z0-9]+(?:'[a-z]+)?` (and the text-break token): runs of letters and digits, an
apostrophe joining the letters after it ("don't"). Regex matching in Python costs about 40 ms
per 2 MB of text, most of the emerging check's n-gram counting. Here every byte that cannot be
in a token becomes a space (one `bytes.translate`), an apostrophe that joins nothing too, and
`str.split` cuts the tokens. The apostrophes are decided in numpy: one joins when a letter or
digit is before it and a letter after it. Where the regex would do something else (an
apostrophe right after a joined suffix, "rock'n'roll", or digits right after one, "it's2"),
or the text is not ASCII or holds a break token of its own, `tokens` returns None and the
caller uses the regex: the result is always the regex's.
"""

from __future__ import annotations

import numpy as np

_LETTERS = b"abcdefghijklmnopqrstuvwxyz"
_DIGITS = b"0123456789"
_APOSTROPHE = ord("'")
_KEPT = _LETTERS + _DIGITS + b"'\x00"
#: Every byte that cannot be part of a token (nor the break token) to a space.
_TO_SPACE = bytes.maketrans(
    bytes(b for b in range(256) if b not in _KEPT), b" " * (256 - len(_KEPT))
)
_IS_LETTER = np.zeros(256, dtype=bool)
_IS_LETTER[list(_LETTERS)] = True
_IS_DIGIT = np.zeros(256, dtype=bool)
_IS_DIGIT[list(_DIGITS)] = True


def tokens(text: str, breaks: int) -> list[str] | None:
    """The tokens of `text` (lower case; `breaks` break tokens "\\x00", each between spaces),
    or None when only the regex can tell them (see the module's doc)."""
    if not text.isascii() or text.count("\x00") != breaks:
        return None
    data = text.encode("ascii").translate(_TO_SPACE)
    at = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _APOSTROPHE)
    if at.size == 0:
        return data.decode("ascii").split()
    padded = np.frombuffer(b" " + data + b" ", dtype=np.uint8)  # index i + 1 is byte i
    before, after = padded[at], padded[at + 2]
    joins = (_IS_LETTER[before] | _IS_DIGIT[before]) & _IS_LETTER[after]
    joined = at[joins]
    if joined.size:
        stops = np.flatnonzero(~_IS_LETTER[padded]) - 1  # bytes that end a suffix's letters
        end = stops[np.searchsorted(stops, joined + 1)]  # the first after each suffix
        next_byte = padded[end + 1]
        if (_IS_DIGIT[next_byte] | (next_byte == _APOSTROPHE)).any():
            return None
    cut = np.frombuffer(data, dtype=np.uint8).copy()
    cut[at[~joins]] = ord(" ")
    return cut.tobytes().decode("ascii").split()
