"""Operational metrics: the collector, the nightly rollup, queries."""
