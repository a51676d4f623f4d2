"""The rules extractor reads the longest text the parser keeps in time linear in its length.

Its patterns, and the injection check it runs, are tried at every position of every email (the
rules also read automated mail when Claude is configured): one unbounded look-ahead made a
200,000-character body without punctuation take hours, and so did blank lines after a label.
Each reading runs in a process of its own, stopped at a bound far above what a linear reading
needs (a few seconds here) and far below what a quadratic one would (thousands of seconds): a
liveness guard, not a speed measurement (``make bench`` measures speed).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared.extraction.email_parser import MimeLimits

REPO_ROOT = Path(__file__).resolve().parents[2]
LONGEST = MimeLimits().max_text_chars
# (a head, then one unit repeated to the longest text): one sentence, line or run open for the
# whole text, around the words the patterns look for
SHAPES = {
    "words": ("", "a "),
    "numbers after a condition": ("", "if 1 "),
    "sums and days": ("", "si je vous envoie 1500 euros le 27 "),
    "payments and proofs": ("", "paid 1 proof of payment the 27th "),
    "one long number": ("", "1"),
    "a quoted header's start, then digits": ("el 1", "1"),
    "a phone label, then spaces": ("phone", " "),
    "a phone label, then blank lines": ("Tel.", "\n"),
}
BOUND_SECONDS = 120
_READ = """
import sys
from shared.config import load_settings
from shared.extraction.models import ParsedEmail
from shared.extraction.rules import RulesExtractor
head, unit, longest = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = (head + unit * longest)[:longest]
email = ParsedEmail(message_id=None, subject="", sender="a@example.com", sender_name=None,
                    date=None, text=text)
RulesExtractor(load_settings({}), degraded=False).extract(email)
"""


@pytest.mark.parametrize("shape", SHAPES)
def test_a_long_unpunctuated_body_is_read_in_bounded_time(shape: str) -> None:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _READ, *SHAPES[shape], str(LONGEST)],
            cwd=REPO_ROOT,
            capture_output=True,
            timeout=BOUND_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{LONGEST} characters of {shape!r} not read within {BOUND_SECONDS} s")
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
