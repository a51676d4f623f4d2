"""Reading the raw MIME the webhook stored in Cloud Storage.

The client is created on first use and shared by the instance's threads (it holds an
authorised HTTP session with a connection pool). Each read is bounded: a per-request timeout
and a retry whose total deadline is ``PROCESSOR_GCS_TIMEOUT_SECONDS``. A missing object is
permanent (:class:`~shared.errors.MissingObject`); timeouts, 5xx and lost connections are
transient (:class:`~shared.errors.DependencyUnavailable`, counted by the "gcs" breaker).
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from shared.allocator import release_after_large_payload
from shared.config import Settings, get_settings
from shared.errors import DependencyUnavailable, MissingObject, PermanentError

STAGE = "read"


class RawEmailTooLarge(PermanentError):
    """The stored object is bigger than the processor accepts."""


class RawEmailStore(Protocol):
    def read(self, bucket: str, name: str) -> bytes:
        """The object's bytes; raises MissingObject or DependencyUnavailable."""
        ...


class GcsRawEmailStore:
    def __init__(self, settings: Settings | None = None, *, guard: Any = None) -> None:
        self._settings = settings or get_settings()
        self._guard = guard
        self._client: Any = None
        self._lock = threading.Lock()

    def _storage(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    from google.cloud import storage  # type: ignore[attr-defined]

                    project = self._settings.google_cloud_project
                    if self._settings.app_env == "production":
                        client = storage.Client(project=project)
                    else:  # the fake-gcs-server via STORAGE_EMULATOR_HOST
                        from google.auth.credentials import AnonymousCredentials

                        client = storage.Client(
                            project=project,
                            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                        )
                    # requests would scan os.environ for proxy variables and .netrc on every
                    # read (as the webhook's client, shared/intake/gcs.py).
                    client._http.trust_env = False
                    self._client = client
        return self._client

    def _download(self, bucket: str, name: str) -> bytes:
        from google.api_core import exceptions as gexc
        from google.auth import exceptions as auth_exc
        from google.cloud.storage.retry import DEFAULT_RETRY
        from requests import exceptions as rexc

        timeout = self._settings.processor_gcs_timeout_seconds
        limit = self._settings.processor_max_raw_email_bytes
        blob = self._storage().bucket(bucket).blob(name)
        try:
            data: bytes = blob.download_as_bytes(
                end=limit,  # inclusive: one byte more than allowed tells us it is too large
                timeout=(min(10.0, timeout), timeout),
                retry=DEFAULT_RETRY.with_timeout(timeout),
            )
        except gexc.NotFound:
            raise MissingObject("raw email object not found", stage=STAGE) from None
        except (
            gexc.GoogleAPICallError,
            gexc.RetryError,
            rexc.RequestException,
            # the credentials could not be refreshed (a metadata server that stalls …)
            auth_exc.GoogleAuthError,
            ConnectionError,
            TimeoutError,
        ) as exc:
            # the status goes with it: a 429 or a 403 is no outage for the breaker
            cause = exc.cause if isinstance(exc, gexc.RetryError) else exc
            status = getattr(cause, "code", None)
            raise DependencyUnavailable(
                "gcs",
                type(exc).__name__,
                stage=STAGE,
                status_code=status if isinstance(status, int) else None,
            ) from None
        release_after_large_payload(len(data))
        if len(data) > limit:
            raise RawEmailTooLarge("raw email exceeds PROCESSOR_MAX_RAW_EMAIL_BYTES", stage=STAGE)
        return data

    def read(self, bucket: str, name: str) -> bytes:
        if self._guard is None:
            return self._download(bucket, name)
        data: bytes = self._guard(self._download, bucket, name)
        return data
