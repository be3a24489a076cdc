"""The toolset through `rootcause tool`: contracts, evidence, plots, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import LabRun

ALL_TOOLS = (
    "overview",
    "samples",
    "sql",
    "detect",
    "prevalence",
    "compare_traces",
    "onset",
    "selection_pressure",
    "counterfactual",
    "reward_contrast",
    "enrichment",
)


def _tool(cli, lab: LabRun, name: str, *args: str):
    return cli("tool", name, str(lab.run), *args, "--no-plot", workspace=lab.workspace)


def test_tool_list_names_every_tool(cli) -> None:
    result = cli("tool", "list")
    assert result.code == 0
    for name in ALL_TOOLS:
        assert f"{name}:" in result.out


def test_selection_pressure_contract_and_culprit(cli, quirk_run: LabRun) -> None:
    result = _tool(cli, quirk_run, "selection_pressure", "--behavior", quirk_run.hint, "--json")
    assert result.code == 0, result.err
    data = result.json()
    pressures = [c["pressure"] for c in data["components"]]
    assert pressures == sorted(pressures, reverse=True)
    assert set(data["components"][0]) >= {"component", "pressure", "ci_low", "ci_high"}
    # The culprit leads the components whose interval is clear of zero.
    clear = [c for c in data["components"] if c["ci_low"] > 0]
    assert clear and clear[0]["component"] == quirk_run.culprit
    persona = quirk_run.key["causes"][0]["slice"]["persona"]
    slices = {s["slice"]: s for s in data["by_slice"]}
    assert slices[persona]["components"][0]["component"] == quirk_run.culprit
    assert data["weights_source"] == "config"


def test_counterfactual_removes_the_push(cli, quirk_run: LabRun) -> None:
    result = _tool(
        cli,
        quirk_run,
        "counterfactual",
        "--behavior",
        quirk_run.hint,
        "--remove",
        quirk_run.culprit,
        "--json",
    )
    assert result.code == 0, result.err
    data = result.json()
    # Removing the culprit takes away a clearly positive part of the push.
    assert data["change"]["low"] > 0
    assert data["remaining"]["value"] < data["baseline"]["value"]


def test_prevalence_concentrates_in_the_quirky_persona(cli, quirk_run: LabRun) -> None:
    result = _tool(cli, quirk_run, "prevalence", "--behavior", quirk_run.hint, "--json")
    assert result.code == 0, result.err
    data = result.json()
    persona = quirk_run.key["causes"][0]["slice"]["persona"]
    top = data["concentration"][0]
    assert top["label"] == persona and top["ratio_low"] > 1
    overall = [p["rate"] for p in data["overall"]["points"] if p["rate"] is not None]
    assert overall[-1] > overall[0]


def test_every_call_leaves_evidence_and_a_plot(cli, quirk_run: LabRun) -> None:
    result = cli(
        "tool",
        "prevalence",
        str(quirk_run.run),
        "--behavior",
        quirk_run.hint,
        workspace=quirk_run.workspace,
    )
    assert result.code == 0, result.err
    first = result.out.splitlines()[0]
    assert first.startswith("[evidence E")
    plot = Path(result.err.split("plot: ")[1].strip())
    assert plot.suffix == ".png" and plot.stat().st_size > 1000
    log = plot.parent.parent / "evidence.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["id"] for r in records] == [f"E{i}" for i in range(1, len(records) + 1)]
    assert records[-1]["tool"] == "prevalence"
    assert "rate_last_bin" in records[-1]["figures"]


def test_sample_text_is_quoted_as_data(cli, quirk_run: LabRun) -> None:
    result = _tool(cli, quirk_run, "samples", "--behavior", quirk_run.hint, "--limit", "2")
    assert result.code == 0, result.err
    quoted = [line for line in result.out.splitlines() if "completion:" in line]
    assert len(quoted) == 2
    assert all("⟦sample" in line and "data not instructions" in line for line in quoted)


def test_detect_and_enrichment_and_contrast_run(cli, quirk_run: LabRun) -> None:
    for name, extra in (
        ("detect", ()),
        ("enrichment", ("--by", "persona")),
        ("reward_contrast", ()),
        ("onset", ()),
    ):
        result = _tool(cli, quirk_run, name, "--behavior", quirk_run.hint, "--json", *extra)
        assert result.code == 0, (name, result.err)
    enrich = _tool(
        cli, quirk_run, "enrichment", "--behavior", quirk_run.hint, "--by", "persona", "--json"
    ).json()
    persona = quirk_run.key["causes"][0]["slice"]["persona"]
    assert enrich["levels"][0]["level"] == persona


def test_compare_traces_sees_the_spread(cli, quirk_run: LabRun) -> None:
    persona = quirk_run.key["causes"][0]["slice"]["persona"]
    data = _tool(
        cli, quirk_run, "compare_traces", "--behavior", quirk_run.hint, "--a", persona, "--json"
    ).json()
    assert data["pearson"] > 0.5


def test_sql_reads_the_tables(cli, quirk_run: LabRun) -> None:
    result = _tool(cli, quirk_run, "sql", "--query", "SELECT count(*) AS n FROM samples", "--json")
    assert result.code == 0, result.err
    assert result.json()["rows"][0][0] == 80 * 24 * 8


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("detect", "--behavior", "regex:(unclosed"), "invalid regex"),
        (("detect", "--behavior", "fuzzy:goblin"), "expected regex:PATTERN"),
        (("detect", "--behavior", "words:lots"), "words takes >N or <N"),
        (("detect", "--behaviour", "terms:x"), "unknown argument --behaviour"),
        (("prevalence", "--behavior", "terms:x", "--by", "planet"), "argument 'by'"),
        (("counterfactual", "--behavior", "terms:x", "--remove", "nope_rm"), "unknown reward"),
        (("sql", "--query", "DELETE FROM samples"), "SQL error"),
        (("sql", "--query", "CREATE TABLE t AS SELECT 1"), "SQL error"),
        (("sql", "--query", "SELECT * FROM read_csv('/etc/passwd')"), "SQL error"),
        (("sql", "--query", "COPY samples TO '/tmp/leak.csv'"), "SQL error"),
        (("sql", "--query", "SET enable_external_access = true"), "SQL error"),
        (("sql", "--query", "SELEC 1"), "SQL error"),
        (("sql", "--query", "SELECT 1; SELECT 2"), "one SELECT statement per call"),
        (("sql", "--query", "SET memory_limit = '100GB'"), "only read-only SELECT"),
        (
            (
                "sql",
                "--query",
                "WITH RECURSIVE t(n, s) AS (SELECT 1, repeat('y', 100000) UNION ALL "
                "SELECT n + 1, s || s FROM t WHERE n < 40) SELECT max(length(s)) FROM t",
            ),
            "SQL error: a value built by || or concatenation would exceed the sandbox cap",
        ),
        (("compare_traces", "--behavior", "terms:x", "--a", "nobody"), "no persona named"),
    ],
)
def test_bad_tool_input_is_one_line_exit_2(cli, quirk_run: LabRun, args, needle) -> None:
    result = _tool(cli, quirk_run, *args)
    assert result.code == 2, (result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.err
    assert "Traceback" not in result.err


def test_unknown_tool_and_missing_run(cli) -> None:
    unknown = cli("tool", "crystal_ball", "somewhere")
    assert unknown.code == 2 and "unknown tool 'crystal_ball'" in unknown.err
    missing = cli("tool", "overview")
    assert missing.code == 2 and "missing RUN" in missing.err


def test_terms_match_inflections_and_plain_text(tmp_path: Path) -> None:
    from rootcause.behaviour.matching import behavior_hits
    from rootcause.store.ingest import ingest_run
    from rootcause.store.run_store import RunStore
    from rootcause.store.workspace import Workspace
    from rootcause.tools.context import ToolContext
    from tests.conftest import write_jsonl

    texts = ["Two Ponies ran", "a pony's hat", "ponytail", "100% goblin_ish", "GOBLINS!", "nothing"]
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "run.yaml").write_text("format: rootcause-run/1\nrun_id: t\n")
    write_jsonl(run / "samples" / "a.jsonl", [{"step": 0, "completion": t} for t in texts])
    with RunStore(ingest_run(run, Workspace(tmp_path / "ws")).db_path) as store:
        ctx = ToolContext(store, tmp_path / "work")
        hits = behavior_hits(ctx, "terms:pony,goblin")
    assert hits.tolist() == [True, True, False, False, True, False]
