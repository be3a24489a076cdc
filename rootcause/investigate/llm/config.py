"""What the LLM brain is configured with, and which provider serves the model.

`LLMOptions` is plain data kept in the investigation's spec (so `--resume` rebuilds the same
brain); it never holds the API key, which comes from `--api-key` or `OPENAI_API_KEY` each time.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rootcause.core.errors import BadInputError, RootcauseError

if TYPE_CHECKING:
    from agents import Model

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

#: Seconds to open a connection; a dead endpoint fails after a few of these at most.
CONNECT_TIMEOUT_S = 5.0
#: Seconds one model request may take (long generations on slow local servers).
REQUEST_TIMEOUT_S = 300.0
#: Retries inside the OpenAI client (connection errors, 429, 5xx) before the runner's own.
CLIENT_RETRIES = 2


class LLMOptions(BaseModel):
    """The brain's options as stored in `InvestigationSpec.options` (no secrets)."""

    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    base_url: str | None = None
    max_turns: int = Field(80, ge=1, description="Model calls over the whole investigation.")
    max_tool_calls: int = Field(60, ge=1, description="Registry tool calls (evidence records).")
    max_tokens: int = Field(2_000_000, ge=1, description="Input plus output tokens.")
    wall_time_s: float = Field(1800.0, gt=0, description="Seconds over all steps.")
    max_hypotheses: int = Field(12, ge=1)
    stream: bool = False
    trace: bool = False
    prices: str | None = Field(None, description="JSON or YAML price table file.")
    retry_delay_s: float = Field(1.0, ge=0, description="First backoff delay on 429/5xx.")
    model_retries: int = Field(4, ge=0, description="Runner retries on 429/5xx per model call.")

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> LLMOptions:
        try:
            return cls.model_validate({k: v for k, v in options.items() if v is not None})
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise BadInputError(f"llm brain option {field}: {err['msg']}") from None


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


def _client_timeout() -> Any:
    import httpx

    return httpx.Timeout(REQUEST_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)


def preflight(provider: Provider) -> Provider:
    """Check that an OpenAI-compatible server answers (fail within seconds if it is dead) and
    take the model name from its `/models` list when none was given."""
    if provider.kind != "compatible":
        return provider
    from openai import APIConnectionError, APIStatusError, OpenAI

    client = OpenAI(
        base_url=provider.base_url,
        api_key=provider.api_key or "unused",
        timeout=_client_timeout(),
        max_retries=1,
    )
    try:
        models = [m.id for m in client.models.list()]
    except APIConnectionError as exc:
        raise unreachable(provider, exc) from None
    except APIStatusError as exc:  # some servers have no /models; the first call will tell
        logger.debug("GET %s/models: %s", provider.base_url, exc.status_code)
        models = []
    finally:
        client.close()
    if provider.model:
        return provider
    if not models:
        raise BadInputError(f"--base-url {provider.base_url}: name the model with --model NAME")
    logger.info("using the server's first model %s", models[0])
    return Provider(provider.kind, models[0], provider.base_url, provider.api_key)


def unreachable(provider: Provider, exc: BaseException) -> RootcauseError:
    """One line for a model endpoint that cannot be reached."""
    cause = exc.__cause__ or exc
    reason = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    where = provider.base_url or "the OpenAI API"
    return RootcauseError(f"cannot reach the model server at {where}: {reason}")


def build_model(provider: Provider) -> Model:
    """The SDK model for a provider (Chat Completions for compatible servers)."""
    from agents import OpenAIChatCompletionsModel, OpenAIResponsesModel
    from openai import AsyncOpenAI

    if provider.kind == "litellm":
        try:
            from agents.extensions.models.litellm_model import LitellmModel
        except ImportError:
            raise BadInputError(
                "--model litellm/...: install the extra with pip install 'rootcause[litellm]'"
            ) from None
        return LitellmModel(
            model=provider.model, base_url=provider.base_url, api_key=provider.api_key
        )
    client = AsyncOpenAI(
        base_url=provider.base_url,
        api_key=provider.api_key or "unused",
        timeout=_client_timeout(),
        max_retries=CLIENT_RETRIES,
    )
    if provider.kind == "compatible":
        return OpenAIChatCompletionsModel(model=provider.model, openai_client=client)
    return OpenAIResponsesModel(model=provider.model, openai_client=client)
