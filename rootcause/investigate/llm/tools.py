"""Function tools for the model: every registry tool (the ledger's tools are in
`ledger_tools`).

A registry tool's docstring is the description the model reads and its pydantic input model is
the parameter schema, made strict: optional fields become required-but-nullable (null means the
tool's default, and the wrapper drops it). Calls go through `Toolbox.call`, so each leaves an
evidence record and its text starts with `[evidence En]`. A tool error (bad arguments, a bad
behaviour spec, a failing query) is returned to the model as text; only a spent budget stops
the run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from rootcause.core.errors import RootcauseError
from rootcause.investigate.cancel import JobCancelled
from rootcause.investigate.llm.session import Session
from rootcause.tools.base import Tool, ToolOutput
from rootcause.tools.builtin.detect import DetectOutput
from rootcause.tools.registry import ToolResult, load_all

if TYPE_CHECKING:
    from agents import FunctionTool

logger = logging.getLogger(__name__)


def strict_params(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema in strict form, kept lean: every field required, optional ones
    nullable (`"type": [X, "null"]`, null meaning the tool's default, which the description
    states), and no `title`s (pydantic repeats each field's name as one)."""
    from agents.strict_schema import ensure_strict_json_schema

    schema = _untitled(model.model_json_schema())
    props: dict[str, Any] = schema.setdefault("properties", {})
    required = set(schema.get("required", []))
    for name, prop in list(props.items()):
        if name in required:
            continue
        default = prop.pop("default", None)
        prop = _nullable(prop)
        if default is not None:
            text = str(prop.get("description", "")).rstrip(". ")
            prop["description"] = f"{text} (default {default})." if text else f"Default {default}."
        props[name] = prop
    schema["required"] = list(props)
    schema["additionalProperties"] = False
    return ensure_strict_json_schema(schema)


def _untitled(node: Any) -> Any:
    """`node` without `title` keywords (property names called `title` are kept)."""
    if isinstance(node, list):
        return [_untitled(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "title":
            continue
        if key in ("properties", "$defs") and isinstance(value, dict):
            out[key] = {name: _untitled(v) for name, v in value.items()}
        else:
            out[key] = _untitled(value)
    return out


def _nullable(prop: dict[str, Any]) -> dict[str, Any]:
    """`prop` accepting null too, as a type list where the schema is a plain typed one."""
    variants = prop.get("anyOf")
    if isinstance(variants, list):
        rest = [v for v in variants if v.get("type") != "null"]
        if len(rest) == len(variants):
            return {**prop, "anyOf": [*variants, {"type": "null"}]}
        if len(rest) != 1:
            return prop
        base, outer = rest[0], {k: v for k, v in prop.items() if k != "anyOf"}
    else:
        base, outer = prop, {}
    kind = base.get("type")
    if not isinstance(kind, str) or "anyOf" in base or "$ref" in base:
        return {**outer, "anyOf": [base, {"type": "null"}]}
    merged = {**outer, **base, "type": [kind, "null"]}
    if isinstance(merged.get("enum"), list) and None not in merged["enum"]:
        merged["enum"] = [*merged["enum"], None]
    return merged


def function_tool(
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


def parse_args(raw: str) -> dict[str, Any]:
    """Tool arguments as a dict; raw control characters (a newline) inside strings are read,
    as a lenient JSON parser would."""
    try:
        args = json.loads(raw or "{}", strict=False)
    except ValueError as exc:
        raise RootcauseError(f"arguments are not valid JSON: {exc}") from None
    if not isinstance(args, dict):
        raise RootcauseError("arguments must be a JSON object")
    return args


#: What step 1 (settling the detector) needs; the later steps get every registry tool. Fewer
#: schemas keep the first request, which a server's context must hold, small.
CHARACTERISE_TOOLS = ("overview", "samples", "sql", "detect", "emerging", "prevalence", "onset")


def registry_tools(session: Session, only: Collection[str] | None = None) -> list[FunctionTool]:
    """One function tool per registry tool (those named in `only`, if given)."""

    def runner(spec: Tool[Any, Any]) -> Callable[[str], str]:
        return lambda raw: run_registry_tool(session, spec, raw)

    return [
        function_tool(
            spec.name,
            " ".join(spec.description.split()),
            strict_params(spec.input_model),
            runner(spec),
        )
        for spec in load_all().values()
        if spec.name not in session.box.disabled and (only is None or spec.name in only)
    ]


def run_registry_tool(session: Session, spec: Tool[Any, Any], raw: str) -> str:
    """Call a registry tool for the model; errors come back as text, budgets and a cancel as
    exceptions."""
    try:
        args = {k: v for k, v in parse_args(raw).items() if v is not None}
    except RootcauseError as exc:
        return tool_error(session, spec.name, raw, str(exc))
    session.check_tool()
    try:
        result = session.box.call(spec.name, **args)
    except JobCancelled:
        raise
    except RootcauseError as exc:
        return tool_error(session, spec.name, args, str(exc), announced=True)
    except Exception as exc:  # a tool bug must not end the investigation
        logger.exception("tool %s failed", spec.name)
        message = f"{spec.name} failed: {type(exc).__name__}: {exc}"
        return tool_error(session, spec.name, args, message, announced=True)
    text = result.text  # run text in it is already quoted as data
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
    return text


def tool_error(
    session: Session, name: str, args: Any, message: str, announced: bool = False
) -> str:
    """The error text the model reads for a failed or refused call; logged, and announced on
    the event stream unless the toolbox already did (`announced`)."""
    if name not in message:
        message = f"{name}: {message}"
    session.log.write("tool", phase=session.phase, tool=name, args=args, error=message)
    if not announced:
        session.box.refused(name, message)
    return f"error: {message}"


def remember_detect(session: Session, result: ToolResult[ToolOutput]) -> None:
    """Keep detect outputs (by spec) so characterise can build the behaviour summary, and
    those that matched nothing (by evidence id) for the suggestions of a symptom not found."""
    output = result.output
    assert isinstance(output, DetectOutput), type(output)
    record = (output, result.evidence.id)
    if output.hits == 0:
        session.memo.empty_detects[result.evidence.id] = output
    detects = session.memo.detect
    if output.behavior is not None:
        detects[output.behavior] = record
    asked = result.evidence.args.get("behavior")
    if asked:
        detects[str(asked)] = record
