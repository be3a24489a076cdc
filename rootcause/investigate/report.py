"""The report `rootcause-report/1`: JSON for machines, Markdown with plots for people.

Every number in the Markdown is either quoted from a finding's or hypothesis's own text (which
cite evidence ids) or taken from an evidence record, shown next to its id.
"""

from __future__ import annotations

from pathlib import Path

from rootcause.core.disk import written_via_temp
from rootcause.core.errors import RootcauseError
from rootcause.core.report import Finding, LLMReportMeta, Report, ReportMeta
from rootcause.core.untrusted import args_text, figures_text
from rootcause.investigate.state import InvestigationState


def build_report(state: InvestigationState, run_id: str, folder: Path) -> Report:
    assert state.verdict is not None
    plots = [e.plot for e in state.evidence if e.plot]
    llm = state.memo.report_meta() if state.memo is not None else None
    return Report(
        id=state.spec.id,
        run_id=run_id,
        symptom=state.spec.symptom,
        behavior=state.behavior,
        suggestions=state.suggestions,
        verdict=state.verdict,
        summary=state.summary,
        findings=state.findings,
        hypotheses=state.hypotheses,
        evidence=state.evidence,
        stats=state.stats,
        brain=state.spec.brain,
        plots=[_relative(p, folder) for p in plots],
        meta=ReportMeta(run=state.spec.run, llm=llm),
        effects=state.effects,
    )


def _relative(path: str, folder: Path) -> str:
    try:
        return str(Path(path).relative_to(folder))
    except ValueError:
        return path


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


#: What each verdict means, in the Markdown under its heading.
VERDICT_TEXT = {
    "cause_found": "cause found",
    "no_cause_found": "no cause found",
    "inconclusive": "inconclusive",
    "symptom_not_found": "symptom not found",
}
INCONCLUSIVE_NOTE = (
    "The investigation could neither establish a cause nor rule the candidates out, so it "
    "names no cause; the reasons are below."
)


NOT_FOUND_NOTE = (
    "No detector that carries the symptom matches the run, so there was nothing to explain and "
    "no cause is named. If the symptom is one of the behaviours below, pass its spec with "
    "`--behavior`."
)


def _suggestion_lines(report: Report) -> list[str]:
    if not report.suggestions:
        return ["The run shows no emerging behaviour to suggest.", ""]
    lines = ["What the run does show:", ""]
    lines += [
        f"- `--behavior '{s.behavior}'`: {s.label} ({s.direction}, {_fmt(s.rate_early)} -> "
        f"{_fmt(s.rate_late)} in the first vs last quarter of samples, z={s.z:.1f})"
        for s in report.suggestions
    ]
    return [*lines, ""]


def _detector_lines(report: Report) -> list[str]:
    b = report.behavior
    if b is None and report.verdict == "symptom_not_found":
        return ["**Detector:** none; the symptom was not found in the run.", ""]
    if b is None:
        return ["**Detector:** not settled; nothing was measured.", ""]
    lines = [
        f"**Detector:** `{b.spec}` ({b.basis}; direction {b.direction}); rate "
        f"{_fmt(b.rate)} overall, {_fmt(b.rate_early)} in the first tenth of steps, "
        f"{_fmt(b.rate_late)} in the last ({', '.join(b.evidence)})",
        "",
    ]
    check = b.check or [
        "precision check: not run; the detector was given, not read from the symptom"
    ]
    lines += [*(f"- {line}" for line in check), ""]
    if b.readings:
        lines += [
            "**Other readings of the symptom** that carry it about as well; the detector above "
            "was taken as the best-ranked (pass one as `--behavior` to investigate it instead):",
            "",
            *(
                f"- `--behavior '{r.behavior}'`: {r.basis}; {r.hits:,} hits, overlap "
                f"{r.overlap:.0%} with the detector; e.g. {r.example}"
                for r in b.readings
            ),
            "",
        ]
    if b.hits:
        lines += ["Hits:", "", *(f"- {h}" for h in b.hits), ""]
    if b.near_misses:
        lines += ["Near misses:", "", *(f"- {h}" for h in b.near_misses), ""]
    return lines


