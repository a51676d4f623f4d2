"""The processing report: one row per email, the business record of what was done and why.

Values may contain personal data (extracted names, amounts, evidence quotes): the report lives
in Postgres with the rest of the business data. Logs and metrics carry ids only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from shared.accounts import Action, ApplyStatus
from shared.extraction.models import Extraction
from shared.processing.decision import Decision, NotificationKind, Route
from shared.processing.matching import Match
from shared.processing.outcome import Outcome

NO_ACTION = "none"  # an account change reported for a decision that applies nothing


@dataclass
class AccountChange:
    """The report's record of what the apply did to one account (fields left ``None`` are
    absent from the report). Filled in by the pipeline as the apply's answer is read."""

    type: Action | str  # the Action, or NO_ACTION
    account_id: str
    result: ApplyStatus
    balance_before: str | None = None
    balance_after: str | None = None
    reason: str | None = None
    matched_now: str | None = None  # a redelivery matched this account instead
    decided_now: Action | str | None = None  # this attempt's plan, when ``type`` differs
    applied_decision: str | None = None  # what the earlier delivery decided
    applied_at: str | None = None

    def to_report(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value is not None}


@dataclass(frozen=True)
class NotificationQueued:
    """The report's record of a staff notification queued in the outbox."""

    kind: NotificationKind
    dedup_key: str

    def to_report(self) -> dict[str, Any]:
        return {"type": "notification", "kind": self.kind, "dedup_key": self.dedup_key}


ReportedAction = AccountChange | NotificationQueued


@dataclass
class PipelineTrace:
    """What the report's ``pipeline`` column records, filled in as the stages run."""

    attempt: int = 0
    delivery_attempt: int | None = None
    pubsub_message_id: str | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_report(self, extraction: Extraction | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "attempt": self.attempt,
            "delivery_attempt": self.delivery_attempt,
            "pubsub_message_id": self.pubsub_message_id,
            "stage_seconds": {k: round(v, 4) for k, v in self.stage_seconds.items()},
            "warnings": list(dict.fromkeys(self.warnings)),
        }
        if extraction is not None:
            data.update(
                model=extraction.model,
                prompt_version=extraction.prompt_version,
                tokens={
                    "input": extraction.usage.input,
                    "output": extraction.usage.output,
                    "cache_read": extraction.usage.cache_read,
                    "cache_write": extraction.usage.cache_write,
                },
            )
        return data


def fields_of(extraction: Extraction) -> dict[str, Any]:
    return {
        name: {
            "value": found.value,
            "confidence": round(found.confidence, 4),
            "evidence": found.evidence,
        }
        for name, found in extraction.fields.items()
    }


@dataclass(frozen=True)
class Report:
    """Column values of one ``processing_reports`` row."""

    email_id: str
    correlation_id: str
    status: Outcome
    attempt: int
    decision: Route | None = None
    intent: str | None = None
    extractor: str | None = None
    degraded: bool = False
    overall_confidence: float | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    missing_fields: list[str] = field(default_factory=list)
    match: dict[str, Any] = field(default_factory=dict)
    actions: list[Any] = field(default_factory=list)
    pipeline: dict[str, Any] = field(default_factory=dict)
    errors: list[Any] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {
            "email_id": self.email_id,
            "correlation_id": self.correlation_id,
            "status": self.status,
            "attempt": self.attempt,
            "decision": self.decision,
            "intent": self.intent,
            "extractor": self.extractor,
            "degraded": self.degraded,
            "overall_confidence": self.overall_confidence,
            "fields": self.fields,
            "missing_fields": self.missing_fields,
            "match": self.match,
            "actions": self.actions,
            "pipeline": self.pipeline,
            "errors": self.errors,
        }


def done_report(
    *,
    email_id: str,
    correlation_id: str,
    extraction: Extraction,
    match: Match,
    decision: Decision,
    actions: list[ReportedAction],
    trace: PipelineTrace,
) -> Report:
    errors = [{"type": "warning", "code": w} for w in dict.fromkeys(trace.warnings)]
    errors += [
        {"type": "warning", "code": w, "source": "extraction"}
        for w in dict.fromkeys(extraction.warnings)
    ]
    return Report(
        email_id=email_id,
        correlation_id=correlation_id,
        status=Outcome.DONE,
        attempt=trace.attempt,
        decision=decision.decision,
        intent=extraction.intent,
        extractor=extraction.extractor,
        degraded=extraction.degraded,
        overall_confidence=round(extraction.overall_confidence, 4),
        fields=fields_of(extraction),
        missing_fields=extraction.missing_fields,
        match={**match.to_report(), "decision_confidence": decision.confidence},
        actions=[
            *(action.to_report() for action in actions),
            {"type": "decision_reasons", "reasons": list(decision.reasons)},
        ],
        pipeline=trace.to_report(extraction),
        errors=errors,
    )


def failed_report(
    *,
    email_id: str,
    correlation_id: str,
    stage: str,
    error_type: str,
    message: str,
    trace: PipelineTrace,
    extra: dict[str, Any] | None = None,
) -> Report:
    """A permanent failure: why, at which stage (``message`` never holds email content)."""
    error: dict[str, Any] = {
        "type": "error",
        "stage": stage,
        "error_type": error_type,
        "message": message,
    }
    error.update(extra or {})
    return Report(
        email_id=email_id,
        correlation_id=correlation_id,
        status=Outcome.FAILED,
        attempt=trace.attempt,
        pipeline=trace.to_report(),
        errors=[error],
    )
