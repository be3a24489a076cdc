"""Talking to the model server: the check before an investigation starts (is the server there,
which model, how much context it serves) and the model objects a step's event loop uses.

A model (and its HTTP client, with its pool of keep-alive connections) belongs to one event
loop: `open_model` builds a fresh one for each step and the step closes it before its loop ends,
so nothing is reused across `asyncio.run` calls or threads.

Two quirks of OpenAI-compatible servers are mended here, at our boundary, without patching the
SDK: an assistant message that only calls tools is sent with `content: ""` instead of `null`
(some servers answer 500 to null), and the `finish_reason` of every Chat Completions answer is
kept on the model (`finish_reason`), so a reply cut off at the output limit is noticed.

This module imports openai and openai-agents at import time: import it inside the functions
that talk to a server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agents import Model, OpenAIChatCompletionsModel, OpenAIResponsesModel
from openai import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncOpenAI,
    OpenAI,
    Timeout,
)

from rootcause.core.errors import BadInputError, RootcauseError
from rootcause.core.untrusted import visible
from rootcause.investigate.llm.config import LLMOptions, Provider
from rootcause.investigate.llm.errors import NotAPIReply, ServerError, one_line

if TYPE_CHECKING:
    import httpx  # imported where a client is built: httpx loads rich, which headless code must not

logger = logging.getLogger(__name__)

#: Seconds to open a connection; a dead endpoint fails after one of these.
CONNECT_TIMEOUT_S = 5.0
#: Seconds for each context probe (`/props`, `/api/ps`) once the server has answered.
PROBE_TIMEOUT_S = 5.0
#: Bytes of a reply that is not the API's JSON shown in the error line.
SHOWN_BYTES = 80
#: Content types of the API's answers: JSON, or a server-sent event stream.
API_TYPES = ("json", "event-stream")
#: A context below this holds the first requests but not a whole investigation's briefings.
RECOMMENDED_CONTEXT = 16_384

Closer = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class ServerInfo:
    """What the server said about itself before the investigation started."""

    context: int | None = None
    context_source: str | None = None


def client_timeout(options: LLMOptions) -> Timeout:
    return Timeout(options.request_timeout_s, connect=CONNECT_TIMEOUT_S)


def unreachable(provider: Provider, exc: BaseException) -> RootcauseError:
    """One line for a model endpoint that cannot be reached."""
    cause = exc.__cause__ or exc
    reason = one_line(str(cause)) if str(cause) else type(cause).__name__
    where = provider.base_url or "the OpenAI API"
    return RootcauseError(f"cannot reach the model server at {where}: {reason}")


def timed_out(provider: Provider | None, options: LLMOptions) -> ServerError:
    where = provider.label if provider else "the model"
    return ServerError(
        f"{where} did not answer within {options.request_timeout_s:g} s (--request-timeout)"
    )


def not_api_reply(response: httpx.Response, first: bytes) -> NotAPIReply:
    """One line for a 2xx answer that is not the API's JSON: the URL, content type and the
    first bytes (escaped: a web page or an attacker's server wrote them)."""
    kind = response.headers.get("content-type") or "(no content type)"
    head = visible(first.decode("utf-8", errors="replace"), SHOWN_BYTES)
    return NotAPIReply(
        f"{response.request.url}: the server's reply is not JSON from the API (content type "
        f"{visible(kind, 80)}, {response.status_code}; first bytes: {head or '(empty)'}); is "
        "--base-url the API's root (e.g. http://HOST:PORT/v1)?"
    )


def _api_type(response: httpx.Response) -> bool | None:
    """True for an event stream, False for JSON, None for anything else (a 2xx only)."""
    kind = response.headers.get("content-type", "").lower()
    if "event-stream" in kind:
        return True
    return False if "json" in kind else None


def _check_sync(response: httpx.Response) -> None:
    if not response.is_success or _api_type(response) is not None:
        return
    first = next(iter(response.iter_bytes()), b"")
    raise not_api_reply(response, first)


async def _check_async(response: httpx.Response) -> None:
    """Refuse a 2xx answer that is not the API's JSON or event stream (an HTML page, plain
    text), or whose JSON body does not parse, before the SDK reads it."""
    if not response.is_success:
        return
    kind = _api_type(response)
    if kind is True:
        return
    if kind is None:
        first = b""
        async for chunk in response.aiter_bytes():
            first = chunk
            break
        raise not_api_reply(response, first)
    body = await response.aread()
    try:
        json.loads(body)
    except ValueError:
        raise not_api_reply(response, body[:SHOWN_BYTES]) from None


def _sync_http() -> Any:
    """The OpenAI client's default HTTP client, with the check of every 2xx answer."""
    from openai import DefaultHttpxClient

    return DefaultHttpxClient(event_hooks={"response": [_check_sync]})


def _async_http() -> Any:
    from openai import DefaultAsyncHttpxClient

    return DefaultAsyncHttpxClient(event_hooks={"response": [_check_async]})


def preflight(provider: Provider, options: LLMOptions) -> tuple[Provider, ServerInfo]:
    """Check that an OpenAI-compatible server answers (a dead or hung one fails within
    seconds), take the model name from its `/models` list when none was given, and read the
    context it serves where the server says it."""
    if provider.kind == "litellm":
        litellm_model_class()
    if provider.kind != "compatible":
        return provider, ServerInfo()
    client = OpenAI(
        base_url=provider.base_url,
        api_key=provider.api_key or "unused",
        timeout=client_timeout(options),
        max_retries=0,
        http_client=_sync_http(),
    )
    try:
        listed = _models(client, provider, options)
        model = provider.model or (listed[0].id if listed else "")
        if not model:
            raise BadInputError(f"--base-url {provider.base_url}: name the model with --model NAME")
        if not provider.model:
            logger.info("using the server's first model %s", model)
        info = _context(client, provider, model, listed)
    finally:
        client.close()
    return Provider(provider.kind, model, provider.base_url, provider.api_key), info


def _models(client: OpenAI, provider: Provider, options: LLMOptions) -> list[Any]:
    try:
        return list(client.models.list())
    except APITimeoutError:
        raise timed_out(provider, options) from None
    except APIConnectionError as exc:
        if isinstance(exc.__cause__, NotAPIReply):
            raise exc.__cause__ from None
        raise unreachable(provider, exc) from None
    except (APIStatusError, ValueError) as exc:  # no /models here; the first call will tell
        logger.debug("GET %s/models: %s", provider.base_url, exc)
        return []


def _context(client: OpenAI, provider: Provider, model: str, listed: list[Any]) -> ServerInfo:
    """The context the server serves one request, from the first place that says it:
    vLLM's `/v1/models` (`max_model_len`), llama.cpp's `/props`
    (`default_generation_settings.n_ctx`, per slot), Ollama's `/api/ps` (`context_length` of
    the loaded model). None when the server says nothing."""
    for entry in listed:
        size = getattr(entry, "max_model_len", None)
        if entry.id == model and isinstance(size, int) and size > 0:
            return ServerInfo(size, "max_model_len in /models (vLLM)")
    root = str(provider.base_url).removesuffix("/v1")
    props = _probe(client, f"{root}/props")
    settings = props.get("default_generation_settings") if isinstance(props, dict) else None
    size = settings.get("n_ctx") if isinstance(settings, dict) else None
    if isinstance(size, int) and size > 0:
        return ServerInfo(size, "n_ctx in /props (llama.cpp)")
    loaded = _probe(client, f"{root}/api/ps")
    for entry in loaded.get("models", []) if isinstance(loaded, dict) else []:
        size = entry.get("context_length") if isinstance(entry, dict) else None
        names = {entry.get("name"), entry.get("model")} if isinstance(entry, dict) else set()
        if model in names and isinstance(size, int) and size > 0:
            return ServerInfo(size, "context_length in /api/ps (Ollama)")
    return ServerInfo()


def _probe(client: OpenAI, url: str) -> Any:
    try:
        return client.get(url, cast_to=object, options={"timeout": PROBE_TIMEOUT_S})
    except (APIStatusError, APIConnectionError, ValueError) as exc:
        logger.debug("GET %s: %s", url, exc)
        return None


def context_problem(info: ServerInfo, prompt_tokens: int, options: LLMOptions) -> str | None:
    """Why a request of about `prompt_tokens` (plus the output cap) does not fit the server's
    context, or None if it fits or the context is unknown."""
    needed = prompt_tokens + options.max_output_tokens
    if info.context is None or needed <= info.context:
        return None
    return (
        f"the model server serves a context of {info.context:,} tokens ({info.context_source}), "
        f"but the request needs about {needed:,} ({prompt_tokens:,} prompt + "
        f"{options.max_output_tokens:,} output, --max-output-tokens): serve a context of at "
        f"least {max(needed, RECOMMENDED_CONTEXT):,} (llama-server -c, vllm --max-model-len, "
        "OLLAMA_CONTEXT_LENGTH)"
    )


# -- the model of one event loop ---------------------------------------------------------------


class _Client(AsyncOpenAI):
    """AsyncOpenAI that sends `content: ""` where the SDK builds an assistant message with
    `content: null` (one that only calls tools); some servers refuse null with a 500."""

    async def _prepare_options(self, options: Any) -> Any:
        options = await super()._prepare_options(options)
        body = options.json_data
        if isinstance(body, dict) and isinstance(body.get("messages"), list):
            options.json_data = {**body, "messages": [_no_null(m) for m in body["messages"]]}
        return options


def _no_null(message: Any) -> Any:
    if (
        isinstance(message, dict)
        and message.get("role") == "assistant"
        and message.get("content") is None
    ):
        return {**message, "content": ""}
    return message


class _ChatModel(OpenAIChatCompletionsModel):
    """Chat Completions that keeps the `finish_reason` of the last answer (plain or streamed)."""

    finish_reason: str | None = None

    async def _fetch_response(self, *args: Any, **kwargs: Any) -> Any:
        self.finish_reason = None
        fetched = await super()._fetch_response(*args, **kwargs)
        if isinstance(fetched, tuple):
            response, stream = fetched
            return response, _WatchedStream(stream, self)
        choices = getattr(fetched, "choices", None) or []
        self.finish_reason = choices[0].finish_reason if choices else None
        return fetched


class _WatchedStream:
    """A chunk stream that notes the finish reason on its way through."""

    def __init__(self, stream: Any, model: _ChatModel) -> None:
        self._stream = stream
        self._model = model
        self.response = getattr(stream, "response", None)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[Any]:
        async for chunk in self._stream:
            for choice in getattr(chunk, "choices", None) or []:
                if choice.finish_reason:
                    self._model.finish_reason = choice.finish_reason
            yield chunk

    async def aclose(self) -> None:
        await self._stream.close()


def litellm_model_class() -> Any:
    """The SDK's LiteLLM model class, or a one-line error saying how to install it."""
    try:
        from agents.extensions.models.litellm_model import LitellmModel
    except ImportError:
        raise BadInputError(
            "--model litellm/...: install the extra with pip install 'rootcause[litellm]'"
        ) from None
    return LitellmModel


def open_model(provider: Provider, options: LLMOptions) -> tuple[Model, Closer]:
    """A model for one event loop and the coroutine function that closes its client."""
    if provider.kind == "litellm":
        model = litellm_model_class()(
            model=provider.model, base_url=provider.base_url, api_key=provider.api_key
        )
        return model, model.close
    client = _Client(
        base_url=provider.base_url,
        api_key=provider.api_key or "unused",
        timeout=client_timeout(options),
        max_retries=0,  # one retry layer: ours (guard.py), which logs every retry
        http_client=_async_http(),
    )
    if provider.kind == "compatible":
        return _ChatModel(model=provider.model, openai_client=client), client.close
    return OpenAIResponsesModel(model=provider.model, openai_client=client), client.close
