"""The alert table as Parquet and Markdown (cells from runs are shown as data, on one line)."""

from __future__ import annotations

from pathlib import Path

from rootcause.core.disk import written_via_temp
from rootcause.core.untrusted import visible
from rootcause.scan.model import SEVERITY_RANK, Alert, RunResult, ScanSummary

COLUMNS = (
    "run",
    "run_id",
    "check",
    "subject",
    "component",
    "severity",
    "first_step",
    "share",
    "evidence",
    "command",
    "detail",
    "example",
)
#: Longest text shown in a Markdown cell.
CELL_CHARS = 120


def sorted_alerts(alerts: list[Alert]) -> list[Alert]:
    """Most severe first, then by run, check and subject (a stable, comparable order)."""
    return sorted(alerts, key=lambda a: (-SEVERITY_RANK[a.severity], a.run, a.check, a.subject))


def alerts_parquet(alerts: list[Alert], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [a.model_dump(mode="json") for a in sorted_alerts(alerts)]
    schema = pa.schema(
        [
            (name, pa.int64() if name == "first_step" else pa.float64() if name == "share"
             else pa.string())
            for name in COLUMNS
        ]
    )  # fmt: skip
    table = pa.Table.from_pylist([{c: r[c] for c in COLUMNS} for r in rows], schema=schema)
    with written_via_temp(path) as tmp:
        pq.write_table(table, tmp)


def _cell(value: object, limit: int = CELL_CHARS) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2%}"
    return visible(str(value), limit).replace("|", "\\|")


def alerts_markdown(results: list[RunResult], summary: ScanSummary) -> str:
    """The table most severe first, then the runs that failed."""
    alerts = sorted_alerts([a for r in results for a in r.alerts])
    lines = [
        "# Scan",
        "",
        f"{summary.runs} runs ({summary.scanned} scanned, {summary.reused} reused, "
        f"{summary.errors} failed), {summary.alerts} alerts, {summary.samples:,} samples, "
        f"{summary.seconds:.1f} s on {summary.executor}.",
        "",
        "| run | check | subject | component | severity | first step | share | evidence | "
        "command |",
        "|---|---|---|---|---|---:|---:|---|---|",
    ]
    for a in alerts:
        values = (a.run_id, a.check, a.subject, a.component, a.severity, a.first_step, a.share,
                  a.evidence)  # fmt: skip
        command = "`" + a.command.replace("|", "\\|") + "`"
        lines.append("| " + " | ".join([*(_cell(v) for v in values), command]) + " |")
    if not alerts:
        lines.append("| (no alerts) | | | | | | | | |")
    details = [a for a in alerts if a.detail or a.example]
    if details:
        lines += ["", "## Details", ""]
        for a in details:
            example = f" Example: {a.example}" if a.example else ""
            lines.append(
                f"- {_cell(a.run_id)} {a.check} {_cell(a.subject)}: {_cell(a.detail, 600)}{example}"
            )
    failed = [r for r in results if r.status == "error"]
    if failed:
        lines += ["", "## Runs that could not be scanned", ""]
        lines += [f"- `{r.run}`: {_cell(r.error)}" for r in failed]
    return "\n".join(lines) + "\n"
