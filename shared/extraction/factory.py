"""Builds the extractors from settings (called once per process by the pipeline's wiring)."""

from __future__ import annotations

from shared.config import Settings
from shared.extraction.claude import ClaudeExtractor, ClientFactory
from shared.extraction.rules import RulesExtractor


def build_extractors(
    settings: Settings, client_factory: ClientFactory | None = None
) -> tuple[ClaudeExtractor | None, RulesExtractor]:
    """(Claude extractor or None, rules extractor).

    Claude is built when ``ANTHROPIC_API_KEY`` is set; its client is created on the first call.
    The rules extractor is ``degraded`` exactly when Claude is configured, because then it only
    ever runs standing in for Claude (breaker open, repeated malformed answers); without a key
    it is the configured extractor and its results are not marked as a fallback.
    """
    claude = None
    if settings.anthropic_api_key is not None and settings.anthropic_api_key.get_secret_value():
        claude = ClaudeExtractor(client_factory, settings)
    return claude, RulesExtractor(settings, degraded=claude is not None)
