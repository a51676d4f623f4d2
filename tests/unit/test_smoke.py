"""infra/smoke.py signs with the version of WEBHOOK_RAW_SECRET the webhook reads.

The webhook reads a pinned version (var.secret_versions); signing with `latest` fails the
smoke check as soon as a new version is added and not yet applied. A stand-in `gcloud` on
PATH records what the check asks Secret Manager for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import smoke

OUTPUTS = {
    "webhook_url": {"value": "https://webhook-production-abc.a.run.app"},
    "secret_ids": {"value": {"WEBHOOK_RAW_SECRET": "webhook-raw-secret-production"}},
    "secret_versions": {"value": {"WEBHOOK_RAW_SECRET": "3", "SENTRY_DSN": "1"}},
}


@pytest.fixture
def gcloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A gcloud that writes its arguments to a file and prints a secret."""
    calls = tmp_path / "calls.txt"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "gcloud"
    script.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nprintf stand-in-secret\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.delenv("WEBHOOK_RAW_SECRET", raising=False)
    return calls


def test_the_pinned_version_is_read_from_the_terraform_outputs(tmp_path: Path) -> None:
    path = tmp_path / "tf-outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    assert smoke.read_terraform_outputs(str(path)) == (
        "https://webhook-production-abc.a.run.app",
        "webhook-raw-secret-production",
        "3",
    )


def test_outputs_without_secret_versions_are_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "tf-outputs.json"
    path.write_text(json.dumps({k: v for k, v in OUTPUTS.items() if k != "secret_versions"}))
    with pytest.raises(smoke.SmokeError, match="lacks output 'secret_versions'"):
        smoke.read_terraform_outputs(str(path))


def test_the_check_signs_with_the_pinned_version_never_latest(
    tmp_path: Path, gcloud: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tf-outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    signed_with: list[bytes] = []

    def accept(url: str, secret: bytes, release: str, attempts: int, wait: float) -> str:
        signed_with.append(secret)
        return "smoke-x"

    monkeypatch.setattr(smoke, "run_smoke_check", accept)
    assert smoke.main(["--project=acme", f"--terraform-outputs={path}"]) == 0
    assert signed_with == [b"stand-in-secret"]
    (call,) = gcloud.read_text().splitlines()
    assert call == (
        "secrets versions access 3 --secret=webhook-raw-secret-production --project=acme"
    )


def test_without_outputs_the_version_must_be_given(gcloud: Path) -> None:
    with pytest.raises(SystemExit):
        smoke.main(["--webhook-url=https://x.a.run.app", "--secret-id=s", "--project=acme"])
    assert not gcloud.exists()
