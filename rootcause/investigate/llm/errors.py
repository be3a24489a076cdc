"""Errors of the LLM brain that end an investigation: the model server failed.

They are `RootcauseError`s (one line, exit 1, or 2 for a server set up too small), marked
`resumable`: the investigation's checkpoint is kept, and the job adds `--resume ID` to the line.
"""

from __future__ import annotations

from rootcause.core.errors import BadInputError, RootcauseError


class ServerError(RootcauseError):
    """The model server failed in a way a retry does not mend (a deterministic error, a request
    that timed out, a reply that is not JSON)."""

    resumable = True


class NotAPIReply(ServerError):
    """A 2xx answer that is not the API's JSON or event stream (a web page, plain text)."""


class ServerRefused(BadInputError):
    """The server refused the request as configured (the API key, the model name)."""

    resumable = True


class ContextTooSmall(BadInputError):
    """The server's context cannot hold the request the brain has to send."""

    resumable = True


def one_line(text: str, limit: int = 200) -> str:
    """`text` on one line (whitespace collapsed), at most `limit` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
