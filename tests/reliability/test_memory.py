"""Memory of the function processes under large emails: flat after warm-up.

The full soak once saw the webhook's resident memory go from 178 to 684 MB. The cause was not a
leak but glibc's allocator keeping freed 5–25 MB buffers as fragmented heap (its dynamic mmap
threshold rises after a large free); :mod:`shared.allocator` tunes it per instance (see
docs/reliability.md, "Memory"). This test sends a mix of small emails and ones of 5–25 MB over
every provider route, measures each function process's RSS after a warm-up that already holds
large emails, in the middle and at the end, and asserts that the webhook's stays within a bound
that the old behaviour broke (it grew by hundreds of MB) and that any leak of the bodies would
break too (a kept 5–25 MB body per large email is far above the margin). Everything sent is
verified like every other reliability test: one report each, effects once, nothing lost.

CI sizes: 80 emails, 12 of 5–25 MB; ``make soak``: 400, 48 of them.
"""

from __future__ import annotations

import random

from tests.e2e.conftest import tool_input
from tests.reliability.helpers import Harness, MailCase, Sizes, make_cases, rss_mb
from tests.reliability.summary import SUMMARY

MB = 1024 * 1024
# After warm-up the webhook may still move this much (threads' stacks, pools, a large request
# in flight when sampled); a kept 5-25 MB body per large email, or the fragmented heap the
# untuned allocator left (+370 MB over 24 large emails in the probe), exceeds it.
WEBHOOK_MARGIN_MB = 96.0


def _cases(size: Sizes) -> tuple[list[MailCase], list[MailCase], list[MailCase]]:
    """Warm-up (with two large emails), first half, second half; large ones spread evenly."""
    n, large = size.memory_emails, size.memory_large
    rng = random.Random(11)
    sizes = [rng.randint(0, 200_000) for _ in range(n)]
    warm = max(8, n // 8)
    picks = [1, warm - 1] + [
        warm + int((k + 0.5) * (n - warm) / (large - 2)) for k in range(large - 2)
    ]
    for at in picks:
        sizes[at] = int(rng.randint(5 * MB, 25 * MB) * 0.74)  # base64: whole email ≤ 25 MB
    it = iter(sizes)
    cases = make_cases(n, kinds=("plan",), sizes=lambda _rng: next(it), seed=5)
    half = warm + (n - warm) // 2
    return cases[:warm], cases[warm:half], cases[half:]


def test_function_memory_flat_under_large_emails(harness: Harness, size: Sizes) -> None:
    warm, first, second = _cases(size)
    everything = warm + first + second
    harness.claude.set_default({"kind": "tool_use", "input": tool_input("other", 0.9, "Hello")})
    with harness._mongo() as client:
        client["collections"]["accounts"].insert_many([c.account_document() for c in everything])
    servers = {name: harness.stack.servers[name] for name in ("webhook", "processor")}

    harness.send_all(warm, senders=4)
    harness.wait_for_reports(warm, timeout=300)
    start = {name: rss_mb(server) for name, server in servers.items()}
    harness.send_all(first, senders=8)
    harness.wait_for_reports(first, timeout=300)
    middle = {name: rss_mb(server) for name, server in servers.items()}
    harness.send_all(second, senders=8)
    harness.wait_for_reports(second, timeout=300)
    end = {name: rss_mb(server) for name, server in servers.items()}

    harness.wait_for_notifications_sent(everything, timeout=300)
    harness.verify(everything, expect_decisions=False)
    large = sum(1 for c in everything if c.attachment_bytes >= 3 * MB)
    SUMMARY.note(f"memory test: {len(everything)} emails, {large} of 5-25 MB")
    for name in servers:
        SUMMARY.note(
            f"memory test RSS {name}: after warm-up {start[name]:.0f} MB, "
            f"middle {middle[name]:.0f} MB, end {end[name]:.0f} MB"
        )
    webhook_end = end["webhook"]
    assert webhook_end <= start["webhook"] + WEBHOOK_MARGIN_MB, (start, middle, end)
    assert webhook_end <= middle["webhook"] + WEBHOOK_MARGIN_MB / 2, (start, middle, end)
