"""The LLM brain: an openai-agents investigator driving the same protocol and ledger.

Each protocol step is one model run that starts from a briefing of the checkpointed state, and
must end with what the step is for:

- characterise: the tools that read the behaviour (overview, samples, sql, detect, emerging,
  prevalence, onset) + `settle_detector` + `record_symptom_not_found`; a detector that parses
  in the behaviour grammar and was run through `detect` with hits, or the answer that the
  symptom is not in the run (then nothing is proposed or tested, and the verdict checks the
  answer against the detect evidence: `absence.py`).
- propose: registry tools + `propose_hypothesis`; at least one hypothesis over the run's
  candidates.
- test (one hypothesis per step): registry tools + `record_result` (+ `propose_hypothesis`);
  a recorded result for the hypothesis.
- conclude: `submit_conclusion` only; a conclusion whose findings cite evidence tools produced
  and name the run's candidates (sent back with what is wrong at most twice; after that kept,
  marked not grounded).

A step that ends without its answer gets one corrective turn saying what is missing; after
that it has failed, and the report says so (`meta.llm.failed_steps`). Nothing is filled in for
the model: without a settled detector or any hypothesis the investigation stops there, an
untested hypothesis stays untested, and the verdict (`verdict.py`) is `inconclusive` unless
every hypothesis was tested. When a budget runs out, the current run unwinds, untested
hypotheses are marked so, and the conclusion comes from the ledger.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rootcause.behaviour.symptom import read_symptom
from rootcause.core.errors import RootcauseError
from rootcause.core.report import BehaviorSummary
from rootcause.investigate.brain import Brain
from rootcause.investigate.detector import check_lines, other_readings
from rootcause.investigate.ledger import Ledger
from rootcause.investigate.llm.briefing import briefing
from rootcause.investigate.llm.config import LLMOptions, Provider, resolve_provider
from rootcause.investigate.llm.errors import ContextTooSmall
from rootcause.investigate.llm.judge import ProviderJudge
from rootcause.investigate.llm.ledger_tools import (
    conclusion_tool,
    ledger_tools,
    not_found_tool,
    settle_tool,
    submit_conclusion,
)
from rootcause.investigate.llm.pricing import load_prices
from rootcause.investigate.llm.runner import (
    Missing,
    ModelFactory,
    Need,
    PhaseOutcome,
    StepResult,
    opening_tokens,
    run_phase,
)
from rootcause.investigate.llm.schemas import parse_conclusion
from rootcause.investigate.llm.session import BudgetExceeded, CallLog, Session
from rootcause.investigate.llm.tools import CHARACTERISE_TOOLS, registry_tools
from rootcause.investigate.llm.verdict import conclude as conclude_verdict
from rootcause.investigate.state import InvestigationState
from rootcause.investigate.toolbox import Toolbox
from rootcause.tools.base import quote
from rootcause.tools.builtin.detect import DetectInput
from rootcause.tools.builtin.detect import detect as detect_tool

if TYPE_CHECKING:
    from agents import FunctionTool, Model

    from rootcause.investigate.llm.server import ServerInfo

#: Model turns one step may take before its corrective turn (budgets still apply on top).
PHASE_TURNS = {"characterise": 12, "propose": 10, "test": 10, "conclude": 4}


class LLMBrain(Brain):
    """Drives the protocol with a model; `model` injects one (tests use `ScriptedModel`)."""

    name = "llm"

    def __init__(
        self,
        options: dict[str, Any] | LLMOptions | None = None,
        api_key: str | None = None,
        model: Model | None = None,
    ):
        self.options = (
            options if isinstance(options, LLMOptions) else LLMOptions.from_options(options or {})
        )
        self.provider: Provider | None = None
        self.server: ServerInfo | None = None
        self._model = model
        if model is None:
            self.provider = resolve_provider(self.options, api_key)
        self.prices = load_prices(self.options.prices)

    @property
    def model_name(self) -> str:
        if self.provider is not None:
            return self.provider.model
        return self.options.model or "scripted"

    def connect(self) -> LLMBrain:
        """Check the endpoint now (a dead or hung one fails in seconds, a model name is taken
        from the server if none was given, the served context is read)."""
        if self._model is None and self.provider is not None and self.server is None:
            from rootcause.investigate.llm.server import preflight

            self.provider, self.server = preflight(self.provider, self.options)
        return self

    def _factory(self) -> ModelFactory:
        if self._model is not None:
            injected = self._model
            return lambda: (injected, lambda: None)
        from rootcause.investigate.llm.server import open_model

        provider = self.provider
        assert provider is not None
        return lambda: open_model(provider, self.options)

    def _session(self, box: Toolbox, state: InvestigationState, phase: str) -> Session:
        self.connect()
        session = Session(
            box=box,
            state=state,
            ledger=Ledger(state, box.emit),
            options=self.options,
            provider=self.provider,
            model_name=self.model_name,
            prices=self.prices,
            log=CallLog(box.ctx.workdir),
            phase=phase,
            started=time.perf_counter(),
        )
        session.memo.model = session.memo.model or self.model_name
        if self.provider is not None and self.provider.kind != "litellm":
            box.ctx.judge = ProviderJudge(self.provider, self.options)  # for judge: behaviours
        return session

    def _run(
        self,
        s: Session,
        task: str,
        tools: list[FunctionTool],
        need: Need,
        done: Any = None,
    ) -> StepResult:
        self._check_context(s, task, tools)
        turns = PHASE_TURNS[s.phase]
        return run_phase(s, self._factory(), task, tools, need, max_turns=turns, done=done)

    def _check_context(self, s: Session, task: str, tools: list[FunctionTool]) -> None:
        """Refuse, before sending it, a request the server's context cannot hold."""
        if self.server is None:
            return
        from rootcause.investigate.llm.server import context_problem

        problem = context_problem(self.server, opening_tokens(s.phase, task, tools), s.options)
        if problem is not None:
            s.log.write("context", phase=s.phase, problem=problem)
            raise ContextTooSmall(problem)

    # -- characterise -------------------------------------------------------------------------
    def characterise(self, box: Toolbox, state: InvestigationState) -> None:
        s = self._session(box, state, "characterise")
        memo = s.memo
        settled = lambda: memo.characterisation is not None or memo.absence is not None  # noqa: E731

        def need(_: PhaseOutcome) -> Missing | None:
            return None if settled() else NO_DETECTOR

        tools = [*registry_tools(s, CHARACTERISE_TOOLS), settle_tool(s), not_found_tool(s)]
        try:
            result = self._run(s, briefing(s, _CHARACTERISE), tools, need, done=settled)
            if result.missing:
                s.fail_step("characterise", result.missing, halt=True)
        except BudgetExceeded as exc:
            s.stop(exc.reason)
        state.behavior = self._behavior(s)

    def _behavior(self, s: Session) -> BehaviorSummary | None:
        """The detector the model settled (or the user gave), from its `detect` record."""
        spec = s.state.spec
        answer = s.memo.characterisation
        chosen = spec.behavior or (answer.behavior if answer else None)
        if chosen is None or s.memo.absence is not None:
            return None
        record = s.memo.detect.get(chosen)
        if record is not None:
            detect, evidence_id = record
        else:  # the user's spec, which the model did not run
            detect, evidence_id = s.box.run(detect_tool, DetectInput(behavior=chosen))
        if answer is not None:
            direction = answer.direction
            basis = "given with --behavior" if spec.behavior else "settled by the model"
            basis += f" ({answer.note})" if answer.note else ""
        else:
            direction = read_symptom(spec.symptom).direction or "up"
            basis = "given with --behavior; direction read from the symptom (not settled)"
        return BehaviorSummary(
            spec=detect.behavior,
            basis=basis,
            direction=direction,
            rate=detect.rate,
            rate_early=detect.rate_first_tenth,
            rate_late=detect.rate_last_tenth,
            hits=[quote(e.text, e.sample_id) for e in detect.hit_examples],
            near_misses=[quote(e.text, e.sample_id) for e in detect.near_misses],
            evidence=[evidence_id],
            check=check_lines(detect.proposal),
            readings=other_readings(detect.proposal),
        )

    # -- propose ------------------------------------------------------------------------------
    def propose(self, box: Toolbox, state: InvestigationState, ledger: Ledger) -> None:
        s = self._session(box, state, "propose")
        if s.halted or s.memo.absence is not None:
            return  # nothing to propose: a step failed, or there is no symptom to explain

        def need(_: PhaseOutcome) -> Missing | None:
            return None if state.hypotheses else NO_HYPOTHESES

        tools = registry_tools(s) + ledger_tools(s, record=False)
        try:
            result = self._run(s, briefing(s, _PROPOSE), tools, need)
            if result.missing:
                s.fail_step("propose", result.missing, halt=True)
        except BudgetExceeded as exc:
            s.stop(exc.reason)

    # -- test ---------------------------------------------------------------------------------
    def test(
        self, box: Toolbox, state: InvestigationState, ledger: Ledger, hypothesis_id: str
    ) -> None:
        s = self._session(box, state, "test")
        h = state.hypothesis(hypothesis_id)
        if h.status != "open":
            return  # recorded while testing another one
        if s.halted:
            s.mark_untested(h.id, f"stopped: {s.halted}")
            return
        task = _TEST.format(id=h.id, kind=h.kind, target=h.target, statement=h.statement)
        recorded = lambda: h.status != "open"  # noqa: E731

        def need(_: PhaseOutcome) -> Missing | None:
            if recorded():
                return None
            return Missing(f"no result is recorded for {h.id}", NO_RESULT.format(id=h.id))

        tools = registry_tools(s) + ledger_tools(s)
        why = None
        try:
            result = self._run(s, briefing(s, task), tools, need, done=recorded)
            why = result.missing
        except BudgetExceeded as exc:
            s.stop(exc.reason)
        if h.status != "open":
            return
        if why and not s.stopped:
            s.fail_step(f"test {h.id}", why)
        reason = f"stopped on budget: {s.stopped}" if s.stopped else "the model recorded no result"
        s.mark_untested(h.id, reason)

    # -- conclude -----------------------------------------------------------------------------
    def conclude(self, box: Toolbox, state: InvestigationState, ledger: Ledger) -> None:
        s = self._session(box, state, "conclude")
        if not s.halted and s.memo.absence is None:
            try:
                result = self._run(
                    s,
                    briefing(s, _CONCLUDE),
                    [conclusion_tool(s)],
                    lambda out: _conclusion_need(s, out),
                    done=lambda: s.memo.conclusion is not None,
                )
                if result.missing:
                    s.fail_step("conclude", result.missing)
            except BudgetExceeded as exc:
                s.stop(exc.reason)
        conclude_verdict(s, s.memo.conclusion)


