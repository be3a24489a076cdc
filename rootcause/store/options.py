"""Ingest options that change what is read, kept with the run and honoured by later commands.

An option left as None means "as the last ingest of this run had it" (else its default), so
`rootcause ingest RUN --skip-bad-lines` followed by `rootcause overview RUN` reads the run the
same way instead of stopping at the first bad line. Passing an option again replaces the
stored value. A new option is one more field here (with its default in `DEFAULTS` and its flag
in `flags`): it joins the fingerprint, the stored record and the merge with nothing else to
change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class IngestOptions:
    """Options of an ingest; a None field defers to the stored value, then the default."""

    skip_bad_lines: bool | None = None

    def over(self, stored: IngestOptions | None) -> IngestOptions:
        """These options where given (not None), `stored` elsewhere."""
        if stored is None:
            return self
        given = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return dataclasses.replace(stored, **{k: v for k, v in given.items() if v is not None})

    def resolved(self) -> IngestOptions:
        """Every option with a concrete value: given ones, defaults for the rest."""
        return self.over(DEFAULTS)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, value: object) -> IngestOptions | None:
        """Options stored by an earlier ingest, or None when absent or unreadable."""
        if not isinstance(value, dict):
            return None
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in value.items() if k in names})

    def flags(self) -> list[str]:
        """The command-line flags that give these options (those that differ from defaults)."""
        return ["--skip-bad-lines"] if self.skip_bad_lines else []


#: What an ingest does when neither the user nor an earlier ingest said otherwise.
DEFAULTS = IngestOptions(skip_bad_lines=False)
