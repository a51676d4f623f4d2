"""Reading raw MIME from the stack's fake-gcs-server."""

from __future__ import annotations

import uuid

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from infra.stack import PROJECT
from shared.config import get_settings, load_settings
from shared.errors import DependencyUnavailable, MissingObject
from shared.processing.raw_emails import GcsRawEmailStore, RawEmailTooLarge


def _put(name: str, data: bytes) -> None:
    client = storage.Client(project=PROJECT, credentials=AnonymousCredentials())
    client.bucket(get_settings().raw_email_bucket).blob(name).upload_from_string(data)


def test_reads_the_stored_bytes(stack_env: dict) -> None:
    name = f"2026/01/02/em-{uuid.uuid4().hex}.eml"
    raw = b"Subject: hi\r\n\r\nbody \xe9\r\n"
    _put(name, raw)
    assert GcsRawEmailStore().read(get_settings().raw_email_bucket, name) == raw


def test_missing_object_is_permanent(stack_env: dict) -> None:
    with pytest.raises(MissingObject):
        GcsRawEmailStore().read(get_settings().raw_email_bucket, "2026/01/02/nothing.eml")


def test_oversized_object_is_permanent(stack_env: dict) -> None:
    name = f"2026/01/02/em-{uuid.uuid4().hex}.eml"
    _put(name, b"x" * 2048)
    settings = load_settings({**stack_env, "PROCESSOR_MAX_RAW_EMAIL_BYTES": "1024"})
    with pytest.raises(RawEmailTooLarge):
        GcsRawEmailStore(settings).read(settings.raw_email_bucket, name)


def test_unreachable_gcs_is_transient_and_bounded(stack_env: dict, monkeypatch) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:1")
    settings = load_settings(
        {
            **stack_env,
            "STORAGE_EMULATOR_HOST": "http://127.0.0.1:1",
            "PROCESSOR_GCS_TIMEOUT_SECONDS": "2",
        }
    )
    import time

    started = time.monotonic()
    with pytest.raises(DependencyUnavailable) as caught:
        GcsRawEmailStore(settings).read(settings.raw_email_bucket, "2026/01/02/x.eml")
    assert caught.value.dependency == "gcs"
    assert time.monotonic() - started < 10
