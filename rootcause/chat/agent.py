"""The chat agent: one free-text turn of an openai-agents agent over the registry tools and the
ledger's tools (`propose_hypothesis`, `record_result`), built on the LLM brain's pieces.

A turn is one model run (`run_phase`, in an event loop of its own, so it runs in any thread)
that continues the session's conversation: its history is kept in the session's folder, so a
resumed session goes on where it stopped. Each user message is preceded by a short note of
what the session did meanwhile (evidence from slash commands, investigations that concluded,
the ledger), so the agent can cite those ids. Text streams in (`--no-stream` turns it off);
tool calls become blocks as they happen. Budgets are the LLM brain's options, applied to each
turn (model calls, tool calls, tokens, wall time); the session's totals are kept for the
header. Cancelling stops the turn between model calls and tool calls.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rootcause.chat.entries import LedgerChange, Notice, UsageLive, UsageTotals
from rootcause.chat.sessions import ChatSession, Conversation
from rootcause.chat.toolbox import ChatToolbox, EventTranslator, UpdateSink
from rootcause.core.report import Hypothesis, Stats
from rootcause.investigate.cancel import CancelToken, JobCancelled
from rootcause.investigate.events import ModelTurn
from rootcause.investigate.ledger import Ledger
from rootcause.investigate.llm.config import LLMOptions, Provider, resolve_provider
from rootcause.investigate.llm.errors import ContextTooSmall
from rootcause.investigate.llm.memo import LLMMemo
from rootcause.investigate.llm.pricing import load_prices
from rootcause.investigate.llm.runner import ModelFactory, opening_tokens, run_phase
from rootcause.investigate.llm.session import BudgetExceeded, CallLog, Session
from rootcause.investigate.state import InvestigationSpec, InvestigationState
from rootcause.tools.context import ToolContext

if TYPE_CHECKING:
    from agents import FunctionTool, Model

    from rootcause.investigate.llm.server import ServerInfo

logger = logging.getLogger(__name__)

#: The phase name of a chat turn: its instructions are `prompts/investigator.md` + `chat.md`.
PHASE = "chat"

#: Something the session did that the agent has not been told of: (key, line).
News = tuple[str, str]


def chat_options(options: LLMOptions) -> LLMOptions:
    """The chat's options: replies stream unless `stream` was set."""
    if "stream" in options.model_fields_set:
        return options
    streamed = options.model_copy(update={"stream": True})
    streamed.model_fields_set.discard("stream")
    return streamed


@dataclass
class ModelSetup:
    """How the chat reaches its model: the LLM brain's options, a key that is never stored,
    and (tests) a model to use instead of a provider."""

    options: LLMOptions
    api_key: str | None = None
    model: Model | None = None

    def provider(self) -> Provider | None:
        """The provider, or one line on how to configure one (never None without a model)."""
        return None if self.model is not None else resolve_provider(self.options, self.api_key)


