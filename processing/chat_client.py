"""One client for OpenAI-compatible chat completions servers (vLLM, TGI, llama.cpp, OpenAI ...), with one retry policy.

The LLM judge (`macm.evaluation.judge`) and the HMI annotator (`macm.processing.hmi.annotate`) both send chat
messages to such a server and both must survive a flaky one: requests go through `huggingface_hub.InferenceClient`
(`ChatClient.send`), and `RetryPolicy.run` retries what is worth retrying (no reply, a timeout, HTTP 408/409/425/429
or 5xx, a reply the caller could not use) with exponential backoff or the server's ``Retry-After``. Every attempt is
kept as a `ChatAttempt` with the raw body the server sent, so a request that still fails is recorded with
everything the server said rather than dropped.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from huggingface_hub import InferenceClient
from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError

__all__ = ["RETRY_STATUS", "ChatAttempt", "ChatClient", "ChatError", "ChatReply", "RetryPolicy", "chat_endpoint"]

logger = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
T = TypeVar("T")


def chat_endpoint(url: str) -> str:
    """`http://host:8000`, `.../v1` or `.../v1/chat/completions` -> the chat completions URL."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"url must start with http:// or https://, got {url!r}")
    base = url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    return (base if base.endswith("/v1") else base + "/v1") + "/chat/completions"


class ChatError(Exception):
    """A failed attempt: what went wrong (`kind`), the HTTP status and raw body when there was a reply, and whether
    trying again can help (`retry`, `retry_after` seconds when the server said so).

    Kinds raised by `ChatClient.send`: ``http``, ``timeout``, ``connection``, ``malformed_response``; callers raise
    their own for replies they cannot use (e.g. ``schema``).
    """

    def __init__(
        self,
        message: str,
        kind: str,
        status_code: int | None = None,
        response: str | None = None,
        retry: bool = True,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.kind, self.status_code, self.response = kind, status_code, response
        self.retry, self.retry_after = retry, retry_after


@dataclass
class ChatAttempt:
    """One request and what came of it: `error_kind` is `None` when it succeeded, `status_code` is set for an HTTP
    error status, `response` is the raw body (or the reply text) when there was one."""

    attempt: int
    ok: bool
    seconds: float
    status_code: int | None = None
    error_kind: str | None = None
    message: str | None = None
    response: str | None = None


@dataclass(frozen=True)
class ChatReply:
    """The reply text of a chat completion and the response body it came in (JSON)."""

    content: str
    body: str


def _retry_after(headers) -> float | None:
    value = (headers.get("retry-after") or "").strip()
    return float(value) if value.replace(".", "", 1).isdigit() else None  # an HTTP-date is not honoured


class ChatClient:
    """Sends chat messages to an OpenAI-compatible server through `huggingface_hub.InferenceClient`; one request per
    `send`, failures raised as `ChatError` (retries are `RetryPolicy`'s job).

    Args:
        url (`str`): the server root (`http://host:8000`), its `/v1` base or the full chat completions URL.
        model (`str`): the served model id.
        api_key (`str`, *optional*): sent as `Authorization: Bearer ...`; without it no credential is sent (not
            even a locally stored Hugging Face token).
        timeout (`float`, *optional*, defaults to 120): seconds per request.
    """

    def __init__(self, url: str, model: str, api_key: str | None = None, timeout: float = 120.0):
        self.endpoint = chat_endpoint(url)
        if not model:
            raise ValueError(f"model must name the served model, got {model!r}")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        self.model = model
        # InferenceClient falls back to the stored HF token when given no key; a None header drops it.
        headers = None if api_key else {"authorization": None}
        self._client = InferenceClient(base_url=self.endpoint, api_key=api_key, timeout=timeout, headers=headers)

    def send(
        self,
        messages: list[dict],
        *,
        temperature: float | None = None,
        seed: int | None = None,
        max_tokens: int | None = None,
        response_format: dict | None = None,
    ) -> ChatReply:
        """One chat completion request; raises `ChatError` for no reply, an HTTP error or a body that is not a chat
        completion (its raw body kept in the error)."""
        try:
            output = self._client.chat_completion(
                messages,
                model=self.model,
                temperature=temperature,
                seed=seed,
                max_tokens=max_tokens,
                response_format=response_format,
            )
        except InferenceTimeoutError as error:
            raise ChatError(f"no reply within {self._client.timeout:g} s ({error})", "timeout") from None
        except HfHubHTTPError as error:
            status, response = error.response.status_code, error.response.text
            raise ChatError(
                f"HTTP {status} from {self.endpoint}",
                "http",
                status,
                response,
                retry=status in RETRY_STATUS,
                retry_after=_retry_after(error.response.headers),
            ) from None
        except json.JSONDecodeError as error:
            raise ChatError("the reply body is not JSON", "malformed_response", response=error.doc) from None
        except Exception as error:  # the transport's own errors (refused, reset, DNS ...): no reply at all
            raise ChatError(f"{type(error).__name__}: {error}", "connection") from None
        body = json.dumps(output, ensure_ascii=False)
        try:
            content = output.choices[0].message.content
        except (AttributeError, IndexError, TypeError):
            raise ChatError("not a chat completions response", "malformed_response", response=body) from None
        if isinstance(content, list):  # some servers return content parts
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        return ChatReply(content or "", body)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to try.

    Args:
        attempts (`int`, *optional*, defaults to 3): requests at most (the first included).
        backoff (`float`, *optional*, defaults to 2.0): seconds before the first retry, doubled each time.
        max_backoff (`float`, *optional*, defaults to 60): longest wait, also for a server's `Retry-After`.
    """

    attempts: int = 3
    backoff: float = 2.0
    max_backoff: float = 60.0

    def __post_init__(self):
        if self.attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {self.attempts}")
        if self.backoff < 0 or self.max_backoff < 0:
            raise ValueError(f"backoff and max_backoff must be >= 0, got {self.backoff} and {self.max_backoff}")

    def delay(self, failed_attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after attempt `failed_attempt` (1-based) failed."""
        wait = retry_after if retry_after is not None else self.backoff * 2 ** (failed_attempt - 1)
        return min(self.max_backoff, wait)

    def run(
        self, call: Callable[[], tuple[T, str | None]], what: str = "request"
    ) -> tuple[T | None, list[ChatAttempt]]:
        """Calls `call` until it returns or a `ChatError` says not to retry or the attempts run out.

        `call` returns ``(value, raw response body)`` or raises `ChatError`; other exceptions propagate.

        Returns:
            `tuple`: the value (`None` when every attempt failed) and every attempt made, in order.
        """
        attempts: list[ChatAttempt] = []
        for number in range(1, self.attempts + 1):
            start = time.perf_counter()
            try:
                value, response = call()
            except ChatError as error:
                seconds = round(time.perf_counter() - start, 3)
                attempts.append(
                    ChatAttempt(number, False, seconds, error.status_code, error.kind, str(error), error.response)
                )
                logger.warning("%s attempt %d/%d failed: %s: %s", what, number, self.attempts, error.kind, error)
                if not error.retry or number == self.attempts:
                    break
                time.sleep(self.delay(number, error.retry_after))
                continue
            attempts.append(ChatAttempt(number, True, round(time.perf_counter() - start, 3), response=response))
            return value, attempts
        return None, attempts
