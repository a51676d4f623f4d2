"""How one delivery ends, the email row's status behind it, and why a person must look at it
(values stored in Postgres)."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """What :meth:`shared.processing.pipeline.Pipeline.process` answers (the entry point logs
    it as ``delivery_acked``); ``done`` and ``failed`` are also the email's and the report's
    final status."""

    DONE = "done"  # processed and reported
    FAILED = "failed"  # a permanent error: reported and acknowledged
    DUPLICATE = "duplicate"  # already finished by another delivery: acknowledged


class ClaimStatus(StrEnum):
    """What claiming the email row found (:func:`shared.processing.claim.claim_email`)."""

    CLAIMED = "claimed"  # this delivery holds the lease
    DONE = Outcome.DONE.value
    FAILED = Outcome.FAILED.value
    HELD = "held"  # another delivery holds the lease


class ReviewReason(StrEnum):
    """Why an email has a review item (``review_items.reason``; decided by
    :func:`shared.processing.review.review_reason`), in the order the console lists them."""

    COMPLIANCE = "compliance"
    NO_MATCH = "no_match"
    AMBIGUOUS = "ambiguous"
    POSSIBLE_DUPLICATE = "possible_duplicate"
    LOW_CONFIDENCE = "low_confidence"
    FAILED = "failed"
