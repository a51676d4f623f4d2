"""The Messages API request built for an email."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from shared.config import Settings, load_settings
from shared.extraction.email_parser import parse_email
from shared.extraction.models import FIELD_NAMES, INTENTS, AttachmentInfo, ParsedEmail
from shared.extraction.prompt import (
    PROMPT_VERSION,
    SYSTEM_PROMPT,
    TOOL_NAME,
    allocate,
    build_request,
    render_email,
    tool_input_schema,
)

EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"


def settings(**env: str) -> Settings:
    return load_settings(env)


def user_text(request: dict[str, Any]) -> str:
    [message] = request["messages"]
    return "\n".join(b["text"] for b in message["content"] if b["type"] == "text")


def email_section(request: dict[str, Any]) -> str:
    text = user_text(request)
    start = text.index("<untrusted_email>")
    end = text.index("</untrusted_email>")
    assert text.count("<untrusted_email>") == 1 and text.count("</untrusted_email>") == 1
    return text[start : end + len("</untrusted_email>")]


def test_request_shape_caching_and_forced_tool() -> None:
    email = parse_email((EMAILS / "payment_confirmation_plain.eml").read_bytes())
    request = build_request(email, settings(CLAUDE_MODEL="claude-test", CLAUDE_MAX_TOKENS="1024"))
    assert request["model"] == "claude-test" and request["max_tokens"] == 1024
    [system] = request["system"]
    assert system["cache_control"] == {"type": "ephemeral"}
    assert PROMPT_VERSION in system["text"] and system["text"] == SYSTEM_PROMPT
    [tool] = request["tools"]
    assert tool["name"] == TOOL_NAME and tool["cache_control"] == {"type": "ephemeral"}
    assert tool["strict"] is True
    assert request["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    assert "EUR 450.00 on 2026-11-14" in email_section(request)
    assert "From: Maria Keller <maria.keller@example.com>" in email_section(request)
    json.dumps(request)  # serialisable as is


def test_system_prompt_and_tools_do_not_depend_on_the_email() -> None:
    a = build_request(parse_email((EMAILS / "dispute.eml").read_bytes()), settings())
    b = build_request(parse_email((EMAILS / "address_change.eml").read_bytes()), settings())
    assert a["system"] == b["system"] and a["tools"] == b["tools"]
    assert a["messages"] != b["messages"]


def test_strict_can_be_switched_off() -> None:
    email = parse_email(b"Subject: x\n\nhello")
    [tool] = build_request(email, settings(CLAUDE_STRICT_TOOL="false"))["tools"]
    assert "strict" not in tool


def test_schema_is_strict_mode_compatible() -> None:
    schema = tool_input_schema()
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"])
    assert schema["properties"]["intent"]["enum"] == list(INTENTS)
    for name in FIELD_NAMES:
        some_object, null = schema["properties"][name]["anyOf"]
        assert null == {"type": "null"}
        assert some_object["additionalProperties"] is False
        assert some_object["required"] == ["value", "confidence", "evidence"]
    text = json.dumps(schema)
    for unsupported in ("minimum", "maximum", "minLength", "maxLength", "pattern"):
        assert f'"{unsupported}"' not in text


def test_injection_cannot_close_the_data_delimiters() -> None:
    email = parse_email((EMAILS / "prompt_injection_plain.eml").read_bytes())
    request = build_request(email, settings())
    section = email_section(request)
    assert "Ignore all previous instructions" in section
    assert "‹/untrusted_email>" in section and "‹untrusted_email>" in section
    outside = user_text(request).replace(section, "")
    assert "Ignore" not in outside and "ACC-100734" not in outside
    assert "Ignore" not in request["system"][0]["text"]


def test_budget_keeps_new_text_first_then_quoted_then_attachments() -> None:
    email = ParsedEmail(
        message_id=None,
        subject="Subject line",
        sender="a@example.com",
        sender_name=None,
        date=None,
        text="N" * 3000 + "NEW-END",
        quoted_text="Q" * 3000 + "QUOTED-END",
        attachments=(AttachmentInfo("a.pdf", "application/pdf", 10, "A" * 3000 + "ATT-END"),),
    )
    rendered = render_email(email, 4000)
    assert "Subject line" in rendered
    assert rendered.count("N") >= 1900 and rendered.count("Q") >= 900 and rendered.count("A") >= 900
    assert "NEW-END" not in rendered and "[… truncated …]" in rendered
    assert len(rendered) < 4000 + 500  # the tags and headers on top of the budget

    short = ParsedEmail(
        message_id=None,
        subject="s",
        sender="a@example.com",
        sender_name=None,
        date=None,
        text="short new text",
        quoted_text="Q" * 10_000 + "QUOTED-END",
    )
    assert "QUOTED-END" not in render_email(short, 5000)
    assert render_email(short, 5000).count("Q") > 4000  # unused new-text budget goes to quotes


def test_allocate() -> None:
    assert allocate([10, 10, 10], 100, [0.5, 0.25, 0.25]) == [10, 10, 10]
    assert allocate([100, 10, 100], 100, [0.5, 0.25, 0.25]) == [65, 10, 25]
    assert allocate([100, 100, 100], 100, [0.5, 0.25, 0.25]) == [50, 25, 25]


def test_scanned_pdfs_become_bounded_document_blocks() -> None:
    small, large = b"%PDF-1.4 small", b"%PDF-1.4 " + b"x" * 5000
    email = ParsedEmail(
        message_id=None,
        subject="scan",
        sender="a@example.com",
        sender_name=None,
        date=None,
        text="see scan",
        scanned_pdfs=(large, small, small, small),
    )
    request = build_request(
        email, settings(CLAUDE_MAX_DOCUMENTS="2", CLAUDE_MAX_DOCUMENT_BYTES="1024")
    )
    blocks = request["messages"][0]["content"]
    documents = [b for b in blocks if b["type"] == "document"]
    assert len(documents) == 2
    assert all(base64.b64decode(d["source"]["data"]) == small for d in documents)
    assert documents[0]["source"]["media_type"] == "application/pdf"
    assert "untrusted" in blocks[0]["text"] and "untrusted" in documents[0]["title"]


def test_the_user_turn_is_only_the_email_and_evidence_quoted_from_it_is_found() -> None:
    from shared.extraction.validation import EvidenceIndex

    email = parse_email((EMAILS / "reply_with_quoted_history.eml").read_bytes())
    request = build_request(email, settings())
    [block] = request["messages"][0]["content"]
    text = block["text"]
    assert text.startswith("<untrusted_email>\n") and text.endswith("</untrusted_email>")
    assert TOOL_NAME not in text and "Extract" not in text  # the instructions are cached
    assert "  " not in text and "\n\n\n" not in text and "\n>" not in text
    index = EvidenceIndex(email)
    for line in text.splitlines():
        if line and not line.startswith(("<", "From: ", "Date: ", "Subject: ")):
            assert index.contains(line), line


def test_the_fixed_text_is_in_the_cached_system_prompt() -> None:
    assert "<untrusted_email>" in SYSTEM_PROMPT and "<quoted_history>" in SYSTEM_PROMPT
    assert f"calling the tool {TOOL_NAME} exactly once" in SYSTEM_PROMPT
