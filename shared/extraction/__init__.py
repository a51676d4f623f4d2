"""Extraction of facts from an email: Claude (tool use) and the rules-based fallback."""
