"""A framework is one plugin: its reader, its config semantics and its options, in one object.

The registry of formats, the detection order, the `--format` help and the README's importer
table are all derived from these objects (`rootcause.store.frameworks`), so a format's name is
written once, here. A lab registers its own framework from outside the tree through the entry
point group `rootcause.frameworks` (see the README, "A framework of your own").

The reader is named, not imported (`"package.module:Class"`, or the class or a factory
itself): `rootcause --help` lists the formats without importing any reader.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from rootcause.core.config_effects import ConfigChange, Effect
from rootcause.core.errors import RootcauseError

if TYPE_CHECKING:
    from rootcause.store.source import RunReader


class FrameworkError(RootcauseError):
    """A framework plugin that cannot be used (bad entry point, name clash, broken reader)."""


class ConfigSemantics(Protocol):
    """What a framework's own config files say about reward components: which files are its
    configs, the component weights they give, and which changes are scoring changes."""

    def recognises(self, doc: Any) -> bool:
        """Whether a parsed YAML/JSON/TOML document is this framework's config."""
        ...

    def weights(self, doc: Any) -> dict[str, float] | None:
        """Component -> weight the config gives (None when it names no weights)."""
        ...

    def effects(
        self, path: str, old_doc: Any, new_doc: Any, changes: Sequence[ConfigChange]
    ) -> list[Effect]:
        """The effects of a change to such a file: scoring changes of the components it
        decides, every other changed key an `other` effect."""
        ...


@dataclass(frozen=True)
class FrameworkOption:
    """A run-overlay key the framework's reader honours (`--group-size`, `--table`)."""

    key: str
    meaning: str


ReaderSpec = str | Callable[[], Any]
#: The `origin` of the frameworks that ship with rootcause.
BUILTIN_ORIGIN = "rootcause"


@dataclass(frozen=True)
class Framework:
    """One framework: the `--format` name, its reader, config semantics, options, and what
    its importer reads and leaves out (the README table's row)."""

    name: str
    title: str
    #: `"package.module:Class"` (imported on first use), or a class or factory of the reader.
    reader_spec: ReaderSpec
    reads: str = ""
    leaves_out: str = ""
    fixtures: str = ""
    config: ConfigSemantics | None = None
    options: tuple[FrameworkOption, ...] = ()
    #: Logs that copy what another format also writes (W&B tables): found beside another
    #: format they are noted, not read.
    secondary: bool = False
    #: Where the framework came from: "rootcause" or the entry point that registered it.
    origin: str = BUILTIN_ORIGIN
    _reader: list[RunReader] = field(default_factory=list, compare=False, repr=False)

    def reader(self) -> RunReader:
        """The reader, made once; its `name` is this framework's name."""
        if not self._reader:
            factory = _resolve(self.reader_spec) if isinstance(self.reader_spec, str) else None
            made = (factory or self.reader_spec)()  # type: ignore[operator]
            for attr in ("detect", "describe", "load"):
                if not callable(getattr(made, attr, None)):
                    raise FrameworkError(
                        f"framework {self.name!r} ({self.origin}): its reader has no {attr}()"
                    )
            made.name = self.name
            for attr, default in (("nan_means_missing", frozenset()), ("appendable", False)):
                if not hasattr(made, attr):
                    setattr(made, attr, default)
            self._reader.append(made)
        return self._reader[0]


def _resolve(spec: str) -> Callable[[], Any]:
    module, _, attr = spec.partition(":")
    try:
        found = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise FrameworkError(f"reader {spec!r} cannot be imported: {exc}") from exc
    if not callable(found):
        raise FrameworkError(f"reader {spec!r} is not a class or factory")
    return found
