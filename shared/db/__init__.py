"""Postgres: the models, the lazily created engine and sessions."""
