"""Builds the extractors from settings (called once per process by the pipeline's wiring)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.config import Settings, require_in_production, require_trimmed
from shared.extraction.claude import ClaudeExtractor, ClientFactory
from shared.extraction.models import Extraction, ParsedEmail

if TYPE_CHECKING:
    from shared.extraction.rules import RulesExtractor


class DeferredRulesExtractor:
    """The :class:`~shared.extraction.rules.RulesExtractor`, built on its first call.

    With Claude configured the rules extractor only stands in for it (breaker open, repeated
    malformed answers), so a processor instance usually never runs it: its module, whose
    patterns are compiled at import, is imported then and not during the cold start. Two
    threads building it at once build the same thing; either one is kept.
    """

    name = "rules"

    def __init__(self, settings: Settings, *, degraded: bool) -> None:
        self.degraded = degraded
        self._settings = settings
        self._built: RulesExtractor | None = None

    def extract(self, email: ParsedEmail) -> Extraction:
        built = self._built
        if built is None:
            from shared.extraction.rules import RulesExtractor

            built = self._built = RulesExtractor(self._settings, degraded=self.degraded)
        return built.extract(email)


def build_extractors(
    settings: Settings, client_factory: ClientFactory | None = None
) -> tuple[ClaudeExtractor | None, DeferredRulesExtractor]:
    """(Claude extractor or None, rules extractor).

    Claude is built when ``ANTHROPIC_API_KEY`` is set; its client is created on the first call.
    With ``APP_ENV=production`` the key is required (:class:`~shared.config.ConfigError` naming
    it when missing or blank): production has no rules-only mode, so there the rules extractor
    only ever stands in for Claude. A key with surrounding whitespace is refused everywhere.

    The rules extractor is ``degraded`` exactly when Claude is configured, because then it only
    ever runs standing in for Claude (breaker open, repeated malformed answers); without a key
    (local and test only) it is the configured extractor and its results are not marked as a
    fallback. Either way its module is imported on its first call (:class:`DeferredRulesExtractor`).
    """
    require_in_production(settings, "anthropic_api_key")
    require_trimmed(settings, "anthropic_api_key")
    claude = None
    if settings.anthropic_api_key is not None and settings.anthropic_api_key.get_secret_value():
        claude = ClaudeExtractor(client_factory, settings)
    return claude, DeferredRulesExtractor(settings, degraded=claude is not None)
