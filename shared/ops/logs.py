"""Log lines of one correlation id: the local stack's files, or Cloud Logging in production."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from shared.context import is_valid_correlation_id

LOCAL_LOG_FILES = ("webhook.log", "processor.log", "rollup.log")
_ENVELOPE_KEYS = {"correlation_id", "function", "logger", "message", "severity", "httpRequest"}


@dataclass
class LogLine:
    source: str
    severity: str
    message: str
    fields: dict[str, Any] = field(default_factory=dict)
    timestamp: datetime | None = None


def logging_filter(correlation_id: str) -> str:
    """The Logs Explorer filter for one correlation id (validated: no quotes can get in)."""
    if not is_valid_correlation_id(correlation_id):
        raise ValueError("not a valid correlation id (8-128 of letters, digits, ._:-)")
    return f'jsonPayload.correlation_id="{correlation_id}"'


def _fields(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in payload.items()
        if k not in _ENVELOPE_KEYS and not k.startswith("logging.googleapis.com/")
    }


def local_lines(log_dir: Path, correlation_id: str) -> Iterator[LogLine]:
    """JSON lines with this ``correlation_id`` from each function's log file, file by file
    in the order of the flow (webhook, processor, rollup); non-JSON lines are skipped."""
    for name in LOCAL_LOG_FILES:
        path = log_dir / name
        if not path.is_file():
            continue
        with path.open(errors="replace") as handle:
            for raw in handle:
                if correlation_id not in raw:
                    continue
                try:
                    payload = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(payload, dict) or payload.get("correlation_id") != correlation_id:
                    continue
                yield LogLine(
                    source=str(payload.get("function") or name.removesuffix(".log")),
                    severity=str(payload.get("severity", "")),
                    message=str(payload.get("message", "")),
                    fields=_fields(payload),
                )


def cloud_lines(
    project: str, correlation_id: str, *, limit: int = 1000, client: Any = None
) -> Iterator[LogLine]:
    """Entries matching :func:`logging_filter` from Cloud Logging, oldest first."""
    from google.cloud import logging as cloud_logging

    client = client or cloud_logging.Client(project=project)  # type: ignore[no-untyped-call]
    entries = client.list_entries(
        filter_=logging_filter(correlation_id),
        order_by=cloud_logging.ASCENDING,
        max_results=limit,
    )
    for entry in entries:
        payload = entry.payload if isinstance(entry.payload, dict) else {"message": entry.payload}
        labels = getattr(getattr(entry, "resource", None), "labels", None) or {}
        yield LogLine(
            source=str(
                payload.get("function") or labels.get("service_name") or labels.get("function_name")
            ),
            severity=str(entry.severity or ""),
            message=str(payload.get("message", "")),
            fields=_fields(payload),
            timestamp=entry.timestamp,
        )
