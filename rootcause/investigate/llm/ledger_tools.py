"""The ledger's function tools: `settle_detector` or `record_symptom_not_found` (step 1's
answer), `propose_hypothesis`, `record_result` and `submit_conclusion` (step 4's answer).

Every answer is checked before it is taken, and a refusal goes back to the model as the tool's
result, saying what to fix: a detector must parse in the behaviour grammar and have been run
through `detect` with hits; a symptom not found must rest on detect calls that found nothing
(`absence`); a hypothesis or finding must name one of the run's candidates; evidence ids must
be ones that tools produced. A conclusion or a symptom not found is refused at most
`MAX_REJECTIONS` times; after that it is kept with what is wrong marked, and the verdict
(`verdict.py`) does not take it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from rootcause.behaviour.behavior import InvalidBehaviorError, parse_behavior
from rootcause.core.errors import RootcauseError
from rootcause.core.report import Hypothesis
from rootcause.investigate.events import ConclusionRejected
from rootcause.investigate.llm.absence import absence_problems
from rootcause.investigate.llm.schemas import (
    Characterisation,
    Conclusion,
    ProposeArgs,
    RecordArgs,
    SymptomAbsent,
    conclusion_problems,
    rejection_message,
    to_finding,
)
from rootcause.investigate.llm.session import Session
from rootcause.investigate.llm.support import support_problems
from rootcause.investigate.llm.tools import function_tool, parse_args, strict_params, tool_error
from rootcause.tools.registry import validation_message

if TYPE_CHECKING:
    from agents import FunctionTool

logger = logging.getLogger(__name__)

#: Times a conclusion is sent back for what its findings cite or name.
MAX_REJECTIONS = 2


def _ledger_call(
    session: Session,
    name: str,
    raw: str,
    model: type[BaseModel],
    handler: Callable[[Session, Any], str],
) -> str:
    try:
        args = model.model_validate(parse_args(raw))
    except ValidationError as exc:
        return tool_error(session, name, raw, validation_message(name, exc))
    except RootcauseError as exc:
        return tool_error(session, name, raw, str(exc))
    try:
        text = handler(session, args)
    except RootcauseError as exc:
        return tool_error(session, name, args.model_dump(), str(exc))
    session.log.write("ledger", phase=session.phase, tool=name, args=args.model_dump(), output=text)
    return text


def _tool(session: Session, name: str, text: str, model: type[BaseModel], handler: Any) -> Any:
    return function_tool(
        name,
        text,
        strict_params(model),
        lambda raw: _ledger_call(session, name, raw, model, handler),
    )


def ledger_tools(session: Session, record: bool = True) -> list[FunctionTool]:
    tools = [
        _tool(
            session,
            "propose_hypothesis",
            "Add a hypothesis to the ledger: a candidate cause (reward component, data source, "
            "config commit, persona or env, named exactly as overview lists it) and how it "
            "would have produced the behaviour. Returns its id (H1, H2, ...); each is tested "
            "in turn.",
            ProposeArgs,
            propose,
        )
    ]
    if record:
        tools.append(
            _tool(
                session,
                "record_result",
                "Record the result of testing a hypothesis: supported, refuted or "
                "inconclusive, a score in [0, 1], the evidence ids it rests on (ids tools "
                "printed as [evidence En]) and a one-sentence note with the deciding numbers.",
                RecordArgs,
                record_result,
            )
        )
    return tools


def settle_tool(session: Session) -> FunctionTool:
    """`settle_detector`: step 1's answer, as a tool call so that servers which cannot mix
    tools with a JSON response format still let the model explore first."""
    return _tool(
        session,
        "settle_detector",
        "Settle the behaviour detector for the rest of the investigation: a behaviour spec you "
        "ran through `detect`, whether the behaviour rose (up) or fell (down), the evidence ids "
        "that show it, and a short note. Call it once, at the end of step 1.",
        Characterisation,
        settle,
    )


def not_found_tool(session: Session) -> FunctionTool:
    """`record_symptom_not_found`: step 1's other answer."""
    return _tool(
        session,
        "record_symptom_not_found",
        "Record that the symptom is not in the run, instead of settling a detector: only when "
        "detect, run with the user's symptom (or the given behaviour spec), found no candidate "
        "that carries the symptom with hits, and no detector you tried for it matched a sample. "
        "Cite those detect calls' evidence ids and say in one sentence why none of what the run "
        "does show is the symptom. The investigation then ends with verdict symptom_not_found "
        "and the run's emerging behaviours as suggestions. A detector that matched nothing is "
        "not 'no cause found'.",
        SymptomAbsent,
        record_not_found,
    )


def conclusion_tool(session: Session) -> FunctionTool:
    """`submit_conclusion`: step 4's answer."""
    return _tool(
        session,
        "submit_conclusion",
        "Submit the conclusion: a short summary and the ranked root causes the evidence "
        "supports (none if no cause was found), each citing evidence ids. Call it once.",
        Conclusion,
        submit_conclusion,
    )


