"""The LLM brain: an openai-agents investigator driving the same protocol and ledger.

Each protocol step is one model run that starts from a briefing of the checkpointed state:

- characterise: registry tools + `settle_detector` (a `Characterisation`: the detector and its
  direction, given as a tool call so servers that cannot mix tools with a JSON response format
  still let the model explore first).
- propose: registry tools + `propose_hypothesis`; the ledger queues what it proposes.
- test (one hypothesis per step): registry tools + `record_result` (+ `propose_hypothesis`);
  the run ends as soon as the hypothesis has a recorded status.
- conclude: no tools; the answer is structured output, a `Conclusion`. A finding that cites
  no evidence, or an id no tool produced, is sent back with the valid ids (at most
  `MAX_REJECTIONS` times); what still is not grounded is marked so in the report.

When a budget runs out the current run unwinds, untested hypotheses are marked inconclusive,
and the conclusion is taken from the ledger without the model (supported hypotheses become
findings); the report's `meta.llm.budget_stop` says which budget.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from rootcause.core.errors import BadInputError
from rootcause.core.report import BehaviorSummary, Finding
from rootcause.investigate.brain import Brain
from rootcause.investigate.ledger import Ledger
from rootcause.investigate.llm.briefing import briefing
from rootcause.investigate.llm.config import (
    LLMOptions,
    Provider,
    build_model,
    preflight,
    resolve_provider,
)
from rootcause.investigate.llm.pricing import load_prices
from rootcause.investigate.llm.runner import PhaseFailed, run_phase
from rootcause.investigate.llm.schemas import (
    Characterisation,
    Conclusion,
    grounding_problems,
    rejection_message,
    to_finding,
)
from rootcause.investigate.llm.session import BudgetExceeded, CallLog, Session
from rootcause.investigate.llm.tools import ledger_tools, registry_tools, settle_tool
from rootcause.investigate.state import InvestigationState
from rootcause.investigate.toolbox import Toolbox
from rootcause.tools.base import quote
from rootcause.tools.symptom import read_symptom
from rootcause.tools.t_detect import DetectOutput

if TYPE_CHECKING:
    from agents import Model

logger = logging.getLogger(__name__)

#: Model turns one step may take before it is given up (budgets still apply on top).
PHASE_TURNS = {"characterise": 12, "propose": 10, "test": 10, "conclude": 6}
#: Times a conclusion is sent back for citing evidence that does not exist.
MAX_REJECTIONS = 2


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
        """Check the endpoint now (a dead one fails in seconds) and build the model."""
        if self._model is None and self.provider is not None:
            self.provider = preflight(self.provider)
            self._model = build_model(self.provider)
        return self

    def _session(self, box: Toolbox, state: InvestigationState, phase: str) -> Session:
        self.connect()
        assert self._model is not None
        session = Session(
            box=box,
            state=state,
            ledger=Ledger(state),
            options=self.options,
            model=self._model,
            model_name=self.model_name,
            prices=self.prices,
            log=CallLog(box.ctx.workdir),
            phase=phase,
            started=time.perf_counter(),
        )
        session.llm.setdefault("model", self.model_name)
        return session

    def _run(self, session: Session, task: str | list[Any], tools: list[Any], **kw: Any) -> Any:
        turns = PHASE_TURNS[session.phase]
        return run_phase(session, self.provider, task, tools, max_turns=turns, **kw)

    # -- characterise -------------------------------------------------------------------------
    def characterise(self, box: Toolbox, state: InvestigationState) -> None:
        s = self._session(box, state, "characterise")
        box.emit("phase", f"characterising with {s.model_name}")
        tools = [*registry_tools(s), settle_tool(s)]
        try:
            self._run(
                s, briefing(s, _CHARACTERISE), tools, done=lambda: "characterisation" in s.llm
            )
        except BudgetExceeded as exc:
            s.stop(exc.reason)
        except PhaseFailed as exc:
            s.log.write("phase_failed", phase=s.phase, error=str(exc))
            box.emit("phase", f"characterise: {exc}; using the proposed detector")
        settled = s.llm.get("characterisation")
        answer = None if settled is None else Characterisation.model_validate(settled)
        state.behavior = self._behavior(s, answer)
        box.emit("phase", f"detector {state.behavior.spec} ({state.behavior.direction})")

    def _behavior(self, s: Session, answer: Characterisation | None) -> BehaviorSummary:
        """The behaviour summary from the detect call behind the chosen spec (calling `detect`
        once more only if the model never ran it on that spec)."""
        spec = s.state.spec
        chosen = spec.behavior or (answer.behavior.strip() if answer else None)
        detects: dict[str, Any] = s.llm.get("detect", {})
        record = detects.get(chosen) if chosen else s.llm.get("last_detect")
        if record is not None:
            detect = DetectOutput.model_validate(record["output"])
            evidence_id = str(record["evidence"])
        else:
            detect, evidence_id = self._detect(s, chosen)
        proposal = detect.proposal
        if answer is not None:
            direction = answer.direction
        elif proposal is not None:
            direction = "down" if proposal.direction == "down" else "up"
        else:
            direction = read_symptom(spec.symptom).direction
        return BehaviorSummary(
            spec=detect.behavior,
            basis=(
                "given with --behavior"
                if spec.behavior
                else f"settled by the model ({answer.note})"
                if answer
                else (proposal.basis if proposal else "proposed from the symptom")
            ),
            direction=direction,
            rate=detect.rate,
            rate_early=detect.rate_first_tenth,
            rate_late=detect.rate_last_tenth,
            hits=[quote(e.text, e.sample_id) for e in detect.hit_examples],
            near_misses=[quote(e.text, e.sample_id) for e in detect.near_misses],
            evidence=[evidence_id],
        )

    def _detect(self, s: Session, chosen: str | None) -> tuple[DetectOutput, str]:
        if chosen:
            try:
                return s.box.output("detect", DetectOutput, behavior=chosen)
            except BadInputError as exc:
                s.log.write("detect_fallback", spec=chosen, error=str(exc))
        return s.box.output("detect", DetectOutput, symptom=s.state.spec.symptom)

    # -- propose ------------------------------------------------------------------------------
    def propose(self, box: Toolbox, state: InvestigationState, ledger: Ledger) -> None:
        s = self._session(box, state, "propose")
        if s.stopped:
            return
        tools = registry_tools(s) + ledger_tools(s, record=False)
        try:
            self._run(s, briefing(s, _PROPOSE), tools)
        except BudgetExceeded as exc:
            s.stop(exc.reason)
        except PhaseFailed as exc:
            s.log.write("phase_failed", phase=s.phase, error=str(exc))
        box.emit("phase", f"hypotheses in the ledger: {len(state.hypotheses)}")

    # -- test ---------------------------------------------------------------------------------
    def test(
        self, box: Toolbox, state: InvestigationState, ledger: Ledger, hypothesis_id: str
    ) -> None:
        s = self._session(box, state, "test")
        h = state.hypothesis(hypothesis_id)
        if h.status != "open":
            return  # recorded while testing another one
        if s.stopped:
            ledger.record(h.id, "inconclusive", [], note=f"not tested: stopped on {s.stopped}")
            return
        box.emit("phase", f"testing {h.id}: {h.kind} {h.target}")
        task = _TEST.format(id=h.id, kind=h.kind, target=h.target, statement=h.statement)
        tools = registry_tools(s) + ledger_tools(s)
        try:
            self._run(s, briefing(s, task), tools, done=lambda: h.status != "open")
        except BudgetExceeded as exc:
            s.stop(exc.reason)
        except PhaseFailed as exc:
            s.log.write("phase_failed", phase=s.phase, hypothesis=h.id, error=str(exc))
            if h.status == "open":
                ledger.record(h.id, "inconclusive", [], note=str(exc))
        if h.status == "open":
            why = f"stopped on {s.stopped}" if s.stopped else "the model recorded no result"
            ledger.record(h.id, "inconclusive", [], note=f"not settled: {why}")
            box.emit("hypothesis", f"{h.id} {h.kind} {h.target}: inconclusive ({why})")

    # -- conclude -----------------------------------------------------------------------------
    def conclude(self, box: Toolbox, state: InvestigationState, ledger: Ledger) -> None:
        s = self._session(box, state, "conclude")
        conclusion: Conclusion | None = None
        if not s.stopped:
            try:
                conclusion = self._grounded_conclusion(s)
            except BudgetExceeded as exc:
                s.stop(exc.reason)
            except PhaseFailed as exc:
                s.log.write("phase_failed", phase=s.phase, error=str(exc))
                box.emit("grounding", f"no usable conclusion from the model: {exc}")
        if conclusion is None:
            findings, summary = _from_ledger(s)
        else:
            findings, summary = [to_finding(d) for d in conclusion.findings], conclusion.summary
        ranked = ledger.conclude(findings)
        if not ranked and "no cause found" not in summary.lower():
            summary = f"no cause found: {summary}".strip()
        if s.stopped:
            summary = f"(stopped on budget: {s.stopped}) {summary}"
        state.summary = summary
        ungrounded = [f"{f.kind} {f.id}" for f in ranked if not f.grounded]
        state.scratch["report_meta"] = {
            "llm": {
                "model": s.model_name,
                "turns": s.turns,
                "budget_stop": s.stopped,
                "grounding_rejections": int(s.llm.get("rejections", 0)),
                "ungrounded": ungrounded,
                "log": "llm-log.jsonl",
            }
        }

    def _grounded_conclusion(self, s: Session) -> Conclusion:
        known = [e.id for e in s.state.evidence]
        task: str | list[Any] = briefing(s, _CONCLUDE)
        for attempt in range(MAX_REJECTIONS + 1):
            out = self._run(s, task, [], output_type=Conclusion)
            conclusion: Conclusion = out.final_output
            problems = grounding_problems(conclusion, known)
            if not problems:
                return conclusion
            if attempt == MAX_REJECTIONS:
                s.log.write("ungrounded", phase=s.phase, problems=problems)
                s.emit("grounding", f"kept as not grounded: {'; '.join(problems)}")
                return conclusion
            s.llm["rejections"] = int(s.llm.get("rejections", 0)) + 1
            message = rejection_message(problems, known)
            s.log.write("rejection", phase=s.phase, problems=problems, message=message)
            s.emit("grounding", f"conclusion rejected: {'; '.join(problems)}")
            task = [*out.items, {"role": "user", "content": message}]
        raise AssertionError("unreachable")


def _from_ledger(s: Session) -> tuple[list[Finding], str]:
    """Findings from the supported hypotheses, when the model cannot conclude (budget)."""
    supported = [h for h in s.state.hypotheses if h.status == "supported" and h.evidence]
    findings = [
        Finding(
            rank=0,
            kind=h.kind,
            id=h.target,
            commit=h.commit,
            slice=h.slice,
            confidence=min(max(h.score, 0.0), 1.0),
            mechanism=h.notes[-1] if h.notes else h.statement,
            evidence=list(h.evidence),
            fix=f"review {h.kind} {h.target} (concluded from the ledger without the model)",
        )
        for h in supported
    ]
    if not findings:
        tested = sum(h.status != "open" for h in s.state.hypotheses)
        return [], f"no cause found among {tested} hypotheses recorded before the stop"
    names = ", ".join(f"{f.kind} {f.id}" for f in findings)
    return findings, f"supported before the stop: {names}"


_CHARACTERISE = "Characterise the symptom (step 1): settle the detector and its direction."
_PROPOSE = "Propose the hypotheses worth testing (step 2) with propose_hypothesis."
_TEST = (
    "Test hypothesis {id} (step 3): {kind} {target}: {statement}. "
    "Finish by calling record_result for {id}."
)
_CONCLUDE = "Conclude (step 4): rank the causes the evidence supports, or say no cause found."
