"""One model call, guarded against the ways servers fail.

`GuardedModel` wraps the SDK model of a step and is the investigation's only retry layer (the
OpenAI client's own retries are off):

- 408, 409, 429 and 5xx answers and dropped connections are retried with exponential backoff
  (or the server's `Retry-After`), at most `model_retries` times; a 5xx whose error body is the
  same as the one before is deterministic (the server will answer it again) and is not retried;
- other 4xx answers, a request that outlives `--request-timeout` (measured from connect to
  the reply's last byte, streamed or not: a body that trickles in is cut at the deadline) and
  a reply that is not the API's JSON end the investigation with one line (`ServerError`), since
  repeating them would only repeat the failure or, for a timeout, leave the server generating
  for an abandoned request;
- a reply cut off at the output limit (`finish_reason: length`) is a failed turn (`CutOff`):
  the step gets its corrective turn.

Every retry, timeout, deterministic error and cut-off is written to `llm-log.jsonl`. This
module imports openai and openai-agents: import it inside functions.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from agents import AgentsException, Model
from openai import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
)

from rootcause.core.errors import RootcauseError
from rootcause.investigate.events import EventSink, ModelRetry
from rootcause.investigate.llm.config import LLMOptions, Provider
from rootcause.investigate.llm.errors import NotAPIReply, ServerError, ServerRefused, one_line
from rootcause.investigate.llm.server import timed_out
from rootcause.investigate.llm.session import CallLog

logger = logging.getLogger(__name__)

#: Statuses that are plausibly transient (plus every 5xx).
TRANSIENT_STATUSES = frozenset({408, 409, 429})
#: Longest backoff, and the longest `Retry-After` honoured, in seconds.
MAX_DELAY_S = 30.0
MAX_RETRY_AFTER_S = 60.0


class CutOff(AgentsException):
    """The model's reply stopped at the output limit (`finish_reason: length`)."""