class ChatAgent:
    """Free-text turns over one session's toolbox; its ledger is the session's."""

    def __init__(
        self, setup: ModelSetup, ctx: ToolContext, chat: ChatSession, emit: UpdateSink
    ) -> None:
        self.options = chat_options(setup.options)
        self.model = setup.model
        self.provider = setup.provider()
        self.server: ServerInfo | None = None
        self.prices = load_prices(self.options.prices)
        self.ctx = ctx
        self.chat = chat
        self.emit = emit
        spec = InvestigationSpec(
            id=chat.id, run=chat.meta.run, symptom="(chat)", brain="llm", created=chat.meta.created
        )
        self.state = InvestigationState(spec=spec)
        # The ledger sees the session's evidence ids as soon as a call records them.
        self.state.evidence = ctx.evidence.records
        self.conversation = chat.load_conversation()
        self.totals = UsageTotals()

    @property
    def model_name(self) -> str:
        if self.provider is not None:
            return self.provider.model or "(the server's first model)"
        return self.options.model or "scripted"

    def restore(self, change: LedgerChange | UsageTotals) -> None:
        """Take back, from a resumed session's log, a ledger change or the usage totals."""
        if isinstance(change, UsageTotals):
            self.totals = change.model_copy()
            return
        e = change.event
        known = {h.id: h for h in self.state.hypotheses}
        h = known.get(e.id)
        if h is None:
            h = Hypothesis(
                id=e.id, kind=e.kind, target=e.candidate, commit=e.commit, statement=e.statement
            )
            self.state.hypotheses.append(h)
        h.status, h.score, h.evidence = e.status, e.confidence, list(e.evidence)
        if e.note and e.note not in h.notes:
            h.notes.append(e.note)

    def _factory(self) -> ModelFactory:
        if self.model is not None:
            injected = self.model
            return lambda: (injected, lambda: None)
        from rootcause.investigate.llm.server import open_model, preflight

        provider = self.provider
        assert provider is not None
        if self.server is None:
            provider, self.server = preflight(provider, self.options)
            self.provider = provider
        return lambda: open_model(provider, self.options)

    def turn(self, text: str, cancel: CancelToken, news: list[News]) -> None:
        """Answer `text`; updates go to the session as they happen. Raises `JobCancelled`
        when cancelled and a one-line `RootcauseError` when the model server fails."""
        factory = self._factory()
        translator = EventTranslator(self.emit)
        box = ChatToolbox(self.ctx, translator, cancel, self.options.disabled_tools)
        self.state.stats, self.state.memo = Stats(), LLMMemo(model=self.model_name)
        session = Session(
            box=box,
            state=self.state,
            ledger=Ledger(self.state, box.emit),
            options=self.options,
            provider=self.provider,
            model_name=self.model_name,
            prices=self.prices,
            log=CallLog(self.chat.folder),
            phase=PHASE,
        )
        translator.on_model_turn = lambda e: self._live_usage(e, box)
        tools = _tools(session)
        told_before = list(self.conversation.told)
        message = {"role": "user", "content": self._message(text, news, session)}
        task = [*self.conversation.items, message]
        self._check_context(task, tools)
        items: list[Any] = task
        told = told_before + [key for key, _ in news]
        try:
            result = run_phase(
                session, factory, task, tools, lambda _: None, max_turns=self.options.max_turns + 1
            )
        except BudgetExceeded as exc:
            session.stop(exc.reason)
            items = [*task, _assistant(f"(stopped on budget: {exc.reason})")]
        except JobCancelled:
            items = [*task, _assistant("(the user cancelled this turn)")]
            raise
        else:
            items = result.outcome.items
            told = told + [e.id for e in self.ctx.evidence.records]
            if result.outcome.failure:
                self.emit(Notice(level="error", text=f"the turn failed: {result.outcome.failure}"))
        finally:
            self.conversation = Conversation(items=items, told=list(dict.fromkeys(told)))
            self.chat.save_conversation(self.conversation)
            self._add_usage(box)

    def _message(self, text: str, news: list[News], session: Session) -> str:
        notes = [line for _, line in news]
        if self.state.hypotheses:
            notes.append("Ledger: " + "; ".join(_hypothesis(h) for h in self.state.hypotheses))
        notes.append(f"Budget for this turn: {session.budget_left()}.")
        head = "\n".join(f"- {n}" for n in notes)
        return f"Session notes (from the app, not the user):\n{head}\n\nThe user writes:\n{text}"

    def _check_context(self, task: list[Any], tools: list[FunctionTool]) -> None:
        if self.server is None:
            return
        from rootcause.investigate.llm.server import context_problem

        problem = context_problem(self.server, opening_tokens(PHASE, task, tools), self.options)
        if problem is not None:
            raise ContextTooSmall(problem)

    def _live_usage(self, event: ModelTurn, box: ChatToolbox) -> None:
        t = self.totals
        self.emit(
            UsageLive(
                tokens_in=t.tokens_in + event.tokens_in_total,
                tokens_out=t.tokens_out + event.tokens_out_total,
                cost_usd=t.cost_usd + event.cost_usd_total,
                tool_calls=t.tool_calls + box.calls,
            )
        )

    def _add_usage(self, box: ChatToolbox) -> None:
        stats, t = self.state.stats, self.totals
        memo = self.state.memo
        self.totals = UsageTotals(
            tokens_in=t.tokens_in + stats.tokens_in,
            tokens_out=t.tokens_out + stats.tokens_out,
            cost_usd=round(t.cost_usd + stats.cost_usd, 6),
            tool_calls=t.tool_calls + box.calls,
            turns=t.turns + (memo.turns if isinstance(memo, LLMMemo) else 0),
        )
        self.emit(self.totals)


def _tools(session: Session) -> list[FunctionTool]:
    from rootcause.investigate.llm.ledger_tools import ledger_tools
    from rootcause.investigate.llm.tools import registry_tools

    return registry_tools(session) + ledger_tools(session)


def _assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def _hypothesis(h: Hypothesis) -> str:
    commit = f" @ {h.commit[:10]}" if h.commit else ""
    cites = f" [{', '.join(h.evidence)}]" if h.evidence else ""
    return f"{h.id} {h.kind} {h.target}{commit}: {h.status} ({h.score:.2f}){cites}"
