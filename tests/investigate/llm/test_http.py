"""The real HTTP path: `--brain llm --base-url` against a local Chat Completions server that the
test starts, plain and streaming; a dead endpoint; no provider at all."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from tests.conftest import LabRun
from tests.investigate.llm.chat_server import ChatServer, status, text, tool_calls


@pytest.fixture(autouse=True)
def _no_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OPENAI_API_KEY",
        "ROOTCAUSE_LLM_MODEL",
        "ROOTCAUSE_LLM_BASE_URL",
        "OPENAI_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def _script(lab: LabRun) -> list[dict]:
    """A short investigation with the behaviour given: detect (E1), one hypothesis tested with
    selection_pressure (E2), a conclusion; a 429 and a 503 on the way are retried."""
    hint, culprit = lab.hint, lab.culprit
    return [
        status(429),
        tool_calls(("detect", {"behavior": hint, "symptom": None, "examples": 2})),
        tool_calls(
            (
                "settle_detector",
                {"behavior": hint, "direction": "up", "evidence": ["E1"], "note": "given"},
            )
        ),
        tool_calls(
            (
                "propose_hypothesis",
                {
                    "kind": "reward_component",
                    "target": culprit,
                    "commit": None,
                    "statement": "it rewards it",
                },
            )
        ),
        text("Proposed one."),
        status(503),
        tool_calls(
            (
                "selection_pressure",
                {
                    "behavior": hint,
                    "by": "persona",
                    "windows": None,
                    "step_min": None,
                    "step_max": None,
                },
            )
        ),
        tool_calls(
            (
                "record_result",
                {
                    "hypothesis_id": "H1",
                    "status": "supported",
                    "score": 0.9,
                    "evidence": ["E2"],
                    "note": "pushes it",
                },
            )
        ),
        tool_calls(("submit_conclusion", conclusion(lab))),
    ]


def conclusion(lab: LabRun) -> dict:
    cause = lab.key["causes"][0]
    return {
        "summary": f"{lab.culprit} rewards it.",
        "findings": [
            {
                "kind": cause["kind"],
                "id": lab.culprit,
                "commit": None,
                "slice": [{"by": k, "value": v} for k, v in (cause["slice"] or {}).items()],
                "confidence": 0.9,
                "mechanism": "selection pressure (E2)",
                "evidence": ["E1", "E2"],
                "fix": "drop the words from the rubric",
            }
        ],
    }


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_base_url_investigation_over_http(
    cli, quirk_run: LabRun, tmp_path: Path, stream: bool
) -> None:
    server = ChatServer(_script(quirk_run))
    with server.running():
        result = cli(
            "investigate",
            str(quirk_run.run),
            "--symptom",
            quirk_run.key["symptom"],
            "--behavior",
            quirk_run.hint,
            "--brain",
            "llm",
            "--base-url",
            server.url,
            "--json",
            str(tmp_path / "report.json"),
            "--max-tool-calls",
            "10",
            *(["--stream"] if stream else []),
            workspace=quirk_run.workspace,
        )
    assert result.code == 0, result.err
    assert not server.replies  # every scripted reply was consumed (both errors retried)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["verdict"] == "cause_found" and report["brain"] == "llm"
    top = report["findings"][0]
    assert top["id"] == quirk_run.culprit and top["grounded"] is True
    assert report["stats"]["tokens_in"] == 7 * 200 and report["stats"]["cost_usd"] == 0.0
    # The model name came from the server's /models; tools went out as strict functions.
    chat = [r for r in server.requests if "messages" in r]
    assert all(r["model"] == "tiny-local" for r in chat)
    assert all(bool(r.get("stream")) == stream for r in chat)
    fn = {t["function"]["name"]: t["function"] for t in chat[0]["tools"]}
    assert fn["detect"]["strict"] is True and "symptom" in fn["detect"]["parameters"]["required"]
    # Tool results went back as tool messages starting with their evidence id. No request asks
    # for a JSON-schema response format (the conclusion is a tool call too); every request caps
    # its output, and streamed ones ask for usage (the stub reports it only then).
    second = next(r for r in chat if any(m["role"] == "tool" for m in r["messages"]))
    tool_msgs = [m for m in second["messages"] if m["role"] == "tool"]
    assert tool_msgs[0]["content"].startswith("[evidence E1]")
    assert all("response_format" not in r for r in chat)
    assert [t["function"]["name"] for t in chat[-1]["tools"]] == ["submit_conclusion"]
    assert all(r["max_tokens"] == 4096 for r in chat)
    assert all(
        r.get("stream_options") == ({"include_usage": True} if stream else None) for r in chat
    )
    assert "settle_detector" in fn and "record_result" not in fn
    # Assistant turns that only call tools went back with content "" (not null), and the
    # keep-alive connections were reused within each step.
    assistant = [m for r in chat for m in r["messages"] if m["role"] == "assistant"]
    assert assistant and all(m["content"] == "" for m in assistant if m.get("tool_calls"))
    assert server.connections < len(chat)
    # Progress streamed to stderr; the summary to stdout.
    assert (
        "model" in result.err and "hypothesis" in result.err and "selection_pressure" in result.err
    )
    assert "investigation" in result.out
    spec = json.loads(
        next(quirk_run.workspace.glob(f"investigations/{report['id']}/spec.json")).read_text()
    )
    assert spec["options"]["base_url"] == server.url and "api_key" not in json.dumps(spec)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dead_endpoint_fails_fast_with_one_line(cli, quirk_run: LabRun) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    started = time.perf_counter()
    result = cli(
        "investigate",
        str(quirk_run.run),
        "--symptom",
        "x",
        "--brain",
        "llm",
        "--base-url",
        url,
        "--model",
        "m",
        workspace=quirk_run.workspace,
    )
    assert time.perf_counter() - started < 30
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the model server" in lines[0] and url in lines[0]


def test_no_provider_says_how_to_configure(cli, quirk_run: LabRun) -> None:
    result = cli(
        "investigate",
        str(quirk_run.run),
        "--symptom",
        "x",
        "--brain",
        "llm",
        workspace=quirk_run.workspace,
    )
    assert result.code == 2
    (line,) = result.err.strip().splitlines()
    assert "--model" in line and "--base-url" in line and "OPENAI_API_KEY" in line


def test_openai_model_without_key_is_bad_input(cli, quirk_run: LabRun) -> None:
    result = cli(
        "investigate",
        str(quirk_run.run),
        "--symptom",
        "x",
        "--brain",
        "llm",
        "--model",
        "gpt-4.1",
        workspace=quirk_run.workspace,
    )
    assert result.code == 2 and "OPENAI_API_KEY" in result.err
