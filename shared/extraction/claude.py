"""The Claude extractor: one forced tool call through the anthropic SDK, then validation.

The SDK client is created on the first call (never at import) and shared by the threads of the
process; the SDK's own retries are bounded by ``CLAUDE_MAX_RETRIES`` (it honours
``retry-after`` on 429 and 529) and every attempt by ``CLAUDE_TIMEOUT_SECONDS``. SDK errors
become the errors of :mod:`shared.extraction.errors`; their messages name the error type and
HTTP status, never the email or the key, and the SDK exception is not chained (its request
object holds the email).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from shared.config import Settings, get_settings
from shared.errors import ProcessingError
from shared.extraction.errors import (
    ClaudeRateLimited,
    ClaudeRequestRejected,
    ClaudeUnavailable,
    MalformedModelAnswer,
)
from shared.extraction.models import Extraction, ParsedEmail, TokenUsage
from shared.extraction.prompt import PROMPT_VERSION, TOOL_NAME, build_request, documents_sent
from shared.extraction.validation import validate_answer
from shared.logs import log_event

logger = logging.getLogger(__name__)

ClientFactory = Callable[[Settings], Any]


def default_client_factory(settings: Settings) -> Any:
    """An ``anthropic.Anthropic`` client configured from settings."""
    import anthropic

    if settings.anthropic_api_key is None:
        raise ValueError("ANTHROPIC_API_KEY is not set")
    return anthropic.Anthropic(
        api_key=settings.anthropic_api_key.get_secret_value(),
        base_url=settings.anthropic_base_url or None,
        timeout=settings.claude_timeout_seconds,
        max_retries=settings.claude_max_retries,
    )


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _status_error(exc: Any) -> ProcessingError:
    status = int(exc.status_code)
    name = type(exc).__name__
    if status == 429:
        return ClaudeRateLimited(_retry_after(exc))
    if status >= 500 or status == 408:
        return ClaudeUnavailable(name, status_code=status)
    return ClaudeRequestRejected(name, status)


def map_sdk_error(exc: BaseException) -> ProcessingError | None:
    """The pipeline error for an anthropic SDK exception (None when it is not one)."""
    import anthropic

    mapped: ProcessingError | None = None
    if isinstance(exc, anthropic.APIConnectionError):  # includes APITimeoutError
        mapped = ClaudeUnavailable(type(exc).__name__)
    elif isinstance(exc, anthropic.APIResponseValidationError):
        mapped = MalformedModelAnswer("response_validation")
    elif isinstance(exc, anthropic.APIStatusError):
        mapped = _status_error(exc)
    elif isinstance(exc, anthropic.AnthropicError):
        mapped = ClaudeUnavailable(type(exc).__name__)
    return mapped


def _usage(response: Mapping[str, Any]) -> TokenUsage:
    usage = response.get("usage")
    if not isinstance(usage, Mapping):
        usage = {}

    def count(attribute: str) -> int:
        value = usage.get(attribute, 0)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0

    return TokenUsage(
        input=count("input_tokens"),
        output=count("output_tokens"),
        cache_read=count("cache_read_input_tokens"),
        cache_write=count("cache_creation_input_tokens"),
    )


def tool_answer(response: Mapping[str, Any]) -> Mapping[str, Any]:
    """The input of the forced tool call in the Messages API's answer (its JSON body, as
    decoded), or :class:`MalformedModelAnswer`."""
    if response.get("stop_reason") == "max_tokens":
        raise MalformedModelAnswer("max_tokens")
    content = response.get("content")
    for block in content if isinstance(content, list) else []:
        if (
            isinstance(block, Mapping)
            and block.get("type") == "tool_use"
            and block.get("name") == TOOL_NAME
        ):
            answer = block.get("input")
            if not isinstance(answer, Mapping):
                raise MalformedModelAnswer("tool_input_not_object")
            if not isinstance(answer.get("intent"), str):
                raise MalformedModelAnswer("intent_not_string")
            return answer
    raise MalformedModelAnswer("no_tool_use")


def _text(value: Any) -> str | None:
    return value[:100] if isinstance(value, str) else None


class ClaudeExtractor:
    """:class:`~shared.extraction.models.Extractor` backed by the Messages API."""

    name = "claude"

    def __init__(
        self, client_factory: ClientFactory | None = None, settings: Settings | None = None
    ) -> None:
        self._settings = settings or get_settings()
        self._client_factory = client_factory or default_client_factory
        self._client: Any = None
        self._lock = threading.Lock()

    def _get_client(self) -> Any:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._client_factory(self._settings)
                client = self._client
        return client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None and hasattr(client, "close"):
            client.close()

    def extract(self, email: ParsedEmail) -> Extraction:
        import anthropic

        request = build_request(email, self._settings)
        client = self._get_client()
        started = time.monotonic()
        try:
            # The answer's JSON, not the SDK's typed Message: what is read of it is checked
            # here and in validate_answer, and building the typed model cost a fifth of the
            # call's CPU.
            raw = client.messages.with_raw_response.create(**request)
        except anthropic.AnthropicError as exc:
            mapped = map_sdk_error(exc)
            if mapped is None:  # pragma: no cover - every AnthropicError is mapped
                raise
            log_event(
                logger,
                "claude_call_failed",
                error_type=type(exc).__name__,
                status_code=getattr(exc, "status_code", None),
                duration_ms=round((time.monotonic() - started) * 1000),
            )
            raise mapped from None
        try:
            response = raw.http_response.json()
        except (ValueError, RecursionError):  # not JSON (truncated …), or nested past any answer
            log_event(logger, "claude_answer_malformed", reason="undecodable_body")
            raise MalformedModelAnswer("undecodable_body") from None
        if not isinstance(response, Mapping):
            log_event(logger, "claude_answer_malformed", reason="body_not_object")
            raise MalformedModelAnswer("body_not_object")
        usage = _usage(response)
        model = _text(response.get("model"))
        log_event(
            logger,
            "claude_call_done",
            model=model,
            stop_reason=_text(response.get("stop_reason")),
            input_tokens=usage.input,
            output_tokens=usage.output,
            cache_read_tokens=usage.cache_read,
            cache_write_tokens=usage.cache_write,
            duration_ms=round((time.monotonic() - started) * 1000),
        )
        try:
            answer = tool_answer(response)
        except MalformedModelAnswer as exc:
            log_event(logger, "claude_answer_malformed", reason=exc.reason)
            exc.usage = usage
            raise
        checked = validate_answer(answer, email)
        return Extraction(
            intent=checked.intent,
            intent_confidence=checked.intent_confidence,
            fields=checked.fields,
            extractor="claude",
            degraded=False,
            prompt_version=PROMPT_VERSION,
            model=model or self._settings.claude_model,
            usage=usage,
            warnings=checked.warnings,
            documents_read=documents_sent(request),
        )
