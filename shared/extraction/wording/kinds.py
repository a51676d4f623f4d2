"""The kinds of compliance wording, and the intent each one makes the email."""

from enum import StrEnum


class Kind(StrEnum):
    VALIDATION_REQUEST = "validation_request"  # asks the collector to validate/verify the debt
    DISPUTE = "dispute"  # says the debt is wrong or not theirs
    CEASE = "cease"  # asks the collector to stop contacting them
    STOP_COLLECTION = "stop_collection"  # asks the collector to stop collecting (until verified)
    ATTORNEY = "attorney"  # a lawyer represents the debtor: talk to the lawyer only
    IDENTITY_THEFT = "identity_theft"  # the account was opened by someone else
    DECEASED = "deceased"  # the debtor has died (a relative or the estate writes)
    BANKRUPTCY = "bankruptcy"  # bankruptcy / insolvency proceedings


# The compliance intent (shared.extraction.models.COMPLIANCE_INTENTS) each kind puts on hold.
KIND_INTENT: dict[Kind, str] = {
    Kind.VALIDATION_REQUEST: "dispute",
    Kind.DISPUTE: "dispute",
    Kind.IDENTITY_THEFT: "dispute",
    Kind.STOP_COLLECTION: "dispute",
    Kind.CEASE: "cease_and_desist",
    Kind.ATTORNEY: "cease_and_desist",
    Kind.DECEASED: "cease_and_desist",
    Kind.BANKRUPTCY: "bankruptcy_notice",
}

# Kinds whose wording counts even when negated or in a sentence explaining the debtor's rights.
ALWAYS_COUNTS = frozenset({Kind.CEASE, Kind.ATTORNEY})
