"""A breaker's transitions are metrics under any name the breakers accept: the ``breaker``
label's rule and :func:`shared.breakers.registry.validate_name` agree."""

from __future__ import annotations

import pytest

from shared.breakers.registry import validate_name
from shared.metrics.collector import InvalidMetric, validate_metric

GOOD = ["claude", "mongodb", "gcs", "claude-1a2b3c4d", "ops-test-00ff", "a.b_c-d", "x" * 64]
BAD = ["", "Claude", "1abc", "-x", "x" * 65, "a b", "ops@example.org", "claude;drop", "ä"]


def _as_label(name: str) -> bool:
    try:
        validate_metric("breaker_transition", 1, {"breaker": name, "from": "closed", "to": "open"})
    except InvalidMetric:
        return False
    return True


def _as_breaker(name: str) -> bool:
    try:
        validate_name(name)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name", GOOD)
def test_every_breaker_name_is_a_valid_label(name: str) -> None:
    assert _as_breaker(name) and _as_label(name)


@pytest.mark.parametrize("name", BAD)
def test_what_breakers_refuse_labels_refuse(name: str) -> None:
    assert not _as_breaker(name) and not _as_label(name)