def settle(session: Session, args: Characterisation) -> str:
    spec = args.behavior.strip()
    try:
        behavior = parse_behavior(spec)
    except InvalidBehaviorError as exc:
        raise RootcauseError(f"{exc}; settle a spec that you ran through detect") from None
    detects = session.memo.detect
    key = spec if spec in detects else behavior.spec
    if key not in detects:
        tried = ", ".join(sorted(detects)) or "none yet"
        raise RootcauseError(
            f"{spec} was not run through detect: call detect with behavior={spec} first "
            f"(specs run so far: {tried})"
        )
    if session.memo.absence is not None:
        raise RootcauseError("the symptom is already recorded as not found in the run")
    detect, evidence_id = detects[key]
    if detect.hits == 0:
        raise RootcauseError(
            f"{key} matches no sample ({evidence_id}): refine it, or if nothing in the run "
            "carries the symptom, call record_symptom_not_found"
        )
    known = {r.id for r in session.state.evidence}
    unknown = [e for e in args.evidence if e.strip() and e.strip() not in known]
    if unknown:
        raise RootcauseError(f"{', '.join(unknown)}: no tool produced these evidence ids")
    session.memo.characterisation = args.model_copy(update={"behavior": key})
    return f"detector settled: {key} ({args.direction})"


def record_not_found(session: Session, args: SymptomAbsent) -> str:
    """Take the answer that the symptom is not in the run, or refuse it with what the evidence
    shows instead (at most `MAX_REJECTIONS` times; after that it is kept, and the verdict
    says why it does not hold)."""
    memo = session.memo
    if memo.characterisation is not None:
        raise RootcauseError(f"a detector is already settled: {memo.characterisation.behavior}")
    problems = absence_problems(session.state, args.evidence)
    refused = memo.absence_rejections
    if problems and refused < MAX_REJECTIONS:
        memo.absence_rejections += 1
    message = (
        "The symptom is not shown absent: "
        + "; ".join(problems)
        + ". Settle a detector for the symptom if the run has it, or fix what you cite."
    )
    _refuse_or_mark(session, problems, refused, message)
    memo.absence = args
    return "recorded: the symptom is not in the run"


def propose(session: Session, args: ProposeArgs) -> str:
    state = session.state
    target = args.target.strip()
    for h in state.hypotheses:
        if (h.kind, h.target, h.commit) == (args.kind, target, args.commit or None):
            return f"{h.id} already proposes {h.kind} {h.target}"
    problems = session.candidates.problems(args.kind, target, args.commit)
    if problems:
        raise RootcauseError("; ".join(problems))
    if len(state.hypotheses) >= session.options.max_hypotheses:
        raise RootcauseError(
            f"the ledger holds its maximum of {session.options.max_hypotheses} hypotheses; "
            "test those"
        )
    hypothesis = session.ledger.propose(
        Hypothesis(
            id=f"H{len(state.hypotheses) + 1}",
            kind=args.kind,
            target=target,
            commit=args.commit or None,
            statement=args.statement,
        )
    )
    return f"{hypothesis.id} proposed: {args.kind} {target}"


def record_result(session: Session, args: RecordArgs) -> str:
    state = session.state
    try:
        h = state.hypothesis(args.hypothesis_id.strip())
    except KeyError:
        known = ", ".join(h.id for h in state.hypotheses) or "(none)"
        raise RootcauseError(f"no hypothesis {args.hypothesis_id}; known: {known}") from None
    cited = [e.strip() for e in args.evidence if e.strip()]
    unknown = [e for e in cited if e not in {r.id for r in state.evidence}]
    if unknown:
        valid = ", ".join(r.id for r in state.evidence) or "(none yet)"
        raise RootcauseError(
            f"{', '.join(unknown)}: no tool produced these evidence ids; valid ids: {valid}"
        )
    if args.status == "supported" and not cited:
        raise RootcauseError("a supported hypothesis must cite the evidence that supports it")
    score = min(max(float(args.score), 0.0), 1.0)
    session.ledger.record(h.id, args.status, cited, score=score, note=args.note)
    return f"recorded {h.id}: {h.status}"


def submit_conclusion(session: Session, args: Conclusion) -> str:
    """Take the conclusion, or refuse it with what its findings cite or name wrongly (at most
    `MAX_REJECTIONS` times; after that it is kept and the problems are marked)."""
    known = [e.id for e in session.state.evidence]
    problems = conclusion_problems(args, known, session.candidates)
    for draft in args.findings:
        problems += support_problems(to_finding(draft), session.state, session.candidates)
    memo = session.memo
    refused = memo.rejections
    if problems and refused < MAX_REJECTIONS:
        memo.rejections += 1
    _refuse_or_mark(session, problems, refused, rejection_message(problems, known))
    memo.conclusion = args
    return "conclusion recorded"


def _refuse_or_mark(session: Session, problems: list[str], refused: int, message: str) -> None:
    """Refuse a claim that has `problems` (raise `message` for the model) while it has been
    refused fewer than `MAX_REJECTIONS` times; after that keep it, with the problems marked."""
    if not problems:
        return
    if refused < MAX_REJECTIONS:
        session.log.write("rejection", phase=session.phase, problems=problems, message=message)
        session.emit(ConclusionRejected(problems=problems, kept=False))
        raise RootcauseError(message)
    session.log.write("ungrounded", phase=session.phase, problems=problems)
    session.emit(ConclusionRejected(problems=problems, kept=True))
