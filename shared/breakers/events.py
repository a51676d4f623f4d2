"""Transition listeners: how metrics (and anything else) learn that a breaker changed state.

``add_transition_listener(fn)`` registers ``fn(name, from_state, to_state)``; it is called once
per transition *across all instances* — by the instance that won the transition in Postgres, not
by every instance that later notices it. A listener that raises is logged and ignored: telemetry
never breaks a protected call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from shared.logs import log_event

TransitionListener = Callable[[str, str, str], None]

_logger = logging.getLogger(__name__)
_lock = threading.Lock()
_listeners: list[TransitionListener] = []


def add_transition_listener(listener: TransitionListener) -> None:
    """Call ``listener(name, from_state, to_state)`` on every transition this process wins."""
    with _lock:
        if listener not in _listeners:
            _listeners.append(listener)


def remove_transition_listener(listener: TransitionListener) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def notify_transition(name: str, from_state: str, to_state: str) -> None:
    """Tell every registered listener; their errors are logged, never raised."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(name, from_state, to_state)
        except Exception as exc:  # telemetry must not break the call
            log_event(
                _logger,
                "breaker_listener_failed",
                level=logging.WARNING,
                breaker=name,
                error_type=type(exc).__name__,
            )