def _conclusion_need(s: Session, outcome: PhaseOutcome) -> Missing | None:
    """None once a conclusion is recorded; a conclusion written as JSON text instead of a
    `submit_conclusion` call is taken through the same checks."""
    if s.memo.conclusion is not None:
        return None
    text = outcome.final_output if isinstance(outcome.final_output, str) else ""
    parsed = parse_conclusion(text) if text else None
    if parsed is None:
        return NO_CONCLUSION
    try:
        submit_conclusion(s, parsed)
    except RootcauseError as exc:
        return Missing("the conclusion was rejected", str(exc))
    return None


NO_DETECTOR = Missing(
    "no detector is settled",
    "Call settle_detector with a behaviour spec you ran through detect (e.g. terms:a,b or "
    "regex:...), its direction (up or down), the evidence ids that show it and a short note; "
    "or, if detect found nothing in the run that carries the symptom, call "
    "record_symptom_not_found with those detect calls' evidence ids.",
)
NO_HYPOTHESES = Missing(
    "no hypothesis was proposed",
    "Call propose_hypothesis for each candidate worth testing, named exactly as overview lists it.",
)
NO_RESULT = (
    "Call record_result for {id}: supported, refuted or inconclusive, a score in [0, 1], the "
    "evidence ids and a one-sentence note."
)
NO_CONCLUSION = Missing(
    "no conclusion was submitted",
    "Call submit_conclusion with a summary and the ranked findings (none if no cause was "
    "found), each citing evidence ids.",
)
_CHARACTERISE = (
    "Characterise the symptom (step 1): settle the detector and its direction, or record that "
    "the symptom is not in the run."
)
_PROPOSE = "Propose the hypotheses worth testing (step 2) with propose_hypothesis."
_TEST = (
    "Test hypothesis {id} (step 3): {kind} {target}: {statement}. "
    "Finish by calling record_result for {id}."
)
_CONCLUDE = (
    "Conclude (step 4): call submit_conclusion with the causes the evidence supports, ranked, "
    "or none."
)
