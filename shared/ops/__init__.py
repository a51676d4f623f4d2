"""Operator commands: ``python -m shared.ops …`` (see :mod:`shared.ops.cli` and
docs/operations.md)."""
