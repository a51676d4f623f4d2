"""What the benchmarks compute beside their timings: CPU of a process tree, an email's content
(B8's second baseline), the cost of its tokens, the compiled tree B6 starts a function from."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.bench.b6_cold_start import deployed_tree
from infra.bench.b8_tokens import content_text
from infra.bench.cpu import tree_cpu_seconds
from infra.bench.prices import PRICES, input_cost_per_1000_emails
from infra.package import archive_entries
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


def test_b6_tree_is_the_packaged_function_with_valid_bytecode_for_every_module(
    tmp_path: Path,
) -> None:
    tree = deployed_tree(tmp_path / "webhook", archive_entries("webhook"))

    sources = sorted(tree.rglob("*.py"))
    assert (tree / "main.py") in sources and (tree / "shared" / "__init__.py") in sources
    for source in sources:
        cached = Path(importlib.util.cache_from_source(str(source)))
        header = cached.read_bytes()[:16]
        stat = source.stat()
        assert header[:4] == importlib.util.MAGIC_NUMBER, source
        assert int.from_bytes(header[4:8], "little") == 0, source  # timestamp-checked
        assert int.from_bytes(header[8:12], "little") == int(stat.st_mtime) & 0xFFFFFFFF, source
        assert int.from_bytes(header[12:16], "little") == stat.st_size & 0xFFFFFFFF, source
    # a process started there imports shared/ from the tree, not from the repository
    found = subprocess.run(
        [sys.executable, "-c", "import shared; print(shared.__file__)"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(found.stdout.strip()) == tree / "shared" / "__init__.py"
