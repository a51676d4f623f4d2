"""B8 — tokens per email: what the Claude extractor sends vs. sending the raw MIME.

The real :class:`~shared.extraction.claude.ClaudeExtractor` extracts every email of the sample
corpus (``tests/fixtures/emails/*.eml``) through the real ``anthropic`` SDK against the
loopback stand-in. The requests the stand-in received are then counted with the SDK's
``messages.count_tokens`` (the stand-in answers it with characters ÷ 4; the real API with its
tokenizer):

- cacheable prefix: the system prompt and the tool schema (both ``cache_control``), counted as
  the request with the email replaced by ".";
- per email: the request's tokens minus that prefix (the part that is paid in full per email);
- baseline per email: a request carrying only the raw MIME as the user turn.

Ratio: the median of the per-email ratios; target ≤ 0.35. Requests with scanned-PDF document
blocks are listed but left out of the median: the stand-in cannot count PDF tokens (the real
API counts them per page), so their figure would be too low.
"""

from __future__ import annotations

import contextlib
from typing import Any

from infra.bench.context import BenchContext, require
from infra.bench.results import Check, Measurement, NotMeasured, median
from infra.fakes.clients import ClaudeStandin
from infra.stack import REPO_ROOT

KEY = "B8"
TITLE = "tokens per email"
TARGET = "median ratio ≤ 0.35 (prefix reported)"
CORPUS = REPO_ROOT / "tests" / "fixtures" / "emails"
TARGET_RATIO = 0.35

_COUNT_KEYS = ("model", "system", "tools", "tool_choice", "messages")


def _answer() -> dict[str, Any]:
    from shared.extraction.models import FIELD_NAMES

    answer: dict[str, Any] = {
        "intent": "other",
        "intent_confidence": 0.5,
        "intent_evidence": "",
        "contains_instructions_to_ai": False,
    }
    answer.update(dict.fromkeys(FIELD_NAMES))
    return answer


def _has_documents(body: dict[str, Any]) -> bool:
    return any(
        isinstance(block, dict) and block.get("type") == "document"
        for message in body.get("messages", [])
        for block in (message.get("content") if isinstance(message.get("content"), list) else [])
    )


def run(ctx: BenchContext) -> Measurement:
    require("shared.extraction.claude", "ClaudeExtractor")
    require("shared.extraction.email_parser", "parse_email")
    files = sorted(CORPUS.glob("*.eml"))
    if ctx.sizes.b8_emails:
        files = files[: ctx.sizes.b8_emails]
    if not files:
        raise NotMeasured(f"no sample corpus at {CORPUS.relative_to(REPO_ROOT)}")
    ctx.use_stack_env()
    import anthropic

    from shared.config import get_settings
    from shared.errors import ProcessingError
    from shared.extraction.claude import ClaudeExtractor
    from shared.extraction.email_parser import parse_email

    standin = ClaudeStandin(ctx.stack.url("claude"))
    standin.reset()
    standin.set_default({"kind": "tool_use", "input": _answer()})
    settings = get_settings()
    extractor = ClaudeExtractor(settings=settings)
    raws: list[tuple[str, bytes]] = []
    try:
        for path in files:
            raw = path.read_bytes()
            raws.append((path.name, raw))
            # The answer does not matter here: the request was sent and recorded.
            with contextlib.suppress(ProcessingError, ValueError):
                extractor.extract(parse_email(raw))
    finally:
        extractor.close()
    sent = [r["body"] for r in standin.requests() if r["path"] == "/v1/messages"]
    if len(sent) != len(raws):
        raise RuntimeError(f"the stand-in received {len(sent)} requests for {len(raws)} emails")

    client = anthropic.Anthropic(
        api_key=settings.anthropic_api_key.get_secret_value()
        if settings.anthropic_api_key
        else "none",
        base_url=settings.anthropic_base_url,
        max_retries=0,
    )
    try:

        def count(body: dict[str, Any]) -> int:
            args = {key: body[key] for key in _COUNT_KEYS if key in body}
            return int(client.messages.count_tokens(**args).input_tokens)

        prefix = count({**sent[0], "messages": [{"role": "user", "content": "."}]})
        per_email: list[dict[str, Any]] = []
        for (name, raw), body in zip(raws, sent, strict=True):
            total = count(body)
            raw_tokens = count(
                {
                    "model": body["model"],
                    "messages": [{"role": "user", "content": raw.decode("utf-8", "replace")}],
                }
            )
            email_tokens = total - prefix
            per_email.append(
                {
                    "email": name,
                    "request_tokens": total,
                    "email_tokens": email_tokens,
                    "raw_mime_tokens": raw_tokens,
                    "ratio": round(email_tokens / raw_tokens, 3) if raw_tokens else None,
                    "document_blocks": _has_documents(body),
                }
            )
    finally:
        client.close()
    counted = [e for e in per_email if not e["document_blocks"] and e["ratio"] is not None]
    if not counted:
        raise NotMeasured("every sample email carries document blocks the stand-in cannot count")
    ratio = median(e["ratio"] for e in counted)
    return Measurement(
        figure=median(e["email_tokens"] for e in counted),
        unit="tok",
        baseline=median(e["raw_mime_tokens"] for e in counted),
        ratio=ratio,
        checks=[Check.at_most("median ratio", ratio, TARGET_RATIO, "{:.2f}")],
        summary=(
            f"cacheable prefix (system prompt + tool schema) {prefix} tokens; "
            f"{len(counted)} of {len(per_email)} sample emails counted"
        ),
        details={
            "cacheable_prefix_tokens": prefix,
            "emails": len(per_email),
            "counted": len(counted),
            "left_out_document_blocks": [e["email"] for e in per_email if e["document_blocks"]],
            "counting": "SDK messages.count_tokens against the stand-in (characters ÷ 4)",
            "per_email": per_email,
        },
    )
