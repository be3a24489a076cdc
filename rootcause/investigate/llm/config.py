"""What the LLM brain is configured with, and which provider serves the model.

`LLMOptions` is plain data kept in the investigation's spec (so `--resume` rebuilds the same
brain); it never holds the API key, which comes from `--api-key` or `OPENAI_API_KEY` each time.
This module loads neither the SDK nor the toolset, so the CLI reads its defaults cheaply.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import Field

from rootcause.core.errors import BadInputError
from rootcause.investigate.options import BrainOptions, parse_options

logger = logging.getLogger(__name__)

#: Environment variables read when the matching option is not given.
ENV_MODEL = "ROOTCAUSE_LLM_MODEL"
ENV_BASE_URL = "ROOTCAUSE_LLM_BASE_URL"
ENV_KEY = "OPENAI_API_KEY"

HOW_TO_CONFIGURE = (
    "the llm brain needs a model: --model NAME with OPENAI_API_KEY set (OpenAI), "
    "--base-url http://HOST:PORT/v1 --model NAME (vLLM, Ollama, llama.cpp), "
    "or --model litellm/PROVIDER/MODEL (pip install 'rootcause[litellm]')"
)


class LLMOptions(BrainOptions):
    """The LLM brain's options, kept in the investigation's spec (no secrets: the API key is
    passed next to them). Descriptions and defaults are the ones `--help` shows."""

    takes_api_key: ClassVar[bool] = True

    model: str | None = Field(
        None,
        description="Model name (OpenAI's, the server's name when a base URL is given, or "
        f"litellm/PROVIDER/MODEL); unset: ${ENV_MODEL}.",
    )
    base_url: str | None = Field(
        None,
        description="OpenAI-compatible server (vLLM, Ollama, llama.cpp), e.g. "
        f"http://localhost:8000/v1; unset: ${ENV_BASE_URL}.",
    )
    max_turns: int = Field(80, ge=1, description="Model calls over the whole investigation.")
    max_tool_calls: int = Field(
        60, ge=1, description="Registry tool calls (evidence records) over the investigation."
    )
    max_tokens: int = Field(
        2_000_000, ge=1, description="Input plus output tokens over the investigation."
    )
    wall_time_s: float = Field(1800.0, gt=0, description="Seconds over all steps.")
    max_hypotheses: int = Field(12, ge=1, description="Hypotheses the ledger may hold.")
    stream: bool = Field(False, description="Stream model responses (SSE).")
    temperature: float | None = Field(
        None,
        ge=0,
        le=2,
        description="Sampling temperature (unset: the server's default; an ensemble varies it "
        "per run).",
    )
    referee: bool = Field(
        True,
        description="Re-run the systematic tests on each finding before a cause_found; "
        "--no-referee takes the model's grounded findings as they are (the report says so).",
    )
    trace: bool = Field(False, description="Export openai-agents traces.")
    prices: str | None = Field(
        None, description="Price table (JSON/YAML, $ per million tokens) for the stats."
    )
    retry_delay_s: float = Field(1.0, ge=0, description="First backoff delay on 429/5xx.")
    model_retries: int = Field(
        4, ge=0, description="Retries of one model call on 408/409/429/5xx or a dropped connection."
    )
    request_timeout_s: float = Field(
        120.0,
        gt=0,
        description="Seconds one model request may take; a server that takes longer ends the run.",
    )
    max_output_tokens: int = Field(
        4096,
        ge=16,
        description="Tokens one model reply may write; a reply cut off there gets one "
        "corrective turn.",
    )

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> LLMOptions:
        """Options from plain data (None values count as not given)."""
        given = {k: v for k, v in options.items() if v is not None}
        return parse_options(cls, "llm", given, lambda name: f"llm brain option {name}")


@dataclass(frozen=True)
class Provider:
    """Where the model runs: `kind` decides the SDK model class."""

    kind: Literal["openai", "compatible", "litellm"]
    model: str
    base_url: str | None
    api_key: str | None

    @property
    def label(self) -> str:
        where = f" at {self.base_url}" if self.base_url else ""
        return f"{self.kind} model {self.model}{where}"


def resolve_provider(options: LLMOptions, api_key: str | None = None) -> Provider:
    """Pick the provider from the options and environment, or say in one line how to set it."""
    model = options.model or os.environ.get(ENV_MODEL) or None
    base_url = options.base_url or os.environ.get(ENV_BASE_URL) or None
    key = api_key or os.environ.get(ENV_KEY) or None
    if model is None and base_url is None:
        raise BadInputError(HOW_TO_CONFIGURE)
    if model is not None and model.startswith("litellm/"):
        name = model.removeprefix("litellm/")
        if name.count("/") < 1:
            raise BadInputError(f"--model {model}: use litellm/PROVIDER/MODEL")
        return Provider("litellm", name, base_url, api_key)
    if base_url is not None:
        if not base_url.startswith(("http://", "https://")):
            raise BadInputError(f"--base-url {base_url}: give an http:// or https:// URL")
        return Provider("compatible", model or "", base_url.rstrip("/"), key)
    if key is None:
        raise BadInputError(
            f"--model {model} uses the OpenAI API: set OPENAI_API_KEY or pass --api-key "
            "(or --base-url URL for a local OpenAI-compatible server)"
        )
    assert model is not None
    return Provider("openai", model, None, key)
