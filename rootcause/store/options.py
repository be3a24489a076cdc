"""Ingest options that change what is read, kept with the run and honoured by later commands.

An option left as None means "as the last ingest of this run had it" (else its default), so
`rootcause ingest RUN --skip-bad-lines --label persona=...` followed by `rootcause overview RUN`
reads the run the same way instead of stopping at the first bad line or losing the labels.
Passing an option again replaces the stored value; overlay keys given on the command line
merge key by key over the stored ones (`forget_overlay` drops the stored keys and file). A new
option is one more field here (with its default in `DEFAULTS`): it joins the fingerprint, the
stored record and the merge with nothing else to change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from rootcause.store.overlay import RunOverlay


@dataclass(frozen=True)
class IngestOptions:
    """Options of an ingest; a None field defers to the stored value, then the default."""

    skip_bad_lines: bool | None = None
    #: An overlay file given from outside the run (`--overlay PATH`); "" means none.
    overlay_file: str | None = None
    #: Overlay keys given as command-line options; they win over the overlay file's.
    overlay: RunOverlay | None = None
    #: Forget the overlay keys and file stored with the run (not itself stored).
    forget_overlay: bool = False

    def over(self, stored: IngestOptions | None) -> IngestOptions:
        """These options where given (not None), `stored` elsewhere."""
        if stored is None:
            return dataclasses.replace(self, forget_overlay=False)
        if self.forget_overlay:
            stored = dataclasses.replace(stored, overlay_file=None, overlay=None)
        overlay = self.overlay.over(stored.overlay) if self.overlay else stored.overlay
        return IngestOptions(
            skip_bad_lines=_given(self.skip_bad_lines, stored.skip_bad_lines),
            overlay_file=_given(self.overlay_file, stored.overlay_file),
            overlay=None if overlay is None or overlay.is_empty() else overlay,
        )

    def resolved(self) -> IngestOptions:
        """Every option with a concrete value: given ones, defaults for the rest."""
        return self.over(DEFAULTS)

    def to_json(self) -> dict[str, Any]:
        return {
            "skip_bad_lines": self.skip_bad_lines,
            "overlay_file": self.overlay_file,
            "overlay": None if self.overlay is None else self.overlay.to_json(),
        }

    @classmethod
    def from_json(cls, value: object) -> IngestOptions | None:
        """Options stored by an earlier ingest, or None when absent or unreadable."""
        if not isinstance(value, dict):
            return None
        skip = value.get("skip_bad_lines")
        overlay_file = value.get("overlay_file")
        return cls(
            skip_bad_lines=skip if isinstance(skip, bool) else None,
            overlay_file=overlay_file if isinstance(overlay_file, str) else None,
            overlay=RunOverlay.from_json(value.get("overlay")),
        )


def _given(value: Any, stored: Any) -> Any:
    return stored if value is None else value


#: What an ingest does when neither the user nor an earlier ingest said otherwise.
DEFAULTS = IngestOptions(skip_bad_lines=False, overlay_file="")
