"""Effects in a report with a cause: the spread of a persona quirk, and the monitorability
drop a CoT monitor penalty causes; every number cites evidence the report holds."""

from __future__ import annotations

import re

from rootcause.core.report import Report
from rootcause.investigate.job import investigate
from rootcause.investigate.report import render_markdown
from rootcause.store.workspace import Workspace
from tests.conftest import LabRun
from tests.investigate.conftest import Watched


def _cited(report: Report, text: str, tool: str) -> None:
    ids = re.findall(r"\bE\d+\b", text)
    assert ids, text
    tools = {e.id: e.tool for e in report.evidence}
    assert all(i in tools for i in ids), (ids, sorted(tools))
    assert tool in {tools[i] for i in ids}


def test_a_persona_quirk_report_carries_the_spread(systematic_whole: Watched) -> None:
    report = systematic_whole.outcome.report
    assert report.verdict == "cause_found" and report.effects is not None
    spread = report.effects.spread
    assert spread is not None
    assert spread.by == "persona" and spread.source == report.findings[0].slice["persona"]
    assert spread.is_copy and spread.fit_r2 is not None and spread.fit_r2 > 0.5
    _cited(report, spread.text, "compare_traces")
    assert report.effects.monitorability is None  # the cause does not read the reasoning
    markdown = render_markdown(report)
    assert "## Effects" in markdown and spread.text in markdown


def test_a_cot_penalty_report_carries_the_monitorability_drop(cot_pressure_run: LabRun) -> None:
    outcome = investigate(
        Workspace(cot_pressure_run.workspace),
        run=cot_pressure_run.run,
        symptom=cot_pressure_run.key["symptom"],
    )
    report = outcome.report
    cause = cot_pressure_run.key["causes"][0]
    assert report.findings[0].id == cause["id"] and report.effects is not None
    effect = report.effects.monitorability
    assert effect is not None, report.effects.notes
    assert effect.event == cause["commit"] and effect.reading == "reasoning_stopped_saying_it"
    assert effect.recall_change is not None and effect.recall_change < 0
    assert effect.outcome_rate_change is not None and effect.outcome_rate_change > -0.05
    _cited(report, effect.text, "monitorability")
    assert effect.text in outcome.markdown_path.read_text()
