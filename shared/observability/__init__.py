"""Error reporting (Sentry) with privacy scrubbing."""
