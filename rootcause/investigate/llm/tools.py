"""Function tools for the model: every registry tool, plus the ledger's `propose_hypothesis`
and `record_result`.

A registry tool's docstring is the description the model reads and its pydantic input model is
the parameter schema, made strict: optional fields become required-but-nullable (null means the
tool's default, and the wrapper drops it). Calls go through `Toolbox.call`, so each leaves an
evidence record and its text starts with `[evidence En]`. A tool error (bad arguments, a bad
behaviour spec, a failing query) is returned to the model as text; only a spent budget stops
the run.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from rootcause.core.errors import RootcauseError
from rootcause.core.report import Hypothesis
from rootcause.investigate.llm.schemas import Characterisation, ProposeArgs, RecordArgs
from rootcause.investigate.llm.session import Session
from rootcause.tools.base import Tool
from rootcause.tools.registry import ToolResult, load_all, validation_message

if TYPE_CHECKING:
    from agents import FunctionTool

logger = logging.getLogger(__name__)

#: Characters of a tool's result kept in an event line.
EVENT_CHARS = 140


def strict_params(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema in strict form: every field required, optional ones nullable."""
    from agents.strict_schema import ensure_strict_json_schema

    schema = copy.deepcopy(model.model_json_schema())
    props: dict[str, Any] = schema.setdefault("properties", {})
    required = set(schema.get("required", []))
    for name, prop in list(props.items()):
        if name in required:
            continue
        default = prop.pop("default", None)
        note = "Optional: null for the default" + (f" ({default})." if default is not None else ".")
        if not _nullable(prop):
            outer = {k: prop.pop(k) for k in ("title", "description") if k in prop}
            prop = {**outer, "anyOf": [prop, {"type": "null"}]}
        prop["description"] = f"{prop.get('description', '')} {note}".strip()
        props[name] = prop
    schema["required"] = list(props)
    schema["additionalProperties"] = False
    return ensure_strict_json_schema(schema)


