"""Benchmarks of the system against its targets (``make bench``); see docs/benchmarks.md."""
