"""A code-level backstop for compliance emails the model classified as something else.

The same wording tables the rules extractor reads (:mod:`shared.extraction.wording`: one per
language, phrase → kind) are run over the whole email: the new text, each quoted or forwarded
message, and every attachment's text. What does not count: a negated phrase ("I am not disputing
the debt"), a phrase in a quoted sentence explaining the debtor's rights (the collector's own
validation notice quoted back; in the debtor's new text the same "if you …" is a polite form and
counts), a sentence of a quoted message or attachment that carries a mark of the collector's
own letter (its "mini-Miranda"), a dispute the same clause says is over ("the dispute I raised
was sorted out") unless the sentence makes that a condition ("until this is resolved"), and, in
the quoted history only, the phrases our own letters share ("our client"). The writer's own
first-person statement ("I dispute all or part of the debt", "ich bestreite") counts next to a
letter mark, a rights cue or a resolved cue. A hit under a non-compliance intent makes the
decision hold the account and alert compliance (see :mod:`shared.processing.decision`).
Automated mail is read with :func:`body_compliance_hit` only, and only when a reference in it
names an account (bulk mail, auto-replies); bounces never are.
"""

from __future__ import annotations

from shared.extraction.models import ParsedEmail
from shared.extraction.wording import WordingHit, compliance_hits, find_wording


def compliance_hit(email: ParsedEmail) -> WordingHit | None:
    """The decisive compliance wording of ``email`` (its kind, intent and where), or None."""
    hits = compliance_hits(email)
    return hits[0] if hits else None


def compliance_wording(email: ParsedEmail) -> str | None:
    """The compliance intent the email's wording makes it, or None."""
    hit = compliance_hit(email)
    return hit.intent if hit is not None else None


def body_compliance_hit(email: ParsedEmail) -> WordingHit | None:
    """Compliance wording in what the sender wrote in the body and attached, not the subject nor
    the quoted history: for mail no person wrote, whose subject is often ours quoted back
    ("Automatic reply: Your dispute of CASE-…") and whose body is what was sent to us."""
    hits = find_wording(email.text, segment="new")
    for attachment in email.attachments:
        if attachment.text:
            hits += find_wording(attachment.text, segment="attachment")
    return hits[0] if hits else None
