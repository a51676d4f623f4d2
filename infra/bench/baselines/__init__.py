"""Baseline functions (``functions-framework`` sources) the benchmarks compare with."""