def _llm_lines(llm: LLMReportMeta | None) -> list[str]:
    """What stopped or failed in an LLM investigation, said plainly."""
    lines: list[str] = []
    if llm is None:
        return lines
    if llm.budget_stop:
        lines += [
            f"**Stopped on budget:** {llm.budget_stop}; the verdict rests on what was "
            "established before the stop.",
            "",
        ]
    if llm.failed_steps:
        lines += ["**Failed steps:**", ""]
        lines += [f"- {f.step}: {f.reason}" for f in llm.failed_steps]
        lines.append("")
    if llm.untested:
        lines += [f"**Not tested:** {', '.join(llm.untested)}.", ""]
    if llm.ungrounded:
        lines += [f"**Not grounded in evidence:** {', '.join(llm.ungrounded)}.", ""]
    lines += [f"**Referee:** {REFEREE_TEXT[llm.referee].format(calls=llm.referee_calls)}", ""]
    return lines


REFEREE_TEXT = {
    "ran": "the systematic brain's tests re-ran on each grounded finding with the settled "
    "detector ({calls} tool calls); a finding they do not support is marked not confirmed "
    "and cannot carry the verdict.",
    "off": "off (--no-referee): the findings are the model's, not re-tested by the systematic "
    "brain's tests.",
    "not needed": "not run (no grounded finding to check).",
}


def _finding_lines(f: Finding) -> list[str]:
    where = f" in {', '.join(f'{k}={v}' for k, v in f.slice.items())}" if f.slice else ""
    commit = f", commit `{f.commit[:12]}`" if f.commit else ""
    marks = "" if f.grounded else " (not grounded in evidence)"
    if f.referee is not None and not f.referee.confirmed:
        marks += " (not confirmed by the referee)"
    lines = [
        f"### {f.rank}. {f.kind} `{f.id}`{where}{commit}: confidence {f.confidence:.2f}{marks}",
        "",
    ]
    if f.referee is None:
        lines.append(f"- Mechanism: {f.mechanism}")
    else:
        word = "confirmed" if f.referee.confirmed else f"not confirmed ({f.referee.status})"
        lines += [
            "| | what it says | evidence |",
            "|---|---|---|",
            f"| the model's claim | {_cell(f.mechanism)} | {', '.join(f.evidence)} |",
            f"| the referee: {word} | {_cell(f.referee.figures)} | "
            f"{', '.join(f.referee.evidence)} |",
            "",
        ]
    lines += [f"- Evidence: {', '.join(f.evidence)}", f"- Fix: {f.fix}", ""]
    return lines


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "/")


def render_markdown(report: Report) -> str:
    lines = [
        f"# rootcause report: {report.run_id}",
        "",
        f"**Symptom:** {report.symptom}",
        "",
        *_detector_lines(report),
    ]
    lines += [f"## Verdict: {VERDICT_TEXT[report.verdict]}", "", report.summary, ""]
    if report.verdict == "inconclusive":
        lines += [INCONCLUSIVE_NOTE, ""]
    if report.verdict == "symptom_not_found":
        lines += [NOT_FOUND_NOTE, "", *_suggestion_lines(report)]
    lines += _llm_lines(report.meta.llm)
    for f in report.findings:
        lines += _finding_lines(f)
    if report.effects is not None:
        lines += ["## Effects", "", *(f"- {line}" for line in report.effects.lines()), ""]
    lines += ["## Hypotheses", "", "| id | kind | target | status | score | evidence | note |"]
    lines += ["|---|---|---|---|---|---|---|"]
    for h in report.hypotheses:
        note = (h.notes[-1] if h.notes else "").replace("|", "/")
        lines.append(
            f"| {h.id} | {h.kind} | {h.target} | {h.status} | {h.score:.2f} | "
            f"{', '.join(h.evidence)} | {note[:160]} |"
        )
    lines += ["", "## Evidence", ""]
    for e in report.evidence:
        args = args_text(e.args)
        figures = figures_text(e.figures)
        lines.append(
            f"- **{e.id}** `{e.tool}({args})`: {e.summary}" + (f" [{figures}]" if figures else "")
        )
    if report.plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{Path(p).stem}]({p})" for p in report.plots]
    s = report.stats
    lines += [
        "",
        f"_{report.brain} brain; {s.tool_calls} tool calls, {s.wall_s:.1f} s, "
        f"{s.tokens_in} tokens in, {s.tokens_out} out, ${s.cost_usd:.4f}_",
        "",
    ]
    return "\n".join(lines)


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file so a reader never sees half a report."""
    try:
        with written_via_temp(path) as tmp:
            tmp.write_text(text)
    except OSError as exc:
        raise RootcauseError(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_report(report: Report, folder: Path) -> tuple[Path, Path]:
    json_path, md_path = folder / "report.json", folder / "report.md"
    write_atomic(json_path, report.model_dump_json(indent=2) + "\n")
    write_atomic(md_path, render_markdown(report))
    return json_path, md_path
