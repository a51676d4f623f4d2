"""The scheduled outbox sweep: sends every due notification even when no email arrives.

A delivery sends its own notifications and sweeps a few older ones (see
:mod:`shared.processing.outbox`), so under traffic nothing waits. After an SMTP outage on a
quiet night, though, the retries would wait for the next email; a compliance alert (a
cease-and-desist, a bankruptcy notice) must not. Cloud Scheduler therefore calls the rollup
function every 5 minutes with ``{"task": "outbox_sweep"}`` (``terraform/scheduler.tf``), and
this sends due rows — ``OUTBOX_SWEEP_BATCH`` per round, most overdue first — until a round
sends nothing (none left, or the relay refuses: the failed rows are rescheduled with their
backoff) or ``OUTBOX_SWEEP_MAX_SECONDS`` have passed. The rows' locks make it safe beside the
processors' own sends and sweeps: a row is sent once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from shared.config import Settings, get_settings
from shared.logs import log_event
from shared.mail import Mailer, SmtpMailer
from shared.processing.outbox import Outbox, SendSummary, outbox_from_settings

logger = logging.getLogger(__name__)


def run_outbox_sweep(
    settings: Settings | None = None,
    *,
    outbox: Outbox | None = None,
    mailer: Mailer | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> SendSummary:
    """Send due notifications round after round; return what was sent, failed, skipped."""
    settings = settings or get_settings()
    outbox = outbox or outbox_from_settings(settings)
    own_mailer = SmtpMailer(settings) if mailer is None else None
    mailer = mailer or own_mailer
    assert mailer is not None
    deadline = clock() + settings.outbox_sweep_max_seconds
    total, rounds = SendSummary(), 0
    try:
        while True:
            summary = outbox.send_pending(mailer, limit=settings.outbox_sweep_batch)
            total.add(summary)
            rounds += 1
            if summary.sent == 0 or clock() >= deadline:
                break
    finally:
        if own_mailer is not None:  # its sessions end with the sweep
            own_mailer.close()
    log_event(
        logger,
        "outbox_sweep_finished",
        sent=total.sent,
        failed=total.failed,
        rounds=rounds,
    )
    return total
