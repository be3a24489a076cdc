"""`write_fix`: the win-win fix for an investigation's top finding.

    DIR/fix.patch            the config patch (`git diff` against the config repo's HEAD)
    DIR/filtered/            the run's samples without the behaviour, with manifest.json
    DIR/resimulated/         on lab runs: the run re-simulated with the patch
    DIR/fix.json, fix.md     what was done, and what could not be

DIR defaults to the investigation's folder in the workspace (`investigations/<id>/fix/`), so
nothing lands in the current directory (a repository's `git status` stays clean).

The summary is also appended to the investigation's `report.md` (a `## Fix` section, replaced
when the fix is written again). The user's run folder and config repo are only read.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from rootcause.core.errors import BadInputError
from rootcause.core.report import Finding, Report
from rootcause.investigate.folder import REPORT_JSON, REPORT_MARKDOWN, SPEC, list_investigations
from rootcause.investigate.report import write_atomic
from rootcause.investigate.state import InvestigationSpec
from rootcause.remedy.filter import (
    FilterManifest,
    FilterRequest,
    OutputFormat,
    filter_samples,
    protected_folders,
)
from rootcause.remedy.patch import ConfigPatch, config_patch
from rootcause.remedy.verify import Verification, find_lab_key, resimulate
from rootcause.store.ingest import ingest_run
from rootcause.store.workspace import Workspace, guard_output

PATCH = "fix.patch"
FILTERED = "filtered"
RESIMULATED = "resimulated"
#: The fix's folder inside the investigation's, when no output folder is given.
FIX_FOLDER = "fix"
FIX_MARKER = "<!-- rootcause fix -->"


class FixRequest(BaseModel):
    investigation: str
    #: Output folder (default: `fix/` in the investigation's folder, in the workspace).
    out: Path | None = None
    #: The lab run's answer key, when it is not `key.json` beside the run folder.
    lab_key: Path | None = None
    resimulate: bool = True
    filter_format: OutputFormat = "parquet"


class FixResult(BaseModel):
    investigation: str
    out: Path
    finding: Finding
    patch: ConfigPatch
    patch_path: Path | None
    filtered: FilterManifest | None
    filter_note: str | None
    verification: Verification | None
    verification_note: str | None

    def markdown(self) -> str:
        f = self.finding
        commit = f" (commit `{f.commit[:10]}`)" if f.commit else ""
        lines = [
            FIX_MARKER,
            "## Fix",
            "",
            f"_written by `rootcause fix` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC into "
            f"`{self.out}`_",
            "",
            f"- Finding: {f.kind} `{f.id}`{commit}",
        ]
        if self.patch_path is not None:
            lines.append(f"- Config patch `{self.patch_path}`: {self.patch.description}")
        else:
            lines.append(f"- Config patch: none; {self.patch.description}")
        if self.filtered is not None:
            m = self.filtered
            lines.append(
                f"- Filtered data `{self.out / FILTERED / m.output}`: kept {m.kept:,} of "
                f"{m.samples_in_scope:,} samples, removed {m.removed:,} that show `{m.detector}` "
                f"(counts per persona, source and step window in `manifest.json`)"
            )
        else:
            lines.append(f"- Filtered data: none; {self.filter_note}")
        if self.verification is not None:
            v = self.verification
            verdict = "the fix moves it against the symptom" if v.improved else (
                "the fix does not move it against the symptom"
            )  # fmt: skip
            lines.append(f"- Re-simulation: {v.text()}; {verdict}")
        else:
            lines.append(f"- Re-simulation: not done; {self.verification_note}")
        return "\n".join(lines) + "\n"


def load_finished(
    workspace: Workspace, investigation: str
) -> tuple[Path, Report, InvestigationSpec]:
    """The folder, report and spec of a finished investigation; bad input otherwise."""
    folder = workspace.investigations_dir / investigation
    if investigation in ("", ".", "..") or "/" in investigation or not (folder / SPEC).is_file():
        known = [s.id for s in list_investigations(workspace)][-5:]
        hint = f"; recent: {', '.join(known)}" if known else ""
        raise BadInputError(f"unknown investigation {investigation!r} in {workspace.root}{hint}")
    try:
        spec = InvestigationSpec.model_validate_json((folder / SPEC).read_text())
        report = Report.model_validate_json((folder / REPORT_JSON).read_text())
    except FileNotFoundError:
        raise BadInputError(f"investigation {investigation} has no report yet") from None
    except (OSError, ValidationError) as exc:
        raise BadInputError(f"investigation {investigation}: unreadable report ({exc})") from None
    return folder, report, spec


def top_finding(report: Report) -> Finding:
    grounded = [f for f in report.findings if f.grounded]
    if report.verdict != "cause_found" or not grounded:
        raise BadInputError(
            f"investigation {report.id} names no cause (verdict {report.verdict}): nothing to fix"
        )
    return min(grounded, key=lambda f: f.rank)


def write_fix(workspace: Workspace, request: FixRequest) -> FixResult:
    """Write the fix of the investigation's top finding (see module)."""
    folder, report, spec = load_finished(workspace, request.investigation)
    finding = top_finding(report)
    run = Path(report.meta.run or spec.run)
    ingest = ingest_run(run, workspace, fmt=spec.run_format)
    repo = ingest.source.config_repo
    if repo is None:
        raise BadInputError(
            f"run {ingest.source.root} has no config repo, so no patch can be written; "
            f"a human must change this: {finding.fix}"
        )
    if request.out is None:  # the investigation's own folder, in the workspace
        out = guard_output(folder / FIX_FOLDER, protected_folders(ingest), "--out")
    else:
        out = guard_output(request.out, [*protected_folders(ingest), workspace.root], "--out")
    if request.resimulate and _nonempty(out / RESIMULATED):
        raise BadInputError(f"--out {out}: {RESIMULATED}/ exists from an earlier fix; remove it")
    if out.exists() and not out.is_dir():
        raise BadInputError(f"--out {out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInputError(f"--out {out}: cannot create it: {exc.strerror or exc}") from None
    patch = config_patch(repo, finding)
    patch_path = None
    if patch.diff is not None:
        patch_path = out / PATCH
        write_atomic(patch_path, patch.diff)
    filtered, filter_note = _filter(workspace, report, run, out, request.filter_format)
    verification, verification_note = _verify(
        workspace, report, ingest.source.root, patch_path, out, request
    )
    result = FixResult(
        investigation=report.id,
        out=out,
        finding=finding,
        patch=patch,
        patch_path=patch_path,
        filtered=filtered,
        filter_note=filter_note,
        verification=verification,
        verification_note=verification_note,
    )
    write_atomic(out / "fix.json", result.model_dump_json(indent=2) + "\n")
    markdown = result.markdown()
    write_atomic(out / "fix.md", markdown)
    _append_to_report(folder / REPORT_MARKDOWN, markdown)
    return result


def _filter(
    workspace: Workspace, report: Report, run: Path, out: Path, fmt: OutputFormat
) -> tuple[FilterManifest | None, str | None]:
    behavior = report.behavior
    if behavior is None:
        return None, "the investigation settled no detector"
    if behavior.direction == "down":
        return None, (
            f"the symptom is a fall of {behavior.spec}; dropping its hits would drop the samples "
            "that still show it (filter the outcome with `rootcause filter --behavior`)"
        )
    if behavior.spec.startswith("semantic:"):
        return None, "a semantic detector scores a sample of the run, not every sample"
    request = FilterRequest(run=run, behavior=behavior.spec, out=out / FILTERED, format=fmt)
    return filter_samples(workspace, request).manifest, None


def _verify(
    workspace: Workspace,
    report: Report,
    run_root: Path,
    patch_path: Path | None,
    out: Path,
    request: FixRequest,
) -> tuple[Verification | None, str | None]:
    if not request.resimulate:
        return None, "not asked for"
    if patch_path is None:
        return None, "there is no patch to re-simulate with"
    if report.behavior is None:
        return None, "the investigation settled no detector to measure with"
    key = find_lab_key(run_root, request.lab_key)
    if key is None:
        return None, (
            "only runs made by `rootcause lab` can be re-simulated, with their answer key "
            "(`--lab-key`, or key.json beside the run folder)"
        )
    target = out / RESIMULATED
    behavior = report.behavior
    return resimulate(
        workspace, run_root, key, patch_path, target, behavior.spec, behavior.direction
    ), None


def _nonempty(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def _append_to_report(path: Path, section: str) -> None:
    """Put the fix section at the end of report.md, replacing an earlier one."""
    text = path.read_text() if path.is_file() else ""
    text = re.split(re.escape(FIX_MARKER), text, maxsplit=1)[0].rstrip("\n")
    write_atomic(path, f"{text}\n\n{section}")
