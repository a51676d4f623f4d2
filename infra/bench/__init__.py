"""Benchmarks of the system against the limits of issue 8 (``make bench``); see docs/bench.md."""
