"""What an extractor returns, whichever it is (the seam between extraction and the pipeline)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from shared.extraction.quotes import inherited_subject

INTENTS = (
    "payment_confirmation",
    "payment_promise",
    "payment_plan_request",
    "dispute",
    "cease_and_desist",
    "bankruptcy_notice",
    "address_change",
    "settlement_offer",
    "other",
)
# Intents the law requires to stop collection: always hold + notify, never silently applied.
COMPLIANCE_INTENTS = frozenset({"dispute", "cease_and_desist", "bankruptcy_notice"})

FIELD_NAMES = (
    "case_number",
    "account_reference",
    "debtor_name",
    "debtor_email",
    "creditor_name",
    "amount",
    "currency",
    "payment_date",
    "plan_installment_amount",
    "plan_start_date",
    "new_address",
    "new_phone",
)

FieldValue = str | float


@dataclass(frozen=True)
class AttachmentInfo:
    filename: str
    content_type: str
    size: int
    text: str | None = None  # extracted text (PDF, text file), None when not read
    # sent to be read (a PDF, a word-processor file, an image that is not a small picture of
    # the body such as a signature logo): see ParsedEmail.unread_documents
    document: bool = False
    scanned: bool = False  # a PDF without a text layer, kept in ParsedEmail.scanned_pdfs


@dataclass(frozen=True)
class ParsedEmail:
    """An inbound email reduced to what extraction and matching need."""

    message_id: str | None
    subject: str
    sender: str  # address only, lower-cased
    sender_name: str | None
    date: datetime | None
    text: str  # the new part: plain text, or HTML converted to text, hidden content dropped
    quoted_text: str = ""  # quoted history (replies/forwards), kept separately
    attachments: tuple[AttachmentInfo, ...] = ()
    scanned_pdfs: tuple[bytes, ...] = ()  # PDFs without a text layer (sent as documents)
    signals: tuple[str, ...] = ()  # detected prompt-injection signals, e.g. "hidden_html"
    notes: tuple[str, ...] = ()  # parsing notes, e.g. "part_truncated", "pdf_unreadable"
    # mail no person wrote (shared.extraction.automated): "bounce", "auto_reply", "bulk"
    automated: str | None = None
    bounced_recipients: tuple[str, ...] = ()  # a bounce's failed recipients (lower case)

    def unread_documents(self, *, scans_read: int, images: bool = True) -> int:
        """How many attached documents no reader saw: no text was extracted from them, and
        they are not among the ``scans_read`` scanned PDFs the model was given as documents.
        Images and word-processor files are never read here; ``images=False`` leaves out the
        pictures (a photo or screenshot of a bank transfer, the usual proof of a payment)."""
        unread = sum(
            1
            for a in self.attachments
            if a.document and a.text is None and (images or not a.content_type.startswith("image/"))
        )
        return unread - min(scans_read, sum(1 for a in self.attachments if a.scanned))

    def searchable_text(self) -> str:
        """All text evidence may be quoted from (subject, body, quoted part, attachment text)."""
        parts = [self.subject, self.text, self.quoted_text]
        parts += [a.text for a in self.attachments if a.text]
        return "\n".join(parts)

    def new_text(self) -> str:
        """What the writer wrote in this message: the subject unless it is inherited
        (``Re:``/``Fwd:``…), then the new body; no quoted history, no attachment."""
        parts = [self.text] if inherited_subject(self.subject) else [self.subject, self.text]
        return "\n".join(p for p in parts if p)

    def new_searchable_text(self) -> str:
        """What this message itself says: :meth:`new_text` and the attachments' text."""
        return "\n".join([self.new_text(), *(a.text for a in self.attachments if a.text)])


@dataclass(frozen=True)
class ExtractedField:
    value: FieldValue
    confidence: float  # 0..1 after validation
    evidence: str | None = None


@dataclass(frozen=True)
class TokenUsage:
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0


@dataclass(frozen=True)
class Extraction:
    intent: str
    intent_confidence: float
    fields: dict[str, ExtractedField]
    extractor: Literal["claude", "rules"]
    degraded: bool  # True when the rules fallback stood in for Claude
    prompt_version: str
    model: str | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    warnings: tuple[str, ...] = ()  # e.g. "evidence_not_found:amount", "injection_suspected"
    documents_read: int = 0  # scanned PDFs of the email the model was given as documents

    @property
    def missing_fields(self) -> list[str]:
        return [name for name in FIELD_NAMES if name not in self.fields]

    @property
    def overall_confidence(self) -> float:
        """Intent confidence, capped by the weakest identifying field present."""
        ids = [
            self.fields[n].confidence
            for n in ("case_number", "account_reference")
            if n in self.fields
        ]
        return min([self.intent_confidence, *ids]) if ids else self.intent_confidence * 0.8


class Extractor(Protocol):
    name: str

    def extract(self, email: ParsedEmail) -> Extraction:
        """Raises :class:`shared.errors.TransientError` subclasses for retryable faults."""
        ...