def _nullable(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "null" or any(o.get("type") == "null" for o in prop.get("anyOf", []))


def _function_tool(
    name: str, description: str, schema: dict[str, Any], run: Callable[[str], str]
) -> FunctionTool:
    from agents import FunctionTool

    async def invoke(_ctx: Any, raw: str) -> str:
        return run(raw)

    on_invoke: Callable[[Any, str], Awaitable[str]] = invoke
    return FunctionTool(
        name=name,
        description=description,
        params_json_schema=schema,
        on_invoke_tool=on_invoke,
        strict_json_schema=True,
    )


def _parse(raw: str) -> dict[str, Any]:
    try:
        args = json.loads(raw or "{}")
    except ValueError as exc:
        raise RootcauseError(f"arguments are not valid JSON: {exc}") from None
    if not isinstance(args, dict):
        raise RootcauseError("arguments must be a JSON object")
    return args


def registry_tools(session: Session) -> list[FunctionTool]:
    """One function tool per registry tool."""

    def runner(spec: Tool[Any, Any]) -> Callable[[str], str]:
        return lambda raw: run_registry_tool(session, spec, raw)

    return [
        _function_tool(spec.name, spec.description, strict_params(spec.input_model), runner(spec))
        for spec in load_all().values()
        if spec.name not in session.box.disabled
    ]


def run_registry_tool(session: Session, spec: Tool[Any, Any], raw: str) -> str:
    """Call a registry tool for the model; errors come back as text, budgets as exceptions."""
    try:
        args = {k: v for k, v in _parse(raw).items() if v is not None}
    except RootcauseError as exc:
        return _error(session, spec.name, raw, str(exc))
    session.check_tool()
    try:
        result = session.box.call(spec.name, **args)
    except RootcauseError as exc:
        return _error(session, spec.name, args, str(exc))
    except Exception as exc:  # a tool bug must not end the investigation
        logger.exception("tool %s failed", spec.name)
        return _error(session, spec.name, args, f"{spec.name} failed: {type(exc).__name__}: {exc}")
    text = render_for_model(result)
    if spec.name == "detect":
        remember_detect(session, result)
    session.log.write(
        "tool",
        phase=session.phase,
        tool=spec.name,
        args=args,
        evidence=result.evidence.id,
        output=text,
    )
    summary = result.evidence.summary
    summary = summary if len(summary) <= EVENT_CHARS else summary[: EVENT_CHARS - 1] + "…"
    session.emit("result", f"{result.evidence.id} {spec.name}: {summary}")
    return text


def _error(session: Session, name: str, args: Any, message: str) -> str:
    if name not in message:
        message = f"{name}: {message}"
    session.log.write("tool", phase=session.phase, tool=name, args=args, error=message)
    session.emit("result", f"{name} error: {message}")
    return f"error: {message}"


def render_for_model(result: ToolResult) -> str:
    """The tool's text as the model reads it: the same rendering people see, in which every
    piece of run text (samples, ids, labels, SQL cells) is already quoted as data."""
    return result.text


def remember_detect(session: Session, result: ToolResult) -> None:
    """Keep detect outputs (by spec) so characterise can build the behaviour summary."""
    detects = session.llm.setdefault("detect", {})
    record = {"evidence": result.evidence.id, "output": result.output.model_dump(mode="json")}
    detects[str(getattr(result.output, "behavior", ""))] = record
    asked = result.evidence.args.get("behavior")
    if asked:
        detects[str(asked)] = record
    session.llm["last_detect"] = record


# -- ledger tools ---------------------------------------------------------------------------


def ledger_tools(session: Session, record: bool = True) -> list[FunctionTool]:
    tools = [
        _function_tool(
            "propose_hypothesis",
            "Add a hypothesis to the ledger: a candidate cause (reward component, data source, "
            "config commit, persona or env, named exactly as the run names it) and how it would "
            "have produced the behaviour. Returns its id (H1, H2, ...); each is tested in turn.",
            strict_params(ProposeArgs),
            lambda raw: _ledger_call(session, "propose_hypothesis", raw, ProposeArgs, propose),
        )
    ]
    if record:
        tools.append(
            _function_tool(
                "record_result",
                "Record the result of testing a hypothesis: supported, refuted or inconclusive, "
                "a score in [0, 1], the evidence ids it rests on (ids that tools printed as "
                "[evidence En]) and a one-sentence note with the deciding numbers.",
                strict_params(RecordArgs),
                lambda raw: _ledger_call(session, "record_result", raw, RecordArgs, record_result),
            )
        )
    return tools


def settle_tool(session: Session) -> FunctionTool:
    """`settle_detector`: the characterise step's answer, as a tool call so that servers which
    cannot mix tools with a JSON response format (vLLM, Ollama) still let the model explore."""
    return _function_tool(
        "settle_detector",
        "Settle the behaviour detector for the rest of the investigation: the behaviour spec "
        "exactly as `detect` printed it, whether the behaviour rose (up) or fell (down), the "
        "evidence ids that show it, and a short note. Call it once, at the end of step 1.",
        strict_params(Characterisation),
        lambda raw: _ledger_call(session, "settle_detector", raw, Characterisation, settle),
    )


def settle(session: Session, args: Characterisation) -> str:
    if not args.behavior.strip():
        raise RootcauseError("give the behaviour spec, e.g. terms:goblin,gremlin")
    known = {r.id for r in session.state.evidence}
    unknown = [e for e in args.evidence if e.strip() and e.strip() not in known]
    if unknown:
        raise RootcauseError(f"{', '.join(unknown)}: no tool produced these evidence ids")
    session.llm["characterisation"] = args.model_dump(mode="json")
    return f"detector settled: {args.behavior.strip()} ({args.direction})"


def _ledger_call(
    session: Session,
    name: str,
    raw: str,
    model: type[BaseModel],
    handler: Callable[[Session, Any], str],
) -> str:
    try:
        args = model.model_validate(_parse(raw))
    except ValidationError as exc:
        return _error(session, name, raw, validation_message(name, exc))
    except RootcauseError as exc:
        return _error(session, name, raw, str(exc))
    try:
        text = handler(session, args)
    except RootcauseError as exc:
        return _error(session, name, args.model_dump(), str(exc))
    session.log.write("ledger", phase=session.phase, tool=name, args=args.model_dump(), output=text)
    return text


def propose(session: Session, args: ProposeArgs) -> str:
    state = session.state
    target = args.target.strip()
    for h in state.hypotheses:
        if (h.kind, h.target, h.commit) == (args.kind, target, args.commit or None):
            return f"{h.id} already proposes {h.kind} {h.target}"
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
    session.emit("hypothesis", f"{hypothesis.id} proposed: {args.kind} {target}: {args.statement}")
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
    session.emit("hypothesis", f"{h.id} {h.kind} {h.target}: {h.status} ({h.score:.2f})")
    return f"recorded {h.id}: {h.status}"
