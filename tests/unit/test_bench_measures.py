"""What the benchmarks compute beside their timings: CPU of a process tree, an email's content
(B8's second baseline), the cost of its tokens."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.bench.b8_tokens import content_text
from infra.bench.cpu import tree_cpu_seconds
from infra.bench.prices import PRICES, input_cost_per_1000_emails
from shared.extraction.email_parser import parse_email

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "provider_mail"

_SPIN_IN_A_CHILD = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time\\nt = time.process_time()\\n"
                          "while time.process_time() - t < 0.4: pass\\ntime.sleep(30)"])
child.wait()
"""


def test_tree_cpu_counts_the_cpu_of_a_grandchild() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _SPIN_IN_A_CHILD])
    try:
        deadline = time.monotonic() + 20
        spent = 0.0
        while time.monotonic() < deadline:
            spent = tree_cpu_seconds(parent.pid)
            if spent >= 0.4:
                break
            time.sleep(0.1)
        assert spent >= 0.4
    finally:
        for line in Path(f"/proc/{parent.pid}/task/{parent.pid}/children").read_text().split():
            subprocess.run(["kill", line], check=False)
        parent.kill()
        parent.wait()


def test_tree_cpu_of_a_process_that_is_not_there_is_zero() -> None:
    assert tree_cpu_seconds(2**22 + 7) == 0.0  # above the kernel's largest pid


def test_content_is_what_the_email_says_without_headers_or_markup() -> None:
    raw = (FIXTURES / "gmail-reply-payment.eml").read_bytes()
    content = content_text(parse_email(raw))
    assert "I paid 240.00 EUR today" in content
    assert "open balance of 240.00 EUR" in content  # the quoted history
    assert "Jordan Miles jordan.miles@gmail.example.com" in content
    for noise in ("DKIM-Signature", "Received:", "<div", "gmail_quote"):
        assert noise not in content
    assert len(content) < len(raw) / 3


def test_content_holds_attachment_text() -> None:
    raw = (FIXTURES / "mobile-forwarded-receipt.eml").read_bytes()
    assert "Empfänger: Collections GmbH" in content_text(parse_email(raw))


def test_cost_reads_the_prefix_from_the_cache_and_pays_the_email_in_full() -> None:
    price = PRICES["claude-sonnet-5-5"]
    cost = input_cost_per_1000_emails("claude-sonnet-5-5", 2000, 100)
    assert cost == pytest.approx(1000 * (2000 * price.cache_read + 100 * price.input) / 1e6)
    assert input_cost_per_1000_emails("no-such-model", 2000, 100) is None
