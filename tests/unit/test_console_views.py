"""The console's pure parts: evidence highlighting, attachment types, SVG charts."""

from __future__ import annotations

from email.message import EmailMessage

from shared.console import charts, email_view


def test_evidence_is_highlighted_once_and_never_overlapping() -> None:
    text = "I paid 120.00 EUR on 2026-12-01. Case C-1."
    fields = {
        "amount": {"value": 120.0, "evidence": "120.00 EUR"},
        "currency": {"value": "EUR", "evidence": "EUR"},  # inside the amount's span
        "case_number": {"value": "C-1", "evidence": "C-1"},
        "debtor_name": {"value": "x", "evidence": "not in the text"},
    }
    segments = email_view.highlight(text, fields)
    assert "".join(s.text for s in segments) == text
    assert [(s.text, s.field) for s in segments if s.field] == [
        ("120.00 EUR", "amount"),
        ("C-1", "case_number"),
    ]


def test_attachments_get_a_safe_type_and_name() -> None:
    message = EmailMessage()
    message["From"] = "a@example.org"
    message.set_content("see attached")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
    message.add_attachment(
        b"<script>x</script>", maintype="text", subtype="html", filename='../"evil".html'
    )
    raw = message.as_bytes()
    listed = email_view.attachments(raw)
    assert [(a.filename, a.content_type, a.inline) for a in listed] == [
        ("a.pdf", "application/pdf", True),
        ("..evil.html", "application/octet-stream", False),
    ]
    found = email_view.attachment_bytes(raw, 1)
    assert found is not None and found[1] == b"<script>x</script>"
    assert email_view.attachment_bytes(raw, 2) is None


def test_charts_are_svg_with_escaped_labels() -> None:
    svg = charts.stacked_bars(
        "Emails", ["2026-12-01", "2026-12-02"], {"<AUTO>": [1, 2], "MANUAL": [0, 3]}
    )
    assert svg.startswith("<svg") and "<AUTO>" not in svg and "&lt;AUTO&gt;" in svg
    assert svg.count("<rect") >= 4
    assert "no data yet" in charts.lines("Latency", [], {})
    assert "<polyline" in charts.lines("Latency", ["2026-12-01", "2026-12-02"], {"p50": [1, 2]})
