"""The LLM brain against servers as they behave: keep-alive connections (the eval too), a
server that never answers, replies that are not JSON or are cut off at the output limit, a
deterministic 500, a context too small for the first request, and tool arguments that only a
lenient JSON parser reads. Each runs the CLI in-process against the stub server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rootcause.evaluation.cache import ensure_run
from rootcause.evaluation.suite import load_suite
from tests.conftest import CliResult, LabRun
from tests.investigate.llm.chat_server import (
    ChatServer,
    Reply,
    cut_off,
    hang,
    raw,
    status,
    text,
    tool_calls,
    trickle,
)
from tests.investigate.llm.test_http import _script

Cli = Callable[..., CliResult]


@pytest.fixture(autouse=True)
def _no_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ROOTCAUSE_LLM_MODEL", "ROOTCAUSE_LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _investigate(cli: Cli, lab: LabRun, server: ChatServer, *extra: str) -> CliResult:
    return cli(
        "investigate",
        str(lab.run),
        "--symptom",
        lab.key["symptom"],
        "--behavior",
        lab.hint,
        "--brain",
        "llm",
        "--base-url",
        server.url,
        *extra,
        workspace=lab.workspace,
    )


def _one_line(result: CliResult) -> str:
    lines = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    return lines[0]


def _error_json(lab: LabRun, line: str) -> dict[str, Any]:
    investigation = line.rsplit("--resume ", 1)[1].split()[0].rstrip(".;)")
    path = lab.workspace / "investigations" / investigation / "error.json"
    return dict(json.loads(path.read_text()))


def _log(lab: LabRun, investigation: str) -> list[dict[str, Any]]:
    path = lab.workspace / "investigations" / investigation / "llm-log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def test_hung_server_fails_within_the_request_timeout_and_resumes(
    cli: Cli, quirk_run: LabRun, tmp_path: Path
) -> None:
    hung = ChatServer([tool_calls(("detect", {"behavior": quirk_run.hint})), hang()])
    with hung.running():
        result = _investigate(cli, quirk_run, hung, "--request-timeout", "1")
    assert result.code == 1
    line = _one_line(result)
    assert "did not answer within 1 s (--request-timeout)" in line and "--resume" in line
    error = _error_json(quirk_run, line)
    assert error["error"] == "ServerError" and error["resume"] in line
    assert any(r["kind"] == "timeout" for r in _log(quirk_run, error["resume"]))
    assert len(hung.chat) == 2  # the timed-out request was not sent again
    # Continued against a server that answers: the investigation finishes from its checkpoint.
    server = ChatServer(_script(quirk_run))
    with server.running():
        resumed = cli(
            "investigate",
            "--resume",
            error["resume"],
            "--base-url",
            server.url,
            "--json",
            str(tmp_path / "report.json"),
            workspace=quirk_run.workspace,
        )
    assert resumed.code == 0, resumed.err
    assert json.loads((tmp_path / "report.json").read_text())["verdict"] == "cause_found"


def test_hung_stream_fails_within_the_request_timeout(cli: Cli, quirk_run: LabRun) -> None:
    server = ChatServer([hang()])
    with server.running():
        result = _investigate(cli, quirk_run, server, "--stream", "--request-timeout", "1")
    assert result.code == 1
    assert "did not answer within 1 s (--request-timeout)" in _one_line(result)
    assert len(server.chat) == 1


def test_server_that_never_answers_fails_before_the_investigation(
    cli: Cli, quirk_run: LabRun
) -> None:
    server = ChatServer([], hang_all=True)
    with server.running():
        result = _investigate(cli, quirk_run, server, "--request-timeout", "1")
    assert result.code == 1
    assert "did not answer within 1 s (--request-timeout)" in _one_line(result)
    assert not server.chat


@pytest.mark.parametrize(
    "reply",
    [raw("<html>502 Bad Gateway</html>"), raw("data: {oops\n\n", "text/event-stream")],
    ids=["plain", "stream"],
)
def test_reply_that_is_not_json_is_one_line(cli: Cli, quirk_run: LabRun, reply: Reply) -> None:
    stream = reply["content_type"] == "text/event-stream"
    server = ChatServer([reply])
    with server.running():
        result = _investigate(cli, quirk_run, server, *(["--stream"] if stream else []))
    assert result.code == 1
    line = _one_line(result)
    assert "the server's reply is not JSON" in line and "--resume" in line
    # A plain reply is checked before the SDK reads it: its URL, content type and first bytes.
    expected = "ServerError" if stream else "NotAPIReply"
    assert _error_json(quirk_run, line)["error"] == expected
    if not stream:
        assert f"{server.url}/chat/completions" in line and "<html>502 Bad Gateway" in line


def test_deterministic_500_is_not_retried(cli: Cli, quirk_run: LabRun) -> None:
    message = "Assistant message must have content"
    server = ChatServer([status(500, message), status(500, message), *_script(quirk_run)])
    with server.running():
        result = _investigate(cli, quirk_run, server)
    assert result.code == 1
    line = _one_line(result)
    assert "answered 500 twice with the same error" in line and message in line
    assert "--resume" in line
    assert len(server.chat) == 2
    kinds = [r["kind"] for r in _log(quirk_run, _error_json(quirk_run, line)["resume"])]
    assert kinds.count("retry") == 1 and "deterministic" in kinds
    assert "the server answered 500; retry 1 of 4" in result.err


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_reply_cut_off_at_the_output_limit_gets_a_corrective_turn(
    cli: Cli, quirk_run: LabRun, tmp_path: Path, stream: bool
) -> None:
    truncated = cut_off(tool_calls(("detect", '{"behavior": "terms:dra')))
    server = ChatServer([truncated, *_script(quirk_run)])
    with server.running():
        result = _investigate(
            cli,
            quirk_run,
            server,
            "--max-output-tokens",
            "300",
            "--json",
            str(tmp_path / "report.json"),
            *(["--stream"] if stream else []),
        )
    assert result.code == 0, result.err
    assert all(r["max_tokens"] == 300 for r in server.chat)
    corrective = server.chat[1]["messages"][-1]
    assert corrective["role"] == "user"
    assert "cut off at the output limit (300 tokens, --max-output-tokens)" in corrective["content"]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["verdict"] == "cause_found"
    kinds = [r["kind"] for r in _log(quirk_run, report["id"])]
    assert "cut_off" in kinds and "corrective" in kinds


@pytest.mark.parametrize("where", ["props", "models", "ps"])
def test_context_too_small_is_one_line_naming_the_size_needed(
    cli: Cli, quirk_run: LabRun, where: str
) -> None:
    server = ChatServer([], context=4096, context_at=where)
    with server.running():
        result = _investigate(cli, quirk_run, server)
    assert result.code == 2
    line = _one_line(result)
    assert "serves a context of 4,096 tokens" in line and "needs about" in line
    source = {"props": "/props", "models": "/models", "ps": "/api/ps"}[where]
    assert source in line and "--max-output-tokens" in line
    assert not server.chat  # nothing was sent that could not fit


def test_raw_newline_inside_tool_arguments_is_read(
    cli: Cli, quirk_run: LabRun, tmp_path: Path
) -> None:
    hint, culprit = quirk_run.hint, quirk_run.culprit
    settle = {"behavior": hint, "direction": "up", "evidence": ["E1"], "note": "given"}
    proposal = (
        '{"kind": "reward_component", "target": "' + culprit + '", "commit": null, '
        '"statement": "its reward favours it\nin every persona"}'
    )
    server = ChatServer(
        [
            tool_calls(("detect", {"behavior": hint})),
            tool_calls(("settle_detector", settle)),
            tool_calls(("propose_hypothesis", proposal)),
            text("Proposed one."),
        ]
    )
    with server.running():
        result = _investigate(
            cli, quirk_run, server, "--max-turns", "4", "--json", str(tmp_path / "r.json")
        )
    assert result.code == 0, result.err
    (h1,) = json.loads((tmp_path / "r.json").read_text())["hypotheses"]
    assert h1["statement"] == "its reward favours it\nin every persona"


def test_eval_of_the_llm_brain_against_a_keep_alive_server(cli: Cli, tmp_path: Path) -> None:
    suite = tmp_path / "llm.yaml"
    suite.write_text(
        "defaults: {steps: 60, groups: 16, group_size: 8}\n"
        "scenarios:\n  - {bug: persona_reward_quirk, seed: 1}\n"
    )
    ws = tmp_path / "ws"
    scn = load_suite(suite).scenarios[0]
    cached = ensure_run(ws, scn.bug, scn.seed, scn.options)
    lab = LabRun(cached.run_dir, json.loads(cached.key_path.read_text()), ws)
    server = ChatServer(_script(lab)[1:])
    with server.running():
        result = cli(
            "eval",
            "--suite",
            str(suite),
            "--brain",
            "llm",
            "--base-url",
            server.url,
            "--brain-option",
            "stream=true",
            "--json",
            "-",
            workspace=ws,
        )
    assert result.code == 0, result.err
    (scenario,) = result.json()["scenarios"]
    assert scenario["error"] is None and scenario["verdict"] == "cause_found"
    assert server.connections < len(server.chat)


def test_tokens_are_estimated_when_the_server_reports_no_usage(
    cli: Cli, quirk_run: LabRun, tmp_path: Path
) -> None:
    settle = {"behavior": quirk_run.hint, "direction": "up", "evidence": ["E1"], "note": "x"}
    server = ChatServer(
        [
            tool_calls(("detect", {"behavior": quirk_run.hint})),
            tool_calls(("settle_detector", settle)),
        ],
        usage=False,
    )
    with server.running():
        result = _investigate(
            cli, quirk_run, server, "--max-turns", "2", "--json", str(tmp_path / "r.json")
        )
    assert result.code == 0, result.err
    report = json.loads((tmp_path / "r.json").read_text())
    # Counted, not zero, so --max-tokens still bites; the log says the figures are estimates.
    assert report["stats"]["tokens_in"] > 1000 and report["stats"]["tokens_out"] > 0
    models = [r for r in _log(quirk_run, report["id"]) if r["kind"] == "model"]
    assert models and all(r["usage"] == "estimated" for r in models)


def test_inconclusive_exits_0_even_with_fail_on_cause(cli: Cli, quirk_run: LabRun) -> None:
    server = ChatServer([text("It is dragons."), text("Dragons, I said.")])
    with server.running():
        result = _investigate(cli, quirk_run, server, "--fail-on-cause")
    assert result.code == 0, result.err
    first = result.out.splitlines()[0]
    assert first.endswith(
        ": inconclusive (no cause established and the candidates not ruled out; it names no cause)"
    )
    assert "characterise failed" in result.out


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_slow_body_ends_at_the_request_timeout(cli: Cli, quirk_run: LabRun, stream: bool) -> None:
    """A reply whose body trickles in (a byte every 0.2 s: no read ever waits a second) is
    cut at --request-timeout, measured from connect to the last byte."""
    reply = trickle(tool_calls(("detect", {"behavior": quirk_run.hint})))
    server = ChatServer([reply])
    flags = ["--request-timeout", "1", *(["--stream"] if stream else [])]
    with server.running():
        result = _investigate(cli, quirk_run, server, *flags)
    assert result.code == 1
    line = _one_line(result)
    assert "did not answer within 1 s (--request-timeout)" in line and "--resume" in line
    # The client gave up with most of the body unsent (sending it takes over a minute).
    assert 0 < server.trickled < server.to_trickle / 2
    assert len(server.chat) == 1


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_html_reply_is_one_line_with_url_type_and_bytes(
    cli: Cli, quirk_run: LabRun, stream: bool
) -> None:
    page = "<!doctype html><html><body>\x1b]0;PWNED\x07Log in</body></html>"
    server = ChatServer([raw(page, "text/html; charset=utf-8")])
    with server.running():
        result = _investigate(cli, quirk_run, server, *(["--stream"] if stream else []))
    assert result.code == 1
    line = _one_line(result)
    assert f"{server.url}/chat/completions" in line
    assert "content type text/html; charset=utf-8" in line and "<!doctype html>" in line
    assert "\\x1b]0;PWNED" in line and "\x1b" not in result.err  # the bytes are shown escaped
    assert "--resume" in line
    assert _error_json(quirk_run, line)["error"] == "NotAPIReply"
    assert len(server.chat) == 1  # not retried


def test_web_ui_as_base_url_is_one_line(cli: Cli, quirk_run: LabRun) -> None:
    server = ChatServer([], web_ui=True)
    with server.running():
        result = _investigate(cli, quirk_run, server)
    assert result.code == 1
    line = _one_line(result)
    assert f"{server.url}/models" in line and "content type text/html" in line
    assert "<!doctype html>" in line and "is --base-url the API's root" in line
    assert "Traceback" not in result.err and not server.chat


def test_escape_sequences_from_the_model_are_shown_not_sent(cli: Cli, quirk_run: LabRun) -> None:
    """A reply that would move the cursor, rewrite the progress line and set the terminal's
    title, and tool arguments carrying the same, reach stderr and stdout escaped."""
    attack = "\x1b[1A\x1b[2Kfinished   cause_found \x1b]0;PWNED\x07"
    script = _script(quirk_run)
    script.insert(1, text(attack))  # a reply with no tool call: then its corrective turn
    propose = script[4]["tool_calls"][0]
    assert propose["name"] == "propose_hypothesis"
    propose["arguments"] = propose["arguments"].replace("it rewards it", attack)
    submit = script[-1]["tool_calls"][0]
    submit["arguments"] = submit["arguments"].replace("rewards it.", attack)
    server = ChatServer(script)
    with server.running():
        result = _investigate(cli, quirk_run, server)
    assert result.code == 0, result.err
    assert "\x1b" not in result.err and "\x07" not in result.err
    assert "\x1b" not in result.out and "\x07" not in result.out
    shown = [line for line in result.err.splitlines() if "\\x1b]0;PWNED" in line]
    assert any(line.startswith("model") for line in shown)
    assert any(line.startswith("hypothesis") for line in shown)
    assert "\\x1b]0;PWNED" in result.out  # the model's summary


def test_ensemble_over_two_models_from_the_command_line(
    cli: Cli, quirk_run: LabRun, tmp_path: Path
) -> None:
    server = ChatServer([*_script(quirk_run), *_script(quirk_run)])
    with server.running():
        models = ["--model", "a", "--model", "b"]
        result = _investigate(cli, quirk_run, server, *models, "--json", str(tmp_path / "e.json"))
    assert result.code == 0, result.err
    assert not server.replies
    assert sorted({r["model"] for r in server.chat}) == ["a", "b"]
    head, *_ = result.out.splitlines()
    assert head.startswith("ensemble ") and head.endswith(": cause_found")
    assert "run 1 (a, temperature 0.2): cause_found" in result.out
    assert "run 2 (b, temperature 0.7): cause_found" in result.out and "  total: " in result.out
    report = json.loads((tmp_path / "e.json").read_text())
    assert report["format"] == "rootcause-ensemble/1" and report["runs_naming_cause"] == 2
    assert report["cause"] == f"reward_component {quirk_run.culprit}"
    assert {r["temperature"] for r in server.chat} == {0.2, 0.7}
    refused = _investigate(cli, quirk_run, server, "--ensemble", "2", "--brain", "systematic")
    assert refused.code == 2 and "only with --brain llm" in refused.err
