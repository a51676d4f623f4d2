"""Cloud Storage adapter for raw emails and the replay cache.

Bounded: each call has a connect/read timeout and a short retry budget
(``WEBHOOK_GCS_TIMEOUT_SECONDS``, ``WEBHOOK_GCS_RETRY_DEADLINE_SECONDS``), so an outage turns
into a quick 503 and the provider's own retry, not a request hanging for minutes. Writes are
create-if-absent (``if_generation_match=0``), which also makes them safe to retry.

Lean on the hot path: an object and its custom metadata go in one multipart request (no
resumable session below 8 MB), and the HTTP session does not consult the environment (proxy
variables, ``.netrc``) on every request; the webhook reaches Cloud Storage directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry
from google.auth import exceptions as auth_exceptions
from google.cloud import storage  # type: ignore[attr-defined]
from google.cloud.storage.retry import DEFAULT_RETRY

from shared.intake.errors import IntakeUnavailable

_FAILURES = (
    api_exceptions.GoogleAPIError,
    requests.exceptions.RequestException,
    auth_exceptions.GoogleAuthError,
    ConnectionError,
    TimeoutError,
)


class GcsObjectStore:
    """:class:`~shared.intake.ports.ObjectStore` on one bucket of a (shared) storage client."""

    def __init__(
        self, client: storage.Client, bucket: str, *, timeout: float, retry_deadline: float
    ) -> None:
        self._bucket = client.bucket(bucket)
        self._bucket_name = bucket
        self._timeout = (min(timeout, 5.0), timeout)
        self._retry: Retry = DEFAULT_RETRY.with_timeout(retry_deadline).with_delay(
            initial=0.2, maximum=1.0, multiplier=2.0
        )

    def create_if_absent(
        self,
        name: str,
        data: bytes,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> bool:
        blob = self._bucket.blob(name)
        if metadata:
            blob.metadata = dict(metadata)
        try:
            blob.upload_from_string(
                data,
                content_type=content_type,
                if_generation_match=0,
                timeout=self._timeout,
                retry=self._retry,
            )
        except api_exceptions.PreconditionFailed:
            return False
        except _FAILURES as exc:
            raise IntakeUnavailable("gcs", type(exc).__name__) from exc
        return True

    def read(self, name: str) -> bytes | None:
        try:
            data: bytes = self._bucket.blob(name).download_as_bytes(
                timeout=self._timeout, retry=self._retry
            )
        except api_exceptions.NotFound:
            return None
        except _FAILURES as exc:
            raise IntakeUnavailable("gcs", type(exc).__name__) from exc
        return data

    def read_metadata(self, name: str) -> dict[str, str] | None:
        try:
            blob = self._bucket.get_blob(name, timeout=self._timeout, retry=self._retry)
        except _FAILURES as exc:
            raise IntakeUnavailable("gcs", type(exc).__name__) from exc
        if blob is None:
            return None
        return dict(blob.metadata or {})

    def uri(self, name: str) -> str:
        return f"gs://{self._bucket_name}/{name}"


def make_storage_client(project: str) -> Any:
    """The storage client (ADC in production; the emulator from ``STORAGE_EMULATOR_HOST``).

    Its session skips the per-request environment lookups of ``requests`` (proxy variables and
    ``.netrc``, a scan of ``os.environ`` on every call)."""
    client = storage.Client(project=project)
    client._http.trust_env = False
    return client
