"""Circuit breakers whose state all instances share in Postgres.

    from shared.breakers import get_breaker

    claude = get_breaker("claude")
    if claude.is_open():                      # cheap: cached row, at most 1 s old
        extraction = rules_extractor.extract(parsed)
    else:
        extraction = claude.call(claude_extractor.extract, parsed)   # may raise BreakerOpenError

``call`` raises :class:`CircuitOpenError` (a :class:`shared.errors.BreakerOpenError` and a
``pybreaker.CircuitBreakerError``) without calling when the breaker is open; otherwise it calls,
counts the failure if :func:`counts_as_failure` says it counts, and re-raises the original
exception unchanged. ``SharedBreaker`` is a ``pybreaker.CircuitBreaker`` on a shared row
(:class:`~shared.breakers.storage.BreakerRowStorage`); what it keeps of pybreaker and what it
overrides, and why, is in ``docs/breakers.md``.
"""

from shared.breakers.breaker import CircuitOpenError, SharedBreaker
from shared.breakers.classify import counts_as_failure
from shared.breakers.events import add_transition_listener, remove_transition_listener
from shared.breakers.model import BreakerSnapshot
from shared.breakers.registry import (
    KNOWN_BREAKERS,
    force_close,
    force_open,
    get_breaker,
    list_breakers,
    reset,
)

__all__ = [
    "KNOWN_BREAKERS",
    "BreakerSnapshot",
    "CircuitOpenError",
    "SharedBreaker",
    "add_transition_listener",
    "counts_as_failure",
    "force_close",
    "force_open",
    "get_breaker",
    "list_breakers",
    "remove_transition_listener",
    "reset",
]