class GuardedModel(Model):
    """Retries, timeouts and cut-off replies around another model (see the module doc)."""

    def __init__(
        self,
        inner: Model,
        options: LLMOptions,
        provider: Provider | None,
        log: CallLog,
        emit: EventSink | None = None,
    ) -> None:
        self.inner = inner
        self.options = options
        self.provider = provider
        self.log = log
        self.emit: EventSink = emit or (lambda _event: None)
        self.phase = ""

    @property
    def finish_reason(self) -> str | None:
        reason = getattr(self.inner, "finish_reason", None)
        return reason if isinstance(reason, str) else None

    async def close(self) -> None:
        await self.inner.close()

    async def get_response(self, *args: Any, **kwargs: Any) -> Any:
        seen: list[str] = []
        deadline = self.options.request_timeout_s
        for attempt in range(self.options.model_retries + 1):
            try:
                async with asyncio.timeout(deadline):  # in this task: context vars hold
                    response = await self.inner.get_response(*args, **kwargs)
            except TimeoutError:
                raise self._timed_out() from None
            except Exception as exc:
                await self._after_failure(exc, attempt, seen)
                continue
            self._check_cut_off()
            return response
        raise AssertionError("unreachable: the last failure raises")

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        seen: list[str] = []
        deadline = self.options.request_timeout_s
        for attempt in range(self.options.model_retries + 1):
            started = time.perf_counter()
            sent = False
            events = self.inner.stream_response(*args, **kwargs).__aiter__()
            try:
                while True:
                    left = deadline - (time.perf_counter() - started)
                    try:
                        async with asyncio.timeout(max(left, 0.0)):  # not around the yield
                            event = await anext(events)
                    except StopAsyncIteration:
                        return
                    except TimeoutError:
                        raise self._timed_out() from None
                    if getattr(event, "type", None) == "response.completed":
                        self._check_cut_off()
                    sent = True
                    yield event
            except (CutOff, ServerError):
                raise
            except Exception as exc:
                if sent:
                    raise self._final(exc) from None
                await self._after_failure(exc, attempt, seen)
        raise AssertionError("unreachable: the last failure raises")

    # -- decisions -----------------------------------------------------------------------------
    def _check_cut_off(self) -> None:
        if self.finish_reason == "length":
            limit = self.options.max_output_tokens
            self.log.write("cut_off", phase=self.phase, max_output_tokens=limit)
            raise CutOff(
                f"the reply was cut off at the output limit ({limit:,} tokens, --max-output-tokens)"
            )

    async def _after_failure(self, exc: Exception, attempt: int, seen: list[str]) -> None:
        """Sleep before the next attempt, or raise what ends the call."""
        if not _transient(exc):
            raise self._final(exc) from None
        body = _body(exc)
        status = exc.status_code if isinstance(exc, APIStatusError) else None
        if status is not None and status >= 500 and body in seen:
            self.log.write("deterministic", phase=self.phase, status=status, error=body)
            raise ServerError(
                f"{self._where()}: the server answered {status} twice with the same error, "
                f"so retrying will not help: {body}"
            ) from None
        seen.append(body)
        if attempt >= self.options.model_retries:
            self.log.write("gave_up", phase=self.phase, status=status, error=body)
            raise self._final(exc) from None
        delay = _retry_after(exc)
        if delay is None:
            delay = min(self.options.retry_delay_s * 2**attempt, MAX_DELAY_S)
        self.log.write(
            "retry", phase=self.phase, attempt=attempt + 1, status=status, delay_s=delay, error=body
        )
        self.emit(
            ModelRetry(
                attempt=attempt + 1,
                retries=self.options.model_retries,
                status=status,
                delay_s=delay,
                error=body,
            )
        )
        await asyncio.sleep(delay)

    def _timed_out(self) -> ServerError:
        """The request outlived `--request-timeout`, from connect to the reply's last byte."""
        self.log.write("timeout", phase=self.phase, seconds=self.options.request_timeout_s)
        return timed_out(self.provider, self.options)

    def _where(self) -> str:
        return self.provider.label if self.provider else "the model"

    def _final(self, exc: Exception) -> Exception:
        """What ends the call: a one-line error for a server failure, else `exc` itself."""
        if isinstance(exc, APITimeoutError):
            self.log.write("timeout", phase=self.phase, seconds=self.options.request_timeout_s)
            return timed_out(self.provider, self.options)
        failure = provider_error(exc, self.provider)
        if isinstance(failure, RootcauseError):
            self.log.write("server_error", phase=self.phase, error=str(failure))
        return failure


def _transient(exc: Exception) -> bool:
    if isinstance(exc, APITimeoutError) or isinstance(exc.__cause__, NotAPIReply):
        return False
    if isinstance(exc, APIConnectionError):
        return True  # a dropped keep-alive connection, a restarting server
    if isinstance(exc, APIStatusError):
        return exc.status_code in TRANSIENT_STATUSES or exc.status_code >= 500
    return False


def _body(exc: Exception) -> str:
    if isinstance(exc, APIStatusError):
        return one_line(str(exc.message) or str(exc.body))
    return one_line(str(exc.__cause__ or exc) or type(exc).__name__)


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds <= MAX_RETRY_AFTER_S else None


def provider_error(exc: Exception, provider: Provider | None) -> Exception:
    """One line for what went wrong talking to the model; other errors pass through."""
    where = provider.label if provider else "the model"
    if isinstance(exc.__cause__, NotAPIReply):
        return exc.__cause__
    if isinstance(exc, APIConnectionError):
        reason = one_line(str(exc.__cause__ or exc))
        return ServerError(f"cannot reach {where}: {reason}")
    if isinstance(exc, AuthenticationError | PermissionDeniedError):
        return ServerRefused(f"{where}: the server refused the API key ({exc.status_code})")
    if isinstance(exc, NotFoundError):
        return ServerRefused(f"{where}: not found on the server (404); check --model")
    if isinstance(exc, APIStatusError):
        return ServerError(f"{where}: the server answered {exc.status_code}: {_body(exc)}")
    if isinstance(exc, json.JSONDecodeError):
        return ServerError(f"{where}: the server's reply is not JSON ({exc.msg})")
    return exc
