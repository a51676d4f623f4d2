"""Builds the extractors from settings (called once per process by the pipeline's wiring)."""

from __future__ import annotations

from shared.config import Settings, require_in_production, require_trimmed
from shared.extraction.claude import ClaudeExtractor, ClientFactory
from shared.extraction.rules import RulesExtractor


def build_extractors(
    settings: Settings, client_factory: ClientFactory | None = None
) -> tuple[ClaudeExtractor | None, RulesExtractor]:
    """(Claude extractor or None, rules extractor).

    Claude is built when ``ANTHROPIC_API_KEY`` is set; its client is created on the first call.
    With ``APP_ENV=production`` the key is required (:class:`~shared.config.ConfigError` naming
    it when missing or blank): production has no rules-only mode, so there the rules extractor
    only ever stands in for Claude. A key with surrounding whitespace is refused everywhere.

    The rules extractor is ``degraded`` exactly when Claude is configured, because then it only
    ever runs standing in for Claude (breaker open, repeated malformed answers); without a key
    (local and test only) it is the configured extractor and its results are not marked as a
    fallback.
    """
    require_in_production(settings, "anthropic_api_key")
    require_trimmed(settings, "anthropic_api_key")
    claude = None
    if settings.anthropic_api_key is not None and settings.anthropic_api_key.get_secret_value():
        claude = ClaudeExtractor(client_factory, settings)
    return claude, RulesExtractor(settings, degraded=claude is not None)
