"""Smoke check of a deployment: POST a signed test email to the webhook's /raw route.

Used as the last step of cloudbuild.yaml, and by hand after a first deploy:

    terraform -chdir=terraform output -json > /tmp/tf-outputs.json
    python3 infra/smoke.py --project "$PROJECT_ID" \\
        --terraform-outputs /tmp/tf-outputs.json

The shared secret is read from Secret Manager with
`gcloud secrets versions access`, at the version the webhook itself reads (the
pinned one of the `secret_versions` output, never `latest`: after a new
version is added and before it is applied, `latest` would sign with a secret
the webhook does not know), or from `WEBHOOK_RAW_SECRET` when that is set,
e.g. against the local stack. The request is signed like any relay's:
`X-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`. Exit status 0 only
if the webhook answers 200; a fresh revision's cold start or a transient 5xx
is retried a few times, a 4xx is not (it means the secret or the route is
wrong).

The test email then flows through the whole pipeline like any other; find it
in Logs Explorer with the printed `jsonPayload.correlation_id="…"` query.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

_ACCEPTED = 200
_RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


class SmokeError(Exception):
    """The smoke check could not be run or the webhook did not accept the email."""


def fetch_secret(secret_id: str, version: str, project: str) -> bytes:
    """One version of a Secret Manager secret, exactly as stored."""
    command = [
        "gcloud",
        "secrets",
        "versions",
        "access",
        version,
        f"--secret={secret_id}",
        f"--project={project}",
    ]
    try:
        result = subprocess.run(command, capture_output=True, timeout=60, check=False)
    except FileNotFoundError as error:
        msg = "gcloud is not installed; set WEBHOOK_RAW_SECRET instead"
        raise SmokeError(msg) from error
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace").strip()
        msg = f"cannot read secret {secret_id!r} version {version}: {stderr}"
        raise SmokeError(msg)
    return result.stdout


def build_test_email(release: str, correlation_id: str) -> bytes:
    """A small, clearly labelled RFC 5322 message with no personal data."""
    message = EmailMessage()
    message["From"] = "Deployment smoke test <smoke-test@example.invalid>"
    message["To"] = "inbound@example.invalid"
    message["Subject"] = f"Deployment smoke test ({release})"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=correlation_id, domain="smoke.invalid")
    message["X-Smoke-Test"] = "1"
    message.set_content(
        "Automated deployment smoke test. No account is referenced; no action is needed.\n"
    )
    return message.as_bytes()


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The X-Signature header value for a raw-route request."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def post_signed(url: str, body: bytes, secret: bytes, correlation_id: str) -> int:
    """POST once (signed now) and return the HTTP status code."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "message/rfc822",
            "X-Signature": sign(secret, body, int(time.time())),
            "X-Correlation-ID": correlation_id,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status: int = response.status
            reply = response.read(500)
    except urllib.error.HTTPError as error:
        status = error.code
        reply = error.read(500)
    print(f"smoke: POST {url} -> {status} {reply.decode(errors='replace')}")
    return status


def run_smoke_check(
    url: str, secret: bytes, release: str, attempts: int, wait_seconds: float
) -> str:
    """Send the test email until the webhook answers 200; return its correlation id."""
    correlation_id = f"smoke-{uuid.uuid4().hex}"
    body = build_test_email(release, correlation_id)
    for attempt in range(1, attempts + 1):
        try:
            status = post_signed(url, body, secret, correlation_id)
        except (urllib.error.URLError, TimeoutError) as error:
            print(f"smoke: attempt {attempt}: {error}")
            status = None
        if status == _ACCEPTED:
            return correlation_id
        if status is not None and status not in _RETRYABLE_STATUS:
            msg = f"webhook answered {status}; expected 200 (check the secret and URL)"
            raise SmokeError(msg)
        if attempt < attempts:
            time.sleep(wait_seconds * attempt)
    msg = f"webhook did not answer 200 after {attempts} attempts"
    raise SmokeError(msg)


def read_terraform_outputs(path: str) -> tuple[str, str, str]:
    """(webhook_url, raw secret id, its pinned version) from `terraform output -json`."""
    outputs = json.loads(Path(path).read_text(encoding="utf-8"))
    try:
        return (
            outputs["webhook_url"]["value"],
            outputs["secret_ids"]["value"]["WEBHOOK_RAW_SECRET"],
            str(outputs["secret_versions"]["value"]["WEBHOOK_RAW_SECRET"]),
        )
    except KeyError as error:
        msg = f"{path} lacks output {error}; has terraform apply run?"
        raise SmokeError(msg) from error


def _raw_route(webhook_url: str) -> str:
    base = webhook_url.rstrip("/")
    return base if base.endswith("/raw") else f"{base}/raw"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--webhook-url", help="webhook base URL")
    parser.add_argument("--secret-id", help="Secret Manager id of WEBHOOK_RAW_SECRET")
    parser.add_argument(
        "--secret-version",
        help="the version the webhook reads (terraform output secret_versions), never latest",
    )
    parser.add_argument("--project", help="GCP project holding the secret")
    parser.add_argument(
        "--terraform-outputs",
        help="file with `terraform output -json`; gives --webhook-url, --secret-id and"
        " --secret-version",
    )
    parser.add_argument("--release", default=os.environ.get("SHORT_SHA", "manual"))
    parser.add_argument("--attempts", type=int, default=5)
    parser.add_argument("--wait-seconds", type=float, default=5.0)
    args = parser.parse_args(argv)

    try:
        webhook_url, secret_id, version = args.webhook_url, args.secret_id, args.secret_version
        if args.terraform_outputs:
            webhook_url, secret_id, version = read_terraform_outputs(args.terraform_outputs)
        if not webhook_url:
            parser.error("give --webhook-url or --terraform-outputs")
        local_secret = os.environ.get("WEBHOOK_RAW_SECRET")
        if local_secret:
            secret = local_secret.encode()
        elif secret_id and version and args.project:
            secret = fetch_secret(secret_id, version, args.project)
        else:
            parser.error(
                "give --secret-id, --secret-version and --project, or set WEBHOOK_RAW_SECRET"
            )
        correlation_id = run_smoke_check(
            _raw_route(webhook_url),
            secret,
            args.release,
            args.attempts,
            args.wait_seconds,
        )
    except SmokeError as error:
        print(f"smoke: FAILED: {error}", file=sys.stderr)
        return 1
    print("smoke: OK. Follow the test email in Logs Explorer with:")
    print(f'  jsonPayload.correlation_id="{correlation_id}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
