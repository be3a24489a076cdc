"""The LLM brain's judge for `judge:` behaviours, against a local stub server (no network)."""

from __future__ import annotations

from rootcause.investigate.llm.config import LLMOptions, Provider
from rootcause.investigate.llm.judge import ProviderJudge
from tests.investigate.llm.chat_server import ChatServer, text


def test_provider_judge_asks_one_text_per_request_and_reads_yes() -> None:
    server = ChatServer([text("Yes."), text("no"), text("I think so")])
    with server.running():
        provider = Provider("compatible", "tiny-local", server.url, None)
        judge = ProviderJudge(provider, LLMOptions())
        answers = judge.answer("Is it pirate talk?", ["Arr matey", "The sum is 4", "Ahoy"])
    assert answers == [True, False, False]
    assert judge.model == "tiny-local" and len(server.requests) == 3
    user = server.requests[0]["messages"][-1]["content"]
    assert "Is it pirate talk?" in user and "<text>\nArr matey\n</text>" in user
    assert server.requests[0]["temperature"] == 0
