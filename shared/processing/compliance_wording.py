"""A code-level backstop for compliance emails the model classified as something else.

The rules extractor's strong keyword patterns for ``bankruptcy_notice``, ``cease_and_desist``
and ``dispute`` (reused read-only from :mod:`shared.extraction.rules`) are run on the email's
*new* text (subject and body; not the quoted history, where our own letters explain the right
to dispute, nor attachments). A hit under a non-compliance intent makes the decision hold the
account and alert compliance (see :mod:`shared.processing.decision`). Only the strong patterns
count: the weak ones ("my lawyer", "wrong amount") are too loose to overrule the model.
"""

from __future__ import annotations

from shared.extraction.models import ParsedEmail
from shared.extraction.rules import strong_compliance_intent


def compliance_wording(email: ParsedEmail) -> str | None:
    """The first compliance intent whose strong wording is in the new text, or None."""
    return strong_compliance_intent("\n".join(part for part in (email.subject, email.text) if part))
