"""List prices of the Claude models the benchmarks put a cost on: the one place they live.

USD per million tokens. Source: Anthropic's model page for Claude Sonnet 5.5
(https://platform.claude.com/docs/en/models/sonnet-5-5/overview, "Pricing": input $2, 5-minute
cache write $2.50, 1-hour cache write $4, cache read $0.20, output $10), checked 2026-12-04.
Price trackers report the cache read cut to $0.10 from 2026-10-07; the official page as read
still says $0.20, so $0.20 is used (the higher figure). Update here, with the date, when it
changes.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = "https://platform.claude.com/docs/en/models/sonnet-5-5/overview"
CHECKED = "2026-12-04"


@dataclass(frozen=True)
class ModelPrice:
    input: float  # uncached input tokens
    cache_write_5m: float
    cache_read: float
    output: float


PRICES: dict[str, ModelPrice] = {
    "claude-sonnet-5-5": ModelPrice(input=2.00, cache_write_5m=2.50, cache_read=0.20, output=10.0),
}


def input_cost_per_1000_emails(model: str, cached_prefix: float, per_email: float) -> float | None:
    """USD for 1,000 emails' input: the prefix read from the cache, the email at full price.

    ``None`` for a model without a price here. The cache writes (the prefix at the write price
    once per five quiet minutes) and the output tokens are not included.
    """
    price = PRICES.get(model)
    if price is None:
        return None
    return 1000 * (cached_prefix * price.cache_read + per_email * price.input) / 1_000_000
