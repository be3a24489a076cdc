"""The brain options as command-line flags, shared by `investigate` and `chat`: one
declaration each, with help read from the options models (defaults written once)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from rootcause.cli.common import option_help
from rootcause.core.errors import BadInputError
from rootcause.investigate.llm.config import ENV_KEY, LLMOptions
from rootcause.investigate.options import BrainOptions, describe

LLM_PANEL = "LLM brain (--brain llm)"


def _llm_help(name: str) -> str:
    return option_help(LLMOptions, name, "LLM brain")


def _llm(flag: str, name: str) -> typer.models.OptionInfo:
    return typer.Option(flag, help=_llm_help(name), rich_help_panel=LLM_PANEL)


DisableToolsFlag = Annotated[
    str | None,
    typer.Option(
        "--disable-tools", help=f"{describe(BrainOptions, 'disabled_tools')} Comma-separated."
    ),
]
ModelFlag = Annotated[str | None, _llm("--model", "model")]
#: `investigate --model`: given more than once, an ensemble with one run per model.
ModelsFlag = Annotated[
    list[str] | None,
    typer.Option(
        "--model",
        metavar="NAME",
        help=f"{_llm_help('model')} Give it more than once for an ensemble with one run per model.",
        rich_help_panel=LLM_PANEL,
    ),
]
BaseUrlFlag = Annotated[str | None, _llm("--base-url", "base_url")]
ApiKeyFlag = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        help=f"LLM brain: API key (unset: ${ENV_KEY}); never stored.",
        rich_help_panel=LLM_PANEL,
    ),
]
MaxTurnsFlag = Annotated[int | None, _llm("--max-turns", "max_turns")]
MaxToolCallsFlag = Annotated[int | None, _llm("--max-tool-calls", "max_tool_calls")]
MaxTokensFlag = Annotated[int | None, _llm("--max-tokens", "max_tokens")]
WallTimeFlag = Annotated[float | None, _llm("--wall-time", "wall_time_s")]
MaxOutputTokensFlag = Annotated[int | None, _llm("--max-output-tokens", "max_output_tokens")]
RequestTimeoutFlag = Annotated[float | None, _llm("--request-timeout", "request_timeout_s")]
PricesFlag = Annotated[Path | None, _llm("--prices", "prices")]
StreamFlag = Annotated[bool | None, _llm("--stream/--no-stream", "stream")]
TraceFlag = Annotated[bool | None, _llm("--trace/--no-trace", "trace")]
RefereeFlag = Annotated[bool | None, _llm("--referee/--no-referee", "referee")]
TemperatureFlag = Annotated[float | None, _llm("--temperature", "temperature")]


#: The parameter names of the brain flags, as the commands that take them name them.
BRAIN_FLAG_NAMES = (
    "disabled_tools",
    "model",
    "base_url",
    "max_turns",
    "max_tool_calls",
    "max_tokens",
    "wall_time_s",
    "max_output_tokens",
    "request_timeout_s",
    "prices",
    "stream",
    "trace",
    "referee",
    "temperature",
)


def brain_flag_values(ctx: typer.Context) -> dict[str, object]:
    """What the brain flags of the running command were given (None: not given)."""
    return {name: ctx.params.get(name) for name in BRAIN_FLAG_NAMES}


def brain_options(
    ctx: typer.Context, brain: str, values: Mapping[str, object], api_key: str | None
) -> BrainOptions:
    """The options given on the command line as the options of the brain that will run,
    refusing (named by its flag) any that does not apply to it."""
    from rootcause.investigate.job import options_model
    from rootcause.investigate.options import check_tools, parse_options
    from rootcause.store.overlay_text import split_names

    model = options_model(brain)
    flags = {p.name: p.opts[0] for p in ctx.command.params if p.name and p.opts}
    given = {name: value for name, value in values.items() if value is not None}
    if isinstance(given.get("disabled_tools"), str):
        given["disabled_tools"] = split_names(str(given["disabled_tools"]))
    if isinstance(given.get("prices"), Path):
        given["prices"] = str(Path(str(given["prices"])).resolve())
    options = parse_options(model, brain, given, lambda name: flags.get(name, name))
    if api_key is not None and not model.takes_api_key:
        raise BadInputError(f"--api-key: not an option of the {brain} brain")
    check_tools(options.disabled_tools, "--disable-tools")
    return options
