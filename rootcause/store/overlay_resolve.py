"""The overlay that applies to one ingest: the file's keys under the command line's, with its
deployments read (a list, or a file of the commit live at each step) and its identity keys
(run id, title, config repo, deployments) laid over what the reader found."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from rootcause.core.errors import LocatedError
from rootcause.core.limits import read_capped
from rootcause.core.run import Deployment
from rootcause.store.options import IngestOptions
from rootcause.store.overlay import RunOverlay, find_overlay, read_overlay
from rootcause.store.source import RunSource

_LINE = re.compile(r"^\s*(\d+)\s*[\s,:=]\s*([0-9A-Za-z_./-]{4,})\s*$")
_HEADER = re.compile(r"^\s*step\s*[\s,:]\s*commit\s*$", re.IGNORECASE)


@dataclass
class ResolvedOverlay:
    """The overlay in force, where it came from, and its deployments as a list."""

    overlay: RunOverlay
    file: Path | None = None
    deployments: list[Deployment] | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """What joins the fingerprint: the keys in force and the deployments read."""
        deployments = None
        if self.deployments is not None:
            deployments = [[d.step, d.commit] for d in self.deployments]
        return {"overlay": self.overlay.to_json(), "deployments": deployments}


def resolve_overlay(given: Path, root: Path, options: IngestOptions) -> ResolvedOverlay:
    """The file overlay (`options.overlay_file`, else `rootcause.yaml` next to the logs) with
    the command-line keys over it."""
    path: Path | None = None
    if options.overlay_file:
        path = Path(options.overlay_file)
        if not path.is_file():
            raise LocatedError("no such overlay file", path)
    else:
        path = find_overlay(given, root)
    from_file = read_overlay(path) if path is not None else RunOverlay()
    overlay = options.overlay.over(from_file) if options.overlay else from_file
    resolved = ResolvedOverlay(overlay, path)
    if path is not None:
        resolved.notes.append(f"overlay read from {path}")
    if overlay.deployments is not None:
        spec = overlay.deployments
        if spec.file is not None:
            resolved.deployments = read_deployments_file(Path(spec.file))
            resolved.notes.append(
                f"deployments read from {spec.file}: {len(resolved.deployments)} commits"
            )
        else:
            resolved.deployments = list(spec.items or [])
    return resolved


def read_deployments_file(path: Path) -> list[Deployment]:
    """The commit live at each step, from lines of `STEP COMMIT` (or `STEP:COMMIT`, CSV
    `step,commit`, JSON `{"step", "commit"}`); consecutive steps with the same commit are one
    deployment, from the first of them."""
    try:
        text = read_capped(path, "deployments file").decode("utf-8")
    except UnicodeDecodeError:
        raise LocatedError("not valid UTF-8", path) from None
    pairs: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or (not pairs and _HEADER.match(stripped)):
            continue
        pairs.append(_pair(stripped, path, number))
    if not pairs:
        raise LocatedError("no `STEP COMMIT` lines", path)
    deployments: list[Deployment] = []
    for step, commit in sorted(pairs):
        if not deployments or deployments[-1].commit != commit:
            deployments.append(Deployment(step=step, commit=commit))
    return deployments


def _pair(line: str, path: Path, number: int) -> tuple[int, str]:
    if line.startswith("{"):
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise LocatedError(f"invalid JSON: {exc.msg}", path, number) from None
        step, commit = (obj.get("step"), obj.get("commit")) if isinstance(obj, dict) else (0, 0)
        if type(step) is int and step >= 0 and isinstance(commit, str) and len(commit) >= 4:
            return step, commit
        raise LocatedError('expected {"step": int, "commit": str}', path, number)
    match = _LINE.match(line)
    if match is None:
        raise LocatedError("expected `STEP COMMIT`", path, number)
    return int(match.group(1)), match.group(2)


def apply_identity(source: RunSource, resolved: ResolvedOverlay) -> RunSource:
    """The run as the overlay describes it: its id, title, config repo and deployments where
    the overlay gives them, the reader's elsewhere."""
    overlay = resolved.overlay
    return dataclasses.replace(
        source,
        run_id=overlay.run_id if overlay.run_id is not None else source.run_id,
        title=overlay.title if overlay.title is not None else source.title,
        config_repo=Path(overlay.config_repo) if overlay.config_repo else source.config_repo,
        deployments=resolved.deployments
        if resolved.deployments is not None
        else source.deployments,
    )
