"""B8 — tokens per email: what the Claude extractor sends, against two baselines.

The real :class:`~shared.extraction.claude.ClaudeExtractor` extracts every email of a corpus of
**provider-shaped mail** (full header blocks, HTML alternatives, signatures, threads: the
evaluation corpus ``eval/corpus``, or ``--b8-corpus DIR``) through the real ``anthropic`` SDK
against the loopback stand-in. The requests the stand-in received are then counted with the
SDK's ``messages.count_tokens`` (the stand-in answers it with characters ÷ 4; the real API with
its tokenizer):

- cacheable prefix: the system prompt and the tool schema (both ``cache_control``), counted as
  the request with the email replaced by ".";
- per email: the request's tokens minus that prefix (the part that is paid in full per email);
- baseline (a), per email: a request carrying only the raw MIME as the user turn;
- baseline (b), per email: a request carrying only the email's own content — subject, sender,
  new text, quoted history, attachment text, as parsed, joined by newlines, no label, tag or
  delimiter. What is sent beyond it is the **framing**: the ``<email>`` and ``</email>`` lines,
  the date line, the ``<quoted>`` line and one ``<attachment>`` line per file (its filename, and
  the type of a file not read) when there are any (:func:`shared.extraction.prompt.render_email`).

Targets: (a) median of per-email ratios ≤ 0.35; (b) median of per-email ratios ≤ 1.15 and
median framing ≤ 40 tokens. The cost per 1,000 emails (the prefix read from the cache, the
email at the input price; :mod:`infra.bench.prices`) is reported. Requests with scanned-PDF
document blocks are listed but left out: the stand-in cannot count PDF tokens (the real API
counts them per page), so their figure would be too low.
"""

from __future__ import annotations

import contextlib
from typing import Any

from infra.bench.context import BenchContext, require
from infra.bench.prices import CHECKED, input_cost_per_1000_emails
from infra.bench.results import Check, Measurement, NotMeasured, median
from infra.fakes.clients import ClaudeStandin
from infra.stack import REPO_ROOT

KEY = "B8"
TITLE = "tokens per email"
TARGET = "vs raw MIME ≤ 0.35; vs content ≤ 1.15, framing ≤ 40 tok"
CORPUS = REPO_ROOT / "eval" / "corpus"
TARGET_RATIO = 0.35  # (a) against the raw MIME
CONTENT_RATIO = 1.15  # (b) against the email's own content
FRAMING_TOKENS = 40

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


def content_text(email: Any) -> str:
    """The email's own content: subject, sender, new text, quoted history, attachment text."""
    sender = f"{email.sender_name} {email.sender}" if email.sender_name else email.sender
    parts = [email.subject, sender, email.text, email.quoted_text]
    parts += [a.text for a in email.attachments if a.text]
    return "\n".join(part for part in parts if part)


def _corpus(ctx: BenchContext) -> list[Any]:
    folder = ctx.b8_corpus or CORPUS
    files = sorted(folder.glob("*.eml"))
    if not files:
        shown = folder.relative_to(REPO_ROOT) if folder.is_relative_to(REPO_ROOT) else folder
        raise NotMeasured(f"no provider-shaped corpus at {shown} (pass --b8-corpus DIR)")
    if ctx.sizes.b8_emails:
        files = files[: ctx.sizes.b8_emails]
    return files


def run(ctx: BenchContext) -> Measurement:
    require("shared.extraction.claude", "ClaudeExtractor")
    require("shared.extraction.email_parser", "parse_email")
    files = _corpus(ctx)
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
    raws: list[tuple[str, bytes, str]] = []
    try:
        for path in files:
            raw = path.read_bytes()
            parsed = parse_email(raw)
            raws.append((path.name, raw, content_text(parsed)))
            # The answer does not matter here: the request was sent and recorded.
            with contextlib.suppress(ProcessingError, ValueError):
                extractor.extract(parsed)
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

        def alone(model: str, text: str) -> int:
            return count({"model": model, "messages": [{"role": "user", "content": text}]})

        for (name, raw, content), body in zip(raws, sent, strict=True):
            total = count(body)
            raw_tokens = alone(body["model"], raw.decode("utf-8", "replace"))
            content_tokens = alone(body["model"], content or ".")
            email_tokens = total - prefix
            per_email.append(
                {
                    "email": name,
                    "request_tokens": total,
                    "email_tokens": email_tokens,
                    "raw_mime_tokens": raw_tokens,
                    "content_tokens": content_tokens,
                    "framing_tokens": email_tokens - content_tokens,
                    "ratio": round(email_tokens / raw_tokens, 3) if raw_tokens else None,
                    "content_ratio": round(email_tokens / content_tokens, 3)
                    if content_tokens
                    else None,
                    "document_blocks": _has_documents(body),
                }
            )
    finally:
        client.close()
    counted = [e for e in per_email if not e["document_blocks"] and e["ratio"] is not None]
    if not counted:
        raise NotMeasured("every email carries document blocks the stand-in cannot count")
    ratio = median(e["ratio"] for e in counted)
    content_ratio = median(e["content_ratio"] for e in counted if e["content_ratio"] is not None)
    framing = median(e["framing_tokens"] for e in counted)
    model = str(sent[0]["model"])
    mean_email = sum(e["email_tokens"] for e in counted) / len(counted)
    cost = input_cost_per_1000_emails(model, prefix, mean_email)
    shown_cost = f"${cost:.2f}" if cost is not None else f"no price for {model}"
    folder = ctx.b8_corpus or CORPUS
    return Measurement(
        figure=median(e["email_tokens"] for e in counted),
        unit="tok",
        baseline=median(e["raw_mime_tokens"] for e in counted),
        ratio=ratio,
        checks=[
            Check.at_most("median ratio to the raw MIME", ratio, TARGET_RATIO, "{:.2f}"),
            Check.at_most(
                "median ratio to the email's content", content_ratio, CONTENT_RATIO, "{:.2f}"
            ),
            Check.at_most("median framing (tokens)", framing, FRAMING_TOKENS, "{:g}"),
        ],
        summary=(
            f"cacheable prefix (system prompt + tool schema) {prefix} tokens; "
            f"{len(counted)} of {len(per_email)} emails of {folder.name}/ counted; content "
            f"{median(e['content_tokens'] for e in counted):g} tok (median), framing "
            f"{framing:g} tok (max {max(e['framing_tokens'] for e in counted)}); input per "
            f"1,000 emails at list price with cache reads {shown_cost} ({model}, prices "
            f"checked {CHECKED})"
        ),
        details={
            "corpus": str(folder),
            "content_ratio_median": content_ratio,
            "framing_tokens_median": framing,
            "framing_tokens_max": max(e["framing_tokens"] for e in counted),
            "input_usd_per_1000_emails": round(cost, 4) if cost is not None else None,
            "mean_email_tokens": round(mean_email, 1),
            "cacheable_prefix_tokens": prefix,
            "emails": len(per_email),
            "counted": len(counted),
            "left_out_document_blocks": [e["email"] for e in per_email if e["document_blocks"]],
            "counting": "SDK messages.count_tokens against the stand-in (characters ÷ 4)",
            "per_email": per_email,
        },
    )
